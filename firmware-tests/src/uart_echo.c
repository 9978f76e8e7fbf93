/* UART receive by polling (mps2-an385 CMSDK UART0): echoes the characters received on RX in
 * upper case on TX until it receives '\n', then reports through semihosting and exits 0.
 * The test feeds it stdin (QEMU: -serial stdio; armlet: the manifest's stdin). */
#include "check.h"
#include "uart.h"

int main(void)
{
    qemu_serial_kick();
    cmsdk_uart_init(CMSDK_UART0, CMSDK_CTRL_TXEN | CMSDK_CTRL_RXEN);
    unsigned n = 0;
    for (;;) {
        char c = cmsdk_uart_getc(CMSDK_UART0);
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        cmsdk_uart_putc(CMSDK_UART0, c);
        if (c == '\n')
            break;
        n++;
    }
    while (CMSDK_UART_STATE(CMSDK_UART0) & CMSDK_STATE_TXFULL) {
    }
    sh_puts("received ");
    sh_put_dec(n);
    sh_puts(" characters before the newline\n");
    return 0;
}
