/* CMSDK APB timers on mps2-an385: timer0 with a 1 ms reload raises IRQ 8 five times (the
 * handler clears INTSTATUS by writing one); VALUE counts down from RELOAD and holds while
 * disabled; INTSTATUS is set at zero and drives the NVIC pending bit; timer1 raises IRQ 9. */
#include "check.h"
#include "mps2_timers.h"

static volatile uint32_t t0_irqs, t1_irqs, bad_ipsr, still_set;

void IRQ8_Handler(void)
{
    if (get_ipsr() != EXC_IRQ0 + TIMER0_IRQ)
        bad_ipsr++;
    TIMER_INTSTATUS(CMSDK_TIMER0) = 1;
    if (TIMER_INTSTATUS(CMSDK_TIMER0) & 1)
        still_set++;
    if (++t0_irqs == 5)
        TIMER_CTRL(CMSDK_TIMER0) = 0;
}

void IRQ9_Handler(void)
{
    TIMER_INTSTATUS(CMSDK_TIMER1) = 1;
    if (++t1_irqs == 2)
        TIMER_CTRL(CMSDK_TIMER1) = 0;
}

int main(void)
{
    uint32_t t = CMSDK_TIMER0;
    expect_eq("timer0 disabled at reset", TIMER_CTRL(t), 0);
    TIMER_RELOAD(t) = 25000 - 1; /* 1 ms */
    TIMER_VALUE(t) = 25000 - 1;
    expect_eq("reload reads back", TIMER_RELOAD(t), 24999);
    expect_eq("value holds while disabled", TIMER_VALUE(t), 24999);

    /* Count down, interrupt enabled in the timer but not in the NVIC. */
    TIMER_RELOAD(t) = 0x00FFFFFF;
    TIMER_VALUE(t) = 0x00FFFFFF;
    TIMER_CTRL(t) = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
    spin(1000);
    uint32_t a = TIMER_VALUE(t);
    spin(1000);
    uint32_t b = TIMER_VALUE(t);
    expect("value counts down", b < a && a < 0x00FFFFFF);
    TIMER_VALUE(t) = 100; /* reaches zero in 4 us */
    for (uint32_t n = 0; !(TIMER_INTSTATUS(t) & 1) && n < 1000000; n++) {
    }
    expect_eq("intstatus set at zero", TIMER_INTSTATUS(t) & 1, 1);
    expect_eq("nvic pending (irq 8)", nvic_is_pending(TIMER0_IRQ), 1);
    TIMER_CTRL(t) = 0;
    TIMER_INTSTATUS(t) = 1;
    nvic_unpend(TIMER0_IRQ);
    expect_eq("intclear clears it", TIMER_INTSTATUS(t) & 1, 0);
    expect_eq("not pending after clearing", nvic_is_pending(TIMER0_IRQ), 0);
    expect("reload value taken at zero", TIMER_VALUE(t) > 100);

    /* Five interrupts, 1 ms apart. */
    TIMER_RELOAD(t) = 25000 - 1;
    TIMER_VALUE(t) = 25000 - 1;
    nvic_enable(TIMER0_IRQ);
    TIMER_CTRL(t) = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
    while (t0_irqs < 5)
        wfi();
    spin(50000); /* a while (two periods at one instruction per cycle): no further interrupt */
    expect_eq("timer0: five interrupts", t0_irqs, 5);
    expect_eq("ipsr 24 in the handler", bad_ipsr, 0);
    expect_eq("intstatus clear after intclear in the handler", still_set, 0);

    /* Timer1, IRQ 9. */
    TIMER_RELOAD(CMSDK_TIMER1) = 50000 - 1;
    TIMER_VALUE(CMSDK_TIMER1) = 50000 - 1;
    nvic_enable(TIMER1_IRQ);
    TIMER_CTRL(CMSDK_TIMER1) = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
    while (t1_irqs < 2)
        wfi();
    expect_eq("timer1: two interrupts", t1_irqs, 2);
    expect_eq("timer0 quiet meanwhile", t0_irqs, 5);
    return check_done("timer_cmsdk");
}
