/* Firmware that waits for a debugger to enable the ITM, as defmt-itm and cortex-m's
 * iprintln! do: it never touches DEMCR, ITM_TCR or ITM_TER itself, and every stimulus write
 * first spins on the port's FIFOREADY bit (ARMv7-M ARM C1.7.5), which reads 0 until
 * ITM_TCR.ITMENA is set. With `armlet run --itm` (a probe's set-up: DEMCR.TRCENA, ITMENA,
 * all ports in TER, TPR 0) it writes a text line to port 0 and binary records to port 1
 * (byte, halfword and word writes, as cortex_m::itm::write_all issues them), then reports
 * what it found through semihosting. Without --itm it spins in the first FIFOREADY poll
 * forever and prints nothing. */
#include "armv7m.h"
#include "check.h"

static void wait_ready(unsigned port)
{
    while (!(ITM_STIM(port) & 1)) {
    }
}

static void itm_put8(unsigned port, uint8_t v)
{
    wait_ready(port);
    ITM_STIM8(port) = v;
}

static void itm_put16(unsigned port, uint16_t v)
{
    wait_ready(port);
    *(volatile uint16_t *)&ITM_STIM(port) = v;
}

static void itm_put32(unsigned port, uint32_t v)
{
    wait_ready(port);
    ITM_STIM(port) = v;
}

int main(void)
{
    for (const char *p = "Hello from ITM port 0\n"; *p; p++)
        itm_put8(0, (uint8_t)*p);
    /* Port 1: a defmt-like binary stream: 0x00, 0xff, 0x0a, then little-endian 0x1234 and
     * 0xdeadbeef: 00 ff 0a 34 12 ef be ad de. */
    itm_put8(1, 0x00);
    itm_put8(1, 0xff);
    itm_put8(1, 0x0a);
    itm_put16(1, 0x1234);
    itm_put32(1, 0xdeadbeefu);
    expect_eq("demcr.trcena set by the probe", DEMCR & DEMCR_TRCENA, DEMCR_TRCENA);
    expect_eq("itm_tcr.itmena set by the probe", ITM_TCR & ITM_TCR_ITMENA, ITM_TCR_ITMENA);
    expect_eq("itm_ter: every port", ITM_TER, 0xffffffffu);
    expect_eq("itm_tpr: unprivileged access", ITM_TPR, 0);
    return check_done("itm_probe");
}
