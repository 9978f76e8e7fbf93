/* bench_irq: an interrupt-heavy workload. CMSDK timer0 (IRQ 8) interrupts every 250 cycles
 * (100 kHz of virtual time at 25 MHz) while the main loop computes (a FIR filter, a
 * table-driven CRC32 and an insertion sort over blocks of samples). The handler clears the
 * timer, counts and advances its own generator; at the end the main loop replays the
 * generator as many times as the handler ran and checks the handler's sum (so every
 * interrupt's work is verified), and checks its own result against the known answer.
 *
 * Built with -DPLAIN it is bench_irq_plain: the same main loop with no timer, the baseline
 * for "interrupt-heavy MIPS as a fraction of plain-loop MIPS".
 *
 * Under armlet the interrupt count is deterministic; under QEMU the timer runs in real
 * time, so its count (printed as "irqs N") varies from run to run. */
#include "bench.h"

#ifndef BLOCKS
#define BLOCKS 3000
#endif
#define RELOAD (250 - 1)

#define NS 256
#define TAPS 16
static int16_t samples[NS];
static int32_t filtered[NS];
static uint32_t crc_table[256];

static void compute_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t compute_block(uint32_t blk, uint32_t *seed)
{
    static const int16_t taps[TAPS] = {-3, 7, -12, 25, -41, 72, 140, 255,
                                       255, 140, 72, -41, 25, -12, 7, -3};
    for (int i = 0; i < NS; i++)
        samples[i] = (int16_t)(bench_lcg(seed) >> 20) - 2048;
    for (int i = TAPS - 1; i < NS; i++) {
        int32_t s = 0;
        for (int k = 0; k < TAPS; k++)
            s += (int32_t)samples[i - k] * taps[k];
        filtered[i] = s >> 8;
    }
    uint32_t c = 0xffffffffu ^ blk;
    for (int i = TAPS - 1; i < NS; i++) {
        uint32_t v = (uint32_t)filtered[i];
        c = crc_table[(c ^ v) & 0xff] ^ (c >> 8);
        c = crc_table[(c ^ (v >> 8)) & 0xff] ^ (c >> 8);
    }
    /* insertion sort of the first 32 filtered values, then fold the median */
    for (int i = TAPS; i < TAPS + 32; i++) {
        int32_t t = filtered[i];
        int j = i;
        while (j > TAPS - 1 && filtered[j - 1] > t) {
            filtered[j] = filtered[j - 1];
            j--;
        }
        filtered[j] = t;
    }
    return ~c ^ (uint32_t)filtered[TAPS + 16];
}

static uint32_t compute_run(uint32_t blocks)
{
    uint32_t seed = 0xfeed, acc = 0;
    compute_init();
    for (uint32_t b = 0; b < blocks; b++)
        acc = (acc << 7 | acc >> 25) + compute_block(b, &seed);
    return acc;
}

/* The handler's generator: replayed by main to check the handler's work. */
#define H_SEED 1u
static inline uint32_t h_step(uint32_t s) { return s * 1103515245u + 12345u; }

#ifdef HOST_BUILD
int main(void)
{
    return BENCH_REPORT("bench_irq", BENCH_IRQ_EXPECTED, compute_run(BLOCKS));
}
#else
#include "mps2_timers.h"

static volatile uint32_t irq_count;
static uint32_t h_state = H_SEED, h_sum;

void IRQ8_Handler(void)
{
    TIMER_INTSTATUS(CMSDK_TIMER0) = 1;
    h_state = h_step(h_state);
    h_sum += h_state >> 16;
    irq_count++;
}

int main(void)
{
#ifndef PLAIN
    TIMER_RELOAD(CMSDK_TIMER0) = RELOAD;
    TIMER_VALUE(CMSDK_TIMER0) = RELOAD;
    nvic_enable(TIMER0_IRQ);
    TIMER_CTRL(CMSDK_TIMER0) = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
#endif
    uint32_t result = compute_run(BLOCKS);
    TIMER_CTRL(CMSDK_TIMER0) = 0;
    nvic_disable(TIMER0_IRQ);
    uint32_t n = irq_count, s = H_SEED, sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        s = h_step(s);
        sum += s >> 16;
    }
    sh_puts("irqs ");
    sh_put_dec(n);
    sh_puts("\n");
#ifdef PLAIN
    int irqs_ok = n == 0;
#else
    int irqs_ok = n > 0;
#endif
    if (!irqs_ok || sum != h_sum || s != h_state) {
        sh_puts("FAIL interrupt handler work\n");
        return 1;
    }
#ifdef PLAIN
    return bench_report("bench_irq_plain", result, BENCH_IRQ_EXPECTED);
#else
    return bench_report("bench_irq", result, BENCH_IRQ_EXPECTED);
#endif
}
#endif
