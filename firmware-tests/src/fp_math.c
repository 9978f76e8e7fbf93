/* Floating point through newlib and libm on a hard-float build (FPv4-SP on Cortex-M4F, FPv5
 * double on Cortex-M7): printf of floats and doubles, sqrtf/sqrt, fmaf/fma (one rounding),
 * the elementary functions, float<->int<->double conversions and a small numeric kernel. Each
 * value is printed in decimal and as its bits; a few have known answers checked here (IEEE
 * results any correct FPU gives), the rest are compared with qemu-system-arm's output. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned failed;

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
static void showf(const char *what, float f)
{
    printf("%-14s %.9g %08lx\n", what, (double)f, (unsigned long)fbits(f));
}
static void showd(const char *what, double d)
{
    printf("%-14s %.17g %016llx\n", what, d, (unsigned long long)dbits(d));
}
static void known(const char *what, uint32_t got, uint32_t want)
{
    if (got != want) {
        failed++;
        printf("FAIL %s: %08lx, want %08lx\n", what, (unsigned long)got, (unsigned long)want);
    }
}

/* volatile inputs keep the compiler from folding the arithmetic at build time */
static volatile float va = 1.0f, vb = 3.0f, v2 = 2.0f, vt = 0.1f, vu = 0.2f, vbig = 16777216.0f;
static volatile double da = 1.0, db = 3.0, d2 = 2.0;

int main(void)
{
    float third = va / vb;
    showf("1/3", third);
    known("1/3", fbits(third), 0x3eaaaaab);
    float s2 = sqrtf(v2);
    showf("sqrtf(2)", s2);
    known("sqrtf(2)", fbits(s2), 0x3fb504f3);
    float sum = vt + vu;
    showf("0.1f+0.2f", sum);
    known("0.1f+0.2f", fbits(sum), 0x3e99999a);
    showf("2^24+1", vbig + va);
    known("2^24+1 (ties to even)", fbits(vbig + va), 0x4b800000);
    /* fused: (1+2^-12)^2 - 1 = 2^-11 + 2^-24 exactly with one rounding; rounding the product
     * first (a tie, to even) loses the 2^-24 */
    float e = 1.0f + 0x1p-12f * va;
    float fused = fmaf(e, e, -va);
    volatile float product = e * e; /* volatile: no contraction into a fused multiply-add */
    float unfused = product - va;
    showf("fmaf", fused);
    showf("mul+sub", unfused);
    known("fmaf exact", fbits(fused), 0x3a000400); /* 2^-11 + 2^-24 */
    known("mul then sub", fbits(unfused), 0x3a000000); /* 2^-11 */
    showf("expf(1)", expf(va));
    showf("logf(3)", logf(vb));
    showf("sinf(2)", sinf(v2));
    showf("cosf(2)", cosf(v2));
    showf("atan2f(1,3)", atan2f(va, vb));
    showf("powf(3,0.1)", powf(vb, vt));
    showf("floorf(-2.5)", floorf(-2.5f * va));
    showf("roundf(2.5)", roundf(2.5f * va));
    showf("fabsf(-0.1)", fabsf(-vt));
    showf("(float)INT_MAX", (float)(int32_t)(0x7fffffff * (int)va));
    printf("(int)-3.7f     %d\n", (int)(-3.7f * va));
    printf("(unsigned)3e9f %u\n", (unsigned)(3e9f * va));
    printf("%%f %%e %%g     %f %e %g\n", (double)third, (double)s2, (double)(vbig * vbig));
    printf("inf nan        %f %f\n", (double)(va / (vb - vb)), (double)((vb - vb) / (vb - vb)));

    double dthird = da / db;
    showd("1/3 (double)", dthird);
    showd("sqrt(2)", sqrt(d2));
    showd("fma", fma(1.0 + 0x1p-52 * da, 1.0 + 0x1p-52 * da, -da));
    showd("exp(1)", exp(da));
    showd("log(3)", log(db));
    showd("sin(2)", sin(d2));
    showd("(double)1/3f", (double)third);
    showf("(float)1/3d", (float)dthird);
    printf("%%.15f          %.15f\n", dthird);

    /* a small kernel: Horner polynomial and a dot product in float */
    float acc = 0.0f, x = 0.75f * va;
    for (int i = 0; i < 20; i++)
        acc = acc * x + (float)(i + 1) / 7.0f;
    showf("horner", acc);
    float dot = 0.0f;
    for (int i = 1; i <= 100; i++)
        dot += (1.0f / (float)i) * ((float)i * 0.01f * va);
    showf("dot", dot);

    printf(failed ? "FAIL fp_math\n" : "PASS fp_math\n");
    return failed != 0;
}
