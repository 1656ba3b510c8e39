//! A drop marker must sit exactly where its records went missing: each marker's count equals
//! the jump in the thread's sequence numbers at that point of the decoded output.

use std::time::Duration;

use ulog::ulog;
use ulog_decode::Event;
use ulog_tests::TestLogger;

/// Records in the burst; a 4 KiB ring has room for far fewer of them.
const BURST: u64 = 2_000;

#[test]
fn drop_marker_sits_in_gap() {
    let mut logger = TestLogger::start(|config| config.ring_capacity(4096));
    ulog::prepare_thread();

    ulog!(Info, "before");
    std::thread::sleep(Duration::from_millis(20));
    for sequence in 0..BURST {
        ulog!(Info, "burst <> of padding text", sequence);
    }
    std::thread::sleep(Duration::from_millis(20));
    ulog!(Info, "after");

    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    let mut lines = Vec::new();
    for event in decoded.events() {
        match event {
            Event::Dropped(marker) => lines.push(format!("dropped {}", marker.count())),
            Event::Record(record) => lines.push(record.message()),
        }
    }

    assert_eq!(lines.first().map(String::as_str), Some("before"));
    assert_eq!(lines.last().map(String::as_str), Some("after"));
    let mut expected = 0u64;
    let mut dropped = 0u64;
    for line in &lines[1..lines.len() - 1] {
        if let Some(count) = line.strip_prefix("dropped ") {
            let count: u64 = count.parse().unwrap();
            expected += count;
            dropped += count;
            continue;
        }
        let sequence: u64 = line
            .strip_prefix("burst ")
            .and_then(|rest| rest.split(' ').next())
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("unexpected line {line:?} in {lines:?}"));
        assert_eq!(
            sequence, expected,
            "record {sequence} where {expected} was due: a drop marker is missing or misplaced"
        );
        expected += 1;
    }
    assert_eq!(
        expected, BURST,
        "the burst ends with its last record or a marker"
    );
    assert!(dropped > 0, "a 4 KiB ring must drop part of the burst");
}
