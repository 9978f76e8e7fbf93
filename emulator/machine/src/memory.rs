//! The system bus: RAM/ROM as host memory, aliases, MMIO regions dispatched to devices.
//!
//! Every mapping is a window `[base, base + size)` onto a backing store (RAM or ROM bytes,
//! shared by aliases) or a device. The fast path checks the last mapping hit and reads the
//! bytes directly; anything else (other mappings, accesses straddling a mapping's end,
//! devices) takes the slow path, which never panics.

use crate::board::{Board, RegionKind};
pub use crate::device::{Device, DeviceCtx, Dma};
use crate::io::IoState;
use crate::scs::{Scs, PPB_BASE, PPB_SIZE};
use armlet_cpu::{Bus, BusError};

/// Errors in a memory map.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MemoryMapError {
    /// Two regions overlap: names and inclusive address ranges of the new one and the one
    /// already there.
    #[error("region '{0}' ({1:#010x}..{2:#010x}) overlaps region '{3}' ({4:#010x}..{5:#010x})")]
    Overlap(String, u32, u32, String, u32, u32),
    /// An alias names no region at its target address.
    #[error("alias '{0}' points at {1:#010x}, where no RAM or ROM region starts")]
    BadAlias(String, u32),
    /// A region is empty or runs past the end of the address space.
    #[error("region '{0}' has a bad size")]
    BadSize(String),
}

/// A privileged write (loader, debugger) hit memory that is not RAM or ROM.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("address {addr:#010x} is not backed by RAM or ROM")]
pub struct MemoryError {
    /// The first address that failed.
    pub addr: u32,
}

#[derive(Debug)]
struct Store {
    data: Vec<u8>,
    writable: bool,
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Store(usize),
    Device(usize),
    /// The Private Peripheral Bus (NVIC, SCB, SysTick, MPU, DWT, ITM).
    Ppb,
}

/// A device with the NVIC lines its outputs drive.
#[derive(Debug)]
struct DeviceSlot {
    dev: Box<dyn Device>,
    irqs: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Mapping {
    name: String,
    base: u32,
    size: u32,
    target: Target,
    kind: RegionKind,
}

/// RAM/ROM as device DMA sees it (devices themselves are not reachable by DMA).
struct RamView<'a> {
    stores: &'a mut [Store],
    maps: &'a [Mapping],
}

impl RamView<'_> {
    /// (store, offset, bytes available in that mapping) for `addr`.
    fn locate(&self, addr: u32) -> Option<(usize, usize, usize)> {
        let m = self
            .maps
            .iter()
            .find(|m| addr.wrapping_sub(m.base) < m.size)?;
        let Target::Store(s) = m.target else {
            return None;
        };
        let off = addr.wrapping_sub(m.base);
        Some((s, off as usize, (m.size - off) as usize))
    }

    fn walk(
        &mut self,
        addr: u32,
        len: usize,
        write: bool,
        mut f: impl FnMut(&mut [u8], usize),
    ) -> Result<(), BusError> {
        // Check everything first so a failing transfer changes nothing.
        let mut done = 0usize;
        let mut plan = Vec::new();
        while done < len {
            let a = addr.wrapping_add(done as u32);
            let (s, off, avail) = self.locate(a).ok_or(BusError::Unmapped)?;
            if write && !self.stores[s].writable {
                return Err(BusError::Denied);
            }
            let n = avail.min(len - done);
            plan.push((s, off, n, done));
            done += n;
        }
        for (s, off, n, at) in plan {
            f(&mut self.stores[s].data[off..off + n], at);
        }
        Ok(())
    }
}

impl Dma for RamView<'_> {
    fn dma_read(&mut self, addr: u32, buf: &mut [u8]) -> Result<(), BusError> {
        let len = buf.len();
        self.walk(addr, len, false, |src, at| {
            buf[at..at + src.len()].copy_from_slice(src)
        })
    }
    fn dma_write(&mut self, addr: u32, bytes: &[u8]) -> Result<(), BusError> {
        self.walk(addr, bytes.len(), true, |dst, at| {
            let n = dst.len();
            dst.copy_from_slice(&bytes[at..at + n])
        })
    }
}

/// The system bus.
#[derive(Debug)]
pub struct Memory {
    stores: Vec<Store>,
    devices: Vec<DeviceSlot>,
    maps: Vec<Mapping>,
    /// Index of the mapping that served the last access.
    last: usize,
    /// Virtual time, events and the NVIC's exception state.
    pub io: IoState,
    /// The System Control Space and the rest of the PPB.
    pub scs: Scs,
    /// The RAM fast path: per 4 KiB page of the address space, the host address of the
    /// page's first byte if the whole page is RAM/ROM of one mapping (bit 0 set: read-only),
    /// else 0 (the access takes the general path). Built once the stores exist; the stores'
    /// buffers are never resized afterwards, so the addresses stay valid.
    pages: Box<[usize; PAGES]>,
}

/// Bits of an address within a fast-path page.
const PAGE_BITS: u32 = 12;
const PAGE_SIZE: usize = 1 << PAGE_BITS;
const PAGES: usize = 1 << (32 - PAGE_BITS);

/// A mapping as seen from outside (GDB memory map, error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionInfo {
    /// Name.
    pub name: String,
    /// First address.
    pub base: u32,
    /// Size in bytes.
    pub size: u32,
    /// Kind (`None` for devices).
    pub kind: Option<RegionKind>,
}

impl Memory {
    /// Build the bus for a board.
    pub fn from_board(board: &Board) -> Result<Memory, MemoryMapError> {
        let mut m = Memory {
            stores: Vec::new(),
            devices: Vec::new(),
            maps: Vec::new(),
            last: 0,
            io: IoState::new(board.cpu_hz, board.num_irq as usize, board.prio_bits),
            scs: Scs::new(board.cpu),
            pages: vec![0usize; PAGES]
                .into_boxed_slice()
                .try_into()
                .expect("PAGES entries"),
        };
        m.check("ppb", PPB_BASE, PPB_SIZE)?;
        m.maps.push(Mapping {
            name: "ppb".into(),
            base: PPB_BASE,
            size: PPB_SIZE,
            target: Target::Ppb,
            kind: RegionKind::Ram,
        });
        for r in &board.regions {
            match r.kind {
                RegionKind::Ram | RegionKind::Rom => {
                    m.check(&r.name, r.base, r.size)?;
                    m.stores.push(Store {
                        data: vec![0; r.size as usize],
                        writable: r.kind == RegionKind::Ram,
                    });
                    let idx = m.stores.len() - 1;
                    m.maps.push(Mapping {
                        name: r.name.clone(),
                        base: r.base,
                        size: r.size,
                        target: Target::Store(idx),
                        kind: r.kind,
                    });
                }
                RegionKind::Alias(_) => {}
            }
        }
        for r in &board.regions {
            if let RegionKind::Alias(target) = r.kind {
                m.check(&r.name, r.base, r.size)?;
                let t = m
                    .maps
                    .iter()
                    .find(|x| x.base == target && matches!(x.target, Target::Store(_)))
                    .ok_or_else(|| MemoryMapError::BadAlias(r.name.clone(), target))?;
                if r.size > t.size {
                    return Err(MemoryMapError::BadSize(r.name.clone()));
                }
                let map = Mapping {
                    name: r.name.clone(),
                    base: r.base,
                    size: r.size,
                    target: t.target,
                    kind: r.kind,
                };
                m.maps.push(map);
            }
        }
        m.build_pages();
        Ok(m)
    }

    /// Fill the fast-path page table from the RAM/ROM mappings (whole pages only). Called
    /// once, on the fresh (zeroed, untouched) table: only the entries of mapped memory are
    /// written, so the rest of the table never becomes resident.
    fn build_pages(&mut self) {
        for m in &self.maps {
            let Target::Store(s) = m.target else { continue };
            let store = &mut self.stores[s];
            let host = store.data.as_mut_ptr() as usize;
            let ro = usize::from(!store.writable);
            let (base, end) = (u64::from(m.base), u64::from(m.base) + u64::from(m.size));
            let mut page = base.div_ceil(PAGE_SIZE as u64) * PAGE_SIZE as u64;
            while page + PAGE_SIZE as u64 <= end {
                let off = (page - base) as usize;
                if off + PAGE_SIZE <= store.data.len() {
                    self.pages[(page >> PAGE_BITS) as usize] = (host + off) | ro;
                }
                page += PAGE_SIZE as u64;
            }
        }
    }

    fn check(&self, name: &str, base: u32, size: u32) -> Result<(), MemoryMapError> {
        self.check_against(name, base, size, |_| true)
    }

    /// Check `[base, base + size)` against the mappings `against` selects.
    fn check_against(
        &self,
        name: &str,
        base: u32,
        size: u32,
        against: impl Fn(&Mapping) -> bool,
    ) -> Result<(), MemoryMapError> {
        if size == 0 || u64::from(base) + u64::from(size) > 1 << 32 {
            return Err(MemoryMapError::BadSize(name.into()));
        }
        let end = u64::from(base) + u64::from(size);
        for m in self.maps.iter().filter(|m| against(m)) {
            let mend = u64::from(m.base) + u64::from(m.size);
            if u64::from(base) < mend && u64::from(m.base) < end {
                return Err(MemoryMapError::Overlap(
                    name.into(),
                    base,
                    (end - 1) as u32,
                    m.name.clone(),
                    m.base,
                    (mend - 1) as u32,
                ));
            }
        }
        Ok(())
    }

    /// Map a filler device (the `unimplemented` type: what a board does not model) at
    /// `[base, base + size)`. It may lie under RAM/ROM regions, which win there (mapped
    /// first): a machine file can add memory inside a board's reserved space (e.g. an alias
    /// at 0x0800_0000) without splitting the filler. It must not overlap other devices.
    pub fn add_filler_device(
        &mut self,
        name: &str,
        base: u32,
        size: u32,
        dev: Box<dyn Device>,
    ) -> Result<(), MemoryMapError> {
        self.check_against(name, base, size, |m| !matches!(m.target, Target::Store(_)))?;
        self.map_device(name, base, size, dev, Vec::new());
        Ok(())
    }

    /// Map a device at `[base, base + size)` whose IRQ outputs drive NVIC lines `irqs`.
    pub fn add_device(
        &mut self,
        name: &str,
        base: u32,
        size: u32,
        dev: Box<dyn Device>,
        irqs: Vec<u32>,
    ) -> Result<(), MemoryMapError> {
        self.check(name, base, size)?;
        self.map_device(name, base, size, dev, irqs);
        Ok(())
    }

    /// Add the device and its mapping (the caller has checked for overlaps).
    fn map_device(
        &mut self,
        name: &str,
        base: u32,
        size: u32,
        dev: Box<dyn Device>,
        irqs: Vec<u32>,
    ) {
        self.devices.push(DeviceSlot { dev, irqs });
        self.maps.push(Mapping {
            name: name.into(),
            base,
            size,
            target: Target::Device(self.devices.len() - 1),
            kind: RegionKind::Ram,
        });
    }

    /// The memory map.
    pub fn regions(&self) -> impl Iterator<Item = RegionInfo> + '_ {
        self.maps.iter().map(|m| RegionInfo {
            name: m.name.clone(),
            base: m.base,
            size: m.size,
            kind: match m.target {
                Target::Store(_) => Some(m.kind),
                Target::Device(_) | Target::Ppb => None,
            },
        })
    }

    /// Reset the system: the SCS, the NVIC, the event queue and every device (memory
    /// contents survive a reset, as on hardware).
    pub fn reset(&mut self) {
        self.io.events = Default::default();
        self.io.nvic.reset();
        self.scs.reset(&mut self.io);
        for i in 0..self.devices.len() {
            self.call_device(i, |dev, ctx| dev.reset(ctx));
        }
    }

    /// Call device `i` with its context (time, events, its IRQ lines, DMA into RAM).
    fn call_device<R>(
        &mut self,
        i: usize,
        f: impl FnOnce(&mut dyn Device, &mut DeviceCtx<'_>) -> R,
    ) -> Option<R> {
        let slot = self.devices.get_mut(i)?;
        let mut ram = RamView {
            stores: &mut self.stores,
            maps: &self.maps,
        };
        let mut ctx = DeviceCtx::with_dma(&mut self.io, i, &slot.irqs, &mut ram);
        Some(f(slot.dev.as_mut(), &mut ctx))
    }

    /// Let every device take input signalled from other threads ([`Device::wake`]).
    pub fn wake_devices(&mut self) {
        for i in 0..self.devices.len() {
            self.call_device(i, |dev, ctx| dev.wake(ctx));
        }
    }

    /// The NVIC lines device `i`'s IRQ outputs drive (empty for an unknown index).
    pub fn device_irqs(&self, i: usize) -> &[u32] {
        self.devices.get(i).map_or(&[], |d| &d.irqs)
    }

    /// May device `i` write guest memory (DMA) when its events fire ([`Device::may_dma`])?
    pub fn device_may_dma(&self, i: usize) -> bool {
        self.devices.get(i).is_some_and(|d| d.dev.may_dma())
    }

    /// The `N` bytes at `addr` if they are plain RAM/ROM (no device, no PPB), read without
    /// side effects; `None` otherwise.
    pub(crate) fn plain_read<const N: usize>(&mut self, addr: u32) -> Option<[u8; N]> {
        self.fast_read(addr)
    }

    /// Deliver a due timer event to device `i`.
    pub fn device_event(&mut self, i: usize, token: u64) {
        self.call_device(i, |dev, ctx| dev.event(token, ctx));
    }

    /// The mapping holding `addr`, trying the last one hit first.
    #[inline(always)]
    fn find(&self, addr: u32) -> Option<usize> {
        if let Some(m) = self.maps.get(self.last) {
            if addr.wrapping_sub(m.base) < m.size {
                return Some(self.last);
            }
        }
        self.maps
            .iter()
            .position(|m| addr.wrapping_sub(m.base) < m.size)
    }

    /// Host bytes for `[addr, addr + n)` if they lie in one RAM/ROM mapping.
    #[inline(always)]
    fn bytes(&mut self, addr: u32, n: u32) -> Option<(&mut Store, usize)> {
        let i = self.find(addr)?;
        self.last = i;
        let m = &self.maps[i];
        let off = addr.wrapping_sub(m.base);
        if off.checked_add(n)? > m.size {
            return None;
        }
        match m.target {
            Target::Store(s) => Some((&mut self.stores[s], off as usize)),
            Target::Device(_) | Target::Ppb => None,
        }
    }

    #[inline(always)]
    fn page_read<const N: usize>(&self, addr: u32) -> Option<[u8; N]> {
        let e = self.pages[(addr >> PAGE_BITS) as usize];
        let off = addr as usize & (PAGE_SIZE - 1);
        if e != 0 && off + N <= PAGE_SIZE {
            // SAFETY: a non-zero entry is the host address of a whole page of a store's
            // buffer (`build_pages`), which is never resized or freed while `self` lives;
            // `off + N <= PAGE_SIZE` keeps the read inside that page. Unaligned reads are
            // allowed by `read_unaligned`.
            return Some(unsafe { std::ptr::read_unaligned(((e & !1) + off) as *const [u8; N]) });
        }
        None
    }

    /// A write through the page table (RAM only); `false` if the page is not plain RAM.
    #[inline(always)]
    fn page_write<const N: usize>(&mut self, addr: u32, v: [u8; N]) -> bool {
        let e = self.pages[(addr >> PAGE_BITS) as usize];
        let off = addr as usize & (PAGE_SIZE - 1);
        if e & 1 == 0 && e != 0 && off + N <= PAGE_SIZE {
            // SAFETY: as in `page_read`; bit 0 clear means the page belongs to a writable
            // store, and the address came from `as_mut_ptr`.
            unsafe { std::ptr::write_unaligned((e + off) as *mut [u8; N], v) };
            return true;
        }
        false
    }

    #[inline(always)]
    fn fast_read<const N: usize>(&mut self, addr: u32) -> Option<[u8; N]> {
        if let Some(b) = self.page_read(addr) {
            return Some(b);
        }
        let (store, off) = self.bytes(addr, N as u32)?;
        store.data.get(off..off + N)?.try_into().ok()
    }

    #[inline(always)]
    fn fast_write<const N: usize>(
        &mut self,
        addr: u32,
        v: [u8; N],
    ) -> Option<Result<(), BusError>> {
        if self.page_write(addr, v) {
            return Some(Ok(()));
        }
        let (store, off) = self.bytes(addr, N as u32)?;
        if !store.writable {
            return Some(Err(BusError::Denied));
        }
        store.data.get_mut(off..off + N)?.copy_from_slice(&v);
        Some(Ok(()))
    }

    /// The device (target, offset) an access of `size` bytes at `addr` goes to; `None` if
    /// the address is RAM/ROM. An access running past the device's end is refused.
    fn device_at(&self, addr: u32, size: u8) -> Result<Option<(Target, u32)>, BusError> {
        let m = &self.maps[self.find(addr).ok_or(BusError::Unmapped)?];
        if let Target::Store(_) = m.target {
            return Ok(None);
        }
        let off = addr.wrapping_sub(m.base);
        if u64::from(off) + u64::from(size) > u64::from(m.size) {
            return Err(BusError::Denied);
        }
        Ok(Some((m.target, off)))
    }

    /// Slow path: devices, or byte by byte across mappings.
    #[cold]
    fn slow_read(&mut self, addr: u32, size: u8) -> Result<u32, BusError> {
        if let Some((t, off)) = self.device_at(addr, size)? {
            return match t {
                Target::Ppb => self.scs.read(off, size, &mut self.io),
                Target::Device(d) => self
                    .call_device(d, |dev, ctx| dev.read(off, size, ctx))
                    .unwrap_or(Err(BusError::Unmapped)),
                Target::Store(_) => Err(BusError::Unmapped),
            };
        }
        let mut v = 0u32;
        for k in (0..u32::from(size)).rev() {
            let b = self
                .fast_read::<1>(addr.wrapping_add(k))
                .ok_or(BusError::Unmapped)?;
            v = (v << 8) | u32::from(b[0]);
        }
        Ok(v)
    }

    #[cold]
    fn slow_write(&mut self, addr: u32, size: u8, v: u32) -> Result<(), BusError> {
        if let Some((t, off)) = self.device_at(addr, size)? {
            return match t {
                Target::Ppb => self.scs.write(off, size, v, &mut self.io),
                Target::Device(d) => self
                    .call_device(d, |dev, ctx| dev.write(off, size, v, ctx))
                    .unwrap_or(Err(BusError::Unmapped)),
                Target::Store(_) => Err(BusError::Unmapped),
            };
        }
        // Check every byte first so a failing access writes nothing.
        for k in 0..u32::from(size) {
            let a = addr.wrapping_add(k);
            let j = self.find(a).ok_or(BusError::Unmapped)?;
            match self.maps[j].target {
                Target::Store(s) if self.stores[s].writable => {}
                Target::Store(_) => return Err(BusError::Denied),
                Target::Device(_) | Target::Ppb => return Err(BusError::Denied),
            }
        }
        for k in 0..u32::from(size) {
            let r = self.fast_write::<1>(addr.wrapping_add(k), [(v >> (8 * k)) as u8]);
            r.ok_or(BusError::Unmapped)??;
        }
        Ok(())
    }

    /// Privileged write for the loader and the debugger: writes ROM too, never touches
    /// devices.
    pub fn load(&mut self, addr: u32, bytes: &[u8]) -> Result<(), MemoryError> {
        let mut done = 0usize;
        while done < bytes.len() {
            let a = addr.wrapping_add(done as u32);
            let i = self.find(a).ok_or(MemoryError { addr: a })?;
            let m = &self.maps[i];
            let Target::Store(s) = m.target else {
                return Err(MemoryError { addr: a });
            };
            let off = (a - m.base) as usize;
            let n = (m.size as usize - off).min(bytes.len() - done);
            self.stores[s].data[off..off + n].copy_from_slice(&bytes[done..done + n]);
            done += n;
            if a.checked_add(n as u32).is_none() && done < bytes.len() {
                return Err(MemoryError { addr: 0 });
            }
        }
        Ok(())
    }

    /// Side-effect-free read (debugger, fault reports). Devices answer through
    /// [`Device::peek`].
    pub fn peek(&self, addr: u32, buf: &mut [u8]) -> Result<(), BusError> {
        for (k, b) in buf.iter_mut().enumerate() {
            let a = addr.wrapping_add(k as u32);
            let i = self.find(a).ok_or(BusError::Unmapped)?;
            let m = &self.maps[i];
            let off = a - m.base;
            *b = match m.target {
                Target::Store(s) => self.stores[s].data[off as usize],
                Target::Device(d) => {
                    let v = self.devices[d]
                        .dev
                        .peek(off & !3, 4)
                        .ok_or(BusError::Denied)?;
                    (v >> (8 * (off & 3))) as u8
                }
                Target::Ppb => {
                    let v = self.scs.peek(off & !3, &self.io).ok_or(BusError::Denied)?;
                    (v >> (8 * (off & 3))) as u8
                }
            };
        }
        Ok(())
    }
}

impl Bus for Memory {
    #[inline(always)]
    fn at_instruction(&mut self, icount: u64) {
        self.io.icount = icount;
    }
    /// Only privileged code brackets its accesses (see [`Bus::unprivileged_access`]), so
    /// `false` restores a privileged core.
    #[inline]
    fn unprivileged_access(&mut self, on: bool) {
        self.io.privileged = !on;
    }
    #[inline]
    fn fp_control(&mut self) -> armlet_cpu::fpstate::FpControl {
        self.scs.fp
    }
    #[inline]
    fn set_fp_control(&mut self, ctl: armlet_cpu::fpstate::FpControl) {
        self.scs.fp = ctl;
    }
    #[inline(always)]
    fn fast_load<const N: usize>(&mut self, addr: u32) -> Option<[u8; N]> {
        self.page_read(addr)
    }
    #[inline(always)]
    fn fast_store<const N: usize>(&mut self, addr: u32, val: [u8; N]) -> bool {
        self.page_write(addr, val)
    }
    #[inline]
    fn fetch16(&mut self, addr: u32) -> Result<u16, BusError> {
        // Execute-never regions of the default memory map (B3.1): MemManage IACCVIOL.
        if crate::scs::default_xn(addr) {
            return Err(BusError::Mpu);
        }
        self.read16(addr)
    }
    #[inline(always)]
    fn read8(&mut self, addr: u32) -> Result<u8, BusError> {
        match self.fast_read::<1>(addr) {
            Some(b) => Ok(b[0]),
            None => self.slow_read(addr, 1).map(|v| v as u8),
        }
    }
    #[inline(always)]
    fn read16(&mut self, addr: u32) -> Result<u16, BusError> {
        match self.fast_read::<2>(addr) {
            Some(b) => Ok(u16::from_le_bytes(b)),
            None => self.slow_read(addr, 2).map(|v| v as u16),
        }
    }
    #[inline(always)]
    fn read32(&mut self, addr: u32) -> Result<u32, BusError> {
        match self.fast_read::<4>(addr) {
            Some(b) => Ok(u32::from_le_bytes(b)),
            None => self.slow_read(addr, 4),
        }
    }
    #[inline(always)]
    fn write8(&mut self, addr: u32, val: u8) -> Result<(), BusError> {
        match self.fast_write(addr, [val]) {
            Some(r) => r,
            None => self.slow_write(addr, 1, u32::from(val)),
        }
    }
    #[inline(always)]
    fn write16(&mut self, addr: u32, val: u16) -> Result<(), BusError> {
        match self.fast_write(addr, val.to_le_bytes()) {
            Some(r) => r,
            None => self.slow_write(addr, 2, u32::from(val)),
        }
    }
    #[inline(always)]
    fn write32(&mut self, addr: u32, val: u32) -> Result<(), BusError> {
        match self.fast_write(addr, val.to_le_bytes()) {
            Some(r) => r,
            None => self.slow_write(addr, 4, val),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::RegionDesc;
    use std::collections::HashMap;

    fn board() -> Board {
        Board {
            name: "test".into(),
            description: "test".into(),
            cpu: crate::board::CpuModel::CortexM3,
            cpu_hz: 1_000_000,
            num_irq: 8,
            prio_bits: 3,
            console: None,
            systick_ref_hz: None,
            devices: vec![],
            regions: vec![
                RegionDesc {
                    name: "rom".into(),
                    base: 0,
                    size: 0x1000,
                    kind: RegionKind::Rom,
                },
                RegionDesc {
                    name: "ram".into(),
                    base: 0x1000,
                    size: 0x1000,
                    kind: RegionKind::Ram,
                },
                RegionDesc {
                    name: "ram-mirror".into(),
                    base: 0x8000,
                    size: 0x1000,
                    kind: RegionKind::Alias(0x1000),
                },
                RegionDesc {
                    name: "top".into(),
                    base: 0xffff_f000,
                    size: 0x1000,
                    kind: RegionKind::Ram,
                },
            ],
        }
    }

    #[derive(Debug, Default)]
    struct Reg {
        value: u32,
        reads: u32,
    }
    impl Device for Reg {
        fn read(
            &mut self,
            offset: u32,
            _size: u8,
            _ctx: &mut DeviceCtx<'_>,
        ) -> Result<u32, BusError> {
            self.reads += 1;
            Ok(self.value + offset)
        }
        fn write(
            &mut self,
            _offset: u32,
            _size: u8,
            value: u32,
            _ctx: &mut DeviceCtx<'_>,
        ) -> Result<(), BusError> {
            self.value = value;
            Ok(())
        }
        fn peek(&self, offset: u32, _size: u8) -> Option<u32> {
            Some(self.value + offset)
        }
    }

    #[test]
    fn filler_devices_lie_under_memory_but_not_under_devices() {
        let mut m = Memory::from_board(&board()).unwrap();
        // A filler over the RAM at 0x1000 and beyond: the RAM wins where it is.
        m.add_filler_device(
            "filler",
            0x1000,
            0x4000,
            Box::new(Reg {
                value: 0x100,
                reads: 0,
            }),
        )
        .unwrap();
        m.write32(0x1000, 7).unwrap();
        assert_eq!(m.read32(0x1000), Ok(7), "RAM, not the filler");
        assert_eq!(m.read32(0x2000), Ok(0x1100), "the filler past the RAM");
        // Devices still may not overlap each other, fillers included; errors give ranges.
        let e = m
            .add_device("dev", 0x3000, 0x100, Box::<Reg>::default(), vec![])
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "region 'dev' (0x00003000..0x000030ff) overlaps region 'filler' (0x00001000..0x00004fff)"
        );
        let e = m
            .add_filler_device("f2", 0x4f00, 0x200, Box::<Reg>::default())
            .unwrap_err();
        assert!(e.to_string().contains("overlaps region 'filler'"), "{e}");
    }

    #[test]
    fn ram_rom_alias_and_unmapped() {
        let mut m = Memory::from_board(&board()).unwrap();
        m.write32(0x1000, 0x1234_5678).unwrap();
        assert_eq!(
            m.read32(0x8000),
            Ok(0x1234_5678),
            "alias sees the same bytes"
        );
        assert_eq!(m.read16(0x1001), Ok(0x3456), "unaligned");
        assert_eq!(
            m.write32(0x10, 1),
            Err(BusError::Denied),
            "ROM is read-only to the guest"
        );
        m.load(0x10, &[1, 2, 3, 4]).unwrap();
        assert_eq!(m.read32(0x10), Ok(0x0403_0201), "loader writes ROM");
        assert_eq!(m.read8(0x4000), Err(BusError::Unmapped));
        // straddling the end of the address space wraps to 0 (ROM): read works, write denied
        m.write8(0xffff_ffff, 0xaa).unwrap();
        assert_eq!(m.read16(0xffff_ffff), Ok(0x00aa));
        assert_eq!(m.write16(0xffff_ffff, 0), Err(BusError::Denied));
        assert_eq!(
            m.read8(0xffff_ffff),
            Ok(0xaa),
            "failed write changed nothing"
        );
        // straddling RAM end into unmapped space
        assert_eq!(m.read32(0x1ffe), Err(BusError::Unmapped));
        assert_eq!(m.load(0x1ffe, &[0; 4]), Err(MemoryError { addr: 0x2000 }));
    }

    #[test]
    fn devices_see_offsets_and_peek_has_no_side_effects() {
        let mut m = Memory::from_board(&board()).unwrap();
        m.add_device("reg", 0x4000_0000, 0x100, Box::new(Reg::default()), vec![])
            .unwrap();
        m.write32(0x4000_0000, 7).unwrap();
        assert_eq!(m.read32(0x4000_0004), Ok(11));
        let mut b = [0u8; 4];
        m.peek(0x4000_0004, &mut b).unwrap();
        assert_eq!(u32::from_le_bytes(b), 11);
        assert_eq!(m.devices[0].dev.peek(0, 4), Some(7));
        assert_eq!(
            m.read32(0x4000_00fe),
            Err(BusError::Denied),
            "access past the device's end"
        );
        assert!(matches!(
            m.add_device("clash", 0x1800, 0x10, Box::new(Reg::default()), vec![]),
            Err(MemoryMapError::Overlap(..))
        ));
    }

    /// Copies 8 bytes from 0x1000 to 0x1010 by DMA when written; to ROM when the value is 2.
    #[derive(Debug)]
    struct Copier;
    impl Device for Copier {
        fn read(&mut self, _o: u32, _s: u8, _c: &mut DeviceCtx<'_>) -> Result<u32, BusError> {
            Ok(0)
        }
        fn write(
            &mut self,
            _o: u32,
            _s: u8,
            v: u32,
            ctx: &mut DeviceCtx<'_>,
        ) -> Result<(), BusError> {
            let mut buf = [0u8; 8];
            ctx.dma_read(0x1000, &mut buf)?;
            ctx.dma_write(if v == 2 { 0x10 } else { 0x1010 }, &buf)
        }
        fn peek(&self, _o: u32, _s: u8) -> Option<u32> {
            Some(0)
        }
    }

    #[test]
    fn devices_can_dma_into_ram_but_not_rom() {
        let mut m = Memory::from_board(&board()).unwrap();
        m.add_device("dma", 0x4000_0000, 0x10, Box::new(Copier), vec![])
            .unwrap();
        m.write32(0x1000, 0x1122_3344).unwrap();
        m.write32(0x4000_0000, 1).unwrap();
        assert_eq!(m.read32(0x1010), Ok(0x1122_3344));
        assert_eq!(m.io.dma_writes, vec![(0x1010, 8)]);
        assert_eq!(m.write32(0x4000_0000, 2), Err(BusError::Denied));
        assert_eq!(m.read32(0x10), Ok(0), "nothing written to ROM");
    }

    #[test]
    fn matches_a_byte_model_under_random_traffic() {
        let mut m = Memory::from_board(&board()).unwrap();
        let mut model: HashMap<u32, u8> = HashMap::new();
        let mapped = |a: u32| {
            (0x1000..0x2000).contains(&a) || (0x8000..0x9000).contains(&a) || a >= 0xffff_f000
        };
        let rom = |a: u32| a < 0x1000;
        let canon = |a: u32| {
            if (0x8000..0x9000).contains(&a) {
                a - 0x7000
            } else {
                a
            }
        };
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pick = [
            0x0ffeu32,
            0x1000,
            0x1ffd,
            0x8ffe,
            0xffff_fffe,
            0x4000,
            0x1800,
            0x7fff,
        ];
        for _ in 0..20_000 {
            let r = next();
            let addr = pick[(r % 8) as usize].wrapping_add((r >> 8) as u32 % 5);
            let size = [1u32, 2, 4][((r >> 16) % 3) as usize];
            let val = (r >> 24) as u32;
            let ok_all = (0..size).all(|k| {
                let a = addr.wrapping_add(k);
                mapped(a) || rom(a)
            });
            if r & (1 << 60) != 0 {
                let writable = (0..size).all(|k| mapped(addr.wrapping_add(k)));
                let res = match size {
                    1 => m.write8(addr, val as u8),
                    2 => m.write16(addr, val as u16),
                    _ => m.write32(addr, val),
                };
                assert_eq!(res.is_ok(), writable, "write {addr:#x}/{size}");
                if writable {
                    for k in 0..size {
                        model.insert(canon(addr.wrapping_add(k)), (val >> (8 * k)) as u8);
                    }
                }
            } else {
                let res = match size {
                    1 => m.read8(addr).map(u32::from),
                    2 => m.read16(addr).map(u32::from),
                    _ => m.read32(addr),
                };
                assert_eq!(res.is_ok(), ok_all, "read {addr:#x}/{size}");
                if let Ok(v) = res {
                    let mut want = 0u32;
                    for k in (0..size).rev() {
                        let a = canon(addr.wrapping_add(k));
                        want = (want << 8) | u32::from(*model.get(&a).unwrap_or(&0));
                    }
                    assert_eq!(v, want, "read {addr:#x}/{size}");
                }
            }
        }
    }
}
