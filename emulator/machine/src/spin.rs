//! The bus the machine runs the core on while it tries to prove that a loop can never end
//! (see `Machine::prove_spin`): every access goes through to memory as usual, and the bus
//! notes whether any of them was not to plain RAM/ROM (a device, the PPB, an unmapped
//! address) or changed memory. A store of the value already there changes nothing: that is
//! the stack traffic of a call inside an `-O0` loop.

use crate::memory::Memory;
use armlet_cpu::{Bus, BusError};

pub(crate) struct ProofBus<'a> {
    pub mem: &'a mut Memory,
    /// An access went somewhere other than plain RAM/ROM.
    pub foreign: bool,
    /// A store changed memory.
    pub changed: bool,
}

impl<'a> ProofBus<'a> {
    pub fn new(mem: &'a mut Memory) -> Self {
        ProofBus {
            mem,
            foreign: false,
            changed: false,
        }
    }

    fn load<const N: usize>(&mut self, addr: u32) -> Option<[u8; N]> {
        let v = self.mem.plain_read::<N>(addr);
        self.foreign |= v.is_none();
        v
    }

    fn store<const N: usize>(&mut self, addr: u32, new: [u8; N]) {
        match self.mem.plain_read::<N>(addr) {
            Some(old) => self.changed |= old != new,
            None => self.foreign = true,
        }
    }
}

impl Bus for ProofBus<'_> {
    fn read8(&mut self, addr: u32) -> Result<u8, BusError> {
        match self.load::<1>(addr) {
            Some(b) => Ok(b[0]),
            None => self.mem.read8(addr),
        }
    }
    fn read16(&mut self, addr: u32) -> Result<u16, BusError> {
        match self.load::<2>(addr) {
            Some(b) => Ok(u16::from_le_bytes(b)),
            None => self.mem.read16(addr),
        }
    }
    fn read32(&mut self, addr: u32) -> Result<u32, BusError> {
        match self.load::<4>(addr) {
            Some(b) => Ok(u32::from_le_bytes(b)),
            None => self.mem.read32(addr),
        }
    }
    fn write8(&mut self, addr: u32, val: u8) -> Result<(), BusError> {
        self.store(addr, [val]);
        self.mem.write8(addr, val)
    }
    fn write16(&mut self, addr: u32, val: u16) -> Result<(), BusError> {
        self.store(addr, val.to_le_bytes());
        self.mem.write16(addr, val)
    }
    fn write32(&mut self, addr: u32, val: u32) -> Result<(), BusError> {
        self.store(addr, val.to_le_bytes());
        self.mem.write32(addr, val)
    }
    fn at_instruction(&mut self, icount: u64) {
        self.mem.at_instruction(icount);
    }
    fn unprivileged_access(&mut self, on: bool) {
        // Unprivileged accesses are checked differently (the SCS refuses them): not plain.
        self.foreign |= on;
        self.mem.unprivileged_access(on);
    }
    fn fetch16(&mut self, addr: u32) -> Result<u16, BusError> {
        self.foreign |= self.mem.plain_read::<2>(addr).is_none();
        self.mem.fetch16(addr)
    }
    fn fp_control(&mut self) -> armlet_cpu::fpstate::FpControl {
        self.mem.fp_control()
    }
    fn set_fp_control(&mut self, ctl: armlet_cpu::fpstate::FpControl) {
        // Only exception entry/return and lazy stacking write these: not a plain loop.
        self.foreign = true;
        self.mem.set_fp_control(ctl);
    }
}
