/* A fault inside the HardFault handler: the core locks up (ARMv7-M ARM B1.5.15). The
 * emulator must end the run with its lockup report (exit 126), not spin. */
#include "semihost.h"

void HardFault_Handler(void)
{
    sh_puts("in HardFault, faulting again\n");
    __asm__ volatile("udf #1");
}

int main(void)
{
    sh_puts("about to fault\n");
    __asm__ volatile("udf #0");
    sh_puts("FAIL: survived UDF\n");
    return 1;
}
