//! Decoded operations: what the decoder produces and the executor runs.
//!
//! Each `Op` is already specialised: immediates are expanded, PC-relative addresses are
//! resolved to absolute ones, and flag setting inside IT blocks is decided.

use crate::alu::Shift;
use std::fmt;

/// Data-processing operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AluOp {
    And,
    Bic,
    Orr,
    Orn,
    Eor,
    Add,
    Adc,
    Sbc,
    Sub,
    Rsb,
    Mov,
    Mvn,
    Tst,
    Teq,
    Cmp,
    Cmn,
}

impl AluOp {
    /// True for operations that only set flags (no destination).
    pub fn is_compare(self) -> bool {
        matches!(self, AluOp::Tst | AluOp::Teq | AluOp::Cmp | AluOp::Cmn)
    }
    /// True for operations that take no first operand.
    pub fn is_move(self) -> bool {
        matches!(self, AluOp::Mov | AluOp::Mvn)
    }
    fn name(self) -> &'static str {
        match self {
            AluOp::And => "and",
            AluOp::Bic => "bic",
            AluOp::Orr => "orr",
            AluOp::Orn => "orn",
            AluOp::Eor => "eor",
            AluOp::Add => "add",
            AluOp::Adc => "adc",
            AluOp::Sbc => "sbc",
            AluOp::Sub => "sub",
            AluOp::Rsb => "rsb",
            AluOp::Mov => "mov",
            AluOp::Mvn => "mvn",
            AluOp::Tst => "tst",
            AluOp::Teq => "teq",
            AluOp::Cmp => "cmp",
            AluOp::Cmn => "cmn",
        }
    }
}

/// Size and signedness of a single load or store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemKind {
    Ldr,
    Ldrb,
    Ldrsb,
    Ldrh,
    Ldrsh,
    Str,
    Strb,
    Strh,
}

impl MemKind {
    /// True for stores.
    pub fn is_store(self) -> bool {
        matches!(self, MemKind::Str | MemKind::Strb | MemKind::Strh)
    }
    fn name(self) -> &'static str {
        match self {
            MemKind::Ldr => "ldr",
            MemKind::Ldrb => "ldrb",
            MemKind::Ldrsb => "ldrsb",
            MemKind::Ldrh => "ldrh",
            MemKind::Ldrsh => "ldrsh",
            MemKind::Str => "str",
            MemKind::Strb => "strb",
            MemKind::Strh => "strh",
        }
    }
}

/// Single-register operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Clz,
    Rbit,
    Rev,
    Rev16,
    Revsh,
}

/// Long multiplies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongMul {
    Umull,
    Smull,
    Umlal,
    Smlal,
}

/// Hint instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    Nop,
    Yield,
    Wfe,
    Wfi,
    Sev,
    Dmb,
    Dsb,
    Isb,
    Pld,
}

/// Exclusive access sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExSize {
    Byte,
    Half,
    Word,
}

/// One decoded instruction's operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Data processing with an immediate; `carry` is the shifter carry (None = unchanged).
    AluImm {
        op: AluOp,
        s: bool,
        rd: u8,
        rn: u8,
        imm: u32,
        carry: Option<bool>,
    },
    /// Data processing with a register shifted by an immediate.
    AluReg {
        op: AluOp,
        s: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        shift: Shift,
        amt: u8,
    },
    /// Shift by register: `rd = rn <shift> rm[7:0]`.
    ShiftReg {
        shift: Shift,
        s: bool,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// MOVW / MOVT.
    Mov16 { top: bool, rd: u8, imm: u16 },
    /// MUL (MULS in 16-bit outside IT).
    Mul { s: bool, rd: u8, rn: u8, rm: u8 },
    /// MLA / MLS: `rd = ra ± rn*rm`.
    Mla {
        sub: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        ra: u8,
    },
    /// UMULL/SMULL/UMLAL/SMLAL.
    MulLong {
        kind: LongMul,
        rdlo: u8,
        rdhi: u8,
        rn: u8,
        rm: u8,
    },
    /// SDIV / UDIV.
    Div {
        signed: bool,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// CLZ, RBIT, REV, REV16, REVSH.
    Unary { op: UnOp, rd: u8, rm: u8 },
    /// SXTB/SXTH/UXTB/UXTH with rotation.
    Extend {
        signed: bool,
        half: bool,
        rd: u8,
        rm: u8,
        rot: u8,
    },
    /// BFI (rn != 15) / BFC (rn == 15).
    Bfi { rd: u8, rn: u8, lsb: u8, msb: u8 },
    /// UBFX / SBFX.
    Bfx {
        signed: bool,
        rd: u8,
        rn: u8,
        lsb: u8,
        width: u8,
    },
    /// SSAT / USAT: `sat` is the saturate-to bit count.
    Sat {
        signed: bool,
        rd: u8,
        rn: u8,
        sat: u8,
        shift: Shift,
        amt: u8,
    },
    /// Load/store with an immediate offset: `offset` is signed; `pre`=index, `wback`.
    MemImm {
        kind: MemKind,
        rt: u8,
        rn: u8,
        offset: i16,
        pre: bool,
        wback: bool,
        unpriv: bool,
    },
    /// Load/store with a register offset `rn + (rm << lsl)`.
    MemReg {
        kind: MemKind,
        rt: u8,
        rn: u8,
        rm: u8,
        lsl: u8,
    },
    /// PC-relative load from an absolute address.
    MemLit { kind: MemKind, rt: u8, addr: u32 },
    /// LDRD/STRD with an immediate offset.
    Dual {
        load: bool,
        rt: u8,
        rt2: u8,
        rn: u8,
        offset: i16,
        pre: bool,
        wback: bool,
    },
    /// LDRD literal.
    DualLit { rt: u8, rt2: u8, addr: u32 },
    /// LDM/STM (IA or DB).
    Multi {
        load: bool,
        db: bool,
        rn: u8,
        list: u16,
        wback: bool,
    },
    /// LDREX{B,H}.
    Ldrex {
        size: ExSize,
        rt: u8,
        rn: u8,
        offset: u16,
    },
    /// STREX{B,H}.
    Strex {
        size: ExSize,
        rd: u8,
        rt: u8,
        rn: u8,
        offset: u16,
    },
    /// CLREX.
    Clrex,
    /// TBB / TBH.
    Table { half: bool, rn: u8, rm: u8 },
    /// B; `cond` is 14 for the unconditional encodings.
    B { cond: u8, target: u32 },
    /// BL.
    Bl { target: u32 },
    /// BX / BLX (register).
    Bx { link: bool, rm: u8 },
    /// CBZ / CBNZ.
    Cbz { nonzero: bool, rn: u8, target: u32 },
    /// IT (the executor has nothing to do: conditions are resolved at decode time).
    It { firstcond: u8, mask: u8 },
    /// MRS.
    Mrs { rd: u8, sysm: u8 },
    /// MSR.
    Msr { rn: u8, sysm: u8, mask: u8 },
    /// CPSIE / CPSID.
    Cps { disable: bool, i: bool, f: bool },
    /// Hints and barriers.
    Hint(Hint),
    /// SVC.
    Svc { imm: u8 },
    /// BKPT.
    Bkpt { imm: u8 },
    /// UDF and every UNDEFINED or UNPREDICTABLE encoding: UsageFault UNDEFINSTR.
    Undefined { raw: u32 },
    /// A coprocessor instruction with no coprocessor present: UsageFault NOCP.
    NoCoprocessor { raw: u32 },
    /// A floating-point instruction (CP10/CP11).
    Vfp(crate::vfp::VfpOp),
    /// An instruction of the DSP extension (see [`crate::dsp`]).
    Dsp(crate::dsp::DspInsn),
}

/// Register names, R0 to R15.
pub const REG_NAMES: [&str; 16] = [
    "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "sp", "lr",
    "pc",
];

fn r(n: u8) -> &'static str {
    REG_NAMES[(n & 15) as usize]
}

/// Names of the ARM condition codes.
pub const COND_NAMES: [&str; 16] = [
    "eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "", "",
];

fn reglist(list: u16) -> String {
    let v: Vec<&str> = (0..16)
        .filter(|i| list & (1 << i) != 0)
        .map(|i| r(i as u8))
        .collect();
    format!("{{{}}}", v.join(", "))
}

fn shift_suffix(shift: Shift, amt: u8) -> String {
    match (shift, amt) {
        (Shift::Lsl, 0) => String::new(),
        (Shift::Rrx, _) => ", rrx".into(),
        (s, a) => format!(", {} #{}", s.name(), a),
    }
}

fn sysm_name(sysm: u8) -> &'static str {
    match sysm {
        0 => "apsr",
        1 => "iapsr",
        2 => "eapsr",
        3 => "xpsr",
        5 => "ipsr",
        6 => "epsr",
        7 => "iepsr",
        8 => "msp",
        9 => "psp",
        16 => "primask",
        17 => "basepri",
        18 => "basepri_max",
        19 => "faultmask",
        20 => "control",
        _ => "?",
    }
}

/// Formats an operation with a condition suffix (`cond` 14 = always).
#[derive(Debug)]
pub struct Disasm<'a> {
    /// The operation.
    pub op: &'a Op,
    /// Condition code (0..=13; 14 = always).
    pub cond: u8,
}

impl fmt::Display for Disasm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = COND_NAMES[(self.cond & 15) as usize];
        let sfx = |s: bool| if s { "s" } else { "" };
        match *self.op {
            Op::AluImm {
                op, s, rd, rn, imm, ..
            } => {
                let s = if op.is_compare() { "" } else { sfx(s) };
                if op.is_compare() {
                    write!(f, "{}{c} {}, #{imm:#x}", op.name(), r(rn))
                } else if op.is_move() {
                    write!(f, "{}{s}{c} {}, #{imm:#x}", op.name(), r(rd))
                } else {
                    write!(f, "{}{s}{c} {}, {}, #{imm:#x}", op.name(), r(rd), r(rn))
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
                let sh = shift_suffix(shift, amt);
                if op.is_compare() {
                    write!(f, "{}{c} {}, {}{sh}", op.name(), r(rn), r(rm))
                } else if op.is_move() {
                    match (op, shift, amt) {
                        (AluOp::Mov, Shift::Lsl, 0) | (AluOp::Mvn, _, _) => {
                            write!(f, "{}{}{c} {}, {}{sh}", op.name(), sfx(s), r(rd), r(rm))
                        }
                        (_, Shift::Rrx, _) => write!(f, "rrx{}{c} {}, {}", sfx(s), r(rd), r(rm)),
                        _ => write!(
                            f,
                            "{}{}{c} {}, {}, #{amt}",
                            shift.name(),
                            sfx(s),
                            r(rd),
                            r(rm)
                        ),
                    }
                } else {
                    write!(
                        f,
                        "{}{}{c} {}, {}, {}{sh}",
                        op.name(),
                        sfx(s),
                        r(rd),
                        r(rn),
                        r(rm)
                    )
                }
            }
            Op::ShiftReg {
                shift,
                s,
                rd,
                rn,
                rm,
            } => {
                write!(
                    f,
                    "{}{}{c} {}, {}, {}",
                    shift.name(),
                    sfx(s),
                    r(rd),
                    r(rn),
                    r(rm)
                )
            }
            Op::Mov16 { top, rd, imm } => {
                write!(
                    f,
                    "{}{c} {}, #{imm:#x}",
                    if top { "movt" } else { "movw" },
                    r(rd)
                )
            }
            Op::Mul { s, rd, rn, rm } => {
                write!(f, "mul{}{c} {}, {}, {}", sfx(s), r(rd), r(rn), r(rm))
            }
            Op::Mla {
                sub,
                rd,
                rn,
                rm,
                ra,
            } => write!(
                f,
                "{}{c} {}, {}, {}, {}",
                if sub { "mls" } else { "mla" },
                r(rd),
                r(rn),
                r(rm),
                r(ra)
            ),
            Op::MulLong {
                kind,
                rdlo,
                rdhi,
                rn,
                rm,
            } => {
                let n = match kind {
                    LongMul::Umull => "umull",
                    LongMul::Smull => "smull",
                    LongMul::Umlal => "umlal",
                    LongMul::Smlal => "smlal",
                };
                write!(f, "{n}{c} {}, {}, {}, {}", r(rdlo), r(rdhi), r(rn), r(rm))
            }
            Op::Div { signed, rd, rn, rm } => {
                write!(
                    f,
                    "{}div{c} {}, {}, {}",
                    if signed { "s" } else { "u" },
                    r(rd),
                    r(rn),
                    r(rm)
                )
            }
            Op::Unary { op, rd, rm } => {
                let n = match op {
                    UnOp::Clz => "clz",
                    UnOp::Rbit => "rbit",
                    UnOp::Rev => "rev",
                    UnOp::Rev16 => "rev16",
                    UnOp::Revsh => "revsh",
                };
                write!(f, "{n}{c} {}, {}", r(rd), r(rm))
            }
            Op::Extend {
                signed,
                half,
                rd,
                rm,
                rot,
            } => {
                let n = format!(
                    "{}xt{}",
                    if signed { "s" } else { "u" },
                    if half { "h" } else { "b" }
                );
                if rot == 0 {
                    write!(f, "{n}{c} {}, {}", r(rd), r(rm))
                } else {
                    write!(f, "{n}{c} {}, {}, ror #{rot}", r(rd), r(rm))
                }
            }
            Op::Bfi { rd, rn, lsb, msb } => {
                if rn == 15 {
                    write!(f, "bfc{c} {}, #{lsb}, #{}", r(rd), msb - lsb + 1)
                } else {
                    write!(f, "bfi{c} {}, {}, #{lsb}, #{}", r(rd), r(rn), msb - lsb + 1)
                }
            }
            Op::Bfx {
                signed,
                rd,
                rn,
                lsb,
                width,
            } => write!(
                f,
                "{}bfx{c} {}, {}, #{lsb}, #{width}",
                if signed { "s" } else { "u" },
                r(rd),
                r(rn)
            ),
            Op::Sat {
                signed,
                rd,
                rn,
                sat,
                shift,
                amt,
            } => write!(
                f,
                "{}sat{c} {}, #{sat}, {}{}",
                if signed { "s" } else { "u" },
                r(rd),
                r(rn),
                shift_suffix(shift, amt)
            ),
            Op::MemImm {
                kind,
                rt,
                rn,
                offset,
                pre,
                wback,
                unpriv,
            } => {
                let t = if unpriv { "t" } else { "" };
                let n = kind.name();
                match (pre, wback) {
                    (true, false) if offset == 0 => write!(f, "{n}{t}{c} {}, [{}]", r(rt), r(rn)),
                    (true, false) => write!(f, "{n}{t}{c} {}, [{}, #{offset}]", r(rt), r(rn)),
                    (true, true) => write!(f, "{n}{c} {}, [{}, #{offset}]!", r(rt), r(rn)),
                    (false, _) => write!(f, "{n}{c} {}, [{}], #{offset}", r(rt), r(rn)),
                }
            }
            Op::MemReg {
                kind,
                rt,
                rn,
                rm,
                lsl,
            } => {
                if lsl == 0 {
                    write!(f, "{}{c} {}, [{}, {}]", kind.name(), r(rt), r(rn), r(rm))
                } else {
                    write!(
                        f,
                        "{}{c} {}, [{}, {}, lsl #{lsl}]",
                        kind.name(),
                        r(rt),
                        r(rn),
                        r(rm)
                    )
                }
            }
            Op::MemLit { kind, rt, addr } => {
                write!(f, "{}{c} {}, [pc] ; {addr:#010x}", kind.name(), r(rt))
            }
            Op::Dual {
                load,
                rt,
                rt2,
                rn,
                offset,
                pre,
                wback,
            } => {
                let n = if load { "ldrd" } else { "strd" };
                match (pre, wback) {
                    (true, false) => {
                        write!(f, "{n}{c} {}, {}, [{}, #{offset}]", r(rt), r(rt2), r(rn))
                    }
                    (true, true) => {
                        write!(f, "{n}{c} {}, {}, [{}, #{offset}]!", r(rt), r(rt2), r(rn))
                    }
                    (false, _) => write!(f, "{n}{c} {}, {}, [{}], #{offset}", r(rt), r(rt2), r(rn)),
                }
            }
            Op::DualLit { rt, rt2, addr } => {
                write!(f, "ldrd{c} {}, {}, [pc] ; {addr:#010x}", r(rt), r(rt2))
            }
            Op::Multi {
                load,
                db,
                rn,
                list,
                wback,
            } => {
                let w = if wback { "!" } else { "" };
                if rn == 13 && wback && (load != db) {
                    write!(
                        f,
                        "{}{c} {}",
                        if load { "pop" } else { "push" },
                        reglist(list)
                    )
                } else {
                    let n = match (load, db) {
                        (true, false) => "ldm",
                        (true, true) => "ldmdb",
                        (false, false) => "stm",
                        (false, true) => "stmdb",
                    };
                    write!(f, "{n}{c} {}{w}, {}", r(rn), reglist(list))
                }
            }
            Op::Ldrex {
                size,
                rt,
                rn,
                offset,
            } => {
                let n = match size {
                    ExSize::Byte => "ldrexb",
                    ExSize::Half => "ldrexh",
                    ExSize::Word => "ldrex",
                };
                write!(f, "{n}{c} {}, [{}, #{offset}]", r(rt), r(rn))
            }
            Op::Strex {
                size,
                rd,
                rt,
                rn,
                offset,
            } => {
                let n = match size {
                    ExSize::Byte => "strexb",
                    ExSize::Half => "strexh",
                    ExSize::Word => "strex",
                };
                write!(f, "{n}{c} {}, {}, [{}, #{offset}]", r(rd), r(rt), r(rn))
            }
            Op::Clrex => write!(f, "clrex{c}"),
            Op::Table { half, rn, rm } => {
                if half {
                    write!(f, "tbh{c} [{}, {}, lsl #1]", r(rn), r(rm))
                } else {
                    write!(f, "tbb{c} [{}, {}]", r(rn), r(rm))
                }
            }
            Op::B { cond, target } => {
                let c = if cond < 14 {
                    COND_NAMES[cond as usize]
                } else {
                    c
                };
                write!(f, "b{c} {target:#x}")
            }
            Op::Bl { target } => write!(f, "bl{c} {target:#x}"),
            Op::Bx { link, rm } => write!(f, "{}{c} {}", if link { "blx" } else { "bx" }, r(rm)),
            Op::Cbz {
                nonzero,
                rn,
                target,
            } => {
                write!(
                    f,
                    "{} {}, {target:#x}",
                    if nonzero { "cbnz" } else { "cbz" },
                    r(rn)
                )
            }
            Op::It { firstcond, mask } => {
                let mut s = String::new();
                let bit0 = firstcond & 1;
                let n = 4 - mask.trailing_zeros() as u8;
                for i in 1..n {
                    let b = (mask >> (4 - i)) & 1;
                    s.push(if b == bit0 { 't' } else { 'e' });
                }
                let cond = if firstcond >= 14 {
                    "al"
                } else {
                    COND_NAMES[firstcond as usize]
                };
                write!(f, "it{s} {cond}")
            }
            Op::Mrs { rd, sysm } => write!(f, "mrs{c} {}, {}", r(rd), sysm_name(sysm)),
            Op::Msr { rn, sysm, mask } => {
                if sysm < 8 && mask != 2 {
                    write!(
                        f,
                        "msr{c} {}_{}, {}",
                        sysm_name(sysm),
                        if mask == 1 { "g" } else { "nzcvqg" },
                        r(rn)
                    )
                } else {
                    write!(f, "msr{c} {}, {}", sysm_name(sysm), r(rn))
                }
            }
            Op::Cps { disable, i, f: fl } => write!(
                f,
                "cps{} {}{}",
                if disable { "id" } else { "ie" },
                if i { "i" } else { "" },
                if fl { "f" } else { "" }
            ),
            Op::Hint(h) => {
                let n = match h {
                    Hint::Nop => "nop",
                    Hint::Yield => "yield",
                    Hint::Wfe => "wfe",
                    Hint::Wfi => "wfi",
                    Hint::Sev => "sev",
                    Hint::Dmb => "dmb",
                    Hint::Dsb => "dsb",
                    Hint::Isb => "isb",
                    Hint::Pld => "pld",
                };
                write!(f, "{n}{c}")
            }
            Op::Svc { imm } => write!(f, "svc{c} #{imm}"),
            Op::Bkpt { imm } => write!(f, "bkpt #{imm:#04x}"),
            Op::Undefined { raw } => {
                if raw >> 8 == 0xde {
                    write!(f, "udf #{}", raw & 0xff)
                } else if raw & 0xfff0_f000 == 0xf7f0_a000 {
                    write!(f, "udf.w #{}", ((raw >> 4) & 0xf000) | (raw & 0xfff))
                } else {
                    write!(f, "<undefined or unpredictable encoding {raw:#x}>")
                }
            }
            Op::NoCoprocessor { raw } => write!(f, "<coprocessor {raw:#010x}>"),
            Op::Vfp(ref v) => crate::vfp::disasm(v, c, f),
            Op::Dsp(ref d) => crate::dsp::disasm(d, c, f),
        }
    }
}
