/* ITM stimulus port 0 (ARMv7-M ARM C1.7): with DEMCR.TRCENA, ITM_TCR.ITMENA and ITM_TER bit 0
 * set, characters written to STIM0 (after polling its FIFOREADY bit) go to the trace output,
 * which armlet routes to the console. Writes to a port disabled in TER, or with ITMENA clear,
 * are ignored. The checks print through semihosting; the ITM text is the single line
 * "Hello from ITM port 0", written between them. (Not checked on QEMU: it does not implement
 * the ITM; its registers read as zero.) */
#include "armv7m.h"
#include "check.h"

/* Waits for FIFOREADY (bounded, so this cannot hang where the ITM is missing), then writes. */
static void itm_putc(unsigned port, char c)
{
    for (unsigned n = 0; !(ITM_STIM(port) & 1) && n < 1000; n++) {
    }
    ITM_STIM8(port) = (uint8_t)c;
}

static void itm_puts(unsigned port, const char *s)
{
    while (*s)
        itm_putc(port, *s++);
}

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    ITM_LAR = 0xC5ACCE55u; /* unlock (a no-op where there is no lock) */
    ITM_TCR = ITM_TCR_ITMENA | (1u << ITM_TCR_TRACEBUSID_SHIFT);
    ITM_TER = 1u << 0;
    expect_eq("itm_tcr.itmena set", ITM_TCR & ITM_TCR_ITMENA, ITM_TCR_ITMENA);
    expect_eq("itm_ter: port 0 only", ITM_TER, 1);
    expect_eq("stim0 reads fifoready", ITM_STIM(0) & 1, 1);
    sh_puts("itm text follows\n");
    for (const char *p = "port 1 is disabled in TER\n"; *p; p++)
        ITM_STIM8(1) = (uint8_t)*p; /* ignored */
    itm_puts(0, "Hello from ITM port 0\n");
    ITM_TCR = 0;
    for (const char *p = "ITMENA is clear\n"; *p; p++)
        ITM_STIM8(0) = (uint8_t)*p; /* ignored */
    sh_puts("itm text done\n");
    return check_done("sys_itm");
}
