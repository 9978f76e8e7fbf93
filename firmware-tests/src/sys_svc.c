/* SVC (ARMv7-M ARM A7.7.175, B1.5.6-8): the handler finds the SVC number in the instruction
 * before the stacked PC, takes arguments from the stacked r0-r3 and returns a value by
 * writing the stacked r0. Checked from privileged thread mode on the MSP (EXC_RETURN
 * 0xFFFFFFF9) and from unprivileged thread mode on the PSP (CONTROL.nPRIV|SPSEL, EXC_RETURN
 * 0xFFFFFFFD), where MSR to PRIMASK/BASEPRI/FAULTMASK/CONTROL and CPSID are ignored and an
 * SVC is the way back to privilege. Also: SVC with a stack that is not 8-byte aligned stacks
 * a padding word and sets stacked xPSR bit 9. */
#include "armv7m.h"
#include "check.h"

static volatile uint32_t last_svc, last_exc_return, last_frame, last_xpsr, handler_ipsr,
    handler_svcallact, handler_control;

EXC_HANDLER(SVC_Handler, svc_dispatch)
void svc_dispatch(uint32_t *frame, uint32_t exc_return)
{
    uint32_t pc = frame[FRAME_PC];
    uint32_t num = *(const volatile uint8_t *)(pc - 2); /* SVC #imm8: 0xDFxx */
    last_svc = num;
    last_exc_return = exc_return;
    last_frame = (uint32_t)frame;
    last_xpsr = frame[FRAME_XPSR];
    handler_ipsr = get_ipsr();
    handler_svcallact = (SCB_SHCSR & SHCSR_SVCALLACT) != 0;
    handler_control = get_control();
    switch (num) {
    case 1: /* add */
        frame[FRAME_R0] = frame[FRAME_R0] + frame[FRAME_R1];
        break;
    case 2: /* four arguments */
        frame[FRAME_R0] = frame[FRAME_R0] * 1000 + frame[FRAME_R1] * 100 + frame[FRAME_R2] * 10 + frame[FRAME_R3];
        break;
    case 3: /* drop privilege */
        set_control(get_control() | 1);
        break;
    case 4: /* raise privilege */
        set_control(get_control() & ~1u);
        break;
    default:
        frame[FRAME_R0] = 0xBAD0BAD0u;
    }
}

static uint32_t svc1(uint32_t a, uint32_t b)
{
    register uint32_t r0 __asm__("r0") = a;
    register uint32_t r1 __asm__("r1") = b;
    __asm__ volatile("svc #1" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static uint32_t svc2(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    register uint32_t r0 __asm__("r0") = a;
    register uint32_t r1 __asm__("r1") = b;
    register uint32_t r2 __asm__("r2") = c;
    register uint32_t r3 __asm__("r3") = d;
    __asm__ volatile("svc #2" : "+r"(r0) : "r"(r1), "r"(r2), "r"(r3) : "memory");
    return r0;
}

static uint32_t psp_stack[256] __attribute__((aligned(8)));
static volatile uint32_t ctrl_unpriv, sum, exc_ret_unpriv, frame_unpriv, handler_ctrl_unpriv, primask_after,
    primask_after_cps, basepri_after, faultmask_after, ctrl_after, ctrl_priv;

/* Runs on the PSP (from call_on_psp); drops privilege through SVC 3 and regains it by SVC 4. */
static void unprivileged_part(void)
{
    __asm__ volatile("svc #3" ::: "r0", "memory");
    isb();
    ctrl_unpriv = get_control();
    sum = svc1(5, 6);
    exc_ret_unpriv = last_exc_return;
    frame_unpriv = last_frame;
    handler_ctrl_unpriv = handler_control;
    set_primask(1);
    primask_after = get_primask();
    cpsid_i();
    primask_after_cps = get_primask();
    set_basepri(0x40);
    basepri_after = get_basepri();
    set_faultmask(1);
    faultmask_after = get_faultmask();
    set_control(0); /* cannot regain privilege or leave the PSP this way */
    isb();
    ctrl_after = get_control();
    __asm__ volatile("svc #4" ::: "r0", "memory"); /* back to privileged */
    isb();
    ctrl_priv = get_control();
}

int main(void)
{
    SCB_CCR |= CCR_STKALIGN; /* 8-byte aligned frames (the Cortex-M3 reset value) */
    expect_eq("ccr.stkalign", SCB_CCR & CCR_STKALIGN, CCR_STKALIGN);
    SCB_SHPR(EXC_SVCALL) = 0x40;
    expect_eq("svcall priority in shpr2", SCB_SHPR2 >> 24, 0x40);

    /* Privileged, MSP. */
    expect_eq("svc 1: add", svc1(40, 2), 42);
    expect_eq("svc number 1", last_svc, 1);
    expect_eq("exc_return thread/msp", last_exc_return, EXC_RETURN_THREAD_MSP);
    expect_eq("ipsr 11 in the handler", handler_ipsr, EXC_SVCALL);
    expect_eq("shcsr.svcallact in the handler", handler_svcallact, 1);
    expect_eq("stacked xpsr: thumb, ipsr 0", last_xpsr & (XPSR_T | 0x1FF), XPSR_T);
    expect_eq("svc 2: four arguments", svc2(1, 2, 3, 4), 1234);
    expect_eq("svc number 2", last_svc, 2);
    expect_eq("svcallact clear after return", SCB_SHCSR & SHCSR_SVCALLACT, 0);

    /* Stack alignment: SVC with SP = 4 (mod 8). */
    uint32_t sp_before, sp_after;
    __asm__ volatile("mov %0, sp\n\t"
                     "sub sp, #4\n\t"
                     "svc #5\n\t"
                     "add sp, #4\n\t"
                     "mov %1, sp"
                     : "=&r"(sp_before), "=r"(sp_after)
                     :
                     : "r0", "memory");
    expect_eq("sp 8-aligned before", sp_before & 7, 0);
    expect_eq("misaligned sp: frame aligned below a padding word", last_frame, sp_before - 4 - 36);
    expect_eq("misaligned sp: stacked xpsr bit 9", (last_xpsr >> 9) & 1, 1);
    expect_eq("sp restored", sp_after, sp_before);
    __asm__ volatile("mov %0, sp\n\t"
                     "svc #5\n\t"
                     "mov %1, sp"
                     : "=&r"(sp_before), "=r"(sp_after)
                     :
                     : "r0", "memory");
    expect_eq("aligned sp: frame 32 bytes below", last_frame, sp_before - 32);
    expect_eq("aligned sp: stacked xpsr bit 9 clear", (last_xpsr >> 9) & 1, 0);

    /* Unprivileged thread mode on the PSP. */
    call_on_psp(unprivileged_part, &psp_stack[256]);
    expect_eq("unprivileged: control reads nPRIV|SPSEL", ctrl_unpriv, 3);
    expect_eq("unprivileged: svc works", sum, 11);
    expect_eq("unprivileged: exc_return thread/psp", exc_ret_unpriv, EXC_RETURN_THREAD_PSP);
    expect("unprivileged: frame on the process stack",
           frame_unpriv >= (uint32_t)psp_stack && frame_unpriv < (uint32_t)&psp_stack[256]);
    expect_eq("handler sees control.npriv", handler_ctrl_unpriv & 1, 1);
    expect_eq("unprivileged msr primask ignored", primask_after, 0);
    expect_eq("unprivileged cpsid i ignored", primask_after_cps, 0);
    expect_eq("unprivileged msr basepri ignored", basepri_after, 0);
    expect_eq("unprivileged msr faultmask ignored", faultmask_after, 0);
    expect_eq("unprivileged msr control ignored", ctrl_after, 3);
    expect_eq("svc raised privilege (still on the psp)", ctrl_priv, 2);
    expect_eq("back to privileged msp", get_control(), 0);
    return check_done("sys_svc");
}
