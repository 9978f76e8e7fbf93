/* Firmware for the GDB server tests (emulator/cli/tests/gdb.rs): IT blocks to step through,
 * a call chain for break/bt/finish, a global written and read for watch/rwatch/awatch,
 * SysTick interrupts for the PRIMASK/BASEPRI tests, a probe that records CONTROL and SP (for
 * writing CONTROL from the debugger), and an endless loop for interrupting. Not in the
 * firmware test manifest: the debugger drives it. `mode` (set from GDB once main runs)
 * selects the ending: 0 exits with status 0, 1 spins forever in spin(). */
#include <stdint.h>
#include "semihost.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SCB_SHPR3 (*(volatile uint32_t *)0xE000ED20u)

volatile uint32_t input = 5;
volatile uint32_t result;
volatile uint32_t wvar = 1;
volatile uint32_t rvalue;
volatile uint32_t counter;
volatile uint32_t ticks;
volatile uint32_t mode;
volatile uint32_t probe_control = 0xffffffffu, probe_sp;
uint32_t psp_stack[64] __attribute__((aligned(8)));

__attribute__((noipa)) uint32_t leaf(uint32_t x)
{
    return x * 3 + 1;
}

__attribute__((noipa)) uint32_t middle(uint32_t x)
{
    uint32_t r = leaf(x + 1);
    return r + 2;
}

/* Conditional code GCC turns into IT blocks, for stepping through them. */
__attribute__((noipa)) uint32_t itmix(uint32_t n)
{
    uint32_t a = 0;
    for (uint32_t i = 0; i < n * 8; i++) {
        if (i & 1)
            a += i;
        else
            a ^= i << 1;
        a = a > 100 ? a - 100 : a + 3;
    }
    return a;
}

__attribute__((noipa)) void watch_test(void)
{
    wvar = 2;
    rvalue = wvar;
    wvar = rvalue + 40;
}

__attribute__((noipa)) void checkpoint(uint32_t n)
{
    __asm__ volatile("" : : "r"(n) : "memory");
}

__attribute__((noipa)) void busy_wait(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++) {
    }
}

/* Records CONTROL and SP without touching the stack, then returns to the main stack (the
 * debugger may have switched to the process stack at its entry). */
__attribute__((naked, noipa)) void stack_probe(void)
{
    __asm__ volatile("mrs r0, control\n"
                     "ldr r1, =probe_control\n"
                     "str r0, [r1]\n"
                     "mov r0, sp\n"
                     "ldr r1, =probe_sp\n"
                     "str r0, [r1]\n"
                     "movs r0, #0\n"
                     "msr control, r0\n"
                     "isb\n"
                     "bx lr\n"
                     ".ltorg\n");
}

__attribute__((noipa, noreturn)) void spin(void)
{
    for (;;)
        counter++;
}

void SysTick_Handler(void)
{
    ticks++;
}

int main(void)
{
    result = itmix(input);
    sh_puts("gdb_target: start\n");
    result = middle(input);
    watch_test();

    SCB_SHPR3 = (SCB_SHPR3 & 0x00ffffffu) | (0x80u << 24); /* SysTick priority 0x80 */
    SYST_RVR = 999;
    SYST_CVR = 0;
    SYST_CSR = 7; /* processor clock, interrupt, enable */
    busy_wait(2000);
    checkpoint(1);
    busy_wait(2000);
    checkpoint(2);
    busy_wait(2000);
    checkpoint(3);
    busy_wait(2000);
    checkpoint(4);
    SYST_CSR = 0;

    stack_probe();
    checkpoint(5);
    if (mode == 1)
        spin();
    sh_puts("gdb_target: done\n");
    return 0;
}
