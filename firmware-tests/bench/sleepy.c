/* bench_sleepy: an RTOS-style idle system. SysTick ticks at 1 kHz (25,000 cycles at 25 MHz);
 * the main loop sleeps in WFI and, for every tick, runs a small "task" (a moving-average
 * filter over a sensor-like signal and a checksum). 10,000 ticks = 10 s of virtual time,
 * nearly all of it asleep. Each tick's work depends only on the tick number, so the result is
 * the same however the wake-ups fall (QEMU's SysTick runs in real time: it takes 10 s there). */
#include "bench.h"

#ifndef TICKS
#define TICKS 10000
#endif

#define WIN 16
static uint32_t window[WIN];

static uint32_t tick_work(uint32_t tick, uint32_t acc)
{
    uint32_t x = tick * 2654435761u;
    window[tick % WIN] = (x >> 20) + (tick & 0xff);
    uint32_t sum = 0, max = 0;
    for (int i = 0; i < WIN; i++) {
        sum += window[i];
        if (window[i] > max)
            max = window[i];
    }
    return (acc << 3 | acc >> 29) ^ (sum / WIN) ^ max << 12;
}

#ifdef HOST_BUILD
int main(void)
{
    uint32_t acc = 0x1234;
    for (uint32_t t = 1; t <= TICKS; t++)
        acc = tick_work(t, acc);
    return BENCH_REPORT("bench_sleepy", BENCH_SLEEPY_EXPECTED, acc);
}
#else
#include "armv7m.h"

static volatile uint32_t ticks;

void SysTick_Handler(void) { ticks++; }

int main(void)
{
    uint32_t acc = 0x1234, done = 0;
    SYST_RVR = 25000 - 1; /* 1 ms at 25 MHz */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (done < TICKS) {
        /* sleep until the next tick; PRIMASK closes the check-then-sleep race */
        cpsid_i();
        while (ticks == done) {
            wfi();
            cpsie_i();
            cpsid_i();
        }
        cpsie_i();
        uint32_t now = ticks;
        while (done < now && done < TICKS)
            acc = tick_work(++done, acc);
    }
    SYST_CSR = 0;
    return bench_report("bench_sleepy", acc, BENCH_SLEEPY_EXPECTED);
}
#endif
