//! The CMSDK APB timer (Arm DDI0479), behaving as QEMU's `hw/timer/cmsdk-apb-timer.c`:
//!
//! - It counts PCLK down from VALUE while CTRL.EN is set. Reaching 0 (from 1) is the
//!   interrupt; VALUE then reads 0 for one clock and reloads from RELOAD, so the interrupt
//!   period is RELOAD+1 clocks. With RELOAD = 0 the timer is one-shot and stops at 0.
//! - The interrupt status (INTSTATUS bit 0) is only set if CTRL.IRQEN is set when the
//!   counter reaches 0 (QEMU); it latches until written 1, and drives the IRQ output.
//! - Writing RELOAD also loads VALUE (and restarts an enabled timer); writing 0 stops it.
//!   Writing VALUE restarts an enabled timer from the new value.
//! - The EXTIN enable/clock modes (CTRL bits 1 and 2) are not modelled (QEMU neither): the
//!   bits read back but the timer always counts PCLK.

use super::common::{cmsdk_id, size_mask, GuestLog, Time};
use super::countdown::Countdown;
use crate::device::{Device, DeviceCtx};
use armlet_cpu::BusError;

const CTRL: u32 = 0x00;
const VALUE: u32 = 0x04;
const RELOAD: u32 = 0x08;
const INTSTATUS: u32 = 0x0c;

const CTRL_EN: u32 = 1 << 0;
const CTRL_EXTIN: u32 = 0b110;
const CTRL_IRQEN: u32 = 1 << 3;

const ID: [u8; 12] = [
    0x04, 0x00, 0x00, 0x00, 0x22, 0xb8, 0x1b, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
];

const TOKEN: u64 = 1;

/// IRQ outputs, in machine-file order.
pub const OUTPUTS: &[&str] = &["timer"];

/// A CMSDK APB timer.
#[derive(Debug)]
pub struct CmsdkTimer {
    name: String,
    ctrl: u32,
    intstatus: u32,
    timer: Countdown,
    log: GuestLog,
}

impl CmsdkTimer {
    /// A timer called `name` counting a `pclk_hz` clock (`None`: the CPU clock).
    pub fn new(name: &str, pclk_hz: Option<u64>) -> Self {
        CmsdkTimer {
            name: name.into(),
            ctrl: 0,
            intstatus: 0,
            timer: Countdown::new(pclk_hz),
            log: GuestLog::default(),
        }
    }

    /// Take the zeros reached by now; true if there was one.
    fn catch_up(&mut self, ctx: &mut DeviceCtx<'_>) -> bool {
        let hit = self.timer.expire(Time::of(ctx));
        if hit && self.ctrl & CTRL_IRQEN != 0 {
            self.intstatus = 1;
            ctx.set_irq(0, true);
        }
        hit
    }

    /// Keep an event at the next zero while it could change the IRQ output (IRQEN set, the
    /// status clear); other zeros are taken lazily when the guest next accesses the timer.
    fn sync(&mut self, ctx: &mut DeviceCtx<'_>) {
        let wanted = self.ctrl & CTRL_IRQEN != 0 && self.intstatus == 0;
        match self.timer.next_zero_at(ctx.cpu_hz()).filter(|_| wanted) {
            Some(at) => ctx.schedule(at, TOKEN),
            None => ctx.cancel(TOKEN),
        }
        ctx.set_irq(0, self.intstatus != 0);
    }

    fn reg(&self, offset: u32, t: Option<Time>) -> Option<u32> {
        Some(match offset {
            CTRL => self.ctrl,
            VALUE => self.timer.count(t?) as u32,
            RELOAD => self.timer.limit() as u32,
            INTSTATUS => self.intstatus,
            0xfd0..=0xfff => cmsdk_id(&ID, offset),
            _ => return None,
        })
    }
}

impl Device for CmsdkTimer {
    fn read(&mut self, offset: u32, size: u8, ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        if self.catch_up(ctx) {
            self.sync(ctx);
        }
        let v = self.reg(offset, Some(Time::of(ctx))).unwrap_or_else(|| {
            self.log.bad(&self.name, offset, false, 0);
            0
        });
        Ok(v & size_mask(size))
    }

    fn write(
        &mut self,
        offset: u32,
        _size: u8,
        value: u32,
        ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError> {
        self.catch_up(ctx);
        let t = Time::of(ctx);
        let enabled = self.ctrl & CTRL_EN != 0;
        match offset {
            CTRL => {
                if value & CTRL_EXTIN != 0 {
                    self.log.unimp(
                        &self.name,
                        1,
                        "CMSDK timer: EXTIN enable/clock (counts PCLK)",
                    );
                }
                self.ctrl = value & 0xf;
                if self.ctrl & CTRL_EN != 0 {
                    self.timer.run(self.timer.limit() == 0);
                } else {
                    self.timer.stop(t);
                }
            }
            RELOAD => {
                if value == 0 {
                    self.timer.stop(t);
                }
                self.timer.set_limit(u64::from(value), true);
                if value != 0 && enabled {
                    // Restarts an expired one-shot, now periodic.
                    self.timer.run(false);
                }
            }
            VALUE => {
                if value == 0 && self.timer.limit() == 0 {
                    self.timer.stop(t);
                }
                self.timer.set_count(u64::from(value));
                if value != 0 && enabled {
                    self.timer.run(self.timer.limit() == 0);
                }
            }
            INTSTATUS => self.intstatus &= !(value & 1),
            _ => self.log.bad(&self.name, offset, true, value),
        }
        self.timer.commit(t);
        self.sync(ctx);
        Ok(())
    }

    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        // VALUE depends on the time, which peek does not have.
        self.reg(offset, None).map(|v| v & size_mask(size))
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        let t = Time::of(ctx);
        self.ctrl = 0;
        self.intstatus = 0;
        self.timer.stop(t);
        self.timer.set_limit(0, true);
        self.timer.commit(t);
        self.sync(ctx);
    }

    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        if token == TOKEN {
            self.catch_up(ctx);
            self.sync(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::common::bench::Bench;

    fn timer(pclk: Option<u64>) -> Bench<CmsdkTimer> {
        Bench::new(CmsdkTimer::new("timer0", pclk), 25_000_000, &[8])
    }

    #[test]
    fn periodic_interrupt_every_reload_plus_one() {
        let mut b = timer(None);
        b.at(1000);
        b.wr(RELOAD, 100);
        assert_eq!(b.rd(VALUE), 100);
        b.wr(CTRL, CTRL_EN | CTRL_IRQEN);
        b.at(1050);
        assert_eq!(b.rd(VALUE), 50);
        b.at(1099);
        assert_eq!(b.rd(VALUE), 1);
        assert!(!b.irq(0));
        b.at(1100);
        assert!(b.irq(0), "interrupt exactly when the count reaches 0");
        assert_eq!(b.rd(INTSTATUS), 1);
        assert_eq!(b.rd(VALUE), 0);
        b.at(1101);
        assert_eq!(b.rd(VALUE), 100, "reload one clock after 0");
        b.wr(INTSTATUS, 1);
        assert!(!b.irq(0));
        b.at(1200);
        assert!(!b.irq(0));
        assert_eq!(b.rd(VALUE), 1);
        b.at(1201);
        assert!(b.irq(0), "period RELOAD+1");
        assert_eq!(b.next_event(), None, "status set: no event needed");
        b.wr(INTSTATUS, 1);
        assert_eq!(b.next_event(), Some(1302));
    }

    #[test]
    fn irqen_clear_sets_no_status_and_stop_freezes() {
        let mut b = timer(None);
        b.wr(RELOAD, 10);
        b.wr(CTRL, CTRL_EN);
        assert_eq!(b.next_event(), None, "IRQEN clear: zeros are taken lazily");
        b.at(10);
        assert_eq!(b.rd(INTSTATUS), 0);
        assert!(!b.irq(0));
        b.at(15);
        assert_eq!(b.rd(VALUE), 6);
        b.wr(CTRL, 0);
        b.at(500);
        assert_eq!(b.rd(VALUE), 6);
        assert_eq!(b.next_event(), None);
        b.wr(CTRL, CTRL_EN | CTRL_IRQEN);
        b.at(505);
        assert!(!b.irq(0));
        b.at(506);
        assert!(b.irq(0), "continues from the frozen value");
        // Rewriting CTRL while running does not restart the count.
        b.wr(INTSTATUS, 1);
        b.at(510);
        b.wr(CTRL, CTRL_EN | CTRL_IRQEN);
        assert_eq!(b.next_event(), Some(517));
    }

    #[test]
    fn reload_zero_means_one_shot() {
        let mut b = timer(None);
        b.wr(CTRL, CTRL_EN | CTRL_IRQEN);
        assert_eq!(b.next_event(), None, "nothing to count");
        b.at(100);
        b.wr(VALUE, 20);
        assert_eq!(b.next_event(), Some(120));
        b.at(120);
        assert!(b.irq(0));
        b.at(1000);
        assert_eq!(b.rd(VALUE), 0);
        assert_eq!(b.next_event(), None, "stopped at 0");
        // Writing RELOAD restarts it, periodic.
        b.wr(INTSTATUS, 1);
        b.wr(RELOAD, 5);
        assert_eq!(b.next_event(), Some(1005));
        b.at(1005);
        assert!(b.irq(0));
        b.wr(INTSTATUS, 1);
        assert_eq!(b.next_event(), Some(1011));
        // RELOAD = 0 stops it.
        b.wr(RELOAD, 0);
        assert_eq!(b.next_event(), None);
        assert_eq!(b.rd(VALUE), 0);
    }

    #[test]
    fn slower_pclk_and_registers() {
        let mut b = timer(Some(12_500_000));
        b.wr(RELOAD, 10);
        b.wr(CTRL, 0xff);
        assert_eq!(b.rd(CTRL), 0xf);
        assert_eq!(b.next_event(), Some(20));
        b.at(19);
        assert_eq!(b.rd(VALUE), 1);
        b.at(20);
        assert!(b.irq(0));
        assert_eq!(b.rd(RELOAD), 10);
        assert_eq!(b.rd(0xfe0), 0x22);
        assert_eq!(b.rd(0x10), 0);
        assert_eq!(b.dev.peek(VALUE, 4), None);
        assert_eq!(b.dev.peek(RELOAD, 4), Some(10));
        b.reset();
        assert!(!b.irq(0));
        assert_eq!(b.next_event(), None);
        assert_eq!(b.rd(RELOAD), 0);
    }
}
