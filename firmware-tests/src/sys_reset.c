/* SYSRESETREQ (ARMv7-M ARM B1.5.16, B3.2.6): AIRCR writes without VECTKEY 0x05FA are ignored
 * (no reset, PRIGROUP unchanged); with the key, SYSRESETREQ resets the system. RAM survives:
 * a marker in .noinit (not zeroed by the startup code) tells the second boot from the first.
 * The second boot checks that the startup code ran again (.data re-initialised, .bss zeroed)
 * and that system registers changed before the reset are back at their reset values. */
#include "armv7m.h"
#include "check.h"

#define MAGIC 0x5EB00752u

__attribute__((section(".noinit"))) static volatile uint32_t boot_magic, boots, first_run, first_failed;
static volatile uint32_t data_var = 0x0DA7A0DAu;
static volatile uint32_t bss_var;

int main(void)
{
    if (boot_magic != MAGIC) {
        sh_puts("first boot\n");
        expect_eq("aircr reads vectkeystat 0xfa05", SCB_AIRCR >> 16, 0xFA05);
        SCB_AIRCR = (0x1234u << 16) | (5u << AIRCR_PRIGROUP_SHIFT);
        expect_eq("aircr write with a wrong key ignored (prigroup)", (SCB_AIRCR & AIRCR_PRIGROUP_MASK) >> AIRCR_PRIGROUP_SHIFT, 0);
        SCB_AIRCR = AIRCR_SYSRESETREQ; /* no key */
        dsb();
        spin(1000);
        expect("sysresetreq without the key ignored (still running)", 1);
        SCB_AIRCR = AIRCR_VECTKEY | (3u << AIRCR_PRIGROUP_SHIFT);
        expect_eq("aircr write with the key sets prigroup", (SCB_AIRCR & AIRCR_PRIGROUP_MASK) >> AIRCR_PRIGROUP_SHIFT, 3);

        /* Leave state behind that the reset must clear. */
        data_var = 1;
        bss_var = 2;
        SYST_RVR = 1000;
        SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE;
        nvic_enable(7);
        NVIC_IPR(7) = 0x60;
        SCB_SHCSR = SHCSR_USGFAULTENA;
        SCB_CCR |= CCR_DIV_0_TRP;
        SCB_SHPR(EXC_SYSTICK) = 0x40;

        boot_magic = MAGIC;
        boots = 1;
        first_run = checks_run;
        first_failed = checks_failed;
        sh_puts("requesting reset\n");
        SCB_AIRCR = AIRCR_VECTKEY | (3u << AIRCR_PRIGROUP_SHIFT) | AIRCR_SYSRESETREQ;
        dsb();
        spin(1000000);
        sh_puts("FAIL no reset after sysresetreq\n");
        boot_magic = 0;
        return 1;
    }
    sh_puts("second boot\n");
    boot_magic = 0;
    checks_run = first_run;
    checks_failed = first_failed;
    expect_eq("one boot before this one (noinit kept)", boots, 1);
    expect_eq(".data initialised again", data_var, 0x0DA7A0DAu);
    expect_eq(".bss zeroed again", bss_var, 0);
    expect_eq("prigroup reset", (SCB_AIRCR & AIRCR_PRIGROUP_MASK) >> AIRCR_PRIGROUP_SHIFT, 0);
    expect_eq("systick csr reset (enable, tickint)", SYST_CSR & 3, 0);
    expect_eq("nvic iser reset", NVIC_ISER(0), 0);
    expect_eq("nvic ipr reset", NVIC_IPR(7), 0);
    expect_eq("shcsr reset", SCB_SHCSR, 0);
    expect_eq("ccr.div_0_trp reset", SCB_CCR & CCR_DIV_0_TRP, 0);
    expect_eq("shpr3 reset", SCB_SHPR3, 0);
    expect_eq("thread mode, msp, privileged", get_control(), 0);
    expect_eq("ipsr 0", get_ipsr(), 0);
    return check_done("sys_reset");
}
