/* Binary console output, as defmt/ITM-style loggers produce: every byte value 0x00-0xFF in
 * order, then an ANSI-coloured CRLF line, through semihosting SYS_WRITE on the `:tt` stdout
 * handle, and "err\0\xff\n" on the stderr handle (byte-exact on QEMU too). `armlet test` must compare and report these bytes
 * losslessly (emulator/cli/tests/test_cmd.rs). */
#include "semihost.h"

int main(void)
{
    static const char tt[] = ":tt";
    uint32_t open[3] = {(uint32_t)tt, 4 /* "w" */, 3};
    uint32_t h = semihost(SYS_OPEN, open);
    static uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    uint32_t w[3] = {h, (uint32_t)all, sizeof all};
    if (semihost(SYS_WRITE, w) != 0)
        return 1;
    static const char tail[] = "\x1b[31mred\x1b[0m\\x41\r\n";
    uint32_t w2[3] = {h, (uint32_t)tail, sizeof tail - 1};
    if (semihost(SYS_WRITE, w2) != 0)
        return 1;
    /* `:tt` opened for appending is stderr. */
    uint32_t open_err[3] = {(uint32_t)tt, 8 /* "a" */, 3};
    uint32_t e = semihost(SYS_OPEN, open_err);
    static const char err[] = "err\x00\xff\n";
    uint32_t w3[3] = {e, (uint32_t)err, sizeof err - 1};
    return semihost(SYS_WRITE, w3) != 0;
}
