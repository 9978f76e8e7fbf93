/* The Rust example plugin gpio-leds (machines/plugin_gpio.toml: count = 6, initial = 0b101):
 * params reach the device (COUNT, OUT after reset), OUT/SET/CLR/TOGGLE, bits beyond COUNT
 * ignored, CHANGES counts only real changes; a byte access (the region is word-only) and an
 * unknown register are precise BusFaults, and the device works on afterwards. Each change is
 * logged by the plugin (checked by emulator/cli/tests/plugins.rs with -v). */
#include "plugin_devices.h"

int main(void)
{
    uint32_t at;
    enable_busfault();
    expect_eq("count param", LEDS_COUNT, 6);
    expect_eq("initial param", LEDS_OUT, 0x5);
    expect_eq("no changes yet", LEDS_CHANGES, 0);
    LEDS_SET = 0x2;
    expect_eq("set", LEDS_OUT, 0x7);
    LEDS_CLR = 0x1;
    expect_eq("clear", LEDS_OUT, 0x6);
    LEDS_TOGGLE = 0x3f;
    expect_eq("toggle", LEDS_OUT, 0x39);
    LEDS_OUT = 0xffffffffu;
    expect_eq("only 6 LEDs", LEDS_OUT, 0x3f);
    LEDS_SET = 0x1;
    expect_eq("changes counted", LEDS_CHANGES, 4);
    expect_eq("set/clr/toggle read 0", LEDS_SET | LEDS_CLR | LEDS_TOGGLE, 0);
    expect_eq("no inputs", LEDS_IN, 0);

    fault_reset();
    uint32_t v = load8_at(LEDS, &at);
    expect_bus_error("byte read of a word-only region", LEDS, at);
    expect_eq("  destination unchanged", v, 0x5555);
    load32_at(LEDS + 0x24, &at);
    expect_bus_error("unknown register", LEDS + 0x24, at);
    load32_at(LEDS + 0x100, &at);
    expect_bus_error("past the declared region", LEDS + 0x100, at);
    LEDS_OUT = 0;
    expect_eq("still works after bus errors", LEDS_OUT, 0);
    expect_eq("five changes", LEDS_CHANGES, 5);
    return check_done("plugin_gpio");
}
