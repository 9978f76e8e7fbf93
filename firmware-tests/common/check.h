/* Tiny self-check helpers: each failed check prints one line; check_done() prints the verdict. */
#ifndef CHECK_H
#define CHECK_H
#include "semihost.h"

static unsigned checks_run, checks_failed;

static inline void check_eq(const char *what, uint32_t got, uint32_t want)
{
    checks_run++;
    if (got != want) {
        checks_failed++;
        sh_puts("FAIL ");
        sh_puts(what);
        sh_puts(": got ");
        sh_put_hex(got);
        sh_puts(", want ");
        sh_put_hex(want);
        sh_puts("\n");
    }
}

/* Prints "PASS name (N checks)" or "FAIL name (K of N checks failed)"; returns the exit code. */
static inline int check_done(const char *name)
{
    sh_puts(checks_failed ? "FAIL " : "PASS ");
    sh_puts(name);
    sh_puts(" (");
    if (checks_failed) {
        sh_put_dec(checks_failed);
        sh_puts(" of ");
    }
    sh_put_dec(checks_run);
    sh_puts(checks_failed ? " checks failed)\n" : " checks)\n");
    return checks_failed ? 1 : 0;
}
#endif
