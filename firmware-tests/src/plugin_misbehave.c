/* The misbehaving test plugin (device-plugins/examples/misbehave; machines/
 * plugin_misbehave.toml places one device per mode). Each misbehaviour is reported by armlet
 * naming the plugin (checked by emulator/cli/tests/plugins.rs); here the guest checks what it
 * sees: a precise BusFault where the plugin failed (and on every later access to that
 * device), refused host services having no effect (no IRQ raised, error statuses), and the
 * rest of the machine intact: RAM, the well-behaved device, the NVIC. With the argument
 * `hang` it writes to the device that never returns (the run must end by --timeout). */
#include "plugin_devices.h"

#define MB(i) (0x50000000u + 0x100u * (i))
#define GOOD MB(0)
#define STATUS MB(1)
#define OVERRUN MB(2)
#define KEEP MB(3)
#define OUTSIDE MB(4)
#define BADDMA MB(5)
#define SLOW MB(6)
#define HANG MB(7)
#define ID 0x0
#define TRIGGER 0x4
#define SCRATCH 0x8
#define RESULT 0xc

static uint32_t ram[256];

static uint32_t ram_sum(void)
{
    uint32_t s = 0;
    for (unsigned i = 0; i < 256; i++)
        s = s * 31 + ram[i];
    return s;
}

static int has_arg(const char *word)
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
    for (unsigned i = 0;; i++) {
        if (word[i] == 0)
            return p[i] == 0 || p[i] == ' ';
        if (p[i] != word[i])
            return 0;
    }
}

static int irq_pending(unsigned irq) { return (NVIC_ISPR(irq / 32) >> (irq % 32)) & 1; }

int main(void)
{
    uint32_t at;
    for (unsigned i = 0; i < 256; i++)
        ram[i] = i * 0x01010101u;
    uint32_t sum = ram_sum();
    enable_busfault();

    if (has_arg("hang")) {
        sh_puts("writing to the device that never returns\n");
        REG32(HANG + TRIGGER) = 1;
        sh_puts("FAIL: the hanging write returned\n");
        return 1;
    }

    /* A positive control: the well-behaved device works and can raise its IRQ. */
    expect_eq("good: id", REG32(GOOD + ID), 0x600DF00Du);
    REG32(GOOD + SCRATCH) = 0x1234;
    expect_eq("good: scratch", REG32(GOOD + SCRATCH), 0x1234);
    REG32(GOOD + TRIGGER) = 1;
    expect_eq("good: irq 24 raised", irq_pending(24), 1);
    REG32(GOOD + TRIGGER) = 0;
    NVIC_ICPR(0) = 1u << 24;

    /* A status the ABI does not define: the instance fails. */
    expect_eq("bad-status: works before", REG32(STATUS + ID), 0x600DF00Du);
    store32_at(STATUS + TRIGGER, 1, &at);
    expect_bus_error("bad-status: the write", STATUS + TRIGGER, at);
    load32_at(STATUS + ID, &at);
    expect_bus_error("bad-status: read after", STATUS + ID, at);

    /* Writing 16 bytes through the 4-byte read pointer: detected, the instance fails. */
    uint32_t v = load32_at(OVERRUN + ID, &at);
    expect_bus_error("overrun: the read", OVERRUN + ID, at);
    expect_eq("  nothing loaded", v, 0x5555);
    load32_at(OVERRUN + SCRATCH, &at);
    expect_bus_error("overrun: read after", OVERRUN + SCRATCH, at);

    /* A read pointer kept and written (past its end) in a later callback. */
    expect_eq("keep-pointer: id", REG32(KEEP + ID), 0x600DF00Du);
    store32_at(KEEP + TRIGGER, 1, &at);
    expect_bus_error("keep-pointer: the write", KEEP + TRIGGER, at);

    /* Host services outside a callback: refused, no effect; the device keeps working. */
    REG32(OUTSIDE + TRIGGER) = 1; /* set_irq + log from the plugin's own thread */
    expect_eq("outside: thread's irq 25 refused", irq_pending(25), 0);
    REG32(OUTSIDE + TRIGGER) = 2; /* a garbage context pointer */
    expect_eq("outside: garbage ctx irq refused", irq_pending(25), 0);
    expect_eq("outside: garbage ctx dma_write INVALID", REG32(OUTSIDE + RESULT), 4);
    expect_eq("outside: still works", REG32(OUTSIDE + ID), 0x600DF00Du);

    /* Garbage sizes to host services: error statuses, nothing written. */
    REG32(BADDMA + TRIGGER) = 1;
    expect_eq("bad-dma: dma_read/dma_write BUS_ERROR", REG32(BADDMA + RESULT), 0x101);
    expect_eq("bad-dma: irq 26 untouched", irq_pending(26), 0);

    /* A slow callback: the watchdog reports it; the access completes. */
    REG32(SLOW + TRIGGER) = 1;
    expect_eq("slow: works after", REG32(SLOW + ID), 0x600DF00Du);

    /* The rest of the machine is intact. */
    expect_eq("RAM intact", ram_sum(), sum);
    expect_eq("good: still works", REG32(GOOD + SCRATCH), 0x1234);
    expect_eq("no stray irq 24", irq_pending(24), 0);
    sh_puts("still running\n");
    return check_done("plugin_misbehave");
}
