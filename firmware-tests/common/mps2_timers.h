/* mps2 timers (Arm CMSDK, DDI0479): APB timer0/timer1 at 0x40000000/0x40001000 (IRQ 8/9) and
 * the dual timer (an SP804) at 0x40002000 (IRQ 10), all clocked at 25 MHz. */
#ifndef MPS2_TIMERS_H
#define MPS2_TIMERS_H
#include "armv7m.h"

#define CMSDK_TIMER0 0x40000000u
#define CMSDK_TIMER1 0x40001000u
#define TIMER_CTRL(b) REG32((b) + 0x00)
#define TIMER_VALUE(b) REG32((b) + 0x04)
#define TIMER_RELOAD(b) REG32((b) + 0x08)
#define TIMER_INTSTATUS(b) REG32((b) + 0x0C) /* read; write one to clear (INTCLEAR) */
#define TIMER_CTRL_EN (1u << 0)
#define TIMER_CTRL_IRQEN (1u << 3)
#define TIMER0_IRQ 8
#define TIMER1_IRQ 9

#define DUALTIMER 0x40002000u
#define DUALTIMER_IRQ 10
#define DT_LOAD(n) REG32(DUALTIMER + 0x20 * (n) + 0x00)
#define DT_VALUE(n) REG32(DUALTIMER + 0x20 * (n) + 0x04)
#define DT_CONTROL(n) REG32(DUALTIMER + 0x20 * (n) + 0x08)
#define DT_INTCLR(n) REG32(DUALTIMER + 0x20 * (n) + 0x0C)
#define DT_RIS(n) REG32(DUALTIMER + 0x20 * (n) + 0x10)
#define DT_MIS(n) REG32(DUALTIMER + 0x20 * (n) + 0x14)
#define DT_BGLOAD(n) REG32(DUALTIMER + 0x20 * (n) + 0x18)
#define DT_CTRL_ONESHOT (1u << 0)
#define DT_CTRL_32BIT (1u << 1)
#define DT_CTRL_PRESCALE16 (1u << 2)
#define DT_CTRL_INTEN (1u << 5)
#define DT_CTRL_PERIODIC (1u << 6)
#define DT_CTRL_EN (1u << 7)
#endif
