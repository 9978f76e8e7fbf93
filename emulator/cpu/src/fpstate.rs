//! Floating-point state (ARMv7-M ARM B1.4.7, B3.2.20–B3.2.24): the extension registers
//! S0–S31 (aliased as D0–D15), FPSCR, and the FP system control registers the SCS maps
//! (CPACR, FPCCR, FPCAR, FPDSCR), with the manual's `CheckVFPEnabled()`,
//! `ExecuteFPCheck()` and `PreserveFPState()`.
//!
//! The registers live in [`crate::CpuState`] (`state.fp`). The system control registers are
//! memory-mapped and belong to the machine's SCS; the CPU reaches them through
//! [`crate::Bus::fp_control`] / [`crate::Bus::set_fp_control`]. A bus without a system
//! control space (unit tests, the conformance runner) answers [`FpControl::NO_SCS`]: FP
//! access enabled, no automatic state preservation.

use crate::bus::Bus;
use crate::state::{CpuState, Fault, FpuKind};

/// FPSCR bits ARMv7-M implements: N Z C V, AHP, DN, FZ, RMode, IDC, IXC, UFC, OFC, DZC, IOC.
pub const FPSCR_MASK: u32 = 0xf7c0_009f;
/// The FPSCR bits FPDSCR supplies (AHP, DN, FZ, RMode).
pub const FPDSCR_MASK: u32 = 0x07c0_0000;

/// FPCCR bits (B3.2.21).
pub mod fpccr {
    /// Automatic state preservation: FP execution sets CONTROL.FPCA.
    pub const ASPEN: u32 = 1 << 31;
    /// Lazy state preservation.
    pub const LSPEN: u32 = 1 << 30;
    /// DebugMonitor could be pended when the frame was allocated.
    pub const MONRDY: u32 = 1 << 8;
    /// BusFault could be pended when the frame was allocated.
    pub const BFRDY: u32 = 1 << 6;
    /// MemManage could be pended when the frame was allocated.
    pub const MMRDY: u32 = 1 << 5;
    /// HardFault could be pended when the frame was allocated.
    pub const HFRDY: u32 = 1 << 4;
    /// The frame was allocated in Thread mode.
    pub const THREAD: u32 = 1 << 3;
    /// The frame was allocated unprivileged.
    pub const USER: u32 = 1 << 1;
    /// Lazy state preservation is active: space is reserved at FPCAR, not yet written.
    pub const LSPACT: u32 = 1 << 0;
    /// The implemented bits.
    pub const MASK: u32 = ASPEN | LSPEN | MONRDY | BFRDY | MMRDY | HFRDY | THREAD | USER | LSPACT;
    /// Reset value: ASPEN and LSPEN set.
    pub const RESET: u32 = ASPEN | LSPEN;
}

/// CONTROL.FPCA: the current context has used the FPU (its state belongs to it).
pub const CONTROL_FPCA: u8 = 1 << 2;

/// The FP registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FpRegs {
    /// S0–S31. D<n> is S<2n> (low word) and S<2n+1> (high word).
    pub s: [u32; 32],
    /// FPSCR (only [`FPSCR_MASK`] bits are ever set).
    pub fpscr: u32,
    /// Which FPU the core has (`None`: the registers do not exist).
    pub kind: FpuKind,
}

impl Default for FpRegs {
    fn default() -> Self {
        FpRegs {
            s: [0; 32],
            fpscr: 0,
            kind: FpuKind::None,
        }
    }
}

impl FpRegs {
    /// D<n> (n < 16).
    #[inline]
    pub fn d(&self, n: u8) -> u64 {
        let i = usize::from(n & 15) * 2;
        u64::from(self.s[i]) | u64::from(self.s[i + 1]) << 32
    }
    /// Write D<n> (n < 16).
    #[inline]
    pub fn set_d(&mut self, n: u8, v: u64) {
        let i = usize::from(n & 15) * 2;
        self.s[i] = v as u32;
        self.s[i + 1] = (v >> 32) as u32;
    }
    /// True if the core has an FPU.
    pub fn present(&self) -> bool {
        self.kind != FpuKind::None
    }
}

/// The FP system control registers of the SCS (CPACR, FPCCR, FPCAR, FPDSCR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpControl {
    /// CPACR (0xE000ED88): CP10 in bits 21:20, CP11 in bits 23:22.
    pub cpacr: u32,
    /// FPCCR (0xE000EF34).
    pub fpccr: u32,
    /// FPCAR (0xE000EF38): the address of the reserved S0–S15/FPSCR space (bits 31:3).
    pub fpcar: u32,
    /// FPDSCR (0xE000EF3C): the default AHP/DN/FZ/RMode for a new FP context.
    pub fpdscr: u32,
}

impl FpControl {
    /// Reset values (B3.2.20–B3.2.24): FP access denied, ASPEN and LSPEN set.
    pub const RESET: FpControl = FpControl {
        cpacr: 0,
        fpccr: fpccr::RESET,
        fpcar: 0,
        fpdscr: 0,
    };
    /// What a bus without a system control space answers: full access, no automatic or
    /// lazy preservation.
    pub const NO_SCS: FpControl = FpControl {
        cpacr: 0x00f0_0000,
        fpccr: 0,
        fpcar: 0,
        fpdscr: 0,
    };

    /// `CheckVFPEnabled()` for code of the given privilege: CPACR.CP10 (CP11 must be
    /// programmed the same; this core follows CP10) is 0b11 (full access) or 0b01
    /// (privileged only) with privileged code. Anything else takes NOCP.
    pub fn fp_enabled(&self, privileged: bool) -> bool {
        match (self.cpacr >> 20) & 3 {
            0b11 => true,
            0b01 => privileged,
            _ => false,
        }
    }
}

/// `ExecuteFPCheck()` (B1.5.7): run before every FP instruction whose condition passed.
/// Checks CPACR (NOCP; the caller fills in the encoding), performs a pending lazy state
/// preservation (returning the address written, so the caller can drop decoded code
/// there), and with FPCCR.ASPEN starts a new FP context (FPSCR from FPDSCR, CONTROL.FPCA).
#[inline]
pub fn execute_fp_check<B: Bus>(s: &mut CpuState, bus: &mut B) -> Result<Option<u32>, Fault> {
    let mut ctl = bus.fp_control();
    if !ctl.fp_enabled(s.privileged()) {
        return Err(Fault::NoCoprocessor { raw: 0 });
    }
    let mut saved = None;
    if ctl.fpccr & fpccr::LSPACT != 0 {
        preserve_fp_state(s, bus, &mut ctl)?;
        saved = Some(ctl.fpcar & !7);
        bus.set_fp_control(ctl);
    }
    if ctl.fpccr & fpccr::ASPEN != 0 && s.control & CONTROL_FPCA == 0 {
        s.fp.fpscr = ctl.fpdscr & FPDSCR_MASK;
        s.control |= CONTROL_FPCA;
    }
    Ok(saved)
}

/// `PreserveFPState()`: write S0–S15 and FPSCR to the space reserved at FPCAR and clear
/// LSPACT. The background context's access to the FPU is checked with the privilege
/// recorded in FPCCR.USER (NOCP). A failed write reports [`Fault::LazyStacking`] and leaves
/// LSPACT set: the machine decides (from the FPCCR *RDY bits and priorities) whether the
/// fault is taken now or the preservation is abandoned.
pub fn preserve_fp_state<B: Bus>(
    s: &CpuState,
    bus: &mut B,
    ctl: &mut FpControl,
) -> Result<(), Fault> {
    let background_privileged = ctl.fpccr & fpccr::USER == 0;
    if !ctl.fp_enabled(background_privileged) {
        return Err(Fault::LazyStacking {
            addr: ctl.fpcar,
            error: None,
        });
    }
    let base = ctl.fpcar & !7;
    for i in 0..17u32 {
        let v = if i < 16 {
            s.fp.s[i as usize]
        } else {
            s.fp.fpscr
        };
        let a = base.wrapping_add(4 * i);
        bus.write32(a, v).map_err(|error| Fault::LazyStacking {
            addr: a,
            error: Some(error),
        })?;
    }
    ctl.fpccr &= !fpccr::LSPACT;
    Ok(())
}
