//! Bytes per record of each benchmark message (`ulog_benches::shapes`): on disk packed, on
//! disk packed and compressed with LZ4, and as the text lines `ulog-decode` prints for the
//! same log. Run with `--nocapture` to see the table:
//!
//! ```text
//! cargo test -p ulog-tests --test compact_size -- --nocapture
//! ```
//!
//! The records go through the benchmarks' own ulog adapter, so the messages, arguments and
//! call sites are those of the latency benchmark. A text line is what `ulog-decode` prints by
//! default: the time with nanoseconds, the level, the thread name `producer`, the module
//! `ulog_benches::loggers::ulog` and the message.

#![cfg(target_arch = "x86_64")]

use std::io;
use std::path::Path;

use ulog::Compression;
use ulog_benches::loggers::ulog::Ulog;
use ulog_benches::loggers::{Logger, Setup};
use ulog_benches::shapes::{self, Shape, ShapeVisitor};
use ulog_decode::{write_text, Decoded};
use ulog_tests::{decode_dir, messages};

/// Records per message and run.
const RECORDS: u64 = 100_000;

/// Ring size per run: large enough that no record is dropped.
const RING_BYTES: usize = 16 << 20;

/// Counts the bytes written to it.
#[derive(Default)]
struct ByteCounter(u64);

impl io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A log of one message, as written and decoded.
struct Written {
    file_bytes: u64,
    decoded: Decoded,
}

/// Logs `RECORDS` calls of `S` through a fresh logger with `compression`, and decodes them.
fn log_shape<S: Shape>(compression: Compression) -> Written {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        dir: dir.path().to_owned(),
        block_when_full: false,
        ulog_ring_bytes: RING_BYTES,
        ulog_compression: compression,
    };
    // A thread of its own gives every text line the same, typical thread name.
    let finished = std::thread::Builder::new()
        .name("producer".into())
        .spawn(move || {
            let logger = Ulog::start(&setup).unwrap();
            for index in 0..RECORDS {
                S::call(&logger, S::args(index));
            }
            logger.finish()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(finished.dropped, Some(0), "{}: records dropped", S::NAME);
    assert_eq!(finished.written, Some(RECORDS), "{}", S::NAME);

    let decoded = decode_dir(dir.path());
    assert!(decoded.is_clean(), "{}: {:?}", S::NAME, decoded.damage());
    assert_eq!(decoded.len() as u64, RECORDS, "{}", S::NAME);
    Written {
        file_bytes: dir_bytes(dir.path()),
        decoded,
    }
}

/// Total size of the files in `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().metadata().unwrap().len())
        .sum()
}

/// Bytes per record of one message, in each form.
#[derive(Debug)]
struct Row {
    name: &'static str,
    packed: f64,
    lz4: f64,
    text: f64,
}

struct Measure {
    rows: Vec<Row>,
}

impl ShapeVisitor for Measure {
    fn visit<S: Shape>(&mut self) {
        let packed = log_shape::<S>(Compression::None);
        let lz4 = log_shape::<S>(Compression::Lz4);
        assert!(
            messages(&packed.decoded) == messages(&lz4.decoded),
            "{}: the compressed log decodes to other messages",
            S::NAME
        );

        let mut text = ByteCounter::default();
        write_text(&packed.decoded, &mut text).unwrap();
        let per_record = |bytes: u64| bytes as f64 / RECORDS as f64;
        self.rows.push(Row {
            name: S::NAME,
            packed: per_record(packed.file_bytes),
            lz4: per_record(lz4.file_bytes),
            text: per_record(text.0),
        });
    }
}

#[test]
fn benchmark_messages_are_compact() {
    let mut measure = Measure { rows: Vec::new() };
    shapes::for_each_shape(&mut measure);

    println!("bytes per record, {RECORDS} records per message, file header and end block included");
    println!("| message  | packed | packed + LZ4 | text lines | text / packed |");
    println!("|----------|-------:|-------------:|-----------:|--------------:|");
    for row in &measure.rows {
        println!(
            "| {:<8} | {:>6.2} | {:>12.2} | {:>10.1} | {:>12.1}x |",
            row.name,
            row.packed,
            row.lz4,
            row.text,
            row.text / row.packed
        );
    }

    let row = |name: &str| measure.rows.iter().find(|row| row.name == name).unwrap();
    assert!(row("fill").packed <= 12.0, "{:?}", row("fill"));
    assert!(row("static").packed <= 4.0, "{:?}", row("static"));
    assert!(
        row("static").lz4 < row("static").packed * 0.8,
        "LZ4 should shrink a log of one static message: {:?}",
        row("static")
    );
    for row in &measure.rows {
        assert!(row.lz4 < row.packed, "{row:?}");
        assert!(row.text > 4.0 * row.packed, "{row:?}");
    }
}
