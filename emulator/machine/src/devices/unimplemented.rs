//! A region a real board has but armlet does not model.

use crate::device::{Device, DeviceCtx};
use armlet_cpu::BusError;
use std::collections::BTreeSet;

/// Reads as zero, ignores writes, logs the first access to each register.
#[derive(Debug)]
pub struct Unimplemented {
    name: String,
    seen: BTreeSet<(u32, bool)>,
}

impl Unimplemented {
    /// A region called `name`.
    pub fn new(name: &str) -> Self {
        Unimplemented {
            name: name.into(),
            seen: BTreeSet::new(),
        }
    }

    fn note(&mut self, offset: u32, write: bool, value: u32) {
        if self.seen.insert((offset & !3, write)) {
            tracing::info!(
                device = %self.name,
                "unimplemented device: first {} at offset {offset:#x}{}",
                if write { "write" } else { "read" },
                if write { format!(" (value {value:#x}, ignored)") } else { " (reads as 0)".into() }
            );
        }
    }
}

impl Device for Unimplemented {
    fn read(&mut self, offset: u32, _size: u8, _ctx: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
        self.note(offset, false, 0);
        Ok(0)
    }
    fn write(
        &mut self,
        offset: u32,
        _size: u8,
        value: u32,
        _ctx: &mut DeviceCtx<'_>,
    ) -> Result<(), BusError> {
        self.note(offset, true, value);
        Ok(())
    }
    fn may_dma(&self) -> bool {
        false
    }
    fn peek(&self, _offset: u32, _size: u8) -> Option<u32> {
        Some(0)
    }
}
