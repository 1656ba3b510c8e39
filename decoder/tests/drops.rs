//! Drop markers appear in the stream at the time of the thread's previous record.

mod common;

use common::{decode, simple, text, START_NS};
use ulog_decode::Event;
use ulog_schema::record::ArgValue;

fn events(decoded: &ulog_decode::Decoded) -> Vec<(i64, String)> {
    decoded
        .events()
        .map(|event| match event {
            Event::Record(record) => (event.ts_ns(), record.message()),
            Event::Dropped(marker) => (event.ts_ns(), format!("dropped {}", marker.count())),
        })
        .collect()
}

#[test]
fn marker_follows_previous_record() {
    let mut segment = simple();
    segment.thread(2, "other");
    segment.record(1, 1, 10, &[ArgValue::U64(1)]);
    segment.record(1, 2, 15, &[ArgValue::U64(2)]);
    segment.drops(1, 1234);
    segment.record(1, 1, 20, &[ArgValue::U64(3)]);
    let decoded = decode(&[segment.finish()]);
    let start = START_NS as i64;
    let expected = [
        (start + 10, "n=1".to_owned()),
        (start + 10, "dropped 1234".to_owned()),
        (start + 15, "n=2".to_owned()),
        (start + 20, "n=3".to_owned()),
    ];
    assert_eq!(events(&decoded), expected);
}

#[test]
fn marker_without_record_uses_file_start() {
    let mut segment = simple();
    segment.drops(1, 5);
    let decoded = decode(&[segment.finish()]);
    assert_eq!(
        events(&decoded),
        [(START_NS as i64, "dropped 5".to_owned())]
    );
}

#[test]
fn marker_renders_as_warning_line() {
    let mut segment = simple();
    segment.drops(1, 1234);
    let decoded = decode(&[segment.finish()]);
    assert_eq!(
        text(&decoded),
        "2026-12-04T19:12:39.000000000Z WARN  main ulog: 1234 records dropped on thread main: \
         its buffer was full\n"
    );
}

#[test]
fn marker_for_unknown_thread_is_damage() {
    let mut segment = simple();
    segment.drops(9, 1);
    let decoded = decode(&[segment.finish()]);
    assert!(decoded.damage()[0].message.contains("thread 9"));
}
