/* A two-thread round-robin scheduler switching context in PendSV on the process stack
 * (ARMv7-M ARM B1.4.1, B1.5.6-8): thread A runs on the PSP (CONTROL.SPSEL), thread B
 * starts from a hand-built exception frame (r0 = its argument, xPSR.T) below its saved
 * r4-r11. PendSV saves r4-r11 of the running thread below its hardware frame on the PSP,
 * switches stacks and returns with EXC_RETURN 0xFFFFFFFD. Phase 1: the threads yield to each
 * other five times each (strict interleaving, r4-r11 preserved across every switch). Phase
 * 2: SysTick (higher priority than PendSV) pends PendSV every 10 ms for ten slices while both
 * threads spin; both make progress and the switches alternate. */
#include "armv7m.h"
#include "check.h"

#define STACK_WORDS 256
static uint32_t stack_a[STACK_WORDS] __attribute__((aligned(8)));
static uint32_t stack_b[STACK_WORDS] __attribute__((aligned(8)));

/* Scheduler state, used by the PendSV handler below. */
uint32_t sched_current;   /* 0 = A, 1 = B */
uint32_t sched_sp[2];     /* saved PSP of the thread not running */
uint32_t sched_switches;
uint32_t sched_bad_lr;    /* PendSV entered with an EXC_RETURN other than 0xFFFFFFFD */

__asm__(".text\n"
        ".thumb_func\n"
        ".global PendSV_Handler\n"
        "PendSV_Handler:\n"
        "  ldr r3, =0xFFFFFFFD\n"
        "  cmp lr, r3\n"
        "  beq 1f\n"
        "  ldr r3, =sched_bad_lr\n"
        "  ldr r2, [r3]\n"
        "  adds r2, #1\n"
        "  str r2, [r3]\n"
        "1:\n"
        "  mrs r0, psp\n"
        "  stmdb r0!, {r4-r11}\n"
        "  ldr r1, =sched_current\n"
        "  ldr r2, [r1]\n"
        "  ldr r3, =sched_sp\n"
        "  str r0, [r3, r2, lsl #2]\n"
        "  eor r2, r2, #1\n"
        "  str r2, [r1]\n"
        "  ldr r0, [r3, r2, lsl #2]\n"
        "  ldmia r0!, {r4-r11}\n"
        "  msr psp, r0\n"
        "  ldr r1, =sched_switches\n"
        "  ldr r2, [r1]\n"
        "  adds r2, #1\n"
        "  str r2, [r1]\n"
        "  bx lr\n"
        ".ltorg\n");

static void yield(void)
{
    SCB_ICSR = ICSR_PENDSVSET;
    dsb();
    isb();
}

/* Loads r4-r11 with seed+4 .. seed+11, yields, and counts the registers that changed. */
static uint32_t yield_keeping_registers(uint32_t seed)
{
    uint32_t bad;
    __asm__ volatile("add r4, %[s], #4\n\t"
                     "add r5, %[s], #5\n\t"
                     "add r6, %[s], #6\n\t"
                     "add r7, %[s], #7\n\t"
                     "add r8, %[s], #8\n\t"
                     "add r9, %[s], #9\n\t"
                     "add r10, %[s], #10\n\t"
                     "add r11, %[s], #11\n\t"
                     "ldr r0, =0xE000ED04\n\t"
                     "mov r1, #0x10000000\n\t"
                     "str r1, [r0]\n\t"
                     "dsb\n\t"
                     "isb\n\t"
                     "movs %[bad], #0\n\t"
                     "sub r0, r4, %[s]\n\t cmp r0, #4\n\t it ne\n\t addne %[bad], #1\n\t"
                     "sub r0, r5, %[s]\n\t cmp r0, #5\n\t it ne\n\t addne %[bad], #1\n\t"
                     "sub r0, r6, %[s]\n\t cmp r0, #6\n\t it ne\n\t addne %[bad], #1\n\t"
                     "sub r0, r7, %[s]\n\t cmp r0, #7\n\t it ne\n\t addne %[bad], #1\n\t"
                     "sub r0, r8, %[s]\n\t cmp r0, #8\n\t it ne\n\t addne %[bad], #1\n\t"
                     "sub r0, r9, %[s]\n\t cmp r0, #9\n\t it ne\n\t addne %[bad], #1\n\t"
                     "sub r0, r10, %[s]\n\t cmp r0, #10\n\t it ne\n\t addne %[bad], #1\n\t"
                     "sub r0, r11, %[s]\n\t cmp r0, #11\n\t it ne\n\t addne %[bad], #1\n\t"
                     : [bad] "=&r"(bad)
                     : [s] "r"(seed)
                     : "r0", "r1", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
    return bad;
}

static char log_buf[64];
static volatile unsigned log_len;
static void note(char who, unsigned i)
{
    if (log_len < sizeof log_buf - 4) {
        if (log_len)
            log_buf[log_len++] = ' ';
        log_buf[log_len++] = who;
        log_buf[log_len++] = (char)('0' + i);
    }
}

static volatile uint32_t b_arg, b_control, b_sp_is_psp, regs_bad;
static volatile uint32_t stop, ticks;
static volatile uint32_t count[2];
static uint32_t slice_progress[2][12];

void SysTick_Handler(void)
{
    unsigned cur = sched_current;
    slice_progress[cur][ticks / 2] = count[cur];
    if (++ticks == 10) {
        SYST_CSR = 0;
        stop = 1;
    }
    SCB_ICSR = ICSR_PENDSVSET; /* switch when this handler returns (PendSV is lower) */
}

static void thread_b(uint32_t arg)
{
    b_arg = arg;
    b_control = get_control();
    uint32_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    b_sp_is_psp = sp == get_psp();
    for (unsigned i = 0; i < 5; i++) {
        note('B', i);
        regs_bad += yield_keeping_registers(0xB0000000u + (i << 8));
    }
    while (!stop)
        count[1]++;
    for (;;)
        yield();
}

static volatile uint32_t a_control, phase1_switches, phase2_switches, end_current;

static void thread_a(void)
{
    a_control = get_control();
    for (unsigned i = 0; i < 5; i++) {
        note('A', i);
        regs_bad += yield_keeping_registers(0xA0000000u + (i << 8));
    }
    phase1_switches = sched_switches;

    SYST_RVR = 249999; /* 10 ms at 25 MHz (long, so QEMU's real-time ticks do not bunch up) */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (!stop)
        count[0]++;
    phase2_switches = sched_switches - phase1_switches;
    end_current = sched_current;
}

int main(void)
{
    SCB_SHPR(EXC_PENDSV) = 0xE0; /* lowest */
    SCB_SHPR(EXC_SYSTICK) = 0x80;

    /* Thread B: r4-r11 (popped by PendSV) below a hardware frame. */
    uint32_t *sp = &stack_b[STACK_WORDS];
    *--sp = XPSR_T;                        /* xPSR */
    *--sp = (uint32_t)thread_b & ~1u;      /* PC */
    *--sp = 0xFFFFFFFFu;                   /* LR: thread_b never returns */
    *--sp = 0x12121212u;                   /* r12 */
    *--sp = 3;                             /* r3 */
    *--sp = 2;                             /* r2 */
    *--sp = 1;                             /* r1 */
    *--sp = 0xB0B0CAFEu;                   /* r0: the argument */
    for (int r = 11; r >= 4; r--)
        *--sp = 0x01010101u * (uint32_t)r; /* r11..r4 */
    sched_sp[1] = (uint32_t)sp;
    sched_current = 0;

    /* main runs thread A on the process stack. */
    call_on_psp(thread_a, &stack_a[STACK_WORDS]);

    log_buf[log_len] = 0;
    sh_puts("  order: ");
    sh_puts(log_buf);
    sh_puts("\n");
    const char *want = "A0 B0 A1 B1 A2 B2 A3 B3 A4 B4";
    unsigned k = 0;
    while (want[k] && want[k] == log_buf[k])
        k++;
    expect("cooperative: strict interleaving", want[k] == 0 && log_buf[k] == 0);
    expect_eq("thread A ran on the psp (control.spsel)", a_control, 2);
    expect_eq("thread B started with its argument in r0", b_arg, 0xB0B0CAFEu);
    expect_eq("thread B control.spsel", b_control, 2);
    expect_eq("thread B sp is the psp", b_sp_is_psp, 1);
    expect_eq("r4-r11 preserved across switches", regs_bad, 0);
    expect_eq("phase 1: ten switches", phase1_switches, 10);
    expect_eq("pendsv exc_return 0xfffffffd", sched_bad_lr, 0);
    expect_eq("phase 2: ten ticks", ticks, 10);
    expect_eq("phase 2: ten switches", phase2_switches, 10);
    expect_eq("phase 2: ends in thread A", end_current, 0);
    /* Slices alternate A, B, A, ...: each tick records the count of the thread it interrupted. */
    unsigned monotonic = 1;
    for (unsigned k = 1; k < 5; k++) {
        monotonic &= slice_progress[0][k] >= slice_progress[0][k - 1];
        monotonic &= slice_progress[1][k] >= slice_progress[1][k - 1];
    }
    expect("phase 2: both threads progress", monotonic && slice_progress[0][4] > 0 && slice_progress[1][4] > 0);
    expect_eq("back on the msp", get_control(), 0);
    return check_done("sys_pendsv");
}
