//! Eight threads log a million records each: every record is decoded exactly once, each
//! thread's records keep their order, and logged = decoded + dropped, exactly.

use std::collections::HashMap;

use ulog::ulog;
use ulog_decode::{ArgValue, Event};
use ulog_tests::TestLogger;

#[test]
fn eight_threads_million_records_each() {
    // A record here takes at most 32 bytes of ring, so 32 MiB fits a thread's whole output
    // and nearly nothing should drop even when the backend gets little CPU.
    let drops = log_and_check(8, 1_000_000, 32 << 20, false);
    assert!(drops < 1_000_000, "{drops} of 8000000 records dropped");
}

#[test]
fn small_rings_drop_and_count_exactly() {
    log_and_check(4, 200_000, 4 << 10, false);
}

#[test]
fn busy_polling_counts_exactly() {
    log_and_check(2, 200_000, 64 << 10, true);
}

/// Logs `records_per_thread` from each of `threads` threads and checks the decoded output.
/// Returns the records dropped.
fn log_and_check(
    threads: u32,
    records_per_thread: u64,
    ring_capacity: usize,
    busy_poll: bool,
) -> u64 {
    let mut logger =
        TestLogger::start(|config| config.ring_capacity(ring_capacity).busy_poll(busy_poll));
    let before = ulog::stats();

    let workers: Vec<_> = (0..threads)
        .map(|thread| {
            std::thread::Builder::new()
                .name(format!("producer-{thread}"))
                .spawn(move || {
                    for sequence in 0..records_per_thread {
                        ulog!(Info, "producer <> record <>", thread, sequence);
                    }
                })
                .unwrap()
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());

    let mut last_sequence: HashMap<u32, u64> = HashMap::new();
    let mut decoded_per_thread: HashMap<u32, u64> = HashMap::new();
    let mut dropped_per_thread: HashMap<String, u64> = HashMap::new();
    let mut previous_ts = i64::MIN;
    for event in decoded.events() {
        assert!(event.ts_ns() >= previous_ts, "output is not in time order");
        previous_ts = event.ts_ns();
        match event {
            Event::Record(record) => {
                let args = record.args();
                let (ArgValue::U32(thread), ArgValue::U64(sequence)) = (&args[0].1, &args[1].1)
                else {
                    panic!("unexpected arguments {args:?}");
                };
                assert_eq!(record.thread_name(), format!("producer-{thread}"));
                if let Some(&last) = last_sequence.get(thread) {
                    assert!(
                        *sequence > last,
                        "thread {thread}: record {sequence} after {last}"
                    );
                }
                last_sequence.insert(*thread, *sequence);
                *decoded_per_thread.entry(*thread).or_default() += 1;
            }
            Event::Dropped(marker) => {
                *dropped_per_thread
                    .entry(marker.thread_name().to_owned())
                    .or_default() += marker.count();
            }
        }
    }

    let after = ulog::stats();
    for thread in 0..threads {
        let decoded = decoded_per_thread.get(&thread).copied().unwrap_or(0);
        let dropped = dropped_per_thread
            .get(&format!("producer-{thread}"))
            .copied()
            .unwrap_or(0);
        assert_eq!(
            decoded + dropped,
            records_per_thread,
            "thread {thread}: {decoded} decoded + {dropped} dropped"
        );
    }
    let total_decoded: u64 = decoded_per_thread.values().sum();
    let total_dropped: u64 = dropped_per_thread.values().sum();
    eprintln!("{total_decoded} records decoded, {total_dropped} dropped");
    assert_eq!(
        total_decoded,
        after.records_written - before.records_written
    );
    assert_eq!(
        total_dropped,
        after.records_dropped - before.records_dropped
    );
    assert_eq!(
        total_decoded + total_dropped,
        u64::from(threads) * records_per_thread
    );
    total_dropped
}
