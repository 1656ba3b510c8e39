//! Failed writes on real files: a process runs into its file size limit (`EFBIG`), or a
//! small tmpfs fills up (`ENOSPC`). The program keeps running, the backend retries, every
//! record is written, dropped or lost with a count, and the files on disk stay clean.
//!
//! Each scenario runs in a child process, `disk_full`, because it lowers the process's file
//! size limit or mounts a file system; see `src/bin/disk_full.rs`.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use ulog_decode::{Decoder, Event};
use ulog_tests::{blocks_of, decode_dir, dropped, messages, segments};

/// Counts the child logs, as in `src/bin/disk_full.rs`.
const BEFORE: u64 = 100;
const DURING: u64 = 20_000;
const AFTER: u64 = 3_000;

/// Exit code of the child when it may not mount a tmpfs.
const CANNOT_MOUNT: i32 = 77;

/// The child's `key=value` output.
struct Outcome {
    values: HashMap<String, String>,
}

impl Outcome {
    fn number(&self, key: &str) -> u64 {
        let value = self
            .values
            .get(key)
            .unwrap_or_else(|| panic!("child printed no {key}: {:?}", self.values));
        value
            .parse()
            .unwrap_or_else(|_| panic!("{key}={value} is not a number"))
    }

    fn text(&self, key: &str) -> &str {
        self.values
            .get(key)
            .unwrap_or_else(|| panic!("child printed no {key}: {:?}", self.values))
    }
}

/// Runs `disk_full` with `args`; returns its exit code and output.
fn run_child(args: &[&Path]) -> (i32, Outcome) {
    let output = Command::new(env!("CARGO_BIN_EXE_disk_full"))
        .args(args)
        .output()
        .expect("disk_full starts");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or_else(|| {
        panic!(
            "disk_full was killed: {:?}\n{stdout}\n{stderr}",
            output.status
        )
    });
    assert!(
        code == 0 || code == CANNOT_MOUNT,
        "disk_full failed with {code}\n{stdout}\n{stderr}"
    );
    let values = stdout
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
    (code, Outcome { values })
}

/// Indexes of the records whose message is `phase <index>`, in output order.
fn indexes(all: &[String], phase: &str) -> Vec<u64> {
    let start = format!("{phase} ");
    all.iter()
        .filter_map(|message| message.strip_prefix(&start))
        .map(|index| index.parse().expect("numeric index"))
        .collect()
}

/// Checks that `found` equals `expected`, naming the first position where they differ.
fn assert_indexes(found: &[u64], expected: &[u64], phase: &str) {
    let first_difference = found
        .iter()
        .zip(expected)
        .position(|(found, expected)| found != expected);
    assert!(
        first_difference.is_none() && found.len() == expected.len(),
        "{phase}: {} records found, {} expected, first difference at position {:?}",
        found.len(),
        expected.len(),
        first_difference
    );
}

/// Checks the outcome of a failure the logger recovered from, and the segments in `dir`.
fn check_recovery(outcome: &Outcome, dir: &Path, after: u64) {
    let logged = outcome.number("logged");
    let written = outcome.number("end_written");
    let dropped_count = outcome.number("end_dropped");
    let lost = outcome.number("end_lost");
    assert_eq!(logged, BEFORE + DURING + after);
    assert_eq!(
        written + dropped_count + lost,
        logged,
        "{:?}",
        outcome.values
    );
    assert_eq!(lost, 0, "nothing is lost once the write succeeds");
    assert!(dropped_count > 0, "the ring filled up during the failure");
    assert!(outcome.number("during_write_errors") >= 1);
    // Drops count while the write still fails, before any drop marker can be written.
    assert_eq!(outcome.number("during_dropped"), dropped_count);

    let decoded = decode_dir(dir);
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    assert_eq!(
        dropped(&decoded),
        dropped_count,
        "drop markers carry the count"
    );
    let all = messages(&decoded);
    assert_eq!(all.len() as u64, written);

    let before: Vec<u64> = (0..BEFORE).collect();
    assert_indexes(&indexes(&all, "before"), &before, "before");
    let after: Vec<u64> = (0..after).collect();
    assert_indexes(&indexes(&all, "after"), &after, "after");

    // Records before the first failed write were written, the next ones waited in the
    // ring until it was full, and the rest were dropped.
    let kept: Vec<u64> = (0..DURING - dropped_count).collect();
    assert_indexes(&indexes(&all, "during"), &kept, "during");
}

#[test]
fn file_size_limit_recovers_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (_, outcome) = run_child(&[Path::new("recover"), dir.path()]);
    check_recovery(&outcome, dir.path(), AFTER);
    // The first write of the failure phase already failed, holding its first record.
    assert_eq!(outcome.number("during_written"), BEFORE);

    // During the failure the file held only whole blocks: the partial write was cut off.
    let mut decoder = Decoder::new();
    let during_failure = std::fs::read(dir.path().join("during-failure.bin")).unwrap();
    let intact_len = during_failure.len();
    decoder.add_bytes("during-failure.bin", during_failure);
    let decoded = decoder.decode();
    assert_eq!(decoded.len() as u64, BEFORE);
    let damage = decoded.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert!(
        damage[0].message.contains("without an end marker"),
        "{damage:?}"
    );

    // The retried block went where the file was cut back to. The records of the failure
    // phase after it waited in the ring while writes failed.
    let files = segments(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let bytes = std::fs::read(&files[0]).unwrap();
    let retried = blocks_of(&bytes)
        .into_iter()
        .find(|block| block.offset == intact_len)
        .expect("a block starts where the file was cut back to");
    let mut decoder = Decoder::new();
    let up_to_retried = bytes[..retried.offset + retried.len].to_vec();
    decoder.add_bytes("up to the retried block", up_to_retried);
    let in_retried = indexes(&messages(&decoder.decode()), "during").len() as u64;
    let kept = DURING - outcome.number("end_dropped");
    assert!(
        kept > in_retried,
        "{kept} records of the failure were kept, all {in_retried} in the retried block"
    );
}

#[test]
fn stop_during_failure_counts_lost() {
    let dir = tempfile::tempdir().unwrap();
    let (_, outcome) = run_child(&[Path::new("give-up"), dir.path()]);

    let logged = outcome.number("logged");
    let written = outcome.number("end_written");
    let dropped_count = outcome.number("end_dropped");
    let lost = outcome.number("end_lost");
    assert_eq!(logged, BEFORE + DURING);
    assert_eq!(
        written + dropped_count + lost,
        logged,
        "{:?}",
        outcome.values
    );
    assert_eq!(written, BEFORE);
    assert_eq!(lost, DURING - dropped_count);
    assert!(lost > 0);
    assert!(outcome.number("end_write_errors") > outcome.number("during_write_errors"));

    // The file keeps its whole blocks and no partial one; only its end marker is missing.
    let decoded = decode_dir(dir.path());
    assert_eq!(decoded.len() as u64, BEFORE);
    assert!(decoded
        .events()
        .all(|event| matches!(event, Event::Record(_))));
    let damage = decoded.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert!(
        damage[0].message.contains("without an end marker"),
        "{damage:?}"
    );
}

#[test]
fn full_tmpfs_recovers_exactly() {
    let mount_point = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let (code, outcome) = run_child(&[Path::new("tmpfs"), mount_point.path(), out.path()]);
    if code == CANNOT_MOUNT {
        eprintln!(
            "SKIPPED full_tmpfs_recovers_exactly: this process may not mount a tmpfs ({}); \
             file_size_limit_recovers_exactly still covers failed writes",
            outcome.text("cannot_mount")
        );
        return;
    }
    assert!(
        outcome.text("fill_error").contains("No space left"),
        "{:?}",
        outcome.values
    );
    check_recovery(&outcome, out.path(), AFTER * 10);
    assert!(
        outcome.number("end_files_created") >= 3,
        "records after the failure span several 64 KiB files: {:?}",
        outcome.values
    );
}

#[test]
fn file_size_limit_below_file_size_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let (_, outcome) = run_child(&[Path::new("init-limit"), dir.path()]);
    let error = outcome.text("init_error");
    assert!(error.contains("invalid max_file_size 268435456"), "{error}");
    assert!(
        error.contains("at most 1048576 bytes (RLIMIT_FSIZE"),
        "{error}"
    );
    assert!(error.contains("raise the limit"), "{error}");
}
