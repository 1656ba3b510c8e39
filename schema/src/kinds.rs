//! Small enumerations stored as one byte on the wire.

use std::fmt;

/// A byte that does not name any variant of the enumeration it was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} value {value}")]
pub struct UnknownValue {
    /// Name of the enumeration.
    pub what: &'static str,
    /// The byte that was read.
    pub value: u8,
}

/// Severity of a log call, from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// Very detailed tracing.
    Trace = 0,
    /// Diagnostics for developers.
    Debug = 1,
    /// Normal operation.
    Info = 2,
    /// Something unexpected that the program handled.
    Warn = 3,
    /// A failure.
    Error = 4,
}

impl Level {
    /// Every level, from least to most severe.
    pub const ALL: [Level; 5] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Warn,
        Level::Error,
    ];

    /// Upper-case name, as printed by the decoder.
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// Parses the name a user writes in `ulog!` (`Info`) or on a command line (`info`, `INFO`).
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str().eq_ignore_ascii_case(name))
    }
}

impl TryFrom<u8> for Level {
    type Error = UnknownValue;

    fn try_from(value: u8) -> Result<Self, UnknownValue> {
        Level::ALL
            .get(usize::from(value))
            .copied()
            .ok_or(UnknownValue {
                what: "level",
                value,
            })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Type of one log argument, which fixes how its bytes are encoded in a record.
///
/// `usize` and `isize` travel as [`ArgKind::U64`] and [`ArgKind::I64`] so that a file decodes
/// the same on every platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ArgKind {
    /// `u8`, 1 byte.
    U8 = 1,
    /// `u16`, 2 bytes little-endian.
    U16 = 2,
    /// `u32`, 4 bytes little-endian.
    U32 = 3,
    /// `u64` or `usize`, 8 bytes little-endian.
    U64 = 4,
    /// `u128`, 16 bytes little-endian.
    U128 = 5,
    /// `i8`, 1 byte.
    I8 = 6,
    /// `i16`, 2 bytes little-endian two's complement.
    I16 = 7,
    /// `i32`, 4 bytes little-endian two's complement.
    I32 = 8,
    /// `i64` or `isize`, 8 bytes little-endian two's complement.
    I64 = 9,
    /// `i128`, 16 bytes little-endian two's complement.
    I128 = 10,
    /// `f32`, IEEE 754 binary32 bits, little-endian.
    F32 = 11,
    /// `f64`, IEEE 754 binary64 bits, little-endian.
    F64 = 12,
    /// `bool`, one byte: 0 or 1.
    Bool = 13,
    /// `char`, its Unicode scalar value as 4 bytes little-endian.
    Char = 14,
    /// `&str` or `String`: a 4-byte little-endian length, then that many UTF-8 bytes.
    Str = 15,
}

impl ArgKind {
    /// Every kind, in wire-value order.
    pub const ALL: [ArgKind; 15] = [
        ArgKind::U8,
        ArgKind::U16,
        ArgKind::U32,
        ArgKind::U64,
        ArgKind::U128,
        ArgKind::I8,
        ArgKind::I16,
        ArgKind::I32,
        ArgKind::I64,
        ArgKind::I128,
        ArgKind::F32,
        ArgKind::F64,
        ArgKind::Bool,
        ArgKind::Char,
        ArgKind::Str,
    ];

    /// Encoded size in bytes, or `None` for [`ArgKind::Str`], whose size is in its prefix.
    pub const fn fixed_size(self) -> Option<usize> {
        match self {
            ArgKind::U8 | ArgKind::I8 | ArgKind::Bool => Some(1),
            ArgKind::U16 | ArgKind::I16 => Some(2),
            ArgKind::U32 | ArgKind::I32 | ArgKind::F32 | ArgKind::Char => Some(4),
            ArgKind::U64 | ArgKind::I64 | ArgKind::F64 => Some(8),
            ArgKind::U128 | ArgKind::I128 => Some(16),
            ArgKind::Str => None,
        }
    }

    /// Whether the kind is an integer, which the `x`, `X`, `o` and `b` specs require.
    pub const fn is_integer(self) -> bool {
        !matches!(
            self,
            ArgKind::F32 | ArgKind::F64 | ArgKind::Bool | ArgKind::Char | ArgKind::Str
        )
    }

    /// Whether the kind is a number, which the `e` and `E` specs require.
    pub const fn is_numeric(self) -> bool {
        !matches!(self, ArgKind::Bool | ArgKind::Char | ArgKind::Str)
    }

    /// Rust type name, for messages.
    pub const fn type_name(self) -> &'static str {
        match self {
            ArgKind::U8 => "u8",
            ArgKind::U16 => "u16",
            ArgKind::U32 => "u32",
            ArgKind::U64 => "u64",
            ArgKind::U128 => "u128",
            ArgKind::I8 => "i8",
            ArgKind::I16 => "i16",
            ArgKind::I32 => "i32",
            ArgKind::I64 => "i64",
            ArgKind::I128 => "i128",
            ArgKind::F32 => "f32",
            ArgKind::F64 => "f64",
            ArgKind::Bool => "bool",
            ArgKind::Char => "char",
            ArgKind::Str => "str",
        }
    }
}

impl TryFrom<u8> for ArgKind {
    type Error = UnknownValue;

    fn try_from(value: u8) -> Result<Self, UnknownValue> {
        ArgKind::ALL
            .get(usize::from(value).wrapping_sub(1))
            .copied()
            .ok_or(UnknownValue {
                what: "argument kind",
                value,
            })
    }
}

/// Clock that produced the tick values of a segment's records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ClockSource {
    /// The x86-64 time-stamp counter, read with `rdtsc`.
    Tsc = 1,
    /// `clock_gettime(CLOCK_MONOTONIC)` in nanoseconds.
    Monotonic = 2,
}

impl ClockSource {
    /// Lower-case name, for messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            ClockSource::Tsc => "tsc",
            ClockSource::Monotonic => "monotonic",
        }
    }
}

impl TryFrom<u8> for ClockSource {
    type Error = UnknownValue;

    fn try_from(value: u8) -> Result<Self, UnknownValue> {
        match value {
            1 => Ok(ClockSource::Tsc),
            2 => Ok(ClockSource::Monotonic),
            _ => Err(UnknownValue {
                what: "clock source",
                value,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arg_kind_round_trips_through_byte() {
        for kind in ArgKind::ALL {
            assert_eq!(ArgKind::try_from(kind as u8), Ok(kind));
        }
        assert!(ArgKind::try_from(0).is_err());
        assert!(ArgKind::try_from(16).is_err());
    }

    #[test]
    fn level_round_trips_through_byte_and_name() {
        for level in Level::ALL {
            assert_eq!(Level::try_from(level as u8), Ok(level));
            assert_eq!(
                Level::from_name(&level.as_str().to_lowercase()),
                Some(level)
            );
        }
        assert!(Level::try_from(5).is_err());
    }
}
