/* ARMv7-M system registers (a small CMSIS-like subset), with addresses and bit positions from
 * the ARMv7-M Architecture Reference Manual (DDI0403E), chapters B3 (System Control Space,
 * SysTick, NVIC, PMSAv7 MPU) and C1 (debug: DWT, ITM, CoreDebug), plus helpers the system
 * tests share: special-register access and a fault-handler entry that finds the stacked frame.
 */
#ifndef ARMV7M_H
#define ARMV7M_H
#include <stdint.h>

#define REG32(a) (*(volatile uint32_t *)(a))
#define REG8(a) (*(volatile uint8_t *)(a))

/* ---- System Control Block (B3.2.2) ---- */
#define SCB_ACTLR REG32(0xE000E008u)
#define SCB_CPUID REG32(0xE000ED00u)
#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_SCR REG32(0xE000ED10u)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_SHPR(n) REG8(0xE000ED18u + (n) - 4) /* priority of system exception n (4..15) */
#define SCB_SHPR1 REG32(0xE000ED18u)
#define SCB_SHPR2 REG32(0xE000ED1Cu)
#define SCB_SHPR3 REG32(0xE000ED20u)
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_DFSR REG32(0xE000ED30u)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
#define SCB_AFSR REG32(0xE000ED3Cu)
#define SCB_CPACR REG32(0xE000ED88u)
#define SCnSCB_ICTR REG32(0xE000E004u)

/* ICSR */
#define ICSR_NMIPENDSET (1u << 31)
#define ICSR_PENDSVSET (1u << 28)
#define ICSR_PENDSVCLR (1u << 27)
#define ICSR_PENDSTSET (1u << 26)
#define ICSR_PENDSTCLR (1u << 25)
#define ICSR_ISRPREEMPT (1u << 23)
#define ICSR_ISRPENDING (1u << 22)
#define ICSR_VECTPENDING_SHIFT 12
#define ICSR_VECTPENDING_MASK (0x1FFu << 12)
#define ICSR_RETTOBASE (1u << 11)
#define ICSR_VECTACTIVE_MASK 0x1FFu

/* AIRCR */
#define AIRCR_VECTKEY (0x05FAu << 16)
#define AIRCR_VECTKEYSTAT (0xFA05u << 16)
#define AIRCR_ENDIANNESS (1u << 15)
#define AIRCR_PRIGROUP_SHIFT 8
#define AIRCR_PRIGROUP_MASK (7u << 8)
#define AIRCR_SYSRESETREQ (1u << 2)
#define AIRCR_VECTCLRACTIVE (1u << 1)
#define AIRCR_VECTRESET (1u << 0)

/* SCR */
#define SCR_SEVONPEND (1u << 4)
#define SCR_SLEEPDEEP (1u << 2)
#define SCR_SLEEPONEXIT (1u << 1)

/* CCR */
#define CCR_STKALIGN (1u << 9)
#define CCR_BFHFNMIGN (1u << 8)
#define CCR_DIV_0_TRP (1u << 4)
#define CCR_UNALIGN_TRP (1u << 3)
#define CCR_USERSETMPEND (1u << 1)
#define CCR_NONBASETHRDENA (1u << 0)

/* SHCSR */
#define SHCSR_USGFAULTENA (1u << 18)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_SVCALLPENDED (1u << 15)
#define SHCSR_BUSFAULTPENDED (1u << 14)
#define SHCSR_MEMFAULTPENDED (1u << 13)
#define SHCSR_USGFAULTPENDED (1u << 12)
#define SHCSR_SYSTICKACT (1u << 11)
#define SHCSR_PENDSVACT (1u << 10)
#define SHCSR_MONITORACT (1u << 8)
#define SHCSR_SVCALLACT (1u << 7)
#define SHCSR_USGFAULTACT (1u << 3)
#define SHCSR_BUSFAULTACT (1u << 1)
#define SHCSR_MEMFAULTACT (1u << 0)

/* CFSR = UFSR[31:16] : BFSR[15:8] : MMFSR[7:0] */
#define MMFSR_IACCVIOL (1u << 0)
#define MMFSR_DACCVIOL (1u << 1)
#define MMFSR_MUNSTKERR (1u << 3)
#define MMFSR_MSTKERR (1u << 4)
#define MMFSR_MLSPERR (1u << 5)
#define MMFSR_MMARVALID (1u << 7)
#define BFSR_IBUSERR (1u << 8)
#define BFSR_PRECISERR (1u << 9)
#define BFSR_IMPRECISERR (1u << 10)
#define BFSR_UNSTKERR (1u << 11)
#define BFSR_STKERR (1u << 12)
#define BFSR_LSPERR (1u << 13)
#define BFSR_BFARVALID (1u << 15)
#define UFSR_UNDEFINSTR (1u << 16)
#define UFSR_INVSTATE (1u << 17)
#define UFSR_INVPC (1u << 18)
#define UFSR_NOCP (1u << 19)
#define UFSR_UNALIGNED (1u << 24)
#define UFSR_DIVBYZERO (1u << 25)

/* HFSR */
#define HFSR_DEBUGEVT (1u << 31)
#define HFSR_FORCED (1u << 30)
#define HFSR_VECTTBL (1u << 1)

/* ---- SysTick (B3.3) ---- */
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SYST_CALIB REG32(0xE000E01Cu)
#define SYST_CSR_COUNTFLAG (1u << 16)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_ENABLE (1u << 0)

/* ---- NVIC (B3.4) ---- */
#define NVIC_ISER(n) REG32(0xE000E100u + 4 * (n))
#define NVIC_ICER(n) REG32(0xE000E180u + 4 * (n))
#define NVIC_ISPR(n) REG32(0xE000E200u + 4 * (n))
#define NVIC_ICPR(n) REG32(0xE000E280u + 4 * (n))
#define NVIC_IABR(n) REG32(0xE000E300u + 4 * (n))
#define NVIC_IPR(n) REG8(0xE000E400u + (n)) /* byte access to the priority of IRQ n */
#define NVIC_STIR REG32(0xE000EF00u)

static inline void nvic_enable(unsigned irq) { NVIC_ISER(irq / 32) = 1u << (irq % 32); }
static inline void nvic_disable(unsigned irq) { NVIC_ICER(irq / 32) = 1u << (irq % 32); }
static inline void nvic_pend(unsigned irq) { NVIC_ISPR(irq / 32) = 1u << (irq % 32); }
static inline void nvic_unpend(unsigned irq) { NVIC_ICPR(irq / 32) = 1u << (irq % 32); }
static inline uint32_t nvic_is_pending(unsigned irq) { return (NVIC_ISPR(irq / 32) >> (irq % 32)) & 1; }
static inline uint32_t nvic_is_active(unsigned irq) { return (NVIC_IABR(irq / 32) >> (irq % 32)) & 1; }

/* ---- PMSAv7 MPU (B3.5) ---- */
#define MPU_TYPE REG32(0xE000ED90u)
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)
#define MPU_CTRL_PRIVDEFENA (1u << 2)
#define MPU_CTRL_HFNMIENA (1u << 1)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_RBAR_VALID (1u << 4)
#define MPU_RASR_XN (1u << 28)
#define MPU_RASR_AP(x) ((uint32_t)(x) << 24) /* 0 no access, 1 priv RW, 2 priv RW/unpriv RO, 3 RW, 5 priv RO, 6 RO */
#define MPU_RASR_TEX(x) ((uint32_t)(x) << 19)
#define MPU_RASR_S (1u << 18)
#define MPU_RASR_C (1u << 17)
#define MPU_RASR_B (1u << 16)
#define MPU_RASR_SRD(x) ((uint32_t)(x) << 8)
#define MPU_RASR_SIZE(log2) ((uint32_t)((log2) - 1) << 1) /* region of 2^log2 bytes */
#define MPU_RASR_ENABLE (1u << 0)

/* ---- Debug (C1): CoreDebug, DWT, ITM ---- */
#define DHCSR REG32(0xE000EDF0u)
#define DEMCR REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)

#define DWT_CTRL REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define DWT_CPICNT REG32(0xE0001008u)
#define DWT_EXCCNT REG32(0xE000100Cu)
#define DWT_SLEEPCNT REG32(0xE0001010u)
#define DWT_LSUCNT REG32(0xE0001014u)
#define DWT_FOLDCNT REG32(0xE0001018u)
#define DWT_PCSR REG32(0xE000101Cu)
#define DWT_CTRL_NUMCOMP_SHIFT 28
#define DWT_CTRL_NOTRCPKT (1u << 27)
#define DWT_CTRL_NOEXTTRIG (1u << 26)
#define DWT_CTRL_NOCYCCNT (1u << 25)
#define DWT_CTRL_NOPRFCNT (1u << 24)
#define DWT_CTRL_CYCCNTENA (1u << 0)

#define ITM_STIM(n) REG32(0xE0000000u + 4 * (n))
#define ITM_STIM8(n) REG8(0xE0000000u + 4 * (n))
#define ITM_TER REG32(0xE0000E00u)
#define ITM_TPR REG32(0xE0000E40u)
#define ITM_TCR REG32(0xE0000E80u)
#define ITM_LAR REG32(0xE0000FB0u)
#define ITM_LSR REG32(0xE0000FB4u)
#define ITM_TCR_BUSY (1u << 23)
#define ITM_TCR_TRACEBUSID_SHIFT 16
#define ITM_TCR_SWOENA (1u << 4)
#define ITM_TCR_TXENA (1u << 3)
#define ITM_TCR_SYNCENA (1u << 2)
#define ITM_TCR_TSENA (1u << 1)
#define ITM_TCR_ITMENA (1u << 0)

/* ---- Exception numbers (B1.5.2) ---- */
enum {
    EXC_RESET = 1, EXC_NMI = 2, EXC_HARDFAULT = 3, EXC_MEMMANAGE = 4, EXC_BUSFAULT = 5,
    EXC_USAGEFAULT = 6, EXC_SVCALL = 11, EXC_DEBUGMON = 12, EXC_PENDSV = 14, EXC_SYSTICK = 15,
    EXC_IRQ0 = 16,
};

/* EXC_RETURN values (B1.5.8, no FP context) */
#define EXC_RETURN_HANDLER 0xFFFFFFF1u
#define EXC_RETURN_THREAD_MSP 0xFFFFFFF9u
#define EXC_RETURN_THREAD_PSP 0xFFFFFFFDu

/* The basic stacked frame (B1.5.6) */
enum { FRAME_R0, FRAME_R1, FRAME_R2, FRAME_R3, FRAME_R12, FRAME_LR, FRAME_PC, FRAME_XPSR };
#define XPSR_T (1u << 24)

/* ---- Special registers ---- */
#define DEFINE_MRS(name)                                                  \
    static inline uint32_t get_##name(void)                               \
    {                                                                     \
        uint32_t v;                                                       \
        __asm__ volatile("mrs %0, " #name : "=r"(v)::"memory");           \
        return v;                                                         \
    }
#define DEFINE_MSR(name)                                                  \
    static inline void set_##name(uint32_t v)                             \
    {                                                                     \
        __asm__ volatile("msr " #name ", %0" ::"r"(v) : "memory");        \
    }
DEFINE_MRS(ipsr)
DEFINE_MRS(xpsr)
DEFINE_MRS(primask)
DEFINE_MRS(faultmask)
DEFINE_MRS(basepri)
DEFINE_MRS(control)
DEFINE_MRS(msp)
DEFINE_MRS(psp)
DEFINE_MSR(primask)
DEFINE_MSR(faultmask)
DEFINE_MSR(basepri)
DEFINE_MSR(basepri_max)
DEFINE_MSR(control)
DEFINE_MSR(msp)
DEFINE_MSR(psp)

static inline uint32_t get_lr(void)
{
    uint32_t v;
    __asm__ volatile("mov %0, lr" : "=r"(v));
    return v;
}
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void cpsie_i(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void cpsid_i(void) { __asm__ volatile("cpsid i" ::: "memory"); }

/* EXC_HANDLER(Name, fn): defines exception handler Name that calls
 *     void fn(uint32_t *frame, uint32_t exc_return)
 * with the stacked frame (from MSP or PSP, as EXC_RETURN bit 2 says) and EXC_RETURN. fn
 * returns through the unchanged LR, i.e. by exception return; it may edit the frame (e.g. the
 * stacked PC) to change where the interrupted code resumes. */
#define EXC_HANDLER(name, fn)                                             \
    void fn(uint32_t *frame, uint32_t exc_return);                        \
    __attribute__((naked)) void name(void)                                \
    {                                                                     \
        __asm__ volatile("tst lr, #4\n\t"                                 \
                         "ite eq\n\t"                                     \
                         "mrseq r0, msp\n\t"                              \
                         "mrsne r0, psp\n\t"                              \
                         "mov r1, lr\n\t"                                 \
                         "b " #fn);                                       \
    }

/* Calls fn() in thread mode on the process stack (CONTROL.SPSEL = 1, PSP = psp_top), then
 * switches back to the main stack. Switching stacks inside a C function is unsafe (locals
 * spilled on one stack are reloaded from the other), hence this helper. fn must return
 * privileged (CONTROL.nPRIV clear): the switch back is an MSR CONTROL. */
__attribute__((naked, noinline, unused)) static void call_on_psp(void (*fn)(void), uint32_t *psp_top)
{
    (void)fn;
    (void)psp_top;
    __asm__ volatile("push {r4, lr}\n\t"
                     "msr psp, r1\n\t"
                     "movs r2, #2\n\t"
                     "msr control, r2\n\t"
                     "isb\n\t"
                     "blx r0\n\t"
                     "movs r2, #0\n\t"
                     "msr control, r2\n\t"
                     "isb\n\t"
                     "pop {r4, pc}");
}

/* Busy-wait a fixed number of loop iterations (a few instructions each). */
static inline void spin(uint32_t n)
{
    for (volatile uint32_t i = 0; i < n; i++) {
    }
}
#endif
