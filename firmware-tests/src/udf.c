/* Executes a permanently undefined instruction. The UsageFault is disabled, so it escalates
 * to HardFault, whose handler here is the usual vendor-startup `b .` loop: the emulator must
 * notice that nothing can ever get the core out of it and report the original fault
 * (UNDEFINSTR at the UDF, disassembled) instead of spinning until a timeout. */
#include "semihost.h"

void HardFault_Handler(void)
{
    for (;;) {
    }
}

int main(void)
{
    sh_puts("about to fault\n");
    __asm__ volatile("udf #0");
    sh_puts("FAIL: survived UDF\n");
    return 1;
}
