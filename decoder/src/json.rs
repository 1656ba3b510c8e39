//! The JSON lines output: one object per event.
//!
//! The parts of a line that depend only on the call site or the thread (module, file, line,
//! argument names, thread name) are escaped once per write, before the first event, and
//! copied into each line.

use std::io::{self, Write};
use std::num::NonZeroUsize;

use ulog_schema::record::ArgValue;

use crate::events::{Decoded, DropMarker, Event, Record};
use crate::parallel;
use crate::text::CHUNK_EVENTS;
use crate::time::TimeFormatter;

/// Bytes collected before they are handed to the writer.
const FLUSH_AT: usize = 64 * 1024;

/// Largest integer magnitude a JSON number carries exactly in a double: 2^53.
const EXACT_IN_DOUBLE: u128 = 1 << 53;

/// Writes every event as one JSON object on its own line.
///
/// A record has the keys `ts` (RFC 3339), `ts_ns` (Unix nanoseconds), `level`, `thread`,
/// `module`, `file`, `line`, `msg` (the formatted message) and `args`, an object from each
/// argument's name to its value in call order. Integers are numbers, except those beyond
/// ±2^53, which are decimal strings so that no reader rounds them. Floats are numbers in
/// `ryu`'s shortest form, and NaN and the infinities are the strings `"NaN"`, `"inf"` and
/// `"-inf"`. A drop marker has `ts`, `ts_ns`, `thread` and `dropped`.
///
/// # Errors
///
/// Fails when `out` does; a closed pipe gives [`io::ErrorKind::BrokenPipe`].
pub fn write_json(decoded: &Decoded, out: impl Write) -> io::Result<()> {
    write_json_parallel(decoded, out, NonZeroUsize::MIN)
}

/// Writes what [`write_json`] writes, rendering on up to `jobs` threads. The bytes written
/// are the same for every `jobs`.
///
/// # Errors
///
/// Fails as [`write_json`] does.
pub fn write_json_parallel(
    decoded: &Decoded,
    mut out: impl Write,
    jobs: NonZeroUsize,
) -> io::Result<()> {
    let fragments = Fragments::new(decoded);
    if jobs.get() == 1 || decoded.len() <= CHUNK_EVENTS {
        let mut renderer = JsonRenderer::new(&fragments);
        let mut bytes = Vec::with_capacity(FLUSH_AT + 1024);
        for event in decoded.events() {
            renderer.event(&mut bytes, &event);
            if bytes.len() >= FLUSH_AT {
                out.write_all(&bytes)?;
                bytes.clear();
            }
        }
        out.write_all(&bytes)?;
        return out.flush();
    }

    let chunks = decoded.ordered.chunks(CHUNK_EVENTS);
    parallel::render_in_order(
        &chunks,
        jobs,
        |chunk, bytes| {
            let mut renderer = JsonRenderer::new(&fragments);
            for event in decoded.chunk_events(chunk) {
                renderer.event(bytes, &event);
            }
        },
        &mut out,
    )?;
    out.flush()
}

/// Escaped JSON text that stays the same for all events of a site or a thread.
struct Fragments {
    /// By site index: `,"module":…,"file":…,"line":…,"msg":`.
    site_heads: Vec<Vec<u8>>,
    /// By site index: each argument's name as a JSON string and a colon.
    arg_keys: Vec<Vec<Vec<u8>>>,
    /// By thread index: the thread name as a JSON string.
    thread_names: Vec<Vec<u8>>,
}

impl Fragments {
    fn new(decoded: &Decoded) -> Fragments {
        let site_heads = decoded
            .sites
            .iter()
            .map(|site| {
                let mut head = Vec::new();
                head.extend_from_slice(b",\"module\":");
                push_string(&mut head, &site.module);
                head.extend_from_slice(b",\"file\":");
                push_string(&mut head, &site.source_file);
                head.extend_from_slice(b",\"line\":");
                head.extend_from_slice(itoa::Buffer::new().format(site.line).as_bytes());
                head.extend_from_slice(b",\"msg\":");
                head
            })
            .collect();
        let arg_keys = decoded
            .sites
            .iter()
            .map(|site| {
                site.names
                    .iter()
                    .map(|name| {
                        let mut key = Vec::new();
                        push_string(&mut key, name);
                        key.push(b':');
                        key
                    })
                    .collect()
            })
            .collect();
        let thread_names = decoded
            .threads
            .iter()
            .map(|thread| {
                let mut name = Vec::new();
                push_string(&mut name, &thread.name);
                name
            })
            .collect();
        Fragments {
            site_heads,
            arg_keys,
            thread_names,
        }
    }
}

/// Renders events as JSON lines, keeping its scratch space from one event to the next.
struct JsonRenderer<'f, 'a> {
    fragments: &'f Fragments,
    time: TimeFormatter,
    values: Vec<ArgValue<'a>>,
    message: String,
}

impl<'f, 'a> JsonRenderer<'f, 'a> {
    fn new(fragments: &'f Fragments) -> Self {
        JsonRenderer {
            fragments,
            time: TimeFormatter::default(),
            values: Vec::new(),
            message: String::new(),
        }
    }

    fn event(&mut self, out: &mut Vec<u8>, event: &Event<'a>) {
        match event {
            Event::Record(record) => self.record(out, record),
            Event::Dropped(marker) => self.drop_marker(out, marker),
        }
    }

    /// Appends `{"ts":"…","ts_ns":…`.
    fn time(&mut self, out: &mut Vec<u8>, ts_ns: i64) {
        out.extend_from_slice(b"{\"ts\":\"");
        out.extend_from_slice(self.time.format(ts_ns).as_str().as_bytes());
        out.extend_from_slice(b"\",\"ts_ns\":");
        out.extend_from_slice(itoa::Buffer::new().format(ts_ns).as_bytes());
    }

    fn record(&mut self, out: &mut Vec<u8>, record: &Record<'a>) {
        let fragments = self.fragments;
        self.time(out, record.ts_ns());
        out.extend_from_slice(b",\"level\":\"");
        out.extend_from_slice(record.level().as_str().as_bytes());
        out.extend_from_slice(b"\",\"thread\":");
        out.extend_from_slice(&fragments.thread_names[record.thread_index() as usize]);
        let site = record.site_index() as usize;
        out.extend_from_slice(&fragments.site_heads[site]);

        record.values_into(&mut self.values);
        self.message.clear();
        record.write_message_with(&self.values, &mut self.message);
        push_string(out, &self.message);

        out.extend_from_slice(b",\"args\":{");
        for (index, (key, value)) in fragments.arg_keys[site]
            .iter()
            .zip(&self.values)
            .enumerate()
        {
            if index > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            push_value(out, value);
        }
        out.extend_from_slice(b"}}\n");
    }

    fn drop_marker(&mut self, out: &mut Vec<u8>, marker: &DropMarker<'_>) {
        self.time(out, marker.ts_ns());
        out.extend_from_slice(b",\"thread\":");
        out.extend_from_slice(&self.fragments.thread_names[marker.thread_index() as usize]);
        out.extend_from_slice(b",\"dropped\":");
        out.extend_from_slice(itoa::Buffer::new().format(marker.count()).as_bytes());
        out.extend_from_slice(b"}\n");
    }
}

fn push_value(out: &mut Vec<u8>, value: &ArgValue<'_>) {
    match value {
        ArgValue::U8(v) => push_int(out, *v),
        ArgValue::U16(v) => push_int(out, *v),
        ArgValue::U32(v) => push_int(out, *v),
        ArgValue::U64(v) => push_big_int(out, *v, u128::from(*v)),
        ArgValue::U128(v) => push_big_int(out, *v, *v),
        ArgValue::I8(v) => push_int(out, *v),
        ArgValue::I16(v) => push_int(out, *v),
        ArgValue::I32(v) => push_int(out, *v),
        ArgValue::I64(v) => push_big_int(out, *v, u128::from(v.unsigned_abs())),
        ArgValue::I128(v) => push_big_int(out, *v, v.unsigned_abs()),
        ArgValue::F32(v) if v.is_finite() => {
            out.extend_from_slice(ryu::Buffer::new().format_finite(*v).as_bytes());
        }
        ArgValue::F64(v) if v.is_finite() => {
            out.extend_from_slice(ryu::Buffer::new().format_finite(*v).as_bytes());
        }
        ArgValue::F32(v) => push_non_finite(out, f64::from(*v)),
        ArgValue::F64(v) => push_non_finite(out, *v),
        ArgValue::Bool(v) => out.extend_from_slice(if *v { b"true" } else { b"false" }),
        ArgValue::Char(c) => push_string(out, c.encode_utf8(&mut [0; 4])),
        ArgValue::Str(text) => push_string(out, text),
    }
}

fn push_int<I: itoa::Integer>(out: &mut Vec<u8>, value: I) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends an integer as a number, or as a decimal string when its `magnitude` is beyond what
/// a double represents exactly.
fn push_big_int<I: itoa::Integer>(out: &mut Vec<u8>, value: I, magnitude: u128) {
    if magnitude > EXACT_IN_DOUBLE {
        out.push(b'"');
        push_int(out, value);
        out.push(b'"');
    } else {
        push_int(out, value);
    }
}

fn push_non_finite(out: &mut Vec<u8>, value: f64) {
    let text: &[u8] = if value.is_nan() {
        b"\"NaN\""
    } else if value > 0.0 {
        b"\"inf\""
    } else {
        b"\"-inf\""
    };
    out.extend_from_slice(text);
}

/// Escape of each byte inside a JSON string: 0 for the byte itself, `u` for `\u00XX`, or the
/// letter after a backslash.
const ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = b'u';
        byte += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `text` as a quoted JSON string. Quotes, backslashes and control characters are
/// escaped, with the short forms `\b \t \n \f \r` where JSON has them and `\u00XX` in lower
/// case hex otherwise. Everything else, DEL and non-ASCII included, is copied.
fn push_string(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape = ESCAPES[usize::from(byte)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..index]);
        if escape == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(byte >> 4)]);
            out.push(HEX[usize::from(byte & 0xf)]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use simd_json::prelude::BaseGenerator;

    /// simd-json's generator, the escaping this module replaced.
    struct Generator(Vec<u8>);

    impl BaseGenerator for Generator {
        type T = Vec<u8>;

        fn get_writer(&mut self) -> &mut Vec<u8> {
            &mut self.0
        }

        fn write_min(&mut self, _: &[u8], min: u8) -> io::Result<()> {
            self.0.push(min);
            Ok(())
        }
    }

    #[test]
    fn escaping_matches_simd_json() {
        let mut texts: Vec<String> = (0u32..0x100)
            .filter_map(char::from_u32)
            .map(|c| format!("a{c}b{c}"))
            .collect();
        texts.push(String::new());
        texts.push("plain text without escapes, long enough for a vector step".into());
        texts.push("\"quoted\" \\ back\nslash \u{7f} é 漢字 \u{1f600}".repeat(5));
        for text in texts {
            let mut expected = Generator(Vec::new());
            expected.write_string(&text).unwrap();
            let mut out = Vec::new();
            push_string(&mut out, &text);
            assert_eq!(out, expected.0, "{text:?}");
        }
    }
}
