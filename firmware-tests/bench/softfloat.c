/* bench_softfloat: newlib's libm on a Cortex-M3 (no FPU: every float and double operation is
 * a libgcc soft-float call). Each iteration evaluates sinf, cosf, expf, logf, sqrtf, atan2f
 * and double log and cos on inputs from a generator, checks identities that hold to a few
 * ulps whatever the libm (sin^2 + cos^2 = 1, exp(log x) = x, sqrt(x)^2 = x, atan2 in range,
 * the double results against the float ones), and folds the exact bit patterns of every
 * result into a hash.
 *
 * The hash depends on newlib's exact algorithms, so it cannot be computed by the host's
 * libm: its known answer (expected_softfloat.h) is recorded from qemu-system-arm running this
 * ELF (`make bench-expected-softfloat`); the identities are the independent check that the
 * recorded answer is a right one. */
#include "bench.h"
#include "expected_softfloat.h"
#include <math.h>

#ifndef ITERS
#define ITERS 7000
#endif

static uint32_t fbits(float f)
{
    union {
        float f;
        uint32_t u;
    } v = {.f = f};
    return v.u;
}

static uint32_t dbits(double d)
{
    union {
        double d;
        uint64_t u;
    } v = {.d = d};
    return (uint32_t)v.u ^ (uint32_t)(v.u >> 32);
}

static uint32_t mix(uint32_t h, uint32_t v)
{
    h ^= v;
    h *= 0x01000193u; /* FNV-1a step over whole words */
    return h ^ h >> 15;
}

static uint32_t bad; /* identity checks that failed */

static void near(float got, float want, float tol)
{
    float d = got - want;
    if (d < 0)
        d = -d;
    if (!(d <= tol))
        bad++;
}

int main(void)
{
    uint32_t seed = 0x50f7f10a, h = 0x811c9dc5u;
    for (uint32_t i = 0; i < ITERS; i++) {
        /* x in [-8, 8), y in (0, 64] */
        float x = (float)(int32_t)(bench_lcg(&seed) >> 8) * (1.0f / (1 << 20)) - 8.0f;
        float y = (float)((bench_lcg(&seed) >> 8) + 1) * (1.0f / (1 << 18));
        float s = sinf(x), c = cosf(x);
        float e = expf(x), l = logf(y), r = sqrtf(y), a = atan2f(x, y - 32.0f);
        double dl = log((double)y * 3.0), dc = cos((double)x * 0.75);
        near(s * s + c * c, 1.0f, 1e-5f);
        near(logf(e), x, 2e-5f * 8);
        near(r * r, y, y * 4e-7f);
        near(expf(l), y, y * 4e-6f);
        if (!(a >= -3.1415930f && a <= 3.1415930f))
            bad++;
        near((float)dl, logf(y * 3.0f), 1e-5f * 8);
        near((float)dc, cosf(x * 0.75f), 1e-5f);
        h = mix(h, fbits(s));
        h = mix(h, fbits(c));
        h = mix(h, fbits(e));
        h = mix(h, fbits(l));
        h = mix(h, fbits(r));
        h = mix(h, fbits(a));
        h = mix(h, dbits(dl));
        h = mix(h, dbits(dc));
    }
    if (bad) {
        sh_puts("FAIL bench_softfloat: identity checks failed: ");
        sh_put_dec(bad);
        sh_puts("\n");
        return 1;
    }
    return bench_report("bench_softfloat", h, BENCH_SOFTFLOAT_EXPECTED);
}
