/* Instruction classes with known answers: every case of the CPU's instruction data that
 * does not depend on its own address (data processing, shifts, flags, multiply/divide, bit
 * fields, saturation, extension, loads/stores in every addressing mode, LDM/STM/PUSH/POP,
 * exclusives, IT blocks), run on the target. The first 64 KiB of SRAM is the cases' scratch
 * memory (the linker script keeps firmware data above it). */
#include "check.h"
#include "insn_harness.h"

/* insn_run(case, results): results = r0..r10, sp, lr, apsr */
void insn_run(const struct insn_case *c, uint32_t *results);
__asm__(".syntax unified\n.thumb\n.text\n"
        ".global insn_run\n.type insn_run, %function\n.thumb_func\n"
        "insn_run:\n"
        "  push {r4-r11, lr}\n"
        "  ldr r2, =insn_saved_sp\n  str sp, [r2]\n"
        "  ldr r2, =insn_results\n  str r1, [r2]\n"
        "  mov r11, r0\n"
        "  ldr r12, [r11, #56]\n  ldr r2, =insn_target\n  str r12, [r2]\n"
        "  ldr r12, [r11, #44]\n  mov sp, r12\n"
        "  ldr lr, [r11, #48]\n"
        "  ldr r12, [r11, #52]\n  msr apsr_nzcvq, r12\n"
        "  ldm r11, {r0-r10}\n"
        "  ldr r12, =insn_target\n  ldr pc, [r12]\n"
        ".global insn_capture\n.thumb_func\n"
        "insn_capture:\n"
        "  mov r12, sp\n"
        "  ldr r11, =insn_results\n  ldr r11, [r11]\n"
        "  stmia r11!, {r0-r10}\n"
        "  str r12, [r11], #4\n"
        "  str lr, [r11], #4\n"
        "  mrs r12, apsr\n  str r12, [r11]\n"
        "  ldr r12, =insn_saved_sp\n  ldr sp, [r12]\n"
        "  pop {r4-r11, pc}\n"
        ".ltorg\n");

uint32_t insn_saved_sp, insn_results, insn_target;

static const char *const names[] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6",
                                    "r7", "r8", "r9", "r10", "sp", "lr"};

int main(void)
{
    static uint32_t res[14];
    volatile uint32_t *scratch = (uint32_t *)0x20000000;
    for (unsigned i = 0; i < insn_case_count; i++) {
        const struct insn_case *c = &insn_cases[i];
        for (unsigned w = 0; w < 0x10000 / 4; w++)
            scratch[w] = 0;
        for (unsigned m = 0; m < c->n_mem_in; m++)
            *(volatile uint32_t *)c->mem_in[m][0] = c->mem_in[m][1];
        insn_run(c, res);
        unsigned before = checks_failed;
        for (unsigned r = 0; r < 13; r++)
            if (c->out_mask & (1u << r))
                check_eq(names[r], res[r], c->out[r]);
        check_eq("flags NZCVQ", res[13] & 0xf8000000u, c->out_flags);
        for (unsigned m = 0; m < c->n_mem_out; m++)
            check_eq("memory", *(volatile uint32_t *)c->mem_out[m][0], c->mem_out[m][1]);
        if (checks_failed != before) {
            sh_puts("  ^ in case: ");
            sh_puts(c->text);
            sh_puts("\n");
        }
    }
    sh_puts("cases: ");
    sh_put_dec(insn_case_count);
    sh_puts("\n");
    return check_done("insn");
}
