//! Devices for testing the plugin host (not an example): a device that panics on request,
//! one whose worker thread calls `wake`, and a parameter schema of every kind.
//!
//! `faulty` (region 0x10, IRQ output `irq`; params `label` (string, required), `count`
//! (0..=10, default 1), `verbose` (bool, default false)):
//! - read 0x0: 0x600D_F00D; read 0x4: a bus error (the device stays usable); read 0x8: the
//!   last value written to 0x8; read 0xc: `count`, plus 0x100 if `verbose`, plus the length
//!   of `label` << 16.
//! - write 0x0: panics ("boom"); write 0x8: stores the value and drives the IRQ to bit 0.
//!
//! `waker` (region 0x10): write 0x0 starts a thread that calls `wake` after a millisecond;
//! read 0x4: how many times the host delivered a wake; read 0x8: whether the thread ended.
//!
//! `two-regions`: regions "ctrl" (0x10, words) and "fifo" (8, bytes) back to back; reads
//! return `region * 0x40 + offset`.
#![deny(unsafe_code)]

use armlet_plugin::{
    export_plugin, BusError, Config, Device, Host, Param, Region, TypeDesc, Waker,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug)]
struct Faulty {
    value: u32,
    info: u32,
}

impl Device for Faulty {
    fn describe() -> TypeDesc {
        TypeDesc::new("faulty", "test device: panics when 0x0 is written")
            .param(Param::string("label", "", "any text").required())
            .param(Param::int("count", 1, "a small number").range(0, 10))
            .param(Param::bool("verbose", false, "a flag"))
            .region(Region::new("regs", 0x10))
            .irq_output("irq")
    }

    fn create(cfg: &Config, host: &mut Host<'_>) -> Result<Self, String> {
        host.debug(&format!("created with label {:?}", cfg.str("label")));
        let info = cfg.int("count") as u32
            + if cfg.bool("verbose") { 0x100 } else { 0 }
            + ((cfg.str("label").len() as u32) << 16);
        Ok(Faulty { value: 0, info })
    }

    fn read(
        &mut self,
        _host: &mut Host<'_>,
        _region: u32,
        offset: u32,
        _size: u32,
    ) -> Result<u32, BusError> {
        match offset {
            0x0 => Ok(0x600d_f00d),
            0x8 => Ok(self.value),
            0xc => Ok(self.info),
            _ => Err(BusError),
        }
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
            0x0 => panic!("boom: write of {value:#x}"),
            0x8 => {
                self.value = value;
                host.set_irq(0, value & 1 != 0);
                Ok(())
            }
            _ => Err(BusError),
        }
    }

    fn peek(&self, _region: u32, offset: u32, _size: u32) -> Option<u32> {
        match offset {
            0x0 => Some(0x600d_f00d),
            0x8 => Some(self.value),
            _ => None,
        }
    }
}

#[derive(Debug)]
struct WakeTest {
    waker: Waker,
    wakes: u32,
    done: Arc<AtomicBool>,
}

impl Device for WakeTest {
    fn describe() -> TypeDesc {
        TypeDesc::new("waker", "test device: a worker thread calls wake")
            .region(Region::new("regs", 0x10))
    }

    fn create(cfg: &Config, _host: &mut Host<'_>) -> Result<Self, String> {
        Ok(WakeTest {
            waker: cfg.waker(),
            wakes: 0,
            done: Arc::new(AtomicBool::new(false)),
        })
    }

    fn read(
        &mut self,
        _host: &mut Host<'_>,
        _region: u32,
        offset: u32,
        _size: u32,
    ) -> Result<u32, BusError> {
        match offset {
            0x4 => Ok(self.wakes),
            0x8 => Ok(u32::from(self.done.load(Ordering::Acquire))),
            _ => Ok(0),
        }
    }

    fn write(
        &mut self,
        _host: &mut Host<'_>,
        _region: u32,
        offset: u32,
        _size: u32,
        _value: u32,
    ) -> Result<(), BusError> {
        if offset == 0 {
            let waker = self.waker.clone();
            let done = Arc::clone(&self.done);
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(1));
                waker.wake();
                done.store(true, Ordering::Release);
            });
        }
        Ok(())
    }

    fn wake(&mut self, host: &mut Host<'_>) {
        self.wakes += 1;
        host.debug("woken");
    }
}

/// Two regions laid out back to back: "ctrl" (0x10 bytes, words only) then "fifo" (8
/// bytes, bytes only). Reads return `region * 0x40 + offset`.
#[derive(Debug)]
struct TwoRegions;

impl Device for TwoRegions {
    fn describe() -> TypeDesc {
        TypeDesc::new("two-regions", "test device: two register regions")
            .region(Region::new("ctrl", 0x10).access(armlet_plugin::ACCESS_32))
            .region(Region::new("fifo", 0x8).access(armlet_plugin::ACCESS_8))
    }

    fn create(_cfg: &Config, _host: &mut Host<'_>) -> Result<Self, String> {
        Ok(TwoRegions)
    }

    fn read(
        &mut self,
        _host: &mut Host<'_>,
        region: u32,
        offset: u32,
        _size: u32,
    ) -> Result<u32, BusError> {
        Ok(region * 0x40 + offset)
    }

    fn write(
        &mut self,
        _host: &mut Host<'_>,
        _region: u32,
        _offset: u32,
        _size: u32,
        _value: u32,
    ) -> Result<(), BusError> {
        Ok(())
    }
}

export_plugin! {
    name: "armlet-plugin-testkit",
    version: env!("CARGO_PKG_VERSION"),
    devices: [Faulty, WakeTest, TwoRegions],
}
