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

/* Verbose variants for the system tests: every check prints one line, "what: ok" or
 * "what: FAIL got ..., want ...", so the expected output lists what was checked. */
static inline void expect_eq(const char *what, uint32_t got, uint32_t want)
{
    checks_run++;
    sh_puts(what);
    if (got == want) {
        sh_puts(": ok\n");
        return;
    }
    checks_failed++;
    sh_puts(": FAIL got ");
    sh_put_hex(got);
    sh_puts(", want ");
    sh_put_hex(want);
    sh_puts("\n");
}

static inline void expect(const char *what, int cond)
{
    checks_run++;
    sh_puts(what);
    if (cond) {
        sh_puts(": ok\n");
        return;
    }
    checks_failed++;
    sh_puts(": FAIL\n");
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
