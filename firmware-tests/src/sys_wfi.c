/* WFI sleep (ARMv7-M ARM B1.5.17-19): SysTick with a 0.5 s reload wakes the core from WFI;
 * across two periods the semihosting elapsed time (SYS_ELAPSED / SYS_TICKFREQ) advances by
 * about 1 s (an emulator with virtual time skips the sleep; QEMU waits in real time, hence
 * the tolerance). A pending interrupt masked by PRIMASK still wakes WFI without being taken;
 * it is taken on CPSIE. (sys_wfi_clock checks SYS_CLOCK and SLEEPONEXIT, which QEMU cannot.) */
#include "armv7m.h"
#include "check.h"

static volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

static uint64_t elapsed(void)
{
    uint32_t e[2];
    semihost(SYS_ELAPSED, e);
    return ((uint64_t)e[1] << 32) | e[0];
}

int main(void)
{
    uint32_t freq = semihost(SYS_TICKFREQ, 0);
    SYST_RVR = 12499999; /* 0.5 s at 25 MHz */
    SYST_CVR = 0;
    uint64_t e0 = elapsed();
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    unsigned wakes = 0;
    while (ticks < 2) {
        wfi();
        wakes++;
    }
    uint64_t e1 = elapsed();
    uint32_t ms = (uint32_t)((e1 - e0) * 1000 / freq);
    expect_eq("two ticks", ticks, 2);
    expect_eq("each wfi woke on a tick", wakes, 2);
    expect("sys_elapsed advanced about 1 s over two periods", ms >= 950 && ms <= 2500);

    /* WFI with PRIMASK set: woken by the pending SysTick, which runs only after CPSIE. */
    cpsid_i();
    SYST_CVR = 0;
    wfi();
    uint32_t t_after_wfi = ticks;
    uint32_t pend_after_wfi = (SCB_ICSR & ICSR_PENDSTSET) != 0;
    cpsie_i();
    isb();
    expect_eq("masked: wfi returns without taking the interrupt", t_after_wfi, 2);
    expect_eq("masked: systick pending after wfi", pend_after_wfi, 1);
    expect_eq("masked: taken after cpsie", ticks, 3);
    SYST_CSR = 0;
    return check_done("sys_wfi");
}
