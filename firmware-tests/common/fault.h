/* Shared fault handling for the fault tests: every fault handler (HardFault, MemManage,
 * BusFault, UsageFault) records what it sees -- its exception number, EXC_RETURN, the stacked
 * frame (found from EXC_RETURN bit 2, so the faulting PC comes from the stack), CFSR, HFSR,
 * MMFAR, BFAR, SHCSR -- clears the status bits (write one to clear), and fixes up the stacked
 * PC so the interrupted code continues: at `fault_resume` if a test set it (then cleared), or
 * after the faulting instruction (16 or 32 bits, decoded from its first halfword). */
#ifndef FAULT_H
#define FAULT_H
#include "armv7m.h"
#include "check.h"

struct fault_record {
    uint32_t count, exc, exc_return, frame, pc, xpsr, lr, cfsr, hfsr, mmfar, bfar, shcsr;
};
static volatile struct fault_record fr;
static volatile uint32_t fault_resume;

/* A Thumb instruction is 32 bits if its first halfword's bits 15:11 are 0b11101/0b11110/0b11111. */
static inline uint32_t thumb_insn_size(uint32_t pc)
{
    uint32_t hw = *(const volatile uint16_t *)pc;
    return (hw >> 11) >= 0x1D ? 4 : 2;
}

void fault_record_and_fix(uint32_t *frame, uint32_t exc_return)
{
    fr.count++;
    fr.exc = get_ipsr();
    fr.exc_return = exc_return;
    fr.frame = (uint32_t)frame;
    fr.pc = frame[FRAME_PC];
    fr.xpsr = frame[FRAME_XPSR];
    fr.lr = frame[FRAME_LR];
    fr.cfsr = SCB_CFSR;
    fr.hfsr = SCB_HFSR;
    fr.mmfar = SCB_MMFAR;
    fr.bfar = SCB_BFAR;
    fr.shcsr = SCB_SHCSR;
    SCB_CFSR = fr.cfsr;
    SCB_HFSR = fr.hfsr;
    if (fault_resume) {
        frame[FRAME_PC] = fault_resume & ~1u;
        frame[FRAME_XPSR] |= XPSR_T;
        fault_resume = 0;
    } else {
        frame[FRAME_PC] = fr.pc + thumb_insn_size(fr.pc);
    }
}

EXC_HANDLER(HardFault_Handler, fault_record_and_fix)
EXC_HANDLER(MemManage_Handler, fault_record_and_fix)
EXC_HANDLER(BusFault_Handler, fault_record_and_fix)
EXC_HANDLER(UsageFault_Handler, fault_record_and_fix)

static inline void fault_reset(void)
{
    fr.count = fr.exc = fr.exc_return = fr.pc = fr.xpsr = fr.cfsr = fr.hfsr = 0;
    fr.mmfar = fr.bfar = 0;
}

/* Checks the last fault: one fault of exception `exc`, exact CFSR and HFSR, stacked PC. */
static inline void expect_fault(const char *what, uint32_t exc, uint32_t cfsr, uint32_t hfsr, uint32_t pc)
{
    sh_puts(what);
    sh_puts(":\n");
    expect_eq("  one fault", fr.count, 1);
    expect_eq("  exception number", fr.exc, exc);
    expect_eq("  cfsr", fr.cfsr, cfsr);
    expect_eq("  hfsr", fr.hfsr, hfsr);
    expect_eq("  stacked pc is the faulting instruction", fr.pc, pc & ~1u);
}
#endif
