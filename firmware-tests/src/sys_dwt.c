/* DWT cycle counter (ARMv7-M ARM C1.8.6, C1.8.8): with DEMCR.TRCENA and DWT_CTRL.CYCCNTENA,
 * CYCCNT counts processor cycles: it increases across a loop (by at least one per
 * iteration), agrees with SysTick on the processor clock, holds its value while disabled,
 * takes a written value, and wraps from 0xFFFFFFFF to 0. Only decisions are printed, never
 * counts. (Not checked on QEMU: it does not implement the DWT or DEMCR.) */
#include "armv7m.h"
#include "check.h"

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    expect_eq("demcr.trcena set", DEMCR & DEMCR_TRCENA, DEMCR_TRCENA);
    expect_eq("dwt_ctrl.nocyccnt clear (cycle counter present)", DWT_CTRL & DWT_CTRL_NOCYCCNT, 0);
    expect_eq("cyccntena clear at reset", DWT_CTRL & DWT_CTRL_CYCCNTENA, 0);

    DWT_CYCCNT = 0;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    expect_eq("cyccntena reads back", DWT_CTRL & DWT_CTRL_CYCCNTENA, DWT_CTRL_CYCCNTENA);
    uint32_t c0 = DWT_CYCCNT;
    spin(1000);
    uint32_t c1 = DWT_CYCCNT;
    expect("cyccnt increases across a loop", c1 > c0);
    expect("at least one cycle per iteration", c1 - c0 >= 1000);
    expect("and not absurdly many", c1 - c0 < 1000000);

    /* CYCCNT and SysTick (processor clock) measure the same interval. */
    SYST_RVR = 0x00FFFFFF;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE;
    while (SYST_CVR == 0) {
    }
    uint32_t s0 = SYST_CVR, d0 = DWT_CYCCNT;
    spin(20000);
    uint32_t s1 = SYST_CVR, d1 = DWT_CYCCNT;
    SYST_CSR = 0;
    uint32_t by_systick = s0 - s1, by_dwt = d1 - d0;
    uint32_t diff = by_systick > by_dwt ? by_systick - by_dwt : by_dwt - by_systick;
    expect("cyccnt agrees with systick within 1%", by_dwt > 20000 && diff * 100 <= by_dwt);

    DWT_CTRL &= ~DWT_CTRL_CYCCNTENA;
    uint32_t h0 = DWT_CYCCNT;
    spin(1000);
    uint32_t h1 = DWT_CYCCNT;
    expect("cyccnt stops when disabled", h0 == h1);
    DWT_CYCCNT = 0x12345678u;
    expect_eq("cyccnt takes a written value", DWT_CYCCNT, 0x12345678u);

    DWT_CYCCNT = 0xFFFFFF00u;
    DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    spin(200);
    uint32_t w = DWT_CYCCNT;
    DWT_CTRL &= ~DWT_CTRL_CYCCNTENA;
    expect("cyccnt wraps to 0", w < 0x10000u);
    return check_done("sys_dwt");
}
