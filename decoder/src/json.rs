//! The JSON lines output: one object per event, written with simd-json's string escaping.

use std::io::{self, Write};

use simd_json::prelude::BaseGenerator;
use ulog_schema::record::ArgValue;

use crate::events::{Decoded, DropMarker, Event, Record};
use crate::time::write_rfc3339;

/// Bytes collected before they are handed to the writer.
const FLUSH_AT: usize = 64 * 1024;

/// Largest integer magnitude a JSON number carries exactly in a double: 2^53.
const EXACT_IN_DOUBLE: u128 = 1 << 53;

/// A buffer of JSON text, with simd-json's generator methods.
struct JsonBuffer {
    bytes: Vec<u8>,
    /// Scratch space for timestamps and messages.
    text: String,
}

impl BaseGenerator for JsonBuffer {
    type T = Vec<u8>;

    fn get_writer(&mut self) -> &mut Vec<u8> {
        &mut self.bytes
    }

    fn write_min(&mut self, _: &[u8], min: u8) -> io::Result<()> {
        self.bytes.push(min);
        Ok(())
    }
}

/// Writes every event as one JSON object on its own line.
///
/// A record has the keys `ts` (RFC 3339), `ts_ns` (Unix nanoseconds), `level`, `thread`,
/// `module`, `file`, `line`, `msg` (the formatted message) and `args`, an object from each
/// argument's name to its value in call order. Integers are numbers, except those beyond
/// ±2^53, which are decimal strings so that no reader rounds them. Floats are numbers, and
/// NaN and the infinities are the strings `"NaN"`, `"inf"` and `"-inf"`. A drop marker has
/// `ts`, `ts_ns`, `thread` and `dropped`.
///
/// # Errors
///
/// Fails when `out` does; a closed pipe gives [`io::ErrorKind::BrokenPipe`].
pub fn write_json(decoded: &Decoded, mut out: impl Write) -> io::Result<()> {
    let mut buffer = JsonBuffer {
        bytes: Vec::with_capacity(FLUSH_AT + 1024),
        text: String::new(),
    };
    for event in decoded.events() {
        match event {
            Event::Record(record) => buffer.record(&record)?,
            Event::Dropped(marker) => buffer.drop_marker(&marker)?,
        }
        if buffer.bytes.len() >= FLUSH_AT {
            out.write_all(&buffer.bytes)?;
            buffer.bytes.clear();
        }
    }
    out.write_all(&buffer.bytes)?;
    out.flush()
}

impl JsonBuffer {
    fn key(&mut self, key: &str) -> io::Result<()> {
        self.write_simple_string(key)?;
        self.write_char(b':')
    }

    fn time(&mut self, ts_ns: i64) -> io::Result<()> {
        self.key("ts")?;
        self.text.clear();
        write_rfc3339(&mut self.text, ts_ns);
        self.bytes.push(b'"');
        self.bytes.extend_from_slice(self.text.as_bytes());
        self.bytes.extend_from_slice(b"\",");
        self.key("ts_ns")?;
        self.write_int(ts_ns)
    }

    fn record(&mut self, record: &Record<'_>) -> io::Result<()> {
        self.write_char(b'{')?;
        self.time(record.ts_ns())?;
        self.write_char(b',')?;
        self.key("level")?;
        self.write_simple_string(record.level().as_str())?;
        self.write_char(b',')?;
        self.key("thread")?;
        self.write_string(record.thread_name())?;
        self.write_char(b',')?;
        self.key("module")?;
        self.write_string(record.module())?;
        self.write_char(b',')?;
        self.key("file")?;
        self.write_string(record.file())?;
        self.write_char(b',')?;
        self.key("line")?;
        self.write_int(record.line())?;
        self.write_char(b',')?;

        let values = record.values();
        self.key("msg")?;
        let mut message = std::mem::take(&mut self.text);
        message.clear();
        record.write_message_with(&values, &mut message);
        self.write_string(&message)?;
        self.text = message;
        self.write_char(b',')?;

        self.key("args")?;
        self.write_char(b'{')?;
        for (index, (name, value)) in record.arg_names().zip(&values).enumerate() {
            if index > 0 {
                self.write_char(b',')?;
            }
            self.write_string(name)?;
            self.write_char(b':')?;
            self.value(value)?;
        }
        self.write(b"}}\n")
    }

    fn value(&mut self, value: &ArgValue<'_>) -> io::Result<()> {
        match value {
            ArgValue::U8(v) => self.write_int(*v),
            ArgValue::U16(v) => self.write_int(*v),
            ArgValue::U32(v) => self.write_int(*v),
            ArgValue::U64(v) => self.big_int(*v, u128::from(*v)),
            ArgValue::U128(v) => self.big_int(*v, *v),
            ArgValue::I8(v) => self.write_int(*v),
            ArgValue::I16(v) => self.write_int(*v),
            ArgValue::I32(v) => self.write_int(*v),
            ArgValue::I64(v) => self.big_int(*v, u128::from(v.unsigned_abs())),
            ArgValue::I128(v) => self.big_int(*v, v.unsigned_abs()),
            ArgValue::F32(v) if v.is_finite() => {
                self.write(ryu::Buffer::new().format_finite(*v).as_bytes())
            }
            ArgValue::F64(v) if v.is_finite() => {
                self.write(ryu::Buffer::new().format_finite(*v).as_bytes())
            }
            ArgValue::F32(v) => self.non_finite(f64::from(*v)),
            ArgValue::F64(v) => self.non_finite(*v),
            ArgValue::Bool(v) => self.write(if *v { b"true" } else { b"false" }),
            ArgValue::Char(c) => self.write_string(c.encode_utf8(&mut [0; 4])),
            ArgValue::Str(text) => self.write_string(text),
        }
    }

    /// Writes an integer as a number, or as a decimal string when its `magnitude` is beyond
    /// what a double represents exactly.
    fn big_int<I: itoa::Integer>(&mut self, value: I, magnitude: u128) -> io::Result<()> {
        if magnitude > EXACT_IN_DOUBLE {
            self.write_char(b'"')?;
            self.write_int(value)?;
            self.write_char(b'"')
        } else {
            self.write_int(value)
        }
    }

    fn non_finite(&mut self, value: f64) -> io::Result<()> {
        let text: &[u8] = if value.is_nan() {
            b"\"NaN\""
        } else if value > 0.0 {
            b"\"inf\""
        } else {
            b"\"-inf\""
        };
        self.write(text)
    }

    fn drop_marker(&mut self, marker: &DropMarker<'_>) -> io::Result<()> {
        self.write_char(b'{')?;
        self.time(marker.ts_ns())?;
        self.write_char(b',')?;
        self.key("thread")?;
        self.write_string(marker.thread_name())?;
        self.write_char(b',')?;
        self.key("dropped")?;
        self.write_int(marker.count())?;
        self.write(b"}\n")
    }
}
