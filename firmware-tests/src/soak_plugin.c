/* The plugin MMIO soak (emulator/cli/tests/soak.rs): feeds the crc32 C plugin
 * (machines/plugin_crc.toml) in a loop, one write to DATA and one read of COUNT per
 * iteration; prints "calls N" every 20,000 MMIO calls and "done N" after the number of
 * calls given as its argument (default 100,000), checking COUNT on the way. */
#include "plugin_devices.h"

static uint32_t arg_number(uint32_t dflt)
{
    static char buf[128];
    uint32_t block[2] = {(uint32_t)buf, sizeof buf};
    if (semihost(SYS_GET_CMDLINE, block) != 0)
        return dflt;
    const char *p = buf;
    while (*p && *p != ' ')
        p++;
    while (*p == ' ')
        p++;
    if (*p < '0' || *p > '9')
        return dflt;
    uint32_t n = 0;
    while (*p >= '0' && *p <= '9')
        n = n * 10 + (uint32_t)(*p++ - '0');
    return n;
}

int main(void)
{
    uint32_t total = arg_number(100000);
    CRC_CTRL = 1;
    uint32_t calls = 1;
    for (uint32_t i = 0; calls < total; i++) {
        CRC_DATA32 = i;
        if (CRC_COUNT != 4 * (i + 1)) {
            sh_puts("FAIL count\n");
            return 1;
        }
        calls += 2;
        if (calls % 20000 < 2) {
            sh_puts("calls ");
            sh_put_dec(calls);
            sh_puts("\n");
        }
    }
    sh_puts("done ");
    sh_put_dec(calls);
    sh_puts("\n");
    return 0;
}
