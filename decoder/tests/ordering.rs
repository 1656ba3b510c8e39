//! Output is ordered by time across threads, and each thread keeps its own order.

mod common;

use common::{decode, header, messages, Segment, PID};
use ulog_schema::record::ArgValue;
use ulog_schema::{ArgKind, Level};

/// Starts a segment with threads `a` (1) and `b` (2) and a site (1) printing a `str` argument.
fn two_threads(file_sequence: u32) -> Segment {
    let mut segment = Segment::with_header(&header(PID, file_sequence));
    segment.thread(1, "a").thread(2, "b").site(
        1,
        Level::Info,
        "app",
        "<>",
        &[(ArgKind::Str, "tag")],
    );
    segment
}

fn record(segment: &mut Segment, thread: u32, ticks: u64, tag: &str) {
    segment.record(1, thread, ticks, &[ArgValue::Str(tag.into())]);
}

#[test]
fn threads_interleave_by_time() {
    let mut segment = two_threads(0);
    record(&mut segment, 1, 10, "a10");
    record(&mut segment, 1, 30, "a30");
    record(&mut segment, 2, 20, "b20");
    let decoded = decode(&[segment.finish()]);
    assert_eq!(messages(&decoded), ["a10", "b20", "a30"]);
}

#[test]
fn ties_go_by_thread_then_sequence() {
    let mut segment = two_threads(0);
    record(&mut segment, 1, 10, "a1");
    record(&mut segment, 2, 20, "b1");
    record(&mut segment, 1, 20, "a2");
    record(&mut segment, 2, 15, "b2");
    record(&mut segment, 1, 20, "a3");
    let decoded = decode(&[segment.finish()]);
    // At time 20, thread a (defined first) comes before thread b, each in its own order;
    // b2 rises from 15 to its thread's previous 20.
    assert_eq!(messages(&decoded), ["a1", "a2", "a3", "b1", "b2"]);
}

#[test]
fn backward_clock_keeps_thread_order() {
    let mut segment = two_threads(0);
    record(&mut segment, 1, 50, "a1");
    record(&mut segment, 1, 10, "a2");
    record(&mut segment, 2, 30, "b1");
    let decoded = decode(&[segment.finish()]);
    assert_eq!(messages(&decoded), ["b1", "a1", "a2"]);
}

#[test]
fn backward_time_rises_to_previous() {
    let mut segment = two_threads(0);
    record(&mut segment, 1, 50, "a1");
    record(&mut segment, 1, 10, "a2");
    let decoded = decode(&[segment.finish()]);
    let times: Vec<i64> = decoded.events().map(|event| event.ts_ns()).collect();
    assert_eq!(times[0], times[1]);
}

#[test]
fn rotated_files_keep_thread_order() {
    let mut first = two_threads(0);
    record(&mut first, 1, 100, "first");
    let mut second = two_threads(1);
    record(&mut second, 1, 90, "second");
    let decoded = decode(&[second.finish(), first.finish()]);
    assert_eq!(messages(&decoded), ["first", "second"]);
}

#[test]
fn rotated_files_share_thread_identity() {
    let mut first = two_threads(0);
    record(&mut first, 1, 100, "first");
    let mut second = two_threads(1);
    record(&mut second, 1, 90, "second");
    let decoded = decode(&[first.finish(), second.finish()]);
    let ids: Vec<(u32, u32)> = decoded
        .events()
        .map(|event| match event {
            ulog_decode::Event::Record(record) => (record.pid(), record.thread_id()),
            ulog_decode::Event::Dropped(_) => unreachable!(),
        })
        .collect();
    assert_eq!(ids, [(PID, 1), (PID, 1)]);
}

#[test]
fn other_process_threads_are_independent() {
    let mut first = two_threads(0);
    record(&mut first, 1, 100, "pid1");
    let mut other = Segment::with_header(&header(PID + 1, 0));
    other
        .thread(1, "a")
        .site(1, Level::Info, "app", "<>", &[(ArgKind::Str, "tag")]);
    record(&mut other, 1, 90, "pid2");
    let decoded = decode(&[first.finish(), other.finish()]);
    assert_eq!(messages(&decoded), ["pid2", "pid1"]);
}

#[test]
fn clock_entry_changes_later_times() {
    let mut segment = two_threads(0);
    record(&mut segment, 1, 10, "before");
    segment.clock(1_000, common::START_NS + 5_000_000_000, 1_000);
    record(&mut segment, 1, 1_001, "after");
    let decoded = decode(&[segment.finish()]);
    let times: Vec<i64> = decoded.events().map(|event| event.ts_ns()).collect();
    let start = common::START_NS as i64;
    assert_eq!(times, [start + 10, start + 5_001_000_000]);
}

#[test]
fn same_file_twice_on_disk_is_read_once() {
    let mut segment = two_threads(0);
    record(&mut segment, 1, 10, "once");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.ulog");
    std::fs::write(&path, segment.finish()).unwrap();
    let inputs = [
        ulog_decode::Input::Path(path.clone()),
        ulog_decode::Input::Path(dir.path().to_path_buf()),
    ];
    let decoded = ulog_decode::decode_paths(&inputs).unwrap();
    assert_eq!(messages(&decoded), ["once"]);
}

#[test]
fn resync_stepping_back_never_moves_a_thread_back() {
    let mut segment = two_threads(0);
    record(&mut segment, 1, 1_000, "a1");
    record(&mut segment, 2, 1_500, "b1");
    // From tick 2_000 on, the clock reads 1.5 µs earlier than the header's anchor gave.
    segment.clock(2_000, common::START_NS + 500, 1_000_000_000);
    record(&mut segment, 1, 2_000, "a2");
    record(&mut segment, 2, 2_100, "b2");
    let decoded = decode(&[segment.finish()]);
    let start = common::START_NS as i64;
    let times: Vec<i64> = decoded
        .events()
        .map(|event| event.ts_ns() - start)
        .collect();
    assert_eq!(messages(&decoded), ["a1", "a2", "b1", "b2"]);
    assert_eq!(times, [1_000, 1_000, 1_500, 1_500]);
}

#[test]
fn fraction_stays_in_range_around_resyncs() {
    let mut segment = two_threads(0);
    segment.clock(1_000, 500, 1_000_000_000);
    record(&mut segment, 1, 0, "before the epoch");
    segment.clock(10, 1_999_999_999, 1_000_000_000);
    record(&mut segment, 2, 10, "last nanosecond");
    record(&mut segment, 2, 11, "next second");
    let decoded = decode(&[segment.finish()]);

    let mut text = Vec::new();
    ulog_decode::write_text(&decoded, &mut text).unwrap();
    let times: Vec<String> = String::from_utf8(text)
        .unwrap()
        .lines()
        .map(|line| line[..30].to_owned())
        .collect();
    assert_eq!(
        times,
        [
            "1969-12-31T23:59:59.999999500Z",
            "1970-01-01T00:00:01.999999999Z",
            "1970-01-01T00:00:02.000000000Z",
        ]
    );
}
