//! Fast paths for the number formats that log messages use most: floats by `{}` and by
//! `{:.N}`. Each gives exactly the text of Rust's `format!`; the format oracle test compares
//! them on random values.
//!
//! `{}` takes the shortest digits that read back as the same float, which `ryu` computes,
//! and lays them out without an exponent as Rust's `Display` does. `{:.N}` needs the exact
//! binary value rounded to N decimals, ties to even. For `N` up to 17 and any finite value
//! that is an integer arithmetic on `u128`.

use std::fmt::Write as _;

/// Significant digits from which two shortest forms can be equally close to an `f64`: the
/// digits step by at most one unit in the last place only from 10^16 on, since 2^52 < 10^16.
/// One digit less gives a margin.
const F64_TIE_DIGITS: usize = 15;

/// Significant digits from which two shortest forms can be equally close to an `f32`, as
/// [`F64_TIE_DIGITS`] for 2^23 < 10^7.
const F32_TIE_DIGITS: usize = 6;

/// Appends an `f64` as `format!("{value}")` does.
pub(crate) fn push_f64(out: &mut String, value: f64) {
    let mut buffer = ryu::Buffer::new();
    if !value.is_finite()
        || (value != 0.0 && value.abs() < f64::MIN_POSITIVE)
        || !push_shortest(out, buffer.format_finite(value), F64_TIE_DIGITS)
    {
        let _ = write!(out, "{value}");
    }
}

/// Appends an `f32` as `format!("{value}")` does.
pub(crate) fn push_f32(out: &mut String, value: f32) {
    let mut buffer = ryu::Buffer::new();
    if !value.is_finite()
        || (value != 0.0 && value.abs() < f32::MIN_POSITIVE)
        || !push_shortest(out, buffer.format_finite(value), F32_TIE_DIGITS)
    {
        let _ = write!(out, "{value}");
    }
}

/// Appends the shortest digits that `ryu` wrote, such as `1.5e-7` or `100.0`, in the layout
/// of Rust's `Display`: no exponent, and no fraction for a whole number (`0.00000015`, `100`).
///
/// Returns `false`, appending nothing, when the digits are `tie_digits` or more. Then two
/// shortest forms may be equally close to the value, and `ryu` picks the even one where Rust
/// picks the larger: for 1861859656216989.25, `ryu` gives `…989.2` and Rust `…989.3`. Values
/// below the smallest normal float have a fixed unit in the last place, and their ties come
/// with fewer digits, so callers keep them off this path.
fn push_shortest(out: &mut String, ryu_text: &str, tie_digits: usize) -> bool {
    let significant = ryu_text
        .bytes()
        .take_while(|&byte| byte != b'e')
        .filter(u8::is_ascii_digit)
        .skip_while(|&digit| digit == b'0')
        .count();
    if significant >= tie_digits {
        return false;
    }

    let (negative, text) = match ryu_text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, ryu_text),
    };
    if negative {
        out.push('-');
    }

    let Some((mantissa, exponent)) = text.split_once('e') else {
        // Plain notation: only a whole number differs, by its `.0`.
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
        return true;
    };

    // Scientific notation: one digit, an optional fraction, then the exponent.
    let exponent: i32 = exponent
        .parse()
        .expect("ryu writes a decimal exponent after `e`");
    let (lead, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if exponent < 0 {
        out.push_str("0.");
        push_repeated(out, '0', (-exponent - 1) as usize);
        out.push_str(lead);
        out.push_str(fraction);
        return true;
    }
    let whole_digits = exponent as usize;
    out.push_str(lead);
    if whole_digits >= fraction.len() {
        out.push_str(fraction);
        push_repeated(out, '0', whole_digits - fraction.len());
    } else {
        out.push_str(&fraction[..whole_digits]);
        out.push('.');
        out.push_str(&fraction[whole_digits..]);
    }
    true
}

/// Appends `value` in decimal, through 64-bit arithmetic when it fits, which is much faster
/// than `u128` division.
pub(crate) fn push_u128(out: &mut String, value: u128) {
    let mut buffer = itoa::Buffer::new();
    match u64::try_from(value) {
        Ok(value) => out.push_str(buffer.format(value)),
        Err(_) => out.push_str(buffer.format(value)),
    }
}

fn push_repeated(out: &mut String, fill: char, count: usize) {
    out.extend(std::iter::repeat_n(fill, count));
}

/// Largest precision [`push_fixed`] handles: `2^53 * 10^17` still fits in a `u128` with room.
pub(crate) const MAX_FIXED_PRECISION: usize = 17;

/// Powers of ten from 10^0 to 10^[`MAX_FIXED_PRECISION`].
const POW10: [u64; MAX_FIXED_PRECISION + 1] = {
    let mut table = [1u64; MAX_FIXED_PRECISION + 1];
    let mut index = 1;
    while index < table.len() {
        table[index] = table[index - 1] * 10;
        index += 1;
    }
    table
};

/// Appends the magnitude of `value` with `precision` decimals as `format!("{:.precision$}")`
/// does, without any sign. Returns `false`, appending nothing, for NaN, the infinities and a
/// precision above [`MAX_FIXED_PRECISION`].
pub(crate) fn push_fixed(out: &mut String, value: f64, precision: usize) -> bool {
    if !value.is_finite() || precision > MAX_FIXED_PRECISION {
        return false;
    }
    let bits = value.to_bits();
    let biased_exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // The value is `mantissa * 2^exponent`, exactly.
    let (mantissa, exponent) = if biased_exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased_exponent - 1075)
    };

    if exponent >= 0 {
        // A whole number: below 2^1024, and so within a `u128` only up to 2^127. Larger ones
        // go through `write!`, which prints every digit.
        if exponent > 127 - 53 {
            let _ = write!(out, "{:.precision$}", value.abs());
            return true;
        }
        push_u128(out, u128::from(mantissa) << exponent);
        if precision > 0 {
            out.push('.');
            push_repeated(out, '0', precision);
        }
        return true;
    }

    // Scale to `precision` decimals and divide by 2^shift, rounding half to even.
    let shift = exponent.unsigned_abs();
    let scaled = u128::from(mantissa) * u128::from(POW10[precision]);
    let units = if shift > 112 {
        // scaled < 2^110, less than half of 2^shift: the value rounds to zero.
        0
    } else {
        let quotient = scaled >> shift;
        let remainder = scaled & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let round_up = remainder > half || (remainder == half && quotient & 1 == 1);
        quotient + u128::from(round_up)
    };

    let scale = u128::from(POW10[precision]);
    let (whole, decimals) = match u64::try_from(units) {
        Ok(units) => (
            u128::from(units / POW10[precision]),
            units % POW10[precision],
        ),
        Err(_) => (units / scale, (units % scale) as u64),
    };
    push_u128(out, whole);
    if precision > 0 {
        out.push('.');
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(decimals);
        push_repeated(out, '0', precision - digits.len());
        out.push_str(digits);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shortest(value: f64) -> String {
        let mut out = String::new();
        push_f64(&mut out, value);
        out
    }

    fn fixed(value: f64, precision: usize) -> String {
        let mut out = String::new();
        if value.is_sign_negative() {
            out.push('-');
        }
        assert!(push_fixed(&mut out, value, precision));
        out
    }

    #[test]
    fn shortest_matches_display_on_edge_values() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1e15,
            1e16,
            1.5e16,
            123_456_789_012_345_680.0,
            1e-5,
            1e-7,
            1.234e-7,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::MIN,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9_007_199_254_740_993.0,
            0.3,
            2.0f64.powi(-20),
        ];
        for value in values {
            assert_eq!(shortest(value), format!("{value}"), "{value:e}");
        }
    }

    #[test]
    fn f32_shortest_matches_display() {
        for value in [0.1f32, 1e-10, 3.4e38, 1e7, 16_777_216.0, -0.0, 1.17e-38] {
            let mut out = String::new();
            push_f32(&mut out, value);
            assert_eq!(out, format!("{value}"), "{value:e}");
        }
    }

    #[test]
    fn fixed_rounds_ties_to_even() {
        assert_eq!(fixed(0.125, 2), "0.12");
        assert_eq!(fixed(0.375, 2), "0.38");
        assert_eq!(fixed(0.5, 0), "0");
        assert_eq!(fixed(1.5, 0), "2");
        assert_eq!(fixed(2.5, 0), "2");
    }

    #[test]
    fn fixed_matches_format_on_edge_values() {
        let values = [
            0.0,
            -0.0,
            -0.001,
            101.25,
            0.35,
            1e300,
            2.0f64.powi(74),
            2.0f64.powi(75),
            5e-324,
            f64::MAX,
            9_999.999_999_999_99,
            18_446_744_073_709_551_615.0,
            1.844_674_407_370_955e17,
        ];
        for value in values {
            for precision in 0..=MAX_FIXED_PRECISION {
                assert_eq!(
                    fixed(value, precision),
                    format!("{value:.precision$}"),
                    "{value:e} to {precision} decimals"
                );
            }
        }
    }

    /// Values from random bits of every exponent, and decimals with few digits, as prices are.
    fn sample_values() -> impl Iterator<Item = f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        (0..100_000).map(move |index| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            match index % 3 {
                0 => f64::from_bits(state),
                1 => (state % 10_000_000) as f64 / 10f64.powi((state >> 60) as i32),
                _ => f64::from_bits(state & 0x43ff_ffff_ffff_ffff),
            }
        })
    }

    #[test]
    fn random_values_match_format() {
        for value in sample_values() {
            assert_eq!(shortest(value), format!("{value}"), "{value:e}");
            if !value.is_finite() {
                continue;
            }
            for precision in [0, 1, 2, 3, 6, 9, 17] {
                assert_eq!(
                    fixed(value, precision),
                    format!("{value:.precision$}"),
                    "{value:e} to {precision} decimals"
                );
            }
        }
    }
}
