//! Example plugin: a bank of up to 32 GPIO outputs driving LEDs, plus GPIO inputs that can
//! raise an interrupt. Every change of the LED state is logged (`armlet -v`), counted in
//! CHANGES and readable without side effects by debuggers (`debug_peek`).
//!
//! | Offset | Register | |
//! |---|---|---|
//! | 0x00 | OUT | LED state (bit n = LED n), read/write |
//! | 0x04 | SET | write 1s to switch LEDs on |
//! | 0x08 | CLR | write 1s to switch LEDs off |
//! | 0x0c | TOGGLE | write 1s to toggle LEDs |
//! | 0x10 | CHANGES | number of writes that changed OUT since reset (read-only) |
//! | 0x14 | COUNT | number of LEDs (param `count`, read-only) |
//! | 0x18 | IN | levels of the GPIO inputs (read-only) |
//! | 0x1c | INTEN | inputs whose rising edge raises the IRQ |
//! | 0x20 | INTSTAT | inputs that rose (write 1 to clear); the IRQ is `INTSTAT & INTEN != 0` |
//!
//! Word accesses only. Params: `count` (1..=32, default 8), `initial` (OUT after reset,
//! default 0), `log_changes` (default true).
#![deny(unsafe_code)]

use armlet_plugin::{
    export_plugin, BusError, Config, Device, Host, Level, Param, Region, TypeDesc, ACCESS_32,
};

const OUT: u32 = 0x00;
const SET: u32 = 0x04;
const CLR: u32 = 0x08;
const TOGGLE: u32 = 0x0c;
const CHANGES: u32 = 0x10;
const COUNT: u32 = 0x14;
const IN: u32 = 0x18;
const INTEN: u32 = 0x1c;
const INTSTAT: u32 = 0x20;

const INPUTS: u32 = 4;

/// The LED bank.
#[derive(Debug)]
struct Leds {
    count: u32,
    mask: u32,
    initial: u32,
    log_changes: bool,
    out: u32,
    changes: u32,
    inputs: u32,
    inten: u32,
    intstat: u32,
}

impl Leds {
    fn set_out(&mut self, host: &mut Host<'_>, new: u32) {
        let new = new & self.mask;
        let old = self.out;
        if new == old {
            return;
        }
        self.out = new;
        self.changes = self.changes.wrapping_add(1);
        if self.log_changes && host.log_enabled(Level::Info) {
            let diff = old ^ new;
            let what: Vec<String> = (0..self.count)
                .filter(|i| diff & (1 << i) != 0)
                .map(|i| format!("LED {i} {}", if new & (1 << i) != 0 { "on" } else { "off" }))
                .collect();
            host.info(&format!(
                "LEDs {new:#0w$b}: {}",
                what.join(", "),
                w = self.count as usize + 2
            ));
        }
    }

    fn update_irq(&self, host: &mut Host<'_>) {
        host.set_irq(0, self.intstat & self.inten != 0);
    }

    fn reg(&self, offset: u32) -> Option<u32> {
        Some(match offset {
            OUT => self.out,
            SET | CLR | TOGGLE => 0,
            CHANGES => self.changes,
            COUNT => self.count,
            IN => self.inputs,
            INTEN => self.inten,
            INTSTAT => self.intstat,
            _ => return None,
        })
    }
}

impl Device for Leds {
    fn describe() -> TypeDesc {
        TypeDesc::new(
            "gpio-leds",
            "GPIO/LED bank: OUT/SET/CLR/TOGGLE, change counter, 4 inputs with a rising-edge IRQ",
        )
        .param(Param::int("count", 8, "number of LEDs").range(1, 32))
        .param(Param::int("initial", 0, "LED state after reset").range(0, u32::MAX.into()))
        .param(Param::bool(
            "log_changes",
            true,
            "log every LED change at info level",
        ))
        .region(Region::new("regs", 0x40).access(ACCESS_32))
        .irq_output("input")
        .gpio_input("button0")
        .gpio_input("button1")
        .gpio_input("button2")
        .gpio_input("button3")
        .state_version(1)
    }

    fn create(cfg: &Config, _host: &mut Host<'_>) -> Result<Self, String> {
        let count = cfg.int("count") as u32;
        let mask = if count == 32 {
            u32::MAX
        } else {
            (1 << count) - 1
        };
        let initial = cfg.int("initial") as u32;
        if initial & !mask != 0 {
            return Err(format!(
                "initial {initial:#x} has bits beyond the {count} LEDs"
            ));
        }
        Ok(Leds {
            count,
            mask,
            initial,
            log_changes: cfg.bool("log_changes"),
            out: initial,
            changes: 0,
            inputs: 0,
            inten: 0,
            intstat: 0,
        })
    }

    fn read(
        &mut self,
        _host: &mut Host<'_>,
        _region: u32,
        offset: u32,
        _size: u32,
    ) -> Result<u32, BusError> {
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
            OUT => self.set_out(host, value),
            SET => self.set_out(host, self.out | value),
            CLR => self.set_out(host, self.out & !value),
            TOGGLE => self.set_out(host, self.out ^ value),
            INTEN => {
                self.inten = value & ((1 << INPUTS) - 1);
                self.update_irq(host);
            }
            INTSTAT => {
                self.intstat &= !value;
                self.update_irq(host);
            }
            CHANGES | COUNT | IN => {}
            _ => return Err(BusError),
        }
        Ok(())
    }

    fn peek(&self, _region: u32, offset: u32, _size: u32) -> Option<u32> {
        self.reg(offset)
    }

    fn reset(&mut self, host: &mut Host<'_>) {
        self.out = self.initial;
        self.changes = 0;
        self.inten = 0;
        self.intstat = 0;
        self.update_irq(host);
    }

    fn gpio_in(&mut self, host: &mut Host<'_>, line: u32, level: bool) {
        let bit = 1 << line;
        let was = self.inputs & bit != 0;
        if level {
            self.inputs |= bit;
        } else {
            self.inputs &= !bit;
        }
        if level && !was {
            self.intstat |= bit;
            self.update_irq(host);
        }
    }

    fn save(&self, out: &mut Vec<u8>) -> Result<(), armlet_plugin::Unsupported> {
        for v in [
            self.out,
            self.changes,
            self.inputs,
            self.inten,
            self.intstat,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        Ok(())
    }

    fn restore(&mut self, bytes: &[u8], version: u32) -> Result<(), String> {
        if version != 1 || bytes.len() != 20 {
            return Err(format!(
                "unknown state (version {version}, {} bytes)",
                bytes.len()
            ));
        }
        let w = |i: usize| {
            u32::from_le_bytes([
                bytes[i * 4],
                bytes[i * 4 + 1],
                bytes[i * 4 + 2],
                bytes[i * 4 + 3],
            ])
        };
        self.out = w(0) & self.mask;
        self.changes = w(1);
        self.inputs = w(2);
        self.inten = w(3);
        self.intstat = w(4);
        Ok(())
    }
}

export_plugin! {
    name: "armlet-plugin-gpio",
    version: env!("CARGO_PKG_VERSION"),
    devices: [Leds],
}
