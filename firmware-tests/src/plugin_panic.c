/* A plugin device that panics (the test plugin "faulty"; machines/plugin_panic.toml): before,
 * it works and its recoverable error is a BusFault that leaves it usable; the write that
 * panics is a precise BusFault (PRECISERR, BFAR = the register), and so is every later
 * access to the failed device; the rest of the machine runs on and the firmware exits 0.
 * The log names the plugin (checked by emulator/cli/tests/plugins.rs). */
#include "plugin_devices.h"

int main(void)
{
    uint32_t at;
    enable_busfault();
    expect_eq("works before", REG32(FAULTY), 0x600DF00Du);
    expect_eq("param count", REG32(FAULTY + 0xc), 3 | (5u << 16));
    fault_reset();
    load32_at(FAULTY + 4, &at);
    expect_bus_error("recoverable error", FAULTY + 4, at);
    expect_eq("still works", REG32(FAULTY), 0x600DF00Du);

    store32_at(FAULTY, 1, &at);
    expect_bus_error("write that panics", FAULTY, at);
    uint32_t v = load32_at(FAULTY, &at);
    expect_bus_error("read after the failure", FAULTY, at);
    expect_eq("  destination unchanged", v, 0x5555);
    store32_at(FAULTY + 8, 1, &at);
    expect_bus_error("write after the failure", FAULTY + 8, at);
    sh_puts("still running\n");
    return check_done("plugin_panic");
}
