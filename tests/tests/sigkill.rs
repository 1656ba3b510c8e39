//! A child process logs numbered records from three threads and is killed with SIGKILL at a
//! random moment, many times over. Each time, every block written before the kill decodes.
//! Each thread's records are a prefix of its sequence, with gaps only where drop markers
//! account for them. The decoder reports the torn tail of the newest file at its offset.
//!
//! The kill times come from a seeded generator; the seed is printed, and setting
//! `ULOG_KILL_SEED` to it replays the same kill times and policies.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ulog_decode::Decoder;
use ulog_tests::{check_sequences, intact_prefix, ChildProcess};

const CHILD: &str = env!("CARGO_BIN_EXE_crash_child");

/// Kills per run of the test.
const KILLS: u32 = 60;

/// Maximum wait between the child's `ready` line and the kill.
const MAX_DELAY_MICROS: u64 = 60_000;

/// SplitMix64: a small, well-mixed generator, enough for kill times.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn seed() -> u64 {
    match std::env::var("ULOG_KILL_SEED") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("invalid ULOG_KILL_SEED {text:?}: give a whole number")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
    }
}

#[test]
fn random_sigkills_leave_decodable_prefixes() {
    let seed = seed();
    println!("sigkill seed {seed}: rerun with ULOG_KILL_SEED={seed}");
    let mut random = Random(seed);
    let mut torn = 0;
    let mut records = 0;
    for kill in 0..KILLS {
        let block = random.next() % 2 == 0;
        let ring = if random.next() % 2 == 0 {
            4 << 10
        } else {
            64 << 10
        };
        let delay = Duration::from_micros(random.next() % MAX_DELAY_MICROS);
        let outcome = std::panic::catch_unwind(|| kill_and_check(block, ring, delay));
        match outcome {
            Ok((kill_torn, kill_records)) => {
                torn += u32::from(kill_torn);
                records += kill_records;
            }
            Err(panic) => {
                eprintln!(
                    "sigkill seed {seed}, kill {kill}: policy {}, ring {ring}, delay {delay:?} \
                     failed",
                    if block { "block" } else { "drop" }
                );
                std::panic::resume_unwind(panic);
            }
        }
    }
    println!("{KILLS} kills: {torn} cut a block, {records} records decoded");
}

/// Runs one child, kills it after `delay`, and checks what it left. Returns whether the
/// newest file ended in a cut block, and the records decoded.
fn kill_and_check(block: bool, ring: usize, delay: Duration) -> (bool, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let policy = if block { "block" } else { "drop" };
    let mut child = ChildProcess::spawn(CHILD, &["kill-loop", path, &ring.to_string(), policy]);
    child.wait_for_line("ready");
    std::thread::sleep(delay);
    child.signal(libc::SIGKILL);
    let exit = child.wait(Duration::from_secs(30));
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&exit.status),
        Some(libc::SIGKILL)
    );

    let files = segment_files(dir.path());
    assert!(!files.is_empty(), "no segment file in {path}");
    let mut decoder = Decoder::new();
    let mut expected_records = 0;
    let mut expected_damage = Vec::new();
    let mut torn = false;
    let newest = files.len() - 1;
    for (index, file) in files.iter().enumerate() {
        let bytes = std::fs::read(file).unwrap();
        let name = file.display().to_string();
        match intact_prefix(&bytes) {
            Some((blocks, end)) => {
                expected_records += blocks.iter().map(|block| block.records).sum::<usize>();
                if index == newest {
                    if end < bytes.len() {
                        torn = true;
                        expected_damage.push((name.clone(), end as u64));
                    }
                    expected_damage.push((name.clone(), bytes.len() as u64));
                }
            }
            // Killed before the header was written whole.
            None => {
                assert_eq!(index, newest, "{name}: header damaged in an older file");
                torn = true;
                expected_damage.push((name.clone(), 0));
            }
        }
        decoder.add_bytes(name, bytes);
    }
    let decoded = decoder.decode();

    let damage: Vec<(String, u64)> = decoded
        .damage()
        .iter()
        .map(|damage| (damage.path.clone(), damage.offset))
        .collect();
    let newest_closed = expected_damage.len() == 1 && !torn && ends_with_end_marker(&decoded);
    if newest_closed {
        // Killed after the newest file's end marker, before the next file was created.
        expected_damage.clear();
    }
    assert_eq!(damage, expected_damage, "{:?}", decoded.damage());

    let sequences = check_sequences(&decoded).unwrap_or_else(|error| panic!("{error}"));
    let decoded_records: u64 = sequences.values().map(|summary| summary.records).sum();
    assert_eq!(decoded_records as usize, expected_records);
    for (thread, summary) in &sequences {
        assert!(thread.starts_with("worker-"), "unexpected thread {thread}");
        if block {
            assert_eq!(summary.dropped, 0, "{thread}: {summary:?}");
            assert_eq!(summary.gaps, 0, "{thread}: {summary:?}");
        }
    }
    (torn, expected_records)
}

/// Returns whether the decoder found no missing end marker, for a newest file that was
/// closed whole.
fn ends_with_end_marker(decoded: &ulog_decode::Decoded) -> bool {
    !decoded
        .damage()
        .iter()
        .any(|damage| damage.message.contains("without an end marker"))
}

fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "ulog")
        })
        .collect();
    // Names end in the file's sequence number, so name order is creation order.
    files.sort();
    files
}
