/* NVIC priorities, preemption and PRIGROUP (ARMv7-M ARM B1.5.4, B3.4): interrupts pended from
 * inside handlers (through NVIC_ISPR and NVIC_STIR) preempt exactly when their group priority
 * is higher than the running one. The order of handler entries and exits is recorded and
 * checked with PRIGROUP 0 (all priority bits are group priority), PRIGROUP 7 (no group bits:
 * nothing preempts) and PRIGROUP 6 (bit 7 is the group, bits 6:0 the subpriority: equal
 * groups no longer preempt, and pending interrupts of one group are taken by subpriority,
 * then by exception number). IPSR, ICSR.VECTACTIVE, ICSR.RETTOBASE, ICSR.VECTPENDING and
 * ISRPENDING, and NVIC_IABR are checked inside handlers. */
#include "armv7m.h"
#include "check.h"

/* Unused interrupt lines on mps2-an385 (no device drives them). */
enum { IRQ_A = 24, IRQ_B = 25, IRQ_C = 26, IRQ_D = 27 };

static char log_buf[64];
static volatile unsigned log_len;
static volatile uint32_t bad_ipsr, bad_vectactive, rettobase_bits, rettobase_n;
static volatile uint32_t phase, vectpending_in_a, isrpending_in_a, active_in_c;

static void note(char who, char what)
{
    if (log_len < sizeof log_buf - 3) {
        if (log_len)
            log_buf[log_len++] = ' ';
        log_buf[log_len++] = who;
        log_buf[log_len++] = what;
    }
}

/* Records entry: that IPSR and VECTACTIVE name this interrupt, and the RETTOBASE bit. */
static void enter(char who, unsigned irq)
{
    note(who, '+');
    uint32_t icsr = SCB_ICSR;
    if (get_ipsr() != EXC_IRQ0 + irq)
        bad_ipsr++;
    if ((icsr & ICSR_VECTACTIVE_MASK) != EXC_IRQ0 + irq)
        bad_vectactive++;
    rettobase_bits = (rettobase_bits << 1) | ((icsr & ICSR_RETTOBASE) != 0);
    rettobase_n++;
}

static void pend_ispr(unsigned irq)
{
    nvic_pend(irq);
    dsb();
    isb();
}

static void pend_stir(unsigned irq)
{
    NVIC_STIR = irq;
    dsb();
    isb();
}

void IRQ24_Handler(void) /* A */
{
    enter('A', IRQ_A);
    if (phase == 1) {
        pend_stir(IRQ_B); /* higher priority: preempts at once */
        note('A', '.');
    } else if (phase == 2) {
        pend_ispr(IRQ_D); /* same group as A: waits */
        pend_stir(IRQ_B); /* same group as A: waits */
        note('A', '.');
        uint32_t icsr = SCB_ICSR;
        vectpending_in_a = (icsr & ICSR_VECTPENDING_MASK) >> ICSR_VECTPENDING_SHIFT;
        isrpending_in_a = (icsr & ICSR_ISRPENDING) != 0;
        pend_ispr(IRQ_C); /* group 0: preempts */
        note('A', '.');
    }
    note('A', '-');
}

void IRQ25_Handler(void) /* B */
{
    enter('B', IRQ_B);
    if (phase == 1) {
        pend_ispr(IRQ_C); /* higher still: preempts B */
        note('B', '.');
        pend_ispr(IRQ_D); /* same priority as B: must wait for B (and C) to finish */
        note('B', '.');
    }
    note('B', '-');
}

void IRQ26_Handler(void) /* C */
{
    enter('C', IRQ_C);
    if (phase == 1)
        active_in_c = nvic_is_active(IRQ_A) << 2 | nvic_is_active(IRQ_B) << 1 | nvic_is_active(IRQ_C);
    note('C', '-');
}

void IRQ27_Handler(void) /* D */
{
    enter('D', IRQ_D);
    note('D', '-');
}

static void reset_log(void)
{
    log_len = 0;
    rettobase_bits = rettobase_n = 0;
}

static void expect_log(const char *what, const char *want)
{
    log_buf[log_len] = 0;
    sh_puts("  order: ");
    sh_puts(log_buf);
    sh_puts("\n");
    const char *p = want, *q = log_buf;
    while (*p && *p == *q)
        p++, q++;
    expect(what, *p == 0 && *q == 0);
}

int main(void)
{
    for (unsigned i = IRQ_A; i <= IRQ_D; i++) {
        nvic_unpend(i);
        nvic_enable(i);
    }
    expect_eq("irqs enabled in iser", NVIC_ISER(0) & 0x0F000000u, 0x0F000000u);
    NVIC_IPR(IRQ_A) = 0xC0;
    NVIC_IPR(IRQ_B) = 0x80;
    NVIC_IPR(IRQ_C) = 0x40;
    NVIC_IPR(IRQ_D) = 0x80;
    expect_eq("ipr word 6 reads back", REG32(0xE000E400u + 24), 0x804080C0u);

    /* PRIGROUP 0: every implemented bit is group priority. */
    SCB_AIRCR = AIRCR_VECTKEY | (0u << AIRCR_PRIGROUP_SHIFT);
    expect_eq("prigroup 0", (SCB_AIRCR & AIRCR_PRIGROUP_MASK) >> AIRCR_PRIGROUP_SHIFT, 0);
    phase = 1;
    reset_log();
    pend_ispr(IRQ_A);
    expect_log("prigroup 0: nested preemption", "A+ B+ C+ C- B. B. B- D+ D- A. A-");
    /* RETTOBASE per entry (A B C D): only A has no other active exception under it. */
    expect_eq("rettobase at each entry", rettobase_bits, 0x8);
    expect_eq("entries", rettobase_n, 4);
    expect_eq("iabr in C: A, B and C active", active_in_c, 7);
    expect_eq("nothing active after", NVIC_IABR(0), 0);
    expect_eq("nothing pending after", NVIC_ISPR(0) & 0x0F000000u, 0);

    /* The same scenario with PRIGROUP 7: no group priority bits, so nothing preempts; pending
     * interrupts are taken one after the other by (sub)priority. */
    SCB_AIRCR = AIRCR_VECTKEY | (7u << AIRCR_PRIGROUP_SHIFT);
    expect_eq("prigroup 7", (SCB_AIRCR & AIRCR_PRIGROUP_MASK) >> AIRCR_PRIGROUP_SHIFT, 7);
    reset_log();
    pend_ispr(IRQ_A);
    expect_log("prigroup 7: no preemption", "A+ A. A- B+ B. B. B- C+ C- D+ D-");
    expect_eq("rettobase at each entry", rettobase_bits, 0xF);

    /* PRIGROUP 6: group = bit 7, subpriority = bits 6:0. A (0xC0), B (0x80) and D (0xA0)
     * share group 1; C (0x40) is group 0 and still preempts. Pending B and D are taken after
     * A returns, B first (lower subpriority) although D was pended first. */
    NVIC_IPR(IRQ_D) = 0xA0;
    SCB_AIRCR = AIRCR_VECTKEY | (6u << AIRCR_PRIGROUP_SHIFT);
    expect_eq("prigroup 6", (SCB_AIRCR & AIRCR_PRIGROUP_MASK) >> AIRCR_PRIGROUP_SHIFT, 6);
    phase = 2;
    reset_log();
    pend_ispr(IRQ_A);
    expect_log("prigroup 6: same group waits, by subpriority", "A+ A. C+ C- A. A- B+ B- D+ D-");
    expect_eq("vectpending in A is B", vectpending_in_a, EXC_IRQ0 + IRQ_B);
    expect_eq("isrpending in A", isrpending_in_a, 1);
    /* A C B D: C preempted A; B and D were tail-chained after A, with nothing else active. */
    expect_eq("rettobase at each entry", rettobase_bits, 0xB);

    /* Equal group and subpriority: the lower exception number goes first. */
    NVIC_IPR(IRQ_B) = 0x80;
    NVIC_IPR(IRQ_D) = 0x80;
    phase = 3;
    reset_log();
    cpsid_i();
    nvic_pend(IRQ_D);
    nvic_pend(IRQ_B);
    nvic_pend(IRQ_A);
    expect_eq("ispr shows three pending", NVIC_ISPR(0) & 0x0F000000u, 0x0B000000u);
    expect_eq("vectpending is B (highest priority)", (SCB_ICSR & ICSR_VECTPENDING_MASK) >> ICSR_VECTPENDING_SHIFT,
              EXC_IRQ0 + IRQ_B);
    cpsie_i();
    isb();
    expect_log("priority, then exception number", "B+ B- D+ D- A+ A-");

    expect_eq("ipsr 0 in thread mode", get_ipsr(), 0);
    SCB_AIRCR = AIRCR_VECTKEY; /* PRIGROUP back to 0 */
    return check_done("sys_priority");
}
