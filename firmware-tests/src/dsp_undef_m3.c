/* The DSP extension on a core without it: on the Cortex-M3 of mps2-an385 (ARMv7-M, no
 * ARMv7E-M DSP extension) every DSP encoding is UNDEFINED, so it takes UsageFault UNDEFINSTR
 * with the stacked PC at the instruction and leaves its destination unchanged (ARMv7-M ARM
 * A5.3, B3.2.15). The encodings are emitted with .inst.w since the assembler rejects the
 * mnemonics for -mcpu=cortex-m3; each is the one `arm-none-eabi-as -mcpu=cortex-m4` gives
 * for the instruction named in its check, with Rd = r2, Rn = r2, Rm = r3 (Ra = r3, RdHi = r3).
 *
 * qemu-system-arm 7.2's cortex-m3 executes SMUAD, USAD8, SMLALD and SSAT16 instead (it does
 * not check for the DSP extension there); those four are only in the build with
 * -DQEMU_DEVIATIONS (dsp_undef_m3_all, armlet only), the rest is checked on QEMU too. */
#include "fault.h"

/* Executes one encoding with r2 = 0x5555, r3 = 3 and returns r2 afterwards. */
#define TRY(fn, enc)                                                          \
    __attribute__((unused)) static uint32_t fn(uint32_t *at)                  \
    {                                                                         \
        register uint32_t v __asm__("r2") = 0x5555;                           \
        register uint32_t w __asm__("r3") = 3;                                \
        __asm__ volatile("adr.w %0, 1f\n\t"                                   \
                         "1: .inst.w " enc                                    \
                         : "=&r"(*at), "+&r"(v), "+&r"(w)                     \
                         :                                                    \
                         : "memory");                                         \
        return v;                                                             \
    }
TRY(sadd16, "0xfa92f203")  /* sadd16 r2, r2, r3 */
TRY(uqsub8, "0xfac2f253")  /* uqsub8 r2, r2, r3 */
TRY(sel, "0xfaa2f283")     /* sel r2, r2, r3 */
TRY(qadd, "0xfa83f282")    /* qadd r2, r2, r3 */
TRY(smlabb, "0xfb123203")  /* smlabb r2, r2, r3, r3 */
TRY(smuad, "0xfb22f203")   /* smuad r2, r2, r3 */
TRY(smmul, "0xfb52f203")   /* smmul r2, r2, r3 */
TRY(usad8, "0xfb72f203")   /* usad8 r2, r2, r3 */
TRY(smlald, "0xfbc223c3")  /* smlald r2, r3, r2, r3 */
TRY(umaal, "0xfbe22363")   /* umaal r2, r3, r2, r3 */
TRY(ssat16, "0xf3220207")  /* ssat16 r2, #8, r2 */
TRY(pkhbt, "0xeac24203")   /* pkhbt r2, r2, r3, lsl #16 */
TRY(sxtab16, "0xfa22f283") /* sxtab16 r2, r2, r3 */
TRY(uxtb16, "0xfa3ff283")  /* uxtb16 r2, r3 */

struct row {
    const char *name;
    uint32_t (*fn)(uint32_t *);
};
static const struct row rows[] = {
    {"sadd16", sadd16}, {"uqsub8", uqsub8}, {"sel", sel},     {"qadd", qadd},
    {"smlabb", smlabb}, {"smmul", smmul},   {"umaal", umaal}, {"pkhbt", pkhbt},
    {"sxtab16", sxtab16}, {"uxtb16", uxtb16},
#ifdef QEMU_DEVIATIONS
    {"smuad", smuad},   {"usad8", usad8},   {"smlald", smlald}, {"ssat16", ssat16},
#endif
};

int main(void)
{
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint32_t at;
        fault_reset();
        uint32_t v = rows[i].fn(&at);
        expect_fault(rows[i].name, EXC_USAGEFAULT, UFSR_UNDEFINSTR, 0, at);
        expect_eq("  destination unchanged", v, 0x5555);
    }
    return check_done("dsp_undef_m3");
}
