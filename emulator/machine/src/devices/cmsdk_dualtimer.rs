//! The CMSDK APB dual-input timer (Arm DDI0479; an SP804 relative), behaving as QEMU's
//! `hw/timer/cmsdk-apb-dualtimer.c`. Two identical down-counters (at 0x00 and 0x20), each
//! with LOAD, VALUE, CONTROL, INTCLR, RIS, MIS and BGLOAD:
//!
//! - CONTROL: ONESHOT (bit 0), SIZE 32-bit (1), PRESCALE /1, /16, /256 (3:2; 0b11 is
//!   undefined and counts as /256), INTEN (5), MODE periodic (6), ENABLE (7). Reset value
//!   0x20: free-running, 16-bit, interrupt enabled, stopped, VALUE 0xFFFFFFFF.
//! - Free-running mode wraps from 0 to 0xFFFF / 0xFFFFFFFF; periodic mode reloads LOAD
//!   (BGLOAD sets the reload value without touching the count). Reaching 0 sets RIS (even
//!   with INTEN clear); the outputs are RIS AND INTEN.
//! - In 16-bit mode the top half of VALUE and LOAD keeps what was last written (QEMU).
//! - Sub-word accesses act on the whole register, zero-padded (QEMU).
//! - Integration test mode: with ITCR bit 0 set the outputs follow ITOP bits 0 and 1.
//!
//! Counting, wrap and one-shot behaviour are QEMU's ptimer (see `countdown.rs`).

use super::common::{cmsdk_id, word_from_lane, word_lane, GuestLog, Time};
use super::countdown::Countdown;
use crate::device::{Device, DeviceCtx};
use armlet_cpu::BusError;

const LOAD: u32 = 0x00;
const VALUE: u32 = 0x04;
const CONTROL: u32 = 0x08;
const INTCLR: u32 = 0x0c;
const RIS: u32 = 0x10;
const MIS: u32 = 0x14;
const BGLOAD: u32 = 0x18;
const ITCR: u32 = 0xf00;
const ITOP: u32 = 0xf04;

const C_ONESHOT: u32 = 1 << 0;
const C_SIZE32: u32 = 1 << 1;
const C_PRESCALE: u32 = 0b11 << 2;
const C_INTEN: u32 = 1 << 5;
const C_PERIODIC: u32 = 1 << 6;
const C_ENABLE: u32 = 1 << 7;
const C_VALID: u32 = C_ONESHOT | C_SIZE32 | C_PRESCALE | C_INTEN | C_PERIODIC | C_ENABLE;

const ID: [u8; 12] = [
    0x04, 0x00, 0x00, 0x00, 0x23, 0xb8, 0x1b, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
];

/// IRQ outputs, in machine-file order.
pub const OUTPUTS: &[&str] = &[
    "combined (TIMINTC)",
    "timer 1 (TIMINT1)",
    "timer 2 (TIMINT2)",
];

/// The low 16 bits of `v` over `base`.
fn deposit16(base: u32, v: u64) -> u32 {
    (base & 0xffff_0000) | (v as u32 & 0xffff)
}

fn divisor(control: u32) -> u64 {
    match (control & C_PRESCALE) >> 2 {
        0 => 1,
        1 => 16,
        _ => 256,
    }
}

#[derive(Debug, Clone)]
struct Module {
    load: u32,
    value: u32,
    control: u32,
    intstatus: bool,
    timer: Countdown,
}

impl Module {
    fn reset(&mut self, t: Time) {
        self.control = C_INTEN;
        self.intstatus = false;
        self.load = 0;
        self.value = 0xffff_ffff;
        self.timer.stop(t);
        // Free-running, 16-bit: count and limit 0xFFFF so it wraps at 16 bits.
        self.timer.set_limit(0xffff, true);
        self.timer.set_divisor(1, t);
        self.timer.commit(t);
    }

    fn masked(&self) -> bool {
        self.intstatus && self.control & C_INTEN != 0
    }

    fn write_control(&mut self, newctrl: u32, t: Time, log: &mut GuestLog, name: &str) {
        let newctrl = newctrl & C_VALID;
        let old = self.control;
        let changed = old ^ newctrl;
        if changed & !newctrl & C_ENABLE != 0 {
            self.timer.stop(t);
        }
        if changed & C_PRESCALE != 0 {
            if newctrl & C_PRESCALE == C_PRESCALE {
                log.unimp(
                    name,
                    1,
                    "dual timer: CONTROL.PRESCALE = 0b11 is undefined (counts as /256)",
                );
            }
            self.timer.set_divisor(divisor(newctrl), t);
        }
        if changed & C_PERIODIC != 0 {
            let mut load = if newctrl & C_PERIODIC != 0 {
                self.load
            } else {
                // Free-running: remember the reload value, count the full range.
                let mut l = self.timer.limit() as u32;
                if old & C_SIZE32 == 0 {
                    l = deposit16(self.load, u64::from(l));
                }
                self.load = l;
                0xffff_ffff
            };
            if old & C_SIZE32 == 0 {
                load &= 0xffff;
            }
            self.timer.set_limit(u64::from(load), false);
        }
        if changed & C_SIZE32 != 0 {
            let mut value = self.timer.count(t) as u32;
            let mut load = self.timer.limit() as u32;
            if newctrl & C_SIZE32 != 0 {
                value = deposit16(self.value, u64::from(value));
            } else {
                self.value = value;
                value &= 0xffff;
            }
            if newctrl & C_PERIODIC != 0 {
                if newctrl & C_SIZE32 != 0 {
                    load = deposit16(self.load, u64::from(load));
                } else {
                    self.load = load;
                    load &= 0xffff;
                }
            } else {
                load = if newctrl & C_SIZE32 != 0 {
                    0xffff_ffff
                } else {
                    0xffff
                };
            }
            self.timer.set_count(u64::from(value));
            self.timer.set_limit(u64::from(load), false);
        }
        if newctrl & C_ENABLE != 0 {
            // Even if ENABLE did not change: restarts an expired one-shot that is now
            // periodic or free-running.
            self.timer.run(newctrl & C_ONESHOT != 0);
        }
        self.control = newctrl;
    }

    fn write_load(&mut self, value: u32, t: Time) {
        self.load = value;
        self.value = value;
        let v = if self.control & C_SIZE32 == 0 {
            value & 0xffff
        } else {
            value
        };
        if self.control & C_PERIODIC == 0 {
            // Free-running: no reload value, but the count changes.
            self.timer.set_count(u64::from(v));
        } else {
            if v == 0 {
                self.timer.stop(t);
            }
            self.timer.set_limit(u64::from(v), true);
            if v != 0 && self.control & C_ENABLE != 0 {
                // QEMU restarts the timer here as *one-shot* whatever CONTROL.ONESHOT says
                // (its comment: "force possibly-expired oneshot timer to restart"), so a
                // periodic timer whose LOAD is rewritten while enabled stops at its next
                // zero. Firmware written for QEMU sees this; the TRM's timer keeps
                // running periodically. Kept for compatibility with QEMU.
                self.timer.run(true);
            }
        }
    }

    fn read_load(&self) -> u32 {
        if self.control & C_PERIODIC != 0 {
            let l = self.timer.limit();
            if self.control & C_SIZE32 == 0 {
                deposit16(self.load, l)
            } else {
                l as u32
            }
        } else {
            self.load
        }
    }
}

/// A CMSDK APB dual timer.
#[derive(Debug)]
pub struct CmsdkDualTimer {
    name: String,
    m: [Module; 2],
    itcr: u32,
    itop: u32,
    log: GuestLog,
}

impl CmsdkDualTimer {
    /// A dual timer called `name` counting a `timclk_hz` clock (`None`: the CPU clock).
    pub fn new(name: &str, timclk_hz: Option<u64>) -> Self {
        let m = Module {
            load: 0,
            value: 0,
            control: 0,
            intstatus: false,
            timer: Countdown::new(timclk_hz),
        };
        CmsdkDualTimer {
            name: name.into(),
            m: [m.clone(), m],
            itcr: 0,
            itop: 0,
            log: GuestLog::default(),
        }
    }

    fn update(&self, ctx: &mut DeviceCtx<'_>) {
        let (i1, i2) = if self.itcr & 1 != 0 {
            (self.itop & 1 != 0, self.itop & 2 != 0)
        } else {
            (self.m[0].masked(), self.m[1].masked())
        };
        ctx.set_irq(0, i1 || i2);
        ctx.set_irq(1, i1);
        ctx.set_irq(2, i2);
    }

    /// Take the zeros reached by now; true if there was one.
    fn catch_up(&mut self, ctx: &mut DeviceCtx<'_>) -> bool {
        let t = Time::of(ctx);
        let mut hit = false;
        for m in &mut self.m {
            if m.timer.expire(t) {
                m.intstatus = true;
                hit = true;
            }
        }
        hit
    }

    /// Keep an event at each timer's next zero while it could change an output (INTEN set,
    /// RIS clear); other zeros are taken lazily when the guest next accesses the device.
    fn sync(&mut self, ctx: &mut DeviceCtx<'_>) {
        for (i, m) in self.m.iter().enumerate() {
            let token = i as u64 + 1;
            let wanted = m.control & C_INTEN != 0 && !m.intstatus;
            match m.timer.next_zero_at(ctx.cpu_hz()).filter(|_| wanted) {
                Some(at) => ctx.schedule(at, token),
                None => ctx.cancel(token),
            }
        }
        self.update(ctx);
    }

    fn reg(&self, offset: u32, t: Option<Time>) -> Option<u32> {
        if offset >= ITCR {
            return match offset {
                ITCR => Some(self.itcr),
                0xfd0..=0xfff => Some(cmsdk_id(&ID, offset)),
                _ => None,
            };
        }
        let m = self.m.get((offset >> 5) as usize)?;
        Some(match offset & 0x1f {
            LOAD | BGLOAD => m.read_load(),
            VALUE => {
                let v = m.timer.count(t?);
                if m.control & C_SIZE32 == 0 {
                    deposit16(m.value, v)
                } else {
                    v as u32
                }
            }
            CONTROL => m.control,
            RIS => u32::from(m.intstatus),
            MIS => u32::from(m.masked()),
            _ => return None,
        })
    }

    fn write_word(&mut self, offset: u32, value: u32, t: Time) {
        if offset >= ITCR {
            match offset {
                ITCR => self.itcr = value & 1,
                ITOP => self.itop = value & 3,
                _ => self.log.bad(&self.name, offset, true, value),
            }
            return;
        }
        let Some(m) = self.m.get_mut((offset >> 5) as usize) else {
            self.log.bad(&self.name, offset, true, value);
            return;
        };
        match offset & 0x1f {
            LOAD => m.write_load(value, t),
            BGLOAD => {
                m.load = value;
                if m.control & C_PERIODIC != 0 {
                    let v = if m.control & C_SIZE32 == 0 {
                        value & 0xffff
                    } else {
                        value
                    };
                    m.timer.set_limit(u64::from(v), false);
                }
            }
            CONTROL => m.write_control(value, t, &mut self.log, &self.name),
            INTCLR => m.intstatus = false,
            _ => self.log.bad(&self.name, offset, true, value),
        }
    }
}

impl Device for CmsdkDualTimer {
    fn read(&mut self, offset: u32, size: u8, ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        if self.catch_up(ctx) {
            self.sync(ctx);
        }
        let word = offset & !3;
        let v = self.reg(word, Some(Time::of(ctx))).unwrap_or_else(|| {
            self.log.bad(&self.name, word, false, 0);
            0
        });
        Ok(word_lane(offset, size, v))
    }

    fn write(
        &mut self,
        offset: u32,
        size: u8,
        value: u32,
        ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError> {
        self.catch_up(ctx);
        let t = Time::of(ctx);
        self.write_word(offset & !3, word_from_lane(offset, size, value), t);
        for m in &mut self.m {
            m.timer.commit(t);
        }
        self.sync(ctx);
        Ok(())
    }

    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        self.reg(offset & !3, None)
            .map(|v| word_lane(offset, size, v))
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        let t = Time::of(ctx);
        for m in &mut self.m {
            m.reset(t);
        }
        self.itcr = 0;
        self.itop = 0;
        self.sync(ctx);
    }

    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        if token == 1 || token == 2 {
            self.catch_up(ctx);
            self.sync(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::common::bench::Bench;

    fn dual() -> Bench<CmsdkDualTimer> {
        Bench::new(
            CmsdkDualTimer::new("dualtimer", None),
            25_000_000,
            &[10, 20, 21],
        )
    }

    const T2: u32 = 0x20;

    #[test]
    fn reset_state() {
        let mut b = dual();
        for base in [0, T2] {
            assert_eq!(b.rd(base + CONTROL), 0x20);
            assert_eq!(b.rd(base + VALUE), 0xffff_ffff);
            assert_eq!(b.rd(base + LOAD), 0);
            assert_eq!(b.rd(base + RIS), 0);
        }
        assert_eq!(b.rd(0xfe0), 0x23);
        assert_eq!(b.next_event(), None);
    }

    #[test]
    fn periodic_32bit_with_prescale() {
        let mut b = dual();
        b.at(100);
        b.wr(LOAD, 99);
        b.wr(CONTROL, C_ENABLE | C_PERIODIC | C_INTEN | C_SIZE32);
        assert_eq!(b.rd(VALUE), 99);
        b.at(198);
        assert_eq!(b.rd(VALUE), 1);
        assert!(!b.irq(0));
        b.at(199);
        assert!(b.irq(0) && b.irq(1) && !b.irq(2));
        assert_eq!(b.rd(RIS), 1);
        assert_eq!(b.rd(MIS), 1);
        b.wr(INTCLR, 0);
        assert!(!b.irq(0));
        b.at(200);
        assert_eq!(b.rd(VALUE), 99);
        b.at(299);
        assert!(b.irq(0), "every LOAD+1 clocks");
        // Timer 2, /16, one-shot, interrupt masked: RIS only.
        b.wr(INTCLR, 0);
        b.wr(T2 + CONTROL, C_SIZE32 | (1 << 2));
        b.wr(T2 + LOAD, 10);
        b.wr(
            T2 + CONTROL,
            C_ENABLE | C_ONESHOT | C_PERIODIC | C_SIZE32 | (1 << 2),
        );
        assert_eq!(b.next_event(), Some(399), "no event for the masked timer 2");
        b.at(299 + 159);
        assert_eq!(b.rd(T2 + VALUE), 1);
        b.at(299 + 160);
        assert_eq!(b.rd(T2 + RIS), 1);
        assert_eq!(b.rd(T2 + MIS), 0);
        assert!(!b.irq(2));
        b.at(5000);
        assert_eq!(b.rd(T2 + VALUE), 0, "one-shot stops at 0");
        b.wr(
            T2 + CONTROL,
            C_INTEN | C_ENABLE | C_ONESHOT | C_PERIODIC | C_SIZE32 | (1 << 2),
        );
        assert!(
            b.irq(2) && b.irq(0),
            "enabling the interrupt shows the latched status"
        );
    }

    #[test]
    fn free_running_16bit_wraps() {
        let mut b = dual();
        b.wr(LOAD, 0x1234_0003);
        b.wr(CONTROL, C_ENABLE | C_INTEN);
        assert_eq!(b.rd(VALUE), 0x1234_0003);
        assert_eq!(b.rd(LOAD), 0x1234_0003);
        b.at(3);
        assert!(b.irq(0));
        assert_eq!(b.rd(VALUE), 0x1234_0000);
        b.at(4);
        assert_eq!(
            b.rd(VALUE),
            0x1234_ffff,
            "wraps to 0xFFFF after one clock at 0"
        );
        assert_eq!(b.next_event(), None, "RIS set: no event needed");
        b.wr(INTCLR, 1);
        assert_eq!(b.next_event(), Some(3 + 0x10000));
        // Stopped timers keep their count.
        b.at(100);
        b.wr(CONTROL, C_INTEN);
        b.at(200);
        assert_eq!(b.rd(VALUE), 0x1234_0000 | (0xffff - 96));
    }

    #[test]
    fn load_while_enabled_restarts_one_shot_like_qemu() {
        let mut b = dual();
        b.wr(CONTROL, C_PERIODIC | C_SIZE32 | C_INTEN);
        b.wr(LOAD, 50);
        b.wr(CONTROL, C_ENABLE | C_PERIODIC | C_SIZE32 | C_INTEN);
        b.at(20);
        b.wr(LOAD, 10);
        assert_eq!(b.next_event(), Some(30));
        b.at(30);
        assert!(b.irq(0));
        assert_eq!(b.next_event(), None, "QEMU makes it one-shot");
        assert_eq!(b.rd(CONTROL) & C_ONESHOT, 0);
        // BGLOAD only changes the next reload.
        b.wr(INTCLR, 0);
        b.wr(CONTROL, C_ENABLE | C_PERIODIC | C_SIZE32 | C_INTEN);
        b.at(35);
        b.wr(BGLOAD, 4);
        assert_eq!(b.rd(LOAD), 4);
        assert_eq!(
            b.next_event(),
            Some(41),
            "started at 30 from 0: one tick at 0, then 10"
        );
        b.at(41);
        b.wr(INTCLR, 1);
        assert_eq!(b.next_event(), Some(46));
    }

    #[test]
    fn integration_test_outputs_and_byte_access() {
        let mut b = dual();
        b.wr(ITOP, 2);
        assert!(!b.irq(0));
        b.wr(ITCR, 1);
        assert!(b.irq(0) && !b.irq(1) && b.irq(2));
        assert_eq!(b.rd(ITCR), 1);
        assert_eq!(b.rd(ITOP), 0, "write-only");
        b.wr(ITCR, 0);
        assert!(!b.irq(0));
        // Byte writes zero-pad: writing byte 1 of CONTROL clears its low byte.
        b.write(CONTROL + 1, 1, 0x12);
        assert_eq!(b.rd(CONTROL), 0);
        b.write(CONTROL, 1, 0x62);
        assert_eq!(b.read(CONTROL, 1), 0x62);
        assert_eq!(b.read(CONTROL + 1, 1), 0);
        assert_eq!(b.rd(0x40), 0);
        b.wr(0x44, 1);
        assert_eq!(b.dev.peek(VALUE, 4), None);
        assert_eq!(b.dev.peek(CONTROL, 4), Some(0x62));
    }
}
