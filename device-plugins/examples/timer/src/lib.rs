//! Example plugin: a periodic timer in virtual time. While enabled it expires every PERIOD
//! ticks of a `tick_hz` clock (default 1 MHz: PERIOD is in microseconds), exactly on time:
//! the host calls back at the scheduled virtual time, nothing ticks per cycle.
//!
//! | Offset | Register | |
//! |---|---|---|
//! | 0x00 | CTRL | bit 0 EN (0→1 starts a period from now), bit 1 IRQEN |
//! | 0x04 | PERIOD | period in ticks (> 0); writing it while enabled restarts the period |
//! | 0x08 | STATUS | bit 0: expired (write 1 to clear); the IRQ is `STATUS & IRQEN` |
//! | 0x0c | COUNT | expirations since enabled |
//! | 0x10 | LAST_LO | virtual time (CPU cycles) of the last expiration, low word |
//! | 0x14 | LAST_HI | high word |
//! | 0x18 | START_LO | virtual time (CPU cycles) the current period train started, low word |
//! | 0x1c | NOW_LO | virtual time now (CPU cycles), low word |
//!
//! The n-th expiration after enabling happens at `START + n * PERIOD * cpu_hz / tick_hz`.
#![deny(unsafe_code)]

use armlet_plugin::{
    export_plugin, BusError, Config, Device, Host, Param, Region, TypeDesc, ACCESS_32,
};

const CTRL: u32 = 0x00;
const PERIOD: u32 = 0x04;
const STATUS: u32 = 0x08;
const COUNT: u32 = 0x0c;
const LAST_LO: u32 = 0x10;
const LAST_HI: u32 = 0x14;
const START_LO: u32 = 0x18;
const NOW_LO: u32 = 0x1c;

const EN: u32 = 1;
const IRQEN: u32 = 2;
const TOKEN: u64 = 1;

#[derive(Debug)]
struct Timer {
    tick_hz: u64,
    ctrl: u32,
    period: u32,
    status: u32,
    count: u32,
    last: u64,
    start: u64,
    next: u64,
}

impl Timer {
    fn period_cycles(&self, cpu_hz: u64) -> u64 {
        let c = u128::from(self.period) * u128::from(cpu_hz) / u128::from(self.tick_hz.max(1));
        u64::try_from(c).unwrap_or(u64::MAX).max(1)
    }

    /// Start a period train now (if enabled with a period) or stop.
    fn restart(&mut self, host: &mut Host<'_>) {
        if self.ctrl & EN != 0 && self.period != 0 {
            let hz = host.cpu_hz();
            self.start = host.now();
            self.count = 0;
            self.next = self.start.saturating_add(self.period_cycles(hz));
            host.schedule(self.next, TOKEN);
        } else {
            host.cancel(TOKEN);
        }
    }

    fn update_irq(&self, host: &mut Host<'_>) {
        host.set_irq(0, self.status != 0 && self.ctrl & IRQEN != 0);
    }

    fn reg(&self, offset: u32) -> Option<u32> {
        Some(match offset {
            CTRL => self.ctrl,
            PERIOD => self.period,
            STATUS => self.status,
            COUNT => self.count,
            LAST_LO => self.last as u32,
            LAST_HI => (self.last >> 32) as u32,
            START_LO => self.start as u32,
            _ => return None,
        })
    }
}

impl Device for Timer {
    fn describe() -> TypeDesc {
        TypeDesc::new(
            "periodic-timer",
            "periodic timer in virtual time with an expiry IRQ",
        )
        .param(Param::int("tick_hz", 1_000_000, "frequency of the PERIOD unit").range(1, 1 << 40))
        .region(Region::new("regs", 0x20).access(ACCESS_32))
        .irq_output("expired")
        .state_version(1)
    }

    fn create(cfg: &Config, _host: &mut Host<'_>) -> Result<Self, String> {
        Ok(Timer {
            tick_hz: cfg.int("tick_hz") as u64,
            ctrl: 0,
            period: 0,
            status: 0,
            count: 0,
            last: 0,
            start: 0,
            next: 0,
        })
    }

    fn read(
        &mut self,
        host: &mut Host<'_>,
        _region: u32,
        offset: u32,
        _size: u32,
    ) -> Result<u32, BusError> {
        if offset == NOW_LO {
            return Ok(host.now() as u32);
        }
        self.reg(offset).ok_or(BusError)
    }

    fn write(
        &mut self,
        host: &mut Host<'_>,
        _region: u32,
        offset: u32,
        _size: u32,
        value: u32,
    ) -> Result<(), BusError> {
        match offset {
            CTRL => {
                let was = self.ctrl & EN != 0;
                self.ctrl = value & (EN | IRQEN);
                let now = self.ctrl & EN != 0;
                if was != now {
                    self.restart(host);
                }
                self.update_irq(host);
            }
            PERIOD => {
                self.period = value;
                self.restart(host);
            }
            STATUS => {
                self.status &= !value;
                self.update_irq(host);
            }
            COUNT | LAST_LO | LAST_HI | START_LO | NOW_LO => {}
            _ => return Err(BusError),
        }
        Ok(())
    }

    fn peek(&self, _region: u32, offset: u32, _size: u32) -> Option<u32> {
        // NOW_LO needs the host's clock, which a side-effect-free peek does not get.
        self.reg(offset)
    }

    fn reset(&mut self, host: &mut Host<'_>) {
        *self = Timer {
            tick_hz: self.tick_hz,
            ctrl: 0,
            period: 0,
            status: 0,
            count: 0,
            last: 0,
            start: 0,
            next: 0,
        };
        host.cancel(TOKEN);
        host.set_irq(0, false);
    }

    fn timer(&mut self, host: &mut Host<'_>, token: u64) {
        if token != TOKEN || self.ctrl & EN == 0 {
            return;
        }
        let hz = host.cpu_hz();
        self.last = host.now();
        self.count = self.count.wrapping_add(1);
        self.status = 1;
        self.update_irq(host);
        self.next = self.next.saturating_add(self.period_cycles(hz));
        host.schedule(self.next, TOKEN);
    }

    fn save(&self, out: &mut Vec<u8>) -> Result<(), armlet_plugin::Unsupported> {
        for v in [
            u64::from(self.ctrl),
            u64::from(self.period),
            u64::from(self.status),
            u64::from(self.count),
            self.last,
            self.start,
            self.next,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }

    fn restore(&mut self, bytes: &[u8], version: u32) -> Result<(), String> {
        if version != 1 || bytes.len() != 56 {
            return Err(format!(
                "unknown state (version {version}, {} bytes)",
                bytes.len()
            ));
        }
        let mut w = bytes.chunks_exact(8).map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            u64::from_le_bytes(b)
        });
        let mut next = || w.next().unwrap_or(0);
        self.ctrl = next() as u32;
        self.period = next() as u32;
        self.status = next() as u32;
        self.count = next() as u32;
        self.last = next();
        self.start = next();
        self.next = next();
        Ok(())
    }
}

export_plugin! {
    name: "armlet-plugin-timer",
    version: env!("CARGO_PKG_VERSION"),
    devices: [Timer],
}
