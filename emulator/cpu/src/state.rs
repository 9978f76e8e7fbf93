//! Architectural state of an ARMv7-M core (B1.4) and the reasons execution stops.

use crate::bus::BusError;
use std::fmt;

/// A synchronous fault raised by an instruction. The names follow the CFSR status bits
/// (ARMv7-M ARM B3.2.15) the fault will set once the exception model takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// UFSR.UNDEFINSTR: an undefined (or, on this core, UNPREDICTABLE) encoding.
    UndefinedInstruction {
        /// The encoding (`hw1 << 16 | hw2` for 32-bit instructions).
        raw: u32,
    },
    /// UFSR.INVSTATE: execution with EPSR.T == 0.
    InvalidState,
    /// UFSR.INVPC: an illegal EXC_RETURN or exception return state.
    InvalidPc,
    /// UFSR.NOCP: a coprocessor instruction with no coprocessor present or enabled.
    NoCoprocessor {
        /// The encoding.
        raw: u32,
    },
    /// A lazy FP state preservation (`PreserveFPState()`) failed: BFSR.LSPERR, or
    /// MMFSR.MLSPERR when `error` is [`BusError::Mpu`], or UFSR.NOCP when the background
    /// context had no FPU access (`error` is `None`). The FP instruction has not executed.
    LazyStacking {
        /// The address (FPCAR for NOCP).
        addr: u32,
        /// What the bus said.
        error: Option<BusError>,
    },
    /// UFSR.UNALIGNED: an unaligned access that the architecture (or CCR.UNALIGN_TRP) forbids.
    Unaligned {
        /// The address.
        addr: u32,
    },
    /// UFSR.DIVBYZERO: SDIV/UDIV by zero with CCR.DIV_0_TRP set.
    DivideByZero,
    /// BFSR.PRECISERR: a data access the bus refused.
    DataBus {
        /// The address.
        addr: u32,
        /// A write (true) or a read.
        write: bool,
        /// What the bus said.
        error: BusError,
    },
    /// BFSR.IBUSERR (or MMFSR.IACCVIOL when `error` is [`BusError::Mpu`]): an instruction
    /// fetch the bus refused.
    InstructionBus {
        /// The address.
        addr: u32,
        /// What the bus said.
        error: BusError,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fault::UndefinedInstruction { raw } => {
                write!(f, "UsageFault (UNDEFINSTR): undefined instruction {raw:#x}")
            }
            Fault::InvalidState => {
                write!(f, "UsageFault (INVSTATE): execution with the Thumb bit clear (interworking branch to an even address?)")
            }
            Fault::InvalidPc => write!(f, "UsageFault (INVPC): illegal exception return"),
            Fault::NoCoprocessor { raw } => {
                write!(
                    f,
                    "UsageFault (NOCP): coprocessor instruction {raw:#010x} with no coprocessor"
                )
            }
            Fault::Unaligned { addr } => write!(
                f,
                "UsageFault (UNALIGNED): unaligned access to {addr:#010x}"
            ),
            Fault::DivideByZero => write!(f, "UsageFault (DIVBYZERO): division by zero"),
            Fault::LazyStacking { addr, error: None } => write!(
                f,
                "UsageFault (NOCP): lazy FP state preservation to {addr:#010x} with the FPU disabled for the interrupted context"
            ),
            Fault::LazyStacking { addr, error: Some(BusError::Mpu) } => write!(
                f,
                "MemManage (MLSPERR): lazy FP state preservation to {addr:#010x} violates the MPU settings"
            ),
            Fault::LazyStacking { addr, .. } => write!(
                f,
                "BusFault (LSPERR): lazy FP state preservation to {addr:#010x} failed"
            ),
            Fault::DataBus {
                addr,
                write,
                error: BusError::Mpu,
            } => write!(
                f,
                "MemManage (DACCVIOL): {} {addr:#010x} violates the MPU settings",
                if write { "write to" } else { "read from" },
            ),
            Fault::DataBus { addr, write, error } => write!(
                f,
                "BusFault (PRECISERR): {} {addr:#010x} failed: {}",
                if write { "write to" } else { "read from" },
                match error {
                    BusError::Unmapped => "nothing is mapped there",
                    BusError::Denied => "access denied (read-only memory, bad access size, or system space from unprivileged code)",
                    BusError::DeviceError => "the device model failed",
                    BusError::Mpu => "MPU violation",
                    BusError::Watch => "debugger watchpoint",
                }
            ),
            Fault::InstructionBus {
                addr,
                error: BusError::Mpu,
            } => {
                write!(f, "MemManage (IACCVIOL): instruction fetch from {addr:#010x} is not allowed (execute-never region or MPU)")
            }
            Fault::InstructionBus { addr, .. } => {
                write!(f, "BusFault (IBUSERR): instruction fetch from {addr:#010x} failed (nothing executable mapped there)")
            }
        }
    }
}

/// Why [`crate::Cpu::run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The instruction budget is used up.
    Budget,
    /// BKPT #imm. PC is at the BKPT, which has not been counted as executed; call
    /// [`crate::Cpu::step_over_bkpt`] to complete it (e.g. after a semihosting call).
    Bkpt {
        /// The immediate.
        imm: u8,
    },
    /// SVC #imm. PC is after the SVC (the return address); it has been counted.
    Svc {
        /// The immediate.
        imm: u8,
    },
    /// WFI executed; PC is after it.
    Wfi,
    /// WFE executed with the event register clear; PC is after it.
    Wfe,
    /// A synchronous fault; PC is at the faulting instruction, which has not been counted.
    Fault(Fault),
    /// A debugger breakpoint address was reached: PC is at it, it has not executed.
    Breakpoint,
    /// A branch to itself (`b .`), taken: PC is at it and it has not been counted. Only an
    /// exception can end such a loop, so the machine may skip virtual time ahead, counting
    /// one executed instruction per cycle skipped.
    Idle,
    /// The instruction (completed; PC is past it) may have changed what interrupts can be
    /// taken: a store to peripheral/system space, MSR or CPS. The machine re-evaluates
    /// pending exceptions before the next instruction.
    Sync,
    /// An interworking branch (BX, POP/LDM/LDR into PC) loaded an EXC_RETURN value in Handler
    /// mode; the instruction has completed (and is counted; PC is past it). The machine validates it against the exception
    /// state and calls [`crate::Cpu::exception_return`].
    ExceptionReturn {
        /// The value loaded into PC.
        exc_return: u32,
    },
}

impl StopReason {
    /// True if the stopping instruction completed (PC is past it).
    pub fn completed(&self) -> bool {
        matches!(
            self,
            StopReason::Svc { .. }
                | StopReason::Wfi
                | StopReason::Wfe
                | StopReason::Sync
                | StopReason::ExceptionReturn { .. }
        )
    }
}

/// Core configuration bits that live in the System Control Block on real hardware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CoreConfig {
    /// CCR.UNALIGN_TRP: fault on any unaligned word/halfword access.
    pub unalign_trp: bool,
    /// CCR.DIV_0_TRP: fault on division by zero.
    pub div_0_trp: bool,
    /// The implemented bits of a priority field (BASEPRI keeps only these).
    pub prio_mask: u8,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            unalign_trp: false,
            div_0_trp: false,
            prio_mask: 0xff,
        }
    }
}

/// Registers and processor state.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuState {
    /// R0–R15. R13 is the active stack pointer; R15 is the address of the next instruction
    /// between instructions (and reads as instruction address + 4 while one executes).
    pub r: [u32; 16],
    /// The inactive stack pointer (PSP when MSP is active and vice versa).
    pub other_sp: u32,
    /// APSR.N
    pub n: bool,
    /// APSR.Z
    pub z: bool,
    /// APSR.C
    pub c: bool,
    /// APSR.V
    pub v: bool,
    /// APSR.Q
    pub q: bool,
    /// APSR.GE[3:0] (DSP extension: set by the parallel add/subtract instructions, read by
    /// SEL; always zero on a core without it).
    pub ge: u8,
    /// EPSR.IT as the 8-bit ITSTATE.
    pub itstate: u8,
    /// EPSR.T
    pub thumb: bool,
    /// IPSR: the active exception number (0 = Thread mode).
    pub ipsr: u16,
    /// PRIMASK
    pub primask: bool,
    /// FAULTMASK
    pub faultmask: bool,
    /// BASEPRI
    pub basepri: u8,
    /// CONTROL (bit 0 nPRIV, bit 1 SPSEL, bit 2 FPCA)
    pub control: u8,
    /// The event register (SEV/WFE).
    pub event: bool,
    /// The local exclusive monitor: tagged address and size, if open.
    pub monitor: Option<(u32, u8)>,
    /// CCR bits the core consults.
    pub config: CoreConfig,
    /// The FP registers (S0–S31, FPSCR) and which FPU the core has.
    pub fp: crate::fpstate::FpRegs,
}

impl Default for CpuState {
    fn default() -> Self {
        CpuState {
            r: [0; 16],
            other_sp: 0,
            n: false,
            z: false,
            c: false,
            v: false,
            q: false,
            ge: 0,
            itstate: 0,
            thumb: true,
            ipsr: 0,
            primask: false,
            faultmask: false,
            basepri: 0,
            control: 0,
            event: false,
            monitor: None,
            config: CoreConfig::default(),
            fp: crate::fpstate::FpRegs::default(),
        }
    }
}

impl CpuState {
    /// Read a register (R15 reads as whatever it holds now).
    #[inline(always)]
    pub fn reg(&self, n: u8) -> u32 {
        self.r[(n & 15) as usize]
    }

    /// Write a register other than PC.
    #[inline(always)]
    pub fn set_reg(&mut self, n: u8, v: u32) {
        self.r[(n & 15) as usize] = v;
    }

    /// The APSR: flags N Z C V Q in bits 31..27, GE[3:0] in bits 19..16.
    pub fn apsr(&self) -> u32 {
        (self.n as u32) << 31
            | (self.z as u32) << 30
            | (self.c as u32) << 29
            | (self.v as u32) << 28
            | (self.q as u32) << 27
            | u32::from(self.ge & 0xf) << 16
    }

    /// Set N, Z, C, V, Q from bits 31..27 and GE from bits 19..16.
    pub fn set_apsr(&mut self, v: u32) {
        self.n = v & (1 << 31) != 0;
        self.z = v & (1 << 30) != 0;
        self.c = v & (1 << 29) != 0;
        self.v = v & (1 << 28) != 0;
        self.q = v & (1 << 27) != 0;
        self.ge = ((v >> 16) & 0xf) as u8;
    }

    /// The combined xPSR (APSR | EPSR | IPSR).
    pub fn xpsr(&self) -> u32 {
        let it = self.itstate as u32;
        self.apsr()
            | (self.thumb as u32) << 24
            | (it & 3) << 25
            | (it >> 2) << 10
            | u32::from(self.ipsr & 0x1ff)
    }

    /// Set the whole xPSR (as on exception return or from a debugger).
    pub fn set_xpsr(&mut self, v: u32) {
        self.set_apsr(v);
        self.thumb = v & (1 << 24) != 0;
        self.itstate = (((v >> 25) & 3) | (((v >> 10) & 0x3f) << 2)) as u8;
        self.ipsr = (v & 0x1ff) as u16;
    }

    /// True if the current mode is privileged.
    pub fn privileged(&self) -> bool {
        self.ipsr != 0 || self.control & 1 == 0
    }

    /// The main stack pointer.
    pub fn msp(&self) -> u32 {
        if self.psp_active() {
            self.other_sp
        } else {
            self.r[13]
        }
    }

    /// The process stack pointer.
    pub fn psp(&self) -> u32 {
        if self.psp_active() {
            self.r[13]
        } else {
            self.other_sp
        }
    }

    /// True if R13 is currently the process stack pointer.
    pub fn psp_active(&self) -> bool {
        self.ipsr == 0 && self.control & 2 != 0
    }

    /// Write the main stack pointer (bits 1:0 are always zero).
    pub fn set_msp(&mut self, v: u32) {
        if self.psp_active() {
            self.other_sp = v & !3;
        } else {
            self.r[13] = v & !3;
        }
    }

    /// Write the process stack pointer (bits 1:0 are always zero).
    pub fn set_psp(&mut self, v: u32) {
        if self.psp_active() {
            self.r[13] = v & !3;
        } else {
            self.other_sp = v & !3;
        }
    }

    /// Change IPSR and CONTROL together, keeping MSP and PSP in place (R13 follows the newly
    /// active one).
    pub fn set_mode(&mut self, ipsr: u16, control: u8) {
        let (msp, psp) = (self.msp(), self.psp());
        self.ipsr = ipsr;
        self.control = control & 7;
        if self.psp_active() {
            self.r[13] = psp;
            self.other_sp = msp;
        } else {
            self.r[13] = msp;
            self.other_sp = psp;
        }
    }

    /// Write CONTROL, switching the active stack pointer if SPSEL changes in Thread mode.
    pub fn set_control(&mut self, v: u8) {
        let was_psp = self.psp_active();
        // SPSEL cannot be written in Handler mode (B5.2.3 MSR).
        let spsel = if self.ipsr == 0 {
            v & 2
        } else {
            self.control & 2
        };
        self.control = (v & 5) | spsel;
        if was_psp != self.psp_active() {
            std::mem::swap(&mut self.r[13], &mut self.other_sp);
        }
    }

    /// `ConditionPassed()` for a 4-bit condition code: one table lookup, no branches (a
    /// `match` on the condition compiles to an indirect jump that mispredicts often).
    #[inline(always)]
    pub fn cond_passed(&self, cond: u8) -> bool {
        let nzcv = (usize::from(self.n) << 3)
            | (usize::from(self.z) << 2)
            | (usize::from(self.c) << 1)
            | usize::from(self.v);
        COND_TABLE[usize::from(cond & 15)] >> nzcv & 1 != 0
    }
}

/// For each condition code, bit `nzcv` (N<<3 | Z<<2 | C<<1 | V) tells whether it passes
/// (A7.3, `ConditionPassed()`); codes 14 and 15 always pass.
const COND_TABLE: [u16; 16] = {
    let mut t = [0u16; 16];
    let mut cond = 0;
    while cond < 16 {
        let mut f = 0;
        while f < 16 {
            let (n, z, c, v) = (f & 8 != 0, f & 4 != 0, f & 2 != 0, f & 1 != 0);
            let base = match cond >> 1 {
                0 => z,
                1 => c,
                2 => n,
                3 => v,
                4 => c && !z,
                5 => n == v,
                6 => !z && n == v,
                _ => true,
            };
            let pass = if cond >= 14 {
                true
            } else {
                base != (cond & 1 != 0)
            };
            if pass {
                t[cond] |= 1 << f;
            }
            f += 1;
        }
        cond += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_follow_the_manual() {
        // A7.3, table A7-1, written out independently of the lookup table.
        for f in 0..16u8 {
            let s = CpuState {
                n: f & 8 != 0,
                z: f & 4 != 0,
                c: f & 2 != 0,
                v: f & 1 != 0,
                ..CpuState::default()
            };
            let (n, z, c, v) = (s.n, s.z, s.c, s.v);
            let want = [
                z,
                !z,
                c,
                !c,
                n,
                !n,
                v,
                !v,
                c && !z,
                !c || z,
                n == v,
                n != v,
                !z && n == v,
                z || n != v,
                true,
                true,
            ];
            for (cond, &w) in want.iter().enumerate() {
                assert_eq!(s.cond_passed(cond as u8), w, "cond {cond} flags {f:04b}");
            }
        }
    }

    #[test]
    fn xpsr_round_trips() {
        let mut s = CpuState::default();
        s.set_xpsr(0xff0f_fc03);
        assert_eq!(s.xpsr(), 0xff0f_fc03);
        assert!(s.n && s.z && s.c && s.v && s.q);
        assert_eq!(s.ge, 0xf);
        assert_eq!(s.ipsr, 3);
        assert_eq!(s.itstate, 0xff);
    }

    #[test]
    fn conditions() {
        let mut s = CpuState {
            z: true,
            ..Default::default()
        };
        assert!(s.cond_passed(0)); // EQ
        assert!(!s.cond_passed(1)); // NE
        assert!(s.cond_passed(9)); // LS: C==0 || Z==1
        s.z = false;
        s.c = true;
        assert!(s.cond_passed(8)); // HI
        s.n = true;
        assert!(s.cond_passed(11)); // LT: N != V
        assert!(s.cond_passed(14));
        assert!(s.cond_passed(15));
    }

    #[test]
    fn control_switches_stacks() {
        let mut s = CpuState::default();
        s.r[13] = 0x2000_1000;
        s.set_psp(0x2000_0800);
        s.set_control(2);
        assert_eq!(s.r[13], 0x2000_0800);
        assert_eq!(s.msp(), 0x2000_1000);
        s.set_control(0);
        assert_eq!(s.r[13], 0x2000_1000);
    }
}

/// The floating-point unit a core implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FpuKind {
    /// No FPU: coprocessor 10/11 instructions take the NOCP UsageFault.
    #[default]
    None,
    /// FPv4-SP-D16 (Cortex-M4F): single precision, 32 single registers.
    Fpv4Sp,
    /// FPv5-D16 with double precision (Cortex-M7): 16 double registers.
    Fpv5Dp,
}

/// Which optional parts of ARMv7-M the core implements (fixed for a machine's lifetime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    /// The DSP extension (ARMv7E-M): without it its encodings are UNDEFINED.
    pub dsp: bool,
    /// The floating-point unit.
    pub fpu: FpuKind,
    /// Decode every UNPREDICTABLE encoding as UNDEFINED (`--strict`). Without it the ones
    /// Cortex-M cores and QEMU execute are executed that way (see
    /// `emulator/cpu/UNPREDICTABLE.md` and [`crate::decode::Unpredictable`]). Not a property
    /// of the core, but it changes decoding exactly as the extensions do, so it travels with
    /// them (and [`crate::Cpu::set_features`] drops the decoded blocks).
    pub strict: bool,
}

impl Features {
    /// Cortex-M3: ARMv7-M, no DSP, no FPU.
    pub const CORTEX_M3: Features = Features {
        dsp: false,
        fpu: FpuKind::None,
        strict: false,
    };
    /// Cortex-M4F: ARMv7E-M with FPv4-SP.
    pub const CORTEX_M4F: Features = Features {
        dsp: true,
        fpu: FpuKind::Fpv4Sp,
        strict: false,
    };
    /// Cortex-M7 with the double-precision FPv5.
    pub const CORTEX_M7: Features = Features {
        dsp: true,
        fpu: FpuKind::Fpv5Dp,
        strict: false,
    };
}
