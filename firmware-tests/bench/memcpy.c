/* bench_memcpy: block copies and fills, as firmware does them: newlib's memcpy/memset (the
 * Armv7-M assembly versions from libc.a) on buffers of varying size and alignment, plus plain
 * C byte and word loops. The checksum samples the buffers after each round and folds them
 * completely at the end. */
#include <string.h>
#include "bench.h"

#ifndef ROUNDS
#define ROUNDS 22000
#endif

#define BUF 4096
static uint8_t src[BUF + 64], dst[BUF + 64];
static uint32_t wsrc[512 + 64], wdst[512 + 64];

/* Plain loops, kept as loops (built with -fno-tree-loop-distribute-patterns). */
__attribute__((noinline)) static void copy_bytes(uint8_t *d, const uint8_t *s, uint32_t n)
{
    while (n--)
        *d++ = *s++;
}

__attribute__((noinline)) static void copy_words(uint32_t *d, const uint32_t *s, uint32_t n)
{
    for (; n >= 4; n -= 4, d += 4, s += 4) {
        uint32_t a = s[0], b = s[1], c = s[2], e = s[3];
        d[0] = a;
        d[1] = b;
        d[2] = c;
        d[3] = e;
    }
    while (n--)
        *d++ = *s++;
}

__attribute__((noinline)) static void set_words(uint32_t *d, uint32_t v, uint32_t n)
{
    while (n--)
        *d++ = v;
}

static uint32_t fold(const uint8_t *p, uint32_t n)
{
    uint32_t acc = 0;
    for (uint32_t i = 0; i + 4 <= n; i += 4)
        acc = (acc << 5 | acc >> 27) ^ ((uint32_t)p[i] | (uint32_t)p[i + 1] << 8 |
                                        (uint32_t)p[i + 2] << 16 | (uint32_t)p[i + 3] << 24);
    return acc;
}

uint32_t memcpy_run(uint32_t rounds)
{
    uint32_t seed = 0xc0ffee;
    for (int i = 0; i < BUF + 64; i++)
        src[i] = (uint8_t)(bench_lcg(&seed) >> 24);
    for (int i = 0; i < 512 + 64; i++)
        wsrc[i] = bench_lcg(&seed);
    uint32_t acc = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        uint32_t x = bench_lcg(&seed);
        uint32_t n = 32 + (x >> 20) % (BUF - 32); /* 32 .. 4095 bytes */
        uint32_t soff = x & 3, doff = (x >> 2) & 3;
        memcpy(dst + doff, src + soff, n);
        acc = acc * 31u + dst[doff + (x >> 8) % n] + dst[doff + n - 1];
        uint32_t m = n / 2, moff = (x >> 4) & 7;
        memset(dst + moff, (int)(r & 0xff), m);
        acc = acc * 31u + dst[moff + m - 1] + dst[moff + m];
        copy_words(wdst, wsrc + (r & 63), 256 + (r & 7));
        acc ^= wdst[(x >> 12) & 255];
        set_words(wdst + 256, x, 128);
        copy_bytes(dst + 1, src + (r & 15), 384);
        acc = acc * 31u + dst[1 + ((x >> 16) & 255)];
        src[(x >> 10) % BUF] ^= (uint8_t)r; /* the data changes from round to round */
    }
    return acc ^ fold(dst, BUF) ^ fold(src, BUF) ^ fold((const uint8_t *)wdst, sizeof wdst);
}

int main(void)
{
    return BENCH_REPORT("bench_memcpy", BENCH_MEMCPY_EXPECTED, memcpy_run(ROUNDS));
}
