//! Arithmetic helpers straight from the ARMv7-M ARM pseudocode (A2.2, A2.3, A5.3.2).

/// The barrel shifter's shift kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    /// Logical shift left.
    Lsl,
    /// Logical shift right.
    Lsr,
    /// Arithmetic shift right.
    Asr,
    /// Rotate right.
    Ror,
    /// Rotate right by one through carry.
    Rrx,
}

impl Shift {
    /// Mnemonic, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Shift::Lsl => "lsl",
            Shift::Lsr => "lsr",
            Shift::Asr => "asr",
            Shift::Ror => "ror",
            Shift::Rrx => "rrx",
        }
    }

    /// The two-bit shift type field of register shifts (`00` LSL .. `11` ROR).
    pub fn from_type(t: u32) -> Shift {
        match t & 3 {
            0 => Shift::Lsl,
            1 => Shift::Lsr,
            2 => Shift::Asr,
            _ => Shift::Ror,
        }
    }
}

/// `DecodeImmShift(type, imm5)`: the shift kind and amount of an immediate shift.
pub fn decode_imm_shift(ty: u32, imm5: u32) -> (Shift, u8) {
    match ty & 3 {
        0 => (Shift::Lsl, imm5 as u8),
        1 => (Shift::Lsr, if imm5 == 0 { 32 } else { imm5 as u8 }),
        2 => (Shift::Asr, if imm5 == 0 { 32 } else { imm5 as u8 }),
        _ => {
            if imm5 == 0 {
                (Shift::Rrx, 1)
            } else {
                (Shift::Ror, imm5 as u8)
            }
        }
    }
}

/// `Shift_C(value, type, amount, carry_in)`.
#[inline]
pub fn shift_c(value: u32, ty: Shift, amount: u32, carry_in: bool) -> (u32, bool) {
    if amount == 0 && ty != Shift::Rrx {
        return (value, carry_in);
    }
    match ty {
        Shift::Lsl => {
            if amount < 32 {
                (value << amount, (value >> (32 - amount)) & 1 != 0)
            } else if amount == 32 {
                (0, value & 1 != 0)
            } else {
                (0, false)
            }
        }
        Shift::Lsr => {
            if amount < 32 {
                (value >> amount, (value >> (amount - 1)) & 1 != 0)
            } else if amount == 32 {
                (0, value >> 31 != 0)
            } else {
                (0, false)
            }
        }
        Shift::Asr => {
            if amount < 32 {
                (
                    ((value as i32) >> amount) as u32,
                    (value >> (amount - 1)) & 1 != 0,
                )
            } else {
                let r = ((value as i32) >> 31) as u32;
                (r, r & 1 != 0)
            }
        }
        Shift::Ror => {
            let r = value.rotate_right(amount & 31);
            (r, r >> 31 != 0)
        }
        Shift::Rrx => (((carry_in as u32) << 31) | (value >> 1), value & 1 != 0),
    }
}

/// `Shift(value, type, amount, carry_in)` without the carry.
#[inline]
pub fn shift(value: u32, ty: Shift, amount: u32, carry_in: bool) -> u32 {
    shift_c(value, ty, amount, carry_in).0
}

/// `AddWithCarry(x, y, carry_in)` → (result, carry_out, overflow).
#[inline]
pub fn add_with_carry(x: u32, y: u32, carry_in: bool) -> (u32, bool, bool) {
    let wide = x as u64 + y as u64 + carry_in as u64;
    let result = wide as u32;
    let carry = wide > u32::MAX as u64;
    let overflow = ((x ^ result) & (y ^ result)) >> 31 != 0;
    (result, carry, overflow)
}

/// `ThumbExpandImm_C(imm12, carry_in)`. Returns the value and, if the encoding determines it,
/// the carry out (`None` means "carry unchanged"). `Err(())` for the UNPREDICTABLE
/// `imm8 == 0` forms of the replicated patterns.
#[allow(clippy::result_unit_err)]
pub fn thumb_expand_imm_c(imm12: u32) -> Result<(u32, Option<bool>), ()> {
    let imm8 = imm12 & 0xff;
    if imm12 >> 10 == 0 {
        let v = match (imm12 >> 8) & 3 {
            0 => imm8,
            1 => {
                if imm8 == 0 {
                    return Err(());
                }
                imm8 | (imm8 << 16)
            }
            2 => {
                if imm8 == 0 {
                    return Err(());
                }
                (imm8 << 8) | (imm8 << 24)
            }
            _ => {
                if imm8 == 0 {
                    return Err(());
                }
                imm8 * 0x0101_0101
            }
        };
        Ok((v, None))
    } else {
        let unrotated = 0x80 | (imm12 & 0x7f);
        let v = unrotated.rotate_right(imm12 >> 7);
        Ok((v, Some(v >> 31 != 0)))
    }
}

/// `SignedSatQ(i, n)`: saturate `i` to an `n`-bit signed value (1 ≤ n ≤ 32).
#[inline]
pub fn signed_sat_q(i: i64, n: u32) -> (u32, bool) {
    let max = (1i64 << (n - 1)) - 1;
    let min = -(1i64 << (n - 1));
    if i > max {
        (max as u32, true)
    } else if i < min {
        (min as u32, true)
    } else {
        (i as u32, false)
    }
}

/// `UnsignedSatQ(i, n)`: saturate `i` to an `n`-bit unsigned value (0 ≤ n ≤ 31).
#[inline]
pub fn unsigned_sat_q(i: i64, n: u32) -> (u32, bool) {
    let max = (1i64 << n) - 1;
    if i > max {
        (max as u32, true)
    } else if i < 0 {
        (0, true)
    } else {
        (i as u32, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_follow_the_manual() {
        // LSL by 32 moves bit 0 into carry; by 33 clears carry.
        assert_eq!(shift_c(1, Shift::Lsl, 32, false), (0, true));
        assert_eq!(shift_c(1, Shift::Lsl, 33, true), (0, false));
        assert_eq!(shift_c(0x8000_0000, Shift::Lsr, 32, false), (0, true));
        assert_eq!(
            shift_c(0x8000_0000, Shift::Asr, 40, false),
            (0xffff_ffff, true)
        );
        assert_eq!(
            shift_c(0x8000_0001, Shift::Ror, 32, false),
            (0x8000_0001, true)
        );
        assert_eq!(
            shift_c(0x8000_0001, Shift::Ror, 1, false),
            (0xc000_0000, true)
        );
        assert_eq!(shift_c(3, Shift::Rrx, 1, true), (0x8000_0001, true));
        assert_eq!(shift_c(5, Shift::Lsr, 0, true), (5, true));
    }

    #[test]
    fn add_with_carry_flags() {
        assert_eq!(
            add_with_carry(0x7fff_ffff, 1, false),
            (0x8000_0000, false, true)
        );
        assert_eq!(add_with_carry(0xffff_ffff, 1, false), (0, true, false));
        // SUBS 0 - 1 = x + NOT(y) + 1
        assert_eq!(add_with_carry(0, !1, true), (0xffff_ffff, false, false));
        assert_eq!(
            add_with_carry(0x8000_0000, !1, true),
            (0x7fff_ffff, true, true)
        );
    }

    #[test]
    fn thumb_expand_imm_forms() {
        assert_eq!(thumb_expand_imm_c(0x0ab), Ok((0xab, None)));
        assert_eq!(thumb_expand_imm_c(0x1ab), Ok((0x00ab_00ab, None)));
        assert_eq!(thumb_expand_imm_c(0x2ab), Ok((0xab00_ab00, None)));
        assert_eq!(thumb_expand_imm_c(0x3ab), Ok((0xabab_abab, None)));
        assert_eq!(thumb_expand_imm_c(0x100), Err(()));
        // rotation 8 of 0x80|0x7f -> 0xff000000, carry = 1
        assert_eq!(thumb_expand_imm_c(0x47f), Ok((0xff00_0000, Some(true))));
    }

    #[test]
    fn saturation() {
        assert_eq!(signed_sat_q(200, 8), (127, true));
        assert_eq!(signed_sat_q(-200, 8), (-128i32 as u32, true));
        assert_eq!(unsigned_sat_q(-1, 8), (0, true));
        assert_eq!(unsigned_sat_q(255, 8), (255, false));
        assert_eq!(signed_sat_q(i64::from(i32::MIN), 32), (0x8000_0000, false));
    }
}
