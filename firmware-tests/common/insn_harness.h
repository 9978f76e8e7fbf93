/* Runs one instruction case (see gen/gen_insn_tests.py): loads r0-r10, SP, LR and the flags,
 * executes the case's encodings, captures r0-r10, SP, LR and APSR. r11/r12 are the harness's. */
#ifndef INSN_HARNESS_H
#define INSN_HARNESS_H
#include <stdint.h>

struct insn_case {
    uint32_t in[11]; /* offset 0: r0..r10 */
    uint32_t sp;     /* 44 */
    uint32_t lr;     /* 48 */
    uint32_t flags;  /* 52: APSR N Z C V Q */
    void (*fn)(void); /* 56 */
    const char *text;
    uint32_t out[13]; /* r0..r10, sp, lr */
    uint32_t out_mask;
    uint32_t out_flags;
    uint32_t n_mem_in, n_mem_out;
    uint32_t mem_in[4][2];
    uint32_t mem_out[4][2];
};

extern const struct insn_case insn_cases[];
extern const unsigned insn_case_count;
#endif
