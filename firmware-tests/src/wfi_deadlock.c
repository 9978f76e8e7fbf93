/* Prints one line, masks interrupts and sleeps with nothing that could ever wake the core:
 * the emulator must end the run with its "deadlock" report (exit 123), not spin forever. */
#include "semihost.h"

int main(void)
{
    sh_puts("going to sleep for good\n");
    __asm__ volatile("cpsid i\n\twfi" ::: "memory");
    sh_puts("FAIL: woke up\n");
    return 1;
}
