/* Priority masking (ARMv7-M ARM B1.4.3, B1.5.4 ExecutionPriority): BASEPRI masks interrupts of
 * equal or lower priority, rounded to the group priority by PRIGROUP; BASEPRI_MAX only raises
 * the masking; PRIMASK masks all configurable-priority exceptions but not NMI; FAULTMASK masks
 * everything but NMI and is cleared by any exception return other than from NMI. An interrupt
 * pended while masked is taken as soon as the mask is lowered: the instruction right after
 * the MSR/CPSIE already sees the handler's effect. */
#include "armv7m.h"
#include "check.h"

enum { IRQ_P = 3, IRQ_Q = 4 };

static volatile uint32_t p_runs, q_runs, nmi_runs, set_faultmask_in_q;

void IRQ3_Handler(void) { p_runs++; }
void IRQ4_Handler(void)
{
    q_runs++;
    if (set_faultmask_in_q)
        __asm__ volatile("cpsid f" ::: "memory");
}
void NMI_Handler(void) { nmi_runs++; }

/* MSR BASEPRI, v; then read p_runs in the very next instruction. */
static uint32_t msr_basepri_then_read(uint32_t v)
{
    uint32_t r;
    __asm__ volatile("msr basepri, %1\n\t"
                     "ldr %0, [%2]"
                     : "=&r"(r)
                     : "r"(v), "r"(&p_runs)
                     : "memory");
    return r;
}

static void pend(unsigned irq)
{
    nvic_pend(irq);
    dsb();
    isb();
}

int main(void)
{
    nvic_enable(IRQ_P);
    nvic_enable(IRQ_Q);
    NVIC_IPR(IRQ_P) = 0x80;
    NVIC_IPR(IRQ_Q) = 0x40;

    /* BASEPRI */
    set_basepri(0x80);
    expect_eq("basepri reads back", get_basepri(), 0x80);
    pend(IRQ_P);
    expect_eq("basepri 0x80 masks priority 0x80", p_runs, 0);
    expect_eq("masked interrupt stays pending", nvic_is_pending(IRQ_P), 1);
    pend(IRQ_Q);
    expect_eq("basepri 0x80 lets priority 0x40 through", q_runs, 1);
    uint32_t r = msr_basepri_then_read(0xA0);
    expect_eq("basepri 0xa0: taken before the next instruction", r, 1);
    expect_eq("no longer pending", nvic_is_pending(IRQ_P), 0);
    set_basepri(0x80);
    pend(IRQ_P);
    r = msr_basepri_then_read(0);
    expect_eq("basepri 0 (no masking): taken before the next instruction", r, 2);

    /* BASEPRI_MAX: only raises the masking (lower non-zero value), or sets it from 0. */
    set_basepri_max(0xA0);
    expect_eq("basepri_max from 0 sets", get_basepri(), 0xA0);
    set_basepri_max(0xC0);
    expect_eq("basepri_max with a lower priority: ignored", get_basepri(), 0xA0);
    set_basepri_max(0x60);
    expect_eq("basepri_max with a higher priority: raises", get_basepri(), 0x60);
    set_basepri_max(0);
    expect_eq("basepri_max 0: ignored", get_basepri(), 0x60);
    pend(IRQ_P);
    expect_eq("basepri 0x60 masks 0x80", p_runs, 2);
    set_basepri_max(0x40);
    r = msr_basepri_then_read(0);
    expect_eq("basepri cleared: taken", r, 3);

    /* BASEPRI is compared at group priority: with PRIGROUP 6 (group = bit 7) BASEPRI 0xC0
     * means group 0x80, which masks priority 0x80; with PRIGROUP 0 it does not. */
    SCB_AIRCR = AIRCR_VECTKEY | (6u << AIRCR_PRIGROUP_SHIFT);
    set_basepri(0xC0);
    pend(IRQ_P);
    expect_eq("prigroup 6: basepri 0xc0 masks 0x80", p_runs, 3);
    pend(IRQ_Q);
    expect_eq("prigroup 6: basepri 0xc0 lets 0x40 through", q_runs, 2);
    SCB_AIRCR = AIRCR_VECTKEY;
    dsb();
    isb();
    expect_eq("prigroup 0: basepri 0xc0 lets 0x80 through", p_runs, 4);
    set_basepri(0);

    /* PRIMASK */
    cpsid_i();
    pend(IRQ_Q);
    expect_eq("primask masks priority 0x40", q_runs, 2);
    SCB_ICSR = ICSR_NMIPENDSET;
    isb();
    expect_eq("primask does not mask nmi", nmi_runs, 1);
    __asm__ volatile("cpsie i\n\t"
                     "ldr %0, [%1]"
                     : "=r"(r)
                     : "r"(&q_runs)
                     : "memory");
    expect_eq("cpsie i: taken before the next instruction", r, 3);
    set_primask(1);
    pend(IRQ_Q);
    __asm__ volatile("msr primask, %1\n\t"
                     "ldr %0, [%2]"
                     : "=&r"(r)
                     : "r"(0), "r"(&q_runs)
                     : "memory");
    expect_eq("msr primask 0: taken before the next instruction", r, 4);

    /* FAULTMASK */
    __asm__ volatile("cpsid f" ::: "memory");
    expect_eq("faultmask set", get_faultmask(), 1);
    pend(IRQ_Q);
    expect_eq("faultmask masks priority 0x40", q_runs, 4);
    SCB_ICSR = ICSR_NMIPENDSET;
    isb();
    expect_eq("faultmask does not mask nmi", nmi_runs, 2);
    expect_eq("nmi return leaves faultmask set", get_faultmask(), 1);
    __asm__ volatile("cpsie f\n\t"
                     "ldr %0, [%1]"
                     : "=r"(r)
                     : "r"(&q_runs)
                     : "memory");
    expect_eq("cpsie f: taken before the next instruction", r, 5);
    set_faultmask_in_q = 1;
    pend(IRQ_Q);
    expect_eq("handler set faultmask", q_runs, 6);
    expect_eq("exception return cleared faultmask", get_faultmask(), 0);
    set_faultmask_in_q = 0;

    expect_eq("nothing pending at the end", NVIC_ISPR(0) & 0x18, 0);
    return check_done("sys_basepri");
}
