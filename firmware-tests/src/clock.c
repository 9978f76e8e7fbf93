/* The time operations answer and are monotonic. Values differ between emulators, so only
 * relations are checked. */
#include "check.h"

int main(void)
{
    uint32_t c0 = semihost(SYS_CLOCK, 0);
    uint32_t t0 = semihost(SYS_TIME, 0);
    uint32_t e0[2], e1[2];
    uint32_t elapsed_ok = semihost(SYS_ELAPSED, e0) == 0;
    for (volatile int i = 0; i < 200000; i++) {
    }
    uint32_t c1 = semihost(SYS_CLOCK, 0);
    uint32_t t1 = semihost(SYS_TIME, 0);
    semihost(SYS_ELAPSED, e1);
    uint32_t freq = semihost(SYS_TICKFREQ, 0);
    check_eq("clock callable", c0 != 0xffffffffu, 1);
    check_eq("clock monotonic", c1 >= c0, 1);
    check_eq("time after 2000", t0 >= 946684800u, 1);
    check_eq("time monotonic", t1 >= t0, 1);
    check_eq("elapsed callable", elapsed_ok, 1);
    uint64_t a = ((uint64_t)e0[1] << 32) | e0[0], b = ((uint64_t)e1[1] << 32) | e1[0];
    check_eq("elapsed advances", b > a, 1);
    check_eq("tickfreq positive", freq != 0 && freq != 0xffffffffu, 1);
    return check_done("clock");
}
