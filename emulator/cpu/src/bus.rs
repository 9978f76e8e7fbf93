//! The CPU's view of the memory system.

/// Why a bus access failed. Small and `Copy`: it travels through the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusError {
    /// Nothing is mapped at this address.
    Unmapped,
    /// The region exists but refuses this access (write to ROM, bad access size for a device).
    Denied,
    /// A device model failed while handling the access (e.g. a crashed plugin).
    DeviceError,
    /// The MPU, or the default memory map's execute-never regions, forbid the access: the
    /// machine raises a MemManage fault rather than a BusFault.
    Mpu,
    /// A debugger watchpoint matched: the access did not happen; the machine reports the
    /// watchpoint with PC at the accessing instruction.
    Watch,
}

/// Memory as the CPU sees it: little-endian, byte-addressed, 32-bit.
///
/// Implementations must accept unaligned 16- and 32-bit addresses (the CPU only passes them
/// where the architecture allows unaligned access) and must never panic for any address.
/// The RAM fast path should be `#[inline]` so it disappears into the interpreter loop.
pub trait Bus {
    /// Read one byte.
    fn read8(&mut self, addr: u32) -> Result<u8, BusError>;
    /// Read a little-endian halfword.
    fn read16(&mut self, addr: u32) -> Result<u16, BusError>;
    /// Read a little-endian word.
    fn read32(&mut self, addr: u32) -> Result<u32, BusError>;
    /// Write one byte.
    fn write8(&mut self, addr: u32, val: u8) -> Result<(), BusError>;
    /// Write a little-endian halfword.
    fn write16(&mut self, addr: u32, val: u16) -> Result<(), BusError>;
    /// Write a little-endian word.
    fn write32(&mut self, addr: u32, val: u32) -> Result<(), BusError>;
    /// The run loop calls this before each instruction with the number of instructions
    /// executed before it, so devices see exact virtual time. Defaults to nothing.
    #[inline(always)]
    fn at_instruction(&mut self, _icount: u64) {}
    /// The RAM fast path for loads: the `N` bytes at `addr` if they are plain memory that
    /// reads without side effects and without any check [`Bus::read32`] and friends would
    /// make (MPU, watchpoints, devices), else `None`, and the run loop takes the general path
    /// (which calls [`Bus::at_instruction`] first). `addr` is aligned to `N`. Defaults to
    /// `None`.
    #[inline(always)]
    fn fast_load<const N: usize>(&mut self, _addr: u32) -> Option<[u8; N]> {
        None
    }
    /// The RAM fast path for stores: `true` if the `N` bytes were written to plain writable
    /// memory (as [`Bus::fast_load`]); `false` and nothing written otherwise. Defaults to
    /// `false`.
    #[inline(always)]
    fn fast_store<const N: usize>(&mut self, _addr: u32, _val: [u8; N]) -> bool {
        false
    }
    /// LDRT, STRT and the other unprivileged loads and stores (A7.7, `MemU_unpriv[]`) bracket
    /// their access with `unprivileged_access(true)` … `(false)` when the core runs
    /// privileged: in between, accesses are checked as unprivileged code's would be (the
    /// MPU's unprivileged permissions; the system control space refuses them). Defaults to
    /// nothing, for buses without privilege checks.
    #[inline]
    fn unprivileged_access(&mut self, _on: bool) {}
    /// Fetch an instruction halfword. Defaults to a data read.
    #[inline]
    fn fetch16(&mut self, addr: u32) -> Result<u16, BusError> {
        self.read16(addr)
    }
    /// The FP system control registers (CPACR, FPCCR, FPCAR, FPDSCR), which live in the
    /// system control space. Defaults to [`crate::fpstate::FpControl::NO_SCS`] (FP access
    /// enabled, no automatic state preservation) for buses without one.
    #[inline]
    fn fp_control(&mut self) -> crate::fpstate::FpControl {
        crate::fpstate::FpControl::NO_SCS
    }
    /// Write back the FP system control registers after the core changed them (lazy state
    /// preservation, exception entry and return). Defaults to nothing.
    #[inline]
    fn set_fp_control(&mut self, _ctl: crate::fpstate::FpControl) {}
}
