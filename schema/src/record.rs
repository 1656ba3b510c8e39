//! The encoding of log records and their arguments.
//!
//! A record entry's body is a [`RecordHeader`] followed by the arguments in call order, each
//! encoded as its [`ArgKind`] says: fixed-size little-endian values, and strings as a 4-byte
//! length and UTF-8 bytes. The runtime copies arguments in this same encoding into its rings.
//! Format 1.0 files store it in RECORD entries; format 1.1 writers convert it to the encoding
//! of [`crate::packed`] and store RUN entries instead.

use std::borrow::Cow;

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::ArgKind;

/// Bytes before a string's contents: its length as a little-endian `u32`.
pub const STR_LEN_PREFIX: usize = 4;

/// Fixed part of a record body.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct RecordHeader {
    /// File-local call-site id, from a [`crate::entry::SiteDef`] earlier in the file.
    pub site: U32,
    /// Thread id, from a [`crate::entry::ThreadDef`] earlier in the file.
    pub thread: U32,
    /// Clock ticks when the call was made.
    pub ticks: U64,
}

/// One decoded argument.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue<'a> {
    /// `u8`.
    U8(u8),
    /// `u16`.
    U16(u16),
    /// `u32`.
    U32(u32),
    /// `u64` or `usize`.
    U64(u64),
    /// `u128`.
    U128(u128),
    /// `i8`.
    I8(i8),
    /// `i16`.
    I16(i16),
    /// `i32`.
    I32(i32),
    /// `i64` or `isize`.
    I64(i64),
    /// `i128`.
    I128(i128),
    /// `f32`.
    F32(f32),
    /// `f64`.
    F64(f64),
    /// `bool`.
    Bool(bool),
    /// `char`.
    Char(char),
    /// A string; invalid UTF-8, which only damage produces, is replaced with U+FFFD.
    Str(Cow<'a, str>),
}

/// Argument bytes that do not match the call site's argument kinds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("argument {index} ({kind}) is malformed: {detail}", kind = kind.type_name())]
pub struct ArgError {
    /// Position of the argument.
    pub index: usize,
    /// Its kind.
    pub kind: ArgKind,
    /// Description of the problem.
    pub detail: String,
}

/// Returns the encoded length of the argument of `kind` at the start of `bytes`, or `None`
/// when `bytes` is too short to hold it.
#[inline]
pub fn arg_len(kind: ArgKind, bytes: &[u8]) -> Option<usize> {
    let len = match kind.fixed_size() {
        Some(size) => size,
        None => {
            let prefix: [u8; STR_LEN_PREFIX] = bytes.get(..STR_LEN_PREFIX)?.try_into().ok()?;
            STR_LEN_PREFIX.checked_add(u32::from_le_bytes(prefix) as usize)?
        }
    };
    (len <= bytes.len()).then_some(len)
}

/// Returns the length of a whole argument list of `kinds` at the start of `bytes`.
pub fn args_len(kinds: impl IntoIterator<Item = ArgKind>, bytes: &[u8]) -> Option<usize> {
    let mut total = 0;
    for kind in kinds {
        total += arg_len(kind, &bytes[total..])?;
    }
    Some(total)
}

/// Decodes an argument list. Returns the values and the bytes they took.
///
/// # Errors
///
/// Fails when `bytes` ends inside an argument or contains an impossible `bool` or `char`.
pub fn decode_args<'a>(
    kinds: impl IntoIterator<Item = ArgKind>,
    bytes: &'a [u8],
) -> Result<(Vec<ArgValue<'a>>, usize), ArgError> {
    let mut values = Vec::new();
    let used = decode_args_into(kinds, bytes, &mut values)?;
    Ok((values, used))
}

/// Decodes an argument list as [`decode_args`] does, appending the values to `values` so that
/// a reader can reuse one vector for many records. Returns the bytes taken.
///
/// # Errors
///
/// Fails as [`decode_args`] does. `values` then contains the values before the bad one.
pub fn decode_args_into<'a>(
    kinds: impl IntoIterator<Item = ArgKind>,
    bytes: &'a [u8],
    values: &mut Vec<ArgValue<'a>>,
) -> Result<usize, ArgError> {
    let mut position = 0;
    for (index, kind) in kinds.into_iter().enumerate() {
        let rest = &bytes[position..];
        let len = arg_len(kind, rest).ok_or_else(|| ArgError {
            index,
            kind,
            detail: format!("record ends after {} more bytes", rest.len()),
        })?;
        values.push(decode_one(kind, &rest[..len]).map_err(|detail| ArgError {
            index,
            kind,
            detail,
        })?);
        position += len;
    }
    Ok(position)
}

fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&bytes[..N]);
    out
}

/// Decodes one argument whose length [`arg_len`] already checked.
fn decode_one(kind: ArgKind, bytes: &[u8]) -> Result<ArgValue<'_>, String> {
    Ok(match kind {
        ArgKind::U8 => ArgValue::U8(bytes[0]),
        ArgKind::U16 => ArgValue::U16(u16::from_le_bytes(array(bytes))),
        ArgKind::U32 => ArgValue::U32(u32::from_le_bytes(array(bytes))),
        ArgKind::U64 => ArgValue::U64(u64::from_le_bytes(array(bytes))),
        ArgKind::U128 => ArgValue::U128(u128::from_le_bytes(array(bytes))),
        ArgKind::I8 => ArgValue::I8(bytes[0] as i8),
        ArgKind::I16 => ArgValue::I16(i16::from_le_bytes(array(bytes))),
        ArgKind::I32 => ArgValue::I32(i32::from_le_bytes(array(bytes))),
        ArgKind::I64 => ArgValue::I64(i64::from_le_bytes(array(bytes))),
        ArgKind::I128 => ArgValue::I128(i128::from_le_bytes(array(bytes))),
        ArgKind::F32 => ArgValue::F32(f32::from_le_bytes(array(bytes))),
        ArgKind::F64 => ArgValue::F64(f64::from_le_bytes(array(bytes))),
        ArgKind::Bool => match bytes[0] {
            0 => ArgValue::Bool(false),
            1 => ArgValue::Bool(true),
            other => return Err(format!("bool byte is {other}, expected 0 or 1")),
        },
        ArgKind::Char => {
            let scalar = u32::from_le_bytes(array(bytes));
            ArgValue::Char(
                char::from_u32(scalar)
                    .ok_or_else(|| format!("{scalar:#x} is not a Unicode scalar value"))?,
            )
        }
        ArgKind::Str => ArgValue::Str(String::from_utf8_lossy(&bytes[STR_LEN_PREFIX..])),
    })
}

/// Appends a record entry, header included, with already encoded argument bytes.
pub fn write_record(out: &mut Vec<u8>, site: u32, thread: u32, ticks: u64, args: &[u8]) {
    let header = RecordHeader {
        site: U32::new(site),
        thread: U32::new(thread),
        ticks: U64::new(ticks),
    };
    crate::entry::write_header(
        out,
        crate::entry::kind::RECORD,
        size_of::<RecordHeader>() + args.len(),
    );
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(args);
}

/// Reads a record body: its header and the argument bytes after it.
///
/// # Errors
///
/// Fails when the body is shorter than a [`RecordHeader`].
pub fn read_record(body: &[u8]) -> Result<(RecordHeader, &[u8]), crate::entry::EntryError> {
    RecordHeader::read_from_prefix(body).map_err(|_| crate::entry::EntryError::Malformed {
        what: "record",
        detail: format!("{} bytes is shorter than a record header", body.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_arguments_round_trip() {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&100u64.to_le_bytes());
        bytes.extend_from_slice(&101.25f64.to_le_bytes());
        bytes.extend_from_slice(&3u32.to_le_bytes());
        bytes.extend_from_slice(b"abc");
        bytes.push(1);
        bytes.extend_from_slice(&('é' as u32).to_le_bytes());
        let kinds = [
            ArgKind::U64,
            ArgKind::F64,
            ArgKind::Str,
            ArgKind::Bool,
            ArgKind::Char,
        ];
        assert_eq!(args_len(kinds, &bytes), Some(bytes.len()));
        let (values, used) = decode_args(kinds, &bytes).unwrap();
        assert_eq!(used, bytes.len());
        assert_eq!(
            values,
            vec![
                ArgValue::U64(100),
                ArgValue::F64(101.25),
                ArgValue::Str("abc".into()),
                ArgValue::Bool(true),
                ArgValue::Char('é'),
            ]
        );
    }

    #[test]
    fn short_or_invalid_bytes_are_errors() {
        assert!(decode_args([ArgKind::U64], &[0; 7]).is_err());
        assert!(decode_args([ArgKind::Str], &[9, 0, 0, 0, b'a']).is_err());
        assert!(decode_args([ArgKind::Bool], &[2]).is_err());
        assert!(decode_args([ArgKind::Char], &0xd800u32.to_le_bytes()).is_err());
        assert_eq!(arg_len(ArgKind::Str, &[0xff, 0xff, 0xff, 0xff]), None);
    }
}
