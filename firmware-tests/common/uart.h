/* Console UARTs of the boards, driven by polling as simple firmware does:
 *   CMSDK APB UART (Arm DDI0479, mps2-an385/an386/an500): UART0 at 0x40004000, RX IRQ 0,
 *   TX IRQ 1. Registers DATA, STATE (TXFULL, RXFULL, overruns), CTRL (TXEN, RXEN, TXIE,
 *   RXIE), INTSTATUS/INTCLEAR, BAUDDIV.
 *   Stellaris PL011 (LM3S6965 data sheet, lm3s6965evb): UART0 at 0x4000C000, IRQ 5, clock
 *   gated by RCGC1 bit 0 in the system control block at 0x400FE000. */
#ifndef UART_H
#define UART_H
#include "armv7m.h"

#define CMSDK_UART0 0x40004000u
#define CMSDK_UART_DATA(b) REG32((b) + 0x00)
#define CMSDK_UART_STATE(b) REG32((b) + 0x04)
#define CMSDK_UART_CTRL(b) REG32((b) + 0x08)
#define CMSDK_UART_INTSTATUS(b) REG32((b) + 0x0C) /* read */
#define CMSDK_UART_INTCLEAR(b) REG32((b) + 0x0C)  /* write one to clear */
#define CMSDK_UART_BAUDDIV(b) REG32((b) + 0x10)
#define CMSDK_STATE_TXFULL (1u << 0)
#define CMSDK_STATE_RXFULL (1u << 1)
#define CMSDK_CTRL_TXEN (1u << 0)
#define CMSDK_CTRL_RXEN (1u << 1)
#define CMSDK_CTRL_TXIE (1u << 2)
#define CMSDK_CTRL_RXIE (1u << 3)
#define CMSDK_INT_TX (1u << 0)
#define CMSDK_INT_RX (1u << 1)
#define MPS2_SYSCLK 25000000u

static inline void cmsdk_uart_init(uint32_t base, uint32_t ctrl)
{
    CMSDK_UART_BAUDDIV(base) = MPS2_SYSCLK / 115200; /* 217; at least 16 */
    CMSDK_UART_CTRL(base) = ctrl;
}

static inline void cmsdk_uart_putc(uint32_t base, char c)
{
    while (CMSDK_UART_STATE(base) & CMSDK_STATE_TXFULL) {
    }
    CMSDK_UART_DATA(base) = (uint8_t)c;
}

/* QEMU (7.2) stops polling its serial backend while the UART cannot receive (RXEN clear) and
 * does not poll again when RXEN is set, until some event wakes its main loop. A free-running
 * SysTick (no interrupt) is such an event every millisecond; on real hardware and armlet it
 * is harmless. Receiving firmware calls this before enabling RX. */
static inline void qemu_serial_kick(void)
{
    SYST_RVR = MPS2_SYSCLK / 1000 - 1;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_ENABLE;
}

static inline char cmsdk_uart_getc(uint32_t base)
{
    while (!(CMSDK_UART_STATE(base) & CMSDK_STATE_RXFULL)) {
    }
    return (char)CMSDK_UART_DATA(base);
}

#define LM3S_SYSCTL_RCGC1 REG32(0x400FE104u)
#define LM3S_RCGC1_UART0 (1u << 0)
#define LM3S_RCGC1_TIMER0 (1u << 16)
#define PL011_UART0 0x4000C000u
#define PL011_DR(b) REG32((b) + 0x000)
#define PL011_FR(b) REG32((b) + 0x018)
#define PL011_IBRD(b) REG32((b) + 0x024)
#define PL011_FBRD(b) REG32((b) + 0x028)
#define PL011_LCRH(b) REG32((b) + 0x02C)
#define PL011_CTL(b) REG32((b) + 0x030)
#define PL011_FR_RXFE (1u << 4)
#define PL011_FR_TXFF (1u << 5)
#define PL011_FR_TXFE (1u << 7)
#define PL011_FR_BUSY (1u << 3)
#define PL011_LCRH_WLEN8 (3u << 5)
#define PL011_LCRH_FEN (1u << 4)
#define PL011_CTL_UARTEN (1u << 0)
#define PL011_CTL_TXE (1u << 8)
#define PL011_CTL_RXE (1u << 9)

/* 115200 8N1 from a 50 MHz UART clock: divisor 50e6 / (16 * 115200) = 27.127 -> 27 + 8/64. */
static inline void pl011_uart_init(uint32_t base)
{
    LM3S_SYSCTL_RCGC1 |= LM3S_RCGC1_UART0;
    (void)LM3S_SYSCTL_RCGC1; /* a few cycles before the UART is clocked */
    PL011_CTL(base) = 0;
    PL011_IBRD(base) = 27;
    PL011_FBRD(base) = 8;
    PL011_LCRH(base) = PL011_LCRH_WLEN8 | PL011_LCRH_FEN;
    PL011_CTL(base) = PL011_CTL_UARTEN | PL011_CTL_TXE | PL011_CTL_RXE;
}

static inline void pl011_uart_putc(uint32_t base, char c)
{
    while (PL011_FR(base) & PL011_FR_TXFF) {
    }
    PL011_DR(base) = (uint8_t)c;
}

static inline void pl011_uart_flush(uint32_t base)
{
    while (PL011_FR(base) & PL011_FR_BUSY) {
    }
}
#endif
