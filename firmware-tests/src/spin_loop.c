/* Loops of several instructions that can never end (armlet's deadlock proof, exit 123/126)
 * and loops that must not be taken for one. The scenario is the first command-line argument:
 *   call     SysTick's handler (priority 0x80) spins in a gcc -O0 loop that calls a function
 *            each iteration (push, the same values stored to the stack, pop, return, branch:
 *            what Rust's -O0 panic-halt does); timer0 keeps interrupting at 0xC0, which
 *            cannot preempt                                                  -> deadlock (123)
 *   flag     `while (!flag);` in Thread mode; only timer0's interrupt sets the flag and its
 *            NVIC line is disabled (the timer itself runs)                   -> 123
 *   flagirq  the same with timer0's line enabled: the handler sets the flag  -> exit 0
 *   fault    a bus fault; HardFault_Handler is a -O0 `while (1) { nop }`     -> 126 (the fault)
 *   device   Thread mode polls a register of the stopped timer1 forever: a device access
 *            is never proven to repeat                                       -> runs to the limit
 * Not on QEMU: it spins or sleeps forever in the deadlocks. */
#include "armv7m.h"
#include "mps2_timers.h"
#include "semihost.h"

static char mode;
static volatile uint32_t flag;

__attribute__((noinline, optimize("O0"))) static void fence(void)
{
    volatile uint32_t x = 1;
    (void)x;
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline, optimize("O0"))) static void panic_halt(void)
{
    for (;;)
        fence();
}

__attribute__((optimize("O0"))) void HardFault_Handler(void)
{
    if (mode == 'f') {
        while (1) {
            __asm__ volatile("nop");
        }
    }
    sh_exit(3);
}

void SysTick_Handler(void)
{
    if (mode == 'c') {
        sh_puts("-O0 loop with a call in SysTick\n");
        panic_halt();
    }
}

void IRQ8_Handler(void) /* timer0 */
{
    TIMER_INTSTATUS(CMSDK_TIMER0) = 1;
    flag = 1;
}

static void timer0_start(int irq_enabled_in_nvic, uint32_t prio)
{
    TIMER_RELOAD(CMSDK_TIMER0) = 20000;
    TIMER_VALUE(CMSDK_TIMER0) = 20000;
    TIMER_CTRL(CMSDK_TIMER0) = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
    NVIC_IPR(TIMER0_IRQ) = (uint8_t)prio;
    if (irq_enabled_in_nvic)
        nvic_enable(TIMER0_IRQ);
}

int main(void)
{
    static char buf[512];
    uint32_t block[2] = {(uint32_t)buf, sizeof buf};
    if (semihost(SYS_GET_CMDLINE, block) != 0)
        return 2;
    const char *p = buf;
    while (*p && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    /* "flag" and "flagirq" and "fault" share a first letter. */
    mode = p[0] == 'f' ? (p[1] == 'a' ? 'f' : p[4] == 'i' ? 'i' : 'l') : p[0];
    switch (mode) {
    case 'c':
        timer0_start(1, 0xC0);
        SCB_SHPR(EXC_SYSTICK) = 0x80;
        SYST_RVR = 25000 - 1;
        SYST_CVR = 0;
        SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
        for (;;)
            wfi();
    case 'l':
    case 'i':
        timer0_start(mode == 'i', 0x40);
        sh_puts("while (!flag);\n");
        while (!flag)
            ;
        sh_puts("the interrupt set the flag\n");
        return 0;
    case 'f':
        sh_puts("bus fault, -O0 HardFault_Handler\n");
        (void)REG32(0xF0000000u);
        return 4;
    case 'd':
        sh_puts("polling timer1\n");
        while (!TIMER_INTSTATUS(CMSDK_TIMER1))
            ;
        return 5;
    default:
        sh_puts("usage: spin_loop call|flag|flagirq|fault|device\n");
        return 2;
    }
}
