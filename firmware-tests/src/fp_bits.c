/* Floating-point results bit by bit: every FP data-processing instruction of the core on a
 * table of edge operands (signed zeros, denormals, the extremes, infinities, quiet and
 * signalling NaNs with payloads, values that round), under each FPSCR rounding mode and with
 * flush-to-zero + default NaN, printing each result's bits and the FPSCR flags it left (NZCV
 * and the cumulative exception bits). Nothing is checked here: the output is compared with
 * qemu-system-arm's on the same ELF (qemu-check.py and the expected file recorded from it).
 * Built for Cortex-M4F (FPv4-SP) and Cortex-M7 (FPv5, double precision). */
#include <stdint.h>
#include "semihost.h"

#if defined(__ARM_FP) && (__ARM_FP & 8)
#define FPV5 1
#endif

static const uint32_t S[16] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbfc00000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff,
    0xff800000, 0x7f800000, 0x7fc00001, 0xffa00002, 0x3eaaaaab, 0x4b000001, 0xcf000000, 0x3f7fffff,
};
/* control settings: RN, RP, RM, RZ, then FZ + DN (RN); AHP is set for the half conversions */
static const uint32_t CFG[5] = {0x00000000, 0x00400000, 0x00800000, 0x00c00000, 0x03000000};

static char line[4096];
static unsigned pos;

static void put(const char *s)
{
    while (*s && pos < sizeof line - 2)
        line[pos++] = *s++;
}
static void hex(uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        line[pos++] = "0123456789abcdef"[(v >> (4 * i)) & 15];
}
static void flush(void)
{
    line[pos++] = '\n';
    line[pos] = 0;
    sh_puts(line);
    pos = 0;
}

static inline void set_fpscr(uint32_t v) { __asm__ volatile("vmsr fpscr, %0" ::"r"(v) : "memory"); }
static inline uint32_t get_fpscr(void)
{
    uint32_t v;
    __asm__ volatile("vmrs %0, fpscr" : "=r"(v)::"memory");
    return v;
}
/* result and the FPSCR status it left: NZCV (31:28) and IDC/IXC/UFC/OFC/DZC/IOC */
static void res(uint32_t r, uint32_t fpscr)
{
    hex(r, 8);
    line[pos++] = ':';
    hex(((fpscr >> 28) << 8) | (fpscr & 0x9f), 3);
    line[pos++] = ' ';
}

#define BIN32(fn, insn)                                                                      \
    static uint32_t fn(uint32_t a, uint32_t b, uint32_t c)                                 \
    {                                                                                        \
        uint32_t r;                                                                          \
        __asm__ volatile("vmov s0, %1\n\tvmov s1, %2\n\tvmov s2, %3\n\t" insn                \
                         " s2, s0, s1\n\tvmov %0, s2"                                        \
                         : "=r"(r) : "r"(a), "r"(b), "r"(c) : "s0", "s1", "s2");             \
        return r;                                                                            \
    }
#define UN32(fn, insn)                                                                       \
    static uint32_t fn(uint32_t a, uint32_t b, uint32_t c)                                 \
    {                                                                                        \
        uint32_t r;                                                                          \
        (void)b;                                                                             \
        __asm__ volatile("vmov s0, %1\n\tvmov s1, %2\n\t" insn "\n\tvmov %0, s1"             \
                         : "=r"(r) : "r"(a), "r"(c) : "s0", "s1");                          \
        return r;                                                                            \
    }

BIN32(vadd32, "vadd.f32")
BIN32(vsub32, "vsub.f32")
BIN32(vmul32, "vmul.f32")
BIN32(vnmul32, "vnmul.f32")
BIN32(vdiv32, "vdiv.f32")
BIN32(vmla32, "vmla.f32")
BIN32(vmls32, "vmls.f32")
BIN32(vnmla32, "vnmla.f32")
BIN32(vnmls32, "vnmls.f32")
BIN32(vfma32, "vfma.f32")
BIN32(vfms32, "vfms.f32")
BIN32(vfnma32, "vfnma.f32")
BIN32(vfnms32, "vfnms.f32")
UN32(vcmp32, "vcmp.f32 s0, s1\n\tvmov.f32 s1, s0")
UN32(vcmpe32, "vcmpe.f32 s0, s1\n\tvmov.f32 s1, s0")
UN32(vcmpz32, "vcmpe.f32 s0, #0.0\n\tvmov.f32 s1, s0")
UN32(vsqrt32, "vsqrt.f32 s1, s0")
UN32(vabs32, "vabs.f32 s1, s0")
UN32(vneg32, "vneg.f32 s1, s0")
UN32(vcvts32, "vcvt.s32.f32 s1, s0")
UN32(vcvtrs32, "vcvtr.s32.f32 s1, s0")
UN32(vcvtu32, "vcvt.u32.f32 s1, s0")
UN32(vcvtru32, "vcvtr.u32.f32 s1, s0")
UN32(vcvtfs32, "vcvt.f32.s32 s1, s0")
UN32(vcvtfu32, "vcvt.f32.u32 s1, s0")
UN32(vcvtbh32, "vcvtb.f16.f32 s1, s0")
UN32(vcvtth32, "vcvtt.f16.f32 s1, s0")
UN32(vcvtbf32, "vcvtb.f32.f16 s1, s0")
UN32(vcvttf32, "vcvtt.f32.f16 s1, s0")
UN32(vfixs16, "vmov.f32 s1, s0\n\tvcvt.s16.f32 s1, s1, #8")
UN32(vfixu32, "vmov.f32 s1, s0\n\tvcvt.u32.f32 s1, s1, #4")
UN32(vfixs32, "vmov.f32 s1, s0\n\tvcvt.s32.f32 s1, s1, #31")
UN32(vflts16, "vmov.f32 s1, s0\n\tvcvt.f32.s16 s1, s1, #8")
UN32(vfltu32, "vmov.f32 s1, s0\n\tvcvt.f32.u32 s1, s1, #32")
UN32(vmovimm32, "vmov.f32 s1, #-0.1875")
#ifdef FPV5
BIN32(vmaxnm32, "vmaxnm.f32")
BIN32(vminnm32, "vminnm.f32")
UN32(vrinta32, "vrinta.f32 s1, s0")
UN32(vrintn32, "vrintn.f32 s1, s0")
UN32(vrintp32, "vrintp.f32 s1, s0")
UN32(vrintm32, "vrintm.f32 s1, s0")
UN32(vrintr32, "vrintr.f32 s1, s0")
UN32(vrintz32, "vrintz.f32 s1, s0")
UN32(vrintx32, "vrintx.f32 s1, s0")
UN32(vcvta32, "vcvta.s32.f32 s1, s0")
UN32(vcvtn32, "vcvtn.u32.f32 s1, s0")
UN32(vcvtp32, "vcvtp.s32.f32 s1, s0")
UN32(vcvtm32, "vcvtm.u32.f32 s1, s0")
#endif

typedef uint32_t (*op32)(uint32_t, uint32_t, uint32_t);
struct named { const char *name; op32 fn; };

static const struct named BINS[] = {
    {"vadd", vadd32}, {"vsub", vsub32}, {"vmul", vmul32}, {"vnmul", vnmul32}, {"vdiv", vdiv32},
    {"vmla", vmla32}, {"vmls", vmls32}, {"vnmla", vnmla32}, {"vnmls", vnmls32},
    {"vfma", vfma32}, {"vfms", vfms32}, {"vfnma", vfnma32}, {"vfnms", vfnms32},
    {"vcmp", vcmp32}, {"vcmpe", vcmpe32},
#ifdef FPV5
    {"vmaxnm", vmaxnm32}, {"vminnm", vminnm32},
#endif
};
static const struct named UNS[] = {
    {"vcmpz", vcmpz32}, {"vsqrt", vsqrt32}, {"vabs", vabs32}, {"vneg", vneg32},
    {"vcvt.s32", vcvts32}, {"vcvtr.s32", vcvtrs32}, {"vcvt.u32", vcvtu32}, {"vcvtr.u32", vcvtru32},
    {"vcvt.f32.s32", vcvtfs32}, {"vcvt.f32.u32", vcvtfu32}, {"vcvtb.f16", vcvtbh32},
    {"vcvtt.f16", vcvtth32}, {"vcvtb.f32", vcvtbf32}, {"vcvtt.f32", vcvttf32},
    {"vcvt.s16#8", vfixs16}, {"vcvt.u32#4", vfixu32}, {"vcvt.s32#31", vfixs32},
    {"vcvt.f32.s16#8", vflts16}, {"vcvt.f32.u32#32", vfltu32}, {"vmov#imm", vmovimm32},
#ifdef FPV5
    {"vrinta", vrinta32}, {"vrintn", vrintn32}, {"vrintp", vrintp32}, {"vrintm", vrintm32},
    {"vrintr", vrintr32}, {"vrintz", vrintz32}, {"vrintx", vrintx32},
    {"vcvta.s32", vcvta32}, {"vcvtn.u32", vcvtn32}, {"vcvtp.s32", vcvtp32}, {"vcvtm.u32", vcvtm32},
#endif
};

#ifdef FPV5
static const uint64_t D[12] = {
    0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff8000000000000ull,
    0x0000000000000001ull, 0x000fffffffffffffull, 0x7fefffffffffffffull, 0xfff0000000000000ull,
    0x7ff8000000000123ull, 0x7ff4000000000000ull, 0x3fd5555555555555ull, 0x41dfffffffc00001ull,
};
#define BIN64(fn, insn)                                                                      \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c)                                 \
    {                                                                                        \
        uint64_t r;                                                                          \
        __asm__ volatile("vmov d0, %Q1, %R1\n\tvmov d1, %Q2, %R2\n\tvmov d2, %Q3, %R3\n\t" insn \
                         " d2, d0, d1\n\tvmov %Q0, %R0, d2"                                  \
                         : "=r"(r) : "r"(a), "r"(b), "r"(c) : "d0", "d1", "d2");             \
        return r;                                                                            \
    }
#define UN64(fn, insn)                                                                       \
    static uint64_t fn(uint64_t a, uint64_t b, uint64_t c)                                 \
    {                                                                                        \
        uint64_t r;                                                                          \
        (void)b;                                                                             \
        __asm__ volatile("vmov d0, %Q1, %R1\n\tvmov d1, %Q2, %R2\n\t" insn "\n\tvmov %Q0, %R0, d1" \
                         : "=r"(r) : "r"(a), "r"(c) : "d0", "d1");                          \
        return r;                                                                            \
    }
BIN64(vadd64, "vadd.f64")
BIN64(vsub64, "vsub.f64")
BIN64(vmul64, "vmul.f64")
BIN64(vdiv64, "vdiv.f64")
BIN64(vmla64, "vmla.f64")
BIN64(vnmls64, "vnmls.f64")
BIN64(vfma64, "vfma.f64")
BIN64(vfnma64, "vfnma.f64")
BIN64(vmaxnm64, "vmaxnm.f64")
BIN64(vminnm64, "vminnm.f64")
BIN64(vselgt64, "vselgt.f64")
UN64(vcmpe64, "vcmpe.f64 d0, d1\n\tvmov.f64 d1, d0")
UN64(vsqrt64, "vsqrt.f64 d1, d0")
UN64(vneg64, "vneg.f64 d1, d0")
UN64(vcvtsd, "vcvt.f32.f64 s2, d0\n\tvmov.f64 d1, #1.0\n\tvmov.f32 s2, s2")
UN64(vcvtds, "vcvt.f64.f32 d1, s0")
UN64(vcvts64, "vcvt.s32.f64 s2, d0")
UN64(vcvtru64, "vcvtr.u32.f64 s2, d0")
UN64(vcvtfs64, "vcvt.f64.s32 d1, s0")
UN64(vcvtbh64, "vcvtb.f16.f64 s2, d0")
UN64(vcvttd64, "vcvtt.f64.f16 d1, s1")
UN64(vfix64, "vmov.f64 d1, d0\n\tvcvt.s32.f64 d1, d1, #16")
UN64(vflt64, "vmov.f64 d1, d0\n\tvcvt.f64.u16 d1, d1, #3")
UN64(vrinta64, "vrinta.f64 d1, d0")
UN64(vrintx64, "vrintx.f64 d1, d0")
UN64(vcvtm64, "vcvtm.s32.f64 s2, d0")
UN64(vmovimm64, "vmov.f64 d1, #31.0")
typedef uint64_t (*op64)(uint64_t, uint64_t, uint64_t);
struct named64 { const char *name; op64 fn; int bin; };
static const struct named64 OPS64[] = {
    {"vadd.f64", vadd64, 1}, {"vsub.f64", vsub64, 1}, {"vmul.f64", vmul64, 1}, {"vdiv.f64", vdiv64, 1},
    {"vmla.f64", vmla64, 1}, {"vnmls.f64", vnmls64, 1}, {"vfma.f64", vfma64, 1}, {"vfnma.f64", vfnma64, 1},
    {"vmaxnm.f64", vmaxnm64, 1}, {"vminnm.f64", vminnm64, 1}, {"vselgt.f64", vselgt64, 1},
    {"vcmpe.f64", vcmpe64, 1}, {"vsqrt.f64", vsqrt64, 0}, {"vneg.f64", vneg64, 0},
    {"vcvt.f32.f64", vcvtsd, 0}, {"vcvt.f64.f32", vcvtds, 0}, {"vcvt.s32.f64", vcvts64, 0},
    {"vcvtr.u32.f64", vcvtru64, 0}, {"vcvt.f64.s32", vcvtfs64, 0}, {"vcvtb.f16.f64", vcvtbh64, 0},
    {"vcvtt.f64.f16", vcvttd64, 0}, {"vcvt.s32.f64#16", vfix64, 0}, {"vcvt.f64.u16#3", vflt64, 0},
    {"vrinta.f64", vrinta64, 0}, {"vrintx.f64", vrintx64, 0}, {"vcvtm.s32.f64", vcvtm64, 0},
    {"vmov.f64#imm", vmovimm64, 0},
};
#endif

int main(void)
{
    for (unsigned k = 0; k < 5; k++) {
        uint32_t cfg = CFG[k];
        for (unsigned o = 0; o < sizeof BINS / sizeof BINS[0]; o++) {
            put(BINS[o].name);
            put(" ");
            hex(cfg >> 22, 2);
            put(":");
            flush();
            for (unsigned i = 0; i < 16; i++) {
                for (unsigned j = 0; j < 16; j++) {
                    set_fpscr(cfg);
                    uint32_t r = BINS[o].fn(S[i], S[j], S[(i * 5 + j * 3) & 15]);
                    res(r, get_fpscr());
                }
                flush();
            }
        }
        for (unsigned o = 0; o < sizeof UNS / sizeof UNS[0]; o++) {
            /* the half-precision conversions also with the alternative format */
            for (unsigned ahp = 0; ahp < 2; ahp++) {
                if (ahp && o >= 14) /* only vcvtb/vcvtt */
                    break;
                if (ahp && o < 10)
                    continue;
                uint32_t c = cfg | (ahp << 26);
                put(UNS[o].name);
                put(" ");
                hex(c >> 22, 2);
                put(":");
                for (unsigned i = 0; i < 16; i++) {
                    set_fpscr(c);
                    uint32_t r = UNS[o].fn(S[i], 0, 0x12345678u);
                    res(r, get_fpscr());
                }
                /* integer and half inputs for the conversions from integer/fixed/half */
                for (unsigned i = 0; i < 8; i++) {
                    static const uint32_t I[8] = {0, 1, 0xffffffffu, 0x7fffffffu, 0x80000000u,
                                                  0x00007c01u, 0xfc00fe00u, 0x0001fffeu};
                    set_fpscr(c);
                    uint32_t r = UNS[o].fn(I[i], 0, 0x12345678u);
                    res(r, get_fpscr());
                }
                flush();
            }
        }
#ifdef FPV5
        for (unsigned o = 0; o < sizeof OPS64 / sizeof OPS64[0]; o++) {
            put(OPS64[o].name);
            put(" ");
            hex(cfg >> 22, 2);
            put(":");
            flush();
            unsigned ni = 12, nj = OPS64[o].bin ? 12 : 1;
            for (unsigned i = 0; i < ni; i++) {
                for (unsigned j = 0; j < nj; j++) {
                    set_fpscr(cfg | 0x20000000u); /* C set: vselgt depends on the flags' Z, N, V */
                    __asm__ volatile("msr apsr_nzcvq, %0" ::"r"((i & 1) ? 0x40000000u : 0x80000000u));
                    uint64_t r = OPS64[o].fn(D[i], D[j], D[(i * 5 + j * 7) % 12]);
                    uint32_t f = get_fpscr();
                    hex((uint32_t)(r >> 32), 8);
                    res((uint32_t)r, f);
                }
                flush();
            }
        }
#endif
    }
    sh_puts("done\n");
    return 0;
}
