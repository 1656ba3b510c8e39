//! Decodes ulog segment files into one time-ordered stream of log records, rendered as text or
//! JSON lines.
//!
//! The ulog runtime writes binary segments to stay off the hot path: a record holds a call-site
//! id, a thread id, a clock tick and the raw argument bytes, and formatting waits until someone
//! reads the log. This crate is that reader. It merges the files of any number of threads and
//! process runs by time, and renders each message exactly as Rust's `format!` would have. It
//! keeps going past damage, because a torn or corrupted block costs only that block, and it
//! reports each problem with its file and byte offset.
//!
//! ```
//! use ulog_schema::entry::{self, ArgDef, EndEntry, SiteDef, ThreadDef};
//! use ulog_schema::header::{ClockSync, FileHeader};
//! use ulog_schema::{block, record, ArgKind, ClockSource, Level, VERSION_MAJOR, VERSION_MINOR};
//!
//! // A segment with one call site, one thread and one record, as the runtime writes it.
//! let mut bytes = Vec::new();
//! FileHeader {
//!     version_major: VERSION_MAJOR,
//!     version_minor: VERSION_MINOR,
//!     pid: 4242,
//!     clock_source: ClockSource::Monotonic,
//!     file_sequence: 0,
//!     start_unix_ns: 1_796_411_559_000_000_000,
//!     clock: ClockSync {
//!         ticks_per_second: 1_000_000_000,
//!         anchor_ticks: 0,
//!         anchor_unix_ns: 1_796_411_559_000_000_000,
//!     },
//!     host: "host-a".into(),
//!     program: "trading".into(),
//! }
//! .encode(&mut bytes);
//! let start = block::begin(&mut bytes);
//! SiteDef {
//!     id: 1,
//!     level: Level::Info,
//!     line: 7,
//!     column: 5,
//!     module: "trading::router",
//!     file: "src/router.rs",
//!     format: "fill <> @ <:.2>",
//!     args: vec![
//!         ArgDef { kind: ArgKind::U64, name: "qty" },
//!         ArgDef { kind: ArgKind::F64, name: "px" },
//!     ],
//! }
//! .encode(&mut bytes);
//! ThreadDef { id: 1, name: "order-router" }.encode(&mut bytes);
//! let args = [100u64.to_le_bytes(), 101.25f64.to_le_bytes()].concat();
//! record::write_record(&mut bytes, 1, 1, 123_456_789, &args);
//! let end = EndEntry { records: 1.into(), dropped: 0.into() };
//! entry::write_fixed(&mut bytes, entry::kind::END, &end);
//! block::finish(&mut bytes, start, 0);
//!
//! let mut decoder = ulog_decode::Decoder::new();
//! decoder.add_bytes("example.ulog", bytes);
//! let decoded = decoder.decode();
//! assert!(decoded.is_clean());
//!
//! let mut text = Vec::new();
//! ulog_decode::write_text(&decoded, &mut text)?;
//! assert_eq!(
//!     String::from_utf8(text)?,
//!     "2026-12-04T19:12:39.123456789Z INFO  order-router trading::router: fill 100 @ 101.25\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Files on disk go through [`decode_paths`] or [`Decoder::add_input`]; [`Decoded::events`]
//! gives each [`Record`] with its fields, formatted message and typed arguments.

#![deny(missing_docs, unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod decode;
mod events;
mod expand;
pub mod input;
mod json;
mod message;
mod number;
mod order;
mod parallel;
mod segment;
mod spec;
mod text;
mod time;

pub use decode::{decode_paths, Decoder};
pub use events::{Damage, Decoded, DropMarker, Event, Record};
pub use input::{Input, InputError, Source};
pub use json::{write_json, write_json_parallel};
pub use message::{format_message, Template, TemplateError};
pub use spec::{render_value, MAX_RENDERED_WIDTH};
pub use text::{write_text, write_text_line, write_text_parallel};
pub use time::write_rfc3339;
pub use ulog_schema::record::ArgValue;
pub use ulog_schema::Level;
