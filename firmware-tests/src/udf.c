/* Executes a permanently undefined instruction: the emulator must report a UsageFault. */
#include "semihost.h"

int main(void)
{
    sh_puts("about to fault\n");
    __asm__ volatile("udf #0");
    sh_puts("FAIL: survived UDF\n");
    return 1;
}
