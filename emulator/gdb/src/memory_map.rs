//! The memory map (`qXfer:memory-map:read`), generated from the machine's regions, and the
//! flash operations GDB's `load` uses for ROM regions.
//!
//! ROM is described as flash, as a probe would: GDB then loads it with `vFlash` packets and
//! uses hardware breakpoints there (armlet has no limit on those). Device and system
//! regions are described as RAM so that `x` and `print` can read registers (debug reads
//! have no side effects).

use crate::target::GdbTarget;
use armlet_machine::board::RegionKind;
use armlet_machine::Machine;
use gdbstub::target::ext::flash::Flash;
use gdbstub::target::ext::memory_map::MemoryMap;
use gdbstub::target::{TargetError, TargetResult};
use std::fmt::Write as _;

/// Erase granularity reported for flash regions.
pub const FLASH_BLOCK: u32 = 0x400;

/// The memory map XML for `m`.
pub fn memory_map_xml(m: &Machine) -> String {
    let regions: Vec<_> = m.mem.regions().collect();
    let kind_at = |base: u32| regions.iter().find(|r| r.base == base).and_then(|r| r.kind);
    let mut entries: Vec<(u32, u32, &str)> = regions
        .iter()
        .filter(|r| r.size > 0)
        .map(|r| {
            let ty = match r.kind {
                Some(RegionKind::Rom) => "flash",
                Some(RegionKind::Alias(target)) if kind_at(target) == Some(RegionKind::Rom) => {
                    "rom"
                }
                _ => "ram",
            };
            (r.base, r.size, ty)
        })
        .collect();
    entries.sort_unstable();
    let mut out = String::from(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE memory-map PUBLIC \"+//IDN gnu.org//DTD GDB Memory Map V1.0//EN\" \"http://sourceware.org/gdb/gdb-memory-map.dtd\">\n<memory-map>\n",
    );
    let mut end = 0u64;
    for (base, size, ty) in entries {
        // GDB rejects overlapping regions: keep the first of any overlap, trimmed.
        let (mut lo, hi) = (u64::from(base), u64::from(base) + u64::from(size));
        lo = lo.max(end);
        if lo >= hi {
            continue;
        }
        end = hi;
        let len = hi - lo;
        if ty == "flash" {
            let _ = writeln!(
                out,
                "  <memory type=\"flash\" start=\"{lo:#x}\" length=\"{len:#x}\"><property name=\"blocksize\">{FLASH_BLOCK:#x}</property></memory>"
            );
        } else {
            let _ = writeln!(
                out,
                "  <memory type=\"{ty}\" start=\"{lo:#x}\" length=\"{len:#x}\"/>"
            );
        }
    }
    out.push_str("</memory-map>\n");
    out
}

/// Copy `data[offset..]` into `buf` for a `qXfer` read.
pub fn copy_range(data: &[u8], offset: u64, length: usize, buf: &mut [u8]) -> usize {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(data.len());
    let n = (data.len() - start).min(length).min(buf.len());
    buf[..n].copy_from_slice(&data[start..start + n]);
    n
}

impl MemoryMap for GdbTarget {
    fn memory_map_xml(
        &self,
        offset: u64,
        length: usize,
        buf: &mut [u8],
    ) -> TargetResult<usize, Self> {
        let xml = memory_map_xml(&self.m);
        Ok(copy_range(xml.as_bytes(), offset, length, buf))
    }
}

impl Flash for GdbTarget {
    fn flash_erase(&mut self, start: u32, length: u32) -> TargetResult<(), Self> {
        // In pages: the length comes from the client (`vFlashErase:0,ffffffff` must not
        // allocate 4 GiB); only RAM/ROM is erased (never device registers, nor the
        // hundreds of megabytes of "unimplemented" device space some boards map): the
        // first page outside memory ends it with an error.
        const PAGE: u32 = 4096;
        let blank = [0xffu8; PAGE as usize];
        let mut done = 0u32;
        while done < length {
            let n = (length - done).min(PAGE);
            let at = start.checked_add(done).ok_or(TargetError::Errno(14))?;
            self.m
                .mem
                .load(at, &blank[..n as usize])
                .map_err(|_| TargetError::Errno(14))?;
            self.m.cpu.invalidate(at, n);
            done += n;
        }
        Ok(())
    }

    fn flash_write(&mut self, start: u32, data: &[u8]) -> TargetResult<(), Self> {
        self.m
            .debug_write(start, data)
            .map_err(|_| TargetError::Errno(14))
    }

    fn flash_done(&mut self) -> TargetResult<(), Self> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_range_pages_through() {
        let data = b"0123456789";
        let mut buf = [0u8; 4];
        assert_eq!(copy_range(data, 0, 4, &mut buf), 4);
        assert_eq!(&buf, b"0123");
        assert_eq!(copy_range(data, 8, 4, &mut buf), 2);
        assert_eq!(&buf[..2], b"89");
        assert_eq!(copy_range(data, 20, 4, &mut buf), 0);
    }
}
