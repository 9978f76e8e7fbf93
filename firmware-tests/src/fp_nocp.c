/* CPACR gates the FPU (ARMv7-M ARM B3.2.20, B1.5.14): with CP10/CP11 access denied an FP
 * instruction takes a UsageFault with CFSR.NOCP and the stacked PC at the instruction, which
 * has not executed; with privileged-only access (0b01) unprivileged Thread code faults the same
 * way while privileged code runs. The handler grants access (full, or back to privileged
 * Thread) and returns to the same instruction, which then executes. Also: CPACR keeps only
 * CP10/CP11, FP instructions read it on every execution (no stale decode). */
#include "armv7m.h"
#include "check.h"

static volatile uint32_t faults, f_cfsr, f_pc, f_exc, fix_priv;

EXC_HANDLER(UsageFault_Handler, usage)
void usage(uint32_t *frame, uint32_t exc_return)
{
    (void)exc_return;
    faults++;
    f_exc = get_ipsr();
    f_cfsr = SCB_CFSR;
    f_pc = frame[FRAME_PC];
    SCB_CFSR = f_cfsr;
    if (fix_priv)
        set_control(get_control() & ~1u); /* back to privileged Thread mode */
    else
        SCB_CPACR = 0xFu << 20;
    /* return to the faulting instruction: it executes now */
}

/* s0 = r + 1.0f, at a known address */
static uint32_t add_one(uint32_t bits, uint32_t *at)
{
    uint32_t out;
    __asm__ volatile("vmov s0, %[in]\n\t"
                     "adr.w %[at], 1f\n\t"
                     "vmov.f32 s1, #1.0\n\t"
                     ".balign 4\n\t"
                     "1: vadd.f32 s0, s0, s1\n\t"
                     "vmov %[out], s0"
                     : [out] "=r"(out), [at] "=&r"(*at)
                     : [in] "r"(bits)
                     : "s0", "s1", "memory");
    return out;
}

int main(void)
{
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    expect_eq("cpacr enabled by startup", SCB_CPACR, 0xFu << 20);
    SCB_CPACR = 0xFFFFFFFFu;
    expect_eq("cpacr keeps only CP10/CP11", SCB_CPACR, 0x00F00000u);
    uint32_t at, r;
    r = add_one(0x40000000u, &at); /* warm: 2.0 + 1.0 */
    expect_eq("enabled: 2.0 + 1.0", r, 0x40400000u);
    expect_eq("enabled: no fault", faults, 0);

    /* Access denied: the first FP instruction (vmov s0, r) faults, the handler grants access. */
    SCB_CPACR = 0;
    dsb();
    isb();
    r = add_one(0x40000000u, &at);
    expect_eq("denied: one fault", faults, 1);
    expect_eq("denied: UsageFault", f_exc, EXC_USAGEFAULT);
    expect_eq("denied: CFSR.NOCP", f_cfsr, 1u << 19);
    expect_eq("denied: the instruction then executes", r, 0x40400000u);

    /* Privileged only: fine in privileged Thread mode ... */
    SCB_CPACR = 0x5u << 20;
    dsb();
    isb();
    r = add_one(0x3F800000u, &at);
    expect_eq("privileged only, privileged: 1.0 + 1.0", r, 0x40000000u);
    expect_eq("privileged only, privileged: no fault", faults, 1);
    /* ... NOCP unprivileged; the handler makes the thread privileged again. */
    fix_priv = 1;
    set_control(get_control() | 1u);
    isb();
    r = add_one(0x3F800000u, &at);
    expect_eq("privileged only, unprivileged: faulted", faults, 2);
    expect_eq("privileged only, unprivileged: CFSR.NOCP", f_cfsr, 1u << 19);
    expect_eq("privileged only, unprivileged: executes once privileged", r, 0x40000000u);
    expect_eq("thread is privileged again", get_control() & 1, 0);
    SCB_CPACR = 0xFu << 20;
    return check_done("fp_nocp");
}
