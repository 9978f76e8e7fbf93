//! Lowering of decoded operations into the run loop's specialised forms.
//!
//! The decoder's [`Op`] is general: an `AluImm` carries its ALU operation, whether it sets
//! flags, and a destination that may be PC; executing it costs a dispatch on the operation,
//! then branches on each of those properties. When a block is decoded, every instruction is
//! also *lowered* to a [`Fast`] form: the common cases (moves, adds, compares, loads and
//! stores with an immediate or register offset, branches) get a variant of their own with
//! every such property decided, so the run loop executes them with one dispatch and no
//! further tests. Anything else lowers to [`Fast::Slow`] and runs through the general
//! executor (`Exec::exec`), which stays the one definition of every instruction's semantics.
//!
//! Invariants that make a fast form equivalent to its `Op`:
//! - no fast form reads or writes R15: operands that are PC (which reads as the instruction's
//!   address + 4) and destinations that are PC (a branch) stay `Slow`, so the run loop need
//!   not keep R15 current inside a block (it sets it before every `Slow` instruction);
//! - a fast form sets flags exactly as the `Op` does (`s`), and only forms whose shifter
//!   carry is "unchanged" are lowered with flag setting;
//! - memory forms call the same `Exec::load`/`Exec::store` as the general path (alignment
//!   traps, bus errors, code-page tracking), after telling the bus the instruction count.

use crate::alu::Shift;
use crate::ops::{AluOp, Hint, MemKind, Op};

/// A lowered operation (see the module documentation). Register fields are 0..=14.
/// Eight bytes: blocks keep an array of them beside the full decoded instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fast {
    /// Run the `Op` through the general executor.
    Slow,
    /// `rd = imm`
    MovImm { rd: u8, imm: u32 },
    /// `rd = rm`
    MovReg { rd: u8, rm: u8 },
    /// `rd = imm`, setting N and Z.
    MovsImm { rd: u8, imm: u32 },
    /// `rd = rm`, setting N and Z.
    MovsReg { rd: u8, rm: u8 },
    /// `rd = rn + imm`
    AddImm { rd: u8, rn: u8, imm: u32 },
    /// `rd = rn + rm`
    AddReg { rd: u8, rn: u8, rm: u8 },
    /// `rd = rn + (rm << amt)`
    AddRegLsl { rd: u8, rn: u8, rm: u8, amt: u8 },
    /// `rd = rn - rm`
    SubReg { rd: u8, rn: u8, rm: u8 },
    /// `rd = rn + imm`, setting NZCV (SUBS with an immediate is `imm = -imm` with carry
    /// handled as AddWithCarry(rn, NOT(imm), 1)).
    AddsImm { rd: u8, rn: u8, imm: u32 },
    /// `rd = rn - imm`, setting NZCV.
    SubsImm { rd: u8, rn: u8, imm: u32 },
    /// `rd = rn + rm`, setting NZCV.
    AddsReg { rd: u8, rn: u8, rm: u8 },
    /// `rd = rn - rm`, setting NZCV.
    SubsReg { rd: u8, rn: u8, rm: u8 },
    /// Flags of `rn - imm`.
    CmpImm { rn: u8, imm: u32 },
    /// Flags of `rn - rm`.
    CmpReg { rn: u8, rm: u8 },
    /// Flags of `rn & imm` (N, Z; C and V unchanged).
    TstImm { rn: u8, imm: u32 },
    /// Flags of `rn & rm` (N, Z; C and V unchanged).
    TstReg { rn: u8, rm: u8 },
    /// A bitwise operation with a register operand (no flags).
    LogicReg { op: Logic, rd: u8, rn: u8, rm: u8 },
    /// A bitwise operation with an immediate (no flags).
    LogicImm { op: Logic, rd: u8, rn: u8, imm: u32 },
    /// A bitwise operation with a register operand, setting N and Z.
    LogicsReg { op: Logic, rd: u8, rn: u8, rm: u8 },
    /// `rd = rm <shift> amt` (LSL/LSR/ASR by 1..=32 as encoded), no flags.
    ShiftImm {
        shift: Shift,
        rd: u8,
        rm: u8,
        amt: u8,
    },
    /// `rd = rm <shift> amt`, setting N, Z and C.
    ShiftsImm {
        shift: Shift,
        rd: u8,
        rm: u8,
        amt: u8,
    },
    /// UXTB/UXTH/SXTB/SXTH without rotation.
    Extend {
        signed: bool,
        half: bool,
        rd: u8,
        rm: u8,
    },
    /// `rd = rn * rm` (no flags).
    Mul { rd: u8, rn: u8, rm: u8 },
    /// `rd = ra + rn * rm`
    Mla { rd: u8, rn: u8, rm: u8, ra: u8 },
    /// A load or store at `rn + offset` (no writeback; `rt` never PC).
    MemImm {
        kind: MemKind,
        rt: u8,
        rn: u8,
        offset: i32,
    },
    /// A load or store at `rn + (rm << lsl)` (`rt` never PC).
    MemReg {
        kind: MemKind,
        rt: u8,
        rn: u8,
        rm: u8,
        lsl: u8,
    },
    /// `MemImm` for the commonest kinds, so the run loop needs no second dispatch on the
    /// kind: LDR, STR, LDRB, STRB at `rn + offset`.
    LdrImm { rt: u8, rn: u8, offset: i32 },
    /// STR at `rn + offset`.
    StrImm { rt: u8, rn: u8, offset: i32 },
    /// LDRB at `rn + offset`.
    LdrbImm { rt: u8, rn: u8, offset: i32 },
    /// STRB at `rn + offset`.
    StrbImm { rt: u8, rn: u8, offset: i32 },
    /// LDR at `rn + (rm << lsl)`.
    LdrReg { rt: u8, rn: u8, rm: u8, lsl: u8 },
    /// STR at `rn + (rm << lsl)`.
    StrReg { rt: u8, rn: u8, rm: u8, lsl: u8 },
    /// LDRB at `rn + (rm << lsl)`.
    LdrbReg { rt: u8, rn: u8, rm: u8, lsl: u8 },
    /// A load from an absolute (literal pool) address (`rt` never PC).
    LoadLit { kind: MemKind, rt: u8, addr: u32 },
    /// A load or store at `rn`, then `rn += offset` (`rt`, `rn` never PC, `rt != rn`).
    MemPost {
        kind: MemKind,
        rt: u8,
        rn: u8,
        offset: i16,
    },
    /// A load or store at `rn + offset`, which is written back to `rn` (`rt != rn`).
    MemPre {
        kind: MemKind,
        rt: u8,
        rn: u8,
        offset: i16,
    },
    /// UBFX: `rd = (rn >> lsb) & mask`.
    Ubfx { rd: u8, rn: u8, lsb: u8, mask: u32 },
    /// Nothing (IT, NOP: their work is done at decode time).
    Nop,
    /// Unconditional branch.
    B { target: u32 },
    /// Conditional branch (B<cond>).
    Bcond { cond: u8, target: u32 },
    /// BL: `lr = (pc + 4) | 1`, branch.
    Bl { target: u32 },
    /// BX/BLX-free return through a register (`bx rm`), unless it is an EXC_RETURN.
    BxReg { rm: u8 },
    /// CBZ/CBNZ.
    Cbz { nonzero: bool, rn: u8, target: u32 },
}

/// Bitwise operations with a fast form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logic {
    And,
    Orr,
    Eor,
    Bic,
}

impl Logic {
    #[inline(always)]
    pub(crate) fn apply(self, a: u32, b: u32) -> u32 {
        match self {
            Logic::And => a & b,
            Logic::Orr => a | b,
            Logic::Eor => a ^ b,
            Logic::Bic => a & !b,
        }
    }

    fn of(op: AluOp) -> Option<Logic> {
        Some(match op {
            AluOp::And => Logic::And,
            AluOp::Orr => Logic::Orr,
            AluOp::Eor => Logic::Eor,
            AluOp::Bic => Logic::Bic,
            _ => return None,
        })
    }
}

/// True for a general-purpose register other than PC.
fn gp(r: u8) -> bool {
    r < 15
}

/// The fast form of `op` at `pc` (length `len`, condition `cond`), or [`Fast::Slow`].
/// Conditional instructions other than B<cond> stay `Slow` (the run loop tests the
/// condition only there), so no other fast form needs a condition test.
pub(crate) fn lower(op: &Op, pc: u32, len: u8, cond: u8) -> Fast {
    match lower_general(op, pc, len, cond) {
        Fast::MemImm {
            kind,
            rt,
            rn,
            offset,
        } => match kind {
            MemKind::Ldr => Fast::LdrImm { rt, rn, offset },
            MemKind::Str => Fast::StrImm { rt, rn, offset },
            MemKind::Ldrb => Fast::LdrbImm { rt, rn, offset },
            MemKind::Strb => Fast::StrbImm { rt, rn, offset },
            _ => Fast::MemImm {
                kind,
                rt,
                rn,
                offset,
            },
        },
        Fast::MemReg {
            kind,
            rt,
            rn,
            rm,
            lsl,
        } => match kind {
            MemKind::Ldr => Fast::LdrReg { rt, rn, rm, lsl },
            MemKind::Str => Fast::StrReg { rt, rn, rm, lsl },
            MemKind::Ldrb => Fast::LdrbReg { rt, rn, rm, lsl },
            _ => Fast::MemReg {
                kind,
                rt,
                rn,
                rm,
                lsl,
            },
        },
        f => f,
    }
}

/// [`lower`] before the loads and stores are split by kind.
fn lower_general(op: &Op, pc: u32, len: u8, cond: u8) -> Fast {
    if let Op::B { target, .. } = *op {
        // `cond` is the instruction's condition: B<cond>'s own, or the IT block's for the
        // unconditional encodings inside one.
        return match (cond, target == pc) {
            // A branch to itself is the idle loop the general executor reports.
            (_, true) => Fast::Slow,
            (14.., false) => Fast::B { target },
            (c, false) => Fast::Bcond { cond: c, target },
        };
    }
    if cond < 14 {
        return Fast::Slow;
    }
    match *op {
        Op::AluImm {
            op,
            s,
            rd,
            rn,
            imm,
            carry,
        } => {
            let dst_ok = gp(rd) || op.is_compare();
            let src_ok = gp(rn) || op.is_move();
            if !dst_ok || !src_ok {
                return Fast::Slow;
            }
            match (op, s) {
                (AluOp::Mov, false) => Fast::MovImm { rd, imm },
                (AluOp::Mov, true) if carry.is_none() => Fast::MovsImm { rd, imm },
                (AluOp::Add, false) => Fast::AddImm { rd, rn, imm },
                (AluOp::Sub, false) => Fast::AddImm {
                    rd,
                    rn,
                    imm: imm.wrapping_neg(),
                },
                (AluOp::Add, true) => Fast::AddsImm { rd, rn, imm },
                (AluOp::Sub, true) => Fast::SubsImm { rd, rn, imm },
                (AluOp::Cmp, _) => Fast::CmpImm { rn, imm },
                (AluOp::Tst, _) if carry.is_none() => Fast::TstImm { rn, imm },
                (op, false) => match Logic::of(op) {
                    Some(op) => Fast::LogicImm { op, rd, rn, imm },
                    None => Fast::Slow,
                },
                _ => Fast::Slow,
            }
        }
        Op::AluReg {
            op,
            s,
            rd,
            rn,
            rm,
            shift,
            amt,
        } => {
            let dst_ok = gp(rd) || op.is_compare();
            let src_ok = (gp(rn) || op.is_move()) && gp(rm);
            if !dst_ok || !src_ok {
                return Fast::Slow;
            }
            let plain = shift == Shift::Lsl && amt == 0;
            if !plain {
                return match (op, s, shift) {
                    (AluOp::Add, false, Shift::Lsl) => Fast::AddRegLsl { rd, rn, rm, amt },
                    (AluOp::Mov, false, Shift::Lsl | Shift::Lsr | Shift::Asr) => {
                        Fast::ShiftImm { shift, rd, rm, amt }
                    }
                    (AluOp::Mov, true, Shift::Lsl | Shift::Lsr | Shift::Asr) => {
                        Fast::ShiftsImm { shift, rd, rm, amt }
                    }
                    _ => Fast::Slow,
                };
            }
            match (op, s) {
                (AluOp::Mov, false) => Fast::MovReg { rd, rm },
                (AluOp::Mov, true) => Fast::MovsReg { rd, rm },
                (AluOp::Add, false) => Fast::AddReg { rd, rn, rm },
                (AluOp::Sub, false) => Fast::SubReg { rd, rn, rm },
                (AluOp::Add, true) => Fast::AddsReg { rd, rn, rm },
                (AluOp::Sub, true) => Fast::SubsReg { rd, rn, rm },
                (AluOp::Cmp, _) => Fast::CmpReg { rn, rm },
                (AluOp::Tst, _) => Fast::TstReg { rn, rm },
                (op, s) => match (Logic::of(op), s) {
                    (Some(op), false) => Fast::LogicReg { op, rd, rn, rm },
                    (Some(op), true) => Fast::LogicsReg { op, rd, rn, rm },
                    (None, _) => Fast::Slow,
                },
            }
        }
        Op::Extend {
            signed,
            half,
            rd,
            rm,
            rot: 0,
        } if gp(rd) && gp(rm) => Fast::Extend {
            signed,
            half,
            rd,
            rm,
        },
        Op::Mul {
            s: false,
            rd,
            rn,
            rm,
        } if gp(rd) && gp(rn) && gp(rm) => Fast::Mul { rd, rn, rm },
        Op::Mla {
            sub: false,
            rd,
            rn,
            rm,
            ra,
        } if gp(rd) && gp(rn) && gp(rm) && gp(ra) => Fast::Mla { rd, rn, rm, ra },
        Op::MemImm {
            kind,
            rt,
            rn,
            offset,
            pre: true,
            wback: false,
            unpriv: false,
        } if gp(rt) && gp(rn) => Fast::MemImm {
            kind,
            rt,
            rn,
            offset: i32::from(offset),
        },
        Op::MemReg {
            kind,
            rt,
            rn,
            rm,
            lsl,
        } if gp(rt) && gp(rn) && gp(rm) => Fast::MemReg {
            kind,
            rt,
            rn,
            rm,
            lsl,
        },
        Op::MemLit { kind, rt, addr } if gp(rt) => Fast::LoadLit { kind, rt, addr },
        Op::MemImm {
            kind,
            rt,
            rn,
            offset,
            pre,
            wback: true,
            unpriv: false,
        } if gp(rt) && gp(rn) && rt != rn => {
            if pre {
                Fast::MemPre {
                    kind,
                    rt,
                    rn,
                    offset,
                }
            } else {
                Fast::MemPost {
                    kind,
                    rt,
                    rn,
                    offset,
                }
            }
        }
        Op::Bfx {
            signed: false,
            rd,
            rn,
            lsb,
            width,
        } if gp(rd) && gp(rn) && width < 32 => Fast::Ubfx {
            rd,
            rn,
            lsb,
            mask: (1u32 << width) - 1,
        },
        Op::It { .. } | Op::Hint(Hint::Nop) => Fast::Nop,
        Op::Bl { target } if len == 4 => Fast::Bl { target },
        Op::Bx { link: false, rm } if gp(rm) => Fast::BxReg { rm },
        Op::Cbz {
            nonzero,
            rn,
            target,
        } if gp(rn) => Fast::Cbz {
            nonzero,
            rn,
            target,
        },
        _ => Fast::Slow,
    }
}

// The run loop walks arrays of these: keep them one machine word.
const _: () = assert!(std::mem::size_of::<Fast>() == 8);
