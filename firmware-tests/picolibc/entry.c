/* Two ways in: the reset vector runs crt0 and main ("from the reset vector"), the ELF entry
 * point (linked with --entry=alt_entry) prints "from the ELF entry point" and exits 5,
 * through raw semihosting calls since crt0 has not run. QEMU's -device loader starts at the
 * entry point only with cpu-num=. */
#include <stdio.h>

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void alt_entry(void)
{
    static const unsigned exit_args[2] = {0x20026, 5}; /* ADP_Stopped_ApplicationExit, 5 */
    semihost(0x04, "from the ELF entry point\n"); /* SYS_WRITE0 */
    semihost(0x20, exit_args);                     /* SYS_EXIT_EXTENDED */
    for (;;) {
    }
}

int main(void)
{
    printf("from the reset vector\n");
    return 0;
}
