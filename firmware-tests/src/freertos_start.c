/* What FreeRTOS's ARM_CM3 port (portable/GCC/ARM_CM3/port.c, V10.4 to V11) does at start-up,
 * with the configuration of the official CORTEX_MPS2_QEMU_IAR_GCC demo:
 * configKERNEL_INTERRUPT_PRIORITY 255 and configMAX_SYSCALL_INTERRUPT_PRIORITY 4 ("all eight
 * bits as QEMU doesn't model the priority bits").
 *
 * xPortStartScheduler: configASSERT(configMAX_SYSCALL_INTERRUPT_PRIORITY); write 0xFF to the
 * first user priority register (IRQ 0) and read back the implemented bits; ucMaxSysCallPriority
 * = 4 & readback, then (V10.5+) configASSERT(ucMaxSysCallPriority) and (V11)
 * configASSERT((4 & ~readback) == 0); derive the largest PRIGROUP from the number of bits;
 * restore IRQ 0's priority; PendSV and SysTick to priority 255 (SHPR3), SHPR2 = 0 (V11);
 * SysTick at 1 kHz on the core clock; start the first task through SVC 0 (prvPortStartFirstTask:
 * MSP reset from the vector table, cpsie i/f, svc 0; vPortSVCHandler: restore r4-r11 from the
 * task's stack, PSP, BASEPRI 0, EXC_RETURN | 0xd). Then two tasks are time-sliced by the tick
 * (xPortSysTickHandler raises BASEPRI to 4 and pends PendSV; xPortPendSVHandler saves r4-r11,
 * switches with BASEPRI 4 and restores), a critical section (BASEPRI 4) holds off a pended
 * SysTick, and an interrupt at priority 5 passes vPortValidateInterruptPriority's checks.
 *
 * On a board with QEMU's 8 bits (armlet's built-in mps2-an385, qemu-system-arm) everything
 * passes. With silicon's 3 bits (firmware-tests/machines/prio3.toml) 0xFF reads back 0xE0,
 * 4 & 0xE0 = 0 and FreeRTOS stops on configASSERT(ucMaxSysCallPriority): here the assertion
 * prints itself and exits with status 1 instead of spinning as the demo's vAssertCalled does. */
#include "armv7m.h"
#include "check.h"

#define configKERNEL_INTERRUPT_PRIORITY 255
#define configMAX_SYSCALL_INTERRUPT_PRIORITY 4
#define configCPU_CLOCK_HZ 25000000u
#define configTICK_RATE_HZ 1000u

#define configASSERT(x)                                                                    \
    do {                                                                                   \
        if ((x) == 0)                                                                      \
            assert_failed(#x);                                                             \
    } while (0)

static void assert_failed(const char *expr)
{
    sh_puts("configASSERT( ");
    sh_puts(expr);
    sh_puts(" ) failed in port.c\n");
    sh_exit(1);
}

/* port.c's constants. */
#define portNVIC_IP_REGISTERS_OFFSET_16 0xE000E3F0u
#define portFIRST_USER_INTERRUPT_NUMBER 16
#define portMAX_8_BIT_VALUE 0xffu
#define portTOP_BIT_OF_BYTE 0x80u
#define portMAX_PRIGROUP_BITS 7u
#define portPRIORITY_GROUP_MASK (0x07u << 8)
#define portPRIGROUP_SHIFT 8u
#define portNVIC_PENDSV_PRI (((uint32_t)configKERNEL_INTERRUPT_PRIORITY) << 16)
#define portNVIC_SYSTICK_PRI (((uint32_t)configKERNEL_INTERRUPT_PRIORITY) << 24)
#define portINITIAL_XPSR 0x01000000u
#define portSTART_ADDRESS_MASK 0xfffffffeu

static uint8_t ucMaxSysCallPriority;
static uint32_t ulMaxPRIGROUPValue;

/* ---- Tasks ---- */
typedef struct {
    volatile uint32_t *pxTopOfStack; /* first member, as in FreeRTOS's TCB */
    const char *name;
} TCB_t;

#define STACK_WORDS 256
static uint32_t stack_a[STACK_WORDS] __attribute__((aligned(8)));
static uint32_t stack_b[STACK_WORDS] __attribute__((aligned(8)));
static TCB_t tcb_a = {0, "A"}, tcb_b = {0, "B"};
TCB_t *volatile pxCurrentTCB;

static volatile uint32_t ticks, switches, runs_a, runs_b, irq_runs;

static void prvTaskExitError(void)
{
    sh_puts("FAIL: a task returned\n");
    sh_exit(2);
}

/* pxPortInitialiseStack: an exception frame, then r11-r4. */
static volatile uint32_t *init_stack(uint32_t *top, void (*code)(void *), void *param)
{
    volatile uint32_t *sp = top;
    *--sp = portINITIAL_XPSR;
    *--sp = ((uint32_t)code) & portSTART_ADDRESS_MASK;
    *--sp = (uint32_t)prvTaskExitError; /* lr */
    sp -= 5;                            /* r12, r3, r2, r1 */
    *sp = (uint32_t)param;              /* r0 */
    sp -= 8;                            /* r11-r4 */
    return sp;
}

void vTaskSwitchContext(void)
{
    switches++;
    pxCurrentTCB = pxCurrentTCB == &tcb_a ? &tcb_b : &tcb_a;
}

static inline void vPortRaiseBASEPRI(void) { set_basepri(configMAX_SYSCALL_INTERRUPT_PRIORITY); dsb(); isb(); }
static inline void vPortSetBASEPRI(uint32_t v) { set_basepri(v); }

void SysTick_Handler(void) /* xPortSysTickHandler */
{
    vPortRaiseBASEPRI();
    ticks++;
    SCB_ICSR = ICSR_PENDSVSET; /* time slicing: a switch at every tick */
    vPortSetBASEPRI(0);
}

/* vPortValidateInterruptPriority, from an interrupt at priority 5 that calls FromISR APIs. */
void IRQ7_Handler(void)
{
    uint32_t ulCurrentInterrupt = get_ipsr() & 0x1ff;
    uint8_t ucCurrentPriority = REG8(portNVIC_IP_REGISTERS_OFFSET_16 + ulCurrentInterrupt);
    configASSERT(ucCurrentPriority >= ucMaxSysCallPriority);
    configASSERT((SCB_AIRCR & portPRIORITY_GROUP_MASK) <= ulMaxPRIGROUPValue);
    irq_runs++;
}

__asm__(".text\n"
        ".thumb_func\n"
        ".global SVC_Handler\n" /* vPortSVCHandler */
        "SVC_Handler:\n"
        "  ldr r3, =pxCurrentTCB\n"
        "  ldr r1, [r3]\n"
        "  ldr r0, [r1]\n"
        "  ldmia r0!, {r4-r11}\n"
        "  msr psp, r0\n"
        "  isb\n"
        "  mov r0, #0\n"
        "  msr basepri, r0\n"
        "  orr r14, #0xd\n"
        "  bx r14\n"
        ".ltorg\n"
        ".thumb_func\n"
        ".global PendSV_Handler\n" /* xPortPendSVHandler */
        "PendSV_Handler:\n"
        "  mrs r0, psp\n"
        "  isb\n"
        "  ldr r3, =pxCurrentTCB\n"
        "  ldr r2, [r3]\n"
        "  stmdb r0!, {r4-r11}\n"
        "  str r0, [r2]\n"
        "  stmdb sp!, {r3, r14}\n"
        "  mov r0, #4\n" /* configMAX_SYSCALL_INTERRUPT_PRIORITY */
        "  msr basepri, r0\n"
        "  dsb\n"
        "  isb\n"
        "  bl vTaskSwitchContext\n"
        "  mov r0, #0\n"
        "  msr basepri, r0\n"
        "  ldmia sp!, {r3, r14}\n"
        "  ldr r1, [r3]\n"
        "  ldr r0, [r1]\n"
        "  ldmia r0!, {r4-r11}\n"
        "  msr psp, r0\n"
        "  isb\n"
        "  bx r14\n"
        ".ltorg\n");

static void finish(void)
{
    expect("both tasks ran, time-sliced by the tick", runs_a > 0 && runs_b > 0 && switches >= 4);
    expect_eq("the priority-5 interrupt ran", irq_runs, 1);
    sh_exit((uint32_t)check_done("freertos_start"));
}

static void task_a(void *param)
{
    expect_eq("task A runs on the PSP with its parameter", (uint32_t)param, 0xA);
    expect_eq("  in Thread mode", get_ipsr() & 0x1ff, 0);
    expect_eq("  BASEPRI 0 after vPortSVCHandler", get_basepri(), 0);

    /* vPortEnterCritical: BASEPRI = configMAX_SYSCALL_INTERRUPT_PRIORITY masks SysTick
     * (priority 255) and PendSV; they are taken when it is lowered again. */
    uint32_t t0 = ticks;
    vPortRaiseBASEPRI();
    expect_eq("  basepri reads 4", get_basepri(), configMAX_SYSCALL_INTERRUPT_PRIORITY);
    SCB_ICSR = ICSR_PENDSTSET;
    dsb();
    isb();
    expect("  critical section holds off a pended SysTick", ticks == t0);
    /* An interrupt above configMAX_SYSCALL_INTERRUPT_PRIORITY (priority 2) is not masked. */
    NVIC_IPR(6) = 2;
    nvic_enable(6);
    nvic_pend(6);
    dsb();
    isb();
    expect("  priority 2 preempts the critical section", !nvic_is_pending(6));
    vPortSetBASEPRI(0);
    dsb();
    isb();
    expect("  the SysTick is taken when BASEPRI drops", ticks != t0);

    /* An interrupt at priority 5 (below the syscall priority) may call FromISR APIs. */
    NVIC_IPR(7) = 5;
    nvic_enable(7);
    nvic_pend(7);
    dsb();
    isb();

    for (;;) {
        runs_a++;
        if (switches >= 20 && runs_b > 0)
            finish();
    }
}

void IRQ6_Handler(void) {}

static void task_b(void *param)
{
    (void)param;
    for (;;)
        runs_b++;
}

static void prvPortStartFirstTask(void)
{
    __asm__ volatile("  ldr r0, =0xE000ED08\n" /* VTOR */
                     "  ldr r0, [r0]\n"
                     "  ldr r0, [r0]\n"
                     "  msr msp, r0\n"
                     "  cpsie i\n"
                     "  cpsie f\n"
                     "  dsb\n"
                     "  isb\n"
                     "  svc 0\n"
                     "  nop\n"
                     ".ltorg\n" ::: "memory");
}

static void xPortStartScheduler(void)
{
    configASSERT(configMAX_SYSCALL_INTERRUPT_PRIORITY);

    volatile uint32_t ulOriginalPriority;
    volatile uint8_t *const pucFirstUserPriorityRegister =
        (volatile uint8_t *)(portNVIC_IP_REGISTERS_OFFSET_16 + portFIRST_USER_INTERRUPT_NUMBER);
    volatile uint8_t ucMaxPriorityValue;

    ulOriginalPriority = *pucFirstUserPriorityRegister;
    *pucFirstUserPriorityRegister = portMAX_8_BIT_VALUE;
    ucMaxPriorityValue = *pucFirstUserPriorityRegister;
    sh_puts("priority bits read back: ");
    sh_put_hex(ucMaxPriorityValue);
    sh_puts("\n");
    ucMaxSysCallPriority = configMAX_SYSCALL_INTERRUPT_PRIORITY & ucMaxPriorityValue;
    configASSERT(ucMaxSysCallPriority);                                              /* V10.5+ */
    configASSERT((configMAX_SYSCALL_INTERRUPT_PRIORITY & (~ucMaxPriorityValue)) == 0U); /* V11 */

    ulMaxPRIGROUPValue = portMAX_PRIGROUP_BITS;
    while ((ucMaxPriorityValue & portTOP_BIT_OF_BYTE) == portTOP_BIT_OF_BYTE) {
        ulMaxPRIGROUPValue--;
        ucMaxPriorityValue <<= (uint8_t)0x01;
    }
    sh_puts("priority bits: ");
    sh_put_dec(portMAX_PRIGROUP_BITS - ulMaxPRIGROUPValue);
    sh_puts("\n");
    ulMaxPRIGROUPValue <<= portPRIGROUP_SHIFT;
    ulMaxPRIGROUPValue &= portPRIORITY_GROUP_MASK;
    *pucFirstUserPriorityRegister = ulOriginalPriority;
    expect_eq("irq 0 priority restored", NVIC_IPR(0), 0);

    SCB_SHPR3 |= portNVIC_PENDSV_PRI;
    SCB_SHPR3 |= portNVIC_SYSTICK_PRI;
    SCB_SHPR2 = 0;
    expect_eq("pendsv and systick at priority 255", SCB_SHPR3, 0xFFFF0000u);

    /* vPortSetupTimerInterrupt */
    SYST_CSR = 0;
    SYST_CVR = 0;
    SYST_RVR = configCPU_CLOCK_HZ / configTICK_RATE_HZ - 1u;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;

    prvPortStartFirstTask();
    sh_puts("FAIL: prvPortStartFirstTask returned\n");
    sh_exit(3);
}

int main(void)
{
    tcb_a.pxTopOfStack = init_stack(stack_a + STACK_WORDS, task_a, (void *)0xA);
    tcb_b.pxTopOfStack = init_stack(stack_b + STACK_WORDS, task_b, (void *)0xB);
    pxCurrentTCB = &tcb_a;
    /* vTaskStartScheduler: portDISABLE_INTERRUPTS() raises BASEPRI until the first task. */
    vPortRaiseBASEPRI();
    xPortStartScheduler();
    return 3;
}
