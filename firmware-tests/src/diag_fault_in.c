/* A fault inside an exception handler, with the vendor-startup `b .` HardFault handler: the
 * fault report must name the exception the core was handling when it faulted. The argument
 * picks where: "systick" (UDF in the SysTick handler), "irq0" (UDF in the handler of IRQ 0,
 * which mps2-an385 wires to uart0's rx output), "thread" (UDF in Thread mode), "nocp" (an FP
 * instruction on the FPU-less Cortex-M3: UsageFault NOCP). With machines/diag_plugin.toml and
 * the test plugin: "plugin-size" (a 16-bit read of the word-only region "ctrl" of the
 * `two-regions` device at 0x5000_5000: armlet refuses it), "plugin-refuse" (a read the
 * `faulty` device at 0x5000_4000 answers with a bus error), "plugin-irq" (UDF in the handler
 * of IRQ 26, which that device drives). */
#include "semihost.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR0 (*(volatile uint32_t *)0xE000E200u)

void HardFault_Handler(void)
{
    for (;;) {
    }
}

void SysTick_Handler(void) { __asm__ volatile("udf #1"); }
void IRQ0_Handler(void) { __asm__ volatile("udf #2"); }
void IRQ26_Handler(void) { __asm__ volatile("udf #4"); }

static int eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

int main(void)
{
    static char buf[128];
    uint32_t block[2] = {(uint32_t)buf, sizeof buf};
    if (semihost(SYS_GET_CMDLINE, block) != 0)
        return 1;
    const char *p = buf;
    while (*p && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    sh_puts("faulting in ");
    sh_puts(p);
    sh_puts("\n");
    if (eq(p, "systick")) {
        SYST_RVR = 100;
        SYST_CSR = 7; /* processor clock, interrupt, enable */
    } else if (eq(p, "irq0")) {
        NVIC_ISER0 = 1;
        NVIC_ISPR0 = 1;
    } else if (eq(p, "plugin-size")) {
        (void)*(volatile uint16_t *)0x50005000u;
    } else if (eq(p, "plugin-irq")) {
        NVIC_ISER0 = 1u << 26;
        *(volatile uint32_t *)0x50004008u = 1; /* faulty0 drives its IRQ output (line 26) */
    } else if (eq(p, "plugin-refuse")) {
        (void)*(volatile uint32_t *)0x50004004u;
    } else if (eq(p, "nocp")) {
        __asm__ volatile(".inst.w 0xee000a10"); /* vmov s0, r0 */
    } else {
        __asm__ volatile("udf #3");
    }
    for (volatile int i = 0; i < 100000; i++) {
    }
    sh_puts("FAIL: no fault\n");
    return 1;
}
