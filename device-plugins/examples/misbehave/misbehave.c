/*
 * A deliberately misbehaving plugin, for armlet's containment tests (not an example to
 * copy). Device type "misbehave": one region of 0x10 bytes (any access size), IRQ output
 * "irq", params `mode` (string, default "good") and `delay_ms` (for "slow", default 1500).
 *
 * Offset  Register
 * 0x00    ID       read: 0x600DF00D (modes "overrun" and "keep-pointer" misbehave here)
 * 0x04    TRIGGER  write: do this mode's misbehaviour (value: which one, see below)
 * 0x08    SCRATCH  read/write
 * 0x0c    RESULT   read: what the last trigger observed (host statuses)
 *
 * Modes, and what writing TRIGGER does:
 *   good          drives the IRQ output to bit 0 of the value (a positive control)
 *   bad-status    returns status 77, which the ABI does not define
 *   overrun       (on reading ID) writes 16 bytes through the 4-byte `value` pointer
 *   keep-pointer  (reading ID keeps the `value` pointer) writes through the kept pointer,
 *                 4 bytes past its end, after the read has returned
 *   outside       calls host services with a context outside its callback: value 1, from a
 *                 thread of its own (set_irq, log); value 2, with a garbage context pointer;
 *                 `destroy` (no context) logs through the context kept from `create`
 *   bad-dma       host services with garbage sizes: dma_read of SIZE_MAX bytes, dma_write
 *                 running past 4 GiB, a log message of 1 MiB (the buffer is 8 bytes),
 *                 set_irq on output 99; RESULT = dma_read status | dma_write status << 8
 *   slow          sleeps `delay_ms` milliseconds in the callback, then works
 *   hang          never returns
 *   null-create   `create` returns OK without an instance
 *
 * Built with -DBAD_DESC=N, the self-description itself is garbage (one kind per N; armlet
 * must refuse to load it, naming the file):
 *   1 region size 0     2 region size 6        3 access mask 0x80
 *   4 type struct_size 4 (too small)            5 num_types = 1 << 20
 *   6 NULL `read`       7 NULL name of length 5 8 regions adding up past 4 GiB
 *   9 a type name that is not UTF-8             10 num_types 1 with a NULL types array
 */
#define _POSIX_C_SOURCE 200809L
#include "armlet_plugin.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef BAD_DESC
#define BAD_DESC 0
#endif

enum { REG_ID = 0x0, REG_TRIGGER = 0x4, REG_SCRATCH = 0x8, REG_RESULT = 0xc };

typedef enum {
    M_GOOD, M_BAD_STATUS, M_OVERRUN, M_KEEP, M_OUTSIDE, M_BAD_DMA, M_SLOW, M_HANG, M_NULL_CREATE
} mode_t_;

static const struct { const char *name; mode_t_ mode; } MODES[] = {
    {"good", M_GOOD},           {"bad-status", M_BAD_STATUS}, {"overrun", M_OVERRUN},
    {"keep-pointer", M_KEEP},   {"outside", M_OUTSIDE},       {"bad-dma", M_BAD_DMA},
    {"slow", M_SLOW},           {"hang", M_HANG},             {"null-create", M_NULL_CREATE},
};

typedef struct dev {
    mode_t_ mode;
    int64_t delay_ms;
    uint32_t scratch, result;
    armlet_ctx *kept_ctx;     /* "outside": the context of `create`, kept */
    uint32_t *kept_value;     /* "keep-pointer": a `value` pointer, kept */
} dev;

static void sleep_ms(int64_t ms) {
    struct timespec t = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

static void log_str(armlet_ctx *ctx, uint32_t level, const char *s) {
    armlet_log(ctx, level, s, strlen(s));
}

static armlet_status mb_create(armlet_ctx *ctx, const armlet_create_args *args, void **out) {
    dev *d = calloc(1, sizeof *d);
    if (!d) return ARMLET_FAILED;
    d->delay_ms = 1500;
    for (size_t i = 0; i < args->num_params; i++) {
        const armlet_param_value *p = ARMLET_AT(armlet_param_value, args->params, i);
        if (p->name.len == 4 && memcmp(p->name.ptr, "mode", 4) == 0) {
            size_t n;
            for (n = 0; n < sizeof MODES / sizeof MODES[0]; n++) {
                if (strlen(MODES[n].name) == p->str_value.len &&
                    memcmp(MODES[n].name, p->str_value.ptr, p->str_value.len) == 0)
                    break;
            }
            if (n == sizeof MODES / sizeof MODES[0]) {
                log_str(ctx, ARMLET_LOG_ERROR, "unknown mode");
                free(d);
                return ARMLET_INVALID;
            }
            d->mode = MODES[n].mode;
        } else if (p->name.len == 8 && memcmp(p->name.ptr, "delay_ms", 8) == 0) {
            d->delay_ms = p->int_value;
        }
    }
    d->kept_ctx = ctx;
    if (d->mode == M_NULL_CREATE) {
        free(d);
        *out = NULL;
        return ARMLET_OK;
    }
    *out = d;
    return ARMLET_OK;
}

static void mb_destroy(void *p) {
    dev *d = p;
    if (d->mode == M_OUTSIDE) /* no context here: the host must refuse, not crash */
        log_str(d->kept_ctx, ARMLET_LOG_WARN, "logging from destroy through a kept context");
    free(d);
}

static armlet_status mb_read(void *p, armlet_ctx *ctx, uint32_t region, uint32_t offset,
                             uint32_t size, uint32_t *value) {
    dev *d = p;
    (void)ctx; (void)region; (void)size;
    switch (offset) {
    case REG_ID:
        if (d->mode == M_OVERRUN) {
            for (int i = 0; i < 4; i++) /* 16 bytes through a 4-byte pointer */
                value[i] = 0xBADBAD00u + (uint32_t)i;
            return ARMLET_OK;
        }
        if (d->mode == M_KEEP) d->kept_value = value;
        *value = 0x600DF00Du;
        return ARMLET_OK;
    case REG_SCRATCH: *value = d->scratch; return ARMLET_OK;
    case REG_RESULT: *value = d->result; return ARMLET_OK;
    case REG_TRIGGER: *value = 0; return ARMLET_OK;
    default: return ARMLET_BUS_ERROR;
    }
}

static void *outside_thread(void *p) {
    dev *d = p;
    armlet_set_irq(d->kept_ctx, 0, 1);
    log_str(d->kept_ctx, ARMLET_LOG_WARN, "logging from a thread of my own");
    return NULL;
}

static armlet_status trigger(dev *d, armlet_ctx *ctx, uint32_t value) {
    switch (d->mode) {
    case M_GOOD:
        armlet_set_irq(ctx, 0, (int)(value & 1));
        return ARMLET_OK;
    case M_BAD_STATUS:
        return 77;
    case M_OVERRUN:
        return ARMLET_OK;
    case M_KEEP:
        if (d->kept_value) d->kept_value[1] = 0xBADu; /* past the end, after its callback */
        return ARMLET_OK;
    case M_OUTSIDE:
        if (value == 1) {
            pthread_t t;
            if (pthread_create(&t, NULL, outside_thread, d) != 0) return ARMLET_FAILED;
            pthread_join(t, NULL);
        } else if (value == 2) {
            armlet_ctx *garbage = (armlet_ctx *)(uintptr_t)0x1234;
            ctx->api->set_irq(garbage, 0, 1);
            armlet_str s = {"garbage", 7};
            ctx->api->log(garbage, ARMLET_LOG_WARN, s);
            d->result = (uint32_t)ctx->api->dma_write(garbage, 0x20000000u,
                                                      (const uint8_t *)"x", 1);
        }
        return ARMLET_OK;
    case M_BAD_DMA: {
        uint8_t buf[8] = {0};
        armlet_status r = armlet_dma_read(ctx, 0x20000000u, buf, SIZE_MAX);
        armlet_status w = armlet_dma_write(ctx, 0xfffffff0u, buf, 0x100);
        armlet_str big = {(const char *)buf, (size_t)1 << 20};
        ctx->api->log(ctx, ARMLET_LOG_WARN, big);
        armlet_set_irq(ctx, 99, 1);
        d->result = (uint32_t)r | ((uint32_t)w << 8);
        return ARMLET_OK;
    }
    case M_SLOW:
        sleep_ms(d->delay_ms);
        return ARMLET_OK;
    case M_HANG:
        for (;;) sleep_ms(1000);
    case M_NULL_CREATE:
        break;
    }
    return ARMLET_OK;
}

static armlet_status mb_write(void *p, armlet_ctx *ctx, uint32_t region, uint32_t offset,
                              uint32_t size, uint32_t value) {
    dev *d = p;
    (void)region; (void)size;
    switch (offset) {
    case REG_TRIGGER: return trigger(d, ctx, value);
    case REG_SCRATCH: d->scratch = value; return ARMLET_OK;
    default: return ARMLET_BUS_ERROR;
    }
}

static armlet_status mb_peek(void *p, uint32_t region, uint32_t offset, uint32_t size,
                             uint32_t *value) {
    dev *d = p;
    (void)region; (void)size;
    if (d->mode == M_OUTSIDE) /* no context in debug_peek: refused */
        armlet_set_irq(d->kept_ctx, 0, 1);
    switch (offset) {
    case REG_ID: *value = 0x600DF00Du; return ARMLET_OK;
    case REG_SCRATCH: *value = d->scratch; return ARMLET_OK;
    case REG_RESULT: *value = d->result; return ARMLET_OK;
    default: return ARMLET_BUS_ERROR;
    }
}

static armlet_status mb_reset(void *p, armlet_ctx *ctx) {
    dev *d = p;
    d->scratch = 0;
    armlet_set_irq(ctx, 0, 0);
    return ARMLET_OK;
}

static const armlet_param_desc params[] = {
    {.struct_size = sizeof(armlet_param_desc), .kind = ARMLET_PARAM_STRING,
     .name = ARMLET_STR("mode"), .doc = ARMLET_STR("which misbehaviour"),
     .default_str = ARMLET_STR("good")},
    {.struct_size = sizeof(armlet_param_desc), .kind = ARMLET_PARAM_INT,
     .name = ARMLET_STR("delay_ms"), .doc = ARMLET_STR("how long `slow` sleeps"),
     .default_int = 1500, .min = 0, .max = 1000000000},
};

#if BAD_DESC == 1
#define REGION_SIZE 0
#elif BAD_DESC == 2
#define REGION_SIZE 6
#else
#define REGION_SIZE 0x10
#endif
#if BAD_DESC == 3
#define REGION_ACCESS 0x80
#else
#define REGION_ACCESS ARMLET_ACCESS_ALL
#endif

static const armlet_region_desc regions[] = {
    {.struct_size = sizeof(armlet_region_desc), .size = REGION_SIZE, .access = REGION_ACCESS,
     .name = ARMLET_STR("regs")},
#if BAD_DESC == 8
    {.struct_size = sizeof(armlet_region_desc), .size = 0xfffffff0u, .access = 4,
     .name = ARMLET_STR("huge")},
#endif
};
static const armlet_str irqs[] = {ARMLET_STR("irq")};
static const armlet_device_ops ops = {
    .struct_size = sizeof(armlet_device_ops),
    .create = mb_create,
    .destroy = mb_destroy,
    .read = BAD_DESC == 6 ? NULL : mb_read,
    .write = mb_write,
    .debug_peek = mb_peek,
    .reset = mb_reset,
};

#if BAD_DESC == 7
#define TYPE_NAME {NULL, 5}
#elif BAD_DESC == 9
#define TYPE_NAME {"mis\xff\xfe", 5}
#else
#define TYPE_NAME ARMLET_STR("misbehave")
#endif

static const armlet_device_type types[] = {
    {.struct_size = BAD_DESC == 4 ? 4 : sizeof(armlet_device_type), .name = TYPE_NAME,
     .doc = ARMLET_STR("a deliberately misbehaving device (armlet's containment tests)"),
     .params = params, .num_params = 2, .regions = regions,
     .num_regions = sizeof regions / sizeof regions[0], .irq_outputs = irqs,
     .num_irq_outputs = 1, .ops = &ops},
};

static const armlet_plugin_info info = {
    .struct_size = sizeof(armlet_plugin_info),
    .abi_version = ARMLET_PLUGIN_ABI_VERSION,
    .name = ARMLET_STR("misbehave"),
    .version = ARMLET_STR("0.1"),
    .types = BAD_DESC == 10 ? NULL : types,
    .num_types = BAD_DESC == 5 ? (size_t)1 << 20 : 1,
};

ARMLET_EXPORT const uint32_t armlet_plugin_abi_version = ARMLET_PLUGIN_ABI_VERSION;
ARMLET_EXPORT const armlet_plugin_info *armlet_plugin_entry(uint32_t host_abi_version) {
    return (host_abi_version >> 16) == ARMLET_PLUGIN_ABI_MAJOR ? &info : NULL;
}
