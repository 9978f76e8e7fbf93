/* The Rust example plugin periodic-timer (machines/plugin_timer.toml: IRQ 24, tick_hz 1 MHz
 * on a 25 MHz core): PERIOD = 100 us expires exactly every 2500 CPU cycles of virtual time
 * after START; the IRQ handler runs (IPSR 40) five times, each time soon after the expiry;
 * STATUS is write-one-to-clear; without IRQEN STATUS still sets but nothing is pended. */
#include "plugin_devices.h"

#define PERIOD_US 100u
#define PERIOD_CYCLES (PERIOD_US * 25u)

static volatile uint32_t irqs, bad_ipsr, last[5], entry_now[5];

void IRQ24_Handler(void)
{
    if (get_ipsr() != EXC_IRQ0 + PTIMER_IRQ)
        bad_ipsr++;
    uint32_t now = PTIMER_NOW_LO;
    if (irqs < 5) {
        last[irqs] = PTIMER_LAST_LO;
        entry_now[irqs] = now;
    }
    PTIMER_STATUS = 1;
    if (++irqs == 5)
        PTIMER_CTRL = 0;
}

int main(void)
{
    expect_eq("disabled at reset", PTIMER_CTRL, 0);
    PTIMER_PERIOD = PERIOD_US;
    expect_eq("period reads back", PTIMER_PERIOD, PERIOD_US);

    nvic_enable(PTIMER_IRQ);
    PTIMER_CTRL = PTIMER_EN | PTIMER_IRQEN;
    uint32_t start = PTIMER_START_LO;
    while (irqs < 5)
        wfi();
    expect_eq("five interrupts", irqs, 5);
    expect_eq("ipsr 40 in the handler", bad_ipsr, 0);
    expect_eq("count", PTIMER_COUNT, 5);
    int exact = 1, prompt = 1;
    for (uint32_t k = 0; k < 5; k++) {
        if (last[k] != start + (k + 1) * PERIOD_CYCLES)
            exact = 0;
        if (entry_now[k] - last[k] > 100)
            prompt = 0;
    }
    expect("expiry k at start + k * 2500 cycles", exact);
    expect("handler runs within 100 cycles of the expiry", prompt);
    expect_eq("status cleared by the handler", PTIMER_STATUS, 0);
    spin(10000);
    expect_eq("stopped: no further interrupt", irqs, 5);

    /* Without IRQEN: STATUS sets, nothing is pended. */
    PTIMER_CTRL = PTIMER_EN;
    while (!(PTIMER_STATUS & 1)) {
    }
    expect_eq("status set without irqen", PTIMER_STATUS, 1);
    expect_eq("not pending without irqen", nvic_is_pending(PTIMER_IRQ), 0);
    expect_eq("handler not run", irqs, 5);
    PTIMER_CTRL = 0;
    PTIMER_STATUS = 1;
    return check_done("plugin_timer");
}
