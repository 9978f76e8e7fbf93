/* The guest's wall clock through newlib: time() and gettimeofday() (semihosting SYS_TIME).
 * Checks what libraries' own tests check (picolibc's: a date after 2020-09-13) and that the
 * clock advances with (virtual) time across a 1.5 s WFI sleep. With the argument `show` it
 * also prints the values (armlet runs them with a given --epoch / manifest `epoch`; on QEMU
 * they are the host's time, so the QEMU-checked entry does not pass `show`). */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "armv7m.h"
#include "semihost.h"

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    if (++ticks == 3)
        SYST_CSR = 0;
}

static int show(void)
{
    static char buf[256];
    uint32_t block[2] = {(uint32_t)buf, sizeof buf};
    if (semihost(SYS_GET_CMDLINE, block) != 0)
        return 0;
    return strstr(buf, " show") != 0;
}

int main(void)
{
    time_t t0 = time(NULL);
    struct timeval tv;
    int rc = gettimeofday(&tv, NULL);
    /* Sleep 1.5 s: three 0.5 s SysTick periods at 25 MHz. */
    SYST_RVR = 12499999;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (ticks < 3)
        wfi();
    time_t t1 = time(NULL);
    if (show()) {
        char date[40];
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", gmtime(&t0));
        printf("time: %lld (%s UTC)\n", (long long)t0, date);
        printf("gettimeofday: %d %lld.%06ld\n", rc, (long long)tv.tv_sec, (long)tv.tv_usec);
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", gmtime(&t1));
        printf("after 1.5 s: %lld (%s UTC)\n", (long long)t1, date);
    }
    int ok = 1;
    if (!(t0 > 1600000000)) { /* picolibc's test: after 2020-09-13T12:26:40Z */
        printf("FAIL: time() = %lld is not a plausible current date\n", (long long)t0);
        ok = 0;
    }
    if (rc != 0 || tv.tv_sec < t0 || tv.tv_sec > t0 + 1) {
        printf("FAIL: gettimeofday() = %d, %lld; time() = %lld\n", rc, (long long)tv.tv_sec,
               (long long)t0);
        ok = 0;
    }
    if (t1 - t0 < 1 || t1 - t0 > 2) {
        printf("FAIL: after 1.5 s the clock moved %lld s\n", (long long)(t1 - t0));
        ok = 0;
    }
    printf(ok ? "PASS time_libc\n" : "FAIL time_libc\n");
    return ok ? 0 : 1;
}
