/* Minimal Cortex-M startup (mps2-an385 and lm3s6965evb): vector table, .data copy, .bss
 * clear, main(), then exit through semihosting with main's return value. */
#include <stdint.h>
#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void Reset_Handler(void);

__attribute__((weak)) void initialise_monitor_handles(void) {}

/* Every exception has a weak handler a test can override by defining a function of the same
 * name (NMI_Handler ... SysTick_Handler, IRQ0_Handler ... IRQ63_Handler). The defaults report
 * the exception number (IPSR) and exit 99. */
void Default_Handler(void)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    sh_puts("unexpected exception ");
    sh_put_dec(ipsr & 0x1ff);
    sh_puts("\n");
    sh_exit(99);
}

#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")));
WEAK_HANDLER(NMI_Handler)
WEAK_HANDLER(HardFault_Handler)
WEAK_HANDLER(MemManage_Handler)
WEAK_HANDLER(BusFault_Handler)
WEAK_HANDLER(UsageFault_Handler)
WEAK_HANDLER(SVC_Handler)
WEAK_HANDLER(DebugMon_Handler)
WEAK_HANDLER(PendSV_Handler)
WEAK_HANDLER(SysTick_Handler)
WEAK_HANDLER(IRQ0_Handler) WEAK_HANDLER(IRQ1_Handler) WEAK_HANDLER(IRQ2_Handler) WEAK_HANDLER(IRQ3_Handler)
WEAK_HANDLER(IRQ4_Handler) WEAK_HANDLER(IRQ5_Handler) WEAK_HANDLER(IRQ6_Handler) WEAK_HANDLER(IRQ7_Handler)
WEAK_HANDLER(IRQ8_Handler) WEAK_HANDLER(IRQ9_Handler) WEAK_HANDLER(IRQ10_Handler) WEAK_HANDLER(IRQ11_Handler)
WEAK_HANDLER(IRQ12_Handler) WEAK_HANDLER(IRQ13_Handler) WEAK_HANDLER(IRQ14_Handler) WEAK_HANDLER(IRQ15_Handler)
WEAK_HANDLER(IRQ16_Handler) WEAK_HANDLER(IRQ17_Handler) WEAK_HANDLER(IRQ18_Handler) WEAK_HANDLER(IRQ19_Handler)
WEAK_HANDLER(IRQ20_Handler) WEAK_HANDLER(IRQ21_Handler) WEAK_HANDLER(IRQ22_Handler) WEAK_HANDLER(IRQ23_Handler)
WEAK_HANDLER(IRQ24_Handler) WEAK_HANDLER(IRQ25_Handler) WEAK_HANDLER(IRQ26_Handler) WEAK_HANDLER(IRQ27_Handler)
WEAK_HANDLER(IRQ28_Handler) WEAK_HANDLER(IRQ29_Handler) WEAK_HANDLER(IRQ30_Handler) WEAK_HANDLER(IRQ31_Handler)
WEAK_HANDLER(IRQ32_Handler) WEAK_HANDLER(IRQ33_Handler) WEAK_HANDLER(IRQ34_Handler) WEAK_HANDLER(IRQ35_Handler)
WEAK_HANDLER(IRQ36_Handler) WEAK_HANDLER(IRQ37_Handler) WEAK_HANDLER(IRQ38_Handler) WEAK_HANDLER(IRQ39_Handler)
WEAK_HANDLER(IRQ40_Handler) WEAK_HANDLER(IRQ41_Handler) WEAK_HANDLER(IRQ42_Handler) WEAK_HANDLER(IRQ43_Handler)
WEAK_HANDLER(IRQ44_Handler) WEAK_HANDLER(IRQ45_Handler) WEAK_HANDLER(IRQ46_Handler) WEAK_HANDLER(IRQ47_Handler)
WEAK_HANDLER(IRQ48_Handler) WEAK_HANDLER(IRQ49_Handler) WEAK_HANDLER(IRQ50_Handler) WEAK_HANDLER(IRQ51_Handler)
WEAK_HANDLER(IRQ52_Handler) WEAK_HANDLER(IRQ53_Handler) WEAK_HANDLER(IRQ54_Handler) WEAK_HANDLER(IRQ55_Handler)
WEAK_HANDLER(IRQ56_Handler) WEAK_HANDLER(IRQ57_Handler) WEAK_HANDLER(IRQ58_Handler) WEAK_HANDLER(IRQ59_Handler)
WEAK_HANDLER(IRQ60_Handler) WEAK_HANDLER(IRQ61_Handler) WEAK_HANDLER(IRQ62_Handler) WEAK_HANDLER(IRQ63_Handler)

/* 16 system entries and 64 external interrupts (lm3s6965evb has 64, the MPS2 boards 32). */
__attribute__((section(".vectors"), used)) const void *const vector_table[16 + 64] = {
    &_estack,          Reset_Handler,     NMI_Handler,       HardFault_Handler,
    MemManage_Handler, BusFault_Handler,  UsageFault_Handler, 0,
    0,                 0,                 0,                 SVC_Handler,
    DebugMon_Handler,  0,                 PendSV_Handler,    SysTick_Handler,
    IRQ0_Handler, IRQ1_Handler, IRQ2_Handler, IRQ3_Handler,
    IRQ4_Handler, IRQ5_Handler, IRQ6_Handler, IRQ7_Handler,
    IRQ8_Handler, IRQ9_Handler, IRQ10_Handler, IRQ11_Handler,
    IRQ12_Handler, IRQ13_Handler, IRQ14_Handler, IRQ15_Handler,
    IRQ16_Handler, IRQ17_Handler, IRQ18_Handler, IRQ19_Handler,
    IRQ20_Handler, IRQ21_Handler, IRQ22_Handler, IRQ23_Handler,
    IRQ24_Handler, IRQ25_Handler, IRQ26_Handler, IRQ27_Handler,
    IRQ28_Handler, IRQ29_Handler, IRQ30_Handler, IRQ31_Handler,
    IRQ32_Handler, IRQ33_Handler, IRQ34_Handler, IRQ35_Handler,
    IRQ36_Handler, IRQ37_Handler, IRQ38_Handler, IRQ39_Handler,
    IRQ40_Handler, IRQ41_Handler, IRQ42_Handler, IRQ43_Handler,
    IRQ44_Handler, IRQ45_Handler, IRQ46_Handler, IRQ47_Handler,
    IRQ48_Handler, IRQ49_Handler, IRQ50_Handler, IRQ51_Handler,
    IRQ52_Handler, IRQ53_Handler, IRQ54_Handler, IRQ55_Handler,
    IRQ56_Handler, IRQ57_Handler, IRQ58_Handler, IRQ59_Handler,
    IRQ60_Handler, IRQ61_Handler, IRQ62_Handler, IRQ63_Handler,
};

#ifdef USE_NEWLIB
#include <stdlib.h>
#endif

void Reset_Handler(void)
{
#if defined(__ARM_FP)
    /* Hard-float builds: full access to CP10/CP11 (CPACR, B3.2.20) before any FP code. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
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
