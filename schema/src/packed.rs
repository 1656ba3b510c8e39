//! The packed argument encoding of format 1.1, used inside RUN entries.
//!
//! Producers copy arguments into their rings in the fixed-size encoding of [`crate::record`].
//! The writer converts each argument to this encoding with [`pack_args`], and readers decode it
//! with [`packed_args_len`] and [`decode_packed_args`]. Packed arguments carry no lengths of
//! their own, so a reader needs the call site's argument kinds to find where one ends.
//!
//! | kind | packed bytes |
//! |---|---|
//! | unsigned integers | LEB128 varint of the value |
//! | signed integers | LEB128 varint of the zigzag-mapped value |
//! | `f32` | 4 bytes, IEEE 754 bits |
//! | `f64` | a decimal varint, or a raw marker and 8 bytes; see [`f64_decimal`] |
//! | `bool` | 1 byte: 0 or 1 |
//! | `char` | varint of the Unicode scalar value |
//! | `str` | varint byte length, then the UTF-8 bytes |

use std::borrow::Cow;

use crate::record::{arg_len, ArgError, ArgValue, STR_LEN_PREFIX};
use crate::varint::{self, unzigzag_i128, unzigzag_i64, zigzag_i128, zigzag_i64};
use crate::ArgKind;

/// Most decimal places [`f64_decimal`] tries.
pub const MAX_DECIMALS: u32 = 9;

/// Low four bits of an `f64` varint that mark 8 raw bytes after it.
pub const F64_RAW: u64 = 15;

/// Largest magnitude, exclusive, of a decimal mantissa: every integer below it is exact in an
/// `f64`.
pub const MANTISSA_LIMIT: i64 = 1 << 53;

/// Powers of ten from 10^0 to 10^[`MAX_DECIMALS`], each exact in an `f64`.
const POW10: [f64; MAX_DECIMALS as usize + 1] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/// Finds the shortest exact decimal form of `value`: the smallest `k` in `0..=9` and the
/// integer `m` with `|m| < 2^53` such that `m as f64 / 10^k` has the same bits as `value`.
///
/// Both `m` and `10^k` are exact in an `f64`, and IEEE 754 division rounds correctly, so the
/// reader's `m as f64 / 10^k` gives back `value` bit for bit. Returns `None` for NaN, the
/// infinities, `-0.0` (the division would lose its sign) and any value without such a form;
/// those travel as raw bits.
pub fn f64_decimal(value: f64) -> Option<(i64, u32)> {
    if !value.is_finite() {
        return None;
    }
    // A mantissa whose division gave other bits; 0 for none, which never fails alone.
    let mut failed = 0i64;
    for (k, scale) in POW10.iter().enumerate() {
        let scaled = value * scale;
        if scaled.abs() >= MANTISSA_LIMIT as f64 {
            return None;
        }
        let mantissa = round_half_away(scaled);
        // Two shortcuts skip divisions that cannot succeed; the division alone decides.
        // When `m / 10^k` rounds to `value`, `value * 10^k` is within a few units in the last
        // place of `m`, so a product farther from an integer is no candidate. And `10m / 10^(k+1)`
        // is the same real number as a failed `m / 10^k`, so it fails the same way.
        if (scaled - mantissa as f64).abs() > scaled.abs() * NEAR_INTEGER {
            continue;
        }
        if failed != 0 && mantissa == failed.saturating_mul(10) {
            failed = mantissa;
            continue;
        }
        if (mantissa as f64 / scale).to_bits() == value.to_bits() {
            return Some((mantissa, k as u32));
        }
        failed = mantissa;
    }
    None
}

/// Relative distance from an integer beyond which a scaled value cannot be a decimal form:
/// 2^-49, eight times the rounding error of one multiplication and one division.
const NEAR_INTEGER: f64 = 1.0 / (1u64 << 49) as f64;

/// Rounds half away from zero, as `f64::round` does, for `|value| < 2^53`, without a call
/// into the math library.
fn round_half_away(value: f64) -> i64 {
    let truncated = value as i64;
    let fraction = value - truncated as f64;
    // Comparisons as integers rather than branches: the fraction of a value without a short
    // form is random, and mispredicted branches would dominate the search.
    truncated + i64::from(fraction >= 0.5) - i64::from(fraction <= -0.5)
}

/// Appends `value` in its packed form: the varint `zigzag(m) << 4 | k` when
/// [`f64_decimal`] finds a form, else the varint [`F64_RAW`] and the 8 IEEE 754 bytes.
pub fn write_f64(out: &mut Vec<u8>, value: f64) {
    match f64_decimal(value) {
        Some((mantissa, decimals)) => {
            varint::write_u64(out, zigzag_i64(mantissa) << 4 | u64::from(decimals));
        }
        None => {
            varint::write_u64(out, F64_RAW);
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// Number of two-slot sets in an [`F64Cache`], a power of two.
const F64_CACHE_SETS: usize = 512;

/// Two-way set-associative cache of the packed heads of recent `f64` values, keyed by their
/// bits, so a repeated value skips the decimal search of [`f64_decimal`].
///
/// The search took about a third of the backend's time in `perf` on the throughput
/// benchmark, whose fill prices cycle through 64 values. A direct-mapped cache of 256 slots
/// put those prices in only 34 slots, so colliding prices kept evicting each other. Two ways
/// per set and a hash that first folds the high bits in keep all 64.
#[derive(Debug, Clone)]
pub struct F64Cache {
    /// Pairs of value bits and packed head (the decimal varint value or [`F64_RAW`]), the
    /// most recently used first in each set. Slots start as `0.0`, whose head is 0, so an
    /// unused slot needs no marker.
    sets: Box<[[(u64, u64); 2]]>,
}

impl Default for F64Cache {
    fn default() -> Self {
        F64Cache {
            sets: vec![[(0, 0); 2]; F64_CACHE_SETS].into_boxed_slice(),
        }
    }
}

impl F64Cache {
    /// Creates a cache whose slots all contain `0.0`.
    pub fn new() -> Self {
        F64Cache::default()
    }

    /// Appends `value` exactly as [`write_f64`] does.
    pub fn write_f64(&mut self, out: &mut Vec<u8>, value: f64) {
        let bits = value.to_bits();
        let folded = bits ^ (bits >> 32);
        let index =
            (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - F64_CACHE_SETS.ilog2())) as usize;
        let set = &mut self.sets[index];
        let head = if set[0].0 == bits {
            set[0].1
        } else if set[1].0 == bits {
            let head = set[1].1;
            set.swap(0, 1);
            head
        } else {
            let head = match f64_decimal(value) {
                Some((mantissa, decimals)) => zigzag_i64(mantissa) << 4 | u64::from(decimals),
                None => F64_RAW,
            };
            *set = [(bits, head), set[0]];
            head
        };
        varint::write_u64(out, head);
        if head == F64_RAW {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
}

fn le<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

/// Converts one argument list from the ring encoding of [`crate::record`] at the start of
/// `raw` to the packed encoding, appended to `out`. Returns the raw bytes it took, or `None`
/// when `raw` ends inside an argument; `out` may then hold part of the list.
pub fn pack_args(
    kinds: impl IntoIterator<Item = ArgKind>,
    raw: &[u8],
    out: &mut Vec<u8>,
) -> Option<usize> {
    pack_args_inner(kinds, raw, out, None)
}

/// Does what [`pack_args`] does, with the same output, and looks up each `f64` in `cache`
/// first.
pub fn pack_args_cached(
    kinds: impl IntoIterator<Item = ArgKind>,
    raw: &[u8],
    out: &mut Vec<u8>,
    cache: &mut F64Cache,
) -> Option<usize> {
    pack_args_inner(kinds, raw, out, Some(cache))
}

fn pack_args_inner(
    kinds: impl IntoIterator<Item = ArgKind>,
    raw: &[u8],
    out: &mut Vec<u8>,
    mut cache: Option<&mut F64Cache>,
) -> Option<usize> {
    let mut position = 0;
    for kind in kinds {
        let rest = &raw[position..];
        let len = arg_len(kind, rest)?;
        pack_one(kind, &rest[..len], out, cache.as_deref_mut());
        position += len;
    }
    Some(position)
}

/// Packs one argument whose raw length [`arg_len`] already checked.
fn pack_one(kind: ArgKind, raw: &[u8], out: &mut Vec<u8>, cache: Option<&mut F64Cache>) {
    match kind {
        ArgKind::U8 | ArgKind::Bool => out.push(raw[0]),
        ArgKind::U16 => varint::write_u64(out, u16::from_le_bytes(le(raw)).into()),
        ArgKind::U32 | ArgKind::Char => varint::write_u64(out, u32::from_le_bytes(le(raw)).into()),
        ArgKind::U64 => varint::write_u64(out, u64::from_le_bytes(le(raw))),
        ArgKind::U128 => varint::write_u128(out, u128::from_le_bytes(le(raw))),
        ArgKind::I8 => varint::write_u64(out, zigzag_i64((raw[0] as i8).into())),
        ArgKind::I16 => varint::write_u64(out, zigzag_i64(i16::from_le_bytes(le(raw)).into())),
        ArgKind::I32 => varint::write_u64(out, zigzag_i64(i32::from_le_bytes(le(raw)).into())),
        ArgKind::I64 => varint::write_u64(out, zigzag_i64(i64::from_le_bytes(le(raw)))),
        ArgKind::I128 => varint::write_u128(out, zigzag_i128(i128::from_le_bytes(le(raw)))),
        ArgKind::F32 => out.extend_from_slice(&raw[..4]),
        ArgKind::F64 => {
            let value = f64::from_le_bytes(le(raw));
            match cache {
                Some(cache) => cache.write_f64(out, value),
                None => write_f64(out, value),
            }
        }
        ArgKind::Str => {
            let text = &raw[STR_LEN_PREFIX..];
            varint::write_u64(out, text.len() as u64);
            out.extend_from_slice(text);
        }
    }
}

/// Returns the packed length of a whole argument list of `kinds` at the start of `bytes`,
/// after checking that every value is valid, so [`decode_packed_args`] cannot fail on it.
///
/// # Errors
///
/// Fails as [`decode_packed_args`] does.
pub fn packed_args_len(
    kinds: impl IntoIterator<Item = ArgKind>,
    bytes: &[u8],
) -> Result<usize, ArgError> {
    let mut position = 0;
    for (index, kind) in kinds.into_iter().enumerate() {
        let rest = &bytes[position..];
        match read_value(kind, rest, false) {
            Some((_, len)) => position += len,
            None => return Err(describe(index, kind, rest)),
        }
    }
    Ok(position)
}

/// Decodes a packed argument list. Returns the values and the bytes they took.
///
/// # Errors
///
/// Fails when `bytes` ends inside an argument, or contains a varint that is too long, a value out
/// of its kind's range, an impossible `bool`, `char` or `f64` form.
pub fn decode_packed_args<'a>(
    kinds: impl IntoIterator<Item = ArgKind>,
    bytes: &'a [u8],
) -> Result<(Vec<ArgValue<'a>>, usize), ArgError> {
    let mut values = Vec::new();
    let used = decode_packed_args_into(kinds, bytes, &mut values)?;
    Ok((values, used))
}

/// Decodes a packed argument list as [`decode_packed_args`] does, appending the values to
/// `values` so that a reader can reuse one vector for many records. Returns the bytes taken.
///
/// # Errors
///
/// Fails as [`decode_packed_args`] does. `values` then contains the values before the bad one.
pub fn decode_packed_args_into<'a>(
    kinds: impl IntoIterator<Item = ArgKind>,
    bytes: &'a [u8],
    values: &mut Vec<ArgValue<'a>>,
) -> Result<usize, ArgError> {
    let mut position = 0;
    for (index, kind) in kinds.into_iter().enumerate() {
        let rest = &bytes[position..];
        match read_value(kind, rest, true) {
            Some((value, len)) => {
                values.push(value);
                position += len;
            }
            None => return Err(describe(index, kind, rest)),
        }
    }
    Ok(position)
}

/// Describes why the value of `kind` at the start of `bytes` is malformed, which
/// [`read_value`] found.
#[cold]
fn describe(index: usize, kind: ArgKind, bytes: &[u8]) -> ArgError {
    let detail = match read_one(kind, bytes, false) {
        Err(detail) => detail,
        Ok(_) => "value does not decode".to_owned(),
    };
    ArgError {
        index,
        kind,
        detail,
    }
}

/// Reads one packed value as [`read_one`] does, or returns `None` where it fails. This is
/// the fast path of every reader: it builds no error text.
#[inline(always)]
fn read_value(kind: ArgKind, bytes: &[u8], want_value: bool) -> Option<(ArgValue<'_>, usize)> {
    fn narrow<T: TryFrom<u64>>(bytes: &[u8]) -> Option<(T, usize)> {
        let (value, len) = varint::read_u64(bytes)?;
        Some((T::try_from(value).ok()?, len))
    }
    fn zigzag<T: TryFrom<i64>>(bytes: &[u8]) -> Option<(T, usize)> {
        let (value, len) = varint::read_u64(bytes)?;
        Some((T::try_from(unzigzag_i64(value)).ok()?, len))
    }

    Some(match kind {
        ArgKind::U8 => (ArgValue::U8(*bytes.first()?), 1),
        ArgKind::U16 => narrow(bytes).map(|(value, len)| (ArgValue::U16(value), len))?,
        ArgKind::U32 => narrow(bytes).map(|(value, len)| (ArgValue::U32(value), len))?,
        ArgKind::U64 => narrow(bytes).map(|(value, len)| (ArgValue::U64(value), len))?,
        ArgKind::U128 => {
            varint::read_u128(bytes).map(|(value, len)| (ArgValue::U128(value), len))?
        }
        ArgKind::I8 => zigzag(bytes).map(|(value, len)| (ArgValue::I8(value), len))?,
        ArgKind::I16 => zigzag(bytes).map(|(value, len)| (ArgValue::I16(value), len))?,
        ArgKind::I32 => zigzag(bytes).map(|(value, len)| (ArgValue::I32(value), len))?,
        ArgKind::I64 => zigzag(bytes).map(|(value, len)| (ArgValue::I64(value), len))?,
        ArgKind::I128 => {
            let (value, len) = varint::read_u128(bytes)?;
            (ArgValue::I128(unzigzag_i128(value)), len)
        }
        ArgKind::F32 => (ArgValue::F32(f32::from_le_bytes(le_prefix(bytes)?)), 4),
        ArgKind::F64 => {
            let (head, len) = varint::read_u64(bytes)?;
            let decimals = head & 0xf;
            if head == F64_RAW {
                let raw = le_prefix::<8>(&bytes[len..])?;
                (ArgValue::F64(f64::from_le_bytes(raw)), len + 8)
            } else {
                let mantissa = unzigzag_i64(head >> 4);
                if decimals > u64::from(MAX_DECIMALS)
                    || mantissa.unsigned_abs() >= MANTISSA_LIMIT as u64
                {
                    return None;
                }
                let value = mantissa as f64 / POW10[decimals as usize];
                (ArgValue::F64(value), len)
            }
        }
        ArgKind::Bool => match bytes.first()? {
            0 => (ArgValue::Bool(false), 1),
            1 => (ArgValue::Bool(true), 1),
            _ => return None,
        },
        ArgKind::Char => {
            let (scalar, len) = varint::read_u64(bytes)?;
            let value = char::from_u32(u32::try_from(scalar).ok()?)?;
            (ArgValue::Char(value), len)
        }
        ArgKind::Str => {
            let (text_len, len) = varint::read_u64(bytes)?;
            let text = bytes[len..].get(..usize::try_from(text_len).ok()?)?;
            let value = if want_value {
                String::from_utf8_lossy(text)
            } else {
                Cow::Borrowed("")
            };
            (ArgValue::Str(value), len + text.len())
        }
    })
}

fn le_prefix<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.get(..N)?.try_into().ok()
}

fn truncated(bytes: &[u8]) -> String {
    format!(
        "record ends after {} more bytes, inside the value",
        bytes.len()
    )
}

fn read_u64(bytes: &[u8]) -> Result<(u64, usize), String> {
    varint::read_u64(bytes).ok_or_else(|| match bytes.len() {
        len if len < varint::MAX_LEN_U64 && bytes.iter().all(|byte| byte & 0x80 != 0) => {
            truncated(bytes)
        }
        _ => "varint does not fit in 64 bits".to_owned(),
    })
}

fn read_u128(bytes: &[u8]) -> Result<(u128, usize), String> {
    varint::read_u128(bytes).ok_or_else(|| match bytes.len() {
        len if len < varint::MAX_LEN_U128 && bytes.iter().all(|byte| byte & 0x80 != 0) => {
            truncated(bytes)
        }
        _ => "varint does not fit in 128 bits".to_owned(),
    })
}

/// Reads an unsigned varint and narrows it to `T`.
fn unsigned<T: TryFrom<u64>>(bytes: &[u8]) -> Result<(T, usize), String> {
    let (value, len) = read_u64(bytes)?;
    let narrow = T::try_from(value).map_err(|_| format!("{value} is out of range"))?;
    Ok((narrow, len))
}

/// Reads a zigzag varint and narrows it to `T`.
fn signed<T: TryFrom<i64>>(bytes: &[u8]) -> Result<(T, usize), String> {
    let (value, len) = read_u64(bytes)?;
    let wide = unzigzag_i64(value);
    let narrow = T::try_from(wide).map_err(|_| format!("{wide} is out of range"))?;
    Ok((narrow, len))
}

fn fixed<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    bytes.get(..N).map(le).ok_or_else(|| truncated(bytes))
}

/// Reads one packed value. Without `want_value`, a string's UTF-8 is not checked, and the
/// value returned for it is empty.
fn read_one(
    kind: ArgKind,
    bytes: &[u8],
    want_value: bool,
) -> Result<(ArgValue<'_>, usize), String> {
    Ok(match kind {
        ArgKind::U8 => {
            let byte = *bytes.first().ok_or_else(|| truncated(bytes))?;
            (ArgValue::U8(byte), 1)
        }
        ArgKind::U16 => unsigned(bytes).map(|(value, len)| (ArgValue::U16(value), len))?,
        ArgKind::U32 => unsigned(bytes).map(|(value, len)| (ArgValue::U32(value), len))?,
        ArgKind::U64 => unsigned(bytes).map(|(value, len)| (ArgValue::U64(value), len))?,
        ArgKind::U128 => read_u128(bytes).map(|(value, len)| (ArgValue::U128(value), len))?,
        ArgKind::I8 => signed(bytes).map(|(value, len)| (ArgValue::I8(value), len))?,
        ArgKind::I16 => signed(bytes).map(|(value, len)| (ArgValue::I16(value), len))?,
        ArgKind::I32 => signed(bytes).map(|(value, len)| (ArgValue::I32(value), len))?,
        ArgKind::I64 => signed(bytes).map(|(value, len)| (ArgValue::I64(value), len))?,
        ArgKind::I128 => {
            let (value, len) = read_u128(bytes)?;
            (ArgValue::I128(unzigzag_i128(value)), len)
        }
        ArgKind::F32 => (ArgValue::F32(f32::from_le_bytes(fixed(bytes)?)), 4),
        ArgKind::F64 => read_f64(bytes).map(|(value, len)| (ArgValue::F64(value), len))?,
        ArgKind::Bool => match bytes.first() {
            None => return Err(truncated(bytes)),
            Some(0) => (ArgValue::Bool(false), 1),
            Some(1) => (ArgValue::Bool(true), 1),
            Some(other) => return Err(format!("bool byte is {other}, expected 0 or 1")),
        },
        ArgKind::Char => {
            let (scalar, len) = read_u64(bytes)?;
            let value = u32::try_from(scalar)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("{scalar:#x} is not a Unicode scalar value"))?;
            (ArgValue::Char(value), len)
        }
        ArgKind::Str => {
            let (text_len, len) = read_u64(bytes)?;
            let rest = &bytes[len..];
            if text_len > rest.len() as u64 {
                return Err(format!(
                    "string of {text_len} bytes overruns the {} bytes left",
                    rest.len()
                ));
            }
            let text = &rest[..text_len as usize];
            let value = if want_value {
                String::from_utf8_lossy(text)
            } else {
                Cow::Borrowed("")
            };
            (ArgValue::Str(value), len + text.len())
        }
    })
}

/// Reads an `f64` written by [`write_f64`].
fn read_f64(bytes: &[u8]) -> Result<(f64, usize), String> {
    let (head, len) = read_u64(bytes)?;
    let decimals = head & 0xf;
    if decimals == F64_RAW {
        if head != F64_RAW {
            return Err(format!("raw f64 marker {head:#x} has high bits set"));
        }
        let raw = fixed::<8>(&bytes[len..])?;
        return Ok((f64::from_le_bytes(raw), len + 8));
    }
    if decimals > u64::from(MAX_DECIMALS) {
        return Err(format!(
            "f64 with {decimals} decimal places; at most {MAX_DECIMALS} are defined"
        ));
    }
    let mantissa = unzigzag_i64(head >> 4);
    if mantissa.unsigned_abs() >= MANTISSA_LIMIT as u64 {
        return Err(format!(
            "f64 mantissa {mantissa} is not below 2^53 in magnitude"
        ));
    }
    Ok((mantissa as f64 / POW10[decimals as usize], len))
}

#[cfg(test)]
#[path = "packed_tests.rs"]
mod tests;
