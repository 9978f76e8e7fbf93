/* UsageFaults (ARMv7-M ARM B1.5.14, B3.2.15): each taken by the UsageFault handler (exception
 * 6, SHCSR.USGFAULTENA) with the exact UFSR bit and the stacked PC of the faulting
 * instruction; the handler skips it and the code continues. UDF (16- and 32-bit) ->
 * UNDEFINSTR; UDIV/SDIV by zero -> 0 without CCR.DIV_0_TRP, DIVBYZERO with it; unaligned
 * LDR/LDRH/STR work without CCR.UNALIGN_TRP and fault UNALIGNED with it, while unaligned
 * LDM/STM/LDRD/STRD always fault; BX to an address with bit 0 clear -> INVSTATE at the target
 * with the stacked xPSR.T clear; a coprocessor instruction (no coprocessors on a Cortex-M3)
 * -> NOCP. */
#include "fault.h"

static volatile uint32_t data[4] __attribute__((aligned(8))) = {0x44332211u, 0x88776655u, 0xCCBBAA99u, 0x00FFEEDDu};

static uint32_t continued;

static void udf16(uint32_t *at)
{
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: udf #0\n\t"
                     "movs r1, #1\n\t"
                     "str r1, [%1]"
                     : "=&r"(*at)
                     : "r"(&continued)
                     : "r1", "memory");
}

static void udf32(uint32_t *at)
{
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: udf.w #0\n\t"
                     "movs r1, #2\n\t"
                     "str r1, [%1]"
                     : "=&r"(*at)
                     : "r"(&continued)
                     : "r1", "memory");
}

static uint32_t udiv_at(uint32_t a, uint32_t b, uint32_t *at)
{
    uint32_t q = 0x5555;
    /* The ISB makes the UDIV start a new QEMU translation block: QEMU 7.2 loses register
     * writes made earlier in the same block when a division by zero traps. */
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "isb\n\t"
                     "1: udiv %1, %2, %3"
                     : "=&r"(*at), "+&r"(q)
                     : "r"(a), "r"(b)
                     : "memory");
    return q;
}

static int32_t sdiv_at(int32_t a, int32_t b, uint32_t *at)
{
    int32_t q = 0x5555;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "isb\n\t"
                     "1: sdiv %1, %2, %3"
                     : "=&r"(*at), "+&r"(q)
                     : "r"(a), "r"(b)
                     : "memory");
    return q;
}

/* One load/store at `addr` (loading into r2, or r2 and r3), faulting or not; returns r2. */
#define ACCESS(name, insn)                                                            \
    static uint32_t name(uint32_t addr, uint32_t *at)                                 \
    {                                                                                 \
        register uint32_t v __asm__("r2") = 0x5555;                                   \
        register uint32_t w __asm__("r3") = 0x5555;                                   \
        __asm__ volatile("adr.w %0, 1f\n\t"                                           \
                         "1: " insn                                                   \
                         : "=&r"(*at), "+&r"(v), "+&r"(w)                             \
                         : "r"(addr)                                                  \
                         : "memory");                                                 \
        return v;                                                                     \
    }
ACCESS(ldr_at, "ldr.w %1, [%3]")
ACCESS(ldrh_at, "ldrh.w %1, [%3]")
ACCESS(ldrb_at, "ldrb.w %1, [%3]")
ACCESS(str_at, "str.w %1, [%3]")
ACCESS(ldm_at, "ldm %3, {r2, r3}")
ACCESS(stm_at, "stm %3, {r2, r3}")
ACCESS(ldrd_at, "ldrd %1, %2, [%3]")
ACCESS(strd_at, "strd %1, %2, [%3]")

static void target_function(void) { continued = 7; }

int main(void)
{
    uint32_t at;
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    expect_eq("shcsr.usgfaultena", SCB_SHCSR & SHCSR_USGFAULTENA, SHCSR_USGFAULTENA);
    expect_eq("cfsr clear at start", SCB_CFSR, 0);

    fault_reset();
    udf16(&at);
    expect_fault("udf (16-bit)", EXC_USAGEFAULT, UFSR_UNDEFINSTR, 0, at);
    expect_eq("  exc_return thread/msp", fr.exc_return, EXC_RETURN_THREAD_MSP);
    expect_eq("  stacked xpsr: thumb, ipsr 0", fr.xpsr & (XPSR_T | 0x1FF), XPSR_T);
    expect_eq("  continued after it", continued, 1);
    expect_eq("  cfsr cleared by writing ones", SCB_CFSR, 0);
    expect_eq("  usgfaultact clear after return", SCB_SHCSR & SHCSR_USGFAULTACT, 0);

    fault_reset();
    udf32(&at);
    expect_fault("udf.w (32-bit)", EXC_USAGEFAULT, UFSR_UNDEFINSTR, 0, at);
    expect_eq("  continued after it", continued, 2);

    /* Division by zero */
    fault_reset();
    expect_eq("udiv by 0 without div_0_trp is 0", udiv_at(7, 0, &at), 0);
    expect_eq("sdiv by 0 without div_0_trp is 0", (uint32_t)sdiv_at(-7, 0, &at), 0);
    expect_eq("no fault", fr.count, 0);
    SCB_CCR |= CCR_DIV_0_TRP;
    expect_eq("ccr.div_0_trp set", SCB_CCR & CCR_DIV_0_TRP, CCR_DIV_0_TRP);
    expect_eq("udiv 7/2 still works", udiv_at(7, 2, &at), 3);
    uint32_t q = udiv_at(7, 0, &at);
    expect_fault("udiv by 0 with div_0_trp", EXC_USAGEFAULT, UFSR_DIVBYZERO, 0, at);
    expect_eq("  destination unchanged", q, 0x5555);
    fault_reset();
    sdiv_at(-7, 0, &at);
    expect_fault("sdiv by 0 with div_0_trp", EXC_USAGEFAULT, UFSR_DIVBYZERO, 0, at);
    SCB_CCR &= ~CCR_DIV_0_TRP;

    /* Unaligned accesses */
    uint32_t base = (uint32_t)data;
    fault_reset();
    expect_eq("unaligned ldr without unalign_trp", ldr_at(base + 1, &at), 0x55443322u);
    expect_eq("unaligned ldrh without unalign_trp", ldrh_at(base + 3, &at), 0x5544u);
    expect_eq("no fault", fr.count, 0);
    ldm_at(base + 2, &at);
    expect_fault("unaligned ldm (always faults)", EXC_USAGEFAULT, UFSR_UNALIGNED, 0, at);
    fault_reset();
    stm_at(base + 4 + 2, &at);
    expect_fault("unaligned stm (always faults)", EXC_USAGEFAULT, UFSR_UNALIGNED, 0, at);
    expect_eq("  memory unchanged", data[1], 0x88776655u);
    fault_reset();
    ldrd_at(base + 1, &at);
    expect_fault("unaligned ldrd (always faults)", EXC_USAGEFAULT, UFSR_UNALIGNED, 0, at);
    fault_reset();
    strd_at(base + 2, &at);
    expect_fault("unaligned strd (always faults)", EXC_USAGEFAULT, UFSR_UNALIGNED, 0, at);
    SCB_CCR |= CCR_UNALIGN_TRP;
    fault_reset();
    expect_eq("aligned ldr with unalign_trp", ldr_at(base + 4, &at), 0x88776655u);
    expect_eq("ldrb at an odd address with unalign_trp", ldrb_at(base + 5, &at), 0x66u);
    expect_eq("no fault", fr.count, 0);
    uint32_t v = ldr_at(base + 2, &at);
    expect_fault("unaligned ldr with unalign_trp", EXC_USAGEFAULT, UFSR_UNALIGNED, 0, at);
    expect_eq("  destination unchanged", v, 0x5555);
    fault_reset();
    ldrh_at(base + 1, &at);
    expect_fault("unaligned ldrh with unalign_trp", EXC_USAGEFAULT, UFSR_UNALIGNED, 0, at);
    fault_reset();
    str_at(base + 8 + 3, &at);
    expect_fault("unaligned str with unalign_trp", EXC_USAGEFAULT, UFSR_UNALIGNED, 0, at);
    expect_eq("  memory unchanged", data[2], 0xCCBBAA99u);
    SCB_CCR &= ~CCR_UNALIGN_TRP;

    /* INVSTATE: BLX to an even address tries to execute in ARM state. */
    fault_reset();
    uint32_t target = (uint32_t)target_function & ~1u, back;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "str %0, [%2]\n\t"
                     "blx %1\n\t"
                     "1:"
                     : "=&r"(back)
                     : "r"(target), "r"(&fault_resume)
                     : "r0", "r1", "r2", "r3", "r12", "lr", "memory");
    expect_fault("blx to an even address", EXC_USAGEFAULT, UFSR_INVSTATE, 0, target);
    expect_eq("  stacked xpsr.t clear", fr.xpsr & XPSR_T, 0);
    expect_eq("  stacked lr is the return address", fr.lr, back | 1);
    expect_eq("  target not executed", continued, 2);

    /* NOCP: a coprocessor instruction with no coprocessor present. */
    fault_reset();
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: mrc p7, 0, r0, c0, c0, 0"
                     : "=&r"(at)
                     :
                     : "r0", "memory");
    expect_fault("mrc p7 (no coprocessor)", EXC_USAGEFAULT, UFSR_NOCP, 0, at);

    expect_eq("usage faults do not touch hfsr", SCB_HFSR, 0);
    return check_done("sys_fault_usage");
}
