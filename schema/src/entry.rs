//! Entries: the framed items inside a block payload.
//!
//! Every entry is a one-byte kind, its body length as a [`varint`](crate::varint), and the
//! body. Readers skip kinds they do not know, so a later minor version can add kinds.
//! Integers in bodies are little-endian; strings are a varint length and UTF-8 bytes.

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::{varint, ArgKind, Level};

/// Entry kind bytes.
pub mod kind {
    /// A call-site definition, [`super::SiteDef`].
    pub const SITE: u8 = 1;
    /// A thread definition, [`super::ThreadDef`].
    pub const THREAD: u8 = 2;
    /// A log record, [`crate::record::RecordHeader`] and argument bytes. Format 1.0 writers
    /// emit it; 1.1 writers emit [`RUN`] instead.
    pub const RECORD: u8 = 3;
    /// A clock re-sync point, [`super::ClockEntry`].
    pub const CLOCK: u8 = 4;
    /// Records a thread dropped, [`super::DropsEntry`].
    pub const DROPS: u8 = 5;
    /// The end of the file, [`super::EndEntry`].
    pub const END: u8 = 6;
    /// Consecutive records of one thread with packed arguments, [`crate::run`]. Since
    /// format 1.1.
    pub const RUN: u8 = 7;
}

/// Maximum number of arguments of one call site.
pub const MAX_ARGS: usize = 255;

/// A malformed entry. Offsets count from the start of the block payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The payload ends inside an entry's kind or length.
    #[error("entry at payload offset {offset} has a truncated length")]
    BadLength {
        /// Offset of the entry.
        offset: usize,
    },
    /// The body length runs past the payload.
    #[error("entry at payload offset {offset} claims {len} bytes, and only {available} remain")]
    Overrun {
        /// Offset of the entry.
        offset: usize,
        /// Length claimed.
        len: u64,
        /// Bytes left.
        available: usize,
    },
    /// A body that does not match its kind's layout.
    #[error("malformed {what} entry: {detail}")]
    Malformed {
        /// Entry kind name.
        what: &'static str,
        /// Description of the problem.
        detail: String,
    },
}

/// One framed entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Kind byte, one of [`kind`] or unknown.
    pub kind: u8,
    /// Body bytes.
    pub body: &'a [u8],
    /// Offset of the entry in the block payload.
    pub offset: usize,
}

/// Appends an entry header for a body of `body_len` bytes.
pub fn write_header(out: &mut Vec<u8>, kind: u8, body_len: usize) {
    out.push(kind);
    varint::write_u64(out, body_len as u64);
}

/// Bytes an entry header takes for a body of `body_len` bytes.
pub const fn header_len(body_len: usize) -> usize {
    1 + varint::len_u64(body_len as u64)
}

/// Iterates over the entries of a block payload. Stops after the first malformed frame,
/// since the frames after it cannot be found.
#[derive(Debug, Clone)]
pub struct EntryReader<'a> {
    payload: &'a [u8],
    position: usize,
}

impl<'a> EntryReader<'a> {
    /// Creates a reader over one block payload.
    pub fn new(payload: &'a [u8]) -> Self {
        EntryReader {
            payload,
            position: 0,
        }
    }
}

impl<'a> Iterator for EntryReader<'a> {
    type Item = Result<Entry<'a>, EntryError>;

    fn next(&mut self) -> Option<Self::Item> {
        let offset = self.position;
        let (&kind, rest) = self.payload[offset..].split_first()?;
        let Some((len, len_bytes)) = varint::read_u64(rest) else {
            self.position = self.payload.len();
            return Some(Err(EntryError::BadLength { offset }));
        };
        let rest = &rest[len_bytes..];
        if len > rest.len() as u64 {
            self.position = self.payload.len();
            return Some(Err(EntryError::Overrun {
                offset,
                len,
                available: rest.len(),
            }));
        }
        let len = len as usize;
        self.position = offset + 1 + len_bytes + len;
        Some(Ok(Entry {
            kind,
            body: &rest[..len],
            offset,
        }))
    }
}

/// Appends a string as a varint length and its bytes.
pub fn write_str(out: &mut Vec<u8>, text: &str) {
    varint::write_u64(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// A cursor over an entry body, for the decoders below.
struct BodyCursor<'a> {
    body: &'a [u8],
    what: &'static str,
}

impl<'a> BodyCursor<'a> {
    fn malformed(&self, detail: impl Into<String>) -> EntryError {
        EntryError::Malformed {
            what: self.what,
            detail: detail.into(),
        }
    }

    fn fixed<T: FromBytes + KnownLayout + Immutable>(&mut self) -> Result<T, EntryError> {
        let (value, rest) = T::read_from_prefix(self.body)
            .map_err(|_| self.malformed(format!("{} bytes is too short", self.body.len())))?;
        self.body = rest;
        Ok(value)
    }

    fn byte(&mut self) -> Result<u8, EntryError> {
        self.fixed::<u8>()
    }

    fn str(&mut self) -> Result<&'a str, EntryError> {
        let (len, len_bytes) = varint::read_u64(self.body)
            .ok_or_else(|| self.malformed("string length is truncated"))?;
        let rest = &self.body[len_bytes..];
        if len > rest.len() as u64 {
            return Err(self.malformed(format!(
                "string of {len} bytes overruns the {} bytes left",
                rest.len()
            )));
        }
        let (text, rest) = rest.split_at(len as usize);
        let text = std::str::from_utf8(text)
            .map_err(|error| self.malformed(format!("string is not UTF-8: {error}")))?;
        self.body = rest;
        Ok(text)
    }
}

/// Fixed part of a [`SiteDef`] body.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct SiteFixed {
    id: U32,
    level: u8,
    line: U32,
    column: U32,
    arg_count: u8,
}

/// An argument's kind and name in a call-site definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArgDef<'a> {
    /// Encoding of the argument.
    pub kind: ArgKind,
    /// Its name: the variable or field, the `name = ` given, or `argN`.
    pub name: &'a str,
}

/// A call-site definition: the static facts about one `ulog!` call.
///
/// Body: `id u32, level u8, line u32, column u32, arg_count u8`, then the module path, file
/// and format string as strings, then per argument its kind byte and name string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteDef<'a> {
    /// File-local id that records refer to.
    pub id: u32,
    /// Severity.
    pub level: Level,
    /// Line of the call.
    pub line: u32,
    /// Column of the call.
    pub column: u32,
    /// Module path of the call, such as `trading::router`.
    pub module: &'a str,
    /// Source file of the call.
    pub file: &'a str,
    /// The format string, in the grammar of [`crate::fmt`].
    pub format: &'a str,
    /// Arguments in order.
    pub args: Vec<ArgDef<'a>>,
}

impl<'a> SiteDef<'a> {
    /// Appends the whole entry, header included.
    ///
    /// # Panics
    ///
    /// Panics if there are more than [`MAX_ARGS`] arguments; the macro rejects such calls.
    pub fn encode(&self, out: &mut Vec<u8>) {
        assert!(
            self.args.len() <= MAX_ARGS,
            "call site has more than {MAX_ARGS} arguments"
        );
        let mut body = Vec::with_capacity(64 + self.format.len());
        let fixed = SiteFixed {
            id: U32::new(self.id),
            level: self.level as u8,
            line: U32::new(self.line),
            column: U32::new(self.column),
            arg_count: self.args.len() as u8,
        };
        body.extend_from_slice(fixed.as_bytes());
        write_str(&mut body, self.module);
        write_str(&mut body, self.file);
        write_str(&mut body, self.format);
        for arg in &self.args {
            body.push(arg.kind as u8);
            write_str(&mut body, arg.name);
        }
        write_header(out, kind::SITE, body.len());
        out.extend_from_slice(&body);
    }

    /// Reads a body.
    ///
    /// # Errors
    ///
    /// Fails on a short body, an unknown level or argument kind, or a string that is not UTF-8.
    pub fn decode(body: &'a [u8]) -> Result<Self, EntryError> {
        let mut cursor = BodyCursor { body, what: "site" };
        let fixed: SiteFixed = cursor.fixed()?;
        let level =
            Level::try_from(fixed.level).map_err(|error| cursor.malformed(error.to_string()))?;
        let module = cursor.str()?;
        let file = cursor.str()?;
        let format = cursor.str()?;
        let mut args = Vec::with_capacity(usize::from(fixed.arg_count));
        for _ in 0..fixed.arg_count {
            let kind = ArgKind::try_from(cursor.byte()?)
                .map_err(|error| cursor.malformed(error.to_string()))?;
            let name = cursor.str()?;
            args.push(ArgDef { kind, name });
        }
        Ok(SiteDef {
            id: fixed.id.get(),
            level,
            line: fixed.line.get(),
            column: fixed.column.get(),
            module,
            file,
            format,
            args,
        })
    }
}

/// A thread definition. Body: `id u32`, then the name as a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadDef<'a> {
    /// Id that records and drop markers refer to, unique within one process run.
    pub id: u32,
    /// Thread name.
    pub name: &'a str,
}

impl<'a> ThreadDef<'a> {
    /// Appends the whole entry, header included.
    pub fn encode(&self, out: &mut Vec<u8>) {
        write_header(
            out,
            kind::THREAD,
            4 + varint::len_u64(self.name.len() as u64) + self.name.len(),
        );
        out.extend_from_slice(&self.id.to_le_bytes());
        write_str(out, self.name);
    }

    /// Reads a body.
    ///
    /// # Errors
    ///
    /// Fails on a short body or a name that is not UTF-8.
    pub fn decode(body: &'a [u8]) -> Result<Self, EntryError> {
        let mut cursor = BodyCursor {
            body,
            what: "thread",
        };
        let id: U32 = cursor.fixed()?;
        let name = cursor.str()?;
        Ok(ThreadDef { id: id.get(), name })
    }
}

/// A clock re-sync point: the wall time at a tick value, and the tick rate measured since the
/// previous point. Records after it convert their ticks with it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct ClockEntry {
    /// Tick value.
    pub ticks: U64,
    /// Wall time at `ticks`, in Unix nanoseconds.
    pub unix_ns: U64,
    /// Ticks per second.
    pub ticks_per_second: U64,
}

/// Records that a thread dropped because its ring was full, since its previous marker.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct DropsEntry {
    /// Thread id.
    pub thread: U32,
    /// Records dropped.
    pub count: U64,
}

/// The end of a file that its writer closed cleanly, with the file's totals.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct EndEntry {
    /// Records in this file.
    pub records: U64,
    /// Records reported dropped by drop markers in this file.
    pub dropped: U64,
}

/// Appends a fixed-layout entry, header included.
pub fn write_fixed<T: IntoBytes + Immutable>(out: &mut Vec<u8>, entry_kind: u8, body: &T) {
    let bytes = body.as_bytes();
    write_header(out, entry_kind, bytes.len());
    out.extend_from_slice(bytes);
}

/// Reads a fixed-layout body, ignoring bytes a later minor version may append.
///
/// # Errors
///
/// Fails when the body is shorter than `T`.
pub fn read_fixed<T: FromBytes + KnownLayout + Immutable>(
    what: &'static str,
    body: &[u8],
) -> Result<T, EntryError> {
    BodyCursor { body, what }.fixed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_round_trip() {
        let site = SiteDef {
            id: 7,
            level: Level::Warn,
            line: 12,
            column: 5,
            module: "trading::router",
            file: "src/router.rs",
            format: "fill <> @ <:.2>",
            args: vec![
                ArgDef {
                    kind: ArgKind::U64,
                    name: "qty",
                },
                ArgDef {
                    kind: ArgKind::F64,
                    name: "px",
                },
            ],
        };
        let mut out = Vec::new();
        site.encode(&mut out);
        let entries: Vec<_> = EntryReader::new(&out).collect();
        assert_eq!(entries.len(), 1);
        let entry = entries[0].clone().unwrap();
        assert_eq!(entry.kind, kind::SITE);
        assert_eq!(SiteDef::decode(entry.body).unwrap(), site);
    }

    #[test]
    fn thread_and_fixed_entries_round_trip() {
        let mut out = Vec::new();
        ThreadDef {
            id: 3,
            name: "order-router",
        }
        .encode(&mut out);
        let drops = DropsEntry {
            thread: U32::new(3),
            count: U64::new(1234),
        };
        write_fixed(&mut out, kind::DROPS, &drops);
        let entries: Vec<_> = EntryReader::new(&out).map(Result::unwrap).collect();
        assert_eq!(
            ThreadDef::decode(entries[0].body).unwrap().name,
            "order-router"
        );
        assert_eq!(
            read_fixed::<DropsEntry>("drops", entries[1].body).unwrap(),
            drops
        );
    }

    #[test]
    fn overrun_is_reported_not_panicked() {
        let mut out = Vec::new();
        write_header(&mut out, kind::RECORD, 1000);
        out.extend_from_slice(&[0; 10]);
        let entries: Vec<_> = EntryReader::new(&out).collect();
        assert!(matches!(entries[0], Err(EntryError::Overrun { .. })));
        assert!(SiteDef::decode(&[1, 2, 3]).is_err());
    }
}
