//! Builds segment files for tests with the schema's own encoders.

#![allow(dead_code)]

use ulog_schema::entry::{
    self, kind, ArgDef, ClockEntry, DropsEntry, EndEntry, SiteDef, ThreadDef,
};
use ulog_schema::header::{ClockSync, FileHeader};
use ulog_schema::record::{self, ArgValue};
use ulog_schema::run::RunBuilder;
use ulog_schema::{block, ArgKind, ClockSource, Level, VERSION_MAJOR, VERSION_MINOR};

/// Start of the process run in every test segment: 2026-12-04T19:12:39Z.
pub const START_NS: u64 = 1_796_411_559_000_000_000;

/// Process id in every test segment unless a test picks another.
pub const PID: u32 = 4242;

/// Builds a header whose clock counts nanoseconds from [`START_NS`], so ticks are nanoseconds
/// after the start.
pub fn header(pid: u32, file_sequence: u32) -> FileHeader {
    FileHeader {
        version_major: VERSION_MAJOR,
        version_minor: VERSION_MINOR,
        pid,
        clock_source: ClockSource::Monotonic,
        file_sequence,
        start_unix_ns: START_NS,
        clock: ClockSync {
            ticks_per_second: 1_000_000_000,
            anchor_ticks: 0,
            anchor_unix_ns: START_NS,
        },
        host: "host-a".into(),
        program: "trading".into(),
    }
}

/// Encodes argument values as a record carries them.
pub fn encode_args(values: &[ArgValue<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for value in values {
        match value {
            ArgValue::U8(v) => out.push(*v),
            ArgValue::U16(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::U32(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::U64(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::U128(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::I8(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::I16(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::I32(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::I64(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::I128(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::F32(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::F64(v) => out.extend_from_slice(&v.to_le_bytes()),
            ArgValue::Bool(v) => out.push(u8::from(*v)),
            ArgValue::Char(c) => out.extend_from_slice(&u32::from(*c).to_le_bytes()),
            ArgValue::Str(text) => {
                out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    out
}

/// Kind of a value.
pub fn kind_of(value: &ArgValue<'_>) -> ArgKind {
    match value {
        ArgValue::U8(_) => ArgKind::U8,
        ArgValue::U16(_) => ArgKind::U16,
        ArgValue::U32(_) => ArgKind::U32,
        ArgValue::U64(_) => ArgKind::U64,
        ArgValue::U128(_) => ArgKind::U128,
        ArgValue::I8(_) => ArgKind::I8,
        ArgValue::I16(_) => ArgKind::I16,
        ArgValue::I32(_) => ArgKind::I32,
        ArgValue::I64(_) => ArgKind::I64,
        ArgValue::I128(_) => ArgKind::I128,
        ArgValue::F32(_) => ArgKind::F32,
        ArgValue::F64(_) => ArgKind::F64,
        ArgValue::Bool(_) => ArgKind::Bool,
        ArgValue::Char(_) => ArgKind::Char,
        ArgValue::Str(_) => ArgKind::Str,
    }
}

/// A segment under construction. Entries go into the open block; [`Segment::block`] closes
/// it and opens the next.
pub struct Segment {
    bytes: Vec<u8>,
    block_start: usize,
    sequence: u32,
    records: u64,
    dropped: u64,
}

impl Segment {
    /// Starts a segment of the default process run.
    pub fn new() -> Segment {
        Segment::with_header(&header(PID, 0))
    }

    /// Starts a segment with `header`.
    pub fn with_header(header: &FileHeader) -> Segment {
        let mut bytes = Vec::new();
        header.encode(&mut bytes);
        let block_start = block::begin(&mut bytes);
        Segment {
            bytes,
            block_start,
            sequence: 0,
            records: 0,
            dropped: 0,
        }
    }

    /// Closes the open block and opens another.
    pub fn block(&mut self) -> &mut Segment {
        block::finish(&mut self.bytes, self.block_start, self.sequence);
        self.sequence += 1;
        self.block_start = block::begin(&mut self.bytes);
        self
    }

    /// Byte offset where the open block starts.
    pub fn block_offset(&self) -> usize {
        self.block_start
    }

    /// Defines call site `id` at line `id` of `src/lib.rs`.
    pub fn site(
        &mut self,
        id: u32,
        level: Level,
        module: &str,
        format: &str,
        args: &[(ArgKind, &str)],
    ) -> &mut Segment {
        SiteDef {
            id,
            level,
            line: id,
            column: 1,
            module,
            file: "src/lib.rs",
            format,
            args: args
                .iter()
                .map(|&(kind, name)| ArgDef { kind, name })
                .collect(),
        }
        .encode(&mut self.bytes);
        self
    }

    /// Defines thread `id`.
    pub fn thread(&mut self, id: u32, name: &str) -> &mut Segment {
        ThreadDef { id, name }.encode(&mut self.bytes);
        self
    }

    /// Adds a record at `ticks` nanoseconds after the start, with argument bytes.
    pub fn record_bytes(
        &mut self,
        site: u32,
        thread: u32,
        ticks: u64,
        args: &[u8],
    ) -> &mut Segment {
        record::write_record(&mut self.bytes, site, thread, ticks, args);
        self.records += 1;
        self
    }

    /// Adds a record at `ticks` nanoseconds after the start.
    pub fn record(
        &mut self,
        site: u32,
        thread: u32,
        ticks: u64,
        args: &[ArgValue<'_>],
    ) -> &mut Segment {
        self.record_bytes(site, thread, ticks, &encode_args(args))
    }

    /// Adds a RUN entry of `thread` whose first record's ticks are its base. Each record is
    /// a site, its ticks and its values; the kinds follow from the values.
    pub fn run(&mut self, thread: u32, records: &[(u32, u64, Vec<ArgValue<'_>>)]) -> &mut Segment {
        let mut run = RunBuilder::new();
        run.start(thread, records.first().map_or(0, |record| record.1));
        for (site, ticks, values) in records {
            let raw = encode_args(values);
            let kinds = values.iter().map(kind_of);
            assert_eq!(run.push(*site, *ticks, kinds, &raw), Some(raw.len()));
        }
        self.records += run.finish(&mut self.bytes);
        self
    }

    /// Byte offset in the file where the next entry goes.
    pub fn position(&self) -> usize {
        self.bytes.len()
    }

    /// Re-syncs the clock: `ticks` is `unix_ns` from now on, at `ticks_per_second`.
    pub fn clock(&mut self, ticks: u64, unix_ns: u64, ticks_per_second: u64) -> &mut Segment {
        let body = ClockEntry {
            ticks: ticks.into(),
            unix_ns: unix_ns.into(),
            ticks_per_second: ticks_per_second.into(),
        };
        entry::write_fixed(&mut self.bytes, kind::CLOCK, &body);
        self
    }

    /// Reports `count` records dropped on `thread`.
    pub fn drops(&mut self, thread: u32, count: u64) -> &mut Segment {
        let body = DropsEntry {
            thread: thread.into(),
            count: count.into(),
        };
        entry::write_fixed(&mut self.bytes, kind::DROPS, &body);
        self.dropped += count;
        self
    }

    /// Appends raw bytes to the open block.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Segment {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// Closes the open block and returns the file, without an end marker.
    pub fn unfinished(&mut self) -> Vec<u8> {
        block::finish(&mut self.bytes, self.block_start, self.sequence);
        std::mem::take(&mut self.bytes)
    }

    /// Adds the end marker with the counts so far and returns the file.
    pub fn finish(&mut self) -> Vec<u8> {
        let body = EndEntry {
            records: self.records.into(),
            dropped: self.dropped.into(),
        };
        entry::write_fixed(&mut self.bytes, kind::END, &body);
        self.unfinished()
    }
}

/// Starts a segment with one thread `main` (id 1) and one site (id 1) `"n=<>"` of a `u64`.
pub fn simple() -> Segment {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(1, Level::Info, "app", "n=<>", &[(ArgKind::U64, "n")]);
    segment
}

/// Decodes in-memory files named `0.ulog`, `1.ulog` and so on.
pub fn decode(files: &[Vec<u8>]) -> ulog_decode::Decoded {
    let mut decoder = ulog_decode::Decoder::new();
    for (index, bytes) in files.iter().enumerate() {
        decoder.add_bytes(format!("{index}.ulog"), bytes.clone());
    }
    decoder.decode()
}

/// Collects the messages of every record, in output order.
pub fn messages(decoded: &ulog_decode::Decoded) -> Vec<String> {
    decoded
        .events()
        .filter_map(|event| match event {
            ulog_decode::Event::Record(record) => Some(record.message()),
            ulog_decode::Event::Dropped(_) => None,
        })
        .collect()
}

/// Renders the decoded events as text.
pub fn text(decoded: &ulog_decode::Decoded) -> String {
    let mut out = Vec::new();
    ulog_decode::write_text(decoded, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}
