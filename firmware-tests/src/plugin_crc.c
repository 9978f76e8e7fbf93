/* The C example plugin crc32 (machines/plugin_crc.toml): the CRC-32 of "123456789" is
 * 0xCBF43926 fed as bytes, as halfwords and as words; a 1 KiB buffer matches a software
 * CRC; INIT and CTRL restart; COUNT counts bytes; an unknown register is a BusFault. */
#include "plugin_devices.h"

static uint32_t sw_crc(uint32_t crc, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
    }
    return crc;
}

static uint8_t buf[1024] __attribute__((aligned(4)));

int main(void)
{
    static const char digits[] = "123456789";
    uint32_t at;
    enable_busfault();
    expect_eq("init after reset", CRC_INIT, 0xffffffffu);
    expect_eq("count after reset", CRC_COUNT, 0);

    for (int i = 0; i < 9; i++)
        CRC_DATA8 = (uint8_t)digits[i];
    expect_eq("crc32(\"123456789\") by bytes", CRC_RESULT, 0xCBF43926u);
    expect_eq("count", CRC_COUNT, 9);

    CRC_CTRL = 1;
    expect_eq("restart clears count", CRC_COUNT, 0);
    for (int i = 0; i < 8; i += 2)
        CRC_DATA16 = (uint16_t)(digits[i] | digits[i + 1] << 8);
    CRC_DATA8 = '9';
    expect_eq("by halfwords", CRC_RESULT, 0xCBF43926u);

    CRC_CTRL = 1;
    CRC_DATA32 = 0x34333231u; /* "1234" little-endian */
    CRC_DATA32 = 0x38373635u;
    CRC_DATA8 = '9';
    expect_eq("by words", CRC_RESULT, 0xCBF43926u);

    for (uint32_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 7 + (i >> 3));
    CRC_CTRL = 1;
    for (uint32_t i = 0; i < sizeof buf; i += 4)
        CRC_DATA32 = *(const uint32_t *)&buf[i];
    expect_eq("1 KiB matches software", CRC_RESULT, sw_crc(0xffffffffu, buf, sizeof buf) ^ 0xffffffffu);
    expect_eq("1 KiB count", CRC_COUNT, 1024);

    CRC_INIT = 0;
    CRC_CTRL = 1;
    for (int i = 0; i < 9; i++)
        CRC_DATA8 = (uint8_t)digits[i];
    expect_eq("init 0", CRC_RESULT, sw_crc(0, (const uint8_t *)digits, 9) ^ 0xffffffffu);

    fault_reset();
    load32_at(CRC + 0x14, &at);
    expect_bus_error("unknown register", CRC + 0x14, at);
    return check_done("plugin_crc");
}
