//! The Private Peripheral Bus: ITM, DWT, and the System Control Space (SCB, NVIC, SysTick,
//! MPU) of ARMv7-M (B3.2–B3.5, C1).

use crate::board::CpuModel;
use crate::io::IoState;
use armlet_cpu::BusError;

/// Base of the Private Peripheral Bus.
pub const PPB_BASE: u32 = 0xe000_0000;
/// Size of the Private Peripheral Bus.
pub const PPB_SIZE: u32 = 0x0010_0000;

/// System registers.
#[derive(Debug)]
pub struct Scs {
    cpu: CpuModel,
}

impl Scs {
    /// The SCS of a `cpu` core in reset state.
    pub fn new(cpu: CpuModel) -> Scs {
        Scs { cpu }
    }

    /// Reset.
    pub fn reset(&mut self, _io: &mut IoState) {}

    /// Guest read at `off` (from the PPB base).
    pub fn read(&mut self, off: u32, _size: u8, io: &mut IoState) -> Result<u32, BusError> {
        Ok(self.peek(off, io).unwrap_or(0))
    }

    /// Guest write at `off`.
    pub fn write(&mut self, _off: u32, _size: u8, _v: u32, _io: &mut IoState) -> Result<(), BusError> {
        Ok(())
    }

    /// Side-effect-free read of the word at `off`.
    pub fn peek(&self, off: u32, _io: &IoState) -> Option<u32> {
        match off {
            0xed00 => Some(self.cpu.cpuid()),
            _ => Some(0),
        }
    }
}
