/* Firmware for the GDB fault-workflow tests (emulator/cli/tests/gdb.rs): a HardFault_Handler
 * written as an ordinary C function (a prologue that pushes registers and moves SP before
 * the first line GDB's `break HardFault_Handler` stops at), an SVC, a semihosting call, and
 * an interrupt made pending by a store, a data access to unmapped memory from a known function, with known values in r0-r3.
 * Built at -O0 and -O2 (gdb_fault_O0/O2), and with -DON_PSP (gdb_fault_psp: Thread mode on
 * the process stack, as under an RTOS). Not in tests.toml: the debugger drives it. */
#include <stdint.h>
#include "semihost.h"

#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR0 (*(volatile uint32_t *)0xE000E200u)

volatile uint32_t svc_count, irq_count;
volatile uint32_t fault_cfsr, fault_hfsr;
uint32_t psp_stack[256] __attribute__((aligned(8)));

/* Where a debugger puts its breakpoints. */
__attribute__((noipa)) void checkpoint(uint32_t n)
{
    __asm__ volatile("" : : "r"(n) : "memory");
}

__attribute__((noipa)) void note_fault(uint32_t *words, uint32_t n)
{
    __asm__ volatile("" : : "r"(words), "r"(n) : "memory");
}

/* Reads from an address where nothing is mapped on mps2-an385: a precise BusFault,
 * escalated to HardFault (BusFault is not enabled). r1 and r2 keep known values. */
__attribute__((noipa)) uint32_t faulting_load(uint32_t addr, uint32_t b, uint32_t c)
{
    uint32_t v;
    __asm__ volatile("ldr %0, [%1]\n" /* FAULT HERE */
                     : "=r"(v)
                     : "r"(addr), "r"(b), "r"(c)
                     : "memory");
    return v + b + c;
}

void SVC_Handler(void)
{
    svc_count++;
}

void IRQ0_Handler(void)
{
    irq_count++;
}

/* An ordinary C handler: locals, a call, a prologue. */
void HardFault_Handler(void)
{
    uint32_t words[4];
    words[0] = SCB_CFSR;
    words[1] = SCB_HFSR;
    words[2] = svc_count;
    words[3] = 0xfa017u;
    fault_cfsr = words[0];
    fault_hfsr = words[1];
    note_fault(words, 4);
    for (;;) {
    }
}

int main(void)
{
#ifdef ON_PSP
    __asm__ volatile("msr psp, %0\n"
                     "movs r0, #2\n"
                     "msr control, r0\n"
                     "isb\n"
                     :
                     : "r"(&psp_stack[256])
                     : "r0", "memory");
#endif
    checkpoint(1);
    __asm__ volatile("svc #7" ::: "memory");
    checkpoint(2);
    NVIC_ISER0 = 1;
    NVIC_ISPR0 = 1; /* IRQ0 becomes pending: taken here, or after a step with step-irq */
    sh_puts("gdb_fault: about to fault\n");
    checkpoint(3);
    faulting_load(0x30000000u, 0x22222222u, 0x33333333u);
    sh_puts("gdb_fault: not reached\n");
    return 1;
}
