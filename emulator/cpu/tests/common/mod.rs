//! A flat RAM bus from address 0 for the CPU's integration tests.

#![allow(dead_code)]

use armlet_cpu::{Bus, BusError};

/// `len` bytes of RAM at address 0; accesses beyond it are unmapped.
pub struct Ram(pub Vec<u8>);

impl Ram {
    /// RAM of `len` bytes holding `code` (halfwords) from address 0.
    pub fn with_code(len: usize, code: &[u16]) -> Ram {
        let mut ram = Ram(vec![0; len]);
        for (i, hw) in code.iter().enumerate() {
            ram.put16(2 * i as u32, *hw);
        }
        ram
    }
    /// Store a halfword.
    pub fn put16(&mut self, a: u32, v: u16) {
        self.0[a as usize..a as usize + 2].copy_from_slice(&v.to_le_bytes());
    }
    fn get(&mut self, a: u32, n: usize) -> Result<&mut [u8], BusError> {
        self.0
            .get_mut(a as usize..a as usize + n)
            .ok_or(BusError::Unmapped)
    }
}

impl Bus for Ram {
    fn read8(&mut self, a: u32) -> Result<u8, BusError> {
        Ok(self.get(a, 1)?[0])
    }
    fn read16(&mut self, a: u32) -> Result<u16, BusError> {
        Ok(u16::from_le_bytes(self.get(a, 2)?.try_into().unwrap()))
    }
    fn read32(&mut self, a: u32) -> Result<u32, BusError> {
        Ok(u32::from_le_bytes(self.get(a, 4)?.try_into().unwrap()))
    }
    fn write8(&mut self, a: u32, v: u8) -> Result<(), BusError> {
        self.get(a, 1)?[0] = v;
        Ok(())
    }
    fn write16(&mut self, a: u32, v: u16) -> Result<(), BusError> {
        self.get(a, 2)?.copy_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn write32(&mut self, a: u32, v: u32) -> Result<(), BusError> {
        self.get(a, 4)?.copy_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn fast_load<const N: usize>(&mut self, a: u32) -> Option<[u8; N]> {
        self.get(a, N).ok()?.try_into().ok()
    }
    fn fast_store<const N: usize>(&mut self, a: u32, v: [u8; N]) -> bool {
        self.get(a, N).map(|b| b.copy_from_slice(&v)).is_ok()
    }
}
