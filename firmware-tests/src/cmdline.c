/* SYS_GET_CMDLINE: print the command line the host gave us. */
#include "semihost.h"

int main(void)
{
    static char buf[256];
    uint32_t block[2] = {(uint32_t)buf, sizeof buf};
    if (semihost(SYS_GET_CMDLINE, block) != 0) {
        sh_puts("FAIL: SYS_GET_CMDLINE failed\n");
        return 1;
    }
    /* Skip the program name (it differs between hosts); print the arguments. */
    const char *p = buf;
    while (*p && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    sh_puts("args: [");
    sh_puts(p);
    sh_puts("]\n");
    /* A too-small buffer must be refused. */
    uint32_t small[2] = {(uint32_t)buf, 2};
    if (semihost(SYS_GET_CMDLINE, small) != 0xffffffffu) {
        sh_puts("FAIL: short buffer accepted\n");
        return 1;
    }
    sh_puts("PASS cmdline\n");
    return 0;
}
