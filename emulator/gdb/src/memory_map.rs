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

/// The reply to LLDB's `qMemoryRegionInfo:ADDR` (a packet body), `None` for other packets.
/// The answer describes the largest range around ADDR that one region of the board's map
/// covers (where regions overlap, the smallest region containing ADDR; ranges are cut at
/// every region boundary): `start:..;size:..;permissions:..;name:HEX;`, with `rwx` for RAM,
/// `rx` for ROM and aliases of it, `rw` for device registers and the PPB. An address
/// outside every region is answered with the unmapped gap up to the next region and no
/// permissions, as the LLDB gdb-remote protocol documentation asks; a malformed address is
/// `E16`.
pub fn region_info(m: &Machine, body: &[u8]) -> Option<Vec<u8>> {
    let arg = body.strip_prefix(b"qMemoryRegionInfo:")?;
    let Some(addr) = std::str::from_utf8(arg)
        .ok()
        .and_then(|a| u64::from_str_radix(a, 16).ok())
    else {
        return Some(b"E16".to_vec());
    };
    const TOP: u64 = 1 << 32;
    let regions: Vec<_> = m.mem.regions().filter(|r| r.size > 0).collect();
    let span = |r: &armlet_machine::memory::RegionInfo| {
        (u64::from(r.base), u64::from(r.base) + u64::from(r.size))
    };
    if addr >= TOP {
        return Some(format!("start:{addr:x};size:1;").into_bytes());
    }
    // The elementary range around `addr` between region boundaries.
    let (mut lo, mut hi) = (0u64, TOP);
    for r in &regions {
        let (b, e) = span(r);
        for edge in [b, e] {
            if edge <= addr {
                lo = lo.max(edge);
            } else {
                hi = hi.min(edge);
            }
        }
    }
    let covering = regions
        .iter()
        .filter(|r| {
            let (b, e) = span(r);
            (b..e).contains(&addr)
        })
        .min_by_key(|r| r.size);
    let Some(r) = covering else {
        return Some(format!("start:{lo:x};size:{:x};", hi - lo).into_bytes());
    };
    let kind_at = |base: u32| regions.iter().find(|x| x.base == base).and_then(|x| x.kind);
    let perms = match r.kind {
        Some(RegionKind::Ram) => "rwx",
        Some(RegionKind::Rom) => "rx",
        Some(RegionKind::Alias(t)) if kind_at(t) == Some(RegionKind::Rom) => "rx",
        Some(RegionKind::Alias(_)) => "rwx",
        None => "rw",
    };
    let name: String = r.name.bytes().map(|b| format!("{b:02x}")).collect();
    Some(
        format!(
            "start:{lo:x};size:{:x};permissions:{perms};name:{name};",
            hi - lo
        )
        .into_bytes(),
    )
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

    fn info(m: &Machine, addr: &str) -> String {
        let body = format!("qMemoryRegionInfo:{addr}");
        String::from_utf8(region_info(m, body.as_bytes()).unwrap()).unwrap()
    }

    /// Against the mps2-an385 map as QEMU defines it (hw/arm/mps2.c: 4 MiB of SSRAM1 at 0,
    /// 4 MiB of SSRAM2/3 at 0x20000000, the CMSDK UART0 at 0x40004000) and the PPB.
    #[test]
    fn region_info_follows_the_board_map() {
        let t = crate::target::tests::target();
        let m = &t.m;
        assert_eq!(region_info(m, b"qSupported"), None);
        let code = info(m, "100");
        assert!(
            code.starts_with("start:0;size:400000;permissions:rwx;name:"),
            "{code}"
        );
        let ram = info(m, "20001234");
        assert!(
            ram.starts_with("start:20000000;size:400000;permissions:rwx;"),
            "{ram}"
        );
        let uart = info(m, "40004000");
        assert!(uart.contains(";permissions:rw;"), "{uart}");
        assert!(info(m, "e000ed00").contains(";permissions:rw;"));
        // An unmapped address: the gap to the next region, no permissions.
        let gap = info(m, "30000000");
        assert!(!gap.contains("permissions"), "{gap}");
        let start = u64::from_str_radix(&gap[6..gap.find(';').unwrap()], 16).unwrap();
        let size_at = gap.find("size:").unwrap() + 5;
        let size = u64::from_str_radix(gap[size_at..].trim_end_matches(';'), 16).unwrap();
        assert!(start <= 0x3000_0000 && start + size > 0x3000_0000, "{gap}");
        let next = info(m, &format!("{:x}", start + size));
        assert!(
            next.contains("permissions"),
            "the gap ends at a region: {next}"
        );
        assert!(info(m, "ffffffff").starts_with("start:"));
        assert_eq!(info(m, "zz"), "E16");
        assert_eq!(info(m, ""), "E16");
        // Every answer covers the address asked about and names a range without holes.
        for a in (0..=0xffffu64).map(|i| i << 16) {
            let r = info(m, &format!("{a:x}"));
            let s = u64::from_str_radix(&r[6..r.find(';').unwrap()], 16).unwrap();
            let z = r.find("size:").unwrap() + 5;
            let n = u64::from_str_radix(&r[z..z + r[z..].find(';').unwrap()], 16).unwrap();
            assert!(s <= a && a < s + n, "{a:#x}: {r}");
        }
    }

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
