/* CMSDK dual timer (SP804) on mps2-an385, IRQ 10 shared by both counters: timer 1 periodic,
 * 32-bit, 1 ms (LOAD), five interrupts cleared through INTCLR; RIS/MIS with the interrupt
 * disabled; timer 2 one-shot: a single interrupt, then it stops at zero. */
#include "check.h"
#include "mps2_timers.h"

static volatile uint32_t irqs[2], bad_ipsr;

void IRQ10_Handler(void)
{
    if (get_ipsr() != EXC_IRQ0 + DUALTIMER_IRQ)
        bad_ipsr++;
    for (unsigned n = 0; n < 2; n++) {
        if (DT_MIS(n) & 1) {
            DT_INTCLR(n) = 1;
            if (++irqs[n] == 5)
                DT_CONTROL(n) &= ~DT_CTRL_EN;
        }
    }
}

static void wait_ris(unsigned n)
{
    for (uint32_t k = 0; !(DT_RIS(n) & 1) && k < 1000000; k++) {
    }
}

int main(void)
{
    expect_eq("timer 1 control reset value (inten)", DT_CONTROL(0), DT_CTRL_INTEN);
    expect_eq("timer 2 control reset value (inten)", DT_CONTROL(1), DT_CTRL_INTEN);

    /* Raw and masked status with the interrupt disabled. */
    DT_LOAD(0) = 100;
    DT_CONTROL(0) = DT_CTRL_EN | DT_CTRL_32BIT | DT_CTRL_PERIODIC;
    wait_ris(0);
    expect_eq("ris set at zero", DT_RIS(0) & 1, 1);
    expect_eq("mis clear (interrupt disabled)", DT_MIS(0) & 1, 0);
    expect_eq("no nvic pending", nvic_is_pending(DUALTIMER_IRQ), 0);
    DT_CONTROL(0) = DT_CTRL_32BIT | DT_CTRL_PERIODIC;
    DT_INTCLR(0) = 1;
    expect_eq("intclr clears ris", DT_RIS(0) & 1, 0);

    /* Counting down. */
    DT_LOAD(0) = 0x00FFFFFF;
    expect_eq("load reads back", DT_LOAD(0), 0x00FFFFFF);
    DT_CONTROL(0) = DT_CTRL_EN | DT_CTRL_32BIT | DT_CTRL_PERIODIC;
    spin(1000);
    uint32_t a = DT_VALUE(0);
    spin(1000);
    uint32_t b = DT_VALUE(0);
    DT_CONTROL(0) = DT_CTRL_32BIT | DT_CTRL_PERIODIC;
    expect("value counts down", b < a && a <= 0x00FFFFFF);

    /* Timer 1 periodic: five interrupts. */
    nvic_enable(DUALTIMER_IRQ);
    DT_LOAD(0) = 25000 - 1;
    DT_CONTROL(0) = DT_CTRL_EN | DT_CTRL_32BIT | DT_CTRL_PERIODIC | DT_CTRL_INTEN;
    while (irqs[0] < 5)
        wfi();
    spin(50000);
    expect_eq("timer 1: five interrupts", irqs[0], 5);
    expect_eq("timer 2 quiet", irqs[1], 0);

    /* Timer 2 one-shot: one interrupt, then it stops at zero. */
    DT_LOAD(1) = 25000;
    DT_CONTROL(1) = DT_CTRL_EN | DT_CTRL_32BIT | DT_CTRL_ONESHOT | DT_CTRL_INTEN;
    while (irqs[1] < 1)
        wfi();
    spin(80000); /* a while: more than three periods at one instruction per cycle */
    expect_eq("timer 2 one-shot: one interrupt", irqs[1], 1);
    expect_eq("one-shot stopped at zero", DT_VALUE(1), 0);
    expect_eq("ipsr 26 in the handler", bad_ipsr, 0);
    nvic_disable(DUALTIMER_IRQ);
    return check_done("timer_dual");
}
