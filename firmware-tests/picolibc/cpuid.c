/* Prints the PARTNO field of the core's CPUID register (SCB, 0xE000ED00): which core the
 * -cpu option chose (C23 Cortex-M3, C24 Cortex-M4, C27 Cortex-M7; the revision fields differ
 * between QEMU's models and armlet's).
 * Linked for lm3s6965evb (256 KiB flash at 0, 64 KiB SRAM), where QEMU takes any M-profile
 * -cpu. */
#include <stdio.h>

int main(void)
{
    unsigned cpuid = *(volatile unsigned *)0xE000ED00u;
    printf("PARTNO %03x\n", (cpuid >> 4) & 0xfff);
    return 0;
}
