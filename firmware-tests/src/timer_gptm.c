/* Stellaris general-purpose timer 0 on lm3s6965evb (LM3S6965 data sheet, GPTM): clocked
 * through RCGC1, 32-bit periodic mode (GPTMCFG 0, TAMR periodic), TAILR 1 ms at 50 MHz,
 * time-out interrupt (IMR.TATOIM) on NVIC line 19, cleared through ICR: five interrupts,
 * then disabled. RIS/MIS reflect the time-out with the interrupt masked. */
#include "check.h"
#include "uart.h"

#define GPTM0 0x40030000u
#define GPTM_CFG REG32(GPTM0 + 0x00)
#define GPTM_TAMR REG32(GPTM0 + 0x04)
#define GPTM_CTL REG32(GPTM0 + 0x0C)
#define GPTM_IMR REG32(GPTM0 + 0x18)
#define GPTM_RIS REG32(GPTM0 + 0x1C)
#define GPTM_MIS REG32(GPTM0 + 0x20)
#define GPTM_ICR REG32(GPTM0 + 0x24)
#define GPTM_TAILR REG32(GPTM0 + 0x28)
#define GPTM_TAMR_PERIODIC 0x2u
#define GPTM_CTL_TAEN (1u << 0)
#define GPTM_TATO (1u << 0)
#define GPTM0A_IRQ 19

static volatile uint32_t irqs, bad_ipsr;

void IRQ19_Handler(void)
{
    if (get_ipsr() != EXC_IRQ0 + GPTM0A_IRQ)
        bad_ipsr++;
    GPTM_ICR = GPTM_TATO;
    if (++irqs == 5)
        GPTM_CTL = 0;
}

int main(void)
{
    LM3S_SYSCTL_RCGC1 |= LM3S_RCGC1_TIMER0;
    (void)LM3S_SYSCTL_RCGC1;
    GPTM_CTL = 0;
    GPTM_CFG = 0; /* 32-bit */
    GPTM_TAMR = GPTM_TAMR_PERIODIC;
    GPTM_TAILR = 50000 - 1; /* 1 ms at 50 MHz */
    expect_eq("tailr reads back", GPTM_TAILR, 49999);

    /* Time-out with the interrupt masked: RIS set, MIS clear. */
    GPTM_IMR = 0;
    GPTM_CTL = GPTM_CTL_TAEN;
    for (uint32_t n = 0; !(GPTM_RIS & GPTM_TATO) && n < 10000000; n++) {
    }
    GPTM_CTL = 0;
    expect_eq("ris.tatoris set at time-out", GPTM_RIS & GPTM_TATO, GPTM_TATO);
    expect_eq("mis clear while masked", GPTM_MIS & GPTM_TATO, 0);
    GPTM_ICR = GPTM_TATO;
    expect_eq("icr clears ris", GPTM_RIS & GPTM_TATO, 0);

    nvic_enable(GPTM0A_IRQ);
    GPTM_IMR = GPTM_TATO;
    GPTM_CTL = GPTM_CTL_TAEN;
    while (irqs < 5)
        wfi();
    spin(100000); /* a while (two periods at one instruction per cycle): no further interrupt */
    expect_eq("five interrupts", irqs, 5);
    expect_eq("ipsr 35 in the handler", bad_ipsr, 0);
    nvic_disable(GPTM0A_IRQ);
    return check_done("timer_gptm");
}
