/* System instructions: MRS/MSR of the special registers, CPS, CONTROL switching to the
 * process stack, barriers and hints (ARMv7-M ARM B5.2). */
#include "check.h"

static uint32_t mrs_primask(void) { uint32_t v; __asm__ volatile("mrs %0, primask" : "=r"(v)); return v; }
static uint32_t mrs_faultmask(void) { uint32_t v; __asm__ volatile("mrs %0, faultmask" : "=r"(v)); return v; }
static uint32_t mrs_basepri(void) { uint32_t v; __asm__ volatile("mrs %0, basepri" : "=r"(v)); return v; }
static uint32_t mrs_control(void) { uint32_t v; __asm__ volatile("mrs %0, control" : "=r"(v)); return v; }
static uint32_t mrs_msp(void) { uint32_t v; __asm__ volatile("mrs %0, msp" : "=r"(v)); return v; }
static uint32_t mrs_psp(void) { uint32_t v; __asm__ volatile("mrs %0, psp" : "=r"(v)); return v; }
static uint32_t mrs_ipsr(void) { uint32_t v; __asm__ volatile("mrs %0, ipsr" : "=r"(v)); return v; }

static uint32_t psp_stack[64] __attribute__((aligned(8)));

int main(void)
{
    check_eq("ipsr in thread mode", mrs_ipsr(), 0);
    check_eq("primask reset", mrs_primask(), 0);
    __asm__ volatile("cpsid i" ::: "memory");
    check_eq("cpsid i", mrs_primask(), 1);
    __asm__ volatile("cpsie i" ::: "memory");
    check_eq("cpsie i", mrs_primask(), 0);
    __asm__ volatile("cpsid f" ::: "memory");
    check_eq("cpsid f", mrs_faultmask(), 1);
    __asm__ volatile("cpsie f" ::: "memory");
    check_eq("cpsie f", mrs_faultmask(), 0);
    uint32_t one = 1, zero = 0;
    __asm__ volatile("msr primask, %0" ::"r"(one) : "memory");
    check_eq("msr primask", mrs_primask(), 1);
    __asm__ volatile("msr primask, %0" ::"r"(zero) : "memory");

    uint32_t v = 0x60;
    __asm__ volatile("msr basepri, %0" ::"r"(v) : "memory");
    check_eq("msr basepri", mrs_basepri(), 0x60);
    v = 0x80; /* BASEPRI_MAX only raises the priority (lowers the value) */
    __asm__ volatile("msr basepri_max, %0" ::"r"(v) : "memory");
    check_eq("basepri_max ignores a lower priority", mrs_basepri(), 0x60);
    v = 0x40;
    __asm__ volatile("msr basepri_max, %0" ::"r"(v) : "memory");
    check_eq("basepri_max raises", mrs_basepri(), 0x40);
    __asm__ volatile("msr basepri, %0" ::"r"(zero) : "memory");
    check_eq("basepri cleared", mrs_basepri(), 0);

    /* APSR flags through MSR/MRS */
    uint32_t flags = 0xf8000000u, got;
    __asm__ volatile("msr apsr_nzcvq, %1\n\t mrs %0, apsr" : "=r"(got) : "r"(flags) : "cc");
    check_eq("msr/mrs apsr", got & 0xf8000000u, 0xf8000000u);
    flags = 0;
    __asm__ volatile("msr apsr_nzcvq, %1\n\t mrs %0, apsr" : "=r"(got) : "r"(flags) : "cc");
    check_eq("apsr cleared", got & 0xf8000000u, 0);

    /* Switch Thread mode to the process stack and back. */
    uint32_t msp = mrs_msp();
    uint32_t top = (uint32_t)&psp_stack[64];
    __asm__ volatile("msr psp, %0" ::"r"(top) : "memory");
    check_eq("msr psp", mrs_psp(), top);
    uint32_t sp_on_psp, ctrl = 2;
    __asm__ volatile("msr control, %1\n\t isb\n\t mov %0, sp" : "=r"(sp_on_psp) : "r"(ctrl) : "memory");
    check_eq("control.spsel", mrs_control(), 2);
    check_eq("sp is psp", sp_on_psp, top);
    ctrl = 0;
    uint32_t sp_on_msp;
    __asm__ volatile("msr control, %1\n\t isb\n\t mov %0, sp" : "=r"(sp_on_msp) : "r"(ctrl) : "memory");
    check_eq("back on msp", sp_on_msp, msp);
    check_eq("msp unchanged", mrs_msp(), msp);

    /* barriers and hints execute as no-ops here */
    __asm__ volatile("dmb\n\t dsb\n\t isb\n\t nop\n\t nop.w\n\t yield\n\t sev\n\t wfe" ::: "memory");
    check_eq("hints", 1, 1);
    return check_done("insn_sys");
}
