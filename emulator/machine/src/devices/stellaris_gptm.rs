//! The Stellaris general-purpose timer module (LM3S6965 data sheet, "General-Purpose
//! Timers"), behaving as QEMU's `hw/timer/stellaris-gptm.c`, which models only part of it:
//!
//! - CFG = 0 (32-bit timer): setting CTL.TAEN starts timer A counting down from TAILR
//!   (TBILR is its top half, as the data sheet says) at the timer clock; reaching 0 sets
//!   RIS.TATORIS and reloads from TAILR (periodic, TAMR bit 0 clear) or clears CTL.TAEN
//!   (one-shot, TAMR bit 0 set). Clearing TAEN stops it; setting it again starts over from
//!   TAILR (no pause/resume, as in QEMU).
//! - CFG = 1 (32-bit RTC): with TAEN set, a counter (read in TAR) increments every second
//!   of virtual time; passing TAMATCHR wraps it to 0, which sets RIS.RTCRIS.
//! - 16-bit modes (CFG 4): QEMU does not implement them; neither does armlet — enabling a
//!   16-bit timer does nothing (PWM mode included). CFG 2 and 3 likewise.
//! - IMR keeps only bits 0-2 and 4-6 (QEMU's mask 0x77): TATOIM works, but RTCIM and the
//!   timer B interrupts cannot be unmasked, so RTC mode never interrupts (firmware written
//!   for QEMU sees this; real hardware would interrupt).
//! - QEMU slips kept for compatibility: TBMATCHR stores the *top* half of the value
//!   written, and TBPMR writes go to TAPMR.
//! - TAR reads the counter computed from virtual time (QEMU reads 0 outside RTC mode; the
//!   data sheet's value is more useful and firmware that polls it works); TBR reads 0.
//! - The timer clock is the system clock: param `clk_hz`, by default the CPU clock. (QEMU
//!   derives it from the system control RCC register: 12.5 MHz after reset, 50 MHz once
//!   firmware sets the PLL up with SYSDIV /4.)
//! - A TAILR of 0 is treated as 1 (QEMU would re-fire forever at the same instant).
//! - The ADC trigger output (CTL.TAOTE) is not modelled.

use super::common::{cycles_for, size_mask, ticks_in, GuestLog, Time};
use crate::device::{Device, DeviceCtx};
use armlet_cpu::BusError;

const CFG: u32 = 0x00;
const TAMR: u32 = 0x04;
const TBMR: u32 = 0x08;
const CTL: u32 = 0x0c;
const IMR: u32 = 0x18;
const RIS: u32 = 0x1c;
const MIS: u32 = 0x20;
const ICR: u32 = 0x24;
const TAILR: u32 = 0x28;
const TBILR: u32 = 0x2c;
const TAMATCHR: u32 = 0x30;
const TBMATCHR: u32 = 0x34;
const TAPR: u32 = 0x38;
const TBPR: u32 = 0x3c;
const TAPMR: u32 = 0x40;
const TBPMR: u32 = 0x44;
const TAR: u32 = 0x48;
const TBR: u32 = 0x4c;

const CTL_TAEN: u32 = 1 << 0;
const CTL_TBEN: u32 = 1 << 8;
const RIS_TATO: u32 = 1 << 0;
const RIS_RTC: u32 = 1 << 3;

const TOKEN: u64 = 1;

/// IRQ outputs, in machine-file order.
pub const OUTPUTS: &[&str] = &["timer"];

/// Timer A running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    /// 32-bit count-down: started at cycle `base`; the current period ends (timeout) at
    /// tick `end` (ticks since `base`).
    Count { base: u64, end: u64 },
    /// RTC: the next 1 Hz increment is at cycle `next`.
    Rtc { next: u64 },
}

/// A general-purpose timer module.
#[derive(Debug)]
pub struct StellarisGptm {
    name: String,
    clk_hz: Option<u64>,
    config: u32,
    mode: [u32; 2],
    control: u32,
    state: u32,
    mask: u32,
    load: [u32; 2],
    matches: [u32; 2],
    prescale: [u32; 2],
    match_prescale: [u32; 2],
    rtc: u32,
    run: Option<Run>,
    /// TAR while timer A is stopped.
    tar: u32,
    log: GuestLog,
}

impl StellarisGptm {
    /// A timer module called `name` counting a `clk_hz` clock (`None`: the CPU clock).
    pub fn new(name: &str, clk_hz: Option<u64>) -> Self {
        StellarisGptm {
            name: name.into(),
            clk_hz,
            config: 0,
            mode: [0; 2],
            control: 0,
            state: 0,
            mask: 0,
            load: [0; 2],
            matches: [0; 2],
            prescale: [0; 2],
            match_prescale: [0; 2],
            rtc: 0,
            run: None,
            tar: 0,
            log: GuestLog::default(),
        }
    }

    fn clk(&self, t: Time) -> u64 {
        self.clk_hz.unwrap_or(t.cpu_hz)
    }

    /// The 32-bit reload value, at least 1.
    fn count(&self) -> u64 {
        u64::from(self.load[0] | (self.load[1] << 16)).max(1)
    }

    /// Start timer A (QEMU's gptm_reload with reset).
    fn start(&mut self, t: Time) {
        self.run = match self.config {
            0 => Some(Run::Count {
                base: t.now,
                end: self.count(),
            }),
            1 => Some(Run::Rtc {
                next: t.now.saturating_add(t.cpu_hz),
            }),
            _ => {
                if self.mode[0] != 0xa {
                    self.log.unimp(
                        &self.name,
                        self.mode[0],
                        &format!("GPTM 16-bit timer mode {:#x}", self.mode[0]),
                    );
                }
                None
            }
        };
    }

    fn stop(&mut self, t: Time) {
        self.tar = self.tar_value(t);
        self.run = None;
    }

    fn next_at(&self, t: Time) -> Option<u64> {
        match self.run? {
            Run::Count { base, end } => {
                Some(base.saturating_add(cycles_for(end, t.cpu_hz, self.clk(t), 1)))
            }
            Run::Rtc { next } => Some(next),
        }
    }

    /// Process every timeout due by now; true if there was one.
    fn catch_up(&mut self, t: Time) -> bool {
        let mut hit = false;
        while let Some(at) = self.next_at(t) {
            if at > t.now {
                break;
            }
            hit = true;
            match (self.run, self.config) {
                (Some(Run::Count { base, end }), 0) => {
                    self.state |= RIS_TATO;
                    if self.mode[0] & 1 != 0 {
                        // One-shot: stops and clears TAEN.
                        self.control &= !CTL_TAEN;
                        self.run = None;
                        self.tar = 0;
                    } else {
                        // Periodic: skip straight to the period containing now.
                        let now_ticks =
                            ticks_in(t.now.saturating_sub(base), t.cpu_hz, self.clk(t), 1);
                        let p = self.count();
                        let end = end + (now_ticks - end) / p * p + p;
                        self.run = Some(Run::Count { base, end });
                    }
                }
                (Some(Run::Rtc { next }), 1) => {
                    self.rtc = self.rtc.wrapping_add(1);
                    let limit = self.matches[0] | (self.matches[1] << 16);
                    if self.rtc > limit {
                        self.rtc = 0;
                    }
                    if self.rtc == 0 {
                        self.state |= RIS_RTC;
                    }
                    self.run = Some(Run::Rtc {
                        next: next.saturating_add(t.cpu_hz),
                    });
                }
                // CFG changed under a running timer: QEMU's tick would do nothing further.
                _ => self.run = None,
            }
        }
        hit
    }

    /// Keep an event at the next timeout while it could change the IRQ output (its
    /// interrupt unmasked and not yet raised); other timeouts, and the one-shot's clearing of
    /// TAEN, are taken lazily when the guest next accesses the timer.
    fn sync(&mut self, ctx: &mut DeviceCtx<'_>) {
        let bit = match self.run {
            Some(Run::Count { .. }) => RIS_TATO,
            Some(Run::Rtc { .. }) => RIS_RTC,
            None => 0,
        };
        let wanted = self.mask & bit != 0 && self.state & bit == 0;
        match self.next_at(Time::of(ctx)).filter(|_| wanted) {
            Some(at) => ctx.schedule(at, TOKEN),
            None => ctx.cancel(TOKEN),
        }
        ctx.set_irq(0, self.state & self.mask != 0);
    }

    fn tar_value(&self, t: Time) -> u32 {
        if self.config == 1 {
            return self.rtc;
        }
        match self.run {
            Some(Run::Count { base, end }) => {
                let e = ticks_in(t.now.saturating_sub(base), t.cpu_hz, self.clk(t), 1);
                end.saturating_sub(e) as u32
            }
            _ => self.tar,
        }
    }

    fn reg(&self, offset: u32, t: Option<Time>) -> Option<u32> {
        let wide = self.config < 4;
        Some(match offset {
            CFG => self.config,
            TAMR => self.mode[0],
            TBMR => self.mode[1],
            CTL => self.control,
            IMR => self.mask,
            RIS => self.state,
            MIS => self.state & self.mask,
            ICR => 0,
            TAILR => self.load[0] | if wide { self.load[1] << 16 } else { 0 },
            TBILR => self.load[1],
            TAMATCHR => self.matches[0] | if wide { self.matches[1] << 16 } else { 0 },
            TBMATCHR => self.matches[1],
            TAPR => self.prescale[0],
            TBPR => self.prescale[1],
            TAPMR => self.match_prescale[0],
            TBPMR => self.match_prescale[1],
            TAR => match t {
                Some(t) => self.tar_value(t),
                None if self.config == 1 => self.rtc,
                None if self.run.is_none() => self.tar,
                None => return None,
            },
            TBR => 0,
            _ => return None,
        })
    }
}

impl Device for StellarisGptm {
    fn read(&mut self, offset: u32, size: u8, ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        let t = Time::of(ctx);
        if self.catch_up(t) {
            self.sync(ctx);
        }
        let v = self.reg(offset, Some(t)).unwrap_or_else(|| {
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
        let t = Time::of(ctx);
        self.catch_up(t);
        let wide = self.config < 4;
        match offset {
            // The data sheet asks for the timers to be disabled while reconfigured; like
            // QEMU, the configuration is only looked at when a timer starts.
            CFG => self.config = value,
            TAMR => self.mode[0] = value,
            TBMR => self.mode[1] = value,
            CTL => {
                let old = self.control;
                self.control = value;
                if (old ^ value) & CTL_TAEN != 0 {
                    if value & CTL_TAEN != 0 {
                        self.start(t);
                    } else {
                        self.stop(t);
                    }
                }
                if (old ^ value) & value & CTL_TBEN != 0 && self.config >= 4 && self.mode[1] != 0xa
                {
                    self.log.unimp(
                        &self.name,
                        self.mode[1],
                        &format!("GPTM 16-bit timer mode {:#x}", self.mode[1]),
                    );
                }
            }
            IMR => self.mask = value & 0x77,
            ICR => self.state &= !value,
            TAILR => {
                self.load[0] = value & 0xffff;
                if wide {
                    self.load[1] = value >> 16;
                }
            }
            TBILR => self.load[1] = value & 0xffff,
            TAMATCHR => {
                self.matches[0] = value & 0xffff;
                if wide {
                    self.matches[1] = value >> 16;
                }
            }
            // QEMU stores the top half here (a slip; kept for compatibility).
            TBMATCHR => self.matches[1] = value >> 16,
            TAPR => self.prescale[0] = value,
            TBPR => self.prescale[1] = value,
            TAPMR => self.match_prescale[0] = value,
            // QEMU writes TAPMR here (a slip; kept for compatibility).
            TBPMR => self.match_prescale[0] = value,
            _ => self.log.bad(&self.name, offset, true, value),
        }
        self.sync(ctx);
        Ok(())
    }

    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        self.reg(offset, None).map(|v| v & size_mask(size))
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        *self = StellarisGptm::new(&self.name, self.clk_hz);
        self.sync(ctx);
    }

    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        if token == TOKEN {
            self.catch_up(Time::of(ctx));
            self.sync(ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::common::bench::Bench;

    const HZ: u64 = 50_000_000;

    fn gptm(clk: Option<u64>) -> Bench<StellarisGptm> {
        Bench::new(StellarisGptm::new("timer0", clk), HZ, &[19])
    }

    #[test]
    fn periodic_32bit() {
        let mut b = gptm(None);
        b.at(100);
        b.wr(CFG, 0);
        b.wr(TAMR, 2);
        b.wr(TAILR, 1000);
        b.wr(IMR, 1);
        b.wr(CTL, CTL_TAEN);
        assert_eq!(b.rd(TAR), 1000);
        b.at(350);
        assert_eq!(b.rd(TAR), 750);
        b.at(1099);
        assert!(!b.irq(0));
        assert_eq!(b.rd(TAR), 1);
        b.at(1100);
        assert!(b.irq(0));
        assert_eq!((b.rd(RIS), b.rd(MIS)), (1, 1));
        assert_eq!(b.rd(TAR), 1000, "reloaded");
        assert_eq!(b.next_event(), None, "interrupt raised: no event needed");
        b.wr(ICR, 1);
        assert!(!b.irq(0));
        assert_eq!(b.next_event(), Some(2100));
        // A new TAILR takes effect at the next reload.
        b.wr(TAILR, 10);
        b.at(2100);
        assert!(b.irq(0));
        b.wr(ICR, 1);
        assert_eq!(b.next_event(), Some(2110));
        // Stop, and start again from TAILR.
        b.at(2105);
        b.wr(CTL, 0);
        assert_eq!(b.rd(TAR), 5);
        assert_eq!(b.next_event(), None);
        b.at(3000);
        b.wr(CTL, CTL_TAEN);
        assert_eq!(b.next_event(), Some(3010));
    }

    #[test]
    fn unmasked_one_shot_interrupts_on_time() {
        let mut b = gptm(Some(12_500_000));
        b.wr(TAMR, 1);
        b.wr(TAILR, 100);
        b.wr(IMR, 1);
        b.wr(CTL, CTL_TAEN);
        assert_eq!(b.next_event(), Some(400));
        b.at(399);
        assert!(!b.irq(0));
        b.at(400);
        assert!(b.irq(0));
        b.wr(ICR, 1);
        assert_eq!(b.next_event(), None, "one-shot done");
        assert_eq!(b.rd(CTL), 0);
    }

    #[test]
    fn one_shot_clears_taen() {
        let mut b = gptm(Some(12_500_000));
        b.wr(TAMR, 1);
        b.wr(TAILR, 100);
        b.wr(CTL, CTL_TAEN);
        assert_eq!(b.next_event(), None, "masked: taken lazily");
        b.at(399);
        assert_eq!(b.rd(TAR), 1, "12.5 MHz timer clock on a 50 MHz CPU");
        assert_eq!(b.rd(CTL), CTL_TAEN);
        b.at(400);
        assert_eq!(b.rd(RIS), RIS_TATO);
        assert!(!b.irq(0), "masked");
        assert_eq!(b.rd(CTL), 0);
        assert_eq!(b.next_event(), None);
        assert_eq!(b.rd(TAR), 0);
        b.wr(IMR, 0xffff_ffff);
        assert_eq!(b.rd(IMR), 0x77, "QEMU's IMR mask");
        assert!(b.irq(0));
    }

    #[test]
    fn rtc_mode_counts_seconds() {
        let mut b = gptm(None);
        b.wr(CFG, 1);
        b.wr(TAMATCHR, 2);
        b.wr(IMR, RIS_RTC);
        b.wr(CTL, CTL_TAEN);
        b.at(HZ - 1);
        assert_eq!(b.rd(TAR), 0);
        b.at(HZ);
        assert_eq!(b.rd(TAR), 1);
        b.at(2 * HZ);
        assert_eq!(b.rd(TAR), 2);
        assert_eq!(b.rd(RIS), 0);
        b.at(3 * HZ);
        assert_eq!(b.rd(TAR), 0, "passed the match value");
        assert_eq!(b.rd(RIS), RIS_RTC);
        assert!(!b.irq(0), "RTCIM is not in QEMU's IMR mask");
    }

    #[test]
    fn sixteen_bit_modes_are_not_modelled() {
        let mut b = gptm(None);
        b.wr(TAILR, 0x1234_5678);
        assert_eq!(b.rd(TAILR), 0x1234_5678);
        assert_eq!(b.rd(TBILR), 0x1234);
        b.wr(CFG, 4);
        assert_eq!(b.rd(TAILR), 0x5678);
        b.wr(TAILR, 0xabcd_0001);
        assert_eq!(b.rd(TBILR), 0x1234, "16-bit: TAILR leaves timer B alone");
        b.wr(TAMR, 2);
        b.wr(CTL, CTL_TAEN | CTL_TBEN);
        assert_eq!(b.next_event(), None);
        // QEMU's slips.
        b.wr(TBMATCHR, 0x0005_0009);
        assert_eq!(b.rd(TBMATCHR), 5);
        b.wr(TBPMR, 7);
        assert_eq!((b.rd(TAPMR), b.rd(TBPMR)), (7, 0));
        assert_eq!(b.rd(0x50), 0);
        assert_eq!(b.dev.peek(CFG, 4), Some(4));
        b.reset();
        assert_eq!(b.rd(CFG), 0);
        assert_eq!(b.rd(TAILR), 0);
    }
}
