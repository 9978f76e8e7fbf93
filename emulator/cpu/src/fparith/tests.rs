//! Hand-checked vectors from the ARMv7-M ARM (DDI0403E) pseudocode. Each expected value was
//! worked out on paper from FPUnpack/FPRound/FPProcessNaNs and the operation's pseudocode;
//! the comments give the reasoning. (The differential test against Unicorn, fpdiff.py, covers
//! the random and bulk cases.)

use super::*;

const RN: u32 = 0;
const RP: u32 = 1 << 22;
const RM: u32 = 2 << 22;
const RZ: u32 = 3 << 22;
const FLAGS: u32 = IOC | DZC | OFC | UFC | IXC | IDC;

/// Runs `f` from `fpscr`; returns the result and the flags raised. Checks that nothing but
/// the cumulative flags changed.
fn run<T>(fpscr: u32, f: impl FnOnce(&mut u32) -> T) -> (T, u32) {
    let mut s = fpscr;
    let r = f(&mut s);
    assert_eq!(s & !FLAGS, fpscr & !FLAGS, "control bits changed");
    (r, s & FLAGS)
}

// single-precision constants
const ONE: u32 = 0x3f80_0000;
const TWO: u32 = 0x4000_0000;
const HALF: u32 = 0x3f00_0000;
const INF: u32 = 0x7f80_0000;
const NINF: u32 = 0xff80_0000;
const DNAN: u32 = 0x7fc0_0000;
const MAXN: u32 = 0x7f7f_ffff;
const MINN: u32 = 0x0080_0000;
const MIND: u32 = 0x0000_0001;
const QNAN1: u32 = 0x7fc1_2345;
const QNAN2: u32 = 0xffc5_4321;
const SNAN1: u32 = 0x7f81_2345; // quiets to QNAN1
const SNAN2: u32 = 0xff85_4321; // quiets to QNAN2
const ULP_HALF: u32 = 0x3380_0000; // 2^-24: half an ulp of 1.0

// double-precision constants
const D1: u64 = 0x3ff0_0000_0000_0000;
const D2: u64 = 0x4000_0000_0000_0000;
const DINF: u64 = 0x7ff0_0000_0000_0000;
const DDNAN: u64 = 0x7ff8_0000_0000_0000;
const DMAXN: u64 = 0x7fef_ffff_ffff_ffff;

#[test]
fn rounding_from_fpscr() {
    assert_eq!(Rounding::from_fpscr(RN | 0xff), Rounding::TieEven);
    assert_eq!(Rounding::from_fpscr(RP), Rounding::PosInf);
    assert_eq!(Rounding::from_fpscr(RM), Rounding::NegInf);
    assert_eq!(Rounding::from_fpscr(RZ | FZ | DN), Rounding::Zero);
}

#[test]
fn add_exact_ties_and_modes() {
    assert_eq!(run(RN, |s| add_f32(ONE, ONE, s)), (TWO, 0));
    // 1 + 2^-24 is exactly half way between 1 and 1+2^-23: even (1.0) in RN
    assert_eq!(run(RN, |s| add_f32(ONE, ULP_HALF, s)), (ONE, IXC));
    assert_eq!(run(RP, |s| add_f32(ONE, ULP_HALF, s)), (ONE + 1, IXC));
    assert_eq!(run(RM, |s| add_f32(ONE, ULP_HALF, s)), (ONE, IXC));
    assert_eq!(run(RZ, |s| add_f32(ONE, ULP_HALF, s)), (ONE, IXC));
    // (1+2^-23) + 2^-24: half way, odd below -> rounds up to 1+2^-22
    assert_eq!(run(RN, |s| add_f32(ONE + 1, ULP_HALF, s)), (ONE + 2, IXC));
    // negative: -1 - 2^-24 rounds away from zero only in RM
    assert_eq!(
        run(RM, |s| add_f32(ONE | 1 << 31, ULP_HALF | 1 << 31, s)),
        (0xbf80_0001, IXC)
    );
    assert_eq!(
        run(RP, |s| add_f32(ONE | 1 << 31, ULP_HALF | 1 << 31, s)),
        (0xbf80_0000, IXC)
    );
    // far apart: the small one only makes it inexact
    assert_eq!(run(RN, |s| add_f32(ONE, MIND, s)), (ONE, IXC));
    assert_eq!(run(RP, |s| add_f32(ONE, MIND, s)), (ONE + 1, IXC));
    assert_eq!(run(RZ, |s| sub_f32(ONE, MIND, s)), (0x3f7f_ffff, IXC));
}

#[test]
fn add_signed_zeros() {
    // exact zero sums: +0 except in RM; same-signed zeros keep their sign
    assert_eq!(run(RN, |s| add_f32(ONE, ONE | 1 << 31, s)), (0, 0));
    assert_eq!(run(RM, |s| add_f32(ONE, ONE | 1 << 31, s)), (1 << 31, 0));
    assert_eq!(run(RN, |s| add_f32(0, 1 << 31, s)), (0, 0));
    assert_eq!(run(RM, |s| add_f32(0, 1 << 31, s)), (1 << 31, 0));
    assert_eq!(run(RN, |s| add_f32(1 << 31, 1 << 31, s)), (1 << 31, 0));
    assert_eq!(run(RP, |s| sub_f32(1 << 31, 0, s)), (1 << 31, 0));
    assert_eq!(run(RN, |s| sub_f32(ONE, ONE, s)), (0, 0));
    assert_eq!(run(RM, |s| sub_f32(ONE, ONE, s)), (1 << 31, 0));
    // x + 0 is x, exactly (a denormal stays one without FZ)
    assert_eq!(run(RN, |s| add_f32(MIND, 1 << 31, s)), (MIND, 0));
}

#[test]
fn add_infinities() {
    assert_eq!(run(RN, |s| add_f32(INF, NINF, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| sub_f32(INF, INF, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| add_f32(INF, INF, s)), (INF, 0));
    assert_eq!(run(RN, |s| add_f32(NINF, MAXN, s)), (NINF, 0));
    assert_eq!(run(RN, |s| sub_f32(ONE, INF, s)), (NINF, 0));
}

#[test]
fn nan_propagation_order_and_default_nan() {
    // the first signalling NaN wins (quieted, IOC), else the first quiet NaN
    assert_eq!(run(RN, |s| add_f32(QNAN1, SNAN2, s)), (QNAN2, IOC));
    assert_eq!(run(RN, |s| add_f32(SNAN1, SNAN2, s)), (QNAN1, IOC));
    assert_eq!(run(RN, |s| add_f32(QNAN2, QNAN1, s)), (QNAN2, 0));
    assert_eq!(run(RN, |s| mul_f32(ONE, QNAN1, s)), (QNAN1, 0));
    assert_eq!(run(RN, |s| div_f32(INF, SNAN2, s)), (QNAN2, IOC));
    // sub propagates the NaN operand unchanged (no sign flip)
    assert_eq!(run(RN, |s| sub_f32(ONE, QNAN1, s)), (QNAN1, 0));
    // DN: the default NaN, IOC still from a signalling NaN
    assert_eq!(run(DN, |s| add_f32(QNAN1, ONE, s)), (DNAN, 0));
    assert_eq!(run(DN, |s| add_f32(ONE, SNAN2, s)), (DNAN, IOC));
    // doubles
    let dq = 0x7ff8_0000_0000_1234;
    let ds = 0xfff0_0000_0000_0001;
    assert_eq!(
        run(RN, |s| add_f64(dq, ds, s)),
        (0xfff8_0000_0000_0001, IOC)
    );
    assert_eq!(run(RN, |s| mul_f64(D1, dq, s)), (dq, 0));
    assert_eq!(run(DN, |s| sub_f64(ds, D1, s)), (DDNAN, IOC));
}

#[test]
fn overflow_by_rounding_mode() {
    // max + max overflows: infinity in RN, max-normal when rounding towards zero
    assert_eq!(run(RN, |s| add_f32(MAXN, MAXN, s)), (INF, OFC | IXC));
    assert_eq!(run(RZ, |s| add_f32(MAXN, MAXN, s)), (MAXN, OFC | IXC));
    assert_eq!(run(RM, |s| add_f32(MAXN, MAXN, s)), (MAXN, OFC | IXC));
    assert_eq!(run(RP, |s| add_f32(MAXN, MAXN, s)), (INF, OFC | IXC));
    let nmax = MAXN | 1 << 31;
    assert_eq!(run(RP, |s| add_f32(nmax, nmax, s)), (nmax, OFC | IXC));
    assert_eq!(run(RM, |s| add_f32(nmax, nmax, s)), (NINF, OFC | IXC));
    // rounding up into overflow: max + half an ulp of max is a tie, the even neighbour is 2^128
    let half_ulp_max = 0x7300_0000; // 2^103
    assert_eq!(
        run(RN, |s| add_f32(MAXN, half_ulp_max, s)),
        (INF, OFC | IXC)
    );
    assert_eq!(run(RZ, |s| add_f32(MAXN, half_ulp_max, s)), (MAXN, IXC));
    // doubles
    assert_eq!(run(RN, |s| mul_f64(DMAXN, D2, s)), (DINF, OFC | IXC));
    assert_eq!(run(RZ, |s| mul_f64(DMAXN, D2, s)), (DMAXN, OFC | IXC));
}

#[test]
fn underflow_denormals_and_flush_to_zero() {
    // exact denormal results raise nothing
    assert_eq!(run(RN, |s| sub_f32(MINN, MIND, s)), (0x007f_ffff, 0));
    assert_eq!(run(RN, |s| mul_f32(MINN, HALF, s)), (0x0040_0000, 0));
    assert_eq!(run(RN, |s| sub_f32(MINN + 1, MINN, s)), (MIND, 0));
    // inexact tiny results raise UFC: (2^-126 + 2^-149) / 2 = 0x400000.8 units, tie -> even
    assert_eq!(
        run(RN, |s| mul_f32(MINN + 1, HALF, s)),
        (0x0040_0000, UFC | IXC)
    );
    assert_eq!(
        run(RP, |s| mul_f32(MINN + 1, HALF, s)),
        (0x0040_0001, UFC | IXC)
    );
    // tininess is detected before rounding: 0x7fffff.8 units rounds up to the min normal,
    // and still raises UFC
    assert_eq!(
        run(RN, |s| mul_f32(0x00ff_ffff, HALF, s)),
        (MINN, UFC | IXC)
    );
    assert_eq!(
        run(RZ, |s| mul_f32(0x00ff_ffff, HALF, s)),
        (0x007f_ffff, UFC | IXC)
    );
    // half the smallest denormal: a tie between 0 and 2^-149, even is 0
    assert_eq!(run(RN, |s| mul_f32(MIND, HALF, s)), (0, UFC | IXC));
    assert_eq!(run(RP, |s| mul_f32(MIND, HALF, s)), (MIND, UFC | IXC));
    assert_eq!(
        run(RM, |s| mul_f32(MIND | 1 << 31, HALF, s)),
        (MIND | 1 << 31, UFC | IXC)
    );
    // FZ: denormal inputs are zeros (IDC), keeping their sign
    assert_eq!(run(FZ, |s| add_f32(MIND, 1 << 31, s)), (0, IDC));
    assert_eq!(
        run(FZ, |s| add_f32(MIND | 1 << 31, 1 << 31, s)),
        (1 << 31, IDC)
    );
    assert_eq!(run(FZ, |s| sub_f32(MINN, MIND, s)), (MINN, IDC));
    assert_eq!(run(FZ, |s| mul_f32(0x007f_ffff, INF, s)), (DNAN, IDC | IOC));
    // FZ: tiny results (before rounding) are flushed to a signed zero with UFC, no IXC
    assert_eq!(run(FZ, |s| sub_f32(MINN + 1, MINN, s)), (0, UFC));
    assert_eq!(run(FZ | RN, |s| mul_f32(0x00ff_ffff, HALF, s)), (0, UFC));
    assert_eq!(
        run(FZ, |s| mul_f32(MINN | 1 << 31, HALF, s)),
        (1 << 31, UFC)
    );
    // doubles: 2^-1074 is the smallest denormal
    let dmind = 1u64;
    let dminn = 0x0010_0000_0000_0000u64;
    assert_eq!(run(RN, |s| sub_f64(dminn + 1, dminn, s)), (dmind, 0));
    assert_eq!(run(FZ, |s| sub_f64(dminn + 1, dminn, s)), (0, UFC));
    assert_eq!(run(FZ, |s| add_f64(dmind, D1, s)), (D1, IDC));
    assert_eq!(
        run(RN, |s| mul_f64(dmind, 0x3fe0_0000_0000_0000, s)),
        (0, UFC | IXC)
    );
}

#[test]
fn mul_special_cases() {
    assert_eq!(run(RN, |s| mul_f32(0, INF, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| mul_f32(NINF, 1 << 31, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| mul_f32(TWO | 1 << 31, 0, s)), (1 << 31, 0));
    assert_eq!(run(RN, |s| mul_f32(NINF, NINF, s)), (INF, 0));
    assert_eq!(
        run(RN, |s| mul_f32(0x4040_0000, 0x4040_0000, s)),
        (0x4110_0000, 0)
    ); // 3*3=9
       // (1+2^-23)^2 = 1 + 2^-22 + 2^-46: just above 1+2^-22
    assert_eq!(run(RN, |s| mul_f32(ONE + 1, ONE + 1, s)), (ONE + 2, IXC));
    assert_eq!(run(RP, |s| mul_f32(ONE + 1, ONE + 1, s)), (ONE + 3, IXC));
}

#[test]
fn div_cases() {
    assert_eq!(run(RN, |s| div_f32(ONE, 0, s)), (INF, DZC));
    assert_eq!(run(RN, |s| div_f32(ONE, 1 << 31, s)), (NINF, DZC));
    assert_eq!(run(RN, |s| div_f32(INF, 0, s)), (INF, 0));
    assert_eq!(run(RN, |s| div_f32(0, 0, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| div_f32(INF, NINF, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| div_f32(ONE, NINF, s)), (1 << 31, 0));
    // FZ: a denormal divisor is a zero: division by zero
    assert_eq!(run(FZ, |s| div_f32(ONE, MIND, s)), (INF, IDC | DZC));
    // 1/3 = 0x3eaaaaaa.aaa..: RN rounds up, RZ/RM truncate
    let three = 0x4040_0000;
    assert_eq!(run(RN, |s| div_f32(ONE, three, s)), (0x3eaa_aaab, IXC));
    assert_eq!(run(RZ, |s| div_f32(ONE, three, s)), (0x3eaa_aaaa, IXC));
    assert_eq!(run(RM, |s| div_f32(ONE, three, s)), (0x3eaa_aaaa, IXC));
    assert_eq!(run(RN, |s| div_f32(0x40c0_0000, three, s)), (TWO, 0)); // 6/3
    assert_eq!(
        run(RN, |s| div_f64(D1, 0x4008_0000_0000_0000, s)),
        (0x3fd5_5555_5555_5555, IXC)
    );
    assert_eq!(
        run(RP, |s| div_f64(D1, 0x4008_0000_0000_0000, s)),
        (0x3fd5_5555_5555_5556, IXC)
    );
    // max / (1/2) overflows
    assert_eq!(run(RN, |s| div_f32(MAXN, HALF, s)), (INF, OFC | IXC));
}

#[test]
fn muladd_is_fused() {
    // (1+2^-12)^2 = 1 + 2^-11 + 2^-24 exactly; minus (1+2^-11) leaves 2^-24, exactly. Two
    // roundings would lose it (the product alone is a tie and rounds to 1+2^-11).
    let a = 0x3f80_0800;
    assert_eq!(run(RN, |s| mul_f32(a, a, s)), (0x3f80_1000, IXC));
    assert_eq!(run(RN, |s| muladd_f32(0xbf80_1000, a, a, s)), (ULP_HALF, 0));
    // 1 + 1*1 = 2
    assert_eq!(run(RN, |s| muladd_f32(ONE, ONE, ONE, s)), (TWO, 0));
    // exact cancellation: +0, or -0 in RM
    assert_eq!(run(RN, |s| muladd_f32(ONE, ONE | 1 << 31, ONE, s)), (0, 0));
    assert_eq!(
        run(RM, |s| muladd_f32(ONE, ONE | 1 << 31, ONE, s)),
        (1 << 31, 0)
    );
    // zeros: -0 + (-0 * 1) = -0 (same signs); +0 + (-0*1) = +0 in RN
    assert_eq!(
        run(RN, |s| muladd_f32(1 << 31, 1 << 31, ONE, s)),
        (1 << 31, 0)
    );
    assert_eq!(run(RN, |s| muladd_f32(0, 1 << 31, ONE, s)), (0, 0));
    assert_eq!(run(RM, |s| muladd_f32(0, 1 << 31, ONE, s)), (1 << 31, 0));
    // infinities: inf + (-inf) is invalid, inf*0 is invalid
    assert_eq!(run(RN, |s| muladd_f32(INF, NINF, ONE, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| muladd_f32(ONE, INF, 0, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| muladd_f32(NINF, TWO, ONE, s)), (NINF, 0));
    assert_eq!(run(RN, |s| muladd_f32(ONE, INF, TWO, s)), (INF, 0));
    // NaNs: addend first, then op1, op2; signalling before quiet
    assert_eq!(run(RN, |s| muladd_f32(QNAN1, SNAN2, ONE, s)), (QNAN2, IOC));
    assert_eq!(run(RN, |s| muladd_f32(QNAN1, QNAN2, ONE, s)), (QNAN1, 0));
    assert_eq!(run(RN, |s| muladd_f32(ONE, QNAN2, SNAN1, s)), (QNAN1, IOC));
    // a quiet NaN addend with 0 * inf: the default NaN and Invalid
    assert_eq!(run(RN, |s| muladd_f32(QNAN1, 0, INF, s)), (DNAN, IOC));
    assert_eq!(
        run(RN, |s| muladd_f32(QNAN1, NINF, 1 << 31, s)),
        (DNAN, IOC)
    );
    // ... but a signalling NaN among the factors is processed normally
    assert_eq!(run(RN, |s| muladd_f32(QNAN1, SNAN2, INF, s)), (QNAN2, IOC));
    // a tiny product still counts under the big addend: RP rounds up
    assert_eq!(run(RP, |s| muladd_f32(ONE, MINN, MINN, s)), (ONE + 1, IXC));
    assert_eq!(run(RN, |s| muladd_f32(ONE, MINN, MINN, s)), (ONE, IXC));
    // FZ flushes denormal inputs of all three
    assert_eq!(run(FZ, |s| muladd_f32(MIND, ONE, ONE, s)), (ONE, IDC));
    // double: (1+2^-23)^2 - (1+2^-22) = 2^-46
    let a = 0x3ff0_0000_2000_0000u64;
    assert_eq!(
        run(RN, |s| muladd_f64(0xbff0_0000_4000_0000, a, a, s)),
        (0x3d10_0000_0000_0000, 0)
    );
}

#[test]
fn sqrt_cases() {
    assert_eq!(run(RN, |s| sqrt_f32(0x4080_0000, s)), (TWO, 0)); // sqrt 4
                                                                 // sqrt 2 = 1.0110101000001001111001100|11..: RN and RZ 0x3fb504f3, RP 0x3fb504f4
    assert_eq!(run(RN, |s| sqrt_f32(TWO, s)), (0x3fb5_04f3, IXC));
    assert_eq!(run(RZ, |s| sqrt_f32(TWO, s)), (0x3fb5_04f3, IXC));
    assert_eq!(run(RP, |s| sqrt_f32(TWO, s)), (0x3fb5_04f4, IXC));
    assert_eq!(run(RN, |s| sqrt_f64(D2, s)), (0x3ff6_a09e_667f_3bcd, IXC));
    assert_eq!(run(RN, |s| sqrt_f32(1 << 31, s)), (1 << 31, 0));
    assert_eq!(run(RN, |s| sqrt_f32(ONE | 1 << 31, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| sqrt_f32(NINF, s)), (DNAN, IOC));
    assert_eq!(run(RN, |s| sqrt_f32(INF, s)), (INF, 0));
    assert_eq!(run(RN, |s| sqrt_f32(SNAN2, s)), (QNAN2, IOC)); // NaN sign kept
    assert_eq!(run(RN, |s| sqrt_f32(MINN, s)), (0x2000_0000, 0)); // sqrt 2^-126 = 2^-63
                                                                  // sqrt of the smallest denormal 2^-149 = 2^-74.5, inexact; under FZ it is -0/+0
    assert_eq!(run(RN, |s| sqrt_f32(MIND, s)), (0x1a35_04f3, IXC));
    assert_eq!(run(FZ, |s| sqrt_f32(MIND | 1 << 31, s)), (1 << 31, IDC));
}

#[test]
fn compare_cases() {
    assert_eq!(
        run(RN, |s| compare_f32(ONE, TWO, false, s)),
        (0x8000_0000, 0)
    );
    assert_eq!(
        run(RN, |s| compare_f32(TWO, ONE, false, s)),
        (0x2000_0000, 0)
    );
    assert_eq!(
        run(RN, |s| compare_f32(ONE, ONE, false, s)),
        (0x6000_0000, 0)
    );
    assert_eq!(
        run(RN, |s| compare_f32(0, 1 << 31, true, s)),
        (0x6000_0000, 0)
    );
    assert_eq!(
        run(RN, |s| compare_f32(INF, INF, true, s)),
        (0x6000_0000, 0)
    );
    assert_eq!(
        run(RN, |s| compare_f32(NINF, MAXN | 1 << 31, false, s)),
        (0x8000_0000, 0)
    );
    assert_eq!(
        run(RN, |s| compare_f32(0xbf80_0000, 0xc000_0000, false, s)),
        (0x2000_0000, 0)
    );
    // unordered: VCMP raises Invalid only for signalling NaNs, VCMPE for any NaN
    assert_eq!(
        run(RN, |s| compare_f32(QNAN1, ONE, false, s)),
        (0x3000_0000, 0)
    );
    assert_eq!(
        run(RN, |s| compare_f32(QNAN1, ONE, true, s)),
        (0x3000_0000, IOC)
    );
    assert_eq!(
        run(RN, |s| compare_f32(ONE, SNAN1, false, s)),
        (0x3000_0000, IOC)
    );
    // FZ: a denormal equals zero
    assert_eq!(
        run(FZ, |s| compare_f32(MIND, 0, false, s)),
        (0x6000_0000, IDC)
    );
    assert_eq!(
        run(RN, |s| compare_f32(MIND, 0, false, s)),
        (0x2000_0000, 0)
    );
    assert_eq!(run(RN, |s| compare_f64(D1, D2, false, s)), (0x8000_0000, 0));
    assert_eq!(
        run(RN, |s| compare_f64(DDNAN, D2, true, s)),
        (0x3000_0000, IOC)
    );
}

#[test]
fn max_min_num() {
    assert_eq!(run(RN, |s| max_num_f32(ONE, TWO, s)), (TWO, 0));
    assert_eq!(run(RN, |s| min_num_f32(ONE, TWO, s)), (ONE, 0));
    // one quiet NaN: the number
    assert_eq!(run(RN, |s| max_num_f32(QNAN1, ONE, s)), (ONE, 0));
    assert_eq!(run(RN, |s| min_num_f32(ONE, QNAN2, s)), (ONE, 0));
    assert_eq!(run(RN, |s| max_num_f32(QNAN1, NINF, s)), (NINF, 0));
    assert_eq!(run(RN, |s| min_num_f32(INF, QNAN1, s)), (INF, 0));
    // two quiet NaNs: the first; a signalling NaN: quieted, IOC
    assert_eq!(run(RN, |s| max_num_f32(QNAN2, QNAN1, s)), (QNAN2, 0));
    assert_eq!(run(RN, |s| max_num_f32(ONE, SNAN1, s)), (QNAN1, IOC));
    assert_eq!(run(RN, |s| min_num_f32(QNAN2, SNAN1, s)), (QNAN1, IOC));
    assert_eq!(run(DN, |s| min_num_f32(SNAN1, ONE, s)), (DNAN, IOC));
    // zeros: max prefers +0, min -0
    assert_eq!(run(RN, |s| max_num_f32(1 << 31, 0, s)), (0, 0));
    assert_eq!(run(RN, |s| min_num_f32(0, 1 << 31, s)), (1 << 31, 0));
    // FZ: a denormal is a zero with its sign
    assert_eq!(run(FZ, |s| max_num_f32(MIND, 1 << 31, s)), (0, IDC));
    assert_eq!(run(FZ, |s| min_num_f32(MIND, 1 << 31, s)), (1 << 31, IDC));
    assert_eq!(run(RN, |s| max_num_f32(MIND, 1 << 31, s)), (MIND, 0));
    assert_eq!(run(RN, |s| max_num_f64(DDNAN, D2, s)), (D2, 0));
    assert_eq!(run(RN, |s| min_num_f64(D1, D2, s)), (D1, 0));
}

#[test]
fn round_int_modes() {
    let f = |x: f32| x.to_bits(); // constants only; the arithmetic is fparith's
    let cases = [
        // value, TieEven, TieAway, PosInf, NegInf, Zero
        (2.5f32, 2.0f32, 3.0f32, 3.0f32, 2.0f32, 2.0f32),
        (-2.5, -2.0, -3.0, -2.0, -3.0, -2.0),
        (3.5, 4.0, 4.0, 4.0, 3.0, 3.0),
        (0.5, 0.0, 1.0, 1.0, 0.0, 0.0),
        (-0.3, -0.0, -0.0, -0.0, -1.0, -0.0),
        (1.75, 2.0, 2.0, 2.0, 1.0, 1.0),
        (-1.25, -1.0, -1.0, -1.0, -2.0, -1.0),
    ];
    for (v, te, ta, pi, ni, z) in cases {
        for (rm, want) in [
            (Rounding::TieEven, te),
            (Rounding::TieAway, ta),
            (Rounding::PosInf, pi),
            (Rounding::NegInf, ni),
            (Rounding::Zero, z),
        ] {
            assert_eq!(
                run(RN, |s| round_int_f32(f(v), rm, false, s)),
                (f(want), 0),
                "{v} {rm:?}"
            );
            assert_eq!(
                run(RN, |s| round_int_f32(f(v), rm, true, s)),
                (f(want), IXC),
                "{v} {rm:?}"
            );
        }
    }
    // integral values, infinities and zeros are unchanged and exact
    assert_eq!(
        run(RN, |s| round_int_f32(0x7149_f2ca, Rounding::Zero, true, s)),
        (0x7149_f2ca, 0)
    );
    assert_eq!(
        run(RN, |s| round_int_f32(NINF, Rounding::Zero, true, s)),
        (NINF, 0)
    );
    assert_eq!(
        run(RN, |s| round_int_f32(1 << 31, Rounding::PosInf, true, s)),
        (1 << 31, 0)
    );
    assert_eq!(
        run(RN, |s| round_int_f32(SNAN1, Rounding::Zero, false, s)),
        (QNAN1, IOC)
    );
    // FZ: denormals are signed zeros (IDC); without FZ they round like anything else
    assert_eq!(
        run(FZ, |s| round_int_f32(MIND, Rounding::PosInf, true, s)),
        (0, IDC)
    );
    assert_eq!(
        run(RN, |s| round_int_f32(MIND, Rounding::PosInf, true, s)),
        (ONE, IXC)
    );
    // doubles: 2^52 + 0.5 is not representable; 4503599627370495.5 rounds to even
    assert_eq!(
        run(RN, |s| round_int_f64(
            0x432f_ffff_ffff_ffff,
            Rounding::TieEven,
            true,
            s
        )),
        (0x4330_0000_0000_0000, IXC)
    );
    assert_eq!(
        run(RN, |s| round_int_f64(
            0x432f_ffff_ffff_ffff,
            Rounding::Zero,
            true,
            s
        )),
        (0x432f_ffff_ffff_fffe, IXC)
    );
}

#[test]
fn to_fixed_rounding_and_saturation() {
    let f = |x: f32| x.to_bits();
    let z = Rounding::Zero;
    let n = Rounding::TieEven;
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(1.5), 32, 0, false, z, s)),
        (1, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(1.5), 32, 0, false, n, s)),
        (2, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(2.5), 32, 0, false, n, s)),
        (2, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(
            f(2.5),
            32,
            0,
            false,
            Rounding::TieAway,
            s
        )),
        (3, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(-1.5), 32, 0, false, z, s)),
        (0xffff_ffff, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(
            f(-1.5),
            32,
            0,
            false,
            Rounding::NegInf,
            s
        )),
        (0xffff_fffe, IXC)
    );
    assert_eq!(run(RN, |s| to_fixed_f32(f(7.0), 32, 0, true, z, s)), (7, 0));
    // unsigned: -0.5 truncates to 0 (inexact, in range); -1.5 saturates to 0 (invalid only)
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(-0.5), 32, 0, true, z, s)),
        (0, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(-1.5), 32, 0, true, z, s)),
        (0, IOC)
    );
    // signed 32-bit bounds: 2^31 saturates, -2^31 is exact
    assert_eq!(
        run(RN, |s| to_fixed_f32(0x4f00_0000, 32, 0, false, z, s)),
        (0x7fff_ffff, IOC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(0xcf00_0000, 32, 0, false, z, s)),
        (0x8000_0000, 0)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(0x4f80_0000, 32, 0, true, z, s)),
        (0xffff_ffff, IOC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(0x4f7f_ffff, 32, 0, true, z, s)),
        (0xffff_ff00, 0)
    );
    // NaN: 0 and Invalid; infinities saturate
    assert_eq!(
        run(RN, |s| to_fixed_f32(QNAN2, 32, 0, false, z, s)),
        (0, IOC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(NINF, 32, 0, false, z, s)),
        (0x8000_0000, IOC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(INF, 16, 0, true, z, s)),
        (0xffff, IOC)
    );
    // 16-bit: sign-extended (signed) / zero-extended (unsigned) to 32 bits
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(-1.0), 16, 0, false, z, s)),
        (0xffff_ffff, 0)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(40000.0), 16, 0, false, z, s)),
        (0x7fff, IOC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(-40000.0), 16, 0, false, z, s)),
        (0xffff_8000, IOC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(65535.0), 16, 0, true, z, s)),
        (0xffff, 0)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(65536.0), 16, 0, true, z, s)),
        (0xffff, IOC)
    );
    // fraction bits: 1.5 with 16 -> 0x18000; -0.75 with 1 -> -1.5 -> -1 (RZ)
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(1.5), 32, 16, false, z, s)),
        (0x18000, 0)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(-0.75), 16, 1, false, z, s)),
        (0xffff_ffff, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(0.5), 16, 16, true, z, s)),
        (0x8000, 0)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(f(1.0), 16, 16, true, z, s)),
        (0xffff, IOC)
    );
    // denormals: 0 inexact; under FZ 0 with IDC only
    assert_eq!(
        run(RN, |s| to_fixed_f32(MIND, 32, 0, false, z, s)),
        (0, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f32(
            MIND,
            32,
            0,
            false,
            Rounding::PosInf,
            s
        )),
        (1, IXC)
    );
    assert_eq!(
        run(FZ, |s| to_fixed_f32(
            MIND,
            32,
            0,
            false,
            Rounding::PosInf,
            s
        )),
        (0, IDC)
    );
    // doubles: more precision than 32 bits
    assert_eq!(
        run(RN, |s| to_fixed_f64(
            0x41df_ffff_ffc0_0000,
            32,
            0,
            false,
            z,
            s
        )),
        (0x7fff_ffff, 0)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f64(
            0x41df_ffff_ffe0_0000,
            32,
            0,
            false,
            z,
            s
        )),
        (0x7fff_ffff, IXC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f64(
            0x41df_ffff_ffe0_0000,
            32,
            0,
            false,
            n,
            s
        )),
        (0x7fff_ffff, IOC)
    );
    assert_eq!(
        run(RN, |s| to_fixed_f64(
            0xc1e0_0000_0010_0000,
            32,
            0,
            false,
            z,
            s
        )),
        (0x8000_0000, IXC)
    );
}

#[test]
fn from_fixed_cases() {
    let n = Rounding::TieEven;
    assert_eq!(
        run(RN, |s| from_fixed_f32(0xffff_ffff, 32, 0, false, n, s)),
        (0xbf80_0000, 0)
    );
    // 2^32 - 1 needs 32 bits: RN gives 2^32, RZ the largest below
    assert_eq!(
        run(RN, |s| from_fixed_f32(0xffff_ffff, 32, 0, true, n, s)),
        (0x4f80_0000, IXC)
    );
    assert_eq!(
        run(RN, |s| from_fixed_f32(
            0xffff_ffff,
            32,
            0,
            true,
            Rounding::Zero,
            s
        )),
        (0x4f7f_ffff, IXC)
    );
    assert_eq!(
        run(RN, |s| from_fixed_f32(0x8000_0000, 32, 0, false, n, s)),
        (0xcf00_0000, 0)
    );
    assert_eq!(
        run(RN, |s| from_fixed_f32(0x7fff_ffff, 32, 0, false, n, s)),
        (0x4f00_0000, IXC)
    );
    assert_eq!(
        run(RN, |s| from_fixed_f32(0, 32, 5, false, Rounding::NegInf, s)),
        (0, 0)
    );
    // 16-bit: only the low half counts
    assert_eq!(
        run(RN, |s| from_fixed_f32(0xabcd_8000, 16, 15, false, n, s)),
        (0xbf80_0000, 0)
    );
    assert_eq!(
        run(RN, |s| from_fixed_f32(0xabcd_8000, 16, 16, true, n, s)),
        (HALF, 0)
    );
    assert_eq!(
        run(RN, |s| from_fixed_f32(1, 32, 32, true, n, s)),
        (0x2f80_0000, 0)
    ); // 2^-32
       // doubles are exact for every 32-bit value
    assert_eq!(
        run(RN, |s| from_fixed_f64(0xffff_ffff, 32, 0, true, n, s)),
        (0x41ef_ffff_ffe0_0000, 0)
    );
    assert_eq!(
        run(RN, |s| from_fixed_f64(0x8000_0000, 32, 31, false, n, s)),
        (0xbff0_0000_0000_0000, 0)
    );
}

#[test]
fn single_double_conversions() {
    assert_eq!(run(RN, |s| f32_to_f64(ONE, s)), (D1, 0));
    assert_eq!(run(RN, |s| f32_to_f64(MIND, s)), (0x36a0_0000_0000_0000, 0)); // 2^-149
    assert_eq!(run(FZ, |s| f32_to_f64(MIND | 1 << 31, s)), (1 << 63, IDC));
    assert_eq!(run(RN, |s| f32_to_f64(NINF, s)), (0xfff0_0000_0000_0000, 0));
    // NaN payloads move to the top of the fraction; signalling ones are quieted
    assert_eq!(
        run(RN, |s| f32_to_f64(SNAN2, s)),
        (0xfff8_a864_2000_0000, IOC)
    );
    assert_eq!(run(DN, |s| f32_to_f64(QNAN1, s)), (DDNAN, 0));
    assert_eq!(
        run(RN, |s| f64_to_f32(0xfff8_a864_3fff_ffff, s)),
        (QNAN2, 0)
    );
    assert_eq!(
        run(RN, |s| f64_to_f32(0x7ff0_0000_0000_0001, s)),
        (DNAN, IOC)
    );
    // narrowing rounds: 1 + 2^-24 is a tie
    assert_eq!(
        run(RN, |s| f64_to_f32(0x3ff0_0000_1000_0000, s)),
        (ONE, IXC)
    );
    assert_eq!(
        run(RP, |s| f64_to_f32(0x3ff0_0000_1000_0000, s)),
        (ONE + 1, IXC)
    );
    assert_eq!(
        run(RN, |s| f64_to_f32(0x3ff0_0000_1000_0001, s)),
        (ONE + 1, IXC)
    );
    // overflow and underflow
    assert_eq!(
        run(RN, |s| f64_to_f32(0x47f0_0000_0000_0000, s)),
        (INF, OFC | IXC)
    ); // 2^128
    assert_eq!(
        run(RZ, |s| f64_to_f32(0x47f0_0000_0000_0000, s)),
        (MAXN, OFC | IXC)
    );
    assert_eq!(run(RN, |s| f64_to_f32(0x36a0_0000_0000_0000, s)), (MIND, 0));
    assert_eq!(
        run(RN, |s| f64_to_f32(0x3690_0000_0000_0000, s)),
        (0, UFC | IXC)
    ); // 2^-150
    assert_eq!(
        run(RN, |s| f64_to_f32(0x3690_0000_0000_0001, s)),
        (MIND, UFC | IXC)
    );
    assert_eq!(run(FZ, |s| f64_to_f32(0x36a0_0000_0000_0000, s)), (0, UFC));
    assert_eq!(run(FZ, |s| f64_to_f32(1, s)), (0, IDC));
}

#[test]
fn half_conversions() {
    assert_eq!(run(RN, |s| f16_to_f32(0x3c00, s)), (ONE, 0));
    assert_eq!(run(RN, |s| f16_to_f32(0xc000, s)), (0xc000_0000, 0));
    // half denormals are never flushed (FZ does not apply to halves)
    assert_eq!(run(FZ, |s| f16_to_f32(0x0001, s)), (0x3380_0000, 0)); // 2^-24
    assert_eq!(run(RN, |s| f16_to_f32(0x7c00, s)), (INF, 0));
    assert_eq!(run(RN, |s| f16_to_f32(0x7d01, s)), (0x7fe0_2000, IOC));
    assert_eq!(run(DN, |s| f16_to_f32(0xfe00, s)), (DNAN, 0));
    // AHP: exponent 31 is an ordinary exponent: 0x7c00 = 2^16, 0x7fff = 131008
    assert_eq!(run(AHP, |s| f16_to_f32(0x7c00, s)), (0x4780_0000, 0));
    assert_eq!(run(AHP, |s| f16_to_f32(0xffff, s)), (0xc7ff_e000, 0));
    assert_eq!(
        run(AHP, |s| f16_to_f64(0x7fff, s)),
        (0x40ff_fc00_0000_0000, 0)
    );
    // single to half
    assert_eq!(run(RN, |s| f32_to_f16(ONE, s)), (0x3c00, 0));
    assert_eq!(run(RN, |s| f32_to_f16(0x477f_e000, s)), (0x7bff, 0)); // 65504
    assert_eq!(run(RN, |s| f32_to_f16(0x477f_f000, s)), (0x7c00, OFC | IXC)); // 65520 ties up
    assert_eq!(run(RZ, |s| f32_to_f16(0x477f_f000, s)), (0x7bff, IXC));
    assert_eq!(run(RZ, |s| f32_to_f16(0x4780_0000, s)), (0x7bff, OFC | IXC));
    assert_eq!(run(RN, |s| f32_to_f16(0x3380_0000, s)), (0x0001, 0)); // 2^-24
    assert_eq!(run(RN, |s| f32_to_f16(0x3300_0000, s)), (0x0000, UFC | IXC)); // 2^-25 tie
    assert_eq!(run(RP, |s| f32_to_f16(0x3300_0000, s)), (0x0001, UFC | IXC));
    // FZ flushes the single input but not the half output
    assert_eq!(run(FZ, |s| f32_to_f16(0x3380_0000, s)), (0x0001, 0));
    assert_eq!(run(FZ, |s| f32_to_f16(0x8000_0001, s)), (0x8000, IDC));
    assert_eq!(run(RN, |s| f32_to_f16(SNAN2, s)), (0xfe2a, IOC));
    assert_eq!(run(DN, |s| f32_to_f16(QNAN1, s)), (0x7e00, 0));
    assert_eq!(run(RN, |s| f32_to_f16(NINF, s)), (0xfc00, 0));
    // AHP: range to 131008; beyond is Invalid (not Overflow); NaN -> signed 0, inf -> max
    assert_eq!(run(AHP, |s| f32_to_f16(0x4780_0000, s)), (0x7c00, 0)); // 65536
    assert_eq!(run(AHP, |s| f32_to_f16(0x47ff_e000, s)), (0x7fff, 0));
    assert_eq!(run(AHP, |s| f32_to_f16(0x47ff_f000, s)), (0x7fff, IOC)); // rounds to 2^17
    assert_eq!(run(AHP | RZ, |s| f32_to_f16(0x47ff_f000, s)), (0x7fff, IXC));
    assert_eq!(run(AHP, |s| f32_to_f16(0x4800_0000, s)), (0x7fff, IOC));
    assert_eq!(run(AHP, |s| f32_to_f16(QNAN2, s)), (0x8000, IOC));
    assert_eq!(run(AHP | DN, |s| f32_to_f16(QNAN1, s)), (0x0000, IOC));
    assert_eq!(run(AHP, |s| f32_to_f16(NINF, s)), (0xffff, IOC));
    // double to half
    assert_eq!(run(RN, |s| f64_to_f16(D2, s)), (0x4000, 0));
    assert_eq!(
        run(RN, |s| f64_to_f16(0x3e70_0000_0000_0000, s)),
        (0x0001, 0)
    ); // 2^-24
    assert_eq!(
        run(RN, |s| f64_to_f16(0x7ff4_0000_0000_0000, s)),
        (0x7f00, IOC)
    );
    assert_eq!(run(RN, |s| f64_to_f16(DMAXN, s)), (0x7c00, OFC | IXC));
    assert_eq!(
        run(RN, |s| f16_to_f64(0x8001, s)),
        (0xbe70_0000_0000_0000, 0)
    );
}

#[test]
fn flags_accumulate_and_control_bits_are_kept() {
    let mut s = RZ | FZ | DN | AHP | 0xf000_0000 | IXC;
    let _ = div_f32(ONE, 0, &mut s);
    assert_eq!(s, RZ | FZ | DN | AHP | 0xf000_0000 | IXC | DZC);
}

/// xorshift64 for the randomised tests below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// An edge-heavy single: specials, denormals, near-1, or any pattern.
    fn f32(&mut self) -> u32 {
        let r = self.next();
        let sign = ((r >> 63) as u32) << 31;
        match r % 8 {
            0 => sign | [0, INF, MIND, MINN, MAXN, ONE, 0x007f_ffff, QNAN1][(r >> 8) as usize % 8],
            1 => sign | (r >> 16) as u32 & 0x007f_ffff,
            2 => sign | 0x3f00_0000 | (r >> 16) as u32 & 0x00ff_ffff,
            3 => sign | (r >> 16) as u32 & 0x7f80_0000 | (r >> 48) as u32 & 0xf,
            _ => (r >> 16) as u32,
        }
    }
    fn f64(&mut self) -> u64 {
        let r = self.next();
        let sign = r & 1 << 63;
        match r % 8 {
            0 => sign | [0, DINF, 1, 0x0010_0000_0000_0000, DMAXN, D1][(r >> 8) as usize % 6],
            1 => sign | self.next() & 0x000f_ffff_ffff_ffff,
            2 => sign | 0x3fe0_0000_0000_0000 | self.next() & 0x001f_ffff_ffff_ffff,
            _ => self.next(),
        }
    }
}

/// The host's IEEE arithmetic is an independent truth for result bits in round-to-nearest
/// without FZ when the result is not a NaN (NaN propagation is where Arm and hosts differ).
#[test]
fn agrees_with_host_ieee_round_to_nearest() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for _ in 0..100_000 {
        let (a, b, c) = (rng.f32(), rng.f32(), rng.f32());
        let (x, y, z) = (f32::from_bits(a), f32::from_bits(b), f32::from_bits(c));
        let mut s = 0;
        let ours = [
            add_f32(a, b, &mut s),
            sub_f32(a, b, &mut s),
            mul_f32(a, b, &mut s),
            div_f32(a, b, &mut s),
            sqrt_f32(a, &mut s),
            muladd_f32(c, a, b, &mut s),
            f64_to_f32(f32_to_f64(a, &mut s), &mut s),
        ];
        let host = [x + y, x - y, x * y, x / y, x.sqrt(), x.mul_add(y, z), x];
        for (i, (o, h)) in ours.iter().zip(host).enumerate() {
            if !h.is_nan() {
                assert_eq!(*o, h.to_bits(), "op {i} on {a:08x} {b:08x} {c:08x}");
            } else {
                assert!(
                    f32::from_bits(*o).is_nan(),
                    "op {i} on {a:08x} {b:08x} {c:08x}"
                );
            }
        }
        // conversions to integers: Rust's `as` truncates and saturates, NaN -> 0, like VCVT
        let mut s = 0;
        assert_eq!(
            to_fixed_f32(a, 32, 0, false, Rounding::Zero, &mut s),
            x as i32 as u32
        );
        assert_eq!(
            to_fixed_f32(a, 32, 0, true, Rounding::Zero, &mut s),
            x as u32
        );
        assert_eq!(
            from_fixed_f32(b, 32, 0, false, Rounding::TieEven, &mut s),
            (b as i32 as f32).to_bits()
        );
        assert_eq!(
            from_fixed_f32(b, 32, 0, true, Rounding::TieEven, &mut s),
            (b as f32).to_bits()
        );
        if !x.is_nan() {
            for (rm, h) in [
                (Rounding::TieEven, x.round_ties_even()),
                (Rounding::TieAway, x.round()),
                (Rounding::PosInf, x.ceil()),
                (Rounding::NegInf, x.floor()),
                (Rounding::Zero, x.trunc()),
            ] {
                assert_eq!(
                    round_int_f32(a, rm, false, &mut s),
                    h.to_bits(),
                    "{a:08x} {rm:?}"
                );
            }
        }
        let (p, q, r) = (rng.f64(), rng.f64(), rng.f64());
        let (x, y, z) = (f64::from_bits(p), f64::from_bits(q), f64::from_bits(r));
        let mut s = 0;
        let ours = [
            add_f64(p, q, &mut s),
            sub_f64(p, q, &mut s),
            mul_f64(p, q, &mut s),
            div_f64(p, q, &mut s),
            sqrt_f64(p, &mut s),
            muladd_f64(r, p, q, &mut s),
            u64::from(f64_to_f32(p, &mut s)),
        ];
        let host = [
            x + y,
            x - y,
            x * y,
            x / y,
            x.sqrt(),
            x.mul_add(y, z),
            f64::from(x as f32),
        ];
        for (i, (o, h)) in ours.iter().zip(host).enumerate() {
            let o = if i == 6 {
                f64::from(f32::from_bits(*o as u32))
            } else {
                f64::from_bits(*o)
            };
            if !h.is_nan() {
                assert_eq!(
                    o.to_bits(),
                    h.to_bits(),
                    "op {i} on {p:016x} {q:016x} {r:016x}"
                );
            } else {
                assert!(o.is_nan(), "op {i} on {p:016x} {q:016x} {r:016x}");
            }
        }
        assert_eq!(
            to_fixed_f64(p, 32, 0, false, Rounding::Zero, &mut s),
            x as i32 as u32
        );
        assert_eq!(
            from_fixed_f64(b, 32, 0, true, Rounding::TieEven, &mut s),
            f64::from(b).to_bits()
        );
    }
}

/// No input makes any function panic (all control bits, any size/fbits, any rounding).
#[test]
fn total_on_any_input() {
    let mut rng = Rng(0x0fed_cba9_8765_4321);
    let modes = [
        Rounding::TieEven,
        Rounding::PosInf,
        Rounding::NegInf,
        Rounding::Zero,
        Rounding::TieAway,
    ];
    for _ in 0..20_000 {
        let mut s = (rng.next() as u32) & (0x1f << 22 | 0xf000_0000);
        let (a, b, c) = (rng.f32(), rng.f32(), rng.f32());
        let (p, q, r) = (rng.f64(), rng.f64(), rng.f64());
        let rm = modes[rng.next() as usize % 5];
        let (size, fbits) = ((rng.next() % 40) as u32, (rng.next() % 300) as u32);
        let uns = rng.next() & 1 != 0;
        let _ = (
            to_fixed_f32(a, size, fbits, uns, rm, &mut s),
            from_fixed_f32(b, size, fbits, uns, rm, &mut s),
            to_fixed_f64(p, size, fbits, uns, rm, &mut s),
            from_fixed_f64(b, size, fbits, uns, rm, &mut s),
            round_int_f32(a, rm, true, &mut s),
            round_int_f64(p, rm, true, &mut s),
            muladd_f32(a, b, c, &mut s),
            muladd_f64(p, q, r, &mut s),
            f32_to_f16(a, &mut s),
            f64_to_f16(p, &mut s),
            f16_to_f32(c as u16, &mut s),
            f16_to_f64(c as u16, &mut s),
            compare_f64(p, q, true, &mut s),
            max_num_f64(p, q, &mut s),
            min_num_f32(a, b, &mut s),
        );
    }
}
