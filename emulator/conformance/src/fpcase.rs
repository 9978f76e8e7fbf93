//! The armlet side of the floating-point differential test (`fpdiff.py` is the other side):
//! one case per line, `OP FPSCR A B C RND SIZE FBITS UNS EXACT` (FPSCR and operands hex, the
//! rest decimal), answered by `RESULT FPSCR` (hex) computed with [`armlet_cpu::fparith`].
//!
//! `OP` names the function and precision: `add32 sub32 mul32 div32 fma32 sqrt32 cmp32 cmpe32
//! maxnm32 minnm32 rint32 tofix32 fromfix32` and the same with `64`, and the conversions
//! `f32f64 f64f32 f16f32 f32f16 f16f64 f64f16`. `fma` computes `A + B*C`; `cmp` sets FPSCR's
//! NZCV from the result, as VCMP does. `RND` is 0..=3 for RN/RP/RM/RZ, 4 for ties-away and 5
//! for FPSCR's mode; `SIZE FBITS UNS` parameterise the fixed-point conversions and `EXACT`
//! (0/1) VRINTX.
//!
//! The instruction compositions `vmla vmls vnmla vnmls vnmul vfms vfnma vfnms` (with `32`/`64`;
//! `A` is Sd/Dd, `B` Sn/Dn, `C` Sm/Dm) are built from the library exactly as the pseudocode
//! builds them (FPNeg is a sign flip, VMLA/VMLS/VNMLA/VNMLS round twice), so the harness
//! also checks those recipes, which the FPU's execution code follows.

use armlet_cpu::fparith::{self as fp, Rounding};

fn rounding(code: u32, fpscr: u32) -> Rounding {
    match code {
        0 => Rounding::TieEven,
        1 => Rounding::PosInf,
        2 => Rounding::NegInf,
        3 => Rounding::Zero,
        4 => Rounding::TieAway,
        _ => Rounding::from_fpscr(fpscr),
    }
}

/// Runs one case line; the answer line or what is wrong with the case.
pub fn run_fp_case(line: &str) -> Result<String, String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    if f.len() != 10 {
        return Err(format!("expected 10 fields, got {}", f.len()));
    }
    let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|e| format!("{s}: {e}"));
    let dec = |s: &str| s.parse::<u32>().map_err(|e| format!("{s}: {e}"));
    let op = f[0];
    let mut fpscr = hex(f[1])? as u32;
    let (a, b, c) = (hex(f[2])?, hex(f[3])?, hex(f[4])?);
    let rm = rounding(dec(f[5])?, fpscr);
    let (size, fbits, uns, exact) = (dec(f[6])?, dec(f[7])?, dec(f[8])? != 0, dec(f[9])? != 0);
    let (a32, b32, c32) = (a as u32, b as u32, c as u32);
    let s = &mut fpscr;
    let r: u64 = match op {
        "add32" => fp::add_f32(a32, b32, s).into(),
        "sub32" => fp::sub_f32(a32, b32, s).into(),
        "mul32" => fp::mul_f32(a32, b32, s).into(),
        "div32" => fp::div_f32(a32, b32, s).into(),
        "fma32" => fp::muladd_f32(a32, b32, c32, s).into(),
        "sqrt32" => fp::sqrt_f32(a32, s).into(),
        "cmp32" | "cmpe32" => fp::compare_f32(a32, b32, op == "cmpe32", s).into(),
        "maxnm32" => fp::max_num_f32(a32, b32, s).into(),
        "minnm32" => fp::min_num_f32(a32, b32, s).into(),
        "rint32" => fp::round_int_f32(a32, rm, exact, s).into(),
        "tofix32" => fp::to_fixed_f32(a32, size, fbits, uns, rm, s).into(),
        "fromfix32" => fp::from_fixed_f32(a32, size, fbits, uns, rm, s).into(),
        "add64" => fp::add_f64(a, b, s),
        "sub64" => fp::sub_f64(a, b, s),
        "mul64" => fp::mul_f64(a, b, s),
        "div64" => fp::div_f64(a, b, s),
        "fma64" => fp::muladd_f64(a, b, c, s),
        "sqrt64" => fp::sqrt_f64(a, s),
        "cmp64" | "cmpe64" => fp::compare_f64(a, b, op == "cmpe64", s).into(),
        "maxnm64" => fp::max_num_f64(a, b, s),
        "minnm64" => fp::min_num_f64(a, b, s),
        "rint64" => fp::round_int_f64(a, rm, exact, s),
        "tofix64" => fp::to_fixed_f64(a, size, fbits, uns, rm, s).into(),
        "fromfix64" => fp::from_fixed_f64(a32, size, fbits, uns, rm, s),
        "vmla32" | "vmls32" | "vnmla32" | "vnmls32" | "vnmul32" | "vfms32" | "vfnma32"
        | "vfnms32" => compose32(&op[..op.len() - 2], a32, b32, c32, s).into(),
        "vmla64" | "vmls64" | "vnmla64" | "vnmls64" | "vnmul64" | "vfms64" | "vfnma64"
        | "vfnms64" => compose64(&op[..op.len() - 2], a, b, c, s),
        "f32f64" => fp::f32_to_f64(a32, s),
        "f64f32" => fp::f64_to_f32(a, s).into(),
        "f16f32" => fp::f16_to_f32(a as u16, s).into(),
        "f32f16" => fp::f32_to_f16(a32, s).into(),
        "f16f64" => fp::f16_to_f64(a as u16, s),
        "f64f16" => fp::f64_to_f16(a, s).into(),
        _ => return Err(format!("unknown op {op}")),
    };
    if op.starts_with("cmp") {
        fpscr = (fpscr & 0x0fff_ffff) | r as u32;
    }
    Ok(format!("{r:x} {fpscr:08x}"))
}

macro_rules! compose {
    ($name:ident, $t:ty, $sign:expr, $mul:path, $add:path, $muladd:path) => {
        /// The pseudocode of VMLA/VMLS/VNMLA/VNMLS/VNMUL/VFMS/VFNMA/VFNMS on d, n, m.
        fn $name(insn: &str, d: $t, n: $t, m: $t, s: &mut u32) -> $t {
            let neg = |x: $t| x ^ $sign;
            match insn {
                "vmla" => {
                    let p = $mul(n, m, s);
                    $add(d, p, s)
                }
                "vmls" => {
                    let p = $mul(n, m, s);
                    $add(d, neg(p), s)
                }
                "vnmla" => {
                    let p = $mul(n, m, s);
                    $add(neg(d), neg(p), s)
                }
                "vnmls" => {
                    let p = $mul(n, m, s);
                    $add(neg(d), p, s)
                }
                "vnmul" => neg($mul(n, m, s)),
                "vfms" => $muladd(d, neg(n), m, s),
                "vfnma" => $muladd(neg(d), neg(n), m, s),
                _ => $muladd(neg(d), n, m, s), // vfnms
            }
        }
    };
}

compose!(
    compose32,
    u32,
    1 << 31,
    fp::mul_f32,
    fp::add_f32,
    fp::muladd_f32
);
compose!(
    compose64,
    u64,
    1 << 63,
    fp::mul_f64,
    fp::add_f64,
    fp::muladd_f64
);
