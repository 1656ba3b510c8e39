//! Every record a thread logs is accounted for exactly: for each thread and in total,
//! records logged = records written + records dropped, and the decoded files agree. Under
//! `Overflow::Block`, nothing that fits in the ring is dropped.

use std::collections::BTreeMap;

use ulog::{ulog, Overflow, ThreadStats};
use ulog_tests::{check_sequences, SequenceSummary, TestLogger};

/// Maximum note length, in bytes; longer than a 4 KiB ring, so such records never fit.
const OVERSIZE: usize = 5_000;

/// One logging thread of a case.
#[derive(Clone, Copy)]
struct Worker {
    records: u64,
    /// The thread's override of the default policy.
    policy: Option<Overflow>,
    /// Maximum note length of an ordinary record, in bytes.
    max_note: usize,
    /// Every this many records, one carries an [`OVERSIZE`] note; 0 for never.
    oversize_every: u64,
}

struct Case {
    name: &'static str,
    ring_capacity: usize,
    default: Overflow,
    workers: &'static [Worker],
}

const fn worker(records: u64, policy: Option<Overflow>, max_note: usize) -> Worker {
    Worker {
        records,
        policy,
        max_note,
        oversize_every: 0,
    }
}

const fn oversize(mut worker: Worker, every: u64) -> Worker {
    worker.oversize_every = every;
    worker
}

const CASES: &[Case] = &[
    Case {
        name: "drop-tiny-ring",
        ring_capacity: 4 << 10,
        default: Overflow::Drop,
        workers: &[
            oversize(worker(20_000, None, 64), 97),
            oversize(worker(20_000, None, 300), 89),
            worker(20_000, None, 16),
        ],
    },
    Case {
        name: "block-tiny-ring",
        ring_capacity: 4 << 10,
        default: Overflow::Block,
        // Notes up to 3000 bytes are longer than half the ring, so some fit only after the
        // producer moves an empty ring back to offset 0.
        workers: &[
            worker(5_000, None, 3_000),
            worker(5_000, None, 64),
            worker(5_000, None, 0),
        ],
    },
    Case {
        name: "overrides",
        ring_capacity: 16 << 10,
        default: Overflow::Block,
        workers: &[
            oversize(worker(10_000, Some(Overflow::Drop), 200), 50),
            worker(10_000, Some(Overflow::Drop), 2_000),
            worker(10_000, None, 2_000),
            worker(10_000, Some(Overflow::Block), 200),
        ],
    },
    Case {
        name: "drop-default-ring",
        ring_capacity: 1 << 20,
        default: Overflow::Drop,
        workers: &[
            worker(20_000, None, 40),
            worker(20_000, Some(Overflow::Block), 40),
        ],
    },
];

/// Logs the worker's records with `seq` from 0; returns its stats name.
fn log_records(case: &str, index: usize, worker: Worker) -> String {
    let name = format!("{case}-{index}");
    let notes = "n".repeat(OVERSIZE);
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            ulog::set_thread_overflow(worker.policy);
            for seq in 0..worker.records {
                let oversize = worker.oversize_every > 0 && seq % worker.oversize_every == 0;
                let len = if oversize {
                    OVERSIZE
                } else {
                    (seq as usize * 37) % (worker.max_note + 1)
                };
                ulog!(
                    Info,
                    "worker <> seq <> note <>",
                    index,
                    seq,
                    note = &notes[..len]
                );
            }
        })
        .unwrap()
        .join()
        .unwrap();
    name
}

fn run_case(case: &Case) {
    let mut logger = TestLogger::start(|config| {
        config
            .ring_capacity(case.ring_capacity)
            .overflow(case.default)
    });
    // Taken while this test owns the logger, so no other test's records count.
    let before = ulog::stats();
    let names: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = case
            .workers
            .iter()
            .enumerate()
            .map(|(index, &worker)| scope.spawn(move || log_records(case.name, index, worker)))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    let decoded = logger.finish();
    let after = ulog::stats();
    assert!(decoded.is_clean(), "{}: {:?}", case.name, decoded.damage());

    let by_name: BTreeMap<&str, &ThreadStats> = after
        .threads
        .iter()
        .map(|thread| (thread.name.as_str(), thread))
        .collect();
    let sequences =
        check_sequences(&decoded).unwrap_or_else(|error| panic!("{}: {error}", case.name));

    let calls: u64 = case.workers.iter().map(|worker| worker.records).sum();
    for (worker, name) in case.workers.iter().zip(&names) {
        let stats = by_name
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} missing from {:?}", after.threads));
        let decoded = sequences.get(name).copied().unwrap_or_default();
        let context = format!("{name}: {stats:?}, decoded {decoded:?}");

        assert_eq!(stats.records_logged, worker.records, "{context}");
        assert_eq!(
            stats.records_logged,
            stats.records_written + stats.records_dropped,
            "{context}"
        );
        assert_eq!(stats.records_lost_io, 0, "{context}");
        assert!(!stats.active, "{context}");
        assert_eq!(decoded.records, stats.records_written, "{context}");
        assert_eq!(decoded.dropped, stats.records_dropped, "{context}");
        // Drops after the last written record show as markers, not as gaps.
        assert_eq!(
            decoded.gaps + (worker.records - decoded.next),
            decoded.dropped,
            "{context}"
        );
        if stats.records_written > 0 {
            assert!(stats.bytes_written > 0, "{context}");
        }

        let oversized = if worker.oversize_every > 0 {
            worker.records.div_ceil(worker.oversize_every)
        } else {
            0
        };
        let policy = worker.policy.unwrap_or(case.default);
        match policy {
            Overflow::Block => assert_eq!(stats.records_dropped, oversized, "{context}"),
            Overflow::Drop => assert!(stats.records_dropped >= oversized, "{context}"),
        }
        if policy == Overflow::Block && oversized == 0 {
            assert_eq!(
                decoded,
                SequenceSummary {
                    records: worker.records,
                    dropped: 0,
                    gaps: 0,
                    next: worker.records,
                },
                "{context}"
            );
        }
    }

    let delta = |field: fn(&ulog::Stats) -> u64| field(&after) - field(&before);
    let logged = delta(|stats| stats.records_logged);
    let written = delta(|stats| stats.records_written);
    let dropped = delta(|stats| stats.records_dropped);
    assert_eq!(logged, calls, "{}: {after:?}", case.name);
    assert_eq!(written + dropped, calls, "{}: {after:?}", case.name);
    assert_eq!(delta(|stats| stats.records_unregistered), 0);
    assert_eq!(delta(|stats| stats.records_lost_io), 0);
    let per_thread_bytes: u64 = after
        .threads
        .iter()
        .map(|thread| thread.bytes_written)
        .sum();
    assert!(per_thread_bytes <= delta(|stats| stats.bytes_written));
    println!(
        "{}: {calls} logged, {written} written, {dropped} dropped",
        case.name
    );
}

#[test]
fn logged_equals_written_plus_dropped() {
    for case in CASES {
        run_case(case);
    }
}

/// Stats list each thread with its id and name while the logger runs, and a drained thread
/// is counted before the guard is dropped.
#[test]
fn stats_list_running_threads() {
    let mut logger = TestLogger::start(|config| config);
    let (ready_sender, ready) = std::sync::mpsc::channel();
    let (stop, stop_receiver) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::Builder::new()
        .name("stats-live".into())
        .spawn(move || {
            for seq in 0..100u64 {
                ulog!(Info, "live seq <>", seq);
            }
            ready_sender.send(()).unwrap();
            stop_receiver.recv().unwrap();
        })
        .unwrap();
    ready.recv().unwrap();
    ulog::flush();

    let stats = ulog::stats();
    let live = stats
        .threads
        .iter()
        .find(|thread| thread.name == "stats-live")
        .unwrap_or_else(|| panic!("{:?}", stats.threads));
    assert!(live.active);
    assert!(live.id > 0);
    assert_eq!(live.records_logged, 100);
    assert_eq!(live.records_written, 100);
    assert_eq!(live.records_dropped, 0);
    assert!(live.bytes_written > 0);
    assert!(stats.records_logged >= 100);

    stop.send(()).unwrap();
    worker.join().unwrap();
    let decoded = logger.finish();
    let ids: Vec<u32> = decoded
        .events()
        .filter(|event| event.thread_name() == "stats-live")
        .map(|event| match event {
            ulog_decode::Event::Record(record) => record.thread_id(),
            ulog_decode::Event::Dropped(marker) => marker.thread_id(),
        })
        .collect();
    assert_eq!(ids.len(), 100);
    assert!(
        ids.iter().all(|&id| id == live.id),
        "ids {ids:?} vs {}",
        live.id
    );
}
