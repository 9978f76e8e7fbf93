/* The DSP extension of ARMv7E-M (ARMv7-M ARM A7.7) on a Cortex-M4 (mps2-an386), built with
 * -mcpu=cortex-m4. Two halves:
 *
 * 1. Application kernels written the CMSIS way (__QADD16, __SMLAD, __SEL ... as inline
 *    assembly), each checked against a plain C computation of the same thing: a saturating
 *    stereo audio mix (QADD16, SMULBB/SMULTB + SSAT), a Q15 FIR filter (SMLAD on packed
 *    sample pairs built with PKHBT), SMLAD/SMLALD/SMUSD/SMUADX dot and complex products,
 *    byte-wise max/min/compare with USUB8/SEL and the GE flags, a USADA8 block difference.
 *    Also the Q flag (sticky, set only where the pseudocode says, cleared through MSR
 *    APSR_nzcvq), MSR APSR_g, and GE saved/restored through exception entry and return.
 * 2. An instruction table: every DSP instruction over 12 edge operands (0x7fff/0x8000 lanes,
 *    0x7fffffff/0x80000000 ...) with the APSR (GE, Q) read back after each; one hash line per
 *    instruction. These values are not computed here: the expected output is what
 *    qemu-system-arm prints for this ELF (`make qemu-check` compares).
 */
#include "armv7m.h"
#include "check.h"

/* ---- CMSIS-style intrinsics ---- */
#define OP2(fn, insn)                                                          \
    static inline uint32_t fn(uint32_t a, uint32_t b)                          \
    {                                                                          \
        uint32_t r;                                                            \
        __asm__ volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));       \
        return r;                                                              \
    }
#define OP3(fn, insn)                                                          \
    static inline uint32_t fn(uint32_t a, uint32_t b, uint32_t c)              \
    {                                                                          \
        uint32_t r;                                                            \
        __asm__ volatile(insn " %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c)); \
        return r;                                                              \
    }
OP2(__QADD16, "qadd16")
OP2(__USUB8, "usub8")
OP2(__SEL, "sel")
OP2(__SMULBB, "smulbb")
OP2(__SMULTB, "smultb")
OP2(__SMUSD, "smusd")
OP2(__SMUADX, "smuadx")
OP2(__QADD, "qadd")
OP2(__QSUB, "qsub")
OP2(__UQSUB8, "uqsub8")
OP3(__SMLAD, "smlad")
OP3(__USADA8, "usada8")
OP3(__SMLABB, "smlabb")

static inline uint64_t __SMLALD(uint32_t a, uint32_t b, uint64_t acc)
{
    uint32_t lo = (uint32_t)acc, hi = (uint32_t)(acc >> 32);
    __asm__ volatile("smlald %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(a), "r"(b));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint32_t ssat_q15(uint32_t a) /* SSAT #16: to the Q15 range */
{
    uint32_t r;
    __asm__ volatile("ssat %0, #16, %1" : "=r"(r) : "r"(a));
    return r;
}
static inline uint32_t __PKHBT(uint32_t a, uint32_t b) /* a.lo | b.lo << 16 */
{
    uint32_t r;
    __asm__ volatile("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
static inline uint32_t get_apsr(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, apsr" : "=r"(v)::"memory");
    return v;
}
static inline void set_apsr_nzcvq(uint32_t v) { __asm__ volatile("msr APSR_nzcvq, %0" ::"r"(v) : "memory", "cc"); }
static inline void set_apsr_g(uint32_t v) { __asm__ volatile("msr APSR_g, %0" ::"r"(v) : "memory"); }
#define APSR_Q (1u << 27)
#define APSR_GE(v) (((v) >> 16) & 0xF)

/* ---- plain C references ---- */
static int32_t sat16(int32_t v) { return v > 32767 ? 32767 : v < -32768 ? -32768 : v; }
static uint32_t pack16(int32_t lo, int32_t hi) { return ((uint32_t)lo & 0xFFFF) | ((uint32_t)hi << 16); }
static int32_t lo16(uint32_t v) { return (int16_t)v; }
static int32_t hi16(uint32_t v) { return (int16_t)(v >> 16); }

/* Deterministic test signals (xorshift). */
static uint32_t rng = 0x12345678;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

#define N 64
static uint32_t left[N], right[N];  /* stereo Q15 frames: lo = L, hi = R */
static int16_t x[N + 16];           /* FIR input */
static const int16_t h[16] = {      /* a low-pass-ish Q15 kernel, sums to ~1.0 */
    -310, -512, 0, 1310, 3277, 5243, 6554, 7000, 7000, 6554, 5243, 3277, 1310, 0, -512, -310};

static void audio_mix(void)
{
    uint32_t mismatches = 0, clipped = 0, sum = 0;
    for (int i = 0; i < N; i++) {
        /* loud signals so that some lanes clip */
        left[i] = rnd() | ((i & 3) == 0 ? 0x70007000u : 0);
        right[i] = rnd();
        uint32_t m = __QADD16(left[i], right[i]);
        int32_t l = lo16(left[i]) + lo16(right[i]), r = hi16(left[i]) + hi16(right[i]);
        clipped += (l != sat16(l)) + (r != sat16(r));
        mismatches += m != pack16(sat16(l), sat16(r));
        sum += m;
        /* gain 1.5 in Q14 on both channels: SMULBB/SMULTB then saturate back to Q15 */
        uint32_t g = 0x6000;
        int32_t gl = (int32_t)__SMULBB(m, g) >> 14, gr = (int32_t)__SMULTB(m, g) >> 14;
        uint32_t out = pack16((int32_t)ssat_q15((uint32_t)gl), (int32_t)ssat_q15((uint32_t)gr));
        mismatches += out != pack16(sat16(lo16(m) * 0x6000 >> 14), sat16(hi16(m) * 0x6000 >> 14));
        sum = (sum << 1 | sum >> 31) ^ out;
    }
    check_eq("audio mix (qadd16, smulbb/smultb, ssat) matches C", mismatches, 0);
    expect("audio mix clipped some lanes", clipped > 0);
    sh_puts("audio mix: ");
    sh_put_dec(clipped);
    sh_puts(" lanes clipped, checksum ");
    sh_put_hex(sum);
    sh_puts("\n");
}

static void fir_q15(void)
{
    for (int i = 0; i < N + 16; i++)
        x[i] = (int16_t)(rnd() >> 16) / 2;
    uint32_t hp[8];
    for (int k = 0; k < 8; k++)
        hp[k] = pack16(h[2 * k], h[2 * k + 1]);
    uint32_t mismatches = 0, sum = 0;
    for (int n = 0; n < N; n++) {
        /* y[n] = sum_k h[k] * x[n + 15 - k]: pairs (x[j], x[j-1]) against (h[k], h[k+1]) */
        int32_t acc = 0;
        for (int k = 0; k < 8; k++) {
            int j = n + 15 - 2 * k;
            uint32_t xp = __PKHBT((uint16_t)x[j], (uint16_t)x[j - 1]);
            acc = (int32_t)__SMLAD(xp, hp[k], (uint32_t)acc);
        }
        int32_t y = (int32_t)ssat_q15((uint32_t)(acc >> 15));
        int64_t ref = 0;
        for (int k = 0; k < 16; k++)
            ref += (int64_t)h[k] * x[n + 15 - k];
        mismatches += y != sat16((int32_t)(ref >> 15));
        sum = sum * 31 + (uint32_t)y;
    }
    check_eq("q15 fir (smlad, pkhbt, ssat) matches C", mismatches, 0);
    sh_puts("q15 fir: checksum ");
    sh_put_hex(sum);
    sh_puts("\n");
}

static void dot_products(void)
{
    /* 32-bit SMLAD accumulation of moderate values, 64-bit SMLALD of full-scale ones. */
    int32_t acc = 0;
    int64_t ref = 0, acc64 = 0, ref64 = 0;
    for (int i = 0; i < N; i++) {
        uint32_t a = rnd() & 0x07FF07FF, b = rnd() & 0x07FF07FF;
        acc = (int32_t)__SMLAD(a, b, (uint32_t)acc);
        ref += (int64_t)lo16(a) * lo16(b) + (int64_t)hi16(a) * hi16(b);
        uint32_t c = rnd() | 0x80008000, d = rnd() | 0x80008000;
        acc64 = (int64_t)__SMLALD(c, d, (uint64_t)acc64);
        ref64 += (int64_t)lo16(c) * lo16(d) + (int64_t)hi16(c) * hi16(d);
    }
    check_eq("smlad dot product", (uint32_t)acc, (uint32_t)ref);
    check_eq("smlald dot product lo", (uint32_t)acc64, (uint32_t)ref64);
    check_eq("smlald dot product hi", (uint32_t)(acc64 >> 32), (uint32_t)(ref64 >> 32));
    /* complex multiply (a + bi)(c + di), operands packed re:lo im:hi */
    uint32_t z1 = pack16(1000, -2000), z2 = pack16(-3000, 4000);
    check_eq("complex re (smusd)", __SMUSD(z1, z2), (uint32_t)(1000 * -3000 - -2000 * 4000));
    check_eq("complex im (smuadx)", __SMUADX(z1, z2), (uint32_t)(1000 * 4000 + -2000 * -3000));
    sh_puts("dot products: ");
    sh_put_hex((uint32_t)acc);
    sh_puts(" ");
    sh_put_hex((uint32_t)(acc64 >> 32));
    sh_put_hex((uint32_t)acc64);
    sh_puts("\n");
}

static void bytes_and_ge(void)
{
    static uint8_t p[N], q[N];
    for (int i = 0; i < N; i++) {
        p[i] = (uint8_t)rnd();
        q[i] = (i % 5) ? (uint8_t)rnd() : p[i];
    }
    uint32_t mismatches = 0, sad = 0, sad_ref = 0;
    for (int i = 0; i < N; i += 4) {
        uint32_t a, b;
        __builtin_memcpy(&a, &p[i], 4);
        __builtin_memcpy(&b, &q[i], 4);
        __USUB8(a, b); /* GE[k] = a.byte[k] >= b.byte[k] */
        uint32_t ge = APSR_GE(get_apsr());
        uint32_t mx = __SEL(a, b);
        __USUB8(a, b);
        uint32_t mn = __SEL(b, a);
        uint32_t ge_ref = 0, mx_ref = 0, mn_ref = 0;
        for (int k = 0; k < 4; k++) {
            uint8_t u = p[i + k], v = q[i + k];
            ge_ref |= (uint32_t)(u >= v) << k;
            mx_ref |= (uint32_t)(u > v ? u : v) << (8 * k);
            mn_ref |= (uint32_t)(u < v ? u : v) << (8 * k);
            sad_ref += u > v ? u - v : v - u;
        }
        mismatches += (ge != ge_ref) + (mx != mx_ref) + (mn != mn_ref);
        uint32_t uq_ref = 0;
        for (int k = 0; k < 4; k++) {
            uint8_t u = p[i + k], v = q[i + k];
            uq_ref |= (uint32_t)(u > v ? u - v : 0) << (8 * k);
        }
        mismatches += __UQSUB8(a, b) != uq_ref;
        sad = __USADA8(a, b, sad);
    }
    check_eq("byte max/min and GE (usub8, sel) match C", mismatches, 0);
    check_eq("sum of absolute differences (usada8)", sad, sad_ref);
    sh_puts("bytes: sad ");
    sh_put_dec(sad);
    sh_puts("\n");
}

static void q_flag(void)
{
    set_apsr_nzcvq(0);
    expect_eq("q clear", get_apsr() & APSR_Q, 0);
    expect_eq("qadd16 saturates lanes without setting q", __QADD16(0x7FFF8000, 0x00018000), 0x7FFF8000);
    expect_eq("  q still clear", get_apsr() & APSR_Q, 0);
    expect_eq("qadd 0x7fffffff + 1 saturates", __QADD(0x7FFFFFFF, 1), 0x7FFFFFFF);
    expect_eq("  and sets q", get_apsr() & APSR_Q, APSR_Q);
    expect_eq("qsub without saturation", __QSUB(5, 7), (uint32_t)-2);
    expect_eq("  q is sticky", get_apsr() & APSR_Q, APSR_Q);
    set_apsr_nzcvq(0);
    expect_eq("msr apsr_nzcvq clears q", get_apsr() & APSR_Q, 0);
    expect_eq("smlabb 0x8000*0x8000 + 0x7fffffff wraps", __SMLABB(0x8000, 0x8000, 0x7FFFFFFF), 0xBFFFFFFFu);
    expect_eq("  and sets q", get_apsr() & APSR_Q, APSR_Q);
    set_apsr_nzcvq(0);
    expect_eq("smuadx 0x80008000 twice overflows", __SMUADX(0x80008000, 0x80008000), 0x80000000u);
    expect_eq("  and sets q", get_apsr() & APSR_Q, APSR_Q);
    set_apsr_nzcvq(0);
    expect_eq("smusd cannot overflow", __SMUSD(0x80008000, 0x80007FFF), 0x80008000u);
    expect_eq("  q clear", get_apsr() & APSR_Q, 0);
    set_apsr_g(0x000A0000);
    expect_eq("msr apsr_g sets ge", APSR_GE(get_apsr()), 0xA);
    expect_eq("  and leaves q", get_apsr() & APSR_Q, 0);
    expect_eq("sel with ge 1010", __SEL(0x11223344, 0xAABBCCDD), 0x11BB33DDu);
}

/* GE through an exception: the SVC handler changes GE; exception return restores it from
 * the stacked xPSR (bits 19:16). */
static volatile uint32_t svc_stacked_xpsr, svc_ge_after;
EXC_HANDLER(SVC_Handler, svc_handler)
void svc_handler(uint32_t *frame, uint32_t exc_return)
{
    (void)exc_return;
    svc_stacked_xpsr = frame[FRAME_XPSR];
    __USUB8(0, 0xFFFFFFFF); /* every byte borrows: GE = 0000 */
    svc_ge_after = APSR_GE(get_apsr());
}

static void ge_exception(void)
{
    set_apsr_g(0x00050000);
    __asm__ volatile("svc #0" ::: "memory");
    uint32_t ge = APSR_GE(get_apsr());
    expect_eq("stacked xpsr has ge 0101", APSR_GE(svc_stacked_xpsr), 0x5);
    expect_eq("handler changed ge", svc_ge_after, 0);
    expect_eq("exception return restored ge", ge, 0x5);
}

/* ---- the instruction table (values checked against qemu-system-arm) ---- */
static const uint32_t V[] = {0x00000000, 0x00000001, 0x7FFF7FFF, 0x80008000, 0x7FFFFFFF, 0x80000000,
                             0xFFFFFFFF, 0x00007FFF, 0x7F807F80, 0x807F01FF, 0x12345678, 0xFEDCBA98};
#define NV (sizeof V / sizeof V[0])
static const uint32_t ACC[] = {0x00000000, 0x7FFFFFFF, 0x80000000, 0x00012345};

static uint32_t hash;
static void mix(uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        hash ^= (v >> (8 * i)) & 0xFF;
        hash *= 16777619u;
    }
}

/* Each run: APSR (NZCVQ clear, GE from `ge`) set, instruction, APSR read, all in one block. */
/* `text` is the instruction with operands %[r] (result), %[a], %[b], %[c]. */
#define RAB " %[r], %[a], %[b]"
#define RABC " %[r], %[a], %[b], %[c]"
#define T2(fn, text)                                                                         \
    static void fn(uint32_t a, uint32_t b, uint32_t c, uint32_t ge)                          \
    {                                                                                        \
        (void)c;                                                                             \
        uint32_t r, f;                                                                       \
        __asm__ volatile("msr APSR_nzcvqg, %[g]\n\t" text "\n\t"                             \
                         "mrs %[f], apsr"                                                    \
                         : [r] "=&r"(r), [f] "=&r"(f)                                        \
                         : [a] "r"(a), [b] "r"(b), [g] "r"(ge << 16)                         \
                         : "cc");                                                            \
        mix(r);                                                                              \
        mix(f);                                                                              \
    }
#define T3(fn, text)                                                                         \
    static void fn(uint32_t a, uint32_t b, uint32_t c, uint32_t ge)                          \
    {                                                                                        \
        uint32_t r, f;                                                                       \
        __asm__ volatile("msr APSR_nzcvqg, %[g]\n\t" text "\n\t"                             \
                         "mrs %[f], apsr"                                                    \
                         : [r] "=&r"(r), [f] "=&r"(f)                                        \
                         : [a] "r"(a), [b] "r"(b), [c] "r"(c), [g] "r"(ge << 16)             \
                         : "cc");                                                            \
        mix(r);                                                                              \
        mix(f);                                                                              \
    }
/* RdLo, RdHi = c, ~c; then the instruction on a, b */
#define TL(fn, insn)                                                                         \
    static void fn(uint32_t a, uint32_t b, uint32_t c, uint32_t ge)                          \
    {                                                                                        \
        uint32_t lo = c, hi = ~c ^ a, f;                                                     \
        __asm__ volatile("msr APSR_nzcvqg, %[g]\n\t" insn " %[lo], %[hi], %[a], %[b]\n\t"    \
                         "mrs %[f], apsr"                                                    \
                         : [lo] "+&r"(lo), [hi] "+&r"(hi), [f] "=&r"(f)                      \
                         : [a] "r"(a), [b] "r"(b), [g] "r"(ge << 16)                         \
                         : "cc");                                                            \
        mix(lo);                                                                             \
        mix(hi);                                                                             \
        mix(f);                                                                              \
    }
/* one register operand (saturate, extend) */
#define T1(fn, text)                                                                         \
    static void fn(uint32_t a, uint32_t b, uint32_t c, uint32_t ge)                          \
    {                                                                                        \
        (void)b;                                                                             \
        (void)c;                                                                             \
        uint32_t r, f;                                                                       \
        __asm__ volatile("msr APSR_nzcvqg, %[g]\n\t" text "\n\t"                             \
                         "mrs %[f], apsr"                                                    \
                         : [r] "=&r"(r), [f] "=&r"(f)                                        \
                         : [a] "r"(a), [g] "r"(ge << 16)                                     \
                         : "cc");                                                            \
        mix(r);                                                                              \
        mix(f);                                                                              \
    }

#define PAR(p)                                                                              \
    T2(t_##p##add16, #p "add16" RAB) T2(t_##p##sub16, #p "sub16" RAB) T2(t_##p##asx, #p "asx" RAB) \
    T2(t_##p##sax, #p "sax" RAB) T2(t_##p##add8, #p "add8" RAB) T2(t_##p##sub8, #p "sub8" RAB)
PAR(s) PAR(q) PAR(sh) PAR(u) PAR(uq) PAR(uh)
T2(t_sel, "sel" RAB)
T2(t_qadd, "qadd" RAB) T2(t_qsub, "qsub" RAB) T2(t_qdadd, "qdadd" RAB) T2(t_qdsub, "qdsub" RAB)
T3(t_smlabb, "smlabb" RABC) T3(t_smlabt, "smlabt" RABC) T3(t_smlatb, "smlatb" RABC) T3(t_smlatt, "smlatt" RABC)
T2(t_smulbb, "smulbb" RAB) T2(t_smulbt, "smulbt" RAB) T2(t_smultb, "smultb" RAB) T2(t_smultt, "smultt" RAB)
T3(t_smlawb, "smlawb" RABC) T3(t_smlawt, "smlawt" RABC) T2(t_smulwb, "smulwb" RAB) T2(t_smulwt, "smulwt" RAB)
T3(t_smlad, "smlad" RABC) T3(t_smladx, "smladx" RABC) T3(t_smlsd, "smlsd" RABC) T3(t_smlsdx, "smlsdx" RABC)
T2(t_smuad, "smuad" RAB) T2(t_smuadx, "smuadx" RAB) T2(t_smusd, "smusd" RAB) T2(t_smusdx, "smusdx" RAB)
T3(t_smmla, "smmla" RABC) T3(t_smmlar, "smmlar" RABC) T3(t_smmls, "smmls" RABC) T3(t_smmlsr, "smmlsr" RABC)
T2(t_smmul, "smmul" RAB) T2(t_smmulr, "smmulr" RAB)
T3(t_usada8, "usada8" RABC) T2(t_usad8, "usad8" RAB)
TL(t_smlalbb, "smlalbb") TL(t_smlalbt, "smlalbt") TL(t_smlaltb, "smlaltb") TL(t_smlaltt, "smlaltt")
TL(t_smlald, "smlald") TL(t_smlaldx, "smlaldx") TL(t_smlsld, "smlsld") TL(t_smlsldx, "smlsldx")
TL(t_umaal, "umaal")
T1(t_ssat16_1, "ssat16 %[r], #1, %[a]") T1(t_ssat16_8, "ssat16 %[r], #8, %[a]")
T1(t_ssat16_16, "ssat16 %[r], #16, %[a]") T1(t_usat16_0, "usat16 %[r], #0, %[a]")
T1(t_usat16_8, "usat16 %[r], #8, %[a]") T1(t_usat16_15, "usat16 %[r], #15, %[a]")
T2(t_pkhbt, "pkhbt" RAB) T2(t_pkhbt5, "pkhbt" RAB ", lsl #5")
T2(t_pkhtb16, "pkhtb" RAB ", asr #16") T2(t_pkhtb32, "pkhtb" RAB ", asr #32")
T2(t_sxtab, "sxtab" RAB) T2(t_sxtah8, "sxtah" RAB ", ror #8") T2(t_sxtab16, "sxtab16" RAB)
T2(t_uxtab24, "uxtab" RAB ", ror #24") T2(t_uxtah, "uxtah" RAB) T2(t_uxtab16_16, "uxtab16" RAB ", ror #16")
T1(t_sxtb16, "sxtb16 %[r], %[a], ror #8") T1(t_uxtb16, "uxtb16 %[r], %[a]")

struct row {
    const char *name;
    void (*fn)(uint32_t, uint32_t, uint32_t, uint32_t);
    int acc; /* iterate over accumulators too */
};
#define R(n, acc) {#n, t_##n, acc}
#define RP(p) R(p##add16, 0), R(p##sub16, 0), R(p##asx, 0), R(p##sax, 0), R(p##add8, 0), R(p##sub8, 0)
static const struct row rows[] = {
    RP(s), RP(q), RP(sh), RP(u), RP(uq), RP(uh), R(sel, 0),
    R(qadd, 0), R(qsub, 0), R(qdadd, 0), R(qdsub, 0),
    R(smlabb, 1), R(smlabt, 1), R(smlatb, 1), R(smlatt, 1),
    R(smulbb, 0), R(smulbt, 0), R(smultb, 0), R(smultt, 0),
    R(smlawb, 1), R(smlawt, 1), R(smulwb, 0), R(smulwt, 0),
    R(smlad, 1), R(smladx, 1), R(smlsd, 1), R(smlsdx, 1),
    R(smuad, 0), R(smuadx, 0), R(smusd, 0), R(smusdx, 0),
    R(smmla, 1), R(smmlar, 1), R(smmls, 1), R(smmlsr, 1), R(smmul, 0), R(smmulr, 0),
    R(usada8, 1), R(usad8, 0),
    R(smlalbb, 1), R(smlalbt, 1), R(smlaltb, 1), R(smlaltt, 1),
    R(smlald, 1), R(smlaldx, 1), R(smlsld, 1), R(smlsldx, 1), R(umaal, 1),
    R(ssat16_1, 0), R(ssat16_8, 0), R(ssat16_16, 0), R(usat16_0, 0), R(usat16_8, 0), R(usat16_15, 0),
    R(pkhbt, 0), R(pkhbt5, 0), R(pkhtb16, 0), R(pkhtb32, 0),
    R(sxtab, 0), R(sxtah8, 0), R(sxtab16, 0), R(uxtab24, 0), R(uxtah, 0), R(uxtab16_16, 0),
    R(sxtb16, 0), R(uxtb16, 0),
};

static void table(void)
{
    for (unsigned k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        hash = 2166136261u;
        unsigned nacc = rows[k].acc ? sizeof ACC / sizeof ACC[0] : 1;
        for (unsigned i = 0; i < NV; i++)
            for (unsigned j = 0; j < NV; j++)
                for (unsigned c = 0; c < nacc; c++)
                    rows[k].fn(V[i], V[j], ACC[c], (i + j + c) & 0xF);
        sh_puts(rows[k].name);
        sh_puts(" ");
        sh_put_hex(hash);
        sh_puts("\n");
    }
}

int main(void)
{
    audio_mix();
    fir_q15();
    dot_products();
    bytes_and_ge();
    q_flag();
    ge_exception();
    table();
    return check_done("dsp");
}
