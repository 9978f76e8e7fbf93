/* Sleeping with virtual time (armlet; not QEMU, whose SYS_CLOCK is the host CPU time of the
 * QEMU process and stands still while the guest sleeps, and which does not implement
 * SLEEPONEXIT): SYS_CLOCK (centiseconds since the start) advances by about 100 across two
 * 0.5 s SysTick periods spent in WFI; with SCR.SLEEPONEXIT (ARMv7-M ARM B1.5.17) the core
 * goes back to sleep after each handler returns to thread mode, until a handler clears it. */
#include "armv7m.h"
#include "check.h"

static volatile uint32_t ticks, sleeponexit_until;

void SysTick_Handler(void)
{
    ticks++;
    if (sleeponexit_until && ticks >= sleeponexit_until) {
        SCB_SCR &= ~SCR_SLEEPONEXIT;
        sleeponexit_until = 0;
    }
}

int main(void)
{
    SYST_RVR = 12499999; /* 0.5 s at 25 MHz */
    SYST_CVR = 0;
    uint32_t c0 = semihost(SYS_CLOCK, 0);
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (ticks < 2)
        wfi();
    uint32_t dc = semihost(SYS_CLOCK, 0) - c0;
    expect_eq("two ticks", ticks, 2);
    expect("sys_clock advanced about 100 cs over two periods", dc >= 95 && dc <= 150);

    /* SLEEPONEXIT: the thread's WFI returns only after the third tick from here. */
    sleeponexit_until = ticks + 3;
    SCB_SCR |= SCR_SLEEPONEXIT;
    wfi();
    expect_eq("sleeponexit: thread resumed after three ticks", ticks, 5);
    expect_eq("sleeponexit cleared", SCB_SCR & SCR_SLEEPONEXIT, 0);
    SYST_CSR = 0;
    return check_done("sys_wfi_clock");
}
