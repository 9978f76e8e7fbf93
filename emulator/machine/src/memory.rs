//! The system bus: RAM/ROM as host memory, aliases, MMIO regions dispatched to devices.
//!
//! TODO(helper): implement. Contract:
//! - `Memory::from_board(&Board)` builds the map (RAM zero-filled lazily: `vec![0; n]`).
//! - `impl armlet_cpu::Bus for Memory`: little-endian, unaligned 16/32-bit accesses allowed,
//!   RAM fast path `#[inline]`, unmapped -> `BusError::Unmapped`, guest write to ROM ->
//!   `BusError::Denied`, never panics for any address (including accesses that straddle the
//!   end of a region or wrap around 0xFFFF_FFFF).
//! - `load(addr, bytes)`: privileged write used by the ELF loader and the debugger; writes ROM
//!   too; `Err` naming the first address not backed by RAM/ROM.
//! - `peek(addr, buf)`: side-effect-free read (debugger, fault reports); MMIO via
//!   `Device::peek`.
//! - `add_device(name, base, size, Box<dyn Device>)`: overlapping regions are an error.

use armlet_cpu::BusError;

/// A memory-mapped device. Devices see offsets, never absolute addresses.
pub trait Device: Send + std::fmt::Debug {
    /// Read `size` (1, 2 or 4) bytes at `offset`.
    fn read(&mut self, offset: u32, size: u8) -> Result<u32, BusError>;
    /// Write `size` (1, 2 or 4) bytes at `offset`.
    fn write(&mut self, offset: u32, size: u8, value: u32) -> Result<(), BusError>;
    /// Side-effect-free read for the debugger; `None` if the register cannot be peeked.
    fn peek(&self, offset: u32, size: u8) -> Option<u32>;
    /// Return to the power-on state.
    fn reset(&mut self) {}
}
