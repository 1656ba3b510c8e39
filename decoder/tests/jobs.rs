//! Output does not depend on the number of jobs: the same inputs give the same bytes on
//! standard output and the same damage reports, in the same order, for every `--jobs`.
//!
//! The inputs are a set of rotated files from two process runs, with several threads, clock
//! re-syncs that step back, drop markers and equal timestamps, and enough records that output
//! renders in many chunks. Two files are damaged: one has a corrupted block, and one is cut
//! short.

mod common;

use std::num::NonZeroUsize;
use std::path::Path;
use std::process::{Command, Output};

use common::{header, Segment, START_NS};
use ulog_decode::{write_json_parallel, write_text_parallel, Decoder};
use ulog_schema::record::ArgValue;
use ulog_schema::{ArgKind, Level};

/// Records per thread and file: three threads and three files give more than a parallel
/// chunk of events in every file.
const RECORDS: u64 = 9_000;

/// Starts a file of process `pid` with threads 1 to 3 and three call sites.
fn start(pid: u32, file_sequence: u32) -> Segment {
    let mut segment = Segment::with_header(&header(pid, file_sequence));
    define(&mut segment);
    segment
}

/// Defines the threads and sites again, as a writer does in every block that uses them.
fn define(segment: &mut Segment) {
    segment
        .thread(1, "market-data")
        .thread(2, "strategy")
        .thread(3, "order \"router\"")
        .site(
            1,
            Level::Info,
            "app::md",
            "quote <> bid <:.2> x <>",
            &[
                (ArgKind::Str, "symbol"),
                (ArgKind::F64, "bid"),
                (ArgKind::U32, "size"),
            ],
        )
        .site(
            2,
            Level::Warn,
            "app::strategy",
            "score <:+.3> edge <>bp",
            &[(ArgKind::F64, "score"), (ArgKind::F32, "edge")],
        )
        .site(
            3,
            Level::Error,
            "app::router",
            "fill <> @ <> note=<:?>",
            &[
                (ArgKind::U64, "order"),
                (ArgKind::F64, "px"),
                (ArgKind::Str, "note"),
            ],
        );
}

/// Returns the arguments of record `index` of `site`.
fn values(site: u32, index: u64) -> Vec<ArgValue<'static>> {
    const SYMBOLS: [&str; 3] = ["AAPL", "MSFT", "tab\tand \"quote\""];
    match site {
        1 => vec![
            ArgValue::Str(SYMBOLS[(index % 3) as usize].into()),
            ArgValue::F64(101.25 + (index % 97) as f64 * 0.01),
            ArgValue::U32((index * 7 % 1000) as u32),
        ],
        2 => vec![
            ArgValue::F64((index % 2001) as f64 / 1000.0 - 1.0),
            ArgValue::F32((index % 50) as f32 * 0.5),
        ],
        _ => vec![
            ArgValue::U64(1 << 60 | index),
            ArgValue::F64(1e-7 * index as f64),
            ArgValue::Str(if index % 5 == 0 { "new\nline" } else { "" }.into()),
        ],
    }
}

/// Fills `segment` with runs of every thread, `RECORDS` records each, starting at `base`
/// nanoseconds. Thread 1 and 2 share timestamps, thread 3 lags by 5 ns, and a clock
/// re-sync in the middle steps back by 2 ms.
fn fill(segment: &mut Segment, base: u64) {
    let half = RECORDS / 2;
    for (from, to) in [(0, half), (half, RECORDS)] {
        if from == half {
            segment.block();
            define(segment);
            // From here on, tick `base + half * 100` is 2 ms earlier than before.
            let ticks = base + half * 100;
            segment.clock(ticks, START_NS + ticks - 2_000_000, 1_000_000_000);
        }
        for thread in 1..=3u32 {
            let records: Vec<(u32, u64, Vec<ArgValue<'static>>)> = (from..to)
                .map(|index| {
                    let lag = if thread == 3 { 5 } else { 0 };
                    (thread, base + index * 100 + lag, values(thread, index))
                })
                .collect();
            segment.run(thread, &records);
        }
        segment.drops(2, from + 3);
    }
}

/// Writes the segment set into `dir`: process 100 in three rotated files, the middle one
/// with a corrupted block, and process 200 in one file that is cut short.
fn write_inputs(dir: &Path) {
    let mut files = Vec::new();
    for sequence in 0..3 {
        let mut segment = start(100, sequence);
        fill(&mut segment, u64::from(sequence) * RECORDS * 100);
        files.push(segment.finish());
    }
    let middle = &mut files[1];
    let at = middle.len() / 2;
    middle[at] ^= 0x55;

    let mut other = start(200, 0);
    fill(&mut other, 50);
    let mut cut = other.finish();
    cut.truncate(cut.len() - 40);
    files.push(cut);

    for (index, bytes) in files.iter().enumerate() {
        std::fs::write(dir.join(format!("seg-{index}.ulog")), bytes).unwrap();
    }
}

fn jobs(count: usize) -> NonZeroUsize {
    NonZeroUsize::new(count).unwrap()
}

#[test]
fn library_output_ignores_jobs() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());

    let render = |count: usize| {
        let mut decoder = Decoder::new();
        decoder
            .add_input(&ulog_decode::Input::Path(dir.path().to_path_buf()))
            .unwrap();
        let decoded = decoder.decode_parallel(jobs(count));
        let mut text = Vec::new();
        write_text_parallel(&decoded, &mut text, jobs(count)).unwrap();
        let mut json = Vec::new();
        write_json_parallel(&decoded, &mut json, jobs(count)).unwrap();
        let damage: Vec<String> = decoded.damage().iter().map(ToString::to_string).collect();
        (decoded.len(), text, json, damage)
    };

    let (events, text, json, damage) = render(1);
    assert!(events > 50_000, "only {events} events");
    assert!(damage.len() >= 2, "{damage:?}");
    for count in [2, 3, 8] {
        let (other_events, other_text, other_json, other_damage) = render(count);
        assert_eq!(other_events, events, "{count} jobs");
        assert!(other_text == text, "text differs with {count} jobs");
        assert!(other_json == json, "JSON differs with {count} jobs");
        assert_eq!(other_damage, damage, "{count} jobs");
    }
}

fn run_cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ulog-decode"))
        .args(args)
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn cli_output_and_damage_ignore_jobs() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());

    for format in ["text", "json"] {
        let single = run_cli(dir.path(), &["--format", format, "--jobs", "1"]);
        assert_eq!(single.status.code(), Some(1), "damaged input exits with 1");
        let stderr = String::from_utf8(single.stderr.clone()).unwrap();
        assert!(stderr.contains("seg-1.ulog"), "{stderr}");
        assert!(stderr.contains("seg-3.ulog"), "{stderr}");
        for count in ["2", "4"] {
            let parallel = run_cli(dir.path(), &["--format", format, "-j", count]);
            assert_eq!(parallel.status.code(), Some(1), "{format}, {count} jobs");
            assert!(
                parallel.stdout == single.stdout,
                "{format} output differs with {count} jobs"
            );
            assert_eq!(
                String::from_utf8(parallel.stderr).unwrap(),
                stderr,
                "{format}, {count} jobs"
            );
        }
    }
}

#[test]
fn each_thread_keeps_non_decreasing_times_across_resyncs() {
    let dir = tempfile::tempdir().unwrap();
    write_inputs(dir.path());
    let decoded =
        ulog_decode::decode_paths(&[ulog_decode::Input::Path(dir.path().to_path_buf())]).unwrap();

    let mut latest = std::collections::HashMap::new();
    let mut previous = (i64::MIN, (0, 0));
    for event in decoded.events() {
        let (ts_ns, thread) = match &event {
            ulog_decode::Event::Record(record) => {
                (record.ts_ns(), (record.pid(), record.thread_id()))
            }
            ulog_decode::Event::Dropped(marker) => {
                (marker.ts_ns(), (marker.pid(), marker.thread_id()))
            }
        };
        let last = latest.insert(thread, ts_ns).unwrap_or(i64::MIN);
        assert!(
            ts_ns >= last,
            "thread {thread:?} went back from {last} to {ts_ns}"
        );
        assert!(
            ts_ns >= previous.0,
            "stream went back from {previous:?} to {ts_ns}"
        );
        previous = (ts_ns, thread);
    }
}
