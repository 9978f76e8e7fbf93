/*
 * armlet_plugin.h: the armlet peripheral plugin ABI, version 1.0.
 *
 * A plugin is a shared library (.so / .dylib / .dll) that exports exactly two symbols:
 *
 *   armlet_plugin_abi_version   const uint32_t: (major << 16) | minor of this header.
 *                               The host reads it before running any plugin code and
 *                               refuses a different major or a newer minor than its own.
 *   armlet_plugin_entry         the one entry function: returns the plugin's description
 *                               (its device types and their operations).
 *
 * Everything else goes through the structs below. Rules of the ABI:
 *
 * - Only fixed-width integers, pointer + length strings (armlet_str, UTF-8, not
 *   NUL-terminated), pointers to the structs below and nullable function pointers cross
 *   the boundary. Enumerations are uint32_t constants; the host validates them.
 * - Every struct that may grow starts with `struct_size` (= sizeof of the struct as the
 *   writer compiled it). New minor versions only append fields. A reader never reads past
 *   `struct_size`; fields it does not find are zero/NULL. An array of such structs is
 *   walked with the stride of its first element's `struct_size` (see ARMLET_AT).
 * - Whoever allocates frees: the host's buffers, writers and argument structs live only
 *   for the call they are passed to; the plugin's descriptions must live as long as the
 *   library is loaded (the host never unloads a plugin during a run).
 * - Devices see offsets into their register regions, never addresses.
 * - Host services (armlet_ctx) may be used only during a callback that received the
 *   context, on the thread running that callback. The one exception is `wake`, which any
 *   thread may call at any time with the instance's armlet_waker.
 * - One instance is never called from two threads at once, but successive calls may come
 *   from different threads.
 * - Device models must be deterministic: no wall clock, no unseeded randomness; use the
 *   host's virtual time (`now`) and timers (`schedule`).
 * - Build with -fvisibility=hidden: ARMLET_EXPORT marks the two exported symbols.
 *
 * Minimal plugin (see device-plugins/examples/crc/crc.c for a complete one):
 *
 *   #include "armlet_plugin.h"
 *   ARMLET_EXPORT const uint32_t armlet_plugin_abi_version = ARMLET_PLUGIN_ABI_VERSION;
 *   ARMLET_EXPORT const armlet_plugin_info *armlet_plugin_entry(uint32_t host_abi_version)
 *   {
 *       (void)host_abi_version;
 *       return &my_plugin_info;
 *   }
 */
#ifndef ARMLET_PLUGIN_H
#define ARMLET_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions --------------------------------------------------------------------- */

#define ARMLET_PLUGIN_ABI_MAJOR 1u
#define ARMLET_PLUGIN_ABI_MINOR 0u
#define ARMLET_PLUGIN_ABI_VERSION ((ARMLET_PLUGIN_ABI_MAJOR << 16) | ARMLET_PLUGIN_ABI_MINOR)

#if defined(_WIN32)
#define ARMLET_EXPORT __declspec(dllexport)
#else
#define ARMLET_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Status codes (armlet_status) ------------------------------------------------- */

typedef int32_t armlet_status;
/* Success. */
#define ARMLET_OK 0
/* This access fails: the guest sees a precise bus error (BusFault PRECISERR). The device
 * stays usable (e.g. a register that does not exist). */
#define ARMLET_BUS_ERROR 1
/* The device instance is broken (e.g. a Rust panic caught at the boundary). The host marks
 * the instance failed: it lowers its IRQs, logs which plugin failed, and every later access
 * is a bus error. Any status the host does not know is treated the same way. */
#define ARMLET_FAILED 2
/* Not supported (e.g. `save` by a device without snapshot support). */
#define ARMLET_UNSUPPORTED 3
/* Bad arguments (e.g. `create` with parameters it cannot accept, `restore` of a state
 * version it does not know); log why before returning it. */
#define ARMLET_INVALID 4

/* ---- Basic types ------------------------------------------------------------------ */

/* A UTF-8 string: pointer and length in bytes, not NUL-terminated. {NULL, 0} is "". */
typedef struct armlet_str {
    const char *ptr;
    size_t len;
} armlet_str;

/* An armlet_str from a string literal. */
#define ARMLET_STR(lit) {(lit), sizeof(lit) - 1}

/* Element i of an array of size-prefixed structs (stride: the first element's size). */
#define ARMLET_AT(type, array, i) \
    ((const type *)(const void *)((const char *)(array) + (size_t)(i) * (array)[0].struct_size))

/* Log levels for armlet_host_api.log (routed into the host's `tracing`). */
#define ARMLET_LOG_ERROR 1u
#define ARMLET_LOG_WARN 2u
#define ARMLET_LOG_INFO 3u
#define ARMLET_LOG_DEBUG 4u
#define ARMLET_LOG_TRACE 5u

/* Parameter kinds. */
#define ARMLET_PARAM_BOOL 1u   /* true/false; int_value 0 or 1 */
#define ARMLET_PARAM_INT 2u    /* a TOML integer in [min, max]; int_value */
#define ARMLET_PARAM_STRING 3u /* a TOML string; str_value */

/* Access sizes a register region allows (a mask: the bit is the size in bytes). */
#define ARMLET_ACCESS_8 1u
#define ARMLET_ACCESS_16 2u
#define ARMLET_ACCESS_32 4u
#define ARMLET_ACCESS_ALL 7u

/* ---- Host services ----------------------------------------------------------------- */

typedef struct armlet_host_api armlet_host_api;

/* The context of one callback. Only `struct_size` and `api` are for the plugin: the host's
 * private data follows them. Valid only during the callback it was passed to. */
typedef struct armlet_ctx {
    uint32_t struct_size;
    uint32_t reserved;
    const armlet_host_api *api;
} armlet_ctx;

/* Opaque: the handle through which a plugin's own threads call `wake`. */
typedef struct armlet_waker armlet_waker;

/* A sink for snapshot bytes (`save`); valid only during that call. */
typedef struct armlet_writer {
    uint32_t struct_size;
    uint32_t reserved;
    /* Append `len` bytes to the state blob. Returns ARMLET_OK. */
    armlet_status (*write)(struct armlet_writer *w, const uint8_t *bytes, size_t len);
} armlet_writer;

struct armlet_host_api {
    uint32_t struct_size;
    uint32_t reserved;
    /* Log a message (level ARMLET_LOG_*); the host names the plugin and the instance. */
    void (*log)(armlet_ctx *ctx, uint32_t level, armlet_str msg);
    /* Virtual time now, in CPU cycles since power-on. */
    uint64_t (*now)(armlet_ctx *ctx);
    /* The CPU clock in Hz (CPU cycles per virtual second). */
    uint64_t (*cpu_hz)(armlet_ctx *ctx);
    /* Drive IRQ output `output` (index into the type's irq_outputs) to `level` (0 or 1).
     * Latched: the interrupt controller sees it at the next instruction boundary. An
     * output the machine file did not wire is ignored. */
    void (*set_irq)(armlet_ctx *ctx, uint32_t output, uint32_t level);
    /* Call the device's `timer` with `token` when virtual time reaches `at` (CPU cycles).
     * A time in the past fires at the next instruction boundary. Replaces an earlier
     * timer with the same token. */
    void (*schedule)(armlet_ctx *ctx, uint64_t at, uint64_t token);
    /* Cancel the timer with `token`, if any. */
    void (*cancel)(armlet_ctx *ctx, uint64_t token);
    /* Read guest RAM/ROM at `addr` (all or nothing). ARMLET_BUS_ERROR if any byte is not
     * RAM or ROM. */
    armlet_status (*dma_read)(armlet_ctx *ctx, uint32_t addr, uint8_t *buf, size_t len);
    /* Write guest RAM at `addr` (all or nothing; ROM and devices are refused). */
    armlet_status (*dma_write)(armlet_ctx *ctx, uint32_t addr, const uint8_t *bytes, size_t len);
    /* Thread-safe, callable at any time: the device has input ready. The host calls the
     * device's `wake` callback on the emulator thread before the instance's next callback
     * (an MMIO access or a timer). Keep a timer scheduled while the guest may sleep waiting
     * for such input: a wake is noticed at the latest when that timer fires. */
    void (*wake)(armlet_waker *waker);
    /* 1 if a message at `level` would be logged (skip formatting it otherwise). */
    uint32_t (*log_enabled)(armlet_ctx *ctx, uint32_t level);
};

/* Convenience wrappers. */
static inline void armlet_log(armlet_ctx *ctx, uint32_t level, const char *msg, size_t len) {
    armlet_str s = {msg, len};
    ctx->api->log(ctx, level, s);
}
static inline int armlet_log_enabled(armlet_ctx *ctx, uint32_t level) {
    return ctx->api->log_enabled(ctx, level) != 0;
}
static inline uint64_t armlet_now(armlet_ctx *ctx) { return ctx->api->now(ctx); }
static inline uint64_t armlet_cpu_hz(armlet_ctx *ctx) { return ctx->api->cpu_hz(ctx); }
static inline void armlet_set_irq(armlet_ctx *ctx, uint32_t output, int level) {
    ctx->api->set_irq(ctx, output, level ? 1u : 0u);
}
static inline void armlet_schedule(armlet_ctx *ctx, uint64_t at, uint64_t token) {
    ctx->api->schedule(ctx, at, token);
}
static inline void armlet_cancel(armlet_ctx *ctx, uint64_t token) { ctx->api->cancel(ctx, token); }
static inline armlet_status armlet_dma_read(armlet_ctx *ctx, uint32_t addr, uint8_t *buf, size_t len) {
    return ctx->api->dma_read(ctx, addr, buf, len);
}
static inline armlet_status armlet_dma_write(armlet_ctx *ctx, uint32_t addr, const uint8_t *bytes,
                                             size_t len) {
    return ctx->api->dma_write(ctx, addr, bytes, len);
}

/* ---- Device types ------------------------------------------------------------------ */

/* One parameter a device type takes (`params` in the machine file). The host rejects
 * unknown keys, wrong kinds, integers outside [min, max] and missing required ones before
 * creating anything. */
typedef struct armlet_param_desc {
    uint32_t struct_size;
    uint32_t kind;          /* ARMLET_PARAM_* */
    armlet_str name;
    armlet_str doc;
    uint32_t required;      /* 1: no default; the machine file must give it */
    uint32_t reserved;
    int64_t default_int;    /* BOOL (0/1) and INT default */
    armlet_str default_str; /* STRING default */
    int64_t min;            /* INT: allowed range, inclusive */
    int64_t max;
} armlet_param_desc;

/* One register region. A type's regions are laid out one after the other from the device's
 * base address, in declaration order (region i starts where region i-1 ends), so a
 * machine file places the whole device with one `base`. The host refuses access sizes not
 * in `access`, and accesses that straddle two regions, before calling the device (the
 * guest sees a bus error). */
typedef struct armlet_region_desc {
    uint32_t struct_size;
    uint32_t size;   /* bytes, > 0, a multiple of 4 */
    uint32_t access; /* ARMLET_ACCESS_* mask */
    uint32_t reserved;
    armlet_str name;
} armlet_region_desc;

/* A parameter value given to `create`: one per declared parameter, in declaration order,
 * defaults filled in. Walk the array with ARMLET_AT (the host's struct may be newer). */
typedef struct armlet_param_value {
    uint32_t struct_size;
    uint32_t kind;
    armlet_str name;
    int64_t int_value;    /* BOOL, INT */
    armlet_str str_value; /* STRING */
} armlet_param_value;

typedef struct armlet_create_args {
    uint32_t struct_size;
    uint32_t reserved;
    armlet_str instance_name;          /* the machine file's `name` */
    const armlet_param_value *params; /* see armlet_param_value */
    size_t num_params;
    armlet_waker *waker; /* for `wake`; valid as long as the library is loaded */
    uint64_t cpu_hz;
} armlet_create_args;

/* What a device type does. `dev` is the pointer `create` returned. Required: create,
 * destroy, read, write. The others may be NULL. Returning anything but ARMLET_OK or
 * ARMLET_BUS_ERROR from read/write (or anything but ARMLET_OK from reset/timer/wake/
 * gpio_in) marks the instance failed. */
typedef struct armlet_device_ops {
    uint32_t struct_size;
    uint32_t reserved;
    /* Make an instance. `ctx` offers only `log`, `now` and `cpu_hz` here. */
    armlet_status (*create)(armlet_ctx *ctx, const armlet_create_args *args, void **out_dev);
    void (*destroy)(void *dev);
    /* MMIO read/write of `size` (1, 2 or 4) bytes at `offset` into region `region`. The host
     * has checked that the access lies inside that region, is a size the region allows and
     * is aligned (`offset` is a multiple of `size`); a read's value is masked to `size`. */
    armlet_status (*read)(void *dev, armlet_ctx *ctx, uint32_t region, uint32_t offset,
                          uint32_t size, uint32_t *value);
    armlet_status (*write)(void *dev, armlet_ctx *ctx, uint32_t region, uint32_t offset,
                           uint32_t size, uint32_t value);
    /* Side-effect-free read for debuggers (must not pop a FIFO or clear a status). Return
     * ARMLET_BUS_ERROR if the register cannot be read without side effects. No host
     * services. */
    armlet_status (*debug_peek)(void *dev, uint32_t region, uint32_t offset, uint32_t size,
                                uint32_t *value);
    /* Machine reset (also called once after create): return to the power-on state and
     * lower any IRQ outputs. */
    armlet_status (*reset)(void *dev, armlet_ctx *ctx);
    /* A timer set with `schedule` is due: now() is its time. */
    armlet_status (*timer)(void *dev, armlet_ctx *ctx, uint64_t token);
    /* Someone called `wake` for this instance since its last callback. */
    armlet_status (*wake)(void *dev, armlet_ctx *ctx);
    /* GPIO input `line` (index into gpio_inputs) changed to `level`. */
    armlet_status (*gpio_in)(void *dev, armlet_ctx *ctx, uint32_t line, uint32_t level);
    /* Snapshot: write the device state (format version: the type's state_version). */
    armlet_status (*save)(void *dev, armlet_writer *w);
    /* Restore a state written by `save` with format `version` (ARMLET_INVALID if unknown). */
    armlet_status (*restore)(void *dev, const uint8_t *bytes, size_t len, uint32_t version);
} armlet_device_ops;

typedef struct armlet_device_type {
    uint32_t struct_size;
    uint32_t state_version; /* version of the `save` format; 0: cannot snapshot */
    armlet_str name;        /* the machine file's `type` */
    armlet_str doc;         /* one line */
    const armlet_param_desc *params;
    size_t num_params;
    const armlet_region_desc *regions; /* at least one */
    size_t num_regions;
    const armlet_str *irq_outputs;     /* names, in machine-file `irq` order */
    size_t num_irq_outputs;
    const armlet_str *gpio_inputs;     /* names */
    size_t num_gpio_inputs;
    const armlet_device_ops *ops;
} armlet_device_type;

typedef struct armlet_plugin_info {
    uint32_t struct_size;
    uint32_t abi_version; /* ARMLET_PLUGIN_ABI_VERSION, again */
    armlet_str name;      /* the plugin's name */
    armlet_str version;   /* the plugin's own version */
    const armlet_device_type *types;
    size_t num_types;
} armlet_plugin_info;

/* ---- The two exported symbols -------------------------------------------------------- */

ARMLET_EXPORT extern const uint32_t armlet_plugin_abi_version;
/* Called once, after the host accepted armlet_plugin_abi_version, with the host's ABI
 * version. Return NULL to refuse (log nothing: there is no context yet). */
ARMLET_EXPORT const armlet_plugin_info *armlet_plugin_entry(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* ARMLET_PLUGIN_H */
