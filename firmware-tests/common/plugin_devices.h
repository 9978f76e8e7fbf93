/* Registers of the example plugin devices (device-plugins/examples) as placed by the
 * machine files in machines/plugin_*.toml, and a helper to check a precise BusFault. */
#ifndef PLUGIN_DEVICES_H
#define PLUGIN_DEVICES_H
#include "fault.h"

/* gpio-leds at 0x50000000 */
#define LEDS 0x50000000u
#define LEDS_OUT REG32(LEDS + 0x00)
#define LEDS_SET REG32(LEDS + 0x04)
#define LEDS_CLR REG32(LEDS + 0x08)
#define LEDS_TOGGLE REG32(LEDS + 0x0c)
#define LEDS_CHANGES REG32(LEDS + 0x10)
#define LEDS_COUNT REG32(LEDS + 0x14)
#define LEDS_IN REG32(LEDS + 0x18)

/* periodic-timer at 0x50001000, IRQ 24 */
#define PTIMER 0x50001000u
#define PTIMER_IRQ 24
#define PTIMER_CTRL REG32(PTIMER + 0x00)
#define PTIMER_PERIOD REG32(PTIMER + 0x04)
#define PTIMER_STATUS REG32(PTIMER + 0x08)
#define PTIMER_COUNT REG32(PTIMER + 0x0c)
#define PTIMER_LAST_LO REG32(PTIMER + 0x10)
#define PTIMER_LAST_HI REG32(PTIMER + 0x14)
#define PTIMER_START_LO REG32(PTIMER + 0x18)
#define PTIMER_NOW_LO REG32(PTIMER + 0x1c)
#define PTIMER_EN 1u
#define PTIMER_IRQEN 2u

/* crc32 (C plugin) at 0x50002000 */
#define CRC 0x50002000u
#define CRC_DATA32 REG32(CRC + 0x00)
#define CRC_DATA16 (*(volatile uint16_t *)(CRC + 0x00))
#define CRC_DATA8 (*(volatile uint8_t *)(CRC + 0x00))
#define CRC_RESULT REG32(CRC + 0x04)
#define CRC_CTRL REG32(CRC + 0x08)
#define CRC_INIT REG32(CRC + 0x0c)
#define CRC_COUNT REG32(CRC + 0x10)

/* dma-engine at 0x50003000, IRQ 25 */
#define DMA 0x50003000u
#define DMA_IRQ 25
#define DMA_SRC REG32(DMA + 0x00)
#define DMA_DST REG32(DMA + 0x04)
#define DMA_LEN REG32(DMA + 0x08)
#define DMA_CTRL REG32(DMA + 0x0c)
#define DMA_STATUS REG32(DMA + 0x10)
#define DMA_COPIED REG32(DMA + 0x14)
#define DMA_START 1u
#define DMA_IRQEN 2u
#define DMA_BUSY 1u
#define DMA_DONE 2u
#define DMA_ERROR 4u

/* faulty (test plugin) at 0x50004000 */
#define FAULTY 0x50004000u

/* Read `addr` (word/halfword/byte), recording where the load instruction is. */
static inline uint32_t load32_at(uint32_t addr, uint32_t *at)
{
    uint32_t v = 0x5555;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: ldr.w %1, [%2]"
                     : "=&r"(*at), "+&r"(v)
                     : "r"(addr)
                     : "memory");
    return v;
}

static inline uint32_t load8_at(uint32_t addr, uint32_t *at)
{
    uint32_t v = 0x5555;
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: ldrb.w %1, [%2]"
                     : "=&r"(*at), "+&r"(v)
                     : "r"(addr)
                     : "memory");
    return v;
}

static inline void store32_at(uint32_t addr, uint32_t v, uint32_t *at)
{
    __asm__ volatile("adr.w %0, 1f\n\t"
                     "1: str.w %1, [%2]"
                     : "=&r"(*at)
                     : "r"(v), "r"(addr)
                     : "memory");
}

/* The last access faulted precisely at `addr`: one BusFault, PRECISERR|BFARVALID. */
static inline void expect_bus_error(const char *what, uint32_t addr, uint32_t at)
{
    expect_fault(what, EXC_BUSFAULT, BFSR_PRECISERR | BFSR_BFARVALID, 0, at);
    expect_eq("  bfar", fr.bfar, addr);
    fault_reset();
}

static inline void enable_busfault(void) { SCB_SHCSR |= SHCSR_BUSFAULTENA; }
#endif
