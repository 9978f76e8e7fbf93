/* Escalation to HardFault (ARMv7-M ARM B1.5.15, B3.2.16): a fault whose handler is disabled in
 * SHCSR, or that cannot preempt the current execution priority (PRIMASK set, or raised in a
 * handler of higher priority), is taken as HardFault (exception 3) with HFSR.FORCED and the
 * original fault's CFSR bit (and BFAR/MMFAR) set; an SVC that cannot be taken escalates the
 * same way, with the stacked PC after the SVC. The handler reads the stacked frame, clears
 * HFSR and CFSR and resumes after the faulting instruction. */
#include "fault.h"

#define UNMAPPED 0x30000000u

static uint8_t guarded[32] __attribute__((aligned(32)));

static void udf_at(uint32_t *at)
{
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: udf #1"
                     : "=&r"(*at)::"memory");
}

static uint32_t ldr_at(uint32_t addr, uint32_t *at)
{
    uint32_t v = 0x5555;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: ldr.w %1, [%2]"
                     : "=&r"(*at), "+&r"(v)
                     : "r"(addr)
                     : "memory");
    return v;
}

static volatile uint32_t irq_at;
void IRQ5_Handler(void)
{
    uint32_t at;
    udf_at(&at);
    irq_at = at;
}

static volatile uint32_t svc_runs;
void SVC_Handler(void) { svc_runs++; }

static void expect_hard(const char *what, uint32_t cfsr, uint32_t pc)
{
    expect_fault(what, EXC_HARDFAULT, cfsr, HFSR_FORCED, pc);
}

int main(void)
{
    uint32_t at;
    expect_eq("fault handlers disabled at reset", SCB_SHCSR & (SHCSR_USGFAULTENA | SHCSR_BUSFAULTENA | SHCSR_MEMFAULTENA), 0);

    fault_reset();
    udf_at(&at);
    expect_hard("udf, usagefault disabled", UFSR_UNDEFINSTR, at);
    expect_eq("  exc_return thread/msp", fr.exc_return, EXC_RETURN_THREAD_MSP);
    expect_eq("  hfsr cleared by writing ones", SCB_HFSR, 0);
    expect_eq("  cfsr cleared by writing ones", SCB_CFSR, 0);

    fault_reset();
    SCB_CCR |= CCR_DIV_0_TRP;
    uint32_t q = 0, zero = 0;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "isb\n\t" /* see sys_fault_usage.c: QEMU 7.2 workaround */
                     "1: udiv %1, %1, %2"
                     : "=&r"(at), "+&r"(q)
                     : "r"(zero)
                     : "memory");
    SCB_CCR &= ~CCR_DIV_0_TRP;
    expect_hard("udiv by 0, usagefault disabled", UFSR_DIVBYZERO, at);

    fault_reset();
    ldr_at(UNMAPPED + 8, &at);
    expect_hard("ldr from 0x30000008, busfault disabled", BFSR_PRECISERR | BFSR_BFARVALID, at);
    expect_eq("  bfar", fr.bfar, UNMAPPED + 8);

    /* MemManage disabled: an MPU region with no access. */
    MPU_RBAR = (uint32_t)guarded | MPU_RBAR_VALID | 0;
    MPU_RASR = MPU_RASR_XN | MPU_RASR_AP(0) | MPU_RASR_SIZE(5) | MPU_RASR_ENABLE;
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    dsb();
    isb();
    fault_reset();
    ldr_at((uint32_t)guarded + 4, &at);
    MPU_CTRL = 0;
    dsb();
    isb();
    expect_hard("ldr from a no-access mpu region, memmanage disabled", MMFSR_DACCVIOL | MMFSR_MMARVALID, at);
    expect_eq("  mmfar", fr.mmfar, (uint32_t)guarded + 4);

    /* Enabled, but masked by PRIMASK: escalates. */
    SCB_SHCSR |= SHCSR_USGFAULTENA | SHCSR_BUSFAULTENA | SHCSR_MEMFAULTENA;
    fault_reset();
    udf_at(&at);
    expect_fault("udf, usagefault enabled (control)", EXC_USAGEFAULT, UFSR_UNDEFINSTR, 0, at);
    fault_reset();
    cpsid_i();
    udf_at(&at);
    cpsie_i();
    expect_hard("udf with primask set", UFSR_UNDEFINSTR, at);
    fault_reset();
    cpsid_i();
    ldr_at(UNMAPPED, &at);
    cpsie_i();
    expect_hard("ldr from 0x30000000 with primask set", BFSR_PRECISERR | BFSR_BFARVALID, at);
    expect_eq("  bfar", fr.bfar, UNMAPPED);

    /* Raised in a handler whose priority is higher than UsageFault's. */
    SCB_SHPR(EXC_USAGEFAULT) = 0x80;
    NVIC_IPR(5) = 0x40;
    nvic_enable(5);
    fault_reset();
    nvic_pend(5);
    dsb();
    isb();
    expect_hard("udf in a higher-priority handler", UFSR_UNDEFINSTR, irq_at);
    expect_eq("  exc_return to handler mode", fr.exc_return, EXC_RETURN_HANDLER);
    expect_eq("  stacked ipsr is the interrupt's", fr.xpsr & 0x1FF, EXC_IRQ0 + 5);
    SCB_SHPR(EXC_USAGEFAULT) = 0;

    /* SVC with PRIMASK set cannot be taken: HardFault, stacked PC after the SVC. */
    fault_reset();
    uint32_t after;
    cpsid_i();
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "str %0, [%1]\n\t" /* the handler resumes there, not one further */
                     "svc #7\n\t"
                     "1:"
                     : "=&r"(after)
                     : "r"(&fault_resume)
                     : "memory");
    cpsie_i();
    sh_puts("svc with primask set:\n");
    expect_eq("  one fault", fr.count, 1);
    expect_eq("  exception number", fr.exc, EXC_HARDFAULT);
    expect_eq("  hfsr", fr.hfsr, HFSR_FORCED);
    expect_eq("  cfsr", fr.cfsr, 0);
    expect_eq("  stacked pc after the svc", fr.pc, after & ~1u);
    expect_eq("  svc handler not run", svc_runs, 0);
    return check_done("sys_fault_hard");
}
