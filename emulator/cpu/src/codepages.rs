//! Which memory holds decoded code: one byte per 1 KiB page over the 4 GiB address space
//! (4 MiB of address space, zero-initialised and untouched except where code was decoded).
//!
//! Stores consult it (one bit test); a store into a code page records the page so the run
//! loop can drop the blocks decoded from it before executing anything else.

/// log2 of the page size.
pub const PAGE_SHIFT: u32 = 10;
const PAGES: usize = 1 << (32 - PAGE_SHIFT);
/// The start of the architectural Peripheral region (B3.1): stores at or above it may have
/// side effects on interrupt state.
const IO_BASE: u32 = 0x4000_0000;

/// The code-page bitmap plus the pages written since the last check.
#[derive(Debug)]
pub struct CodePages {
    map: Box<[u8; PAGES]>,
    written: Vec<u32>,
    /// A store went to the peripheral or system space (0x4000_0000 and up), where it may
    /// have changed interrupt state: the block ends and the run loop returns to the machine.
    io: bool,
    /// `io || !written.is_empty()`, kept as one flag for the per-store test.
    dirty: bool,
}

fn zeroed_map() -> Box<[u8; PAGES]> {
    // `vec![0; n]` is a zeroed allocation: untouched parts cost no memory.
    vec![0u8; PAGES]
        .into_boxed_slice()
        .try_into()
        .expect("PAGES bytes")
}

impl Default for CodePages {
    fn default() -> Self {
        CodePages {
            map: zeroed_map(),
            written: Vec::new(),
            io: false,
            dirty: false,
        }
    }
}

impl CodePages {
    #[inline(always)]
    pub fn test(&self, page: u32) -> bool {
        self.map[page as usize & (PAGES - 1)] != 0
    }

    /// Mark every page of `[start, end)` as holding decoded code.
    pub fn mark(&mut self, start: u32, end: u32) {
        let mut p = start >> PAGE_SHIFT;
        let last = end.wrapping_sub(1) >> PAGE_SHIFT;
        loop {
            self.map[p as usize & (PAGES - 1)] = 1;
            if p == last {
                break;
            }
            p = p.wrapping_add(1);
        }
    }

    /// Forget that a page holds code.
    pub fn clear(&mut self, page: u32) {
        self.map[page as usize & (PAGES - 1)] = 0;
    }

    /// Record a guest write of `size` bytes at `addr`.
    #[inline(always)]
    pub fn note_write(&mut self, addr: u32, size: u32) {
        if addr >= IO_BASE {
            self.io = true;
            self.dirty = true;
        }
        let first = addr >> PAGE_SHIFT;
        if self.test(first) {
            self.written.push(first);
            self.dirty = true;
        }
        let last = addr.wrapping_add(size - 1) >> PAGE_SHIFT;
        if last != first && self.test(last) {
            self.written.push(last);
            self.dirty = true;
        }
    }

    /// True if a write hit code since the last [`CodePages::take_written`].
    #[inline(always)]
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// True (once) if a store went to peripheral or system space since the last call.
    pub fn take_io(&mut self) -> bool {
        self.dirty = !self.written.is_empty();
        std::mem::take(&mut self.io)
    }

    /// The code pages written since the last call.
    pub fn take_written(&mut self) -> Vec<u32> {
        self.dirty = self.io;
        std::mem::take(&mut self.written)
    }

    /// Forget everything.
    pub fn reset(&mut self) {
        // A fresh zeroed allocation rather than clearing: the untouched pages stay unmapped.
        self.map = zeroed_map();
        self.written.clear();
        self.io = false;
        self.dirty = false;
    }
}
