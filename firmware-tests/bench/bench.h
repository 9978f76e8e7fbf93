/* Shared by the benchmark firmware: report a result against its known answer.
 *
 * Every benchmark computes a 32-bit result whose value is known in advance (expected.h,
 * computed by the same code built natively for the host: `make bench-expected`). On the
 * target it prints "result 0x........" and "PASS bench_NAME" (or "FAIL ..."), and exits 0
 * only if the result is right. Built with -DHOST_BUILD it prints the line for expected.h. */
#ifndef BENCH_H
#define BENCH_H
#include <stdint.h>

#ifdef HOST_BUILD
#include <stdio.h>
#define BENCH_REPORT(name, MACRO, result) \
    (printf("#define %-24s 0x%08xu /* %s */\n", #MACRO, (unsigned)(result), name), 0)
#else
#include "semihost.h"
#include "expected.h"
#define BENCH_REPORT(name, MACRO, result) bench_report(name, result, MACRO)
static inline int bench_report(const char *name, uint32_t result, uint32_t want)
{
    sh_puts("result ");
    sh_put_hex(result);
    sh_puts("\n");
    if (result != want) {
        sh_puts("FAIL ");
        sh_puts(name);
        sh_puts(": want ");
        sh_put_hex(want);
        sh_puts("\n");
        return 1;
    }
    sh_puts("PASS ");
    sh_puts(name);
    sh_puts("\n");
    return 0;
}
#endif

/* A small, well-mixed pseudo-random generator (same sequence on host and target). */
static inline uint32_t bench_lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}
#endif
