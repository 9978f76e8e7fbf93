//! Bit-exact Arm floating point (skeleton: the API only; bodies follow).
#![allow(unused_variables, clippy::missing_panics_doc)]

/// Rounding modes (FPSCR.RMode values 0..=3 map to TieEven, PosInf, NegInf, Zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Round to nearest, ties to even.
    TieEven,
    /// Round towards plus infinity.
    PosInf,
    /// Round towards minus infinity.
    NegInf,
    /// Round towards zero.
    Zero,
    /// Round to nearest, ties away from zero.
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

/// See the module docs.
pub fn add_f32(a: u32, b: u32, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn sub_f32(a: u32, b: u32, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn mul_f32(a: u32, b: u32, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn div_f32(a: u32, b: u32, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn muladd_f32(addend: u32, a: u32, b: u32, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn sqrt_f32(a: u32, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn compare_f32(a: u32, b: u32, quiet_nan_exc: bool, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn max_num_f32(a: u32, b: u32, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn min_num_f32(a: u32, b: u32, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn round_int_f32(a: u32, rounding: Rounding, exact: bool, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn to_fixed_f32(
    a: u32,
    size: u32,
    fbits: u32,
    unsigned: bool,
    rounding: Rounding,
    fpscr: &mut u32,
) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn from_fixed_f32(
    x: u32,
    size: u32,
    fbits: u32,
    unsigned: bool,
    rounding: Rounding,
    fpscr: &mut u32,
) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn add_f64(a: u64, b: u64, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn sub_f64(a: u64, b: u64, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn mul_f64(a: u64, b: u64, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn div_f64(a: u64, b: u64, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn muladd_f64(addend: u64, a: u64, b: u64, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn sqrt_f64(a: u64, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn compare_f64(a: u64, b: u64, quiet_nan_exc: bool, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn max_num_f64(a: u64, b: u64, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn min_num_f64(a: u64, b: u64, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn round_int_f64(a: u64, rounding: Rounding, exact: bool, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn to_fixed_f64(
    a: u64,
    size: u32,
    fbits: u32,
    unsigned: bool,
    rounding: Rounding,
    fpscr: &mut u32,
) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn from_fixed_f64(
    x: u32,
    size: u32,
    fbits: u32,
    unsigned: bool,
    rounding: Rounding,
    fpscr: &mut u32,
) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn f32_to_f64(a: u32, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn f64_to_f32(a: u64, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn f16_to_f32(h: u16, fpscr: &mut u32) -> u32 {
    unimplemented!()
}

/// See the module docs.
pub fn f32_to_f16(a: u32, fpscr: &mut u32) -> u16 {
    unimplemented!()
}

/// See the module docs.
pub fn f16_to_f64(h: u16, fpscr: &mut u32) -> u64 {
    unimplemented!()
}

/// See the module docs.
pub fn f64_to_f16(a: u64, fpscr: &mut u32) -> u16 {
    unimplemented!()
}
