//! A thousand short-lived threads each log and exit: every ring is released and no record is
//! lost.

use std::collections::HashSet;

use ulog::ulog;
use ulog_decode::Event;
use ulog_tests::TestLogger;

const THREADS: u32 = 1_000;
const RECORDS_PER_THREAD: u32 = 20;

#[test]
fn thousand_short_lived_threads() {
    let mut logger = TestLogger::start(|config| config.ring_capacity(16 << 10));

    // Run a few threads at a time, so that rings of exited threads are released while new
    // threads register.
    for batch in 0..THREADS / 10 {
        let workers: Vec<_> = (0..10)
            .map(|index| {
                let thread = batch * 10 + index;
                std::thread::Builder::new()
                    .name(format!("short-{thread}"))
                    .spawn(move || {
                        for sequence in 0..RECORDS_PER_THREAD {
                            ulog!(Debug, "short thread <> record <>", thread, sequence);
                        }
                    })
                    .unwrap()
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
    }

    ulog::flush();
    let stats = ulog::stats();
    assert_eq!(
        stats.active_threads, 0,
        "rings of exited threads were not released"
    );
    assert_eq!(stats.records_dropped, 0);
    assert_eq!(stats.records_unregistered, 0);

    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    let mut threads = HashSet::new();
    let mut records = 0;
    for event in decoded.events() {
        let Event::Record(record) = event else {
            panic!("unexpected drop marker");
        };
        threads.insert(record.thread_name().to_owned());
        records += 1;
    }
    assert_eq!(records, THREADS * RECORDS_PER_THREAD);
    assert_eq!(threads.len(), THREADS as usize);
}
