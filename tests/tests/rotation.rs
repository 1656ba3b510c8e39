//! Rotation by size and by time: every file decodes on its own, with the names of its sites
//! and threads, and file names are unique and sort in creation order.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ulog::{ulog, MIN_FILE_SIZE};
use ulog_decode::Event;
use ulog_schema::header::FileHeader;
use ulog_tests::{decode_file, segments, TestLogger};

/// Threads of the size test, each with its own name.
const THREADS: [&str; 3] = ["feed-a", "feed-b", "feed-c"];

/// Records per thread in the size test: enough for several 64 KiB files.
const RECORDS_PER_THREAD: u32 = 12_000;

/// Records between two flushes, far fewer than a ring holds, so nothing drops.
const FLUSH_EVERY: u32 = 1_000;

/// Returns the header's file sequence number of each file.
fn file_sequences(files: &[PathBuf]) -> Vec<u32> {
    files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            FileHeader::decode(&bytes).unwrap().0.file_sequence
        })
        .collect()
}

/// Returns the time part, `YYYYMMDDTHHMMSSZ`, of a segment file name.
fn name_time(path: &std::path::Path) -> String {
    let name = path.file_name().unwrap().to_str().unwrap();
    name.split('-').nth(1).unwrap().to_owned()
}

#[test]
fn size_rotation_files_decode_alone() {
    let mut logger = TestLogger::start(|config| config.max_file_size(MIN_FILE_SIZE));
    let workers: Vec<_> = THREADS
        .iter()
        .map(|&name| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(|| {
                    for index in 0..RECORDS_PER_THREAD {
                        if index % 2 == 0 {
                            ulog!(Info, "quote <> bid <:.2>", index, 100.25f64);
                        } else {
                            ulog!(Warn, "fill <> venue <>", index, "XNAS");
                        }
                        if (index + 1) % FLUSH_EVERY == 0 {
                            ulog::flush();
                        }
                    }
                })
                .unwrap()
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    logger.stop();
    let stats = ulog::stats();
    assert_eq!(stats.records_dropped, logger.baseline.records_dropped);

    let files = segments(logger.dir.path());
    assert!(files.len() >= 4, "expected several files: {files:?}");
    let created = stats.files_created - logger.baseline.files_created;
    assert_eq!(files.len() as u64, created);

    // Name order is creation order, which the header's sequence number records.
    let sequences = file_sequences(&files);
    assert!(
        sequences.windows(2).all(|pair| pair[0] < pair[1]),
        "{sequences:?}"
    );

    let mut seen: HashMap<&str, Vec<u32>> = HashMap::new();
    for (position, path) in files.iter().enumerate() {
        let size = std::fs::metadata(path).unwrap().len();
        if position + 1 < files.len() {
            assert!(size >= MIN_FILE_SIZE, "{path:?} has {size} bytes");
        }
        assert!(
            size <= 2 * MIN_FILE_SIZE + 1024,
            "{path:?} has {size} bytes"
        );

        let decoded = decode_file(path);
        assert!(decoded.is_clean(), "{path:?}: {:?}", decoded.damage());
        assert!(!decoded.is_empty(), "{path:?} holds no records");
        for event in decoded.events() {
            let Event::Record(record) = event else {
                panic!("{path:?} holds a drop marker");
            };
            let thread = THREADS
                .iter()
                .find(|&&name| name == record.thread_name())
                .unwrap_or_else(|| panic!("unknown thread {:?}", record.thread_name()));
            let message = record.message();
            let index = match record.format() {
                "quote <> bid <:.2>" => message
                    .strip_prefix("quote ")
                    .and_then(|rest| rest.strip_suffix(" bid 100.25")),
                "fill <> venue <>" => message
                    .strip_prefix("fill ")
                    .and_then(|rest| rest.strip_suffix(" venue XNAS")),
                other => panic!("unknown format {other:?}"),
            };
            let index = index.unwrap_or_else(|| panic!("unexpected message {message:?}"));
            seen.entry(thread).or_default().push(index.parse().unwrap());
        }
    }

    for name in THREADS {
        let indexes = seen.remove(name).unwrap_or_default();
        let expected: Vec<u32> = (0..RECORDS_PER_THREAD).collect();
        assert!(
            indexes == expected,
            "thread {name} lost or reordered records"
        );
    }
}

#[test]
fn time_rotation_starts_new_files() {
    let mut logger = TestLogger::start(|config| config.rotate_every(Duration::from_secs(1)));
    let start = Instant::now();
    let mut ticks = 0u32;
    while start.elapsed() < Duration::from_millis(2_500) {
        ulog!(Info, "tick <>", ticks);
        ticks += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    logger.stop();

    let files = segments(logger.dir.path());
    assert!((2..=4).contains(&files.len()), "{files:?}");
    let sequences = file_sequences(&files);
    assert!(
        sequences.windows(2).all(|pair| pair[0] < pair[1]),
        "{sequences:?}"
    );
    let times: Vec<String> = files.iter().map(|path| name_time(path)).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]), "{times:?}");

    let mut all = Vec::new();
    for (position, path) in files.iter().enumerate() {
        let decoded = decode_file(path);
        assert!(decoded.is_clean(), "{path:?}: {:?}", decoded.damage());
        let mut stamps = Vec::new();
        for event in decoded.events() {
            let Event::Record(record) = event else {
                panic!("{path:?} holds a drop marker");
            };
            assert_eq!(record.thread_name(), "time_rotation_starts_new_files");
            let tick: u32 = record.message()["tick ".len()..].parse().unwrap();
            all.push(tick);
            stamps.push(record.ts_ns());
        }
        // A file ends once it is a second old, and ticks come every 20 ms, so every file
        // but the last covers most of a second.
        if position + 1 < files.len() {
            let span = stamps.last().unwrap() - stamps.first().unwrap();
            assert!(span >= 800_000_000, "{path:?} covers only {span} ns");
        }
    }
    assert_eq!(all, (0..ticks).collect::<Vec<_>>());
}
