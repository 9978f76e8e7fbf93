/* Faults while stacking and unstacking, and the unprivileged loads and stores.
 *
 * Stacking (ARMv7-M ARM B1.5.6, derived exceptions): an SVC taken on a process stack that
 * cannot be written. The stack pointer still moves down by the frame; the derived fault --
 * BusFault STKERR for unmapped memory, MemManage MSTKERR for an MPU refusal (neither with a
 * fault address) -- is taken first if it has the higher priority (the SVC stays pending and
 * tail-chains after it), or after the SVC if not; a disabled MemManage escalates to HardFault
 * (HFSR.FORCED). Unstacking (B1.5.8): an exception return to a frame that cannot be read
 * tail-chains BusFault UNSTKERR or MemManage MUNSTKERR with the frame left in place.
 *
 * Unprivileged loads and stores (A7.7: LDRT, STRT, LDRBT, STRBT, ...) executed by privileged
 * code are checked with unprivileged permissions: against the MPU regions, and the System
 * Control Space refuses them with a precise BusFault.
 *
 * The handlers record each entry and repair the broken stack by pointing PSP at a good frame
 * that resumes the test after its SVC. */
#include "armv7m.h"
#include "check.h"

#define UNMAPPED 0x30000000u
#define SHPR_BUSFAULT REG8(0xE000ED19u)
#define SHPR_SVC REG8(0xE000ED1Fu)
#define SHCSR_SVCALLPENDED (1u << 15)
#define SHCSR_BUSFAULTPENDED (1u << 14)
#define SHCSR_MEMFAULTPENDED (1u << 13)

static uint32_t ro_stack[64] __attribute__((aligned(256)));     /* MPU: read-only */
static uint32_t na_stack[64] __attribute__((aligned(256)));     /* MPU: no access */
static uint32_t priv_only[64] __attribute__((aligned(256)));    /* MPU: privileged RW */
static uint32_t unpriv_ro[64] __attribute__((aligned(256)));    /* MPU: unprivileged RO */
static uint32_t rw_buf[64] __attribute__((aligned(256)));       /* MPU: read-write for all */
static uint32_t good_stack[64] __attribute__((aligned(8)));

struct entry {
    uint32_t exc, exc_return, psp, cfsr, hfsr, mmfar, bfar, shcsr, pc;
};
static volatile struct entry log[4];
static volatile uint32_t n_log;
static volatile uint32_t fix_psp;     /* a handler points PSP here (a good frame), once */
static volatile uint32_t svc_bad_psp; /* the SVC handler returns on this PSP, once */
static volatile uint32_t skip;        /* a fault handler resumes after the faulting insn */
static volatile uint32_t resume_pc;   /* where the good frame resumes */

static inline uint32_t thumb_insn_size(uint32_t pc)
{
    uint32_t hw = *(const volatile uint16_t *)pc;
    return (hw >> 11) >= 0x1D ? 4 : 2;
}

void on_exception(uint32_t *frame, uint32_t exc_return)
{
    uint32_t i = n_log++, exc = get_ipsr();
    if (i < 4) {
        log[i].exc = exc;
        log[i].exc_return = exc_return;
        log[i].psp = get_psp();
        log[i].cfsr = SCB_CFSR;
        log[i].hfsr = SCB_HFSR;
        log[i].mmfar = SCB_MMFAR;
        log[i].bfar = SCB_BFAR;
        log[i].shcsr = SCB_SHCSR;
        log[i].pc = skip ? frame[FRAME_PC] : 0;
    }
    if (exc != EXC_SVCALL) {
        SCB_CFSR = SCB_CFSR; /* write one to clear */
        SCB_HFSR = SCB_HFSR;
    }
    if (svc_bad_psp && exc == EXC_SVCALL) {
        set_psp(svc_bad_psp);
        svc_bad_psp = 0;
    } else if (fix_psp) {
        set_psp(fix_psp);
        fix_psp = 0;
    } else if (skip) {
        frame[FRAME_PC] += thumb_insn_size(frame[FRAME_PC]);
    }
}
EXC_HANDLER(HardFault_Handler, on_exception)
EXC_HANDLER(MemManage_Handler, on_exception)
EXC_HANDLER(BusFault_Handler, on_exception)
EXC_HANDLER(SVC_Handler, on_exception)

static void reset_log(void)
{
    n_log = 0;
    for (unsigned i = 0; i < 4; i++)
        log[i].exc = log[i].exc_return = log[i].psp = log[i].cfsr = log[i].hfsr = log[i].shcsr = 0;
}

/* A frame on good_stack that resumes at resume_pc in Thread mode; returns its address. */
static uint32_t good_frame(void)
{
    uint32_t *f = &good_stack[64 - 8];
    for (unsigned i = 0; i < 8; i++)
        f[i] = 0;
    f[FRAME_PC] = resume_pc;
    f[FRAME_XPSR] = XPSR_T;
    return (uint32_t)f;
}

/* SVC in privileged Thread mode on the process stack `psp`; returns when the handlers have
 * resumed the code after the SVC (through the good frame, or the SVC's own). */
__attribute__((noinline)) static void svc_on_psp(uint32_t psp)
{
    uint32_t at;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "str %0, [%1]\n\t"
                     "msr psp, %2\n\t"
                     "movs r2, #2\n\t"
                     "msr control, r2\n\t"
                     "isb\n\t"
                     "svc #0\n\t"
                     "1:\n\t"
                     "movs r2, #0\n\t"
                     "msr control, r2\n\t"
                     "isb"
                     : "=&r"(at)
                     : "r"(&resume_pc), "r"(psp)
                     : "r0", "r1", "r2", "r3", "r12", "lr", "memory");
}

static void region(unsigned n, uint32_t base, uint32_t rasr)
{
    MPU_RBAR = base | MPU_RBAR_VALID | n;
    MPU_RASR = rasr;
}

static void mpu(uint32_t ctrl)
{
    MPU_CTRL = ctrl;
    dsb();
    isb();
}

#define ACCESS(name, insn)                                                            \
    static uint32_t name(uint32_t addr, uint32_t *at)                                 \
    {                                                                                 \
        uint32_t v = 0x5555;                                                          \
        __asm__ volatile("adr.w %0, 1f\n\t"                                           \
                         "1: " insn                                                   \
                         : "=&r"(*at), "+&r"(v)                                       \
                         : "r"(addr)                                                  \
                         : "memory");                                                 \
        return v;                                                                     \
    }
ACCESS(ldr_at, "ldr.w %1, [%2]")
ACCESS(ldrt_at, "ldrt %1, [%2]")
ACCESS(ldrbt_at, "ldrbt %1, [%2, #1]")
ACCESS(ldrsht_at, "ldrsht %1, [%2, #2]")
ACCESS(strt_at, "strt %1, [%2]")
ACCESS(strbt_at, "strbt %1, [%2, #3]")
ACCESS(strht_at, "strht %1, [%2, #2]")

static void expect_entry(const char *what, unsigned i, uint32_t exc, uint32_t exc_return, uint32_t cfsr,
                         uint32_t hfsr)
{
    sh_puts(what);
    sh_puts(":\n");
    expect_eq("  exception", log[i].exc, exc);
    expect_eq("  exc_return", log[i].exc_return, exc_return);
    expect_eq("  cfsr", log[i].cfsr, cfsr);
    expect_eq("  hfsr", log[i].hfsr, hfsr);
}

/* One faulting access: the fault taken, its status, the stacked PC at the access. */
static void expect_access_fault(const char *what, uint32_t exc, uint32_t cfsr, uint32_t far, uint32_t at)
{
    expect_eq(what, n_log, 1);
    expect_entry("  fault", 0, exc, EXC_RETURN_THREAD_MSP, cfsr, 0);
    expect_eq("  stacked pc is the access", log[0].pc, at & ~1u);
    if (exc == EXC_MEMMANAGE)
        expect_eq("  mmfar", log[0].mmfar, far);
    else
        expect_eq("  bfar", log[0].bfar, far);
}

int main(void)
{
    uint32_t bad, at, v;
    SCB_SHCSR |= SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA;

    /* A first SVC on a good process stack records where the test resumes (resume_pc). */
    reset_log();
    svc_on_psp((uint32_t)&good_stack[64]);
    expect_eq("svc on a good process stack", n_log, 1);
    expect_entry("  svc", 0, EXC_SVCALL, EXC_RETURN_THREAD_PSP, 0, 0);
    expect_eq("  psp is the frame", log[0].psp, (uint32_t)&good_stack[64 - 8]);

    /* STKERR: the process stack points at unmapped memory. */
    reset_log();
    bad = UNMAPPED + 0x100;
    fix_psp = good_frame();
    svc_on_psp(bad);
    expect_eq("stacking to unmapped memory: two entries", n_log, 2);
    expect_entry("  busfault first (late arrival)", 0, EXC_BUSFAULT, EXC_RETURN_THREAD_PSP, BFSR_STKERR, 0);
    expect_eq("  psp moved down by the frame", log[0].psp, bad - 0x20);
    expect_eq("  svc still pending", log[0].shcsr & SHCSR_SVCALLPENDED, SHCSR_SVCALLPENDED);
    expect_entry("  then the svc (tail-chained)", 1, EXC_SVCALL, EXC_RETURN_THREAD_PSP, 0, 0);
    expect_eq("  on the repaired stack", log[1].psp, (uint32_t)&good_stack[64 - 8]);

    /* The derived BusFault at a lower priority than the SVC: the SVC is entered first. */
    reset_log();
    SHPR_BUSFAULT = 0x80;
    SHPR_SVC = 0x40;
    fix_psp = good_frame();
    svc_on_psp(bad);
    SHPR_BUSFAULT = 0;
    SHPR_SVC = 0;
    expect_eq("busfault below the svc's priority: two entries", n_log, 2);
    expect_entry("  svc first", 0, EXC_SVCALL, EXC_RETURN_THREAD_PSP, BFSR_STKERR, 0);
    expect_eq("  busfault pending", log[0].shcsr & SHCSR_BUSFAULTPENDED, SHCSR_BUSFAULTPENDED);
    expect_entry("  then the busfault", 1, EXC_BUSFAULT, EXC_RETURN_THREAD_PSP, BFSR_STKERR, 0);

    /* UNSTKERR: the SVC returns to a process stack in unmapped memory; the BusFault is
     * tail-chained with the frame left where it is, and repairs it. */
    reset_log();
    svc_bad_psp = bad;
    fix_psp = good_frame();
    svc_on_psp((uint32_t)&good_stack[48]);
    expect_eq("unstacking from unmapped memory: two entries", n_log, 2);
    expect_entry("  the svc", 0, EXC_SVCALL, EXC_RETURN_THREAD_PSP, 0, 0);
    expect_entry("  then the busfault", 1, EXC_BUSFAULT, EXC_RETURN_THREAD_PSP, BFSR_UNSTKERR, 0);
    expect_eq("  psp still at the frame", log[1].psp, bad);

    /* MPU: regions over the test stacks and buffers, the rest through PRIVDEFENA. */
    region(0, (uint32_t)ro_stack, MPU_RASR_XN | MPU_RASR_AP(6) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    region(1, (uint32_t)na_stack, MPU_RASR_XN | MPU_RASR_AP(0) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    region(2, (uint32_t)priv_only, MPU_RASR_XN | MPU_RASR_AP(1) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    region(3, (uint32_t)unpriv_ro, MPU_RASR_XN | MPU_RASR_AP(2) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    region(4, (uint32_t)rw_buf, MPU_RASR_XN | MPU_RASR_AP(3) | MPU_RASR_SIZE(8) | MPU_RASR_ENABLE);
    mpu(MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA);

    reset_log();
    bad = (uint32_t)&ro_stack[64];
    fix_psp = good_frame();
    svc_on_psp(bad);
    expect_eq("stacking to a read-only region: two entries", n_log, 2);
    expect_entry("  memmanage first", 0, EXC_MEMMANAGE, EXC_RETURN_THREAD_PSP, MMFSR_MSTKERR, 0);
    expect_eq("  psp moved down by the frame", log[0].psp, bad - 0x20);
    expect_eq("  svc still pending", log[0].shcsr & SHCSR_SVCALLPENDED, SHCSR_SVCALLPENDED);
    expect_eq("  frame not written", ro_stack[64 - 2], 0);
    expect_entry("  then the svc", 1, EXC_SVCALL, EXC_RETURN_THREAD_PSP, 0, 0);

    /* MemManage disabled: the derived fault escalates to HardFault. */
    reset_log();
    SCB_SHCSR &= ~SHCSR_MEMFAULTENA;
    fix_psp = good_frame();
    svc_on_psp(bad);
    SCB_SHCSR |= SHCSR_MEMFAULTENA;
    expect_eq("memmanage disabled: two entries", n_log, 2);
    expect_entry("  hardfault (forced)", 0, EXC_HARDFAULT, EXC_RETURN_THREAD_PSP, MMFSR_MSTKERR, HFSR_FORCED);
    expect_entry("  then the svc", 1, EXC_SVCALL, EXC_RETURN_THREAD_PSP, 0, 0);

    /* MUNSTKERR: the SVC returns to a process stack in a no-access region. */
    reset_log();
    svc_bad_psp = (uint32_t)&na_stack[32];
    fix_psp = good_frame();
    svc_on_psp((uint32_t)&good_stack[48]);
    expect_eq("unstacking from a no-access region: two entries", n_log, 2);
    expect_entry("  the svc", 0, EXC_SVCALL, EXC_RETURN_THREAD_PSP, 0, 0);
    expect_entry("  then the memmanage", 1, EXC_MEMMANAGE, EXC_RETURN_THREAD_PSP, MMFSR_MUNSTKERR, 0);
    expect_eq("  psp still at the frame", log[1].psp, (uint32_t)&na_stack[32]);

    /* Unprivileged loads and stores from privileged code. */
    for (unsigned i = 0; i < 64; i++) {
        priv_only[i] = 0x11110000u + i;
        unpriv_ro[i] = 0x22220000u + i;
    }
    skip = 1;
    reset_log();
    expect_eq("ldr of a privileged-only region", ldr_at((uint32_t)&priv_only[4], &at), 0x11110004u);
    expect_eq("  no fault", n_log, 0);
    v = ldrt_at((uint32_t)&priv_only[4], &at);
    expect_access_fault("ldrt of a privileged-only region", EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID,
                        (uint32_t)&priv_only[4], at);
    expect_eq("  destination unchanged", v, 0x5555);
    reset_log();
    ldrbt_at((uint32_t)&priv_only[8], &at);
    expect_access_fault("ldrbt of a privileged-only region", EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID,
                        (uint32_t)&priv_only[8] + 1, at);
    reset_log();
    expect_eq("ldrt of an unprivileged read-only region", ldrt_at((uint32_t)&unpriv_ro[5], &at), 0x22220005u);
    expect_eq("ldrsht of it", ldrsht_at((uint32_t)&unpriv_ro[5], &at), 0x2222u);
    expect_eq("  no fault", n_log, 0);
    strt_at((uint32_t)&unpriv_ro[6], &at);
    expect_access_fault("strt to an unprivileged read-only region", EXC_MEMMANAGE,
                        MMFSR_DACCVIOL | MMFSR_MMARVALID, (uint32_t)&unpriv_ro[6], at);
    expect_eq("  memory unchanged", unpriv_ro[6], 0x22220006u);
    reset_log();
    strht_at((uint32_t)&unpriv_ro[7], &at);
    expect_access_fault("strht to it", EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID,
                        (uint32_t)&unpriv_ro[7] + 2, at);
    reset_log();
    unpriv_ro[9] = 0x33333333u;
    expect_eq("privileged str to it", unpriv_ro[9], 0x33333333u);
    strbt_at((uint32_t)&rw_buf[0], &at);
    expect_eq("strbt to a read-write region", ((volatile uint8_t *)rw_buf)[3], 0x55);
    expect_eq("  no fault", n_log, 0);
    strbt_at((uint32_t)&good_stack[0], &at);
    expect_access_fault("strbt outside every region (the background map is privileged only)",
                        EXC_MEMMANAGE, MMFSR_DACCVIOL | MMFSR_MMARVALID, (uint32_t)&good_stack[0] + 3, at);

    mpu(0);
    reset_log();
    expect_eq("ldrt of ram, mpu off", ldrt_at((uint32_t)&priv_only[4], &at), 0x11110004u);
    expect_eq("  no fault", n_log, 0);
    ldrt_at(0xE000ED00u, &at);
    expect_access_fault("ldrt of the scs (cpuid)", EXC_BUSFAULT, BFSR_PRECISERR | BFSR_BFARVALID, 0xE000ED00u, at);
    reset_log();
    expect_eq("ldr of the scs (cpuid) works", ldr_at(0xE000ED00u, &at) >> 24, 0x41);
    expect_eq("  no fault", n_log, 0);
    skip = 0;
    return check_done("sys_fault_stack");
}
