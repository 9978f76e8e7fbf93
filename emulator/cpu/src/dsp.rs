//! The DSP extension of ARMv7E-M (Cortex-M4/M7): its operations, their decoder handlers,
//! disassembly and execution.
//!
//! The decoder-table lines live in [`crate::decode::T32`] (marked [`crate::decode::Ext::Dsp`]);
//! their handlers are here. Every handler returns [`Op::Undefined`] on a core without the
//! extension ([`crate::Features::dsp`] false), as a Cortex-M3 raises UsageFault UNDEFINSTR
//! for these encodings, and for the manual's UNPREDICTABLE register choices. Execution follows
//! the ARMv7-M ARM (DDI0403E) pseudocode of section A7.7 instruction by instruction, including
//! when the Q flag (sticky saturation/overflow) and the GE flags are written.

use crate::alu::{decode_imm_shift, shift, signed_sat_q, unsigned_sat_q, Shift};
use crate::decode::{Ctx, Unpredictable};
use crate::ops::{Op, REG_NAMES};
use crate::state::CpuState;
use std::fmt;

/// Operand lanes and the arithmetic of a parallel add/subtract (A5.3.13, A5.3.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParOp {
    /// ADD8: four byte sums.
    Add8,
    /// ADD16: two halfword sums.
    Add16,
    /// ASX: low = n.lo - m.hi, high = n.hi + m.lo.
    Asx,
    /// SAX: low = n.lo + m.hi, high = n.hi - m.lo.
    Sax,
    /// SUB8: four byte differences.
    Sub8,
    /// SUB16: two halfword differences.
    Sub16,
}

/// The flavour of a parallel add/subtract: the prefix of its mnemonic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParKind {
    /// S: signed, modular, sets GE.
    S,
    /// Q: signed saturating (does not touch Q or GE).
    Q,
    /// SH: signed halving.
    Sh,
    /// U: unsigned, modular, sets GE.
    U,
    /// UQ: unsigned saturating.
    Uq,
    /// UH: unsigned halving.
    Uh,
}

/// Which extend-and-add (SXTAB, UXTAH, SXTB16 ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XtSize {
    /// Byte: `rn + extend(rotated<7:0>)`.
    B,
    /// Halfword: `rn + extend(rotated<15:0>)`.
    H,
    /// Two bytes into two halfwords: `rotated<7:0>` and `rotated<23:16>`.
    B16,
}

/// A DSP-extension operation. Register fields are in [`DspInsn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DspOp {
    /// SADD16 ... UHSAX: `rd = rn op rm` lane by lane.
    Parallel { kind: ParKind, op: ParOp },
    /// SEL: bytes from `rn` where GE is set, else from `rm`.
    Sel,
    /// QADD/QSUB/QDADD/QDSUB: `rd = sat(rm ± (double ? sat(2*rn) : rn))`.
    QAddSub { sub: bool, double: bool },
    /// SMLA<x><y> (`acc`) / SMUL<x><y>: 16 × 16 (+ ra); `n_top`/`m_top` pick halves.
    Smlaxy { n_top: bool, m_top: bool, acc: bool },
    /// SMLAW<y> (`acc`) / SMULW<y>: (32 × 16 + (ra << 16)) >> 16.
    Smlawy { m_top: bool, acc: bool },
    /// SMLAD/SMLSD (`acc`) and SMUAD/SMUSD: dual 16 × 16, sum or difference (+ ra); `swap`
    /// exchanges the halves of `rm` (the X forms).
    Dual { sub: bool, swap: bool, acc: bool },
    /// SMLALD/SMLSLD: dual 16 × 16 added to the 64-bit `ra:rd` (rdhi in `ra`, rdlo in `rd`).
    DualLong { sub: bool, swap: bool },
    /// SMLAL<x><y>: 16 × 16 added to the 64-bit `ra:rd`.
    Smlalxy { n_top: bool, m_top: bool },
    /// SMMLA/SMMLS (`acc`) / SMMUL: the top word of `(ra << 32) ± rn*rm`, rounded with `round`.
    Smmla { sub: bool, round: bool, acc: bool },
    /// UMAAL: `ra:rd = rn*rm + ra + rd` (unsigned).
    Umaal,
    /// USADA8 (`acc`) / USAD8: sum of the absolute byte differences (+ ra).
    Usad8 { acc: bool },
    /// SSAT16 / USAT16 to `imm` bits (signed: 1..=16, unsigned: 0..=15).
    Sat16 { signed: bool },
    /// PKHBT (`tb` false: low half of rn, high half of `rm LSL imm`) / PKHTB (`tb`: high
    /// half of rn, low half of `rm ASR imm`, imm 1..=32).
    Pkh { tb: bool },
    /// SXTAB/SXTAH/SXTAB16/UXT*, and SXTB16/UXTB16 when `rn` is 15; rotation in `imm`.
    ExtendAdd { size: XtSize, signed: bool },
}

/// A decoded DSP instruction: the operation and its operands. `ra` is the accumulator (or
/// RdHi of the long forms, with RdLo in `rd`); `imm` a shift, rotation or saturation width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DspInsn {
    /// The operation.
    pub op: DspOp,
    /// Destination (RdLo for the long forms).
    pub rd: u8,
    /// First operand.
    pub rn: u8,
    /// Second operand.
    pub rm: u8,
    /// Accumulator, or RdHi for the long forms; 15 where unused.
    pub ra: u8,
    /// Shift amount, rotation or saturation width.
    pub imm: u8,
}

// ---------------------------------------------------------------- decoding

#[inline]
fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}
#[inline]
fn bit(x: u32, n: u32) -> bool {
    (x >> n) & 1 != 0
}
fn reg(x: u32, lo: u32) -> u8 {
    bits(x, lo + 3, lo) as u8
}
fn bad(r: u8) -> bool {
    r == 13 || r == 15
}
/// SP or PC as a source register: UNPREDICTABLE, refused or read as the policy says
/// ([`Unpredictable::SpPcSource`]).
fn src(r: u8, c: &Ctx) -> bool {
    bad(r) && c.refuses(Unpredictable::SpPcSource)
}

/// The instruction, or UNDEFINED without the DSP extension or with an UNPREDICTABLE operand
/// (`unpredictable` true).
fn dsp(x: u32, c: &Ctx, unpredictable: bool, insn: DspInsn) -> Op {
    if !c.features.dsp || unpredictable {
        Op::Undefined { raw: x }
    } else {
        Op::Dsp(insn)
    }
}

fn insn(op: DspOp, rd: u8, rn: u8, rm: u8, ra: u8, imm: u8) -> DspInsn {
    DspInsn {
        op,
        rd,
        rn,
        rm,
        ra,
        imm,
    }
}

/// Parallel add/subtract, signed and unsigned (A5.3.13, A5.3.14):
/// `111110101ooonnnn1111dddd0ukkmmmm`.
pub(crate) fn t32_parallel(x: u32, c: &Ctx) -> Op {
    let (rn, rd, rm) = (reg(x, 16), reg(x, 8), reg(x, 0));
    let op = match bits(x, 22, 20) {
        0b000 => ParOp::Add8,
        0b001 => ParOp::Add16,
        0b010 => ParOp::Asx,
        0b100 => ParOp::Sub8,
        0b101 => ParOp::Sub16,
        0b110 => ParOp::Sax,
        _ => return Op::Undefined { raw: x },
    };
    let kind = match (bit(x, 6), bits(x, 5, 4)) {
        (false, 0) => ParKind::S,
        (false, 1) => ParKind::Q,
        (false, 2) => ParKind::Sh,
        (true, 0) => ParKind::U,
        (true, 1) => ParKind::Uq,
        (true, 2) => ParKind::Uh,
        _ => return Op::Undefined { raw: x },
    };
    let d = insn(DspOp::Parallel { kind, op }, rd, rn, rm, 15, 0);
    dsp(x, c, bad(rd) || src(rn, c) || src(rm, c), d)
}

/// SEL T1: `111110101010nnnn1111dddd1000mmmm`.
pub(crate) fn t32_sel(x: u32, c: &Ctx) -> Op {
    let (rn, rd, rm) = (reg(x, 16), reg(x, 8), reg(x, 0));
    dsp(
        x,
        c,
        bad(rd) || src(rn, c) || src(rm, c),
        insn(DspOp::Sel, rd, rn, rm, 15, 0),
    )
}

/// QADD/QDADD/QSUB/QDSUB T1: `111110101000nnnn1111dddd10sommmm`.
pub(crate) fn t32_qaddsub(x: u32, c: &Ctx) -> Op {
    let (rn, rd, rm) = (reg(x, 16), reg(x, 8), reg(x, 0));
    let op = DspOp::QAddSub {
        sub: bit(x, 5),
        double: bit(x, 4),
    };
    dsp(
        x,
        c,
        bad(rd) || src(rn, c) || src(rm, c),
        insn(op, rd, rn, rm, 15, 0),
    )
}

/// The 32-bit multiplies with an accumulator that may be omitted (A5.3.16):
/// `111110110ooonnnnaaaadddd00NMmmmm`, op1 001..111.
pub(crate) fn t32_mul16(x: u32, c: &Ctx) -> Op {
    let (rn, ra, rd, rm) = (reg(x, 16), reg(x, 12), reg(x, 8), reg(x, 0));
    let (n, m) = (bit(x, 5), bit(x, 4));
    let acc = ra != 15;
    let op = match (bits(x, 22, 20), n) {
        (0b001, _) => DspOp::Smlaxy {
            n_top: n,
            m_top: m,
            acc,
        },
        (0b010, false) => DspOp::Dual {
            sub: false,
            swap: m,
            acc,
        },
        (0b011, false) => DspOp::Smlawy { m_top: m, acc },
        (0b100, false) => DspOp::Dual {
            sub: true,
            swap: m,
            acc,
        },
        (0b101, false) => DspOp::Smmla {
            sub: false,
            round: m,
            acc,
        },
        // SMMLS has no multiply-only form: Ra = 15 is UNPREDICTABLE.
        (0b110, false) => DspOp::Smmla {
            sub: true,
            round: m,
            acc: true,
        },
        (0b111, false) if !m => DspOp::Usad8 { acc },
        _ => return Op::Undefined { raw: x },
    };
    let unpredictable = bad(rd)
        || src(rn, c)
        || src(rm, c)
        || (ra == 13 && c.refuses(Unpredictable::SpPcSource))
        || (ra == 15 && !acc_optional(op));
    dsp(x, c, unpredictable, insn(op, rd, rn, rm, ra, 0))
}

/// False for the operations whose Ra must be a register (Ra = 15 is UNPREDICTABLE).
fn acc_optional(op: DspOp) -> bool {
    !matches!(op, DspOp::Smmla { sub: true, .. })
}

/// The DSP long multiplies (A5.3.17): SMLAL<x><y>, SMLALD(X), SMLSLD(X), UMAAL;
/// `111110111ooonnnnllllhhhhppppmmmm`.
pub(crate) fn t32_mul_long(x: u32, c: &Ctx) -> Op {
    let (rn, rdlo, rdhi, rm) = (reg(x, 16), reg(x, 12), reg(x, 8), reg(x, 0));
    let op2 = bits(x, 7, 4);
    let op = match (bits(x, 22, 20), op2 >> 2, op2 >> 1) {
        (0b100, 0b10, _) => DspOp::Smlalxy {
            n_top: bit(x, 5),
            m_top: bit(x, 4),
        },
        (0b100, _, 0b110) => DspOp::DualLong {
            sub: false,
            swap: bit(x, 4),
        },
        (0b101, _, 0b110) => DspOp::DualLong {
            sub: true,
            swap: bit(x, 4),
        },
        (0b110, _, _) if op2 == 0b0110 => DspOp::Umaal,
        _ => return Op::Undefined { raw: x },
    };
    let unpredictable = bad(rdlo) || bad(rdhi) || src(rn, c) || src(rm, c) || rdhi == rdlo;
    dsp(x, c, unpredictable, insn(op, rdlo, rn, rm, rdhi, 0))
}

/// SSAT16/USAT16 T1: `11110011u010nnnn0000dddd0000iiii`.
pub(crate) fn t32_sat16(x: u32, c: &Ctx) -> Op {
    let (rn, rd) = (reg(x, 16), reg(x, 8));
    let signed = !bit(x, 23);
    let sat = bits(x, 3, 0) as u8 + u8::from(signed);
    dsp(
        x,
        c,
        bad(rd) || src(rn, c),
        insn(DspOp::Sat16 { signed }, rd, rn, 15, 15, sat),
    )
}

/// PKHBT/PKHTB T1: `111010101100nnnn0iiiddddiit0mmmm`.
pub(crate) fn t32_pkh(x: u32, c: &Ctx) -> Op {
    let (rn, rd, rm) = (reg(x, 16), reg(x, 8), reg(x, 0));
    let tb = bit(x, 5);
    let (_, amt) = decode_imm_shift(
        if tb { 2 } else { 0 },
        (bits(x, 14, 12) << 2) | bits(x, 7, 6),
    );
    dsp(
        x,
        c,
        bad(rd) || src(rn, c) || src(rm, c),
        insn(DspOp::Pkh { tb }, rd, rn, rm, 15, amt),
    )
}

/// SXTAB/SXTAH/SXTAB16/UXTAB/UXTAH/UXTAB16 T1 and SXTB16/UXTB16 T1 (Rn = 15):
/// `111110100ooonnnn1111dddd10rrmmmm`.
pub(crate) fn t32_extend_add(x: u32, c: &Ctx) -> Op {
    let (rn, rd, rm) = (reg(x, 16), reg(x, 8), reg(x, 0));
    let (size, signed) = match bits(x, 22, 20) {
        0b000 => (XtSize::H, true),
        0b001 => (XtSize::H, false),
        0b010 => (XtSize::B16, true),
        0b011 => (XtSize::B16, false),
        0b100 => (XtSize::B, true),
        0b101 => (XtSize::B, false),
        _ => return Op::Undefined { raw: x },
    };
    // Rn = 15 of the byte/halfword forms is SXTB/SXTH... (base ARMv7-M, their own entries).
    let rot = (bits(x, 5, 4) * 8) as u8;
    dsp(
        x,
        c,
        bad(rd) || (rn == 13 && c.refuses(Unpredictable::SpPcSource)) || src(rm, c),
        insn(DspOp::ExtendAdd { size, signed }, rd, rn, rm, 15, rot),
    )
}

// ---------------------------------------------------------------- disassembly

fn r(n: u8) -> &'static str {
    REG_NAMES[(n & 15) as usize]
}

/// Mnemonic and operands of a DSP instruction, with a condition suffix `c` ("" = always).
pub(crate) fn disasm(d: &DspInsn, c: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (rd, rn, rm, ra) = (r(d.rd), r(d.rn), r(d.rm), r(d.ra));
    let bt = |top: bool| if top { "t" } else { "b" };
    let x = |swap: bool| if swap { "x" } else { "" };
    match d.op {
        DspOp::Parallel { kind, op } => {
            let k = match kind {
                ParKind::S => "s",
                ParKind::Q => "q",
                ParKind::Sh => "sh",
                ParKind::U => "u",
                ParKind::Uq => "uq",
                ParKind::Uh => "uh",
            };
            let o = match op {
                ParOp::Add8 => "add8",
                ParOp::Add16 => "add16",
                ParOp::Asx => "asx",
                ParOp::Sax => "sax",
                ParOp::Sub8 => "sub8",
                ParOp::Sub16 => "sub16",
            };
            write!(f, "{k}{o}{c} {rd}, {rn}, {rm}")
        }
        DspOp::Sel => write!(f, "sel{c} {rd}, {rn}, {rm}"),
        DspOp::QAddSub { sub, double } => write!(
            f,
            "q{}{}{c} {rd}, {rm}, {rn}",
            if double { "d" } else { "" },
            if sub { "sub" } else { "add" }
        ),
        DspOp::Smlaxy { n_top, m_top, acc } => {
            if acc {
                write!(
                    f,
                    "smla{}{}{c} {rd}, {rn}, {rm}, {ra}",
                    bt(n_top),
                    bt(m_top)
                )
            } else {
                write!(f, "smul{}{}{c} {rd}, {rn}, {rm}", bt(n_top), bt(m_top))
            }
        }
        DspOp::Smlawy { m_top, acc } => {
            if acc {
                write!(f, "smlaw{}{c} {rd}, {rn}, {rm}, {ra}", bt(m_top))
            } else {
                write!(f, "smulw{}{c} {rd}, {rn}, {rm}", bt(m_top))
            }
        }
        DspOp::Dual { sub, swap, acc } => {
            let s = if sub { "s" } else { "a" };
            if acc {
                write!(f, "sml{s}d{}{c} {rd}, {rn}, {rm}, {ra}", x(swap))
            } else {
                write!(f, "smu{s}d{}{c} {rd}, {rn}, {rm}", x(swap))
            }
        }
        DspOp::DualLong { sub, swap } => write!(
            f,
            "sml{}ld{}{c} {rd}, {ra}, {rn}, {rm}",
            if sub { "s" } else { "a" },
            x(swap)
        ),
        DspOp::Smlalxy { n_top, m_top } => write!(
            f,
            "smlal{}{}{c} {rd}, {ra}, {rn}, {rm}",
            bt(n_top),
            bt(m_top)
        ),
        DspOp::Smmla { sub, round, acc } => {
            let rr = if round { "r" } else { "" };
            match (acc, sub) {
                (false, _) => write!(f, "smmul{rr}{c} {rd}, {rn}, {rm}"),
                (true, false) => write!(f, "smmla{rr}{c} {rd}, {rn}, {rm}, {ra}"),
                (true, true) => write!(f, "smmls{rr}{c} {rd}, {rn}, {rm}, {ra}"),
            }
        }
        DspOp::Umaal => write!(f, "umaal{c} {rd}, {ra}, {rn}, {rm}"),
        DspOp::Usad8 { acc } => {
            if acc {
                write!(f, "usada8{c} {rd}, {rn}, {rm}, {ra}")
            } else {
                write!(f, "usad8{c} {rd}, {rn}, {rm}")
            }
        }
        DspOp::Sat16 { signed } => write!(
            f,
            "{}sat16{c} {rd}, #{}, {rn}",
            if signed { "s" } else { "u" },
            d.imm
        ),
        DspOp::Pkh { tb } => match (tb, d.imm) {
            (false, 0) => write!(f, "pkhbt{c} {rd}, {rn}, {rm}"),
            (false, a) => write!(f, "pkhbt{c} {rd}, {rn}, {rm}, lsl #{a}"),
            (true, a) => write!(f, "pkhtb{c} {rd}, {rn}, {rm}, asr #{a}"),
        },
        DspOp::ExtendAdd { size, signed } => {
            let s = if signed { "s" } else { "u" };
            let z = match size {
                XtSize::B => "b",
                XtSize::H => "h",
                XtSize::B16 => "b16",
            };
            let rot = if d.imm == 0 {
                String::new()
            } else {
                format!(", ror #{}", d.imm)
            };
            if d.rn == 15 {
                write!(f, "{s}xt{z}{c} {rd}, {rm}{rot}")
            } else {
                write!(f, "{s}xta{z}{c} {rd}, {rn}, {rm}{rot}")
            }
        }
    }
}

// ---------------------------------------------------------------- execution

/// `SInt` of a halfword lane (`top` selects bits 31..16).
#[inline]
fn half(v: u32, top: bool) -> i32 {
    (if top { v >> 16 } else { v }) as u16 as i16 as i32
}

/// `UInt` of a halfword lane.
#[inline]
fn uhalf(v: u32, top: bool) -> i32 {
    (if top { v >> 16 } else { v & 0xffff }) as i32
}

/// Byte lane `i`, signed or unsigned.
#[inline]
fn byte(v: u32, i: u32, signed: bool) -> i32 {
    let b = (v >> (8 * i)) as u8;
    if signed {
        b as i8 as i32
    } else {
        i32::from(b)
    }
}

/// `SignedSat(i, n)` / `UnsignedSat(i, n)` without the saturation report.
fn sat(i: i64, n: u32, signed: bool) -> u32 {
    if signed {
        signed_sat_q(i, n).0
    } else {
        unsigned_sat_q(i, n).0
    }
}

/// A parallel add/subtract: the result and, for the S and U forms, the new GE bits.
fn parallel(kind: ParKind, op: ParOp, n: u32, m: u32) -> (u32, Option<u8>) {
    let signed = matches!(kind, ParKind::S | ParKind::Q | ParKind::Sh);
    // The lane results as exact integers, with the lane width.
    let (lanes, width): ([i32; 4], u32) = match op {
        ParOp::Add8 | ParOp::Sub8 => {
            let mut l = [0; 4];
            for (i, v) in l.iter_mut().enumerate() {
                let (a, b) = (byte(n, i as u32, signed), byte(m, i as u32, signed));
                *v = if op == ParOp::Add8 { a + b } else { a - b };
            }
            (l, 8)
        }
        _ => {
            let h = |v: u32, top: bool| if signed { half(v, top) } else { uhalf(v, top) };
            let (lo, hi) = match op {
                ParOp::Add16 => (h(n, false) + h(m, false), h(n, true) + h(m, true)),
                ParOp::Sub16 => (h(n, false) - h(m, false), h(n, true) - h(m, true)),
                ParOp::Asx => (h(n, false) - h(m, true), h(n, true) + h(m, false)),
                _ => (h(n, false) + h(m, true), h(n, true) - h(m, false)), // Sax
            };
            ([lo, hi, 0, 0], 16)
        }
    };
    let count = if width == 8 { 4 } else { 2 };
    let mask = (1u32 << width) - 1;
    let mut res = 0u32;
    let mut ge = 0u8;
    for (i, &v) in lanes.iter().take(count).enumerate() {
        let lane = match kind {
            ParKind::S | ParKind::U => v as u32,
            ParKind::Q | ParKind::Uq => sat(i64::from(v), width, signed),
            ParKind::Sh | ParKind::Uh => (v >> 1) as u32,
        };
        res |= (lane & mask) << (width * i as u32);
        // GE: signed lanes >= 0; unsigned sums >= 2^width (a carry), differences >= 0.
        let is_add = match op {
            ParOp::Add8 | ParOp::Add16 => true,
            ParOp::Sub8 | ParOp::Sub16 => false,
            ParOp::Asx => i == 1,
            ParOp::Sax => i == 0,
        };
        let set = if signed || !is_add {
            v >= 0
        } else {
            v >= 1 << width
        };
        if set {
            ge |= if width == 8 { 1 << i } else { 0b11 << (2 * i) };
        }
    }
    let ge = matches!(kind, ParKind::S | ParKind::U).then_some(ge);
    (res, ge)
}

/// Execute a DSP instruction (ARMv7-M ARM A7.7 pseudocode).
pub(crate) fn exec(s: &mut CpuState, d: &DspInsn) {
    let n = s.reg(d.rn);
    let m = s.reg(d.rm);
    let a = s.reg(d.ra);
    let result = match d.op {
        DspOp::Parallel { kind, op } => {
            let (res, ge) = parallel(kind, op, n, m);
            if let Some(ge) = ge {
                s.ge = ge;
            }
            res
        }
        DspOp::Sel => {
            let mut res = 0;
            for i in 0..4 {
                let src = if s.ge & (1 << i) != 0 { n } else { m };
                res |= src & (0xff << (8 * i));
            }
            res
        }
        DspOp::QAddSub { sub, double } => {
            let (op2, sat1) = if double {
                signed_sat_q(2 * i64::from(n as i32), 32)
            } else {
                (n, false)
            };
            let (mi, oi) = (i64::from(m as i32), i64::from(op2 as i32));
            let (res, sat2) = signed_sat_q(if sub { mi - oi } else { mi + oi }, 32);
            if sat1 || sat2 {
                s.q = true;
            }
            res
        }
        DspOp::Smlaxy { n_top, m_top, acc } => {
            let p = i64::from(half(n, n_top)) * i64::from(half(m, m_top));
            let res = if acc { p + i64::from(a as i32) } else { p };
            if res != i64::from(res as i32) {
                s.q = true;
            }
            res as u32
        }
        DspOp::Smlawy { m_top, acc } => {
            let p = i64::from(n as i32) * i64::from(half(m, m_top));
            let res = if acc {
                p + (i64::from(a as i32) << 16)
            } else {
                p
            };
            let rd = (res >> 16) as u32;
            if (res >> 16) != i64::from(rd as i32) {
                s.q = true;
            }
            rd
        }
        DspOp::Dual { sub, swap, acc } => {
            let op2 = if swap { m.rotate_right(16) } else { m };
            let p1 = i64::from(half(n, false)) * i64::from(half(op2, false));
            let p2 = i64::from(half(n, true)) * i64::from(half(op2, true));
            let mut res = if sub { p1 - p2 } else { p1 + p2 };
            if acc {
                res += i64::from(a as i32);
            }
            if res != i64::from(res as i32) {
                s.q = true;
            }
            res as u32
        }
        DspOp::DualLong { sub, swap } => {
            let op2 = if swap { m.rotate_right(16) } else { m };
            let p1 = i64::from(half(n, false)) * i64::from(half(op2, false));
            let p2 = i64::from(half(n, true)) * i64::from(half(op2, true));
            let acc = (u64::from(a) << 32 | u64::from(s.reg(d.rd))) as i64;
            let res = acc.wrapping_add(if sub { p1 - p2 } else { p1 + p2 });
            s.set_reg(d.ra, (res >> 32) as u32);
            res as u32
        }
        DspOp::Smlalxy { n_top, m_top } => {
            let p = i64::from(half(n, n_top)) * i64::from(half(m, m_top));
            let acc = (u64::from(a) << 32 | u64::from(s.reg(d.rd))) as i64;
            let res = acc.wrapping_add(p);
            s.set_reg(d.ra, (res >> 32) as u32);
            res as u32
        }
        DspOp::Smmla { sub, round, acc } => {
            let p = i64::from(n as i32).wrapping_mul(i64::from(m as i32));
            let base = if acc { i64::from(a as i32) << 32 } else { 0 };
            let mut res = if sub {
                base.wrapping_sub(p)
            } else {
                base.wrapping_add(p)
            };
            if round {
                res = res.wrapping_add(0x8000_0000);
            }
            (res >> 32) as u32
        }
        DspOp::Umaal => {
            let res = u64::from(n) * u64::from(m) + u64::from(a) + u64::from(s.reg(d.rd));
            s.set_reg(d.ra, (res >> 32) as u32);
            res as u32
        }
        DspOp::Usad8 { acc } => {
            let sum: u32 = (0..4)
                .map(|i| (byte(n, i, false) - byte(m, i, false)).unsigned_abs())
                .sum();
            if acc {
                a.wrapping_add(sum)
            } else {
                sum
            }
        }
        DspOp::Sat16 { signed } => {
            let width = u32::from(d.imm);
            let (lo, sat_lo) = if signed {
                signed_sat_q(i64::from(half(n, false)), width)
            } else {
                unsigned_sat_q(i64::from(half(n, false)), width)
            };
            let (hi, sat_hi) = if signed {
                signed_sat_q(i64::from(half(n, true)), width)
            } else {
                unsigned_sat_q(i64::from(half(n, true)), width)
            };
            if sat_lo || sat_hi {
                s.q = true;
            }
            (lo & 0xffff) | (hi << 16)
        }
        DspOp::Pkh { tb } => {
            if tb {
                let op2 = shift(m, Shift::Asr, u32::from(d.imm), s.c);
                (n & 0xffff_0000) | (op2 & 0xffff)
            } else {
                let op2 = shift(m, Shift::Lsl, u32::from(d.imm), s.c);
                (op2 & 0xffff_0000) | (n & 0xffff)
            }
        }
        DspOp::ExtendAdd { size, signed } => {
            let rot = m.rotate_right(u32::from(d.imm));
            let base = if d.rn == 15 { 0 } else { n };
            match size {
                XtSize::B => {
                    let v = if signed {
                        rot as u8 as i8 as i32 as u32
                    } else {
                        u32::from(rot as u8)
                    };
                    base.wrapping_add(v)
                }
                XtSize::H => {
                    let v = if signed {
                        rot as u16 as i16 as i32 as u32
                    } else {
                        u32::from(rot as u16)
                    };
                    base.wrapping_add(v)
                }
                XtSize::B16 => {
                    let ext = |b: u32| -> u32 {
                        if signed {
                            u32::from(b as u8 as i8 as i16 as u16)
                        } else {
                            b & 0xff
                        }
                    };
                    let lo = (base as u16).wrapping_add(ext(rot) as u16);
                    let hi = ((base >> 16) as u16).wrapping_add(ext(rot >> 16) as u16);
                    u32::from(lo) | (u32::from(hi) << 16)
                }
            }
        }
    };
    s.set_reg(d.rd, result);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, lookup32, Ext, T32};
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

    /// Encodings and their disassembly from GNU as/objdump (`-mcpu=cortex-m4 -mthumb`).
    #[test]
    fn disassembly_matches_objdump() {
        let cases = [
            (0xfa92f103, "sadd16 r1, r2, r3"),
            (0xfaa2f103, "sasx r1, r2, r3"),
            (0xfae2f103, "ssax r1, r2, r3"),
            (0xfad2f103, "ssub16 r1, r2, r3"),
            (0xfa82f103, "sadd8 r1, r2, r3"),
            (0xfac2f103, "ssub8 r1, r2, r3"),
            (0xfa92f113, "qadd16 r1, r2, r3"),
            (0xfa92f123, "shadd16 r1, r2, r3"),
            (0xfa92f143, "uadd16 r1, r2, r3"),
            (0xfa92f153, "uqadd16 r1, r2, r3"),
            (0xfa92f163, "uhadd16 r1, r2, r3"),
            (0xfaa2f183, "sel r1, r2, r3"),
            (0xfa83f182, "qadd r1, r2, r3"),
            (0xfa83f192, "qdadd r1, r2, r3"),
            (0xfa83f1a2, "qsub r1, r2, r3"),
            (0xfa83f1b2, "qdsub r1, r2, r3"),
            (0xfb124103, "smlabb r1, r2, r3, r4"),
            (0xfb124123, "smlatb r1, r2, r3, r4"),
            (0xfb124113, "smlabt r1, r2, r3, r4"),
            (0xfb12f103, "smulbb r1, r2, r3"),
            (0xfb224103, "smlad r1, r2, r3, r4"),
            (0xfb224113, "smladx r1, r2, r3, r4"),
            (0xfb22f103, "smuad r1, r2, r3"),
            (0xfb324103, "smlawb r1, r2, r3, r4"),
            (0xfb324113, "smlawt r1, r2, r3, r4"),
            (0xfb32f113, "smulwt r1, r2, r3"),
            (0xfb424103, "smlsd r1, r2, r3, r4"),
            (0xfb42f113, "smusdx r1, r2, r3"),
            (0xfb524103, "smmla r1, r2, r3, r4"),
            (0xfb524113, "smmlar r1, r2, r3, r4"),
            (0xfb52f103, "smmul r1, r2, r3"),
            (0xfb624103, "smmls r1, r2, r3, r4"),
            (0xfb624113, "smmlsr r1, r2, r3, r4"),
            (0xfb724103, "usada8 r1, r2, r3, r4"),
            (0xfb72f103, "usad8 r1, r2, r3"),
            (0xfbc31284, "smlalbb r1, r2, r3, r4"),
            (0xfbc312a4, "smlaltb r1, r2, r3, r4"),
            (0xfbc312c4, "smlald r1, r2, r3, r4"),
            (0xfbc312d4, "smlaldx r1, r2, r3, r4"),
            (0xfbd312c4, "smlsld r1, r2, r3, r4"),
            (0xfbd312d4, "smlsldx r1, r2, r3, r4"),
            (0xfbe31264, "umaal r1, r2, r3, r4"),
            (0xf322010f, "ssat16 r1, #16, r2"),
            (0xf3220100, "ssat16 r1, #1, r2"),
            (0xf3a2010f, "usat16 r1, #15, r2"),
            (0xf3a20100, "usat16 r1, #0, r2"),
            (0xeac21143, "pkhbt r1, r2, r3, lsl #5"),
            (0xeac211e3, "pkhtb r1, r2, r3, asr #7"),
            (0xeac20123, "pkhtb r1, r2, r3, asr #32"),
            (0xfa02f193, "sxtah r1, r2, r3, ror #8"),
            (0xfa12f183, "uxtah r1, r2, r3"),
            (0xfa22f1a3, "sxtab16 r1, r2, r3, ror #16"),
            (0xfa32f183, "uxtab16 r1, r2, r3"),
            (0xfa2ff1b3, "sxtb16 r1, r3, ror #24"),
            (0xfa3ff183, "uxtb16 r1, r3"),
            (0xfa42f183, "sxtab r1, r2, r3"),
            (0xfa52f183, "uxtab r1, r2, r3"),
            (0xfac2f253, "uqsub8 r2, r2, r3"),
        ];
        for (raw, text) in cases {
            let op = decode(raw, 4, &ctx(Features::CORTEX_M4F));
            assert_eq!(
                Disasm { op: &op, cond: 14 }.to_string(),
                text,
                "{raw:#010x}"
            );
            let m3 = decode(raw, 4, &ctx(Features::CORTEX_M3));
            assert!(matches!(m3, Op::Undefined { .. }), "{text} on a Cortex-M3");
        }
    }

    /// xorshift: deterministic, dependency-free.
    fn rng(seed: &mut u64) -> u32 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 16) as u32
    }

    /// Every encoding of a DSP table entry is UNDEFINED on a Cortex-M3; on a Cortex-M4 each
    /// entry decodes to DSP operations (for register choices that are not UNPREDICTABLE).
    #[test]
    fn dsp_entries_need_the_extension() {
        let mut seed = 7u64;
        let mut entries = 0;
        for e in T32.iter().filter(|e| e.ext == Ext::Dsp) {
            entries += 1;
            let mut defined = 0;
            for _ in 0..2000 {
                let raw = ((rng(&mut seed) | rng(&mut seed) << 16) & !e.mask) | e.value;
                if !lookup32(raw).is_some_and(|f| std::ptr::eq(f, e)) {
                    continue; // a more specific (base) entry, e.g. SXTB for Rn = 15
                }
                let m3 = decode(raw, 4, &ctx(Features::CORTEX_M3));
                assert!(
                    matches!(m3, Op::Undefined { .. }),
                    "{raw:#010x} ({})",
                    e.name
                );
                if let Op::Dsp(_) = decode(raw, 4, &ctx(Features::CORTEX_M4F)) {
                    defined += 1;
                }
            }
            assert!(defined > 100, "{}: {defined} of 2000 defined", e.name);
        }
        assert_eq!(entries, 18);
    }

    fn run(op: DspOp, n: u32, m: u32, a: u32, imm: u8) -> (u32, CpuState) {
        let mut s = CpuState::default();
        s.r[1] = n;
        s.r[2] = m;
        s.r[3] = a;
        s.r[0] = 0xdead_beef;
        exec(&mut s, &insn(op, 0, 1, 2, 3, imm));
        (s.r[0], s)
    }

    fn par(kind: ParKind, op: ParOp) -> DspOp {
        DspOp::Parallel { kind, op }
    }

    // Expected values below are worked out by hand from the A7.7 pseudocode.

    #[test]
    fn parallel_add_sets_ge_per_lane() {
        // SADD16: 0x7fff + 1 = 0x8000 (wraps, lane sum 32768 >= 0: GE[1:0] set);
        // 0x8000 + 0xffff = -32769 -> 0x7fff, negative: GE[3:2] clear.
        let (r, s) = run(
            par(ParKind::S, ParOp::Add16),
            0x8000_7fff,
            0xffff_0001,
            0,
            0,
        );
        assert_eq!((r, s.ge), (0x7fff_8000, 0b0011));
        // UADD8: carries out of lanes 0 and 3 set GE[0] and GE[3].
        let (r, s) = run(par(ParKind::U, ParOp::Add8), 0xff01_02ff, 0x0101_0101, 0, 0);
        assert_eq!((r, s.ge), (0x0002_0300, 0b1001));
        // USUB16: 1 - 2 borrows (GE clear), 5 - 5 = 0 (GE set).
        let (r, s) = run(
            par(ParKind::U, ParOp::Sub16),
            0x0005_0001,
            0x0005_0002,
            0,
            0,
        );
        assert_eq!((r, s.ge), (0x0000_ffff, 0b1100));
    }

    #[test]
    fn saturating_and_halving_lanes_leave_q_and_ge() {
        let (r, s) = run(
            par(ParKind::Q, ParOp::Add16),
            0x8000_7fff,
            0x8000_0001,
            0,
            0,
        );
        assert_eq!((r, s.q, s.ge), (0x8000_7fff, false, 0));
        let (r, _) = run(
            par(ParKind::Uq, ParOp::Sub8),
            0x0510_ff00,
            0x0620_0101,
            0,
            0,
        );
        assert_eq!(r, 0x0000_fe00);
        // SHASX: low = (1 - (-2)) / 2 = 1, high = (-3 + 4) >> 1 = 0
        let (r, _) = run(par(ParKind::Sh, ParOp::Asx), 0xfffd_0001, 0xfffe_0004, 0, 0);
        assert_eq!(r, 0x0000_0001);
        // UHADD16: (0xffff + 0xffff) >> 1 = 0xffff
        let (r, _) = run(
            par(ParKind::Uh, ParOp::Add16),
            0xffff_0000,
            0xffff_0000,
            0,
            0,
        );
        assert_eq!(r, 0xffff_0000);
    }

    #[test]
    fn sel_uses_ge() {
        let mut s = CpuState {
            ge: 0b0101,
            ..Default::default()
        };
        s.r[1] = 0x1122_3344;
        s.r[2] = 0xaabb_ccdd;
        exec(&mut s, &insn(DspOp::Sel, 0, 1, 2, 15, 0));
        assert_eq!(s.r[0], 0xaa22_cc44);
    }

    #[test]
    fn q_flag_rules() {
        // QDADD: doubling saturates -> Q even though the final sum does not.
        let qd = DspOp::QAddSub {
            sub: false,
            double: true,
        };
        let (r, s) = run(qd, 0x4000_0000, 0xffff_ffff, 0, 0);
        assert_eq!((r, s.q), (0x7fff_fffe, true));
        // SMLABB: 0x8000 * 0x8000 + 0x7fffffff overflows 32 bits -> Q, result wraps.
        let mla = DspOp::Smlaxy {
            n_top: false,
            m_top: false,
            acc: true,
        };
        let (r, s) = run(mla, 0x8000, 0x8000, 0x7fff_ffff, 0);
        assert_eq!((r, s.q), (0xbfff_ffff, true));
        // SMUAD: 0x8000*0x8000 twice = 2^31 does not fit -> Q.
        let uad = DspOp::Dual {
            sub: false,
            swap: false,
            acc: false,
        };
        let (r, s) = run(uad, 0x8000_8000, 0x8000_8000, 0, 0);
        assert_eq!((r, s.q), (0x8000_0000, true));
        // SMLAWB: (0x7fffffff * 0x7fff + (0x7fffffff << 16)) >> 16 overflows -> Q.
        let law = DspOp::Smlawy {
            m_top: false,
            acc: true,
        };
        let (_, s) = run(law, 0x7fff_ffff, 0x7fff, 0x7fff_ffff, 0);
        assert!(s.q);
        // SSAT16 #8 of (0x0100, 0xff00): high lane -256 -> -128, low 256 -> 127.
        let (r, s) = run(DspOp::Sat16 { signed: true }, 0xff00_0100, 0, 0, 8);
        assert_eq!((r, s.q), (0xff80_007f, true));
        let (r, s) = run(DspOp::Sat16 { signed: false }, 0xff00_0100, 0, 0, 8);
        assert_eq!((r, s.q), (0x0000_00ff, true));
    }

    #[test]
    fn most_significant_word_multiplies_round() {
        let mmul = |round| DspOp::Smmla {
            sub: false,
            round,
            acc: false,
        };
        // 0x40000000 * 3 = 0xC0000000: top word 0, rounded 1.
        assert_eq!(run(mmul(false), 0x4000_0000, 3, 0, 0).0, 0);
        assert_eq!(run(mmul(true), 0x4000_0000, 3, 0, 0).0, 1);
        // SMMLS: (1 << 32) - 1*1 -> top word 0.
        let mls = DspOp::Smmla {
            sub: true,
            round: false,
            acc: true,
        };
        assert_eq!(run(mls, 1, 1, 1, 0).0, 0);
    }

    #[test]
    fn long_forms_and_umaal() {
        let mut s = CpuState::default();
        s.r[0] = 0xffff_ffff; // RdLo
        s.r[3] = 0xffff_ffff; // RdHi
        s.r[1] = 0xffff_ffff;
        s.r[2] = 0xffff_ffff;
        exec(&mut s, &insn(DspOp::Umaal, 0, 1, 2, 3, 0));
        // (2^32-1)^2 + 2*(2^32-1) = 2^64 - 1
        assert_eq!((s.r[0], s.r[3]), (0xffff_ffff, 0xffff_ffff));
        let mut s = CpuState::default();
        s.r[1] = 0x0002_0003;
        s.r[2] = 0x0004_0005;
        s.r[0] = 10;
        s.r[3] = 0;
        let sld = DspOp::DualLong {
            sub: true,
            swap: true,
        };
        exec(&mut s, &insn(sld, 0, 1, 2, 3, 0));
        // 3*4 - 2*5 + 10 = 12
        assert_eq!((s.r[0], s.r[3]), (12, 0));
    }

    #[test]
    fn extend_add_and_pack() {
        let sxtab16 = DspOp::ExtendAdd {
            size: XtSize::B16,
            signed: true,
        };
        // rn = 0x0001_0001, rm bytes 0x80 (lane 0) and 0x7f (lane 2): 1-128, 1+127
        assert_eq!(run(sxtab16, 0x0001_0001, 0x007f_0080, 0, 0).0, 0x0080_ff81);
        let pkhtb = DspOp::Pkh { tb: true };
        assert_eq!(run(pkhtb, 0x1234_5678, 0x8000_0000, 0, 32).0, 0x1234_ffff);
        let pkhbt = DspOp::Pkh { tb: false };
        assert_eq!(run(pkhbt, 0x1234_5678, 0x0000_abcd, 0, 16).0, 0xabcd_5678);
        let usada8 = DspOp::Usad8 { acc: true };
        assert_eq!(
            run(usada8, 0x00ff_1005, 0xff00_0510, 100, 0).0,
            100 + 255 + 255 + 11 + 11
        );
    }
}
