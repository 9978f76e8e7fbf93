//! The MPS2 FPGA system control and I/O block (AN385 and siblings; QEMU's
//! `hw/misc/mps2-fpgaio.c`): LEDs, buttons, free-running counters and MISC control bits.
//!
//! - LED0 (0x00): the user LEDs, `num_leds` bits (2 on MPS2), read as written.
//! - DBGCTRL (0x04) and SWITCH (0x28) exist only with `has_dbgctrl` / `has_switches`
//!   (not on AN385/AN386/AN500); BUTTON (0x08) and SWITCH read 0 (no buttons are pressed).
//! - CLK1HZ (0x10) and CLK100HZ (0x14) count up at 1 Hz and 100 Hz of virtual time from
//!   reset or from the value last written.
//! - PRESCALE (0x1C), PSCNTR (0x20), COUNTER (0x18): PSCNTR counts down at `prescale_hz`;
//!   one clock after it reaches 0 it reloads from PRESCALE and COUNTER increments (with
//!   PRESCALE = 0, COUNTER increments every clock). All are writable.
//! - MISC (0x4C): control bits for other board devices (SPI, CLCD); read as written, no
//!   effect (QEMU neither).

use super::common::{size_mask, ticks_in, GuestLog, Time};
use crate::device::{Device, DeviceCtx};
use armlet_cpu::BusError;

const LED0: u32 = 0x00;
const DBGCTRL: u32 = 0x04;
const BUTTON: u32 = 0x08;
const CLK1HZ: u32 = 0x10;
const CLK100HZ: u32 = 0x14;
const COUNTER: u32 = 0x18;
const PRESCALE: u32 = 0x1c;
const PSCNTR: u32 = 0x20;
const SWITCH: u32 = 0x28;
const MISC: u32 = 0x4c;

/// IRQ outputs: none.
pub const OUTPUTS: &[&str] = &[];

/// Configuration (machine-file params).
#[derive(Debug, Clone)]
pub struct FpgaioConfig {
    /// Clock of PSCNTR; `None` for the CPU clock (QEMU's MPS2 boards: 25 MHz, the CPU clock).
    pub prescale_hz: Option<u64>,
    /// LEDs in LED0 (0..=32).
    pub num_leds: u32,
    /// The SWITCH register exists.
    pub has_switches: bool,
    /// The DBGCTRL register exists.
    pub has_dbgctrl: bool,
}

impl Default for FpgaioConfig {
    fn default() -> Self {
        FpgaioConfig {
            prescale_hz: None,
            num_leds: 2,
            has_switches: false,
            has_dbgctrl: false,
        }
    }
}

/// A counter counting up at `hz` from `value` at cycle `since`.
#[derive(Debug, Clone, Copy, Default)]
struct UpCounter {
    since: u64,
    value: u32,
}

impl UpCounter {
    fn get(&self, t: Time, hz: u64) -> u32 {
        let n = ticks_in(t.now.saturating_sub(self.since), t.cpu_hz, hz, 1);
        self.value.wrapping_add(n as u32)
    }
}

/// The FPGAIO block.
#[derive(Debug)]
pub struct Mps2Fpgaio {
    name: String,
    cfg: FpgaioConfig,
    led0: u32,
    dbgctrl: u32,
    prescale: u32,
    misc: u32,
    clk1hz: UpCounter,
    clk100hz: UpCounter,
    counter: u32,
    pscntr: u32,
    /// Prescale clocks since power-on up to which COUNTER/PSCNTR are current.
    synced: u64,
    log: GuestLog,
}

impl Mps2Fpgaio {
    /// An FPGAIO block called `name`.
    pub fn new(name: &str, cfg: FpgaioConfig) -> Self {
        Mps2Fpgaio {
            name: name.into(),
            cfg,
            led0: 0,
            dbgctrl: 0,
            prescale: 0,
            misc: 0,
            clk1hz: UpCounter::default(),
            clk100hz: UpCounter::default(),
            counter: 0,
            pscntr: 0,
            synced: 0,
            log: GuestLog::default(),
        }
    }

    fn prescale_ticks(&self, t: Time) -> u64 {
        ticks_in(t.now, t.cpu_hz, self.cfg.prescale_hz.unwrap_or(t.cpu_hz), 1)
    }

    /// Bring COUNTER and PSCNTR up to now.
    fn resync(&mut self, t: Time) {
        let total = self.prescale_ticks(t);
        let ticks = total.saturating_sub(self.synced);
        if ticks == 0 {
            return;
        }
        let ps = u64::from(self.pscntr);
        if ticks < ps {
            self.pscntr -= ticks as u32;
        } else if self.prescale == 0 {
            // Reload value 0: PSCNTR sticks at 0 and COUNTER counts every clock.
            self.counter = self.counter.wrapping_add((ticks - ps) as u32);
            self.pscntr = 0;
        } else {
            // E.g. PRESCALE 5, PSCNTR 7: 7 6 5 4 3 2 1 0 5 4 3 2 1 0 5 ..., COUNTER
            // incrementing at each reload.
            let p = u64::from(self.prescale);
            let y = ticks - ps + p;
            self.pscntr = (p - y % (p + 1)) as u32;
            self.counter = self.counter.wrapping_add((y / (p + 1)) as u32);
        }
        self.synced = total;
    }

    fn reg(&self, offset: u32, t: Option<Time>) -> Option<u32> {
        Some(match offset {
            LED0 => self.led0,
            DBGCTRL if self.cfg.has_dbgctrl => self.dbgctrl,
            BUTTON => 0,
            SWITCH if self.cfg.has_switches => 0,
            PRESCALE => self.prescale,
            MISC => self.misc,
            CLK1HZ => self.clk1hz.get(t?, 1),
            CLK100HZ => self.clk100hz.get(t?, 100),
            COUNTER => self.counter,
            PSCNTR => self.pscntr,
            _ => return None,
        })
    }
}

impl Device for Mps2Fpgaio {
    fn read(&mut self, offset: u32, size: u8, ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        let t = Time::of(ctx);
        if matches!(offset, COUNTER | PSCNTR) {
            self.resync(t);
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
        match offset {
            LED0 => {
                if self.cfg.num_leds != 0 {
                    let mask = (1u64 << self.cfg.num_leds.min(32)) - 1;
                    let leds = value & mask as u32;
                    if leds != self.led0 {
                        tracing::debug!(device = %self.name, "LEDs {leds:#b}");
                    }
                    self.led0 = leds;
                }
            }
            DBGCTRL if self.cfg.has_dbgctrl => {
                self.log
                    .unimp(&self.name, 1, "FPGAIO DBGCTRL (read as written)");
                self.dbgctrl = value;
            }
            PRESCALE => {
                self.resync(t);
                self.prescale = value;
            }
            MISC => self.misc = value,
            CLK1HZ => {
                self.clk1hz = UpCounter {
                    since: t.now,
                    value,
                }
            }
            CLK100HZ => {
                self.clk100hz = UpCounter {
                    since: t.now,
                    value,
                }
            }
            COUNTER => {
                self.resync(t);
                self.counter = value;
            }
            PSCNTR => {
                self.resync(t);
                self.pscntr = value;
            }
            _ => self.log.bad(&self.name, offset, true, value),
        }
        Ok(())
    }

    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, offset: u32, size: u8) -> Option<u32> {
        if matches!(offset, COUNTER | PSCNTR | CLK1HZ | CLK100HZ) {
            return None; // depend on the time
        }
        self.reg(offset, None).map(|v| v & size_mask(size))
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        let t = Time::of(ctx);
        self.led0 = 0;
        self.prescale = 0;
        self.misc = 0;
        self.clk1hz = UpCounter {
            since: t.now,
            value: 0,
        };
        self.clk100hz = UpCounter {
            since: t.now,
            value: 0,
        };
        self.counter = 0;
        self.pscntr = 0;
        self.synced = self.prescale_ticks(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::common::bench::Bench;

    const HZ: u64 = 25_000_000;

    fn fpgaio(cfg: FpgaioConfig) -> Bench<Mps2Fpgaio> {
        Bench::new(Mps2Fpgaio::new("fpgaio", cfg), HZ, &[])
    }

    #[test]
    fn prescaled_counter() {
        let mut b = fpgaio(FpgaioConfig::default());
        b.wr(PRESCALE, 4);
        b.at(1);
        assert_eq!(
            (b.rd(COUNTER), b.rd(PSCNTR)),
            (1, 4),
            "PSCNTR was 0: reload at once"
        );
        b.at(5);
        assert_eq!((b.rd(COUNTER), b.rd(PSCNTR)), (1, 0));
        assert_eq!(
            (b.rd(COUNTER), b.rd(PSCNTR)),
            (1, 0),
            "re-reading in the same clock"
        );
        b.at(6);
        assert_eq!((b.rd(COUNTER), b.rd(PSCNTR)), (2, 4));
        b.at(6 + 5 * 1000);
        assert_eq!((b.rd(COUNTER), b.rd(PSCNTR)), (1002, 4));
        // PRESCALE 0: COUNTER counts every clock.
        b.wr(PRESCALE, 0);
        b.step(4);
        assert_eq!((b.rd(COUNTER), b.rd(PSCNTR)), (1002, 0));
        b.step(10);
        assert_eq!(b.rd(COUNTER), 1012);
        b.wr(COUNTER, 0xffff_ffff);
        b.step(2);
        assert_eq!(b.rd(COUNTER), 1, "wraps");
        b.wr(PSCNTR, 100);
        b.wr(PRESCALE, 100);
        b.step(100);
        assert_eq!((b.rd(COUNTER), b.rd(PSCNTR)), (1, 0));
    }

    #[test]
    fn slow_clocks_from_virtual_time() {
        let mut b = fpgaio(FpgaioConfig {
            prescale_hz: Some(1_000_000),
            ..Default::default()
        });
        b.at(HZ - 1);
        assert_eq!(b.rd(CLK1HZ), 0);
        assert_eq!(b.rd(CLK100HZ), 99);
        b.at(HZ);
        assert_eq!(b.rd(CLK1HZ), 1);
        assert_eq!(b.rd(CLK100HZ), 100);
        assert_eq!(b.rd(COUNTER), 1_000_000, "1 MHz prescale clock, PRESCALE 0");
        b.wr(CLK1HZ, 7);
        b.at(HZ + HZ / 2);
        b.wr(CLK100HZ, 0);
        b.at(2 * HZ);
        assert_eq!(b.rd(CLK1HZ), 8);
        assert_eq!(b.rd(CLK100HZ), 50);
    }

    #[test]
    fn leds_misc_and_optional_registers() {
        let mut b = fpgaio(FpgaioConfig::default());
        b.wr(LED0, 0xff);
        assert_eq!(b.rd(LED0), 3, "two LEDs");
        b.wr(MISC, 0x1234);
        assert_eq!(b.rd(MISC), 0x1234);
        assert_eq!(b.rd(BUTTON), 0);
        b.wr(DBGCTRL, 5);
        assert_eq!(b.rd(DBGCTRL), 0, "no DBGCTRL on MPS2");
        assert_eq!(b.dev.peek(SWITCH, 4), None);
        assert_eq!(b.dev.peek(MISC, 4), Some(0x1234));
        assert_eq!(b.dev.peek(COUNTER, 4), None);
        b.reset();
        assert_eq!(b.rd(LED0), 0);
        let mut b = fpgaio(FpgaioConfig {
            num_leds: 32,
            has_switches: true,
            has_dbgctrl: true,
            ..Default::default()
        });
        b.wr(LED0, 0xffff_ffff);
        assert_eq!(b.rd(LED0), 0xffff_ffff);
        b.wr(DBGCTRL, 5);
        assert_eq!(b.rd(DBGCTRL), 5);
        assert_eq!(b.dev.peek(SWITCH, 4), Some(0));
    }
}
