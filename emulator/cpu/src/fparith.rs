//! Bit-exact Arm floating point on raw bits, following the ARMv7-M ARM (DDI0403E) pseudocode:
//! FPUnpack, FPRound, FPProcessNaN(s), FPAdd/FPSub/FPMul/FPMulAdd/FPDiv/FPSqrt, FPCompare,
//! FPMaxNum/FPMinNum, FPRoundInt, FPToFixed/FixedToFP and the precision conversions.
//!
//! `fpscr` is read for AHP (26), DN (25), FZ (24) and RMode (23:22); the cumulative flags
//! IOC DZC OFC UFC IXC IDC are ORed into it and nothing else is written.
//!
//! How the arithmetic stays exact: every finite non-zero operand is unpacked to
//! `mantissa * 2^exponent` with an integer mantissa (at most 53 bits). Products are exact in
//! u128; sums align both operands with their top bit at bit 125 and fold anything shifted
//! out below bit 0 into a "jam" bit (bit 0 set); quotients and square roots are computed to at
//! least 61 bits and jam a non-zero remainder the same way. A jammed value and the exact value
//! lie strictly inside the same interval between multiples of 2 (in units of the last bit),
//! and `round` always drops at least 3 bits from such values, so both round identically and
//! raise the same flags. `round` itself is FPRound written on those integers (tininess
//! before rounding, output flush-to-zero raising UFC, overflow to infinity or max-normal).
//! No host floating point is used.

/// Rounding modes (FPSCR.RMode values 0..=3 map to TieEven, PosInf, NegInf, Zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Round to nearest, ties to even (RN).
    TieEven,
    /// Round towards plus infinity (RP).
    PosInf,
    /// Round towards minus infinity (RM).
    NegInf,
    /// Round towards zero (RZ).
    Zero,
    /// Round to nearest, ties away from zero (VCVTA/VRINTA only).
    TieAway,
}

impl Rounding {
    /// The mode selected by FPSCR.RMode (bits 23:22).
    pub fn from_fpscr(fpscr: u32) -> Rounding {
        match (fpscr >> 22) & 3 {
            0 => Rounding::TieEven,
            1 => Rounding::PosInf,
            2 => Rounding::NegInf,
            _ => Rounding::Zero,
        }
    }
}

/// FPSCR cumulative exception flags.
pub const IOC: u32 = 1 << 0;
/// Division by zero.
pub const DZC: u32 = 1 << 1;
/// Overflow.
pub const OFC: u32 = 1 << 2;
/// Underflow.
pub const UFC: u32 = 1 << 3;
/// Inexact.
pub const IXC: u32 = 1 << 4;
/// Input denormal (flushed to zero by FZ).
pub const IDC: u32 = 1 << 7;
/// FPSCR.FZ: flush-to-zero.
pub const FZ: u32 = 1 << 24;
/// FPSCR.DN: default NaN.
pub const DN: u32 = 1 << 25;
/// FPSCR.AHP: alternative half-precision.
pub const AHP: u32 = 1 << 26;

/// A binary format: exponent and fraction widths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fmt {
    e: u32,
    f: u32,
}

const F16: Fmt = Fmt { e: 5, f: 10 };
const F32: Fmt = Fmt { e: 8, f: 23 };
const F64: Fmt = Fmt { e: 11, f: 52 };

impl Fmt {
    fn is_half(self) -> bool {
        self.e == 5
    }
    fn bias(self) -> i32 {
        (1 << (self.e - 1)) - 1
    }
    /// The exponent of the smallest normal number.
    fn min_exp(self) -> i32 {
        1 - self.bias()
    }
    fn sign_bit(self) -> u64 {
        1 << (self.e + self.f)
    }
    fn frac_mask(self) -> u64 {
        (1 << self.f) - 1
    }
    fn exp_ones(self) -> u64 {
        ((1 << self.e) - 1) << self.f
    }
    fn quiet_bit(self) -> u64 {
        1 << (self.f - 1)
    }
    fn sign(self, s: bool) -> u64 {
        if s {
            self.sign_bit()
        } else {
            0
        }
    }
    fn zero(self, s: bool) -> u64 {
        self.sign(s)
    }
    fn inf(self, s: bool) -> u64 {
        self.sign(s) | self.exp_ones()
    }
    fn max_normal(self, s: bool) -> u64 {
        self.sign(s) | (self.exp_ones() - (1 << self.f)) | self.frac_mask()
    }
    fn default_nan(self) -> u64 {
        self.exp_ones() | self.quiet_bit()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zero,
    Inf,
    QNaN,
    SNaN,
    /// Finite non-zero: `mant * 2^exp`.
    Num,
}

#[derive(Debug, Clone, Copy)]
struct Unpacked {
    kind: Kind,
    sign: bool,
    mant: u64,
    exp: i32,
}

impl Unpacked {
    fn is_nan(&self) -> bool {
        matches!(self.kind, Kind::QNaN | Kind::SNaN)
    }
}

/// FPUnpack: FZ flushes single/double denormal inputs to zero (raising IDC); half precision
/// is never flushed and has no infinities or NaNs when AHP = 1.
fn unpack(fmt: Fmt, bits: u64, fpscr: &mut u32) -> Unpacked {
    let sign = bits & fmt.sign_bit() != 0;
    let exp = (bits >> fmt.f) & ((1 << fmt.e) - 1);
    let frac = bits & fmt.frac_mask();
    let mut u = Unpacked {
        kind: Kind::Num,
        sign,
        mant: 0,
        exp: 0,
    };
    if exp == 0 {
        if frac == 0 || (!fmt.is_half() && *fpscr & FZ != 0) {
            if frac != 0 {
                *fpscr |= IDC;
            }
            u.kind = Kind::Zero;
        } else {
            u.mant = frac;
            u.exp = fmt.min_exp() - fmt.f as i32;
        }
    } else if exp == (1 << fmt.e) - 1 && !(fmt.is_half() && *fpscr & AHP != 0) {
        u.kind = if frac == 0 {
            Kind::Inf
        } else if frac & fmt.quiet_bit() != 0 {
            Kind::QNaN
        } else {
            Kind::SNaN
        };
    } else {
        u.mant = frac | (1 << fmt.f);
        u.exp = exp as i32 - fmt.bias() - fmt.f as i32;
    }
    u
}

/// Whether a magnitude truncated to `q` with the dropped part compared against one half
/// (`gt`: more, `eq`: exactly) and `nz` (anything dropped) is incremented, for a value of
/// sign `sign`. This is the `round_up` of FPRound, FPRoundInt and FPToFixed in magnitude terms.
fn round_up(rm: Rounding, sign: bool, q_odd: bool, gt: bool, eq: bool, nz: bool) -> bool {
    match rm {
        Rounding::TieEven => gt || (eq && q_odd),
        Rounding::PosInf => nz && !sign,
        Rounding::NegInf => nz && sign,
        Rounding::Zero => false,
        Rounding::TieAway => gt || eq,
    }
}

/// Splits `mant` at bit `shift`: (mant >> shift, dropped > half, dropped == half, dropped != 0).
fn split(mant: u128, shift: u32) -> (u128, bool, bool, bool) {
    if shift == 0 {
        (mant, false, false, false)
    } else if shift > 128 {
        (0, false, false, mant != 0)
    } else {
        let q = if shift == 128 { 0 } else { mant >> shift };
        let rem = if shift == 128 {
            mant
        } else {
            mant & ((1u128 << shift) - 1)
        };
        let half = 1u128 << (shift - 1);
        (q, rem > half, rem == half, rem != 0)
    }
}

/// FPRound of the non-zero value `(-1)^sign * mant * 2^exp` to `fmt` with rounding `rm`;
/// FZ and AHP are read from `fpscr`.
fn round(fmt: Fmt, sign: bool, exp: i32, mant: u128, rm: Rounding, fpscr: &mut u32) -> u64 {
    if mant == 0 {
        // Not reachable from the callers (they treat exact zeros first); keep it total.
        return fmt.zero(sign);
    }
    let msb = 127 - mant.leading_zeros() as i32;
    // The value lies in [2^e, 2^(e+1)).
    let e = exp + msb;
    let min_exp = fmt.min_exp();
    if !fmt.is_half() && *fpscr & FZ != 0 && e < min_exp {
        *fpscr |= UFC;
        return fmt.zero(sign);
    }
    let mut biased = (e - min_exp + 1).max(0);
    let lsb_exp = if biased > 0 { e } else { min_exp } - fmt.f as i32;
    let shift = lsb_exp - exp;
    let (mut int_mant, gt, eq, nz) = if shift <= 0 {
        // Exact: the value has no bits below the result's last place (e - lsb_exp <= F).
        (mant << (-shift) as u32, false, false, false)
    } else {
        split(mant, shift as u32)
    };
    if biased == 0 && nz {
        *fpscr |= UFC;
    }
    let overflow_to_inf = match rm {
        Rounding::TieEven | Rounding::TieAway => true,
        Rounding::PosInf => !sign,
        Rounding::NegInf => sign,
        Rounding::Zero => false,
    };
    if round_up(rm, sign, int_mant & 1 != 0, gt, eq, nz) {
        int_mant += 1;
        if int_mant == 1 << fmt.f {
            biased = 1;
        }
        if int_mant == 1 << (fmt.f + 1) {
            biased += 1;
            int_mant >>= 1;
        }
    }
    let mut inexact = nz;
    let result;
    if !fmt.is_half() || *fpscr & AHP == 0 {
        if biased >= (1 << fmt.e) - 1 {
            result = if overflow_to_inf {
                fmt.inf(sign)
            } else {
                fmt.max_normal(sign)
            };
            *fpscr |= OFC;
            inexact = true;
        } else {
            result =
                fmt.sign(sign) | (biased as u64) << fmt.f | (int_mant as u64 & fmt.frac_mask());
        }
    } else if biased >= 1 << fmt.e {
        result = fmt.sign(sign) | 0x7fff;
        *fpscr |= IOC;
        inexact = false;
    } else {
        result = fmt.sign(sign) | (biased as u64) << fmt.f | (int_mant as u64 & fmt.frac_mask());
    }
    if inexact {
        *fpscr |= IXC;
    }
    result
}

/// FPProcessNaN: quiet a signalling NaN (raising IOC); DN gives the default NaN.
fn process_nan(fmt: Fmt, u: &Unpacked, bits: u64, fpscr: &mut u32) -> u64 {
    let mut r = bits;
    if u.kind == Kind::SNaN {
        r |= fmt.quiet_bit();
        *fpscr |= IOC;
    }
    if *fpscr & DN != 0 {
        r = fmt.default_nan();
    }
    r
}

/// FPProcessNaNs / FPProcessNaNs3: the first signalling NaN, else the first quiet NaN.
fn process_nans(fmt: Fmt, ops: &[(Unpacked, u64)], fpscr: &mut u32) -> Option<u64> {
    for want in [Kind::SNaN, Kind::QNaN] {
        if let Some((u, b)) = ops.iter().find(|(u, _)| u.kind == want) {
            return Some(process_nan(fmt, u, *b, fpscr));
        }
    }
    None
}

fn invalid(fmt: Fmt, fpscr: &mut u32) -> u64 {
    *fpscr |= IOC;
    fmt.default_nan()
}

/// A signed exact value `(-1)^sign * mant * 2^exp`; `mant == 0` is zero.
type Val = (bool, i32, u128);

/// Right shift folding the shifted-out bits into bit 0.
fn jam_shr(m: u128, d: u32) -> u128 {
    if d == 0 {
        m
    } else if d >= 128 {
        u128::from(m != 0)
    } else {
        (m >> d) | u128::from(m & ((1u128 << d) - 1) != 0)
    }
}

/// a + b, exact up to a jam bit (see the module docs); None if the sum is exactly zero.
/// Mantissas must be below 2^126.
fn add_vals(a: Val, b: Val) -> Option<Val> {
    if a.2 == 0 && b.2 == 0 {
        return None;
    }
    if a.2 == 0 {
        return Some(b);
    }
    if b.2 == 0 {
        return Some(a);
    }
    let norm = |v: Val| -> Val {
        let sh = 125 - (127 - v.2.leading_zeros() as i32);
        (v.0, v.1 - sh, v.2 << sh as u32)
    };
    let (mut x, mut y) = (norm(a), norm(b));
    if (y.1, y.2) > (x.1, x.2) {
        std::mem::swap(&mut x, &mut y);
    }
    let d = (x.1 - y.1) as u32;
    let ym = jam_shr(y.2, d);
    if x.0 == y.0 {
        Some((x.0, x.1, x.2 + ym))
    } else if x.2 == ym {
        None
    } else {
        Some((x.0, x.1, x.2 - ym))
    }
}

fn rmode(fpscr: u32) -> Rounding {
    Rounding::from_fpscr(fpscr)
}

/// Rounds an exact sum; an exact zero gets the sign the rounding mode gives (-0 in RM).
fn round_sum(fmt: Fmt, v: Option<Val>, fpscr: &mut u32) -> u64 {
    match v {
        None => fmt.zero(rmode(*fpscr) == Rounding::NegInf),
        Some((s, e, m)) => round(fmt, s, e, m, rmode(*fpscr), fpscr),
    }
}

fn val(u: &Unpacked) -> Val {
    (u.sign, u.exp, u128::from(u.mant))
}

/// FPAdd (FPSub with `sub`).
fn add(fmt: Fmt, op1: u64, op2: u64, sub: bool, fpscr: &mut u32) -> u64 {
    let u1 = unpack(fmt, op1, fpscr);
    let u2 = unpack(fmt, op2, fpscr);
    if let Some(r) = process_nans(fmt, &[(u1, op1), (u2, op2)], fpscr) {
        return r;
    }
    let (s1, s2) = (u1.sign, u2.sign ^ sub);
    let (inf1, inf2) = (u1.kind == Kind::Inf, u2.kind == Kind::Inf);
    if inf1 && inf2 && s1 != s2 {
        invalid(fmt, fpscr)
    } else if inf1 || inf2 {
        fmt.inf(if inf1 { s1 } else { s2 })
    } else if u1.kind == Kind::Zero && u2.kind == Kind::Zero && s1 == s2 {
        fmt.zero(s1)
    } else {
        let b = (s2, u2.exp, u128::from(u2.mant));
        round_sum(fmt, add_vals(val(&u1), b), fpscr)
    }
}

/// FPMul.
fn mul(fmt: Fmt, op1: u64, op2: u64, fpscr: &mut u32) -> u64 {
    let u1 = unpack(fmt, op1, fpscr);
    let u2 = unpack(fmt, op2, fpscr);
    if let Some(r) = process_nans(fmt, &[(u1, op1), (u2, op2)], fpscr) {
        return r;
    }
    let s = u1.sign ^ u2.sign;
    let (inf1, inf2) = (u1.kind == Kind::Inf, u2.kind == Kind::Inf);
    let (zero1, zero2) = (u1.kind == Kind::Zero, u2.kind == Kind::Zero);
    if (inf1 && zero2) || (zero1 && inf2) {
        invalid(fmt, fpscr)
    } else if inf1 || inf2 {
        fmt.inf(s)
    } else if zero1 || zero2 {
        fmt.zero(s)
    } else {
        let m = u128::from(u1.mant) * u128::from(u2.mant);
        round(fmt, s, u1.exp + u2.exp, m, rmode(*fpscr), fpscr)
    }
}

/// FPMulAdd: addend + op1 * op2 with one rounding.
fn muladd(fmt: Fmt, addend: u64, op1: u64, op2: u64, fpscr: &mut u32) -> u64 {
    let ua = unpack(fmt, addend, fpscr);
    let u1 = unpack(fmt, op1, fpscr);
    let u2 = unpack(fmt, op2, fpscr);
    let (inf1, inf2) = (u1.kind == Kind::Inf, u2.kind == Kind::Inf);
    let (zero1, zero2) = (u1.kind == Kind::Zero, u2.kind == Kind::Zero);
    let nan = process_nans(fmt, &[(ua, addend), (u1, op1), (u2, op2)], fpscr);
    if ua.kind == Kind::QNaN && ((inf1 && zero2) || (zero1 && inf2)) {
        return invalid(fmt, fpscr);
    }
    if let Some(r) = nan {
        return r;
    }
    let sa = ua.sign;
    let sp = u1.sign ^ u2.sign;
    let inf_a = ua.kind == Kind::Inf;
    let inf_p = inf1 || inf2;
    let zero_a = ua.kind == Kind::Zero;
    let zero_p = zero1 || zero2;
    if (inf1 && zero2) || (zero1 && inf2) || (inf_a && inf_p && sa != sp) {
        invalid(fmt, fpscr)
    } else if (inf_a && !sa) || (inf_p && !sp) {
        fmt.inf(false)
    } else if inf_a || inf_p {
        fmt.inf(true)
    } else if zero_a && zero_p && sa == sp {
        fmt.zero(sa)
    } else {
        let p = (
            sp,
            u1.exp + u2.exp,
            u128::from(u1.mant) * u128::from(u2.mant),
        );
        round_sum(fmt, add_vals(val(&ua), p), fpscr)
    }
}

/// FPDiv.
fn div(fmt: Fmt, op1: u64, op2: u64, fpscr: &mut u32) -> u64 {
    let u1 = unpack(fmt, op1, fpscr);
    let u2 = unpack(fmt, op2, fpscr);
    if let Some(r) = process_nans(fmt, &[(u1, op1), (u2, op2)], fpscr) {
        return r;
    }
    let s = u1.sign ^ u2.sign;
    let (inf1, inf2) = (u1.kind == Kind::Inf, u2.kind == Kind::Inf);
    let (zero1, zero2) = (u1.kind == Kind::Zero, u2.kind == Kind::Zero);
    if (inf1 && inf2) || (zero1 && zero2) {
        invalid(fmt, fpscr)
    } else if inf1 || zero2 {
        if !inf1 {
            *fpscr |= DZC;
        }
        fmt.inf(s)
    } else if zero1 || inf2 {
        fmt.zero(s)
    } else {
        // Dividend with its top bit at 124, divisor at 62: the quotient has >= 61 bits.
        let sh1 = u1.mant.leading_zeros() + 61;
        let sh2 = u2.mant.leading_zeros() - 1;
        let n = u128::from(u1.mant) << sh1;
        let d = u128::from(u2.mant << sh2);
        let (q, rem) = (n / d, n % d);
        let q = q | u128::from(rem != 0);
        let exp = (u1.exp - sh1 as i32) - (u2.exp - sh2 as i32);
        round(fmt, s, exp, q, rmode(*fpscr), fpscr)
    }
}

/// Integer square root: floor(sqrt(n)).
fn isqrt(n: u128) -> u128 {
    let mut rem = n;
    let mut res: u128 = 0;
    let mut bit: u128 = 1 << 126;
    while bit > n {
        bit >>= 2;
    }
    while bit != 0 {
        if rem >= res + bit {
            rem -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    res
}

/// FPSqrt.
fn sqrt(fmt: Fmt, op: u64, fpscr: &mut u32) -> u64 {
    let u = unpack(fmt, op, fpscr);
    match u.kind {
        Kind::SNaN | Kind::QNaN => process_nan(fmt, &u, op, fpscr),
        Kind::Zero => fmt.zero(u.sign),
        Kind::Inf if !u.sign => fmt.inf(false),
        _ if u.sign => invalid(fmt, fpscr),
        _ => {
            // Top bit at 124 or 125 with an even exponent: the root has >= 62 bits.
            let msb = 63 - u.mant.leading_zeros() as i32;
            let mut sh = 124 - msb;
            if (u.exp - sh) % 2 != 0 {
                sh += 1;
            }
            let n = u128::from(u.mant) << sh as u32;
            let r = isqrt(n);
            let r = r | u128::from(r * r != n);
            round(fmt, false, (u.exp - sh) / 2, r, rmode(*fpscr), fpscr)
        }
    }
}

/// A key ordering non-NaN values by value (zeros equal whatever their sign).
fn order_key(fmt: Fmt, u: &Unpacked, bits: u64) -> i128 {
    if u.kind == Kind::Zero {
        0
    } else {
        let mag = i128::from(bits & !fmt.sign_bit());
        if u.sign {
            -mag
        } else {
            mag
        }
    }
}

/// FPCompare: NZCV in bits 31:28.
fn compare(fmt: Fmt, op1: u64, op2: u64, quiet_nan_exc: bool, fpscr: &mut u32) -> u32 {
    let u1 = unpack(fmt, op1, fpscr);
    let u2 = unpack(fmt, op2, fpscr);
    if u1.is_nan() || u2.is_nan() {
        if u1.kind == Kind::SNaN || u2.kind == Kind::SNaN || quiet_nan_exc {
            *fpscr |= IOC;
        }
        return 0x3000_0000;
    }
    let (k1, k2) = (order_key(fmt, &u1, op1), order_key(fmt, &u2, op2));
    match k1.cmp(&k2) {
        std::cmp::Ordering::Equal => 0x6000_0000,
        std::cmp::Ordering::Less => 0x8000_0000,
        std::cmp::Ordering::Greater => 0x2000_0000,
    }
}

/// FPMax (`max`) or FPMin.
fn max_min(fmt: Fmt, op1: u64, op2: u64, max: bool, fpscr: &mut u32) -> u64 {
    let u1 = unpack(fmt, op1, fpscr);
    let u2 = unpack(fmt, op2, fpscr);
    if let Some(r) = process_nans(fmt, &[(u1, op1), (u2, op2)], fpscr) {
        return r;
    }
    let (k1, k2) = (order_key(fmt, &u1, op1), order_key(fmt, &u2, op2));
    let first = if max { k1 > k2 } else { k1 < k2 };
    let (u, bits) = if first { (u1, op1) } else { (u2, op2) };
    match u.kind {
        Kind::Inf => fmt.inf(u.sign),
        Kind::Zero => fmt.zero(if max {
            u1.sign && u2.sign
        } else {
            u1.sign || u2.sign
        }),
        // FPRound of a representable value (never a denormal under FZ) is the value itself.
        _ => bits,
    }
}

/// FPMaxNum / FPMinNum: a single quiet NaN operand is treated as -inf (max) / +inf (min).
fn max_min_num(fmt: Fmt, mut op1: u64, mut op2: u64, max: bool, fpscr: &mut u32) -> u64 {
    let q1 = unpack(fmt, op1, fpscr).kind == Kind::QNaN;
    let q2 = unpack(fmt, op2, fpscr).kind == Kind::QNaN;
    if q1 && !q2 {
        op1 = fmt.inf(max);
    } else if !q1 && q2 {
        op2 = fmt.inf(max);
    }
    max_min(fmt, op1, op2, max, fpscr)
}

/// The magnitude of a finite value `mant * 2^exp` rounded to an integer with `rm` for a value
/// of sign `sign`: (magnitude, inexact). Magnitudes beyond 2^117 are reported as u128::MAX.
fn round_to_integer(mant: u64, exp: i32, sign: bool, rm: Rounding) -> (u128, bool) {
    if exp >= 0 {
        if exp > 64 {
            return (u128::MAX, false);
        }
        return (u128::from(mant) << exp as u32, false);
    }
    let (q, gt, eq, nz) = split(u128::from(mant), exp.unsigned_abs());
    let q = q + u128::from(round_up(rm, sign, q & 1 != 0, gt, eq, nz));
    (q, nz)
}

/// FPRoundInt.
fn round_int(fmt: Fmt, op: u64, rm: Rounding, exact: bool, fpscr: &mut u32) -> u64 {
    let u = unpack(fmt, op, fpscr);
    match u.kind {
        Kind::SNaN | Kind::QNaN => process_nan(fmt, &u, op, fpscr),
        Kind::Inf => fmt.inf(u.sign),
        Kind::Zero => fmt.zero(u.sign),
        Kind::Num => {
            if u.exp >= 0 {
                return op; // already integral
            }
            let (q, inexact) = round_to_integer(u.mant, u.exp, u.sign, rm);
            let r = if q == 0 {
                fmt.zero(u.sign)
            } else {
                round(fmt, u.sign, 0, q, rm, fpscr) // exact
            };
            if inexact && exact {
                *fpscr |= IXC;
            }
            r
        }
    }
}

/// FPToFixed, saturating to `size` bits and extending the result to 32.
fn to_fixed(
    fmt: Fmt,
    op: u64,
    size: u32,
    fbits: u32,
    unsigned: bool,
    rm: Rounding,
    fpscr: &mut u32,
) -> u32 {
    let size = size.clamp(1, 32);
    let u = unpack(fmt, op, fpscr);
    let (lo, hi): (i128, i128) = if unsigned {
        (0, (1i128 << size) - 1)
    } else {
        (-(1i128 << (size - 1)), (1i128 << (size - 1)) - 1)
    };
    let (v, inexact) = match u.kind {
        Kind::SNaN | Kind::QNaN => {
            *fpscr |= IOC;
            (0, false)
        }
        Kind::Zero => (0, false),
        Kind::Inf => (if u.sign { i128::MIN } else { i128::MAX }, false),
        Kind::Num => {
            let (q, inexact) = round_to_integer(u.mant, u.exp + fbits.min(256) as i32, u.sign, rm);
            let q = i128::try_from(q).unwrap_or(i128::MAX);
            (if u.sign { -q } else { q }, inexact)
        }
    };
    let sat = v.clamp(lo, hi);
    if sat != v {
        *fpscr |= IOC;
    } else if inexact {
        *fpscr |= IXC;
    }
    sat as u32
}

/// FixedToFP: the low `size` bits of `x` as fixed point with `fbits` fraction bits.
fn from_fixed(
    fmt: Fmt,
    x: u32,
    size: u32,
    fbits: u32,
    unsigned: bool,
    rm: Rounding,
    fpscr: &mut u32,
) -> u64 {
    let size = size.clamp(1, 32);
    let raw = u64::from(x) & ((1u64 << size) - 1);
    let v: i64 = if unsigned || raw >> (size - 1) == 0 {
        raw as i64
    } else {
        raw as i64 - (1i64 << size)
    };
    if v == 0 {
        return fmt.zero(false);
    }
    let exp = -(fbits.min(256) as i32);
    round(fmt, v < 0, exp, u128::from(v.unsigned_abs()), rm, fpscr)
}

/// FPConvert between formats (FPSingleToDouble, FPHalfToSingle, ...).
fn convert(from: Fmt, to: Fmt, op: u64, fpscr: &mut u32) -> u64 {
    let u = unpack(from, op, fpscr);
    let ahp_out = to.is_half() && *fpscr & AHP != 0;
    match u.kind {
        Kind::SNaN | Kind::QNaN => {
            let r = if ahp_out {
                *fpscr |= IOC;
                to.zero(u.sign)
            } else if *fpscr & DN != 0 {
                to.default_nan()
            } else {
                let payload = op & (from.quiet_bit() - 1);
                let payload = if to.f >= from.f {
                    payload << (to.f - from.f)
                } else {
                    payload >> (from.f - to.f)
                };
                to.sign(u.sign) | to.exp_ones() | to.quiet_bit() | payload
            };
            if u.kind == Kind::SNaN {
                *fpscr |= IOC;
            }
            r
        }
        Kind::Inf if ahp_out => {
            *fpscr |= IOC;
            to.sign(u.sign) | 0x7fff
        }
        Kind::Inf => to.inf(u.sign),
        Kind::Zero => to.zero(u.sign),
        Kind::Num => round(to, u.sign, u.exp, u128::from(u.mant), rmode(*fpscr), fpscr),
    }
}

macro_rules! api {
    ($fmt:expr, $t:ty, $add:ident, $sub:ident, $mul:ident, $div:ident, $muladd:ident,
     $sqrt:ident, $cmp:ident, $max:ident, $min:ident, $rint:ident, $tofix:ident,
     $fromfix:ident) => {
        /// FPAdd.
        pub fn $add(a: $t, b: $t, fpscr: &mut u32) -> $t {
            add($fmt, a.into(), b.into(), false, fpscr) as $t
        }
        /// FPSub.
        pub fn $sub(a: $t, b: $t, fpscr: &mut u32) -> $t {
            add($fmt, a.into(), b.into(), true, fpscr) as $t
        }
        /// FPMul.
        pub fn $mul(a: $t, b: $t, fpscr: &mut u32) -> $t {
            mul($fmt, a.into(), b.into(), fpscr) as $t
        }
        /// FPDiv.
        pub fn $div(a: $t, b: $t, fpscr: &mut u32) -> $t {
            div($fmt, a.into(), b.into(), fpscr) as $t
        }
        /// Fused: addend + a*b with a single rounding (FPMulAdd). VFMS/VFNMA/VFNMS negate
        /// operands with a plain sign flip before calling this, as the pseudocode does.
        pub fn $muladd(addend: $t, a: $t, b: $t, fpscr: &mut u32) -> $t {
            muladd($fmt, addend.into(), a.into(), b.into(), fpscr) as $t
        }
        /// FPSqrt.
        pub fn $sqrt(a: $t, fpscr: &mut u32) -> $t {
            sqrt($fmt, a.into(), fpscr) as $t
        }
        /// FPCompare: returns NZCV in bits 31:28 (equal 0110, less 1000, greater 0010,
        /// unordered 0011). `quiet_nan_exc` = true for VCMPE (any NaN raises Invalid);
        /// false for VCMP (only signalling NaNs).
        pub fn $cmp(a: $t, b: $t, quiet_nan_exc: bool, fpscr: &mut u32) -> u32 {
            compare($fmt, a.into(), b.into(), quiet_nan_exc, fpscr)
        }
        /// VMAXNM (FPMaxNum).
        pub fn $max(a: $t, b: $t, fpscr: &mut u32) -> $t {
            max_min_num($fmt, a.into(), b.into(), true, fpscr) as $t
        }
        /// VMINNM (FPMinNum).
        pub fn $min(a: $t, b: $t, fpscr: &mut u32) -> $t {
            max_min_num($fmt, a.into(), b.into(), false, fpscr) as $t
        }
        /// FPRoundInt: round to an integral value in floating-point format; `exact` raises
        /// Inexact (VRINTX).
        pub fn $rint(a: $t, rounding: Rounding, exact: bool, fpscr: &mut u32) -> $t {
            round_int($fmt, a.into(), rounding, exact, fpscr) as $t
        }
        /// FPToFixed: to a `size`-bit (16 or 32) signed/unsigned fixed-point value with
        /// `fbits` fraction bits (0 for plain integers), saturating, raising Invalid/Inexact
        /// as the pseudocode. The result is sign- (signed) or zero- (unsigned) extended.
        pub fn $tofix(
            a: $t,
            size: u32,
            fbits: u32,
            unsigned: bool,
            rounding: Rounding,
            fpscr: &mut u32,
        ) -> u32 {
            to_fixed($fmt, a.into(), size, fbits, unsigned, rounding, fpscr)
        }
        /// FixedToFP: `x`'s low `size` bits (16 or 32) as signed/unsigned fixed point with
        /// `fbits` fraction bits.
        pub fn $fromfix(
            x: u32,
            size: u32,
            fbits: u32,
            unsigned: bool,
            rounding: Rounding,
            fpscr: &mut u32,
        ) -> $t {
            from_fixed($fmt, x, size, fbits, unsigned, rounding, fpscr) as $t
        }
    };
}

api!(
    F32,
    u32,
    add_f32,
    sub_f32,
    mul_f32,
    div_f32,
    muladd_f32,
    sqrt_f32,
    compare_f32,
    max_num_f32,
    min_num_f32,
    round_int_f32,
    to_fixed_f32,
    from_fixed_f32
);
api!(
    F64,
    u64,
    add_f64,
    sub_f64,
    mul_f64,
    div_f64,
    muladd_f64,
    sqrt_f64,
    compare_f64,
    max_num_f64,
    min_num_f64,
    round_int_f64,
    to_fixed_f64,
    from_fixed_f64
);

/// FPSingleToDouble (VCVT.F64.F32).
pub fn f32_to_f64(a: u32, fpscr: &mut u32) -> u64 {
    convert(F32, F64, a.into(), fpscr)
}
/// FPDoubleToSingle (VCVT.F32.F64), rounding with FPSCR.RMode.
pub fn f64_to_f32(a: u64, fpscr: &mut u32) -> u32 {
    convert(F64, F32, a, fpscr) as u32
}
/// FPHalfToSingle: IEEE half, or Arm's alternative format when FPSCR.AHP = 1.
pub fn f16_to_f32(h: u16, fpscr: &mut u32) -> u32 {
    convert(F16, F32, h.into(), fpscr) as u32
}
/// FPSingleToHalf: IEEE half, or Arm's alternative format when FPSCR.AHP = 1.
pub fn f32_to_f16(a: u32, fpscr: &mut u32) -> u16 {
    convert(F32, F16, a.into(), fpscr) as u16
}
/// FPHalfToDouble: IEEE half, or Arm's alternative format when FPSCR.AHP = 1.
pub fn f16_to_f64(h: u16, fpscr: &mut u32) -> u64 {
    convert(F16, F64, h.into(), fpscr)
}
/// FPDoubleToHalf: IEEE half, or Arm's alternative format when FPSCR.AHP = 1.
pub fn f64_to_f16(a: u64, fpscr: &mut u32) -> u16 {
    convert(F64, F16, a, fpscr) as u16
}

#[cfg(test)]
mod tests;
