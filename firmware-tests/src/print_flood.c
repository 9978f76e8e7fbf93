/* Prints numbered lines forever, as fast as it can: "line 00000000 <filler>\n" (64 bytes a
 * line). With the argument `uart` through the console UART (byte by byte), otherwise through
 * semihosting SYS_WRITE0 (a line per call). For the "output is never lost" tests: killed with
 * SIGINT/SIGTERM, armlet must leave every line written before the signal on stdout, with no
 * gap (emulator/cli/tests/cli.rs). */
#include "semihost.h"
#include "uart.h"

static int arg_is_uart(void)
{
    static char buf[128];
    uint32_t block[2] = {(uint32_t)buf, sizeof buf};
    if (semihost(SYS_GET_CMDLINE, block) != 0)
        return 0;
    const char *p = buf;
    while (*p && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    return p[0] == 'u' && p[1] == 'a' && p[2] == 'r' && p[3] == 't';
}

int main(void)
{
    static char line[65] = "line 00000000 abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN\n";
    int uart = arg_is_uart();
    if (uart)
        cmsdk_uart_init(CMSDK_UART0, CMSDK_CTRL_TXEN);
    for (uint32_t n = 0;; n++) {
        uint32_t v = n;
        for (int i = 12; i >= 5; i--) {
            line[i] = (char)('0' + v % 10);
            v /= 10;
        }
        if (uart) {
            for (const char *s = line; *s; s++)
                cmsdk_uart_putc(CMSDK_UART0, *s);
        } else {
            sh_puts(line);
        }
    }
}
