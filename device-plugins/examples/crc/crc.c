/*
 * Example plugin in C: a CRC-32 accelerator.
 *
 * Build: make   (cc -shared -fPIC -Wall -Wextra -Werror -fvisibility=hidden ...)
 *
 * Offset  Register
 * 0x00    DATA     write 1, 2 or 4 bytes (little-endian) into the CRC
 * 0x04    RESULT   the CRC of the bytes so far (final XOR applied), read-only
 * 0x08    CTRL     write 1: restart from INIT
 * 0x0c    INIT     start value (default 0xFFFFFFFF)
 * 0x10    COUNT    bytes fed since the last restart, read-only
 *
 * Params: `poly` (reflected polynomial, default 0xEDB88320: CRC-32/ISO-HDLC as zlib),
 * `xorout` (final XOR, default 0xFFFFFFFF). CRC-32 of "123456789" is 0xCBF43926.
 * Snapshots: state version 1 (crc, init, count as little-endian words).
 */
#include "armlet_plugin.h"

#include <stdlib.h>
#include <string.h>

enum { REG_DATA = 0x00, REG_RESULT = 0x04, REG_CTRL = 0x08, REG_INIT = 0x0c, REG_COUNT = 0x10 };

typedef struct crc_dev {
    uint32_t poly, xorout;
    uint32_t init, crc, count;
} crc_dev;

static void feed(crc_dev *d, uint32_t value, uint32_t size) {
    for (uint32_t i = 0; i < size; i++) {
        d->crc ^= (value >> (8 * i)) & 0xffu;
        for (int b = 0; b < 8; b++)
            d->crc = (d->crc & 1u) ? (d->crc >> 1) ^ d->poly : d->crc >> 1;
    }
    d->count += size;
}

static int reg(const crc_dev *d, uint32_t offset, uint32_t *value) {
    switch (offset) {
    case REG_RESULT: *value = d->crc ^ d->xorout; return 1;
    case REG_INIT: *value = d->init; return 1;
    case REG_COUNT: *value = d->count; return 1;
    case REG_DATA:
    case REG_CTRL: *value = 0; return 1;
    default: return 0;
    }
}

static armlet_status crc_create(armlet_ctx *ctx, const armlet_create_args *args, void **out) {
    crc_dev *d = calloc(1, sizeof *d);
    if (!d) return ARMLET_FAILED;
    /* Parameters arrive in declaration order with defaults filled in: poly, xorout. */
    for (size_t i = 0; i < args->num_params; i++) {
        const armlet_param_value *p = ARMLET_AT(armlet_param_value, args->params, i);
        if (p->name.len == 4 && memcmp(p->name.ptr, "poly", 4) == 0)
            d->poly = (uint32_t)p->int_value;
        else if (p->name.len == 6 && memcmp(p->name.ptr, "xorout", 6) == 0)
            d->xorout = (uint32_t)p->int_value;
    }
    if (d->poly == 0) {
        static const char msg[] = "param poly must not be 0";
        armlet_log(ctx, ARMLET_LOG_ERROR, msg, sizeof msg - 1);
        free(d);
        return ARMLET_INVALID;
    }
    *out = d;
    return ARMLET_OK;
}

static void crc_destroy(void *dev) { free(dev); }

static armlet_status crc_read(void *dev, armlet_ctx *ctx, uint32_t region, uint32_t offset,
                              uint32_t size, uint32_t *value) {
    (void)ctx; (void)region; (void)size;
    return reg(dev, offset, value) ? ARMLET_OK : ARMLET_BUS_ERROR;
}

static armlet_status crc_write(void *dev, armlet_ctx *ctx, uint32_t region, uint32_t offset,
                               uint32_t size, uint32_t value) {
    crc_dev *d = dev;
    (void)region;
    switch (offset) {
    case REG_DATA: feed(d, value, size); return ARMLET_OK;
    case REG_CTRL:
        if (value & 1u) {
            d->crc = d->init;
            d->count = 0;
            static const char msg[] = "restart";
            armlet_log(ctx, ARMLET_LOG_DEBUG, msg, sizeof msg - 1);
        }
        return ARMLET_OK;
    case REG_INIT: d->init = value; return ARMLET_OK;
    case REG_RESULT:
    case REG_COUNT: return ARMLET_OK;
    default: return ARMLET_BUS_ERROR;
    }
}

static armlet_status crc_peek(void *dev, uint32_t region, uint32_t offset, uint32_t size,
                              uint32_t *value) {
    (void)region; (void)size;
    return reg(dev, offset, value) ? ARMLET_OK : ARMLET_BUS_ERROR;
}

static armlet_status crc_reset(void *dev, armlet_ctx *ctx) {
    crc_dev *d = dev;
    (void)ctx;
    d->init = 0xffffffffu;
    d->crc = d->init;
    d->count = 0;
    return ARMLET_OK;
}

static armlet_status crc_save(void *dev, armlet_writer *w) {
    const crc_dev *d = dev;
    uint8_t buf[12];
    const uint32_t words[3] = {d->crc, d->init, d->count};
    for (int i = 0; i < 12; i++) buf[i] = (uint8_t)(words[i / 4] >> (8 * (i % 4)));
    return w->write(w, buf, sizeof buf);
}

static armlet_status crc_restore(void *dev, const uint8_t *bytes, size_t len, uint32_t version) {
    crc_dev *d = dev;
    uint32_t words[3] = {0, 0, 0};
    if (version != 1 || len != 12) return ARMLET_INVALID;
    for (int i = 0; i < 12; i++) words[i / 4] |= (uint32_t)bytes[i] << (8 * (i % 4));
    d->crc = words[0];
    d->init = words[1];
    d->count = words[2];
    return ARMLET_OK;
}

static const armlet_param_desc crc_params[] = {
    {.struct_size = sizeof(armlet_param_desc), .kind = ARMLET_PARAM_INT, .name = ARMLET_STR("poly"),
     .doc = ARMLET_STR("reflected polynomial"), .default_int = 0xedb88320, .min = 1, .max = 0xffffffff},
    {.struct_size = sizeof(armlet_param_desc), .kind = ARMLET_PARAM_INT, .name = ARMLET_STR("xorout"),
     .doc = ARMLET_STR("final XOR"), .default_int = 0xffffffff, .min = 0, .max = 0xffffffff},
};

static const armlet_region_desc crc_regions[] = {
    {.struct_size = sizeof(armlet_region_desc), .size = 0x20, .access = ARMLET_ACCESS_ALL,
     .name = ARMLET_STR("regs")},
};

static const armlet_device_ops crc_ops = {
    .struct_size = sizeof(armlet_device_ops),
    .create = crc_create,
    .destroy = crc_destroy,
    .read = crc_read,
    .write = crc_write,
    .debug_peek = crc_peek,
    .reset = crc_reset,
    .save = crc_save,
    .restore = crc_restore,
};

static const armlet_device_type crc_types[] = {
    {.struct_size = sizeof(armlet_device_type),
     .state_version = 1,
     .name = ARMLET_STR("crc32"),
     .doc = ARMLET_STR("CRC-32 accelerator: DATA (8/16/32-bit writes), RESULT, CTRL, INIT, COUNT"),
     .params = crc_params,
     .num_params = sizeof crc_params / sizeof crc_params[0],
     .regions = crc_regions,
     .num_regions = 1,
     .ops = &crc_ops},
};

static const armlet_plugin_info crc_info = {
    .struct_size = sizeof(armlet_plugin_info),
    .abi_version = ARMLET_PLUGIN_ABI_VERSION,
    .name = ARMLET_STR("armlet-plugin-crc"),
    .version = ARMLET_STR("1.0.0"),
    .types = crc_types,
    .num_types = 1,
};

ARMLET_EXPORT const uint32_t armlet_plugin_abi_version = ARMLET_PLUGIN_ABI_VERSION;

ARMLET_EXPORT const armlet_plugin_info *armlet_plugin_entry(uint32_t host_abi_version) {
    if ((host_abi_version >> 16) != ARMLET_PLUGIN_ABI_MAJOR) return NULL;
    return &crc_info;
}
