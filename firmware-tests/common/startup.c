/* Minimal Cortex-M startup for the mps2-an385 memory map: vector table, .data copy, .bss
 * clear, main(), then exit through semihosting with main's return value. */
#include <stdint.h>
#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void Reset_Handler(void);

__attribute__((weak)) void initialise_monitor_handles(void) {}

static void Default_Handler(void)
{
    sh_puts("unexpected exception\n");
    sh_exit(99);
}

__attribute__((section(".vectors"), used)) const void *const vector_table[16] = {
    &_estack,        Reset_Handler,   Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0,
    0,               0,               0,               Default_Handler,
    Default_Handler, 0,               Default_Handler, Default_Handler,
};

#ifdef USE_NEWLIB
#include <stdlib.h>
#endif

void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata)
        *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;)
        *dst++ = 0;
#ifdef USE_NEWLIB
    initialise_monitor_handles();
    exit(main());
#else
    sh_exit((uint32_t)main());
#endif
}
