/* The DebugMonitor exception (ARMv7-M ARM C1.6, B1.5.2 exception 12) with no debugger
 * attached: DEMCR.MON_EN enables it; a BKPT then takes it with DFSR.BKPT set and the stacked
 * PC at the BKPT (the handler steps over it), SHCSR.MONITORACT while it runs; DEMCR.MON_PEND
 * pends it like any asynchronous exception (masked by BASEPRI below its priority, taken when
 * unmasked, MON_PEND reading back the pending state); its priority is SHPR3[7:0]; a BKPT
 * where the DebugMonitor cannot preempt escalates to HardFault with HFSR.DEBUGEVT.
 * DHCSR.C_DEBUGEN reads 0: no debugger halts the core. */
#include "armv7m.h"
#include "check.h"

#define DEMCR_MON_EN (1u << 16)
#define DEMCR_MON_PEND (1u << 17)
#define DFSR_BKPT (1u << 1)
#define SHCSR_MONITORACT (1u << 8)

static volatile uint32_t n_mon, mon_ipsr, mon_dfsr, mon_pc, mon_shcsr, mon_demcr, mon_exc_return;

void debugmon(uint32_t *frame, uint32_t exc_return)
{
    n_mon++;
    mon_ipsr = get_ipsr();
    mon_dfsr = SCB_DFSR;
    mon_shcsr = SCB_SHCSR;
    mon_demcr = DEMCR;
    mon_exc_return = exc_return;
    mon_pc = frame[FRAME_PC];
    SCB_DFSR = mon_dfsr; /* write one to clear */
    if (mon_dfsr & DFSR_BKPT)
        frame[FRAME_PC] += 2; /* step over the 16-bit BKPT */
}
EXC_HANDLER(DebugMon_Handler, debugmon)

static volatile uint32_t n_hf, hf_hfsr, hf_dfsr, hf_pc, svc_bkpt_at;
void hardfault(uint32_t *frame, uint32_t exc_return)
{
    (void)exc_return;
    n_hf++;
    hf_hfsr = SCB_HFSR;
    hf_dfsr = SCB_DFSR;
    hf_pc = frame[FRAME_PC];
    SCB_HFSR = hf_hfsr;
    SCB_DFSR = hf_dfsr;
    frame[FRAME_PC] += 2;
}
EXC_HANDLER(HardFault_Handler, hardfault)

/* A BKPT in the SVC handler (priority 0), where a DebugMonitor of priority 0x80 cannot
 * preempt. */
void SVC_Handler(void)
{
    uint32_t at;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: bkpt #9"
                     : "=r"(at)::"memory");
    svc_bkpt_at = at;
}

static void reset(void)
{
    n_mon = mon_ipsr = mon_dfsr = mon_pc = mon_shcsr = mon_demcr = mon_exc_return = 0;
}

int main(void)
{
    uint32_t at;
    expect_eq("dhcsr.c_debugen clear (no debugger)", DHCSR & 1u, 0);
    expect_eq("demcr at reset", DEMCR, 0);
    expect_eq("dfsr at reset", SCB_DFSR, 0);

    DEMCR = DEMCR_MON_EN;
    expect_eq("mon_en reads back", DEMCR, DEMCR_MON_EN);
    reset();
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: bkpt #7"
                     : "=r"(at)::"memory");
    sh_puts("bkpt with mon_en:\n");
    expect_eq("  one debugmonitor entry", n_mon, 1);
    expect_eq("  ipsr", mon_ipsr, EXC_DEBUGMON);
    expect_eq("  dfsr.bkpt", mon_dfsr, DFSR_BKPT);
    expect_eq("  stacked pc is the bkpt", mon_pc, at & ~1u);
    expect_eq("  monitoract", mon_shcsr & SHCSR_MONITORACT, SHCSR_MONITORACT);
    expect_eq("  exc_return", mon_exc_return, EXC_RETURN_THREAD_MSP);
    expect_eq("  dfsr cleared by writing one", SCB_DFSR, 0);
    expect_eq("  monitoract clear after return", SCB_SHCSR & SHCSR_MONITORACT, 0);

    reset();
    DEMCR = DEMCR_MON_EN | DEMCR_MON_PEND;
    isb();
    sh_puts("mon_pend:\n");
    expect_eq("  one debugmonitor entry", n_mon, 1);
    expect_eq("  ipsr", mon_ipsr, EXC_DEBUGMON);
    expect_eq("  dfsr unchanged (no debug event)", mon_dfsr, 0);
    expect_eq("  mon_pend clear in the handler", mon_demcr & DEMCR_MON_PEND, 0);
    expect_eq("  mon_pend clear after", DEMCR & DEMCR_MON_PEND, 0);

    /* Priority 0x80 (SHPR3 byte 0), masked by BASEPRI 0x80: stays pending. */
    reset();
    SCB_SHPR3 = (SCB_SHPR3 & ~0xFFu) | 0x80u;
    expect_eq("debugmonitor priority in shpr3", SCB_SHPR(EXC_DEBUGMON), 0x80);
    set_basepri(0x80);
    DEMCR = DEMCR_MON_EN | DEMCR_MON_PEND;
    isb();
    sh_puts("mon_pend masked by basepri:\n");
    expect_eq("  not taken", n_mon, 0);
    expect_eq("  mon_pend reads 1", DEMCR & DEMCR_MON_PEND, DEMCR_MON_PEND);
    expect_eq("  vectpending", (SCB_ICSR & ICSR_VECTPENDING_MASK) >> ICSR_VECTPENDING_SHIFT, EXC_DEBUGMON);
    set_basepri(0);
    isb();
    expect_eq("  taken when unmasked", n_mon, 1);
    expect_eq("  mon_pend clear", DEMCR & DEMCR_MON_PEND, 0);

    /* MON_PEND written 0 clears a pending DebugMonitor. */
    reset();
    set_basepri(0x80);
    DEMCR = DEMCR_MON_EN | DEMCR_MON_PEND;
    DEMCR = DEMCR_MON_EN;
    set_basepri(0);
    isb();
    expect_eq("mon_pend cleared before it could be taken", n_mon, 0);

    /* A BKPT where the DebugMonitor cannot preempt escalates to HardFault (HFSR.DEBUGEVT). */
    reset();
    __asm__ volatile("svc #0" ::: "memory");
    sh_puts("bkpt below the debugmonitor's priority:\n");
    expect_eq("  no debugmonitor entry", n_mon, 0);
    expect_eq("  one hardfault", n_hf, 1);
    expect_eq("  hfsr.debugevt", hf_hfsr, HFSR_DEBUGEVT);
    expect_eq("  dfsr.bkpt", hf_dfsr, DFSR_BKPT);
    expect_eq("  stacked pc is the bkpt", hf_pc, svc_bkpt_at & ~1u);
    SCB_SHPR3 &= ~0xFFu;
    DEMCR = 0;
    return check_done("sys_debugmon");
}
