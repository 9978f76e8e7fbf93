/* A lazy FP state preservation that faults (ARMv7-M ARM B1.5.7 PreserveFPState, B3.2.15
 * BFSR.LSPERR) on a Cortex-M4F (mps2-an386): a SysTick handler points FPCAR at unmapped
 * memory and executes an FP instruction while LSPACT is set.
 *   BusFault priority above the handler's: the BusFault is taken before the FP instruction
 *     executes (CFSR.LSPERR, LSPACT still set, the stacked PC at the FP instruction); the
 *     BusFault handler clears LSPACT and the instruction then executes.
 *   BusFault priority equal to the handler's (it cannot preempt): the preservation is
 *     abandoned, the instruction executes, and the pending BusFault is taken when the
 *     handler returns. */
#include "armv7m.h"
#include "check.h"

#define FPCCR REG32(0xE000EF34u)
#define FPCAR REG32(0xE000EF38u)
#define CFSR_LSPERR (1u << 13)

static volatile uint32_t order, bf_seen_at, bf_cfsr, bf_lspact, bf_pc, bf_count, fp_done_at, result,
    tick_done_at, fp_insn_addr;

EXC_HANDLER(BusFault_Handler, busfault)
void busfault(uint32_t *frame, uint32_t exc_return)
{
    (void)exc_return;
    bf_count++;
    bf_seen_at = ++order;
    bf_cfsr = SCB_CFSR;
    SCB_CFSR = bf_cfsr;
    bf_lspact = FPCCR & 1;
    bf_pc = frame[FRAME_PC];
    FPCCR &= ~1u; /* give up the preservation: the FP instruction can execute now */
}

EXC_HANDLER(SysTick_Handler, tick)
void tick(uint32_t *frame, uint32_t exc_return)
{
    (void)frame;
    (void)exc_return;
    SYST_CSR = 0; /* one interrupt per run ... */
    SCB_ICSR = ICSR_PENDSTCLR; /* ... even if QEMU's real-time SysTick wrapped again meanwhile */
    FPCAR = 0x30000000u; /* nothing mapped there */
    uint32_t r, at;
    __asm__ volatile("adr.w %1, 1f\n\t"
                     ".balign 4\n\t"
                     "1: vmov.f32 s0, #3.0\n\t"
                     "vmov %0, s0"
                     : "=r"(r), "=&r"(at)::"s0", "memory");
    fp_insn_addr = at;
    result = r;
    fp_done_at = ++order;
    tick_done_at = ++order;
}

static void one_tick(void)
{
    __asm__ volatile("vmov.f32 s5, #1.0" ::: "s5"); /* an active FP context: FPCA = 1 */
    SYST_CVR = 0;
    SYST_RVR = 100;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (tick_done_at == 0 || (bf_count == 0))
        ;
}

int main(void)
{
    SCB_SHCSR |= SHCSR_BUSFAULTENA | SHCSR_MEMFAULTENA | SHCSR_USGFAULTENA;

    /* 1. BusFault (priority 0) preempts SysTick (priority 0x80). */
    SCB_SHPR(EXC_SYSTICK) = 0x80;
    one_tick();
    expect_eq("preempting: one BusFault", bf_count, 1);
    expect_eq("preempting: CFSR.LSPERR only", bf_cfsr, CFSR_LSPERR);
    expect_eq("preempting: LSPACT still set in the BusFault handler", bf_lspact, 1);
    expect_eq("preempting: stacked PC at the FP instruction", bf_pc, fp_insn_addr);
    expect("preempting: BusFault before the FP instruction", bf_seen_at < fp_done_at);
    expect_eq("preempting: the instruction then executes", result, 0x40400000u);

    /* 2. Same priority: the preservation is abandoned, the BusFault comes afterwards. */
    order = bf_count = bf_seen_at = fp_done_at = tick_done_at = result = 0;
    SCB_SHPR(EXC_SYSTICK) = 0x00;
    one_tick();
    expect_eq("not preempting: one BusFault", bf_count, 1);
    expect_eq("not preempting: CFSR.LSPERR only", bf_cfsr, CFSR_LSPERR);
    expect("not preempting: the FP instruction first", fp_done_at < bf_seen_at);
    /* (LSPACT in that BusFault handler is not checked: QEMU tail-chains into it from the
     * SysTick return keeping the frame, armlet returns to Thread mode and stacks afresh as the
     * B1.5.8 pseudocode does, reserving a new lazy frame.) */
    expect_eq("not preempting: result", result, 0x40400000u);
    return check_done("fp_lazy_fault");
}
