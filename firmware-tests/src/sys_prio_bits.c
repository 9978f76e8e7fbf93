/* Implemented priority bits (ARMv7-M ARM B1.5.4, B3.4.9): mps2-an385 (Cortex-M3) implements
 * 3 bits, [7:5]; the unimplemented low bits of NVIC_IPR, SHPR and BASEPRI read as zero, and
 * PRIGROUP values 0-4 all make the three bits group priority. It has 32 interrupt lines
 * (ICTR.INTLINESNUM 0): all of ISER0 is writable. (Not checked on QEMU 7.2: it implements
 * all 8 priority bits.) */
#include "armv7m.h"
#include "check.h"

static volatile uint32_t runs;
static char order[8];
void IRQ10_Handler(void)
{
    order[runs++ & 7] = 'a';
    nvic_pend(11); /* 0x70 vs 0x60: the same group priority (0x60) under 3 bits */
    dsb();
    isb();
    order[runs++ & 7] = 'A';
}
void IRQ11_Handler(void) { order[runs++ & 7] = 'b'; }

int main(void)
{
    NVIC_IPR(10) = 0xFF;
    expect_eq("ipr 0xff reads 0xe0", NVIC_IPR(10), 0xE0);
    NVIC_IPR(10) = 0x7F;
    expect_eq("ipr 0x7f reads 0x60", NVIC_IPR(10), 0x60);
    SCB_SHPR(EXC_SYSTICK) = 0xFF;
    expect_eq("shpr systick 0xff reads 0xe0", SCB_SHPR(EXC_SYSTICK), 0xE0);
    SCB_SHPR(EXC_SYSTICK) = 0;
    set_basepri(0xFF);
    expect_eq("basepri 0xff reads 0xe0", get_basepri(), 0xE0);
    set_basepri(0);
    expect_eq("ictr.intlinesnum 0 (32 lines)", SCnSCB_ICTR & 0xF, 0);

    /* Priorities 0x7F and 0x70 both read 0x60: IRQ 11 cannot preempt IRQ 10. */
    NVIC_IPR(10) = 0x7F;
    NVIC_IPR(11) = 0x70;
    nvic_enable(10);
    nvic_enable(11);
    nvic_pend(10);
    dsb();
    isb();
    expect("low bits ignored: no preemption between 0x7f and 0x70",
           runs == 3 && order[0] == 'a' && order[1] == 'A' && order[2] == 'b');
    return check_done("sys_prio_bits");
}
