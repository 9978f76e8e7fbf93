/* FP context under interrupts (ARMv7-M ARM B1.5.6-B1.5.8, FPCCR/FPCAR/FPDSCR B3.2.21-23) on
 * a Cortex-M4F (mps2-an386): a thread keeps values in S0-S31 and FPSCR while SysTick
 * interrupts it, in four configurations:
 *   lazy    (ASPEN+LSPEN, the reset value): EXC_RETURN 0xFFFFFFE9, the handler starts with
 *           LSPACT set, FPCAR = frame + 0x20 and CONTROL.FPCA clear; its first FP
 *           instruction writes the thread's S0-S15/FPSCR there, clears LSPACT, sets FPCA
 *           and loads FPSCR from FPDSCR; the thread's values survive.
 *   lazy, handler without FP: LSPACT stays set in the handler, is cleared by the return,
 *           the reserved space is never written and the registers survive.
 *   eager   (ASPEN only): the frame holds S0-S15/FPSCR at entry, LSPACT stays clear.
 *   off     (ASPEN and LSPEN clear, FPCA clear): a basic frame (0xFFFFFFF9), nothing
 *           saved: the handler's S0-S15 writes reach the thread.
 * Also checks FPCCR's reset value and MVFR0/MVFR1. */
#include "armv7m.h"
#include "check.h"

#define FPCCR REG32(0xE000EF34u)
#define FPCAR REG32(0xE000EF38u)
#define FPDSCR REG32(0xE000EF3Cu)
#define MVFR0 REG32(0xE000EF40u)
#define MVFR1 REG32(0xE000EF44u)
#define FPCCR_ASPEN (1u << 31)
#define FPCCR_LSPEN (1u << 30)
#define FPCCR_LSPACT 1u
#define SENTINEL 0xA5A5A5A5u

static volatile uint32_t ticks, use_fp;
static volatile uint32_t h_lr, h_lspact, h_fpcar, h_frame, h_fpca, h_lspact_after, h_fpca_after,
    h_fpscr, h_slot[17], h_slot_after[17];

static inline uint32_t get_fpscr(void)
{
    uint32_t v;
    __asm__ volatile("vmrs %0, fpscr" : "=r"(v));
    return v;
}

EXC_HANDLER(SysTick_Handler, tick)
void tick(uint32_t *frame, uint32_t exc_return)
{
    SYST_CSR = 0; /* one interrupt per run ... */
    SCB_ICSR = ICSR_PENDSTCLR; /* ... even if QEMU's real-time SysTick wrapped again meanwhile */
    h_lr = exc_return;
    h_frame = (uint32_t)frame;
    h_lspact = FPCCR & FPCCR_LSPACT;
    h_fpcar = FPCAR;
    h_fpca = get_control() & 4;
    for (int i = 0; i < 17; i++)
        h_slot[i] = frame[8 + i];
    if (use_fp) {
        /* The handler's FP work: overwrite S0-S15 with its own values. */
        __asm__ volatile("vmov.f32 s0, #-2.0\n\t"
                         "vmov.f32 s1, s0\n\tvmov.f32 s2, s0\n\tvmov.f32 s3, s0\n\t"
                         "vadd.f32 s4, s0, s0\n\tvmov.f32 s5, s4\n\tvmov.f32 s6, s4\n\t"
                         "vmov.f32 s7, s4\n\tvmov.f32 s8, s4\n\tvmov.f32 s9, s4\n\t"
                         "vmov.f32 s10, s4\n\tvmov.f32 s11, s4\n\tvmov.f32 s12, s4\n\t"
                         "vmov.f32 s13, s4\n\tvmov.f32 s14, s4\n\tvmov.f32 s15, s4"
                         ::: "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9",
                           "s10", "s11", "s12", "s13", "s14", "s15");
        h_fpscr = get_fpscr();
    }
    h_lspact_after = FPCCR & FPCCR_LSPACT;
    h_fpca_after = get_control() & 4;
    for (int i = 0; i < 17; i++)
        h_slot_after[i] = frame[8 + i];
    ticks++;
}

static uint32_t in[32], out[32];

/* Load S0-S31 and FPSCR, let one SysTick interrupt happen, store them back; all in one asm
 * block so the compiler keeps nothing of its own in FP registers meanwhile. */
static uint32_t run_once(uint32_t fpscr)
{
    uint32_t want = ticks + 1, fpscr_after;
    /* Fill the stack below SP with a sentinel, to see whether the reserved space is written. */
    __asm__ volatile("mov r2, sp\n\t"
                     "sub r3, r2, #0x100\n\t"
                     "1: str %0, [r3], #4\n\t"
                     "cmp r3, r2\n\t"
                     "bne 1b" ::"r"(SENTINEL) : "r2", "r3", "memory");
    SYST_CVR = 0;
    SYST_RVR = 200;
    __asm__ volatile("vldmia %[in], {s0-s31}\n\t"
                     "vmsr fpscr, %[f]\n\t"
                     "str %[en], [%[csr]]\n\t"
                     "1: ldr r3, [%[t]]\n\t"
                     "cmp r3, %[want]\n\t"
                     "blo 1b\n\t"
                     "vmrs %[f], fpscr\n\t"
                     "vstmia %[out], {s0-s31}"
                     : [f] "+r"(fpscr)
                     : [in] "r"(in), [out] "r"(out), [t] "r"(&ticks), [want] "r"(want),
                       [csr] "r"(&SYST_CSR),
                       [en] "r"(SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE)
                     : "r3", "memory", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8",
                       "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18",
                       "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27", "s28",
                       "s29", "s30", "s31");
    fpscr_after = fpscr;
    return fpscr_after;
}

static int same(const uint32_t *a, const uint32_t *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

int main(void)
{
    expect_eq("fpccr reset value (ASPEN, LSPEN)", FPCCR, 0xC0000000u);
    expect_eq("mvfr0 (Cortex-M4F)", MVFR0, 0x10110021u);
    expect_eq("mvfr1 (Cortex-M4F)", MVFR1, 0x11000011u);
    for (int i = 0; i < 32; i++)
        in[i] = 0x3F800000u + (uint32_t)i * 0x00010001u;
    const uint32_t thread_fpscr = 0xF000009Fu; /* NZCV and every cumulative flag */
    FPDSCR = 0x00C00000u;                      /* new contexts round towards zero */

    /* 1. lazy, the handler uses FP */
    use_fp = 1;
    uint32_t f = run_once(thread_fpscr);
    expect_eq("lazy: EXC_RETURN", h_lr, 0xFFFFFFE9u);
    expect_eq("lazy: LSPACT set on handler entry", h_lspact, 1);
    expect_eq("lazy: FPCAR = frame + 0x20", h_fpcar, h_frame + 0x20);
    expect_eq("lazy: extended frame is 8-byte aligned", h_frame & 7, 0);
    expect_eq("lazy: FPCA clear on handler entry", h_fpca, 0);
    expect_eq("lazy: reserved S0 slot not yet written", h_slot[0], SENTINEL);
    expect_eq("lazy: LSPACT clear after the first FP instruction", h_lspact_after, 0);
    expect_eq("lazy: FPCA set by the handler's FP instruction", h_fpca_after, 4);
    expect_eq("lazy: handler FPSCR from FPDSCR", h_fpscr, 0x00C00000u);
    expect("lazy: S0-S15 preserved to the frame", same((const uint32_t *)h_slot_after, in, 16));
    expect_eq("lazy: FPSCR preserved to the frame", h_slot_after[16], thread_fpscr);
    expect("lazy: thread S0-S31 survive", same(out, in, 32));
    expect_eq("lazy: thread FPSCR survives", f, thread_fpscr);
    expect_eq("lazy: thread FPCA still set", get_control() & 4, 4);

    /* 2. lazy, the handler does not use FP */
    use_fp = 0;
    f = run_once(0x00400000u);
    expect_eq("lazy, no FP in handler: EXC_RETURN", h_lr, 0xFFFFFFE9u);
    expect_eq("lazy, no FP in handler: LSPACT stays set", h_lspact_after, 1);
    expect_eq("lazy, no FP in handler: space never written", h_slot_after[0], SENTINEL);
    expect_eq("lazy, no FP in handler: LSPACT cleared by the return", FPCCR & FPCCR_LSPACT, 0);
    expect("lazy, no FP in handler: thread S0-S31 survive", same(out, in, 32));
    expect_eq("lazy, no FP in handler: thread FPSCR survives", f, 0x00400000u);

    /* 3. eager: ASPEN without LSPEN */
    FPCCR = FPCCR_ASPEN;
    use_fp = 1;
    f = run_once(thread_fpscr);
    expect_eq("eager: EXC_RETURN", h_lr, 0xFFFFFFE9u);
    expect_eq("eager: LSPACT clear", h_lspact, 0);
    expect("eager: S0-S15 in the frame at entry", same((const uint32_t *)h_slot, in, 16));
    expect_eq("eager: FPSCR in the frame at entry", h_slot[16], thread_fpscr);
    expect("eager: thread S0-S31 survive", same(out, in, 32));
    expect_eq("eager: thread FPSCR survives", f, thread_fpscr);

    /* 4. off: no automatic preservation, FPCA cleared by hand */
    FPCCR = 0;
    set_control(get_control() & ~4u);
    isb();
    f = run_once(thread_fpscr);
    expect_eq("off: basic frame EXC_RETURN", h_lr, 0xFFFFFFF9u);
    expect_eq("off: FPCA stays clear", get_control() & 4, 0);
    expect_eq("off: handler's S0 reaches the thread", out[0], 0xC0000000u);
    expect_eq("off: handler's S15 reaches the thread", out[15], 0xC0800000u);
    expect("off: S16-S31 untouched", same(out + 16, in + 16, 16));
    FPCCR = FPCCR_ASPEN | FPCCR_LSPEN;
    return check_done("fp_lazy");
}
