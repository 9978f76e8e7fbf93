/* BusFaults (ARMv7-M ARM B3.2.15-16): a load from an address nothing answers (0x30000000 on
 * mps2-an385) is a precise BusFault, BFSR = PRECISERR|BFARVALID with BFAR = the address and
 * the stacked PC = the load; an instruction fetch from there is IBUSERR with BFAR not valid
 * and the stacked PC = the address fetched; an unprivileged access to the System Control
 * Space is a precise BusFault too. The handler resumes after the access or, for the fetch,
 * at the stacked LR (the caller). */
#include "fault.h"

#define UNMAPPED 0x30000000u

static uint32_t load_at(uint32_t addr, uint32_t *at)
{
    uint32_t v = 0x5555;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: ldr.w %1, [%2]"
                     : "=&r"(*at), "+&r"(v)
                     : "r"(addr)
                     : "memory");
    return v;
}

static uint32_t loadb_at(uint32_t addr, uint32_t *at)
{
    uint32_t v = 0x5555;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: ldrb.w %1, [%2]"
                     : "=&r"(*at), "+&r"(v)
                     : "r"(addr)
                     : "memory");
    return v;
}

static uint32_t psp_stack[128] __attribute__((aligned(8)));
static volatile uint32_t unpriv_at, unpriv_val;

static void unprivileged_scs_read(void)
{
    uint32_t at;
    set_control(3); /* unprivileged, on the PSP */
    isb();
    unpriv_val = load_at(0xE000ED04u, &at); /* ICSR */
    unpriv_at = at;
    __asm__ volatile("svc #0" ::: "memory"); /* back to privileged */
}

void SVC_Handler(void) { set_control(get_control() & ~1u); }

int main(void)
{
    uint32_t at;
    SCB_SHCSR |= SHCSR_BUSFAULTENA;
    expect_eq("shcsr.busfaultena", SCB_SHCSR & SHCSR_BUSFAULTENA, SHCSR_BUSFAULTENA);

    fault_reset();
    uint32_t v = load_at(UNMAPPED, &at);
    expect_fault("ldr from 0x30000000", EXC_BUSFAULT, BFSR_PRECISERR | BFSR_BFARVALID, 0, at);
    expect_eq("  bfar", fr.bfar, UNMAPPED);
    expect_eq("  exc_return thread/msp", fr.exc_return, EXC_RETURN_THREAD_MSP);
    expect_eq("  destination unchanged", v, 0x5555);
    expect_eq("  cfsr cleared by writing ones", SCB_CFSR, 0);

    fault_reset();
    loadb_at(UNMAPPED + 0x1233, &at);
    expect_fault("ldrb from 0x30001233", EXC_BUSFAULT, BFSR_PRECISERR | BFSR_BFARVALID, 0, at);
    expect_eq("  bfar", fr.bfar, UNMAPPED + 0x1233);

    /* Instruction fetch: BLX to UNMAPPED|1; the handler resumes at the return address. */
    fault_reset();
    uint32_t back;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "str %0, [%2]\n\t"
                     "blx %1\n\t"
                     "1:"
                     : "=&r"(back)
                     : "r"(UNMAPPED | 1), "r"(&fault_resume)
                     : "r0", "r1", "r2", "r3", "r12", "lr", "memory");
    sh_puts("fetch from 0x30000000:\n");
    expect_eq("  one fault", fr.count, 1);
    expect_eq("  exception number", fr.exc, EXC_BUSFAULT);
    expect_eq("  cfsr ibuserr (bfar not valid)", fr.cfsr, BFSR_IBUSERR);
    expect_eq("  stacked pc is the address fetched", fr.pc, UNMAPPED);
    expect_eq("  stacked lr is the return address", fr.lr, back | 1);

    /* Unprivileged read of ICSR. */
    fault_reset();
    call_on_psp(unprivileged_scs_read, &psp_stack[128]);
    expect_fault("unprivileged read of icsr", EXC_BUSFAULT, BFSR_PRECISERR | BFSR_BFARVALID, 0, unpriv_at);
    expect_eq("  bfar", fr.bfar, 0xE000ED04u);
    expect_eq("  exc_return thread/psp", fr.exc_return, EXC_RETURN_THREAD_PSP);
    expect_eq("  destination unchanged", unpriv_val, 0x5555);

    expect_eq("bus faults do not touch hfsr", SCB_HFSR, 0);
    return check_done("sys_fault_bus");
}
