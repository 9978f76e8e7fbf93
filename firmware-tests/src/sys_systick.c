/* SysTick (ARMv7-M ARM B3.3) clocked by the processor clock: register semantics (24-bit
 * RVR, CVR write clears, COUNTFLAG set on wrap and cleared by reading CSR, counting down,
 * holding when disabled), ten interrupts at a 1 ms reload with IPSR/VECTACTIVE/SHCSR and
 * EXC_RETURN checked in the handler, and pending SysTick by software through ICSR. */
#include "armv7m.h"
#include "check.h"

static volatile uint32_t ticks, flag_seen, ipsr_ok, vectactive_ok, active_ok, lr_ok;

EXC_HANDLER(SysTick_Handler, systick_isr)
void systick_isr(uint32_t *frame, uint32_t exc_return)
{
    (void)frame;
    ticks++;
    if (SYST_CSR & SYST_CSR_COUNTFLAG) /* the wrap that raised this interrupt */
        flag_seen++;
    ipsr_ok += get_ipsr() == EXC_SYSTICK;
    vectactive_ok += (SCB_ICSR & ICSR_VECTACTIVE_MASK) == EXC_SYSTICK;
    active_ok += (SCB_SHCSR & SHCSR_SYSTICKACT) != 0;
    lr_ok += exc_return == EXC_RETURN_THREAD_MSP;
    if (ticks == 10)
        SYST_CSR = 0; /* stop in the handler, so exactly ten interrupts happen */
}

int main(void)
{
    expect_eq("csr enable/tickint clear at reset", SYST_CSR & 3, 0);
    SYST_RVR = 0xFFFFFFFFu;
    expect_eq("rvr is 24 bits", SYST_RVR, 0x00FFFFFFu);
    SYST_CVR = 12345;
    expect_eq("cvr write clears it", SYST_CVR, 0);

    /* Counting down from the reload value. */
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE;
    for (uint32_t i = 0; SYST_CVR == 0 && i < 1000000; i++) {
        /* the first clock edge after enabling loads the reload value */
    }
    uint32_t a = SYST_CVR;
    spin(1000);
    uint32_t b = SYST_CVR;
    expect("cvr within reload", a <= 0x00FFFFFFu && b <= 0x00FFFFFFu);
    expect("cvr counts down", b < a);
    expect_eq("countflag clear before a wrap", SYST_CSR & SYST_CSR_COUNTFLAG, 0);
    SYST_CSR = SYST_CSR_CLKSOURCE; /* disable */
    a = SYST_CVR;
    spin(1000);
    b = SYST_CVR;
    expect("cvr holds while disabled", a == b);

    /* COUNTFLAG: set when the counter wraps to 0, cleared by the read that returns it. */
    SYST_RVR = 24999; /* 1 ms at 25 MHz */
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE;
    uint32_t csr, n = 0;
    while (!((csr = SYST_CSR) & SYST_CSR_COUNTFLAG) && n < 10000000)
        n++;
    uint32_t csr2 = SYST_CSR;
    expect_eq("countflag set after a wrap", csr & SYST_CSR_COUNTFLAG, SYST_CSR_COUNTFLAG);
    expect_eq("countflag cleared by reading csr", csr2 & SYST_CSR_COUNTFLAG, 0);
    expect_eq("csr reads back", csr2 & 7, SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE);
    SYST_CSR = SYST_CSR_CLKSOURCE;
    SYST_CVR = 0;
    expect_eq("cvr write clears countflag", SYST_CSR & SYST_CSR_COUNTFLAG, 0);

    /* Ten interrupts. */
    SCB_SHPR(EXC_SYSTICK) = 0x80;
    expect_eq("systick priority in shpr3", SCB_SHPR3 >> 24, 0x80);
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
    while (ticks < 10)
        wfi();
    spin(30000); /* more than one period: no further interrupt */
    expect_eq("ten interrupts", ticks, 10);
    expect_eq("countflag set in each handler", flag_seen, 10);
    expect_eq("ipsr 15 in the handler", ipsr_ok, 10);
    expect_eq("icsr.vectactive 15 in the handler", vectactive_ok, 10);
    expect_eq("shcsr.systickact in the handler", active_ok, 10);
    expect_eq("exc_return thread/msp", lr_ok, 10);
    expect_eq("systickact clear after return", SCB_SHCSR & SHCSR_SYSTICKACT, 0);
    expect_eq("ipsr 0 back in thread mode", get_ipsr(), 0);

    /* Pend SysTick by software while masked: ICSR.PENDSTSET reads back, PENDSTCLR clears. */
    cpsid_i();
    SCB_ICSR = ICSR_PENDSTSET;
    expect_eq("pendstset reads pending", SCB_ICSR & ICSR_PENDSTSET, ICSR_PENDSTSET);
    expect_eq("vectpending 15", (SCB_ICSR & ICSR_VECTPENDING_MASK) >> ICSR_VECTPENDING_SHIFT, 15);
    SCB_ICSR = ICSR_PENDSTCLR;
    expect_eq("pendstclr clears it", SCB_ICSR & ICSR_PENDSTSET, 0);
    SCB_ICSR = ICSR_PENDSTSET;
    cpsie_i();
    isb();
    expect_eq("software-pended systick taken", ticks, 11);
    return check_done("sys_systick");
}
