//! The ulog segment file format, version 1.2.
//!
//! A segment is a self-describing binary log file: a [`header::FileHeader`] followed by
//! checksummed [`block`]s of length-framed [`entry`] values, each block stored plain or
//! compressed with LZ4. Records travel in [`run`] entries with [`packed`] arguments. `FORMAT.md` in this crate's folder
//! is the normative description; this crate is its only implementation, shared by the runtime
//! (which writes segments) and the decoder (which reads them).
//!
//! The format-string grammar lives here too ([`fmt`]), because format strings travel inside
//! segments and the macro that checks them at compile time must agree with the decoder that
//! renders them.
//!
//! ```
//! use ulog_schema::fmt::{parse, Piece};
//!
//! let pieces = parse("fill <> @ <:.2>").unwrap();
//! assert_eq!(pieces.len(), 4);
//! assert!(matches!(pieces[0], Piece::Literal("fill ")));
//! ```

#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod block;
pub mod entry;
pub mod fmt;
pub mod header;
mod kinds;
pub mod packed;
pub mod record;
pub mod run;
pub mod varint;

pub use kinds::{ArgKind, ClockSource, Level, UnknownValue};

/// Major version of the format this crate writes. A reader rejects a file with a larger major.
pub const VERSION_MAJOR: u16 = 1;

/// Minor version of the format this crate writes. Minor versions add entry kinds or header
/// fields that older readers skip, or block kinds that older readers report as damage and
/// skip; none changes the meaning of what an older reader accepts.
pub const VERSION_MINOR: u16 = 2;

/// File extension of segment files, without the dot.
pub const FILE_EXTENSION: &str = "ulog";
