//! Fuzz inputs for the ulog decoder, and the checks every decode must pass.
//!
//! Raw bytes rarely get past a block checksum, so two targets read their input as a
//! description of a segment and build the segment from it:
//!
//! - [`segment_from_blocks`]: a header variant byte, then block payloads separated by
//!   [`BLOCK_MAGIC`], each with a control byte that can damage its block header. The payloads
//!   get valid checksums, so the fuzzer reaches entry, run and packed-argument parsing.
//! - [`segment_from_message`]: argument kinds, a format string and packed argument bytes, built
//!   into a segment with one call site and one record, so the fuzzer reaches message rendering.
//!
//! [`check_decode`] decodes a segment, writes it as text and JSON, and checks the bounds that
//! hold for any input.

use std::time::{Duration, Instant};

use ulog_decode::{Decoded, Event, MAX_RENDERED_WIDTH};
use ulog_schema::block::{self, Encoding, Lz4BlockHeader, BLOCK_MAGIC, LZ4_BLOCK_MAGIC};
use ulog_schema::entry::{self, kind, ArgDef, EndEntry, SiteDef, ThreadDef};
use ulog_schema::header::{ClockSync, FileHeader};
use ulog_schema::{varint, ArgKind, ClockSource, Level, VERSION_MAJOR, VERSION_MINOR};
use zerocopy::IntoBytes;

/// Wall time at tick 0 of every built segment: 2026-12-04T19:12:39Z.
const START_NS: u64 = 1_796_411_559_000_000_000;

/// Maximum time to decode one fuzz input. `scripts/fuzz.sh` limits inputs to 64 KiB, which
/// decode in milliseconds, so a decode that takes longer is quadratic or worse.
pub const MAX_DECODE_TIME: Duration = Duration::from_secs(5);

/// Builds the header a variant byte selects.
///
/// Bits 0 and 1 pick the version: 1.1, 1.0, 1.65535 (a newer minor) or 2.0 (a newer major).
/// Bit 2 picks the time-stamp counter as clock source, bit 3 a tick rate of 0, and bit 4
/// anchor values at the ends of their ranges. Bit 5 adds 16 bytes of unknown header fields,
/// as a later minor version may.
pub fn header_bytes(variant: u8) -> Vec<u8> {
    let (version_major, version_minor) = match variant & 0b11 {
        0 => (VERSION_MAJOR, VERSION_MINOR),
        1 => (VERSION_MAJOR, 0),
        2 => (VERSION_MAJOR, u16::MAX),
        _ => (VERSION_MAJOR + 1, 0),
    };
    let extreme = variant & 0b1_0000 != 0;
    let header = FileHeader {
        version_major,
        version_minor,
        pid: 4242,
        clock_source: if variant & 0b100 != 0 {
            ClockSource::Tsc
        } else {
            ClockSource::Monotonic
        },
        file_sequence: 0,
        start_unix_ns: START_NS,
        clock: ClockSync {
            ticks_per_second: if variant & 0b1000 != 0 {
                0
            } else {
                1_000_000_000
            },
            anchor_ticks: if extreme { u64::MAX } else { 0 },
            anchor_unix_ns: if extreme { u64::MAX } else { START_NS },
        },
        host: "fuzz-host".into(),
        program: "fuzz".into(),
    };
    let mut bytes = Vec::new();
    header.encode(&mut bytes);
    if variant & 0b10_0000 != 0 {
        let header_len = bytes.len() as u32 + 16;
        bytes[12..16].copy_from_slice(&header_len.to_le_bytes());
        bytes.extend_from_slice(&[0xa5; 16]);
    }
    bytes
}

/// Builds a segment from the input format of the `segment_blocks` target.
///
/// The first byte selects the header, as [`header_bytes`] describes. The rest is split at
/// each [`BLOCK_MAGIC`] into chunks, and each chunk becomes a block. A chunk's first byte
/// controls its block and the other bytes are its payload:
///
/// - bits 0 and 1: 0 writes a valid block, 1 one with a wrong checksum, 2 the payload alone
///   without a block header, and 3 a block header whose length claims twice the payload;
/// - bits 2 and 3 set the sequence number: the chunk's index, the previous block's number
///   (a repeated block), the index plus one (a missing block), or 0;
/// - bits 4 and 5 set the encoding: plain, LZ4-compressed when that makes the block smaller,
///   the payload stored as if it were LZ4 data of 4 times its length, or compressed with a
///   stated length above [`block::MAX_RAW_LEN`]. Each has a valid checksum.
pub fn segment_from_blocks(input: &[u8]) -> Vec<u8> {
    let Some((&variant, rest)) = input.split_first() else {
        return Vec::new();
    };
    let mut out = header_bytes(variant);
    let mut previous = 0u32;
    for (index, chunk) in split_chunks(rest).enumerate() {
        let (control, payload) = chunk.split_first().unwrap_or((&0, &[]));
        let index = index as u32;
        let sequence = match control >> 2 & 0b11 {
            0 => index,
            1 => previous,
            2 => index + 1,
            _ => 0,
        };
        previous = sequence;
        let start = out.len();
        let payload = &payload[..payload.len().min(block::MAX_PAYLOAD_LEN)];
        match control & 0b11 {
            2 => {
                out.extend_from_slice(payload);
                continue;
            }
            mode => {
                push_block(&mut out, payload, sequence, control >> 4 & 0b11);
                if mode == 1 {
                    out[start + 12] ^= 0x01;
                } else if mode == 3 {
                    let claimed = (payload.len() as u32).saturating_mul(2).max(1);
                    out[start + 8..start + 12].copy_from_slice(&claimed.to_le_bytes());
                }
            }
        }
    }
    out
}

/// Appends a block of `payload` in the encoding that `encoding` selects, as
/// [`segment_from_blocks`] describes.
fn push_block(out: &mut Vec<u8>, payload: &[u8], sequence: u32, encoding: u8) {
    let start = block::begin(out);
    out.extend_from_slice(payload);
    match encoding {
        0 => block::finish(out, start, sequence),
        1 => {
            block::Lz4Compressor::new().finish(out, start, sequence);
        }
        2 => {
            let raw_len = (payload.len() as u32).saturating_mul(4);
            out.truncate(start);
            push_lz4_header(out, sequence, raw_len, payload);
        }
        _ => {
            if block::Lz4Compressor::new().finish(out, start, sequence) {
                let stored = out.split_off(start + block::LZ4_HEADER_LEN);
                out.truncate(start);
                push_lz4_header(out, sequence, u32::MAX, &stored);
            }
        }
    }
}

/// Appends a compressed block's header and `stored`, with the checksum that matches them.
fn push_lz4_header(out: &mut Vec<u8>, sequence: u32, raw_len: u32, stored: &[u8]) {
    let header = Lz4BlockHeader {
        magic: LZ4_BLOCK_MAGIC,
        sequence: sequence.into(),
        payload_len: (stored.len() as u32).into(),
        checksum: block::lz4_checksum(sequence, raw_len, stored).into(),
        raw_len: raw_len.into(),
    };
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(stored);
}

/// Splits `bytes` at every [`BLOCK_MAGIC`]; the bytes before the first one are a chunk too.
fn split_chunks(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(bytes);
    std::iter::from_fn(move || {
        let current = rest?;
        match find(current, &BLOCK_MAGIC) {
            Some(at) => {
                rest = Some(&current[at + BLOCK_MAGIC.len()..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Converts a segment into the input format of [`segment_from_blocks`], to seed its corpus.
/// Blocks that were compressed stay compressed, and with `compress` all of them are.
/// Damaged blocks and bytes between blocks are left out.
pub fn blocks_from_segment(segment: &[u8], compress: bool) -> Option<Vec<u8>> {
    let (_, header_len) = FileHeader::decode(segment).ok()?;
    let mut out = vec![0];
    let mut entries = Vec::new();
    for block in block::BlockReader::new(&segment[header_len..], header_len).flatten() {
        let Ok(payload) = block.entries(&mut entries) else {
            continue;
        };
        let control = match block.encoding {
            Encoding::Plain if !compress => 0,
            _ => 0b1_0000,
        };
        out.extend_from_slice(&BLOCK_MAGIC);
        out.push(control);
        out.extend_from_slice(payload);
    }
    Some(out)
}

/// Builds a segment from the input format of the `message_render` target: one call site and
/// one RUN record of it.
///
/// The first byte is the argument count, at most 15. Each argument then takes one byte, its
/// kind modulo 15. The format string follows up to the first zero byte, with invalid UTF-8
/// replaced, and the bytes after that are the record's packed arguments. Returns `None` when
/// the input ends before the zero byte.
pub fn segment_from_message(input: &[u8]) -> Option<Vec<u8>> {
    let (&count, rest) = input.split_first()?;
    let count = usize::from(count % 16);
    let kind_bytes = rest.get(..count)?;
    let rest = &rest[count..];
    let format_end = rest.iter().position(|&byte| byte == 0)?;
    let format = String::from_utf8_lossy(&rest[..format_end]);
    let args = &rest[format_end + 1..];

    const NAMES: [&str; 15] = [
        "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    ];
    let kinds = kind_bytes
        .iter()
        .map(|&byte| ArgKind::try_from(byte % 15 + 1).expect("1 to 15 are argument kinds"));
    let mut out = header_bytes(0);
    let start = block::begin(&mut out);
    ThreadDef {
        id: 1,
        name: "main",
    }
    .encode(&mut out);
    SiteDef {
        id: 1,
        level: Level::Info,
        line: 1,
        column: 1,
        module: "fuzz",
        file: "src/fuzz.rs",
        format: &format,
        args: kinds
            .zip(NAMES)
            .map(|(kind, name)| ArgDef { kind, name })
            .collect(),
    }
    .encode(&mut out);

    let mut body = Vec::new();
    varint::write_u64(&mut body, 1);
    body.extend_from_slice(&0u64.to_le_bytes());
    varint::write_u64(&mut body, 1);
    varint::write_u64(&mut body, 0);
    body.extend_from_slice(args);
    entry::write_header(&mut out, kind::RUN, body.len());
    out.extend_from_slice(&body);

    let end = EndEntry {
        records: 1.into(),
        dropped: 0.into(),
    };
    entry::write_fixed(&mut out, kind::END, &end);
    block::finish(&mut out, start, 0);
    Some(out)
}

/// Largest rendered form of one argument, apart from the bytes of its own text. It covers a
/// number padded with [`MAX_RENDERED_WIDTH`] fill characters of up to 4 bytes each, a float
/// with that many decimals, and the notes that a width or precision was lowered.
const MAX_RENDERED_ARG: usize = 4 * MAX_RENDERED_WIDTH + MAX_RENDERED_WIDTH + 1024;

/// Largest growth of text when it is rendered: `Debug` escapes a byte as `\u{XXXX}`, and the
/// raw form of a site that cannot render lists its arguments this way.
const MAX_ESCAPE_GROWTH: usize = 10;

/// Decodes `segment`, writes it as text and JSON, and checks the result. Each message must
/// stay within the bound that the width cap promises, the text output must be UTF-8, and the
/// JSON output one valid object per event. All of it must take less than [`MAX_DECODE_TIME`].
///
/// # Panics
///
/// Panics when a check fails, or when the decoder panics.
pub fn check_decode(segment: &[u8]) {
    let started = Instant::now();
    let mut decoder = ulog_decode::Decoder::new();
    decoder.add_bytes("fuzz.ulog", segment.to_vec());
    let decoded = decoder.decode();
    check_messages(&decoded, segment.len());
    check_text(&decoded);
    check_json(&decoded);
    for damage in decoded.damage() {
        assert!(!damage.message.is_empty(), "damage without a message");
        assert!(
            damage.offset <= segment.len() as u64,
            "damage offset {} is past the end of a {}-byte file",
            damage.offset,
            segment.len()
        );
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < MAX_DECODE_TIME,
        "decoding {} bytes took {elapsed:?}",
        segment.len()
    );
}

/// Checks that the text output is UTF-8 with a line for each event at least, since a
/// message may span lines.
fn check_text(decoded: &Decoded) {
    let mut out = Vec::new();
    ulog_decode::write_text(decoded, &mut out).expect("a Vec accepts everything");
    let text = String::from_utf8(out).expect("text output is UTF-8");
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "text output ends mid-line"
    );
    assert!(
        text.lines().count() >= decoded.len(),
        "text output lost lines"
    );
}

/// Checks that the JSON output is one valid JSON object per event.
fn check_json(decoded: &Decoded) {
    let mut out = Vec::new();
    ulog_decode::write_json(decoded, &mut out).expect("a Vec accepts everything");
    let lines: Vec<&[u8]> = out.split(|&byte| byte == b'\n').collect();
    assert_eq!(lines.last(), Some(&&b""[..]), "JSON output ends mid-line");
    assert_eq!(
        lines.len() - 1,
        decoded.len(),
        "JSON lines and events differ"
    );
    for line in &lines[..lines.len() - 1] {
        let value: serde_json::Value = serde_json::from_slice(line).unwrap_or_else(|error| {
            panic!(
                "invalid JSON line ({error}): {}",
                String::from_utf8_lossy(line)
            )
        });
        assert!(value.get("ts_ns").is_some_and(|ts| ts.is_i64()), "{value}");
    }
}

fn check_messages(decoded: &Decoded, file_len: usize) {
    let bound = MAX_ESCAPE_GROWTH * file_len + ulog_schema::entry::MAX_ARGS * MAX_RENDERED_ARG;
    let mut message = String::new();
    for event in decoded.events() {
        let Event::Record(record) = event else {
            continue;
        };
        message.clear();
        record.write_message(&mut message);
        assert!(
            message.len() <= bound,
            "a {}-byte message from a {file_len}-byte file exceeds the bound of {bound} bytes",
            message.len()
        );
    }
}
