//! The table-driven Thumb/Thumb-2 decoder (ARMv7-M ARM, A5.2 and A5.3).
//!
//! Every encoding is one line of [`T16`] or [`T32`]: a name, a bit pattern in which `0`/`1`
//! are fixed bits and any other character is part of a field, and the handler that turns
//! the fields into an [`Op`]. Entries are tried most specific first (most fixed bits), so an
//! encoding carved out of a wider one (e.g. `CMP` out of `SUBS` with `Rd == 15`) needs no
//! ordering by hand. Handlers check the manual's UNPREDICTABLE conditions through
//! [`Ctx::refuses`], which consults the one policy table, [`Unpredictable::executes`]: with
//! `--strict` (`Features::strict`) every UNPREDICTABLE encoding is [`Op::Undefined`] (a
//! UsageFault UNDEFINSTR), otherwise the classes that Cortex-M cores and QEMU execute decode
//! to what they do (documented in `emulator/cpu/UNPREDICTABLE.md`).

use crate::alu::{decode_imm_shift, thumb_expand_imm_c, Shift};
use crate::dsp;
use crate::ops::{AluOp, ExSize, Hint, LongMul, MemKind, Op, UnOp};
use crate::state::Features;
use crate::vfp;
use std::sync::OnceLock;

/// What a handler knows besides the encoding.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Address of the instruction.
    pub pc: u32,
    /// Inside an IT block.
    pub in_it: bool,
    /// Last instruction of an IT block (or outside one).
    pub last_in_it: bool,
    /// The core's optional extensions (DSP, FPU): encodings of an absent one are UNDEFINED
    /// (DSP) or take NOCP (FPU).
    pub features: Features,
}

/// The UNPREDICTABLE encodings the decoder recognises, by class: the policy table of what
/// armlet does with them without `--strict` (with it, every class is UNDEFINED). The table
/// with the manual's references and the measurements behind each decision is
/// `emulator/cpu/UNPREDICTABLE.md`; keep the two in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unpredictable {
    /// 16-bit CMP (register) T2 with Rn and Rm both R0-R7 (LLVM emits it at `-O0`).
    CmpLowRegs,
    /// 16-bit CMP (register) T2 with PC as Rn or Rm.
    CmpPc,
    /// MOVS (register) T2 (`LSL #0`) inside an IT block: a MOV that leaves the flags alone.
    MovsInIt,
    /// CPS with neither I nor F: no effect.
    CpsNoEffect,
    /// CPS inside an IT block: executed under the IT condition.
    CpsInIt,
    /// CBZ/CBNZ inside an IT block: executed under the IT condition.
    CbzInIt,
    /// LDR/STR (immediate, T4) with writeback and Rt == Rn, LDRD/STRD with writeback and
    /// Rn == Rt or Rt2: a store stores the old value; LDR's loaded value wins over the
    /// writeback, LDRD's writeback over the loaded value (as QEMU).
    WritebackOverlap,
    /// SP or PC as a source register of data processing, shifts, multiplies, divides,
    /// extends, REV/RBIT/CLZ, bit fields, saturation and the DSP instructions (32-bit
    /// encodings), as the offset register of LDR/STR (register) or the register a store
    /// stores: read as SP and as the instruction's address + 4.
    SpPcSource,
    /// SMULL/UMULL/SMLAL/UMLAL with RdLo == RdHi: RdHi is written last.
    LongMulSameDest,
    /// MRS of a reserved SYSm: reads 0.
    MrsReserved,
    /// STM/STMDB (32-bit) with SP or PC in the list: stores SP and the address + 4.
    StmSpPc,
    /// Register lists with no register (16-bit) or fewer than two (32-bit): QEMU UNDEFs.
    ShortList,
    /// LDM/STM with writeback and Rn in the list (32-bit): QEMU UNDEFs.
    MultiWritebackBase,
    /// B<cond> inside an IT block: QEMU UNDEFs.
    BranchInIt,
    /// A branch or other write to PC inside an IT block but not last: ITSTATE afterwards
    /// is unknowable.
    PcWriteInIt,
    /// IT inside an IT block, IT with firstcond 1111, or IT AL with an Else slot.
    ItForm,
}

impl Unpredictable {
    /// The policy: executed (`true`) or UNDEFINED (`false`) without `--strict`.
    pub const fn executes(self) -> bool {
        use Unpredictable::*;
        match self {
            CmpLowRegs | CmpPc | MovsInIt | CpsNoEffect | CpsInIt | CbzInIt | WritebackOverlap
            | SpPcSource | LongMulSameDest | MrsReserved | StmSpPc => true,
            ShortList | MultiWritebackBase | BranchInIt | PcWriteInIt | ItForm => false,
        }
    }
}

impl Ctx {
    /// Whether an encoding of UNPREDICTABLE class `u` decodes as UNDEFINED: always with
    /// `--strict`, otherwise as the policy table says. Every check of a listed class goes
    /// here; the UNPREDICTABLE rules no class covers (SP/PC destinations, exclusives, ...)
    /// return [`Op::Undefined`] directly (UNPREDICTABLE.md says which and why).
    pub fn refuses(&self, u: Unpredictable) -> bool {
        self.features.strict || !u.executes()
    }
    /// Inside an IT block but not its last instruction: branches are UNPREDICTABLE here.
    fn it_not_last(&self) -> bool {
        self.in_it && !self.last_in_it
    }
    /// The value a Thumb instruction reads for PC.
    fn pc_read(&self) -> u32 {
        self.pc.wrapping_add(4)
    }
    /// `Align(PC, 4)` as used by literal loads and ADR.
    fn pc_aligned(&self) -> u32 {
        self.pc_read() & !3
    }
}

/// A decoder handler: encoding and context → operation.
pub type Handler = fn(u32, &Ctx) -> Op;

/// Which part of the architecture an encoding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ext {
    /// ARMv7-M proper: every core has it.
    Base,
    /// The DSP extension (ARMv7E-M): UNDEFINED on a core without it.
    Dsp,
    /// The floating-point extension (CP10/CP11): NOCP on a core without an FPU.
    Fp,
}

impl Ext {
    /// Short name, as the conformance harness prints it.
    pub fn name(self) -> &'static str {
        match self {
            Ext::Base => "base",
            Ext::Dsp => "dsp",
            Ext::Fp => "fp",
        }
    }
}

/// One line of the decoder table.
#[derive(Debug)]
pub struct Entry {
    /// Mnemonic and form, e.g. `"ADD (register) T2"`.
    pub name: &'static str,
    /// Bit pattern, most significant bit first.
    pub pattern: &'static str,
    /// Fixed-bit mask derived from the pattern.
    pub mask: u32,
    /// Fixed-bit values derived from the pattern.
    pub value: u32,
    /// Handler.
    pub handler: Handler,
    /// The extension the encoding belongs to.
    pub ext: Ext,
}

const fn parse(pattern: &str) -> (u32, u32) {
    let b = pattern.as_bytes();
    let mut mask = 0u32;
    let mut value = 0u32;
    let mut i = 0;
    while i < b.len() {
        mask <<= 1;
        value <<= 1;
        if b[i] == b'0' {
            mask |= 1;
        } else if b[i] == b'1' {
            mask |= 1;
            value |= 1;
        }
        i += 1;
    }
    (mask, value)
}

const fn e(name: &'static str, pattern: &'static str, handler: Handler) -> Entry {
    let (mask, value) = parse(pattern);
    Entry {
        name,
        pattern,
        mask,
        value,
        handler,
        ext: Ext::Base,
    }
}

/// An entry of the floating-point extension (see [`crate::vfp`]).
const fn fp(name: &'static str, pattern: &'static str, handler: Handler) -> Entry {
    let mut entry = e(name, pattern, handler);
    entry.ext = Ext::Fp;
    entry
}

/// An entry of the DSP extension (its handler returns [`Op::Undefined`] without it).
const fn e_dsp(name: &'static str, pattern: &'static str, handler: Handler) -> Entry {
    let mut x = e(name, pattern, handler);
    x.ext = Ext::Dsp;
    x
}

#[inline]
fn bits(x: u32, hi: u32, lo: u32) -> u32 {
    (x >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}
#[inline]
fn bit(x: u32, n: u32) -> bool {
    (x >> n) & 1 != 0
}
fn sext(x: u32, width: u32) -> u32 {
    let s = 32 - width;
    (((x << s) as i32) >> s) as u32
}
fn reg(x: u32, lo: u32) -> u8 {
    bits(x, lo + 3, lo) as u8
}
fn low(x: u32, lo: u32) -> u8 {
    bits(x, lo + 2, lo) as u8
}
fn bad(r: u8) -> bool {
    r == 13 || r == 15
}
/// SP or PC as a source register where the manual says UNPREDICTABLE: refused or read.
fn src_bad(r: u8, c: &Ctx) -> bool {
    bad(r) && c.refuses(Unpredictable::SpPcSource)
}
fn undef(raw: u32) -> Op {
    Op::Undefined { raw }
}

// ---------------------------------------------------------------- 16-bit handlers

fn t16_shift_imm(x: u32, c: &Ctx) -> Op {
    let (shift, amt) = decode_imm_shift(bits(x, 12, 11), bits(x, 10, 6));
    if shift == Shift::Lsl && amt == 0 && c.in_it && c.refuses(Unpredictable::MovsInIt) {
        return undef(x); // MOVS Rd, Rm (T2) is not allowed in an IT block
    }
    Op::AluReg {
        op: AluOp::Mov,
        s: !c.in_it,
        rd: low(x, 0),
        rn: 0,
        rm: low(x, 3),
        shift,
        amt,
    }
}
fn t16_addsub_reg(x: u32, c: &Ctx) -> Op {
    let op = if bit(x, 9) { AluOp::Sub } else { AluOp::Add };
    Op::AluReg {
        op,
        s: !c.in_it,
        rd: low(x, 0),
        rn: low(x, 3),
        rm: low(x, 6),
        shift: Shift::Lsl,
        amt: 0,
    }
}
fn t16_addsub_imm3(x: u32, c: &Ctx) -> Op {
    let op = if bit(x, 9) { AluOp::Sub } else { AluOp::Add };
    Op::AluImm {
        op,
        s: !c.in_it,
        rd: low(x, 0),
        rn: low(x, 3),
        imm: bits(x, 8, 6),
        carry: None,
    }
}
fn t16_imm8(x: u32, c: &Ctx) -> Op {
    let rdn = low(x, 8);
    let imm = bits(x, 7, 0);
    let (op, s) = match bits(x, 12, 11) {
        0 => (AluOp::Mov, !c.in_it),
        1 => (AluOp::Cmp, true),
        2 => (AluOp::Add, !c.in_it),
        _ => (AluOp::Sub, !c.in_it),
    };
    Op::AluImm {
        op,
        s,
        rd: rdn,
        rn: rdn,
        imm,
        carry: None,
    }
}
fn t16_dp(x: u32, c: &Ctx) -> Op {
    let rdn = low(x, 0);
    let rm = low(x, 3);
    let s = !c.in_it;
    let alu = |op, s| Op::AluReg {
        op,
        s,
        rd: rdn,
        rn: rdn,
        rm,
        shift: Shift::Lsl,
        amt: 0,
    };
    let sh = |shift| Op::ShiftReg {
        shift,
        s,
        rd: rdn,
        rn: rdn,
        rm,
    };
    match bits(x, 9, 6) {
        0 => alu(AluOp::And, s),
        1 => alu(AluOp::Eor, s),
        2 => sh(Shift::Lsl),
        3 => sh(Shift::Lsr),
        4 => sh(Shift::Asr),
        5 => alu(AluOp::Adc, s),
        6 => alu(AluOp::Sbc, s),
        7 => sh(Shift::Ror),
        8 => alu(AluOp::Tst, true),
        9 => Op::AluImm {
            op: AluOp::Rsb,
            s,
            rd: rdn,
            rn: rm,
            imm: 0,
            carry: None,
        },
        10 => alu(AluOp::Cmp, true),
        11 => alu(AluOp::Cmn, true),
        12 => alu(AluOp::Orr, s),
        13 => Op::Mul {
            s,
            rd: rdn,
            rn: rm,
            rm: rdn,
        },
        14 => alu(AluOp::Bic, s),
        _ => Op::AluReg {
            op: AluOp::Mvn,
            s,
            rd: rdn,
            rn: 0,
            rm,
            shift: Shift::Lsl,
            amt: 0,
        },
    }
}
fn t16_add_hi(x: u32, c: &Ctx) -> Op {
    let rd = (bits(x, 7, 7) << 3 | bits(x, 2, 0)) as u8;
    let rm = reg(x, 3);
    if rd == 15 && rm == 15 {
        return undef(x); // ADD PC, PC: UNPREDICTABLE, left UNDEFINED (UNPREDICTABLE.md)
    }
    if rd == 15 && c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt) {
        return undef(x);
    }
    Op::AluReg {
        op: AluOp::Add,
        s: false,
        rd,
        rn: rd,
        rm,
        shift: Shift::Lsl,
        amt: 0,
    }
}
fn t16_cmp_hi(x: u32, c: &Ctx) -> Op {
    let rn = (bits(x, 7, 7) << 3 | bits(x, 2, 0)) as u8;
    let rm = reg(x, 3);
    if (rn < 8 && rm < 8 && c.refuses(Unpredictable::CmpLowRegs))
        || ((rn == 15 || rm == 15) && c.refuses(Unpredictable::CmpPc))
    {
        return undef(x);
    }
    Op::AluReg {
        op: AluOp::Cmp,
        s: true,
        rd: rn,
        rn,
        rm,
        shift: Shift::Lsl,
        amt: 0,
    }
}
fn t16_mov_hi(x: u32, c: &Ctx) -> Op {
    let rd = (bits(x, 7, 7) << 3 | bits(x, 2, 0)) as u8;
    if rd == 15 && c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt) {
        return undef(x);
    }
    Op::AluReg {
        op: AluOp::Mov,
        s: false,
        rd,
        rn: 0,
        rm: reg(x, 3),
        shift: Shift::Lsl,
        amt: 0,
    }
}
fn t16_bx(x: u32, c: &Ctx) -> Op {
    let link = bit(x, 7);
    let rm = reg(x, 3);
    if link && rm == 15 {
        return undef(x); // BLX PC: UNPREDICTABLE, left UNDEFINED (UNPREDICTABLE.md)
    }
    if c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt) {
        return undef(x);
    }
    Op::Bx { link, rm }
}
fn t16_ldr_lit(x: u32, c: &Ctx) -> Op {
    Op::MemLit {
        kind: MemKind::Ldr,
        rt: low(x, 8),
        addr: c.pc_aligned().wrapping_add(bits(x, 7, 0) * 4),
    }
}
fn t16_ldst_reg(x: u32, _c: &Ctx) -> Op {
    use MemKind::*;
    let kind = [Str, Strh, Strb, Ldrsb, Ldr, Ldrh, Ldrb, Ldrsh][bits(x, 11, 9) as usize];
    Op::MemReg {
        kind,
        rt: low(x, 0),
        rn: low(x, 3),
        rm: low(x, 6),
        lsl: 0,
    }
}
fn imm_off(kind: MemKind, rt: u8, rn: u8, offset: u32) -> Op {
    Op::MemImm {
        kind,
        rt,
        rn,
        offset: offset as i16,
        pre: true,
        wback: false,
        unpriv: false,
    }
}
fn t16_ldst_word(x: u32, _c: &Ctx) -> Op {
    let kind = if bit(x, 11) {
        MemKind::Ldr
    } else {
        MemKind::Str
    };
    imm_off(kind, low(x, 0), low(x, 3), bits(x, 10, 6) * 4)
}
fn t16_ldst_byte(x: u32, _c: &Ctx) -> Op {
    let kind = if bit(x, 11) {
        MemKind::Ldrb
    } else {
        MemKind::Strb
    };
    imm_off(kind, low(x, 0), low(x, 3), bits(x, 10, 6))
}
fn t16_ldst_half(x: u32, _c: &Ctx) -> Op {
    let kind = if bit(x, 11) {
        MemKind::Ldrh
    } else {
        MemKind::Strh
    };
    imm_off(kind, low(x, 0), low(x, 3), bits(x, 10, 6) * 2)
}
fn t16_ldst_sp(x: u32, _c: &Ctx) -> Op {
    let kind = if bit(x, 11) {
        MemKind::Ldr
    } else {
        MemKind::Str
    };
    imm_off(kind, low(x, 8), 13, bits(x, 7, 0) * 4)
}
fn t16_adr(x: u32, c: &Ctx) -> Op {
    let imm = c.pc_aligned().wrapping_add(bits(x, 7, 0) * 4);
    Op::AluImm {
        op: AluOp::Mov,
        s: false,
        rd: low(x, 8),
        rn: 15,
        imm,
        carry: None,
    }
}
fn t16_add_sp_imm8(x: u32, _c: &Ctx) -> Op {
    Op::AluImm {
        op: AluOp::Add,
        s: false,
        rd: low(x, 8),
        rn: 13,
        imm: bits(x, 7, 0) * 4,
        carry: None,
    }
}
fn t16_sp_imm7(x: u32, _c: &Ctx) -> Op {
    let op = if bit(x, 7) { AluOp::Sub } else { AluOp::Add };
    Op::AluImm {
        op,
        s: false,
        rd: 13,
        rn: 13,
        imm: bits(x, 6, 0) * 4,
        carry: None,
    }
}
fn t16_cbz(x: u32, c: &Ctx) -> Op {
    if c.in_it && c.refuses(Unpredictable::CbzInIt) {
        return undef(x);
    }
    let imm = (bits(x, 9, 9) << 6) | (bits(x, 7, 3) << 1);
    Op::Cbz {
        nonzero: bit(x, 11),
        rn: low(x, 0),
        target: c.pc_read().wrapping_add(imm),
    }
}
fn t16_extend(x: u32, _c: &Ctx) -> Op {
    let op = bits(x, 7, 6);
    Op::Extend {
        signed: op < 2,
        half: op & 1 == 0,
        rd: low(x, 0),
        rm: low(x, 3),
        rot: 0,
    }
}
fn t16_push(x: u32, c: &Ctx) -> Op {
    let list = (bits(x, 7, 0) | (bits(x, 8, 8) << 14)) as u16;
    if list == 0 && c.refuses(Unpredictable::ShortList) {
        return undef(x);
    }
    Op::Multi {
        load: false,
        db: true,
        rn: 13,
        list,
        wback: true,
    }
}
fn t16_pop(x: u32, c: &Ctx) -> Op {
    let list = (bits(x, 7, 0) | (bits(x, 8, 8) << 15)) as u16;
    if (list == 0 && c.refuses(Unpredictable::ShortList))
        || (bit(x, 8) && c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt))
    {
        return undef(x);
    }
    Op::Multi {
        load: true,
        db: false,
        rn: 13,
        list,
        wback: true,
    }
}
fn t16_cps(x: u32, c: &Ctx) -> Op {
    let (i, f) = (bit(x, 1), bit(x, 0));
    if (c.in_it && c.refuses(Unpredictable::CpsInIt))
        || (!i && !f && c.refuses(Unpredictable::CpsNoEffect))
    {
        return undef(x);
    }
    Op::Cps {
        disable: bit(x, 4),
        i,
        f,
    }
}
fn t16_rev(x: u32, _c: &Ctx) -> Op {
    let op = match bits(x, 7, 6) {
        0 => UnOp::Rev,
        1 => UnOp::Rev16,
        3 => UnOp::Revsh,
        _ => return undef(x),
    };
    Op::Unary {
        op,
        rd: low(x, 0),
        rm: low(x, 3),
    }
}
fn t16_bkpt(x: u32, _c: &Ctx) -> Op {
    Op::Bkpt {
        imm: bits(x, 7, 0) as u8,
    }
}
fn t16_it(x: u32, c: &Ctx) -> Op {
    let firstcond = bits(x, 7, 4) as u8;
    let mask = bits(x, 3, 0) as u8;
    if (c.in_it || firstcond == 15 || (firstcond == 14 && mask.count_ones() != 1))
        && c.refuses(Unpredictable::ItForm)
    {
        return undef(x);
    }
    Op::It { firstcond, mask }
}
fn hint(h: u32) -> Op {
    Op::Hint(match h {
        1 => Hint::Yield,
        2 => Hint::Wfe,
        3 => Hint::Wfi,
        4 => Hint::Sev,
        _ => Hint::Nop, // unallocated hints execute as NOP
    })
}
fn t16_hint(x: u32, _c: &Ctx) -> Op {
    hint(bits(x, 7, 4))
}
fn t16_stm(x: u32, c: &Ctx) -> Op {
    let list = bits(x, 7, 0) as u16;
    if list == 0 && c.refuses(Unpredictable::ShortList) {
        return undef(x);
    }
    Op::Multi {
        load: false,
        db: false,
        rn: low(x, 8),
        list,
        wback: true,
    }
}
fn t16_ldm(x: u32, c: &Ctx) -> Op {
    let rn = low(x, 8);
    let list = bits(x, 7, 0) as u16;
    if list == 0 && c.refuses(Unpredictable::ShortList) {
        return undef(x);
    }
    Op::Multi {
        load: true,
        db: false,
        rn,
        list,
        wback: list & (1 << rn) == 0,
    }
}
fn t16_bcond(x: u32, c: &Ctx) -> Op {
    if c.in_it && c.refuses(Unpredictable::BranchInIt) {
        return undef(x);
    }
    let target = c.pc_read().wrapping_add(sext(bits(x, 7, 0) << 1, 9));
    Op::B {
        cond: bits(x, 11, 8) as u8,
        target,
    }
}
fn t16_udf(x: u32, _c: &Ctx) -> Op {
    undef(x)
}
fn t16_svc(x: u32, _c: &Ctx) -> Op {
    Op::Svc {
        imm: bits(x, 7, 0) as u8,
    }
}
fn t16_b(x: u32, c: &Ctx) -> Op {
    if c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt) {
        return undef(x);
    }
    Op::B {
        cond: 14,
        target: c.pc_read().wrapping_add(sext(bits(x, 10, 0) << 1, 12)),
    }
}

/// The 16-bit Thumb encodings (A5.2).
#[rustfmt::skip]
pub static T16: &[Entry] = &[
    e("LSL/LSR/ASR (immediate) T1, MOVS (register) T2", "000ooiiiiimmmddd", t16_shift_imm),
    e("ADD/SUB (register) T1", "000110smmmnnnddd", t16_addsub_reg),
    e("ADD/SUB (immediate) T1", "000111siiinnnddd", t16_addsub_imm3),
    e("MOV/CMP/ADD/SUB (immediate) T1/T2", "001oodddiiiiiiii", t16_imm8),
    e("data processing (register) T1", "010000oooommmddd", t16_dp),
    e("ADD (register) T2", "01000100dmmmmddd", t16_add_hi),
    e("CMP (register) T2", "01000101nmmmmnnn", t16_cmp_hi),
    e("MOV (register) T1", "01000110dmmmmddd", t16_mov_hi),
    e("BX/BLX (register) T1", "01000111lmmmm000", t16_bx),
    e("LDR (literal) T1", "01001tttiiiiiiii", t16_ldr_lit),
    e("load/store (register) T1", "0101ooommmnnnttt", t16_ldst_reg),
    e("STR/LDR (immediate) T1", "0110liiiiinnnttt", t16_ldst_word),
    e("STRB/LDRB (immediate) T1", "0111liiiiinnnttt", t16_ldst_byte),
    e("STRH/LDRH (immediate) T1", "1000liiiiinnnttt", t16_ldst_half),
    e("STR/LDR (SP-relative) T2", "1001ltttiiiiiiii", t16_ldst_sp),
    e("ADR T1", "10100dddiiiiiiii", t16_adr),
    e("ADD (SP plus immediate) T1", "10101dddiiiiiiii", t16_add_sp_imm8),
    e("ADD/SUB (SP plus immediate) T2/T1", "10110000siiiiiii", t16_sp_imm7),
    e("CBZ/CBNZ T1", "1011o0i1iiiiinnn", t16_cbz),
    e("SXTH/SXTB/UXTH/UXTB T1", "10110010oommmddd", t16_extend),
    e("PUSH T1", "1011010mrrrrrrrr", t16_push),
    e("CPS T1", "10110110011m00if", t16_cps),
    e("REV/REV16/REVSH T1", "10111010oommmddd", t16_rev),
    e("POP T1", "1011110prrrrrrrr", t16_pop),
    e("BKPT T1", "10111110iiiiiiii", t16_bkpt),
    e("IT T1", "10111111ccccmmmm", t16_it),
    e("NOP/YIELD/WFE/WFI/SEV T1", "10111111hhhh0000", t16_hint),
    e("STM T1", "11000nnnrrrrrrrr", t16_stm),
    e("LDM T1", "11001nnnrrrrrrrr", t16_ldm),
    e("B T1", "1101cccciiiiiiii", t16_bcond),
    e("UDF T1", "11011110iiiiiiii", t16_udf),
    e("SVC T1", "11011111iiiiiiii", t16_svc),
    e("B T2", "11100iiiiiiiiiii", t16_b),
];

// ---------------------------------------------------------------- 32-bit handlers

fn t32_multi(x: u32, c: &Ctx) -> Op {
    let load = bit(x, 20);
    let db = bit(x, 24);
    let wback = bit(x, 21);
    let rn = reg(x, 16);
    let list = (x & 0xffff) as u16;
    let p = list & 0x8000 != 0;
    let m = list & 0x4000 != 0;
    if rn == 15 {
        return undef(x);
    }
    if (list.count_ones() < 2 && c.refuses(Unpredictable::ShortList))
        || (wback && list & (1 << rn) != 0 && c.refuses(Unpredictable::MultiWritebackBase))
    {
        return undef(x);
    }
    if load && (list & 0x2000 != 0 || (p && m)) {
        return undef(x); // loading SP, or both LR and PC: left UNDEFINED (UNPREDICTABLE.md)
    }
    if load && p && c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt) {
        return undef(x);
    }
    if !load && (p || list & 0x2000 != 0) && c.refuses(Unpredictable::StmSpPc) {
        return undef(x);
    }
    Op::Multi {
        load,
        db,
        rn,
        list,
        wback,
    }
}
fn t32_strex(x: u32, _c: &Ctx) -> Op {
    let (rn, rt, rd) = (reg(x, 16), reg(x, 12), reg(x, 8));
    if bad(rd) || bad(rt) || rn == 15 || rd == rn || rd == rt {
        return undef(x);
    }
    Op::Strex {
        size: ExSize::Word,
        rd,
        rt,
        rn,
        offset: (bits(x, 7, 0) * 4) as u16,
    }
}
fn t32_ldrex(x: u32, _c: &Ctx) -> Op {
    let (rn, rt) = (reg(x, 16), reg(x, 12));
    if bad(rt) || rn == 15 {
        return undef(x);
    }
    Op::Ldrex {
        size: ExSize::Word,
        rt,
        rn,
        offset: (bits(x, 7, 0) * 4) as u16,
    }
}
fn t32_strex_bh(x: u32, _c: &Ctx) -> Op {
    let (rn, rt, rd) = (reg(x, 16), reg(x, 12), reg(x, 0));
    if bad(rd) || bad(rt) || rn == 15 || rd == rn || rd == rt {
        return undef(x);
    }
    let size = if bit(x, 4) {
        ExSize::Half
    } else {
        ExSize::Byte
    };
    Op::Strex {
        size,
        rd,
        rt,
        rn,
        offset: 0,
    }
}
fn t32_ldrex_bh(x: u32, _c: &Ctx) -> Op {
    let (rn, rt) = (reg(x, 16), reg(x, 12));
    if bad(rt) || rn == 15 {
        return undef(x);
    }
    let size = if bit(x, 4) {
        ExSize::Half
    } else {
        ExSize::Byte
    };
    Op::Ldrex {
        size,
        rt,
        rn,
        offset: 0,
    }
}
fn t32_tb(x: u32, c: &Ctx) -> Op {
    let (rn, rm) = (reg(x, 16), reg(x, 0));
    if rn == 13 || bad(rm) || (c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt)) {
        return undef(x);
    }
    Op::Table {
        half: bit(x, 4),
        rn,
        rm,
    }
}
fn t32_dual(x: u32, c: &Ctx) -> Op {
    let (p, u, w, load) = (bit(x, 24), bit(x, 23), bit(x, 21), bit(x, 20));
    let (rn, rt, rt2) = (reg(x, 16), reg(x, 12), reg(x, 8));
    let imm = bits(x, 7, 0) * 4;
    if !p && !w {
        return undef(x);
    }
    if load && rn == 15 {
        if w || bad(rt) || bad(rt2) || rt == rt2 {
            return undef(x);
        }
        let base = c.pc_aligned();
        let addr = if u {
            base.wrapping_add(imm)
        } else {
            base.wrapping_sub(imm)
        };
        return Op::DualLit { rt, rt2, addr };
    }
    if rn == 15 || bad(rt) || bad(rt2) || (load && rt == rt2) {
        return undef(x);
    }
    if w && (rn == rt || rn == rt2) && c.refuses(Unpredictable::WritebackOverlap) {
        return undef(x);
    }
    let offset = if u { imm as i16 } else { -(imm as i16) };
    Op::Dual {
        load,
        rt,
        rt2,
        rn,
        offset,
        pre: p,
        wback: w,
    }
}

/// Destination/operand checks shared by the two data-processing groups. Returns the operation
/// to perform or `None` for UNPREDICTABLE/UNDEFINED forms.
fn dp_op(op: u32, s: bool, rd: u8, rn: u8, reg_form_rm: Option<u8>, c: &Ctx) -> Option<AluOp> {
    let (alu, rn_free) = match op {
        0 if rd == 15 && s => (AluOp::Tst, false),
        0 => (AluOp::And, false),
        1 => (AluOp::Bic, false),
        2 if rn == 15 => (AluOp::Mov, true),
        2 => (AluOp::Orr, false),
        3 if rn == 15 => (AluOp::Mvn, true),
        3 => (AluOp::Orn, false),
        4 if rd == 15 && s => (AluOp::Teq, false),
        4 => (AluOp::Eor, false),
        8 if rd == 15 && s => (AluOp::Cmn, false),
        8 => (AluOp::Add, false),
        10 => (AluOp::Adc, false),
        11 => (AluOp::Sbc, false),
        13 if rd == 15 && s => (AluOp::Cmp, false),
        13 => (AluOp::Sub, false),
        14 => (AluOp::Rsb, false),
        _ => return None,
    };
    let sp_ok = matches!(alu, AluOp::Add | AluOp::Sub | AluOp::Cmp | AluOp::Cmn);
    if !rn_free && (rn == 15 || (rn == 13 && !sp_ok)) && c.refuses(Unpredictable::SpPcSource) {
        return None;
    }
    if !alu.is_compare() {
        if rd == 15 {
            return None;
        }
        let mov_sp = alu == AluOp::Mov && !s && reg_form_rm.is_some_and(|m| m != 13);
        if rd == 13 && !(sp_ok && rn == 13) && !mov_sp {
            return None;
        }
    }
    if let Some(rm) = reg_form_rm {
        if (rm == 15 || (rm == 13 && !(alu == AluOp::Mov && !s && rd != 13)))
            && c.refuses(Unpredictable::SpPcSource)
        {
            return None;
        }
    }
    Some(alu)
}
fn t32_dp_shifted(x: u32, c: &Ctx) -> Op {
    let (s, rn, rd, rm) = (bit(x, 20), reg(x, 16), reg(x, 8), reg(x, 0));
    let Some(op) = dp_op(bits(x, 24, 21), s, rd, rn, Some(rm), c) else {
        return undef(x);
    };
    let (shift, amt) = decode_imm_shift(bits(x, 5, 4), (bits(x, 14, 12) << 2) | bits(x, 7, 6));
    Op::AluReg {
        op,
        s: s || op.is_compare(),
        rd,
        rn,
        rm,
        shift,
        amt,
    }
}
fn t32_dp_modimm(x: u32, c: &Ctx) -> Op {
    let (s, rn, rd) = (bit(x, 20), reg(x, 16), reg(x, 8));
    let Some(op) = dp_op(bits(x, 24, 21), s, rd, rn, None, c) else {
        return undef(x);
    };
    let imm12 = (bits(x, 26, 26) << 11) | (bits(x, 14, 12) << 8) | bits(x, 7, 0);
    let Ok((imm, carry)) = thumb_expand_imm_c(imm12) else {
        return undef(x);
    };
    Op::AluImm {
        op,
        s: s || op.is_compare(),
        rd,
        rn,
        imm,
        carry,
    }
}
fn imm12_plain(x: u32) -> u32 {
    (bits(x, 26, 26) << 11) | (bits(x, 14, 12) << 8) | bits(x, 7, 0)
}
fn t32_addw(x: u32, c: &Ctx) -> Op {
    let (rn, rd) = (reg(x, 16), reg(x, 8));
    let imm = imm12_plain(x);
    let sub = bit(x, 23);
    if rd == 15 || (rd == 13 && rn != 13) {
        return undef(x);
    }
    if rn == 15 {
        let base = c.pc_aligned();
        let imm = if sub {
            base.wrapping_sub(imm)
        } else {
            base.wrapping_add(imm)
        };
        return Op::AluImm {
            op: AluOp::Mov,
            s: false,
            rd,
            rn: 15,
            imm,
            carry: None,
        };
    }
    let op = if sub { AluOp::Sub } else { AluOp::Add };
    Op::AluImm {
        op,
        s: false,
        rd,
        rn,
        imm,
        carry: None,
    }
}
fn t32_mov16(x: u32, _c: &Ctx) -> Op {
    let rd = reg(x, 8);
    if bad(rd) {
        return undef(x);
    }
    let imm = ((bits(x, 19, 16) << 12) | imm12_plain(x)) as u16;
    Op::Mov16 {
        top: bit(x, 23),
        rd,
        imm,
    }
}
fn t32_sat(x: u32, c: &Ctx) -> Op {
    let (rn, rd) = (reg(x, 16), reg(x, 8));
    let signed = !bit(x, 23);
    let sh = bit(x, 21);
    let amt = ((bits(x, 14, 12) << 2) | bits(x, 7, 6)) as u8;
    if bad(rd) || (sh && amt == 0) || src_bad(rn, c) {
        return undef(x); // sh=1, imm=0 is SSAT16/USAT16 (DSP extension)
    }
    let sat = bits(x, 4, 0) as u8 + u8::from(signed);
    Op::Sat {
        signed,
        rd,
        rn,
        sat,
        shift: if sh { Shift::Asr } else { Shift::Lsl },
        amt,
    }
}
fn t32_bfx(x: u32, c: &Ctx) -> Op {
    let (rn, rd) = (reg(x, 16), reg(x, 8));
    let lsb = (bits(x, 14, 12) << 2) | bits(x, 7, 6);
    let width = bits(x, 4, 0) + 1;
    if bad(rd) || src_bad(rn, c) || lsb + width > 32 {
        return undef(x);
    }
    Op::Bfx {
        signed: !bit(x, 23),
        rd,
        rn,
        lsb: lsb as u8,
        width: width as u8,
    }
}
fn t32_bfi(x: u32, c: &Ctx) -> Op {
    let (rn, rd) = (reg(x, 16), reg(x, 8));
    let lsb = (bits(x, 14, 12) << 2) | bits(x, 7, 6);
    let msb = bits(x, 4, 0);
    if bad(rd) || (rn == 13 && c.refuses(Unpredictable::SpPcSource)) || msb < lsb {
        return undef(x);
    }
    Op::Bfi {
        rd,
        rn,
        lsb: lsb as u8,
        msb: msb as u8,
    }
}
fn t32_bcond(x: u32, c: &Ctx) -> Op {
    if (c.in_it && c.refuses(Unpredictable::BranchInIt)) || bits(x, 25, 23) == 0b111 {
        return undef(x);
    }
    let imm = (bits(x, 26, 26) << 20)
        | (bits(x, 11, 11) << 19)
        | (bits(x, 13, 13) << 18)
        | (bits(x, 21, 16) << 12)
        | (bits(x, 10, 0) << 1);
    Op::B {
        cond: bits(x, 25, 22) as u8,
        target: c.pc_read().wrapping_add(sext(imm, 21)),
    }
}
fn branch24(x: u32, c: &Ctx) -> u32 {
    let s = bits(x, 26, 26);
    let i1 = !(bits(x, 13, 13) ^ s) & 1;
    let i2 = !(bits(x, 11, 11) ^ s) & 1;
    let imm = (s << 24) | (i1 << 23) | (i2 << 22) | (bits(x, 25, 16) << 12) | (bits(x, 10, 0) << 1);
    c.pc_read().wrapping_add(sext(imm, 25))
}
fn t32_b(x: u32, c: &Ctx) -> Op {
    if c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt) {
        return undef(x);
    }
    Op::B {
        cond: 14,
        target: branch24(x, c),
    }
}
fn t32_bl(x: u32, c: &Ctx) -> Op {
    if c.it_not_last() && c.refuses(Unpredictable::PcWriteInIt) {
        return undef(x);
    }
    Op::Bl {
        target: branch24(x, c),
    }
}
fn valid_sysm(sysm: u32) -> bool {
    matches!(sysm, 0..=3 | 5..=9 | 16..=20)
}
fn t32_msr(x: u32, c: &Ctx) -> Op {
    let rn = reg(x, 16);
    let mask = bits(x, 11, 10) as u8;
    let sysm = bits(x, 7, 0);
    if bad(rn) || !valid_sysm(sysm) || (sysm < 8 && mask == 0) || (sysm >= 8 && mask != 2) {
        return undef(x);
    }
    // Without the DSP extension the `_g` (GE) bits do not exist: mask must be 0b10.
    if sysm < 8 && mask & 1 != 0 && !c.features.dsp {
        return undef(x);
    }
    Op::Msr {
        rn,
        sysm: sysm as u8,
        mask,
    }
}
fn t32_mrs(x: u32, c: &Ctx) -> Op {
    let rd = reg(x, 8);
    let sysm = bits(x, 7, 0);
    if bad(rd) || (!valid_sysm(sysm) && c.refuses(Unpredictable::MrsReserved)) {
        return undef(x);
    }
    Op::Mrs {
        rd,
        sysm: sysm as u8,
    }
}
fn t32_hint(x: u32, _c: &Ctx) -> Op {
    hint(bits(x, 7, 0))
}
fn t32_clrex(_x: u32, _c: &Ctx) -> Op {
    Op::Clrex
}
fn t32_barrier(x: u32, _c: &Ctx) -> Op {
    Op::Hint(match bits(x, 7, 4) {
        4 => Hint::Dsb,
        5 => Hint::Dmb,
        _ => Hint::Isb,
    })
}
fn t32_udf(x: u32, _c: &Ctx) -> Op {
    undef(x)
}

fn size_kind(size: u32, load: bool, signed: bool) -> Option<MemKind> {
    use MemKind::*;
    Some(match (size, load, signed) {
        (0, false, false) => Strb,
        (1, false, false) => Strh,
        (2, false, false) => Str,
        (0, true, false) => Ldrb,
        (1, true, false) => Ldrh,
        (2, true, false) => Ldr,
        (0, true, true) => Ldrsb,
        (1, true, true) => Ldrsh,
        _ => return None,
    })
}
/// Fields common to the 32-bit single load/store encodings: (kind, rt, rn).
fn ldst_fields(x: u32) -> Option<(MemKind, u8, u8)> {
    let kind = size_kind(bits(x, 22, 21), bit(x, 20), bit(x, 24))?;
    Some((kind, reg(x, 12), reg(x, 16)))
}
/// Rt == 15 on byte/halfword loads are memory hints (PLD/PLI/unallocated): NOPs here.
fn is_hint_load(kind: MemKind, rt: u8) -> bool {
    rt == 15
        && matches!(
            kind,
            MemKind::Ldrb | MemKind::Ldrsb | MemKind::Ldrh | MemKind::Ldrsh
        )
}
fn rt_ok(kind: MemKind, rt: u8, c: &Ctx) -> bool {
    match kind {
        MemKind::Ldr => rt != 15 || !c.it_not_last() || !c.refuses(Unpredictable::PcWriteInIt),
        // The register a store stores is a source: SP or PC is read (PC = address + 4).
        MemKind::Str => rt != 15 || !c.refuses(Unpredictable::SpPcSource),
        k if k.is_store() => !src_bad(rt, c),
        _ => !bad(rt),
    }
}
fn t32_ldst_imm12(x: u32, c: &Ctx) -> Op {
    let Some((kind, rt, rn)) = ldst_fields(x) else {
        return undef(x);
    };
    if rn == 15 {
        return undef(x); // literal forms have their own entries; stores with Rn=PC are UNDEFINED
    }
    if is_hint_load(kind, rt) {
        return Op::Hint(Hint::Pld);
    }
    if !rt_ok(kind, rt, c) {
        return undef(x);
    }
    imm_off(kind, rt, rn, bits(x, 11, 0))
}
fn t32_ldst_imm8(x: u32, c: &Ctx) -> Op {
    let Some((kind, rt, rn)) = ldst_fields(x) else {
        return undef(x);
    };
    let (p, u, w) = (bit(x, 10), bit(x, 9), bit(x, 8));
    let imm = bits(x, 7, 0) as i16;
    if rn == 15 || (!p && !w) {
        return undef(x);
    }
    if is_hint_load(kind, rt) {
        // PLD/PLI (immediate) T2 is the negative-offset form; others are UNPREDICTABLE.
        return if p && !u && !w {
            Op::Hint(Hint::Pld)
        } else {
            undef(x)
        };
    }
    if !rt_ok(kind, rt, c) || (w && rn == rt && c.refuses(Unpredictable::WritebackOverlap)) {
        return undef(x);
    }
    Op::MemImm {
        kind,
        rt,
        rn,
        offset: if u { imm } else { -imm },
        pre: p,
        wback: w,
        unpriv: false,
    }
}
fn t32_ldst_unpriv(x: u32, _c: &Ctx) -> Op {
    let Some((kind, rt, rn)) = ldst_fields(x) else {
        return undef(x);
    };
    if rn == 15 || bad(rt) {
        return undef(x);
    }
    Op::MemImm {
        kind,
        rt,
        rn,
        offset: bits(x, 7, 0) as i16,
        pre: true,
        wback: false,
        unpriv: true,
    }
}
fn t32_ldst_reg(x: u32, c: &Ctx) -> Op {
    let Some((kind, rt, rn)) = ldst_fields(x) else {
        return undef(x);
    };
    let rm = reg(x, 0);
    if rn == 15 || src_bad(rm, c) {
        return undef(x);
    }
    if is_hint_load(kind, rt) {
        return Op::Hint(Hint::Pld);
    }
    if !rt_ok(kind, rt, c) {
        return undef(x);
    }
    Op::MemReg {
        kind,
        rt,
        rn,
        rm,
        lsl: bits(x, 5, 4) as u8,
    }
}
fn t32_ld_lit(x: u32, c: &Ctx) -> Op {
    let Some((kind, rt, _)) = ldst_fields(x) else {
        return undef(x);
    };
    if is_hint_load(kind, rt) {
        return Op::Hint(Hint::Pld);
    }
    if !rt_ok(kind, rt, c) {
        return undef(x);
    }
    let imm = bits(x, 11, 0);
    let base = c.pc_aligned();
    let addr = if bit(x, 23) {
        base.wrapping_add(imm)
    } else {
        base.wrapping_sub(imm)
    };
    Op::MemLit { kind, rt, addr }
}
fn t32_shift_reg(x: u32, c: &Ctx) -> Op {
    let (rn, rd, rm) = (reg(x, 16), reg(x, 8), reg(x, 0));
    if bad(rd) || src_bad(rn, c) || src_bad(rm, c) {
        return undef(x);
    }
    Op::ShiftReg {
        shift: Shift::from_type(bits(x, 22, 21)),
        s: bit(x, 20),
        rd,
        rn,
        rm,
    }
}
fn t32_extend(x: u32, c: &Ctx) -> Op {
    let (rd, rm) = (reg(x, 8), reg(x, 0));
    if bad(rd) || src_bad(rm, c) {
        return undef(x);
    }
    let op = bits(x, 22, 20);
    Op::Extend {
        signed: op & 1 == 0,
        half: op < 4,
        rd,
        rm,
        rot: (bits(x, 5, 4) * 8) as u8,
    }
}
fn t32_misc(x: u32, c: &Ctx) -> Op {
    let (rm2, rd, rm) = (reg(x, 16), reg(x, 8), reg(x, 0));
    if rm2 != rm || bad(rd) || src_bad(rm, c) {
        return undef(x);
    }
    let op = match (bits(x, 21, 20), bits(x, 5, 4)) {
        (1, 0) => UnOp::Rev,
        (1, 1) => UnOp::Rev16,
        (1, 2) => UnOp::Rbit,
        (1, 3) => UnOp::Revsh,
        (3, 0) => UnOp::Clz,
        _ => return undef(x),
    };
    Op::Unary { op, rd, rm }
}
fn t32_mla(x: u32, c: &Ctx) -> Op {
    let (rn, ra, rd, rm) = (reg(x, 16), reg(x, 12), reg(x, 8), reg(x, 0));
    let sub = bit(x, 4);
    if bad(rd)
        || src_bad(rn, c)
        || src_bad(rm, c)
        || ((ra == 13 || (sub && ra == 15)) && c.refuses(Unpredictable::SpPcSource))
    {
        return undef(x);
    }
    // MLA with Ra = PC is MUL (T2); MLS with Ra = PC is UNPREDICTABLE and, where the policy
    // executes it, reads PC like any source (QEMU and Unicorn: Rd = (address + 4) - Rn * Rm).
    if ra == 15 && !sub {
        return Op::Mul {
            s: false,
            rd,
            rn,
            rm,
        };
    }
    Op::Mla {
        sub,
        rd,
        rn,
        rm,
        ra,
    }
}
fn t32_mull(x: u32, c: &Ctx) -> Op {
    let (rn, rdlo, rdhi, rm) = (reg(x, 16), reg(x, 12), reg(x, 8), reg(x, 0));
    if bad(rdlo)
        || bad(rdhi)
        || src_bad(rn, c)
        || src_bad(rm, c)
        || (rdlo == rdhi && c.refuses(Unpredictable::LongMulSameDest))
    {
        return undef(x);
    }
    let kind = match bits(x, 22, 20) {
        0 => LongMul::Smull,
        2 => LongMul::Umull,
        4 => LongMul::Smlal,
        _ => LongMul::Umlal,
    };
    Op::MulLong {
        kind,
        rdlo,
        rdhi,
        rn,
        rm,
    }
}
fn t32_div(x: u32, c: &Ctx) -> Op {
    let (rn, rd, rm) = (reg(x, 16), reg(x, 8), reg(x, 0));
    if bad(rd) || src_bad(rn, c) || src_bad(rm, c) {
        return undef(x);
    }
    Op::Div {
        signed: !bit(x, 21),
        rd,
        rn,
        rm,
    }
}
fn t32_coproc(x: u32, c: &Ctx) -> Op {
    // CP10/CP11 encodings the FP table does not list are UNDEFINED on a core with an FPU.
    if c.features.fpu != crate::state::FpuKind::None && bits(x, 11, 9) == 0b101 {
        return undef(x);
    }
    Op::NoCoprocessor { raw: x }
}

/// The 32-bit Thumb-2 encodings (A5.3), first halfword in bits 31..16.
#[rustfmt::skip]
pub static T32: &[Entry] = &[
    // Load/store multiple (A5.3.5)
    e("STM (STMIA) T2", "1110100010w0nnnnrrrrrrrrrrrrrrrr", t32_multi),
    e("LDM (LDMIA) T2 / POP T2", "1110100010w1nnnnrrrrrrrrrrrrrrrr", t32_multi),
    e("STMDB T1 / PUSH T2", "1110100100w0nnnnrrrrrrrrrrrrrrrr", t32_multi),
    e("LDMDB T1", "1110100100w1nnnnrrrrrrrrrrrrrrrr", t32_multi),
    // Load/store dual or exclusive, table branch (A5.3.6)
    e("STREX T1", "111010000100nnnnttttddddiiiiiiii", t32_strex),
    e("LDREX T1", "111010000101nnnntttt1111iiiiiiii", t32_ldrex),
    e("STRD (immediate) T1", "1110100pu1w0nnnnttttTTTTiiiiiiii", t32_dual),
    e("LDRD (immediate/literal) T1", "1110100pu1w1nnnnttttTTTTiiiiiiii", t32_dual),
    e("STREXB/STREXH T1", "111010001100nnnntttt1111010hdddd", t32_strex_bh),
    e("TBB/TBH T1", "111010001101nnnn11110000000hmmmm", t32_tb),
    e("LDREXB/LDREXH T1", "111010001101nnnntttt1111010h1111", t32_ldrex_bh),
    // Data processing (shifted register) (A5.3.11)
    e("data processing (shifted register) T1..T3", "1110101ooooSnnnn0iiiddddiittmmmm", t32_dp_shifted),
    // Coprocessor (A5.3.18): only CP10/CP11, the FPU (A6), on cores that have one
    e("coprocessor", "111011xxxxxxxxxxxxxxxxxxxxxxxxxx", t32_coproc),
    e("coprocessor", "111111xxxxxxxxxxxxxxxxxxxxxxxxxx", t32_coproc),
    // Floating-point data processing (A6.4)
    fp("VMLA/VMLS", "111011100D00nnnndddd101zNoM0mmmm", vfp::vmla),
    fp("VNMLA/VNMLS", "111011100D01nnnndddd101zNoM0mmmm", vfp::vnmla),
    fp("VMUL/VNMUL", "111011100D10nnnndddd101zNoM0mmmm", vfp::vmul),
    fp("VADD/VSUB", "111011100D11nnnndddd101zNoM0mmmm", vfp::vadd),
    fp("VDIV", "111011101D00nnnndddd101zN0M0mmmm", vfp::vdiv),
    fp("VFNMA/VFNMS", "111011101D01nnnndddd101zNoM0mmmm", vfp::vfnma),
    fp("VFMA/VFMS", "111011101D10nnnndddd101zNoM0mmmm", vfp::vfma),
    fp("VMOV (immediate)", "111011101D11iiiidddd101z0000iiii", vfp::vmov_imm),
    fp("VMOV (register)/VABS", "111011101D110000dddd101zo1M0mmmm", vfp::vmov_abs),
    fp("VNEG/VSQRT", "111011101D110001dddd101zo1M0mmmm", vfp::vneg_sqrt),
    fp("VCVTB/VCVTT", "111011101D11001odddd101zT1M0mmmm", vfp::vcvt_half),
    fp("VCMP/VCMPE", "111011101D110100dddd101zE1M0mmmm", vfp::vcmp),
    fp("VCMP/VCMPE #0", "111011101D110101dddd101zE1000000", vfp::vcmp),
    fp("VRINTR/VRINTZ", "111011101D110110dddd101zo1M0mmmm", vfp::vrint_rz),
    fp("VRINTX", "111011101D110111dddd101z01M0mmmm", vfp::vrintx),
    fp("VCVT (between double and single)", "111011101D110111dddd101z11M0mmmm", vfp::vcvt_ds),
    fp("VCVT (integer to floating point)", "111011101D111000dddd101zo1M0mmmm", vfp::vcvt_from_int),
    fp("VCVT/VCVTR (floating point to integer)", "111011101D11110udddd101zo1M0mmmm", vfp::vcvt_to_int),
    fp("VCVT (fixed point)", "111011101D111o1udddd101zx1i0iiii", vfp::vcvt_fixed),
    fp("VSEL", "111111100Dccnnnndddd101zN0M0mmmm", vfp::vsel),
    fp("VMAXNM/VMINNM", "111111101D00nnnndddd101zNoM0mmmm", vfp::vmaxnm),
    fp("VRINTA/VRINTN/VRINTP/VRINTM", "111111101D1110rrdddd101z01M0mmmm", vfp::vrint_anpm),
    fp("VCVTA/VCVTN/VCVTP/VCVTM", "111111101D1111rrdddd101zo1M0mmmm", vfp::vcvt_anpm),
    // Floating-point register transfers (A6.6, A6.7)
    fp("VMOV (core register and single)", "11101110000onnnntttt1010N0010000", vfp::vmov_core_s),
    fp("VMSR", "1110111011100001tttt101000010000", vfp::vmsr),
    fp("VMRS", "1110111011110001tttt101000010000", vfp::vmrs),
    fp("VMOV (core register and scalar)", "1110111000honnnntttt1011N0010000", vfp::vmov_scalar),
    fp("VMOV (two core registers and two singles)", "11101100010oTTTTtttt101000M1mmmm", vfp::vmov_2core),
    fp("VMOV (two core registers and a double)", "11101100010oTTTTtttt101100M1mmmm", vfp::vmov_2core),
    // Floating-point loads and stores (A6.5)
    fp("VLDR/VSTR", "11101101uD0lnnnndddd101ziiiiiiii", vfp::vldr),
    fp("VLDM/VSTM (increment after)", "111011001Dwlnnnndddd101ziiiiiiii", vfp::vldm),
    fp("VLDMDB/VSTMDB/VPUSH", "111011010D1lnnnndddd101ziiiiiiii", vfp::vldm),
    // Data processing (modified immediate) (A5.3.1)
    e("data processing (modified immediate) T1..T4", "11110i0ooooSnnnn0iiiddddiiiiiiii", t32_dp_modimm),
    // Data processing (plain binary immediate) (A5.3.3)
    e("ADDW/ADR T4/T3", "11110i100000nnnn0iiiddddiiiiiiii", t32_addw),
    e("SUBW/ADR T4/T2", "11110i101010nnnn0iiiddddiiiiiiii", t32_addw),
    e("MOVW/MOVT T3/T1", "11110i10t100iiii0iiiddddiiiiiiii", t32_mov16),
    e("SSAT/USAT T1", "11110011u0h0nnnn0iiiddddii0sssss", t32_sat),
    e("SBFX/UBFX T1", "11110011u100nnnn0iiiddddii0wwwww", t32_bfx),
    e("BFI/BFC T1", "111100110110nnnn0iiiddddii0mmmmm", t32_bfi),
    // Branches and miscellaneous control (A5.3.4)
    e("B T3", "11110scccciiiiii10j0jiiiiiiiiiii", t32_bcond),
    e("MSR T1", "111100111000nnnn1000kk00ssssssss", t32_msr),
    e("NOP/YIELD/WFE/WFI/SEV/DBG T2", "111100111010111110000000hhhhhhhh", t32_hint),
    e("CLREX T1", "11110011101111111000111100101111", t32_clrex),
    e("DSB T1", "1111001110111111100011110100oooo", t32_barrier),
    e("DMB T1", "1111001110111111100011110101oooo", t32_barrier),
    e("ISB T1", "1111001110111111100011110110oooo", t32_barrier),
    e("MRS T1", "11110011111011111000ddddssssssss", t32_mrs),
    e("UDF T2", "111101111111iiii1010iiiiiiiiiiii", t32_udf),
    e("B T4", "11110siiiiiiiiii10j1jiiiiiiiiiii", t32_b),
    e("BL T1", "11110siiiiiiiiii11j1jiiiiiiiiiii", t32_bl),
    // Store single data item (A5.3.10), loads (A5.3.7-9)
    e("STR/STRB/STRH (immediate) T2/T3", "111110001ss0nnnnttttiiiiiiiiiiii", t32_ldst_imm12),
    e("STR/STRB/STRH (immediate) T4", "111110000ss0nnnntttt1puwiiiiiiii", t32_ldst_imm8),
    e("STRT/STRBT/STRHT T1", "111110000ss0nnnntttt1110iiiiiiii", t32_ldst_unpriv),
    e("STR/STRB/STRH (register) T2", "111110000ss0nnnntttt000000iimmmm", t32_ldst_reg),
    e("LDR/LDRB/LDRH/LDRSB/LDRSH (immediate) T2/T3, PLD/PLI", "1111100s1ss1nnnnttttiiiiiiiiiiii", t32_ldst_imm12),
    e("LDR/LDRB/LDRH/LDRSB/LDRSH (immediate) T4", "1111100s0ss1nnnntttt1puwiiiiiiii", t32_ldst_imm8),
    e("LDRT/LDRBT/LDRHT/LDRSBT/LDRSHT T1", "1111100s0ss1nnnntttt1110iiiiiiii", t32_ldst_unpriv),
    e("LDR/LDRB/LDRH/LDRSB/LDRSH (register) T2", "1111100s0ss1nnnntttt000000iimmmm", t32_ldst_reg),
    e("LDR/LDRB/LDRH/LDRSB/LDRSH (literal) T1/T2", "1111100suss11111ttttiiiiiiiiiiii", t32_ld_lit),
    // Data processing (register) (A5.3.12)
    e("LSL/LSR/ASR/ROR (register) T2", "111110100ttSnnnn1111dddd0000mmmm", t32_shift_reg),
    e("SXTH/UXTH/SXTB/UXTB T2", "11111010000s11111111dddd10rrmmmm", t32_extend),
    e("SXTH/UXTH/SXTB/UXTB T2", "11111010010s11111111dddd10rrmmmm", t32_extend),
    e("REV/REV16/RBIT/REVSH/CLZ T2", "1111101010oonnnn1111dddd10oommmm", t32_misc),
    // Multiply and divide (A5.3.16, A5.3.17)
    e("MUL/MLA/MLS T2/T1/T1", "111110110000nnnnaaaadddd000ommmm", t32_mla),
    e("SMULL/UMULL/SMLAL/UMLAL T1", "111110111oo0nnnnllllhhhh0000mmmm", t32_mull),
    e("SDIV/UDIV T1", "1111101110u1nnnn1111dddd1111mmmm", t32_div),
    // DSP extension (ARMv7E-M): handlers in dsp.rs, UNDEFINED on a core without it
    e_dsp("SADD16/SASX/SSAX/SSUB16/SADD8/SSUB8, Q*, SH* T1", "111110101ooonnnn1111dddd00kkmmmm", dsp::t32_parallel),
    e_dsp("UADD16/UASX/USAX/USUB16/UADD8/USUB8, UQ*, UH* T1", "111110101ooonnnn1111dddd01kkmmmm", dsp::t32_parallel),
    e_dsp("QADD/QDADD/QSUB/QDSUB T1", "111110101000nnnn1111dddd10sommmm", dsp::t32_qaddsub),
    e_dsp("SEL T1", "111110101010nnnn1111dddd1000mmmm", dsp::t32_sel),
    e_dsp("SXTAB/SXTAH/SXTAB16/UXTAB/UXTAH/UXTAB16, SXTB16/UXTB16 T1", "111110100ooonnnn1111dddd10rrmmmm", dsp::t32_extend_add),
    e_dsp("SMLA<x><y>/SMUL<x><y> T1", "111110110001nnnnaaaadddd00NMmmmm", dsp::t32_mul16),
    e_dsp("SMLAD(X)/SMUAD(X) T1", "111110110010nnnnaaaadddd000Mmmmm", dsp::t32_mul16),
    e_dsp("SMLAW<y>/SMULW<y> T1", "111110110011nnnnaaaadddd000Mmmmm", dsp::t32_mul16),
    e_dsp("SMLSD(X)/SMUSD(X) T1", "111110110100nnnnaaaadddd000Mmmmm", dsp::t32_mul16),
    e_dsp("SMMLA(R)/SMMUL(R) T1", "111110110101nnnnaaaadddd000Rmmmm", dsp::t32_mul16),
    e_dsp("SMMLS(R) T1", "111110110110nnnnaaaadddd000Rmmmm", dsp::t32_mul16),
    e_dsp("USADA8/USAD8 T1", "111110110111nnnnaaaadddd0000mmmm", dsp::t32_mul16),
    e_dsp("SMLAL<x><y> T1", "111110111100nnnnllllhhhh10NMmmmm", dsp::t32_mul_long),
    e_dsp("SMLALD(X) T1", "111110111100nnnnllllhhhh110Xmmmm", dsp::t32_mul_long),
    e_dsp("SMLSLD(X) T1", "111110111101nnnnllllhhhh110Xmmmm", dsp::t32_mul_long),
    e_dsp("UMAAL T1", "111110111110nnnnllllhhhh0110mmmm", dsp::t32_mul_long),
    e_dsp("SSAT16/USAT16 T1", "11110011u010nnnn0000dddd0000iiii", dsp::t32_sat16),
    e_dsp("PKHBT/PKHTB T1", "111010101100nnnn0iiiddddiit0mmmm", dsp::t32_pkh),
];

fn sorted(table: &'static [Entry]) -> Vec<&'static Entry> {
    let mut v: Vec<&'static Entry> = table.iter().collect();
    v.sort_by_key(|e| std::cmp::Reverse(e.mask.count_ones()));
    v
}

fn t16_sorted() -> &'static [&'static Entry] {
    static S: OnceLock<Vec<&'static Entry>> = OnceLock::new();
    S.get_or_init(|| sorted(T16))
}
fn t32_sorted() -> &'static [&'static Entry] {
    static S: OnceLock<Vec<&'static Entry>> = OnceLock::new();
    S.get_or_init(|| sorted(T32))
}

/// True if a first halfword starts a 32-bit instruction.
#[inline]
pub fn is_32bit(hw1: u16) -> bool {
    hw1 >> 11 >= 0b11101
}

/// The table entry matching a 16-bit encoding, if any.
pub fn lookup16(raw: u16) -> Option<&'static Entry> {
    let x = u32::from(raw);
    t16_sorted().iter().copied().find(|e| x & e.mask == e.value)
}

/// The table entry matching a 32-bit encoding (first halfword in bits 31..16), if any.
pub fn lookup32(raw: u32) -> Option<&'static Entry> {
    t32_sorted()
        .iter()
        .copied()
        .find(|e| raw & e.mask == e.value)
}

/// Decode one instruction. `raw` is the halfword for 16-bit instructions or
/// `hw1 << 16 | hw2` for 32-bit ones; `len` (2 or 4) says which.
pub fn decode(raw: u32, len: u8, ctx: &Ctx) -> Op {
    let entry = if len == 2 {
        lookup16(raw as u16)
    } else {
        lookup32(raw)
    };
    match entry {
        Some(e) => (e.handler)(raw, ctx),
        None => Op::Undefined { raw },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Disasm;

    /// xorshift: deterministic, dependency-free.
    fn rng(seed: &mut u64) -> u32 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 16) as u32
    }

    #[test]
    fn patterns_have_the_right_width() {
        for e in T16 {
            assert_eq!(e.pattern.len(), 16, "{}", e.name);
            assert_eq!(e.mask >> 16, 0);
        }
        for e in T32 {
            assert_eq!(e.pattern.len(), 32, "{}", e.name);
            assert!(
                is_32bit((e.value >> 16) as u16),
                "{} is not a 32-bit encoding",
                e.name
            );
        }
    }

    #[test]
    fn every_entry_is_reachable() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        for (table, wide) in [(T16, false), (T32, true)] {
            for e in table {
                let hit = (0..2000).any(|_| {
                    let r = rng(&mut seed) | if wide { rng(&mut seed) << 16 } else { 0 };
                    let x = (r & !e.mask) | e.value;
                    let found = if wide {
                        lookup32(x)
                    } else {
                        lookup16(x as u16)
                    };
                    found.is_some_and(|f| std::ptr::eq(f, e))
                });
                assert!(
                    hit,
                    "table entry '{}' ({}) is shadowed by more specific entries",
                    e.name, e.pattern
                );
            }
        }
    }

    #[test]
    fn every_16bit_encoding_decodes_and_disassembles() {
        for raw in 0..=u16::MAX {
            if is_32bit(raw) {
                continue;
            }
            for (in_it, last) in [(false, true), (true, false), (true, true)] {
                let strict = ctx(true, in_it, last);
                let lenient = ctx(false, in_it, last);
                let op = decode(u32::from(raw), 2, &lenient);
                let _ = Disasm { op: &op, cond: 14 }.to_string();
                // The policy only relaxes: what --strict accepts decodes the same without it.
                let s = decode(u32::from(raw), 2, &strict);
                if !undefined(&s) {
                    assert_eq!(format!("{s:?}"), format!("{op:?}"), "{raw:#06x}");
                }
            }
        }
    }

    #[test]
    fn random_32bit_encodings_decode_and_disassemble() {
        let mut seed = 42u64;
        for _ in 0..200_000 {
            let mut raw = rng(&mut seed) | (rng(&mut seed) << 16);
            if !is_32bit((raw >> 16) as u16) {
                raw |= 0xe800_0000;
            }
            for features in [Features::CORTEX_M3, Features::CORTEX_M4F] {
                let ctx = Ctx {
                    pc: 0xffff_fffc,
                    in_it: raw & 1 != 0,
                    last_in_it: raw & 2 != 0,
                    features,
                };
                let op = decode(raw, 4, &ctx);
                let _ = Disasm {
                    op: &op,
                    cond: (raw & 15) as u8,
                }
                .to_string();
                let strict = Ctx {
                    features: Features {
                        strict: true,
                        ..features
                    },
                    ..ctx
                };
                let s = decode(raw, 4, &strict);
                if !undefined(&s) {
                    assert_eq!(format!("{s:?}"), format!("{op:?}"), "{raw:#010x}");
                }
            }
        }
    }

    fn ctx(strict: bool, in_it: bool, last_in_it: bool) -> Ctx {
        Ctx {
            pc: 0x1000,
            in_it,
            last_in_it,
            features: Features {
                strict,
                ..Features::CORTEX_M3
            },
        }
    }
    fn undefined(op: &Op) -> bool {
        matches!(op, Op::Undefined { .. })
    }

    #[test]
    fn unpredictable_forms_are_undefined() {
        for strict in [false, true] {
            let c = ctx(strict, false, true);
            // ADD PC, PC (16-bit) is UNPREDICTABLE
            assert!(undefined(&decode(0x44ff, 2, &c)));
            // LDM with an empty register list
            assert!(matches!(decode(0xc800, 2, &c), Op::Undefined { .. }));
            // B<cond> inside an IT block
            assert!(undefined(&decode(0xd000, 2, &ctx(strict, true, true))));
            // UDF.W
            assert!(matches!(decode(0xf7f0_a000, 4, &c), Op::Undefined { .. }));
            // A VFP instruction on a core without FPU
            assert!(matches!(
                decode(0xee30_0a00, 4, &c),
                Op::NoCoprocessor { .. }
            ));
        }
    }

    /// Every class the policy executes, decoded both ways: UNDEFINED with `--strict`, the
    /// architectural operation without (the values QEMU 7.2 computes for these encodings are
    /// checked by the `unpredictable` firmware test).
    #[test]
    fn unpredictable_policy_both_modes() {
        let cases: &[(u32, u8, bool, bool, Unpredictable, &str)] = &[
            (
                0x4508,
                2,
                false,
                true,
                Unpredictable::CmpLowRegs,
                "cmp r0, r1",
            ),
            (0x45f8, 2, false, true, Unpredictable::CmpPc, "cmp r8, pc"),
            (0x0008, 2, true, true, Unpredictable::MovsInIt, "mov"),
            (0xb660, 2, false, true, Unpredictable::CpsNoEffect, "cpsie"),
            (0xb662, 2, true, true, Unpredictable::CpsInIt, "cpsie i"),
            (0xb900, 2, true, true, Unpredictable::CbzInIt, "cbnz"),
            (
                0xf852_2b04,
                4,
                false,
                true,
                Unpredictable::WritebackOverlap,
                "ldr",
            ),
            (
                0xf842_2b04,
                4,
                false,
                true,
                Unpredictable::WritebackOverlap,
                "str",
            ),
            (
                0xe8f2_0202,
                4,
                false,
                true,
                Unpredictable::WritebackOverlap,
                "ldrd",
            ),
            (
                0xea0d_0001,
                4,
                false,
                true,
                Unpredictable::SpPcSource,
                "and",
            ),
            (
                0xeb01_000f,
                4,
                false,
                true,
                Unpredictable::SpPcSource,
                "add",
            ),
            (
                0xfb0d_f001,
                4,
                false,
                true,
                Unpredictable::SpPcSource,
                "mul",
            ),
            (
                0xfb9d_f0f1,
                4,
                false,
                true,
                Unpredictable::SpPcSource,
                "sdiv",
            ),
            (
                0xfa0d_f001,
                4,
                false,
                true,
                Unpredictable::SpPcSource,
                "lsl",
            ),
            (
                0xfba1_0001,
                4,
                false,
                true,
                Unpredictable::LongMulSameDest,
                "umull",
            ),
            (
                0xf3ef_8004,
                4,
                false,
                true,
                Unpredictable::MrsReserved,
                "mrs",
            ),
            (0xe882_2001, 4, false, true, Unpredictable::StmSpPc, "stm"),
            (0xe882_8001, 4, false, true, Unpredictable::StmSpPc, "stm"),
            (
                0xf852_000d,
                4,
                false,
                true,
                Unpredictable::SpPcSource,
                "ldr",
            ),
            (
                0xf8c2_f000,
                4,
                false,
                true,
                Unpredictable::SpPcSource,
                "str",
            ),
            (
                0xf8a2_d000,
                4,
                false,
                true,
                Unpredictable::SpPcSource,
                "strh",
            ),
        ];
        for &(raw, len, in_it, last, class, text) in cases {
            assert!(class.executes(), "{class:?}");
            let strict = decode(raw, len, &ctx(true, in_it, last));
            assert!(undefined(&strict), "{raw:#x} strict: {strict:?}");
            let lenient = decode(raw, len, &ctx(false, in_it, last));
            assert!(!undefined(&lenient), "{raw:#x} lenient");
            let shown = Disasm {
                op: &lenient,
                cond: 14,
            }
            .to_string();
            assert!(shown.starts_with(text), "{raw:#x}: {shown}");
        }
        // MLS with Ra = PC subtracts from PC (not a MUL, which is what MLA with Ra = PC is).
        assert!(
            matches!(
                decode(0xfb05_fc10, 4, &ctx(false, false, true)),
                Op::Mla {
                    sub: true,
                    ra: 15,
                    ..
                }
            ),
            "mls r12, r5, r0, pc"
        );
        assert!(matches!(
            decode(0xfb05_fc00, 4, &ctx(false, false, true)),
            Op::Mul { .. }
        ));
        // The low-register CMP T2 is exactly CMP T1 (0x4288).
        assert_eq!(
            format!("{:?}", decode(0x4508, 2, &ctx(false, false, true))),
            format!("{:?}", decode(0x4288, 2, &ctx(false, false, true)))
        );
        // Classes kept UNDEFINED either way: STREX with Rd == Rt, 32-bit LDM of one register,
        // LDM with writeback and Rn in the list, BX with should-be-zero bits set.
        for (raw, len) in [
            (0xe842_0000, 4),
            (0xe892_0001, 4),
            (0xe8b2_0005, 4),
            (0x4701, 2),
        ] {
            assert!(
                undefined(&decode(raw, len, &ctx(false, false, true))),
                "{raw:#x}"
            );
        }
    }
}
