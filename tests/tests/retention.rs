//! Retention by file count and by total bytes: the oldest segment files of the logger's
//! prefix go first, files of earlier runs count, and no other file is touched.

use std::path::Path;

use std::path::PathBuf;

use ulog::{ulog, MIN_FILE_SIZE};
use ulog_decode::Input;
use ulog_schema::header::FileHeader;
use ulog_tests::{messages, segments, TestLogger};

/// Segment names of an earlier run of the same prefix, oldest first.
const EARLIER_RUN: [&str; 2] = [
    "test-20200101T000000Z-1234-000000.ulog",
    "test-20200101T000001Z-1234-000001.ulog",
];

/// Files that retention must leave alone: other prefixes, other extensions, longer prefixes.
const FOREIGN: [&str; 5] = [
    "other-20200101T000000Z-1-000000.ulog",
    "test-extra-20200101T000000Z-1-000000.ulog",
    "test-20200101T000000Z-1-000000.ulog.bak",
    "test-notes.txt",
    "test-20200101T000000Z-1-.ulog",
];

/// A directory named like a segment, which is not a file and stays.
const DIRECTORY: &str = "test-20200101T000000Z-9-000000.ulog";

/// Records logged: with 64 KiB files, enough for about ten files.
const RECORDS: u32 = 100_000;

/// Records between two flushes, far fewer than a ring holds, so nothing drops.
const FLUSH_EVERY: u32 = 5_000;

/// Creates a temporary directory holding the earlier run's segments, `earlier_len` bytes
/// each, and the foreign files.
fn prepared_dir(earlier_len: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in EARLIER_RUN {
        std::fs::write(dir.path().join(name), vec![0u8; earlier_len]).unwrap();
    }
    for name in FOREIGN {
        std::fs::write(dir.path().join(name), b"not a segment of this logger").unwrap();
    }
    std::fs::create_dir(dir.path().join(DIRECTORY)).unwrap();
    dir
}

fn log_records() {
    for index in 0..RECORDS {
        ulog!(Info, "order <> qty <> px <:.2>", index, 300u32, 101.25f64);
        if (index + 1) % FLUSH_EVERY == 0 {
            ulog::flush();
        }
    }
}

/// Returns the files in `dir` with segment names, except the foreign ones, sorted by name.
fn own_segments(dir: &Path) -> Vec<PathBuf> {
    segments(dir)
        .into_iter()
        .filter(|path| !FOREIGN.iter().any(|name| path.ends_with(name)))
        .collect()
}

/// Checks that every foreign file and the directory are still there.
fn assert_foreign_kept(dir: &Path) {
    for name in FOREIGN {
        assert!(dir.join(name).is_file(), "{name} was touched");
    }
    assert!(dir.join(DIRECTORY).is_dir(), "{DIRECTORY} was touched");
}

/// Checks that the records left are the newest ones, in order, ending with the last.
fn assert_newest_records_kept(dir: &Path) {
    let inputs: Vec<Input> = own_segments(dir).into_iter().map(Input::Path).collect();
    let decoded = ulog_decode::decode_paths(&inputs).unwrap();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    let indexes: Vec<u32> = messages(&decoded)
        .iter()
        .map(|message| message.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    let first = *indexes.first().expect("records are left");
    assert!(first > 0, "the oldest records were deleted");
    assert_eq!(indexes, (first..RECORDS).collect::<Vec<_>>());
}

#[test]
fn max_files_keeps_newest_of_prefix() {
    let mut logger = TestLogger::start_in(prepared_dir(100), |config| {
        config.max_file_size(MIN_FILE_SIZE).max_files(3)
    });
    log_records();
    logger.stop();
    let stats = ulog::stats();
    let dir = logger.dir.path();

    let files = own_segments(dir);
    let names: Vec<String> = files
        .iter()
        .map(|path| path.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(files.len(), 3, "{names:?}");
    for name in EARLIER_RUN {
        assert!(!names.iter().any(|kept| kept == name), "{name} was kept");
    }
    assert_foreign_kept(dir);

    // The three kept are the last three this run created.
    let created = stats.files_created - logger.baseline.files_created;
    assert!(created >= 5, "only {created} files were created");
    let sequences: Vec<u32> = files
        .iter()
        .map(|path| {
            let bytes = std::fs::read(path).unwrap();
            FileHeader::decode(&bytes).unwrap().0.file_sequence
        })
        .collect();
    let last = *sequences.last().unwrap();
    assert_eq!(sequences, [last - 2, last - 1, last]);

    let deleted = stats.files_deleted - logger.baseline.files_deleted;
    assert_eq!(deleted, created + EARLIER_RUN.len() as u64 - 3);
    assert_eq!(stats.delete_errors, logger.baseline.delete_errors);
    assert_newest_records_kept(dir);
}

#[test]
fn max_total_bytes_bounds_directory() {
    let max_total = 4 * MIN_FILE_SIZE;
    let earlier_len = MIN_FILE_SIZE as usize;
    let mut logger = TestLogger::start_in(prepared_dir(earlier_len), |config| {
        config
            .max_file_size(MIN_FILE_SIZE)
            .max_total_bytes(max_total)
    });

    // At the start, the earlier run's 128 KiB fit in the 192 KiB left beside a full file.
    for name in EARLIER_RUN {
        assert!(
            logger.dir.path().join(name).exists(),
            "{name} was deleted early"
        );
    }
    log_records();
    logger.stop();
    let stats = ulog::stats();
    let dir = logger.dir.path();

    for name in EARLIER_RUN {
        assert!(!dir.join(name).exists(), "{name} was kept");
    }
    assert_foreign_kept(dir);

    let total: u64 = own_segments(dir)
        .iter()
        .map(|path| std::fs::metadata(path).unwrap().len())
        .sum();
    // The last file may pass max_file_size by one block of up to 64 KiB, and its end marker.
    assert!(
        total <= max_total + MIN_FILE_SIZE + 1024,
        "{total} bytes are left"
    );
    assert!(total >= max_total / 2, "only {total} bytes are left");
    assert!(stats.files_deleted - logger.baseline.files_deleted >= 4);
    assert_eq!(stats.delete_errors, logger.baseline.delete_errors);
    assert_newest_records_kept(dir);
}
