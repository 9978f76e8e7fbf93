/* A core that waits inside a handler (B1.5.4, B1.5.19): it can only leave when an exception
 * whose priority beats the current execution priority is taken. The scenario is the first
 * command-line argument:
 *   systick  panic-halt: `b .` in the SysTick handler (priority 0x80); timer0 keeps
 *            interrupting at priority 0xC0, which cannot preempt            -> deadlock (123)
 *   irq      `b .` in timer0's handler (priority 0x40); SysTick (0x80) keeps running, timer1
 *            runs with its NVIC line disabled, timer0's own interrupt pends again -> 123
 *   wfi      `wfi` forever in the SysTick handler, timer0 at 0xC0 running   -> 123
 *   basepri  `wfi` forever in Thread mode with BASEPRI 0x40; SysTick (0x80) pends but is
 *            masked                                                         -> 123
 *   preempt  `b .` in timer0's handler (0xC0); SysTick (0x40) preempts it five times, then
 *            ends the run from its handler                                  -> exit 0
 *   wait     timer0's handler (0xC0) sleeps in WFI until SysTick (0x40) has ticked five times,
 *            then returns                                                   -> exit 0
 *   sevonpend WFE in the SysTick handler with SCR.SEVONPEND: timer0's interrupt, disabled in
 *            the NVIC, becoming pending is a wake-up event (B1.5.18)        -> exit 0
 * The deadlocks are armlet's (QEMU spins or sleeps forever); the other two run on QEMU. */
#include "armv7m.h"
#include "mps2_timers.h"
#include "semihost.h"

static char mode;
static volatile uint32_t ticks, timer_runs;

static void halt_here(void) { __asm__ volatile("b ." ::: "memory"); }

void SysTick_Handler(void)
{
    ticks++;
    if (mode == 's') {
        sh_puts("b . in SysTick\n");
        halt_here();
    }
    if (mode == 'w') {
        sh_puts("wfi in SysTick\n");
        for (;;)
            wfi();
    }
    if (mode == 'e') {
        SCB_SCR |= SCR_SEVONPEND;
        while (!nvic_is_pending(TIMER0_IRQ))
            __asm__ volatile("wfe" ::: "memory");
        sh_puts("WFE woken by a disabled interrupt becoming pending (SEVONPEND)\n");
        sh_exit(0);
    }
    if (mode == 'p' && ticks == 5) {
        sh_puts("SysTick preempted the spinning handler 5 times\n");
        sh_exit(0);
    }
}

void IRQ8_Handler(void) /* timer0 */
{
    TIMER_INTSTATUS(CMSDK_TIMER0) = 1;
    timer_runs++;
    if (mode == 'i') {
        sh_puts("b . in IRQ 8\n");
        halt_here();
    }
    if (mode == 'p' && timer_runs == 1) {
        sh_puts("b . in IRQ 8, SysTick can preempt\n");
        halt_here();
    }
    if (mode == 'a' && timer_runs == 1) {
        sh_puts("wfi in IRQ 8 until 5 ticks\n");
        while (ticks < 5)
            wfi();
        TIMER_CTRL(CMSDK_TIMER0) = 0;
    }
}

static void systick_start(uint32_t prio)
{
    SCB_SHPR(EXC_SYSTICK) = (uint8_t)prio;
    SYST_RVR = 25000 - 1; /* 1 ms at 25 MHz */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

static void timer_start(uint32_t base, uint32_t reload, int irq_enabled_in_nvic, unsigned irq,
                        uint32_t prio)
{
    TIMER_RELOAD(base) = reload;
    TIMER_VALUE(base) = reload;
    TIMER_CTRL(base) = TIMER_CTRL_EN | TIMER_CTRL_IRQEN;
    NVIC_IPR(irq) = (uint8_t)prio;
    if (irq_enabled_in_nvic)
        nvic_enable(irq);
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
    /* "wait" and "wfi" share a first letter. */
    mode = (p[0] == 'w' && p[1] == 'a') ? 'a' : (p[0] == 's' && p[1] == 'e') ? 'e' : p[0];
    switch (mode) {
    case 's':
    case 'w':
        timer_start(CMSDK_TIMER0, 20000, 1, TIMER0_IRQ, 0xC0);
        systick_start(0x80);
        break;
    case 'i':
        timer_start(CMSDK_TIMER1, 7000, 0, TIMER1_IRQ, 0x00);
        systick_start(0x80);
        timer_start(CMSDK_TIMER0, 30000, 1, TIMER0_IRQ, 0x40);
        break;
    case 'b':
        systick_start(0x80);
        set_basepri(0x40);
        sh_puts("wfi with BASEPRI 0x40\n");
        for (;;)
            wfi();
    case 'e':
        timer_start(CMSDK_TIMER0, 50000, 0, TIMER0_IRQ, 0xC0);
        systick_start(0x80);
        break;
    case 'p':
    case 'a':
        timer_start(CMSDK_TIMER0, 10000, 1, TIMER0_IRQ, 0xC0);
        systick_start(0x40);
        break;
    default:
        sh_puts("usage: handler_spin systick|irq|wfi|basepri|preempt|wait|sevonpend\n");
        return 2;
    }
    while (mode != 'a' || ticks < 5 || timer_runs == 0)
        wfi();
    sh_puts("the handler returned after 5 ticks\n");
    return 0;
}
