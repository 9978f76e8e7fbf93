//! The floating-point instructions (ARMv7-M ARM A6, A7.7): their decoded form
//! ([`VfpOp`]), the decoder handlers the table in [`crate::decode`] points at, disassembly,
//! and execution. Arithmetic goes to [`crate::fparith`] (bit-exact, the manual's FP*
//! functions); register moves, loads and stores are plain bit moves here.
//!
//! Decoding follows the core's [`FpuKind`]: without an FPU every encoding is NOCP (as the
//! other coprocessors), double-precision data processing is UNDEFINED on FPv4-SP, and the
//! FPv5 additions (VSEL, VMAXNM/VMINNM, VRINT*, VCVTA/N/P/M) are UNDEFINED before FPv5.
//! Every executed FP instruction first runs `ExecuteFPCheck()` ([`crate::fpstate`]).

use crate::bus::Bus;
use crate::decode::Ctx;
use crate::exec::{Exec, Flow};
use crate::fparith::{self as fa, Rounding};
use crate::fpstate::{self, FPSCR_MASK};
use crate::ops::{Op, COND_NAMES, REG_NAMES};
use crate::state::{Fault, FpuKind, StopReason};
use std::fmt;

/// Two-operand data processing (`d = f(n, m)`, or with `d` as accumulator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VBin {
    Add,
    Sub,
    Mul,
    Nmul,
    Div,
    Mla,
    Mls,
    Nmla,
    Nmls,
    Fma,
    Fms,
    Fnma,
    Fnms,
    MaxNm,
    MinNm,
}

/// One-operand data processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VUn {
    Mov,
    Abs,
    Neg,
    Sqrt,
}

/// The rounding an instruction uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VRound {
    /// FPSCR.RMode.
    Fpscr,
    /// Towards zero.
    Zero,
    /// FPSCR.RMode, raising Inexact (VRINTX).
    Exact,
    /// To nearest, ties away (the A forms).
    A,
    /// To nearest, ties to even (N).
    N,
    /// Towards +infinity (P).
    P,
    /// Towards -infinity (M).
    M,
}

impl VRound {
    fn rounding(self, fpscr: u32) -> Rounding {
        match self {
            VRound::Fpscr | VRound::Exact => Rounding::from_fpscr(fpscr),
            VRound::Zero => Rounding::Zero,
            VRound::A => Rounding::TieAway,
            VRound::N => Rounding::TieEven,
            VRound::P => Rounding::PosInf,
            VRound::M => Rounding::NegInf,
        }
    }
    fn from_rm(rm: u32) -> VRound {
        match rm & 3 {
            0 => VRound::A,
            1 => VRound::N,
            2 => VRound::P,
            _ => VRound::M,
        }
    }
    fn suffix(self) -> &'static str {
        match self {
            VRound::Fpscr => "r",
            VRound::Zero => "z",
            VRound::Exact => "x",
            VRound::A => "a",
            VRound::N => "n",
            VRound::P => "p",
            VRound::M => "m",
        }
    }
}

/// A decoded floating-point instruction. Register numbers are S numbers (0–31) for single
/// precision and D numbers (0–15) where `dp` (or the form) says double.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VfpOp {
    /// VADD, VSUB, VMUL, VNMUL, VDIV, VMLA/VMLS, VNMLA/VNMLS, VFMA/VFMS/VFNMA/VFNMS,
    /// VMAXNM/VMINNM.
    Bin {
        op: VBin,
        dp: bool,
        d: u8,
        n: u8,
        m: u8,
    },
    /// VMOV (register), VABS, VNEG, VSQRT.
    Un { op: VUn, dp: bool, d: u8, m: u8 },
    /// VMOV (immediate): `imm8` as VFPExpandImm expands it.
    MovImm { dp: bool, d: u8, imm8: u8 },
    /// VCMP/VCMPE (`e`), against zero if `zero`.
    Cmp {
        dp: bool,
        e: bool,
        d: u8,
        m: u8,
        zero: bool,
    },
    /// VCVT between single and double (`to_double`: F64.F32).
    CvtDs { to_double: bool, d: u8, m: u8 },
    /// VCVTB/VCVTT: half precision in the bottom/`top` half of an S register.
    CvtHalf {
        top: bool,
        to_half: bool,
        dp: bool,
        d: u8,
        m: u8,
    },
    /// VCVT, VCVTR, VCVT{A,N,P,M} to a 32-bit integer in S<d>.
    ToInt {
        dp: bool,
        signed: bool,
        round: VRound,
        d: u8,
        m: u8,
    },
    /// VCVT from a 32-bit integer in S<m>.
    FromInt {
        dp: bool,
        signed: bool,
        d: u8,
        m: u8,
    },
    /// VCVT between floating point and fixed point, in place (`half`: 16-bit fixed).
    Fixed {
        dp: bool,
        to_fixed: bool,
        unsigned: bool,
        half: bool,
        fbits: u8,
        d: u8,
    },
    /// VRINT{R,Z,X,A,N,P,M}.
    Rint {
        dp: bool,
        round: VRound,
        d: u8,
        m: u8,
    },
    /// VSEL<cond> (cond is 0 EQ, 6 VS, 10 GE, 12 GT).
    Sel {
        dp: bool,
        cond: u8,
        d: u8,
        n: u8,
        m: u8,
    },
    /// VMOV between a core register and S<n>.
    CoreS { to_core: bool, rt: u8, n: u8 },
    /// VMOV between two core registers and S<m>, S<m+1>.
    Core2S {
        to_core: bool,
        rt: u8,
        rt2: u8,
        m: u8,
    },
    /// VMOV between two core registers and D<m>.
    Core2D {
        to_core: bool,
        rt: u8,
        rt2: u8,
        m: u8,
    },
    /// VMOV between a core register and D<d>[h].
    Scalar {
        to_core: bool,
        rt: u8,
        d: u8,
        h: bool,
    },
    /// VMRS Rt, FPSCR (Rt = 15: APSR_nzcv).
    Vmrs { rt: u8 },
    /// VMSR FPSCR, Rt.
    Vmsr { rt: u8 },
    /// VLDR/VSTR. `rn` = 15 is PC-relative (Align(PC, 4)).
    LdSt {
        load: bool,
        dp: bool,
        d: u8,
        rn: u8,
        offset: i16,
    },
    /// VLDM/VSTM/VPUSH/VPOP: `count` registers from `d`; `words` is imm8 (the size of the
    /// transfer in words, odd for FLDMX/FSTMX-style double transfers).
    Multi {
        load: bool,
        dp: bool,
        d: u8,
        count: u8,
        words: u8,
        rn: u8,
        db: bool,
        wback: bool,
    },
}

// ---------------------------------------------------------------- decoding

#[inline]
fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}
#[inline]
fn bit(x: u32, n: u32) -> u32 {
    (x >> n) & 1
}
/// Sd = Vd:D
fn sd(x: u32) -> u8 {
    (bits(x, 15, 12) << 1 | bit(x, 22)) as u8
}
/// Dd = D:Vd
fn dd(x: u32) -> u8 {
    (bit(x, 22) << 4 | bits(x, 15, 12)) as u8
}
fn sn(x: u32) -> u8 {
    (bits(x, 19, 16) << 1 | bit(x, 7)) as u8
}
fn dn(x: u32) -> u8 {
    (bit(x, 7) << 4 | bits(x, 19, 16)) as u8
}
fn sm(x: u32) -> u8 {
    (bits(x, 3, 0) << 1 | bit(x, 5)) as u8
}
fn dm(x: u32) -> u8 {
    (bit(x, 5) << 4 | bits(x, 3, 0)) as u8
}
fn dp_bit(x: u32) -> bool {
    bit(x, 8) != 0
}

/// The register operands of a data-processing encoding: `Some(dp)` if allowed, after the
/// feature checks (`None`: UNDEFINED).
fn dp_ok(x: u32, c: &Ctx) -> Option<bool> {
    let dp = dp_bit(x);
    if dp && c.features.fpu != FpuKind::Fpv5Dp {
        return None;
    }
    Some(dp)
}

/// D16-D31 do not exist on these FPUs (D16 register banks): naming one is UNDEFINED.
fn d_ok(regs: &[u8]) -> bool {
    regs.iter().all(|&r| r < 16)
}

fn vfp(op: VfpOp) -> Op {
    Op::Vfp(op)
}
fn undef(x: u32) -> Op {
    Op::Undefined { raw: x }
}
fn nocp(x: u32) -> Op {
    Op::NoCoprocessor { raw: x }
}

macro_rules! need_fpu {
    ($x:expr, $c:expr) => {
        if $c.features.fpu == FpuKind::None {
            return nocp($x);
        }
    };
}
macro_rules! need_v5 {
    ($x:expr, $c:expr) => {
        if $c.features.fpu == FpuKind::None {
            return nocp($x);
        }
        if $c.features.fpu != FpuKind::Fpv5Dp || $c.in_it {
            // FPv5 additions; inside an IT block they are UNPREDICTABLE.
            return undef($x);
        }
    };
}

/// Three-register data processing: builds `Bin` with single or double registers.
fn bin(x: u32, c: &Ctx, op: VBin) -> Op {
    need_fpu!(x, c);
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    if dp {
        let (d, n, m) = (dd(x), dn(x), dm(x));
        if !d_ok(&[d, n, m]) {
            return undef(x);
        }
        vfp(VfpOp::Bin { op, dp, d, n, m })
    } else {
        vfp(VfpOp::Bin {
            op,
            dp,
            d: sd(x),
            n: sn(x),
            m: sm(x),
        })
    }
}
fn un(x: u32, c: &Ctx, op: VUn) -> Op {
    need_fpu!(x, c);
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    if dp {
        let (d, m) = (dd(x), dm(x));
        if !d_ok(&[d, m]) {
            return undef(x);
        }
        vfp(VfpOp::Un { op, dp, d, m })
    } else {
        vfp(VfpOp::Un {
            op,
            dp,
            d: sd(x),
            m: sm(x),
        })
    }
}
/// (d, m) for a two-register form with the precision `dp`; None if a register is missing.
fn regs_dm(x: u32, dp: bool) -> Option<(u8, u8)> {
    if dp {
        let (d, m) = (dd(x), dm(x));
        d_ok(&[d, m]).then_some((d, m))
    } else {
        Some((sd(x), sm(x)))
    }
}

pub(crate) fn vmla(x: u32, c: &Ctx) -> Op {
    bin(x, c, if bit(x, 6) == 0 { VBin::Mla } else { VBin::Mls })
}
pub(crate) fn vnmla(x: u32, c: &Ctx) -> Op {
    bin(
        x,
        c,
        if bit(x, 6) == 1 {
            VBin::Nmla
        } else {
            VBin::Nmls
        },
    )
}
pub(crate) fn vmul(x: u32, c: &Ctx) -> Op {
    bin(
        x,
        c,
        if bit(x, 6) == 0 {
            VBin::Mul
        } else {
            VBin::Nmul
        },
    )
}
pub(crate) fn vadd(x: u32, c: &Ctx) -> Op {
    bin(x, c, if bit(x, 6) == 0 { VBin::Add } else { VBin::Sub })
}
pub(crate) fn vdiv(x: u32, c: &Ctx) -> Op {
    bin(x, c, VBin::Div)
}
pub(crate) fn vfnma(x: u32, c: &Ctx) -> Op {
    bin(
        x,
        c,
        if bit(x, 6) == 1 {
            VBin::Fnma
        } else {
            VBin::Fnms
        },
    )
}
pub(crate) fn vfma(x: u32, c: &Ctx) -> Op {
    bin(x, c, if bit(x, 6) == 0 { VBin::Fma } else { VBin::Fms })
}
pub(crate) fn vmaxnm(x: u32, c: &Ctx) -> Op {
    need_v5!(x, c);
    bin(
        x,
        c,
        if bit(x, 6) == 0 {
            VBin::MaxNm
        } else {
            VBin::MinNm
        },
    )
}
pub(crate) fn vmov_imm(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    let d = if dp { dd(x) } else { sd(x) };
    if dp && d >= 16 {
        return undef(x);
    }
    let imm8 = (bits(x, 19, 16) << 4 | bits(x, 3, 0)) as u8;
    vfp(VfpOp::MovImm { dp, d, imm8 })
}
pub(crate) fn vmov_abs(x: u32, c: &Ctx) -> Op {
    un(x, c, if bit(x, 7) == 0 { VUn::Mov } else { VUn::Abs })
}
pub(crate) fn vneg_sqrt(x: u32, c: &Ctx) -> Op {
    un(x, c, if bit(x, 7) == 0 { VUn::Neg } else { VUn::Sqrt })
}
pub(crate) fn vcvt_half(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    let to_half = bit(x, 16) == 1;
    let top = bit(x, 7) == 1;
    // The half-precision side is always an S register.
    let (d, m) = match (dp, to_half) {
        (false, _) => (sd(x), sm(x)),
        (true, false) => (dd(x), sm(x)),
        (true, true) => (sd(x), dm(x)),
    };
    if dp && ((to_half && m >= 16) || (!to_half && d >= 16)) {
        return undef(x);
    }
    vfp(VfpOp::CvtHalf {
        top,
        to_half,
        dp,
        d,
        m,
    })
}
pub(crate) fn vcmp(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    let zero = bit(x, 16) == 1;
    let Some((d, m)) = regs_dm(x, dp) else {
        return undef(x);
    };
    vfp(VfpOp::Cmp {
        dp,
        e: bit(x, 7) == 1,
        d,
        m: if zero { 0 } else { m },
        zero,
    })
}
pub(crate) fn vcvt_ds(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    if c.features.fpu != FpuKind::Fpv5Dp {
        return undef(x);
    }
    let to_double = !dp_bit(x);
    let (d, m) = if to_double {
        (dd(x), sm(x))
    } else {
        (sd(x), dm(x))
    };
    if (to_double && d >= 16) || (!to_double && m >= 16) {
        return undef(x);
    }
    vfp(VfpOp::CvtDs { to_double, d, m })
}
pub(crate) fn vrint_rz(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    if c.features.fpu != FpuKind::Fpv5Dp {
        return undef(x);
    }
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    let Some((d, m)) = regs_dm(x, dp) else {
        return undef(x);
    };
    let round = if bit(x, 7) == 1 {
        VRound::Zero
    } else {
        VRound::Fpscr
    };
    vfp(VfpOp::Rint { dp, round, d, m })
}
pub(crate) fn vrintx(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    if c.features.fpu != FpuKind::Fpv5Dp {
        return undef(x);
    }
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    let Some((d, m)) = regs_dm(x, dp) else {
        return undef(x);
    };
    vfp(VfpOp::Rint {
        dp,
        round: VRound::Exact,
        d,
        m,
    })
}
pub(crate) fn vcvt_from_int(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    let d = if dp { dd(x) } else { sd(x) };
    if dp && d >= 16 {
        return undef(x);
    }
    vfp(VfpOp::FromInt {
        dp,
        signed: bit(x, 7) == 1,
        d,
        m: sm(x),
    })
}
pub(crate) fn vcvt_to_int(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    let m = if dp { dm(x) } else { sm(x) };
    if dp && m >= 16 {
        return undef(x);
    }
    vfp(VfpOp::ToInt {
        dp,
        signed: bit(x, 16) == 1,
        round: if bit(x, 7) == 1 {
            VRound::Zero
        } else {
            VRound::Fpscr
        },
        d: sd(x),
        m,
    })
}
pub(crate) fn vcvt_fixed(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let Some(dp) = dp_ok(x, c) else {
        return undef(x);
    };
    let half = bit(x, 7) == 0;
    let size = if half { 16 } else { 32 };
    let imm5 = bits(x, 3, 0) << 1 | bit(x, 5);
    if imm5 > size {
        return undef(x); // frac_bits < 0: UNPREDICTABLE
    }
    let d = if dp { dd(x) } else { sd(x) };
    if dp && d >= 16 {
        return undef(x);
    }
    vfp(VfpOp::Fixed {
        dp,
        to_fixed: bit(x, 18) == 1,
        unsigned: bit(x, 16) == 1,
        half,
        fbits: (size - imm5) as u8,
        d,
    })
}
pub(crate) fn vsel(x: u32, c: &Ctx) -> Op {
    need_v5!(x, c);
    let cc = bits(x, 21, 20);
    let cond = (cc << 2 | (bit(cc, 1) ^ bit(cc, 0)) << 1) as u8;
    let dp = dp_bit(x);
    let (d, n, m) = if dp {
        (dd(x), dn(x), dm(x))
    } else {
        (sd(x), sn(x), sm(x))
    };
    if dp && !d_ok(&[d, n, m]) {
        return undef(x);
    }
    vfp(VfpOp::Sel { dp, cond, d, n, m })
}
pub(crate) fn vrint_anpm(x: u32, c: &Ctx) -> Op {
    need_v5!(x, c);
    let dp = dp_bit(x);
    let Some((d, m)) = regs_dm(x, dp) else {
        return undef(x);
    };
    vfp(VfpOp::Rint {
        dp,
        round: VRound::from_rm(bits(x, 17, 16)),
        d,
        m,
    })
}
pub(crate) fn vcvt_anpm(x: u32, c: &Ctx) -> Op {
    need_v5!(x, c);
    let dp = dp_bit(x);
    let m = if dp { dm(x) } else { sm(x) };
    if dp && m >= 16 {
        return undef(x);
    }
    vfp(VfpOp::ToInt {
        dp,
        signed: bit(x, 7) == 1,
        round: VRound::from_rm(bits(x, 17, 16)),
        d: sd(x),
        m,
    })
}
fn bad(r: u8) -> bool {
    r == 13 || r == 15
}
pub(crate) fn vmov_core_s(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let rt = bits(x, 15, 12) as u8;
    if bad(rt) {
        return undef(x);
    }
    vfp(VfpOp::CoreS {
        to_core: bit(x, 20) == 1,
        rt,
        n: sn(x),
    })
}
pub(crate) fn vmsr(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let rt = bits(x, 15, 12) as u8;
    if bad(rt) {
        return undef(x);
    }
    vfp(VfpOp::Vmsr { rt })
}
pub(crate) fn vmrs(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let rt = bits(x, 15, 12) as u8;
    if rt == 13 {
        return undef(x);
    }
    vfp(VfpOp::Vmrs { rt })
}
pub(crate) fn vmov_scalar(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let rt = bits(x, 15, 12) as u8;
    let d = dn(x); // D:Vd for core->scalar and N:Vn for scalar->core sit in the same bits
    if bad(rt) || d >= 16 {
        return undef(x);
    }
    vfp(VfpOp::Scalar {
        to_core: bit(x, 20) == 1,
        rt,
        d,
        h: bit(x, 21) == 1,
    })
}
pub(crate) fn vmov_2core(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let (rt, rt2) = (bits(x, 15, 12) as u8, bits(x, 19, 16) as u8);
    let to_core = bit(x, 20) == 1;
    if bad(rt) || bad(rt2) || (to_core && rt == rt2) {
        return undef(x);
    }
    if dp_bit(x) {
        let m = dm(x);
        if m >= 16 {
            return undef(x);
        }
        vfp(VfpOp::Core2D {
            to_core,
            rt,
            rt2,
            m,
        })
    } else {
        let m = sm(x);
        if m == 31 {
            return undef(x);
        }
        vfp(VfpOp::Core2S {
            to_core,
            rt,
            rt2,
            m,
        })
    }
}
pub(crate) fn vldr(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let dp = dp_bit(x);
    let load = bit(x, 20) == 1;
    let rn = bits(x, 19, 16) as u8;
    let d = if dp { dd(x) } else { sd(x) };
    if (dp && d >= 16) || (!load && rn == 15) {
        return undef(x);
    }
    let imm = (bits(x, 7, 0) << 2) as i16;
    vfp(VfpOp::LdSt {
        load,
        dp,
        d,
        rn,
        offset: if bit(x, 23) == 1 { imm } else { -imm },
    })
}
pub(crate) fn vldm(x: u32, c: &Ctx) -> Op {
    need_fpu!(x, c);
    let dp = dp_bit(x);
    let load = bit(x, 20) == 1;
    let rn = bits(x, 19, 16) as u8;
    let db = bit(x, 24) == 1;
    let wback = bit(x, 21) == 1;
    let words = bits(x, 7, 0);
    let (d, count, limit) = if dp {
        (dd(x), words / 2, 16)
    } else {
        (sd(x), words, 32)
    };
    if rn == 15 || count == 0 || (dp && count > 16) || u32::from(d) + count > limit {
        return undef(x); // UNPREDICTABLE
    }
    vfp(VfpOp::Multi {
        load,
        dp,
        d,
        count: count as u8,
        words: words as u8,
        rn,
        db,
        wback,
    })
}

// ---------------------------------------------------------------- disassembly

fn r(n: u8) -> &'static str {
    REG_NAMES[usize::from(n & 15)]
}
fn fr(dp: bool, n: u8) -> String {
    format!("{}{n}", if dp { 'd' } else { 's' })
}
fn ty(dp: bool) -> &'static str {
    if dp {
        "f64"
    } else {
        "f32"
    }
}

/// VFPExpandImm(imm8) for single (32 bits) or double (64 bits).
pub fn expand_imm(imm8: u8, dp: bool) -> u64 {
    let i = u64::from(imm8);
    let sign = i >> 7;
    let b6 = (i >> 6) & 1;
    if dp {
        sign << 63 | (b6 ^ 1) << 62 | (if b6 == 1 { 0xff } else { 0 }) << 54 | (i & 0x3f) << 48
    } else {
        sign << 31 | (b6 ^ 1) << 30 | (if b6 == 1 { 0x1f } else { 0 }) << 25 | (i & 0x3f) << 19
    }
}

/// Formats a [`VfpOp`] with a condition suffix (`c` is "" for always).
pub(crate) fn disasm(op: &VfpOp, c: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match *op {
        VfpOp::Bin { op, dp, d, n, m } => {
            let name = match op {
                VBin::Add => "vadd",
                VBin::Sub => "vsub",
                VBin::Mul => "vmul",
                VBin::Nmul => "vnmul",
                VBin::Div => "vdiv",
                VBin::Mla => "vmla",
                VBin::Mls => "vmls",
                VBin::Nmla => "vnmla",
                VBin::Nmls => "vnmls",
                VBin::Fma => "vfma",
                VBin::Fms => "vfms",
                VBin::Fnma => "vfnma",
                VBin::Fnms => "vfnms",
                VBin::MaxNm => "vmaxnm",
                VBin::MinNm => "vminnm",
            };
            write!(
                f,
                "{name}{c}.{} {}, {}, {}",
                ty(dp),
                fr(dp, d),
                fr(dp, n),
                fr(dp, m)
            )
        }
        VfpOp::Un { op, dp, d, m } => {
            let name = match op {
                VUn::Mov => "vmov",
                VUn::Abs => "vabs",
                VUn::Neg => "vneg",
                VUn::Sqrt => "vsqrt",
            };
            write!(f, "{name}{c}.{} {}, {}", ty(dp), fr(dp, d), fr(dp, m))
        }
        VfpOp::MovImm { dp, d, imm8 } => {
            let v = expand_imm(imm8, dp);
            let x = if dp {
                f64::from_bits(v)
            } else {
                f64::from(f32::from_bits(v as u32))
            };
            write!(f, "vmov{c}.{} {}, #{x}", ty(dp), fr(dp, d))
        }
        VfpOp::Cmp { dp, e, d, m, zero } => {
            let name = if e { "vcmpe" } else { "vcmp" };
            if zero {
                write!(f, "{name}{c}.{} {}, #0.0", ty(dp), fr(dp, d))
            } else {
                write!(f, "{name}{c}.{} {}, {}", ty(dp), fr(dp, d), fr(dp, m))
            }
        }
        VfpOp::CvtDs { to_double, d, m } => {
            if to_double {
                write!(f, "vcvt{c}.f64.f32 d{d}, s{m}")
            } else {
                write!(f, "vcvt{c}.f32.f64 s{d}, d{m}")
            }
        }
        VfpOp::CvtHalf {
            top,
            to_half,
            dp,
            d,
            m,
        } => {
            let bt = if top { "t" } else { "b" };
            if to_half {
                write!(f, "vcvt{bt}{c}.f16.{} s{d}, {}", ty(dp), fr(dp, m))
            } else {
                write!(f, "vcvt{bt}{c}.{}.f16 {}, s{m}", ty(dp), fr(dp, d))
            }
        }
        VfpOp::ToInt {
            dp,
            signed,
            round,
            d,
            m,
        } => {
            let it = if signed { "s32" } else { "u32" };
            let (pre, post) = match round {
                VRound::Zero => ("", ""),
                VRound::Fpscr => ("", "r"),
                r => (r.suffix(), ""),
            };
            write!(f, "vcvt{pre}{post}{c}.{it}.{} s{d}, {}", ty(dp), fr(dp, m))
        }
        VfpOp::FromInt { dp, signed, d, m } => {
            let it = if signed { "s32" } else { "u32" };
            write!(f, "vcvt{c}.{}.{it} {}, s{m}", ty(dp), fr(dp, d))
        }
        VfpOp::Fixed {
            dp,
            to_fixed,
            unsigned,
            half,
            fbits,
            d,
        } => {
            let it = format!(
                "{}{}",
                if unsigned { "u" } else { "s" },
                if half { 16 } else { 32 }
            );
            let (a, b) = if to_fixed {
                (it.as_str(), ty(dp))
            } else {
                (ty(dp), it.as_str())
            };
            write!(f, "vcvt{c}.{a}.{b} {0}, {0}, #{fbits}", fr(dp, d))
        }
        VfpOp::Rint { dp, round, d, m } => {
            write!(
                f,
                "vrint{}{c}.{} {}, {}",
                round.suffix(),
                ty(dp),
                fr(dp, d),
                fr(dp, m)
            )
        }
        VfpOp::Sel { dp, cond, d, n, m } => write!(
            f,
            "vsel{}.{} {}, {}, {}",
            COND_NAMES[usize::from(cond & 15)],
            ty(dp),
            fr(dp, d),
            fr(dp, n),
            fr(dp, m)
        ),
        VfpOp::CoreS { to_core, rt, n } => {
            if to_core {
                write!(f, "vmov{c} {}, s{n}", r(rt))
            } else {
                write!(f, "vmov{c} s{n}, {}", r(rt))
            }
        }
        VfpOp::Core2S {
            to_core,
            rt,
            rt2,
            m,
        } => {
            if to_core {
                write!(f, "vmov{c} {}, {}, s{m}, s{}", r(rt), r(rt2), m + 1)
            } else {
                write!(f, "vmov{c} s{m}, s{}, {}, {}", m + 1, r(rt), r(rt2))
            }
        }
        VfpOp::Core2D {
            to_core,
            rt,
            rt2,
            m,
        } => {
            if to_core {
                write!(f, "vmov{c} {}, {}, d{m}", r(rt), r(rt2))
            } else {
                write!(f, "vmov{c} d{m}, {}, {}", r(rt), r(rt2))
            }
        }
        VfpOp::Scalar { to_core, rt, d, h } => {
            if to_core {
                write!(f, "vmov{c}.32 {}, d{d}[{}]", r(rt), u8::from(h))
            } else {
                write!(f, "vmov{c}.32 d{d}[{}], {}", u8::from(h), r(rt))
            }
        }
        VfpOp::Vmrs { rt: 15 } => write!(f, "vmrs{c} APSR_nzcv, fpscr"),
        VfpOp::Vmrs { rt } => write!(f, "vmrs{c} {}, fpscr", r(rt)),
        VfpOp::Vmsr { rt } => write!(f, "vmsr{c} fpscr, {}", r(rt)),
        VfpOp::LdSt {
            load,
            dp,
            d,
            rn,
            offset,
        } => write!(
            f,
            "{}{c} {}, [{}, #{offset}]",
            if load { "vldr" } else { "vstr" },
            fr(dp, d),
            r(rn)
        ),
        VfpOp::Multi {
            load,
            dp,
            d,
            count,
            rn,
            db,
            wback,
            ..
        } => {
            let list = if count == 1 {
                fr(dp, d)
            } else {
                format!("{}-{}", fr(dp, d), fr(dp, d + count - 1))
            };
            if rn == 13 && wback && db != load {
                write!(f, "{}{c} {{{list}}}", if load { "vpop" } else { "vpush" })
            } else {
                write!(
                    f,
                    "{}{}{c} {}{}, {{{list}}}",
                    if load { "vldm" } else { "vstm" },
                    if db { "db" } else { "ia" },
                    r(rn),
                    if wback { "!" } else { "" }
                )
            }
        }
    }
}

// ---------------------------------------------------------------- execution

fn neg(dp: bool, v: u64) -> u64 {
    v ^ if dp { 1 << 63 } else { 1 << 31 }
}
fn abs(dp: bool, v: u64) -> u64 {
    v & if dp { !(1 << 63) } else { 0x7fff_ffff }
}

/// The FPAdd/FPMul/... of the right precision on raw bits.
macro_rules! arith {
    ($dp:expr, $f32:path, $f64:path, $fpscr:expr; $($a:expr),*) => {
        if $dp {
            $f64($($a,)* $fpscr)
        } else {
            u64::from($f32($($a as u32,)* $fpscr))
        }
    };
}

fn to_fault(addr: u32, write: bool, error: crate::bus::BusError) -> Fault {
    Fault::DataBus { addr, write, error }
}

impl Exec<'_> {
    #[inline]
    fn fget(&self, dp: bool, n: u8) -> u64 {
        if dp {
            self.s.fp.d(n)
        } else {
            u64::from(self.s.fp.s[usize::from(n & 31)])
        }
    }
    #[inline]
    fn fset(&mut self, dp: bool, n: u8, v: u64) {
        if dp {
            self.s.fp.set_d(n, v);
        } else {
            self.s.fp.s[usize::from(n & 31)] = v as u32;
        }
    }

    /// The encoding at `pc`, for the NOCP fault report.
    #[cold]
    fn raw_at<B: Bus>(bus: &mut B, pc: u32) -> u32 {
        let hw1 = bus.fetch16(pc).unwrap_or(0);
        let hw2 = bus.fetch16(pc.wrapping_add(2)).unwrap_or(0);
        u32::from(hw1) << 16 | u32::from(hw2)
    }

    fn fp_read32<B: Bus>(bus: &mut B, addr: u32) -> Result<u32, Fault> {
        if addr & 3 != 0 {
            return Err(Fault::Unaligned { addr });
        }
        bus.read32(addr).map_err(|e| to_fault(addr, false, e))
    }
    fn fp_write32<B: Bus>(&mut self, bus: &mut B, addr: u32, v: u32) -> Result<(), Fault> {
        if addr & 3 != 0 {
            return Err(Fault::Unaligned { addr });
        }
        bus.write32(addr, v).map_err(|e| to_fault(addr, true, e))?;
        self.code.note_write(addr, 4);
        Ok(())
    }

    /// Execute a floating-point instruction whose condition passed.
    pub(crate) fn exec_vfp<B: Bus>(&mut self, bus: &mut B, op: &VfpOp, pc: u32) -> Flow {
        match fpstate::execute_fp_check(self.s, bus) {
            Ok(None) => {}
            Ok(Some(saved_at)) => self.code.note_write(saved_at, 0x44),
            Err(Fault::NoCoprocessor { .. }) => {
                let raw = Self::raw_at(bus, pc);
                return Flow::Stop(StopReason::Fault(Fault::NoCoprocessor { raw }));
            }
            Err(f) => return Flow::Stop(StopReason::Fault(f)),
        }
        match self.vfp_body(bus, op, pc) {
            Ok(flow) => flow,
            Err(f) => Flow::Stop(StopReason::Fault(f)),
        }
    }

    fn vfp_body<B: Bus>(&mut self, bus: &mut B, op: &VfpOp, pc: u32) -> Result<Flow, Fault> {
        let mut fpscr = self.s.fp.fpscr;
        let f = &mut fpscr;
        match *op {
            VfpOp::Bin { op, dp, d, n, m } => {
                let (vd, vn, vm) = (self.fget(dp, d), self.fget(dp, n), self.fget(dp, m));
                let mul = |f: &mut u32| arith!(dp, fa::mul_f32, fa::mul_f64, f; vn, vm);
                let add =
                    |a: u64, b: u64, f: &mut u32| arith!(dp, fa::add_f32, fa::add_f64, f; a, b);
                let fma = |a: u64, b: u64, c: u64, f: &mut u32| arith!(dp, fa::muladd_f32, fa::muladd_f64, f; a, b, c);
                let res = match op {
                    VBin::Add => add(vn, vm, f),
                    VBin::Sub => arith!(dp, fa::sub_f32, fa::sub_f64, f; vn, vm),
                    VBin::Mul => mul(f),
                    VBin::Nmul => neg(dp, mul(f)),
                    VBin::Div => arith!(dp, fa::div_f32, fa::div_f64, f; vn, vm),
                    VBin::Mla => {
                        let p = mul(f);
                        add(vd, p, f)
                    }
                    VBin::Mls => {
                        let p = mul(f);
                        add(vd, neg(dp, p), f)
                    }
                    VBin::Nmla => {
                        let p = mul(f);
                        add(neg(dp, vd), neg(dp, p), f)
                    }
                    VBin::Nmls => {
                        let p = mul(f);
                        add(neg(dp, vd), p, f)
                    }
                    VBin::Fma => fma(vd, vn, vm, f),
                    VBin::Fms => fma(vd, neg(dp, vn), vm, f),
                    VBin::Fnma => fma(neg(dp, vd), neg(dp, vn), vm, f),
                    VBin::Fnms => fma(neg(dp, vd), vn, vm, f),
                    VBin::MaxNm => arith!(dp, fa::max_num_f32, fa::max_num_f64, f; vn, vm),
                    VBin::MinNm => arith!(dp, fa::min_num_f32, fa::min_num_f64, f; vn, vm),
                };
                self.fset(dp, d, res);
            }
            VfpOp::Un { op, dp, d, m } => {
                let vm = self.fget(dp, m);
                let res = match op {
                    VUn::Mov => vm,
                    VUn::Abs => abs(dp, vm),
                    VUn::Neg => neg(dp, vm),
                    VUn::Sqrt => arith!(dp, fa::sqrt_f32, fa::sqrt_f64, f; vm),
                };
                self.fset(dp, d, res);
            }
            VfpOp::MovImm { dp, d, imm8 } => self.fset(dp, d, expand_imm(imm8, dp)),
            VfpOp::Cmp { dp, e, d, m, zero } => {
                let vd = self.fget(dp, d);
                let vm = if zero { 0 } else { self.fget(dp, m) };
                let nzcv = if dp {
                    fa::compare_f64(vd, vm, e, f)
                } else {
                    fa::compare_f32(vd as u32, vm as u32, e, f)
                };
                *f = (*f & 0x0fff_ffff) | (nzcv & 0xf000_0000);
            }
            VfpOp::CvtDs { to_double, d, m } => {
                if to_double {
                    let v = fa::f32_to_f64(self.s.fp.s[usize::from(m)], f);
                    self.s.fp.set_d(d, v);
                } else {
                    let v = fa::f64_to_f32(self.s.fp.d(m), f);
                    self.s.fp.s[usize::from(d)] = v;
                }
            }
            VfpOp::CvtHalf {
                top,
                to_half,
                dp,
                d,
                m,
            } => {
                let sh = if top { 16 } else { 0 };
                if to_half {
                    let h = if dp {
                        fa::f64_to_f16(self.s.fp.d(m), f)
                    } else {
                        fa::f32_to_f16(self.s.fp.s[usize::from(m)], f)
                    };
                    let r = &mut self.s.fp.s[usize::from(d)];
                    *r = (*r & !(0xffff << sh)) | u32::from(h) << sh;
                } else {
                    let h = (self.s.fp.s[usize::from(m)] >> sh) as u16;
                    if dp {
                        let v = fa::f16_to_f64(h, f);
                        self.s.fp.set_d(d, v);
                    } else {
                        self.s.fp.s[usize::from(d)] = fa::f16_to_f32(h, f);
                    }
                }
            }
            VfpOp::ToInt {
                dp,
                signed,
                round,
                d,
                m,
            } => {
                let rm = round.rounding(*f);
                let v = if dp {
                    fa::to_fixed_f64(self.s.fp.d(m), 32, 0, !signed, rm, f)
                } else {
                    fa::to_fixed_f32(self.s.fp.s[usize::from(m)], 32, 0, !signed, rm, f)
                };
                self.s.fp.s[usize::from(d)] = v;
            }
            VfpOp::FromInt { dp, signed, d, m } => {
                let rm = Rounding::from_fpscr(*f);
                let x = self.s.fp.s[usize::from(m)];
                let v = if dp {
                    fa::from_fixed_f64(x, 32, 0, !signed, rm, f)
                } else {
                    u64::from(fa::from_fixed_f32(x, 32, 0, !signed, rm, f))
                };
                self.fset(dp, d, v);
            }
            VfpOp::Fixed {
                dp,
                to_fixed,
                unsigned,
                half,
                fbits,
                d,
            } => {
                let size = if half { 16 } else { 32 };
                let fb = u32::from(fbits);
                if to_fixed {
                    // FPToFixed(.., round_zero = TRUE): the result is extended to the register.
                    let v = if dp {
                        let r =
                            fa::to_fixed_f64(self.s.fp.d(d), size, fb, unsigned, Rounding::Zero, f);
                        if unsigned {
                            u64::from(r)
                        } else {
                            r as i32 as i64 as u64
                        }
                    } else {
                        let r = fa::to_fixed_f32(
                            self.s.fp.s[usize::from(d)],
                            size,
                            fb,
                            unsigned,
                            Rounding::Zero,
                            f,
                        );
                        u64::from(r)
                    };
                    self.fset(dp, d, v);
                } else {
                    // FixedToFP(.., round_to_nearest = TRUE).
                    let x = self.fget(dp, d) as u32;
                    let v = if dp {
                        fa::from_fixed_f64(x, size, fb, unsigned, Rounding::TieEven, f)
                    } else {
                        u64::from(fa::from_fixed_f32(
                            x,
                            size,
                            fb,
                            unsigned,
                            Rounding::TieEven,
                            f,
                        ))
                    };
                    self.fset(dp, d, v);
                }
            }
            VfpOp::Rint { dp, round, d, m } => {
                let rm = round.rounding(*f);
                let exact = round == VRound::Exact;
                let vm = self.fget(dp, m);
                let v = if dp {
                    fa::round_int_f64(vm, rm, exact, f)
                } else {
                    u64::from(fa::round_int_f32(vm as u32, rm, exact, f))
                };
                self.fset(dp, d, v);
            }
            VfpOp::Sel { dp, cond, d, n, m } => {
                let v = if self.s.cond_passed(cond) {
                    self.fget(dp, n)
                } else {
                    self.fget(dp, m)
                };
                self.fset(dp, d, v);
            }
            VfpOp::CoreS { to_core, rt, n } => {
                if to_core {
                    let v = self.s.fp.s[usize::from(n)];
                    self.s.set_reg(rt, v);
                } else {
                    self.s.fp.s[usize::from(n)] = self.s.reg(rt);
                }
            }
            VfpOp::Core2S {
                to_core,
                rt,
                rt2,
                m,
            } => {
                let m = usize::from(m);
                if to_core {
                    let (a, b) = (self.s.fp.s[m], self.s.fp.s[m + 1]);
                    self.s.set_reg(rt, a);
                    self.s.set_reg(rt2, b);
                } else {
                    self.s.fp.s[m] = self.s.reg(rt);
                    self.s.fp.s[m + 1] = self.s.reg(rt2);
                }
            }
            VfpOp::Core2D {
                to_core,
                rt,
                rt2,
                m,
            } => {
                if to_core {
                    let v = self.s.fp.d(m);
                    self.s.set_reg(rt, v as u32);
                    self.s.set_reg(rt2, (v >> 32) as u32);
                } else {
                    let v = u64::from(self.s.reg(rt)) | u64::from(self.s.reg(rt2)) << 32;
                    self.s.fp.set_d(m, v);
                }
            }
            VfpOp::Scalar { to_core, rt, d, h } => {
                let i = usize::from(d) * 2 + usize::from(h);
                if to_core {
                    let v = self.s.fp.s[i];
                    self.s.set_reg(rt, v);
                } else {
                    self.s.fp.s[i] = self.s.reg(rt);
                }
            }
            VfpOp::Vmrs { rt } => {
                if rt == 15 {
                    // APSR.NZCV from FPSCR; Q (and GE) unchanged.
                    let keep = self.s.apsr() & 0x0fff_ffff;
                    self.s.set_apsr((*f & 0xf000_0000) | keep);
                } else {
                    self.s.set_reg(rt, *f);
                }
            }
            VfpOp::Vmsr { rt } => *f = self.s.reg(rt) & FPSCR_MASK,
            VfpOp::LdSt {
                load,
                dp,
                d,
                rn,
                offset,
            } => {
                let base = if rn == 15 {
                    pc.wrapping_add(4) & !3
                } else {
                    self.s.reg(rn)
                };
                let addr = base.wrapping_add(offset as i32 as u32);
                if load {
                    let lo = Self::fp_read32(bus, addr)?;
                    if dp {
                        let hi = Self::fp_read32(bus, addr.wrapping_add(4))?;
                        self.s.fp.set_d(d, u64::from(lo) | u64::from(hi) << 32);
                    } else {
                        self.s.fp.s[usize::from(d)] = lo;
                    }
                } else {
                    let v = self.fget(dp, d);
                    self.fp_write32(bus, addr, v as u32)?;
                    if dp {
                        self.fp_write32(bus, addr.wrapping_add(4), (v >> 32) as u32)?;
                    }
                    return Ok(self.end_if_code_written());
                }
            }
            VfpOp::Multi {
                load,
                dp,
                d,
                count,
                words,
                rn,
                db,
                wback,
            } => {
                let base = self.s.reg(rn);
                let span = 4 * u32::from(words);
                let start = if db { base.wrapping_sub(span) } else { base };
                let end = if db { start } else { base.wrapping_add(span) };
                let nwords = usize::from(count) * if dp { 2 } else { 1 };
                let first = usize::from(d) * if dp { 2 } else { 1 };
                if load {
                    let mut vals = [0u32; 32];
                    for (i, v) in vals.iter_mut().enumerate().take(nwords) {
                        *v = Self::fp_read32(bus, start.wrapping_add(4 * i as u32))?;
                    }
                    self.s.fp.s[first..first + nwords].copy_from_slice(&vals[..nwords]);
                    if wback {
                        self.s.set_reg(rn, end);
                    }
                } else {
                    for i in 0..nwords {
                        let v = self.s.fp.s[first + i];
                        self.fp_write32(bus, start.wrapping_add(4 * i as u32), v)?;
                    }
                    if wback {
                        self.s.set_reg(rn, end);
                    }
                    return Ok(self.end_if_code_written());
                }
            }
        }
        self.s.fp.fpscr = fpscr;
        Ok(Flow::Next)
    }

    fn end_if_code_written(&self) -> Flow {
        if self.code.dirty() {
            Flow::EndBlock
        } else {
            Flow::Next
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Disasm;
    use crate::state::Features;

    fn ctx(features: Features) -> Ctx {
        Ctx {
            pc: 0x1000,
            in_it: false,
            last_in_it: true,
            features,
        }
    }

    /// Encodings and their disassembly from GNU as/objdump (-mcpu=cortex-m7 -mfpu=fpv5-d16);
    /// objdump prints VMOV immediates as imm8 (#200), armlet as the value.
    #[test]
    fn disassembly_matches_objdump() {
        let cases: &[(u32, &str)] = &[
            (0xee300a81, "vadd.f32 s0, s1, s2"),
            (0xee621a62, "vnmul.f32 s3, s4, s5"),
            (0xee933a84, "vfnms.f32 s6, s7, s8"),
            (0xeebc0a08, "vmov.f32 s0, #-0.1875"),
            (0xeef1fa10, "vmrs APSR_nzcv, fpscr"),
            (0xed2d8b10, "vpush {d8-d15}"),
            (0xecbd8b10, "vpop {d8-d15}"),
            (0xed900b02, "vldr d0, [r0, #8]"),
            (0xed4d1a01, "vstr s3, [sp, #-4]"),
            (0xeebd0ae0, "vcvt.s32.f32 s0, s1"),
            (0xeebc0a60, "vcvtr.u32.f32 s0, s1"),
            (0xeeb80a60, "vcvt.f32.u32 s0, s1"),
            (0xeeb30ae0, "vcvtt.f16.f32 s0, s1"),
            (0xeebe0a44, "vcvt.s16.f32 s0, s0, #8"),
            (0xeebb1ac6, "vcvt.f32.u32 s2, s2, #20"),
            (0xec532b14, "vmov r2, r3, d4"),
            (0xec454a11, "vmov s2, s3, r4, r5"),
            (0xeeb50ac0, "vcmpe.f32 s0, #0.0"),
            (0xeef40a41, "vcmp.f32 s1, s2"),
            (0xecb00a04, "vldmia r0!, {s0-s3}"),
            (0xed212b04, "vstmdb r1!, {d2-d3}"),
            (0xeef11ac2, "vsqrt.f32 s3, s4"),
            (0xeef02ac3, "vabs.f32 s5, s6"),
            (0xee330b10, "vmov.32 r0, d3[1]"),
            (0xeee17a10, "vmsr fpscr, r7"),
            (0xee310b02, "vadd.f64 d0, d1, d2"),
            (0xeeb71ae1, "vcvt.f64.f32 d1, s3"),
            (0xeef71bc1, "vcvt.f32.f64 s3, d1"),
            (0xfe300a81, "vselgt.f32 s0, s1, s2"),
            (0xfe843b05, "vmaxnm.f64 d3, d4, d5"),
            (0xfeb80a60, "vrinta.f32 s0, s1"),
            (0xeeb60bc1, "vrintz.f64 d0, d1"),
            (0xeeb71a61, "vrintx.f32 s2, s3"),
            (0xfebf0bc1, "vcvtm.s32.f64 s0, d1"),
            (0xeeb22b62, "vcvtb.f64.f16 d2, s5"),
        ];
        for &(raw, want) in cases {
            let op = crate::decode::decode(raw, 4, &ctx(Features::CORTEX_M7));
            assert!(matches!(op, Op::Vfp(_)), "{raw:#010x}: {op:?}");
            assert_eq!(
                Disasm { op: &op, cond: 14 }.to_string(),
                want,
                "{raw:#010x}"
            );
        }
    }

    #[test]
    fn features_decide_nocp_undefined_or_decoded() {
        let m3 = ctx(Features::CORTEX_M3);
        let m4 = ctx(Features::CORTEX_M4F);
        let m7 = ctx(Features::CORTEX_M7);
        let d = |raw: u32, c: &Ctx| crate::decode::decode(raw, 4, c);
        // vadd.f32: NOCP without an FPU, decoded with one
        assert!(matches!(d(0xee30_0a81, &m3), Op::NoCoprocessor { .. }));
        assert!(matches!(d(0xee30_0a81, &m4), Op::Vfp(_)));
        // vadd.f64: UNDEFINED on FPv4-SP, decoded on FPv5-D16
        assert!(matches!(d(0xee31_0b02, &m4), Op::Undefined { .. }));
        assert!(matches!(d(0xee31_0b02, &m7), Op::Vfp(_)));
        // vpush {d8-d15} is a plain transfer: fine on FPv4-SP
        assert!(matches!(d(0xed2d_8b10, &m4), Op::Vfp(_)));
        // FPv5 additions: UNDEFINED on FPv4, UNPREDICTABLE (UNDEFINED here) in an IT block
        assert!(matches!(d(0xfe30_0a81, &m4), Op::Undefined { .. }));
        let it = Ctx { in_it: true, ..m7 };
        assert!(matches!(d(0xfe30_0a81, &it), Op::Undefined { .. }));
        assert!(matches!(d(0xfe30_0a81, &m7), Op::Vfp(_)));
        // d16-d31 do not exist (D = 1 on a double operand)
        assert!(matches!(d(0xee71_0b02, &m7), Op::Undefined { .. }));
        // CP10 encodings outside the FP table: UNDEFINED with an FPU, other coprocessors NOCP
        assert!(matches!(d(0xee30_0a10, &m4), Op::Undefined { .. }));
        assert!(matches!(d(0xee30_0910, &m4), Op::NoCoprocessor { .. }));
        // VMOV r13: UNPREDICTABLE
        assert!(matches!(d(0xee10_da10, &m4), Op::Undefined { .. }));
    }

    #[test]
    fn random_coprocessor_space_decodes_and_disassembles() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for features in [Features::CORTEX_M4F, Features::CORTEX_M7] {
            for i in 0..200_000u32 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let r = (seed >> 16) as u32;
                // 111x 11xx xxxx xxxx xxxx 101x xxxx xxxx: the CP10/CP11 space
                let raw = (r & 0x13ff_f1ff) | 0xec00_0a00;
                let c = Ctx {
                    in_it: i & 1 != 0,
                    last_in_it: i & 2 != 0,
                    ..ctx(features)
                };
                let op = crate::decode::decode(raw, 4, &c);
                let _ = Disasm {
                    op: &op,
                    cond: (i & 15) as u8,
                }
                .to_string();
            }
        }
    }

    #[test]
    fn vfp_expand_imm() {
        assert_eq!(expand_imm(0x70, false), 0x3f80_0000); // 1.0
        assert_eq!(expand_imm(0xc8, false), 0xbe40_0000); // -0.1875
        assert_eq!(expand_imm(0x00, false), 0x4000_0000); // 2.0
        assert_eq!(expand_imm(0x70, true), 0x3ff0_0000_0000_0000);
        assert_eq!(expand_imm(0x3f, true), 0x403f_0000_0000_0000); // 31.0
    }
}
