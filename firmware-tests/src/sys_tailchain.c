/* Tail-chaining (ARMv7-M ARM B1.5.12): two interrupts of equal priority pended together run
 * back to back in exception-number order, the second entered with the same stacked frame and
 * the EXC_RETURN of the thread (0xFFFFFFF9 on MSP, 0xFFFFFFFD on PSP), not a handler return.
 * An equal-priority interrupt pended inside a handler also runs after it, with RETTOBASE 1;
 * a higher-priority one nests, with EXC_RETURN 0xFFFFFFF1 and its frame on the MSP. */
#include "armv7m.h"
#include "check.h"

enum { IRQ_X = 20, IRQ_Y = 21, IRQ_Z = 22 };

struct entry {
    uint32_t irq, exc_return, frame, pc, xpsr, rettobase;
};
static struct entry seen[8];
static volatile unsigned nseen;
static volatile uint32_t x_pends, x_msp;

static void record(uint32_t *frame, uint32_t exc_return)
{
    if (nseen < 8) {
        struct entry *e = &seen[nseen++];
        e->irq = get_ipsr() - EXC_IRQ0;
        e->exc_return = exc_return;
        e->frame = (uint32_t)frame;
        e->pc = frame[FRAME_PC];
        e->xpsr = frame[FRAME_XPSR];
        e->rettobase = (SCB_ICSR & ICSR_RETTOBASE) != 0;
    }
}

EXC_HANDLER(IRQ20_Handler, x_isr)
void x_isr(uint32_t *frame, uint32_t exc_return)
{
    record(frame, exc_return);
    if (x_pends) {
        x_msp = get_msp();
        nvic_pend(x_pends);
        dsb();
        isb();
    }
}

EXC_HANDLER(IRQ21_Handler, y_isr)
void y_isr(uint32_t *frame, uint32_t exc_return) { record(frame, exc_return); }

EXC_HANDLER(IRQ22_Handler, z_isr)
void z_isr(uint32_t *frame, uint32_t exc_return) { record(frame, exc_return); }

/* Pends X and Y with interrupts masked, unmasks, and returns the address after CPSIE. */
__attribute__((noinline)) static uint32_t pend_both_and_unmask(void)
{
    uint32_t after;
    cpsid_i();
    nvic_pend(IRQ_Y); /* pended first, but the higher exception number */
    nvic_pend(IRQ_X);
    __asm__ volatile("cpsie i\n\t"
                     "1: adr %0, 1b\n\t"
                     "isb"
                     : "=r"(after)::"memory");
    return after;
}

static uint32_t psp_stack[128] __attribute__((aligned(8)));
static volatile uint32_t psp_after;
static void psp_part(void) { psp_after = pend_both_and_unmask(); }

int main(void)
{
    SCB_CCR |= CCR_STKALIGN; /* 8-byte aligned frames (the Cortex-M3 reset value) */
    expect_eq("ccr.stkalign", SCB_CCR & CCR_STKALIGN, CCR_STKALIGN);
    nvic_enable(IRQ_X);
    nvic_enable(IRQ_Y);
    nvic_enable(IRQ_Z);
    NVIC_IPR(IRQ_X) = 0x80;
    NVIC_IPR(IRQ_Y) = 0x80;
    NVIC_IPR(IRQ_Z) = 0x40;

    /* 1: X and Y pended together from thread mode on the MSP. */
    nseen = 0;
    uint32_t after = pend_both_and_unmask();
    expect_eq("two handlers ran", nseen, 2);
    expect_eq("X (lower number) first", seen[0].irq, IRQ_X);
    expect_eq("then Y", seen[1].irq, IRQ_Y);
    expect_eq("X: exc_return thread/msp", seen[0].exc_return, EXC_RETURN_THREAD_MSP);
    expect_eq("Y: exc_return thread/msp (tail-chained)", seen[1].exc_return, EXC_RETURN_THREAD_MSP);
    expect("Y: same frame as X", seen[1].frame == seen[0].frame);
    expect_eq("stacked pc is the instruction after cpsie", seen[0].pc, after & ~1u);
    expect_eq("Y: same stacked pc", seen[1].pc, seen[0].pc);
    expect_eq("stacked xpsr: thumb, ipsr 0", seen[0].xpsr & (XPSR_T | 0x1FF), XPSR_T);
    expect_eq("Y: rettobase", seen[1].rettobase, 1);

    /* 2: the same on the process stack. */
    nseen = 0;
    call_on_psp(psp_part, &psp_stack[128]);
    after = psp_after;
    expect_eq("psp: two handlers ran", nseen, 2);
    expect_eq("psp: X first", seen[0].irq, IRQ_X);
    expect_eq("psp: X exc_return thread/psp", seen[0].exc_return, EXC_RETURN_THREAD_PSP);
    expect_eq("psp: Y exc_return thread/psp", seen[1].exc_return, EXC_RETURN_THREAD_PSP);
    expect("psp: frame on the process stack",
           seen[0].frame >= (uint32_t)psp_stack && seen[0].frame < (uint32_t)&psp_stack[128]);
    expect("psp: Y same frame", seen[1].frame == seen[0].frame);
    expect_eq("psp: stacked pc", seen[1].pc, after & ~1u);

    /* 3: X pends Y (equal priority): Y runs after X returns, chained to the thread. */
    nseen = 0;
    x_pends = IRQ_Y;
    nvic_pend(IRQ_X);
    dsb();
    isb();
    expect_eq("pended in handler: two ran", nseen, 2);
    expect_eq("pended in handler: Y second", seen[1].irq, IRQ_Y);
    expect_eq("pended in handler: Y exc_return thread", seen[1].exc_return, EXC_RETURN_THREAD_MSP);
    expect_eq("pended in handler: Y rettobase", seen[1].rettobase, 1);

    /* 4: X pends Z (higher priority): Z nests inside X. */
    nseen = 0;
    x_pends = IRQ_Z;
    nvic_pend(IRQ_X);
    dsb();
    isb();
    expect_eq("nested: two ran", nseen, 2);
    expect_eq("nested: Z second", seen[1].irq, IRQ_Z);
    expect_eq("nested: Z exc_return handler", seen[1].exc_return, EXC_RETURN_HANDLER);
    expect_eq("nested: Z rettobase 0", seen[1].rettobase, 0);
    expect_eq("nested: Z stacked ipsr is X's", seen[1].xpsr & 0x1FF, EXC_IRQ0 + IRQ_X);
    /* STKALIGN (reset 1): the frame is 8-byte aligned, xPSR bit 9 records a padding word. */
    expect_eq("nested: Z frame 32 bytes below X's sp, aligned", seen[1].frame, (x_msp - 32) & ~7u);
    expect_eq("nested: stacked xpsr bit 9 = padding", (seen[1].xpsr >> 9) & 1, (x_msp >> 2) & 1);
    return check_done("sys_tailchain");
}
