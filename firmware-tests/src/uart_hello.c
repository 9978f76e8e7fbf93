/* Prints "Hello from <board> UART" through the board's console UART (not semihosting), then
 * exits 0 through semihosting. Built per board: BOARD is the name, PL011 selects the
 * Stellaris UART (lm3s6965evb) instead of the CMSDK UART (mps2-an385/an386/an500). */
#include "semihost.h"
#include "uart.h"

#ifndef BOARD
#error "build with -DBOARD=\"...\""
#endif

int main(void)
{
    const char *s = "Hello from " BOARD " UART\n";
#ifdef PL011
    pl011_uart_init(PL011_UART0);
    while (*s)
        pl011_uart_putc(PL011_UART0, *s++);
    pl011_uart_flush(PL011_UART0);
#else
    cmsdk_uart_init(CMSDK_UART0, CMSDK_CTRL_TXEN);
    while (*s)
        cmsdk_uart_putc(CMSDK_UART0, *s++);
    while (CMSDK_UART_STATE(CMSDK_UART0) & CMSDK_STATE_TXFULL) {
    }
#endif
    return 0;
}
