/* Sleeps 10 s of (virtual) time in WFI: twenty 0.5 s SysTick periods. An emulator with virtual
 * time should finish it in far less than 10 s of wall time; QEMU takes the real 10 s. */
#include "armv7m.h"
#include "check.h"

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    if (++ticks == 20)
        SYST_CSR = 0;
}

int main(void)
{
    uint32_t freq = semihost(SYS_TICKFREQ, 0);
    uint32_t e[2];
    semihost(SYS_ELAPSED, e);
    uint64_t e0 = ((uint64_t)e[1] << 32) | e[0];
    SYST_RVR = 12499999; /* 0.5 s at 25 MHz */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    unsigned wakes = 0;
    while (ticks < 20) {
        wfi();
        wakes++;
    }
    semihost(SYS_ELAPSED, e);
    uint64_t e1 = ((uint64_t)e[1] << 32) | e[0];
    uint32_t ms = (uint32_t)((e1 - e0) * 1000 / freq);
    expect_eq("twenty 0.5 s periods", ticks, 20);
    expect_eq("each in wfi", wakes, 20);
    expect("sys_elapsed advanced about 10 s", ms >= 9900 && ms <= 20000);
    return check_done("sys_sleep10");
}
