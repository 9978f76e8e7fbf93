//! Helpers shared by the built-in device models: machine-file parameters, access widths,
//! guest-error logging, clock conversion and the serial receive poller.

use crate::board::DeviceDesc;
use crate::device::{DeviceCtx, Rx, Serial};
use std::collections::BTreeSet;

/// The mask of an access of `size` bytes.
pub(crate) fn size_mask(size: u8) -> u32 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        _ => u32::MAX,
    }
}

/// For devices whose registers are whole words (QEMU's `impl.min_access_size = 4`): the
/// bytes a narrower read at `offset` sees of the containing `word`.
pub(crate) fn word_lane(offset: u32, size: u8, word: u32) -> u32 {
    (word >> ((offset & 3) * 8)) & size_mask(size)
}

/// For word-register devices: the word a narrower write at `offset` stores (the other bytes
/// are written as zero, as QEMU does).
pub(crate) fn word_from_lane(offset: u32, size: u8, value: u32) -> u32 {
    (value & size_mask(size)) << ((offset & 3) * 8)
}

/// The CMSDK/PrimeCell identification registers at 0xFD0..0xFFC (PID4..7, PID0..3,
/// CID0..3), one byte per word; `offset` is in 0xFD0..=0xFFF.
pub(crate) fn cmsdk_id(id: &[u8; 12], offset: u32) -> u32 {
    let i = (offset.wrapping_sub(0xfd0) / 4) as usize;
    id.get(i).copied().map_or(0, u32::from)
}

/// Virtual time as a device sees it during one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Time {
    /// CPU cycles since power-on.
    pub now: u64,
    /// CPU cycles per second.
    pub cpu_hz: u64,
}

impl Time {
    /// The time of a device call.
    pub fn of(ctx: &DeviceCtx<'_>) -> Time {
        Time {
            now: ctx.now(),
            cpu_hz: ctx.cpu_hz().max(1),
        }
    }
}

/// Whole ticks of a `clk_hz / div` clock in `cycles` CPU cycles.
pub(crate) fn ticks_in(cycles: u64, cpu_hz: u64, clk_hz: u64, div: u64) -> u64 {
    let den = u128::from(cpu_hz.max(1)) * u128::from(div.max(1));
    let t = u128::from(cycles) * u128::from(clk_hz) / den;
    u64::try_from(t).unwrap_or(u64::MAX)
}

/// CPU cycles until the `ticks`-th tick of a `clk_hz / div` clock (rounded up).
pub(crate) fn cycles_for(ticks: u64, cpu_hz: u64, clk_hz: u64, div: u64) -> u64 {
    let num = (u128::from(ticks) * u128::from(cpu_hz.max(1))).checked_mul(u128::from(div.max(1)));
    let c = num.map_or(u128::MAX, |n| n.div_ceil(u128::from(clk_hz.max(1))));
    u64::try_from(c).unwrap_or(u64::MAX)
}

/// Logs a guest access to an offset the device does not have (QEMU's LOG_GUEST_ERROR),
/// once per (offset, direction) so a polling loop cannot flood the log.
#[derive(Debug, Default, Clone)]
pub(crate) struct GuestLog {
    seen: BTreeSet<(u32, bool)>,
}

impl GuestLog {
    /// A bad read (`write` false) or write at `offset`.
    pub fn bad(&mut self, device: &str, offset: u32, write: bool, value: u32) {
        if self.seen.insert((offset, write)) {
            if write {
                tracing::info!(
                    device,
                    "guest error: write of {value:#x} to bad offset {offset:#x} (ignored)"
                );
            } else {
                tracing::info!(
                    device,
                    "guest error: read of bad offset {offset:#x} (reads as 0)"
                );
            }
        }
    }

    /// Something the model does not implement (QEMU's LOG_UNIMP), once per `what`.
    pub fn unimp(&mut self, device: &str, key: u32, what: &str) {
        if self.seen.insert((0x8000_0000 | key, true)) {
            tracing::info!(device, "not modelled: {what}");
        }
    }
}

/// Reads and checks the `params` table of a machine-file device entry. Every key a device
/// asks for is a known key; [`Params::finish`] rejects the rest.
#[derive(Debug)]
pub(crate) struct Params<'a> {
    desc: &'a DeviceDesc,
    known: Vec<&'static str>,
}

impl<'a> Params<'a> {
    /// The parameters of `desc`.
    pub fn new(desc: &'a DeviceDesc) -> Self {
        Params {
            desc,
            known: Vec::new(),
        }
    }

    fn err(&self, key: &str, msg: impl std::fmt::Display) -> String {
        format!(
            "device '{}' (type \"{}\"): param `{key}`: {msg}",
            self.desc.name, self.desc.kind
        )
    }

    /// An integer in `min..=max`, if given.
    pub fn int(&mut self, key: &'static str, min: u64, max: u64) -> Result<Option<u64>, String> {
        self.known.push(key);
        let Some(v) = self.desc.params.get(key) else {
            return Ok(None);
        };
        let n = v
            .as_integer()
            .ok_or_else(|| self.err(key, format!("expected an integer, got {v}")))?;
        match u64::try_from(n) {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.err(key, format!("{n} is not in {min}..={max}"))),
        }
    }

    /// A 32-bit register value, if given.
    pub fn u32(&mut self, key: &'static str) -> Result<Option<u32>, String> {
        Ok(self.int(key, 0, u64::from(u32::MAX))?.map(|v| v as u32))
    }

    /// A clock frequency in Hz (1 Hz to 10 GHz), if given.
    pub fn hz(&mut self, key: &'static str) -> Result<Option<u64>, String> {
        self.int(key, 1, 10_000_000_000)
    }

    /// A boolean, if given.
    pub fn bool(&mut self, key: &'static str) -> Result<Option<bool>, String> {
        self.known.push(key);
        let Some(v) = self.desc.params.get(key) else {
            return Ok(None);
        };
        v.as_bool()
            .map(Some)
            .ok_or_else(|| self.err(key, format!("expected true or false, got {v}")))
    }

    /// A list of at most `max_len` 32-bit values, if given.
    pub fn u32_list(
        &mut self,
        key: &'static str,
        max_len: usize,
    ) -> Result<Option<Vec<u32>>, String> {
        self.known.push(key);
        let Some(v) = self.desc.params.get(key) else {
            return Ok(None);
        };
        let arr = v
            .as_array()
            .ok_or_else(|| self.err(key, format!("expected a list of integers, got {v}")))?;
        if arr.len() > max_len {
            return Err(self.err(
                key,
                format!("{} entries; at most {max_len} are allowed", arr.len()),
            ));
        }
        arr.iter()
            .map(|e| {
                e.as_integer()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        self.err(
                            key,
                            format!("entry {e} is not an integer in 0..=0xffffffff"),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Reject unknown keys, and more IRQ lines than the type has outputs (`outputs` names
    /// them in order).
    pub fn finish(self, outputs: &[&str]) -> Result<(), String> {
        let d = self.desc;
        if let Some(k) = d.params.keys().find(|k| !self.known.contains(&k.as_str())) {
            let known = if self.known.is_empty() {
                "it takes none".to_string()
            } else {
                format!(
                    "known: {}",
                    self.known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(format!(
                "device '{}' (type \"{}\"): unknown param `{k}` ({known})",
                d.name, d.kind
            ));
        }
        if d.irq.len() > outputs.len() {
            return Err(format!(
                "device '{}' (type \"{}\"): key `irq`: {} lines given, but the type has {} IRQ output{} ({})",
                d.name,
                d.kind,
                d.irq.len(),
                outputs.len(),
                if outputs.len() == 1 { "" } else { "s" },
                if outputs.is_empty() { "none".to_string() } else { outputs.join(", ") }
            ));
        }
        if d.size == Some(0) {
            return Err(format!(
                "device '{}' (type \"{}\"): key `size`: must be more than 0",
                d.name, d.kind
            ));
        }
        Ok(())
    }
}

/// The receive side of a UART over a [`Serial`] backend, which is polled: when the guest
/// reads a status or data register, and every character time while the guest waits for a
/// receive interrupt. Once the backend reports end of input it is never polled again.
#[derive(Debug)]
pub(crate) struct RxPoller {
    pub serial: Box<dyn Serial>,
    eof: bool,
    scheduled: bool,
}

impl RxPoller {
    /// The event token the poller uses.
    pub const TOKEN: u64 = 0x5258; // "RX"

    /// A poller over `serial`.
    pub fn new(serial: Box<dyn Serial>) -> Self {
        RxPoller {
            serial,
            eof: false,
            scheduled: false,
        }
    }

    /// One byte from the backend, if one is there.
    pub fn poll(&mut self) -> Option<u8> {
        if self.eof {
            return None;
        }
        match self.serial.read() {
            Rx::Byte(b) => Some(b),
            Rx::Empty => None,
            Rx::Eof => {
                self.eof = true;
                None
            }
        }
    }

    /// Keep a poll event `char_cycles` ahead while `wanted` (and input may still come).
    pub fn schedule(&mut self, wanted: bool, char_cycles: u64, ctx: &mut DeviceCtx<'_>) {
        if wanted && !self.eof && !self.scheduled {
            let at = ctx.now().saturating_add(char_cycles.max(1000));
            ctx.schedule(at, Self::TOKEN);
            self.scheduled = true;
        }
    }

    /// The poll event fired.
    pub fn fired(&mut self) {
        self.scheduled = false;
    }

    /// Machine reset: drop the pending poll (the backend and its end of input stay).
    pub fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        ctx.cancel(Self::TOKEN);
        self.scheduled = false;
    }
}

/// CPU cycles for one 10-bit character (start, 8 data, stop) at 115200 baud: the receive
/// poll interval of a UART whose baud rate is not programmed.
pub(crate) fn default_char_cycles(cpu_hz: u64) -> u64 {
    cpu_hz / 11_520
}

#[cfg(test)]
pub(crate) mod bench {
    //! A device on a bench: its own IoState, direct register access, time that advances
    //! firing events exactly when due, and a scriptable serial port.

    use super::*;
    use crate::device::Device;
    use crate::io::{EventOwner, IoState};
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};

    /// A device under test, wired to NVIC lines.
    #[derive(Debug)]
    pub struct Bench<D: Device> {
        pub io: IoState,
        pub dev: D,
        pub irqs: Vec<u32>,
    }

    impl<D: Device> Bench<D> {
        /// `dev` at a `cpu_hz` clock with outputs on `irqs`, after a reset.
        pub fn new(dev: D, cpu_hz: u64, irqs: &[u32]) -> Self {
            let mut b = Bench {
                io: IoState::new(cpu_hz, 64, 3),
                dev,
                irqs: irqs.to_vec(),
            };
            b.reset();
            b
        }

        pub fn reset(&mut self) {
            let mut ctx = DeviceCtx::new(&mut self.io, 0, &self.irqs);
            self.dev.reset(&mut ctx);
        }

        pub fn read(&mut self, offset: u32, size: u8) -> u32 {
            let mut ctx = DeviceCtx::new(&mut self.io, 0, &self.irqs);
            self.dev.read(offset, size, &mut ctx).expect("read")
        }

        pub fn rd(&mut self, offset: u32) -> u32 {
            self.read(offset, 4)
        }

        pub fn write(&mut self, offset: u32, size: u8, value: u32) {
            let mut ctx = DeviceCtx::new(&mut self.io, 0, &self.irqs);
            self.dev
                .write(offset, size, value, &mut ctx)
                .expect("write");
        }

        pub fn wr(&mut self, offset: u32, value: u32) {
            self.write(offset, 4, value);
        }

        /// Advance virtual time to `t`, delivering each due event at its own time.
        pub fn at(&mut self, t: u64) {
            assert!(t >= self.io.now(), "time goes forward");
            while let Some(due) = self.io.events.next_due() {
                if due > t {
                    break;
                }
                self.io.icount = due.max(self.io.icount);
                let (_, owner, token) = self.io.events.pop_due(due).expect("due");
                assert_eq!(owner, EventOwner::Device(0));
                let mut ctx = DeviceCtx::new(&mut self.io, 0, &self.irqs);
                self.dev.event(token, &mut ctx);
            }
            self.io.icount = t;
        }

        /// Advance by `n` cycles.
        pub fn step(&mut self, n: u64) {
            let t = self.io.now() + n;
            self.at(t);
        }

        pub fn now(&self) -> u64 {
            self.io.now()
        }

        /// The level of output `i` (through the NVIC line it is wired to).
        pub fn irq(&self, i: usize) -> bool {
            self.io.nvic.line_level(self.irqs[i] as usize)
        }

        /// When the next event is due.
        pub fn next_event(&self) -> Option<u64> {
            self.io.events.next_due()
        }
    }

    #[derive(Debug, Default)]
    pub struct SerialState {
        pub out: Vec<u8>,
        pub input: VecDeque<u8>,
        pub eof: bool,
        pub reads: usize,
    }

    /// A serial port whose input the test feeds and whose output it inspects.
    #[derive(Debug, Clone, Default)]
    pub struct TestSerial(pub Arc<Mutex<SerialState>>);

    impl TestSerial {
        pub fn feed(&self, bytes: &[u8]) {
            self.0.lock().unwrap().input.extend(bytes);
        }
        pub fn close(&self) {
            self.0.lock().unwrap().eof = true;
        }
        pub fn out(&self) -> Vec<u8> {
            self.0.lock().unwrap().out.clone()
        }
        pub fn reads(&self) -> usize {
            self.0.lock().unwrap().reads
        }
        pub fn boxed(&self) -> Box<dyn Serial> {
            Box::new(self.clone())
        }
    }

    impl Serial for TestSerial {
        fn write(&mut self, bytes: &[u8]) {
            self.0.lock().unwrap().out.extend_from_slice(bytes);
        }
        fn read(&mut self) -> Rx {
            let mut s = self.0.lock().unwrap();
            s.reads += 1;
            match s.input.pop_front() {
                Some(b) => Rx::Byte(b),
                None if s.eof => Rx::Eof,
                None => Rx::Empty,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_conversion_round_trips() {
        // 25 MHz CPU, 25 MHz clock / 16.
        assert_eq!(ticks_in(159, 25_000_000, 25_000_000, 16), 9);
        assert_eq!(ticks_in(160, 25_000_000, 25_000_000, 16), 10);
        assert_eq!(cycles_for(10, 25_000_000, 25_000_000, 16), 160);
        // 50 MHz CPU, 12.5 MHz clock: one tick every 4 cycles.
        assert_eq!(cycles_for(3, 50_000_000, 12_500_000, 1), 12);
        // 3 MHz clock on a 50 MHz CPU: ticks land on rounded-up cycles.
        for n in [1u64, 2, 3, 1000, 123_456] {
            let c = cycles_for(n, 50_000_000, 3_000_000, 1);
            assert_eq!(ticks_in(c, 50_000_000, 3_000_000, 1), n);
            assert_eq!(ticks_in(c - 1, 50_000_000, 3_000_000, 1), n - 1);
        }
        assert_eq!(cycles_for(u64::MAX, u64::MAX, 1, 256), u64::MAX);
    }

    #[test]
    fn sub_word_lanes() {
        assert_eq!(word_lane(1, 1, 0x1122_3344), 0x33);
        assert_eq!(word_lane(2, 2, 0x1122_3344), 0x1122);
        assert_eq!(word_lane(3, 2, 0x1122_3344), 0x11);
        assert_eq!(word_from_lane(2, 1, 0x1ab), 0x00ab_0000);
        assert_eq!(word_from_lane(3, 2, 0xffff), 0xff00_0000);
    }
}
