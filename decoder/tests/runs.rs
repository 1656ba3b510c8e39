//! RUN entries (format 1.1): records decode as RECORD entries do, and damage inside a run
//! costs the rest of that run only, reported at the damaged record's byte offset.

mod common;

use common::{decode, messages, simple, Segment};
use ulog_schema::entry;
use ulog_schema::record::ArgValue;
use ulog_schema::{ArgKind, Level};

fn n(value: u64) -> Vec<ArgValue<'static>> {
    vec![ArgValue::U64(value)]
}

/// Starts a file with thread 1 (`main`), thread 2 (`feed`), site 1 `n=<>` and site 2
/// `fill <> @ <:.2> on <>`.
fn two_threads() -> Segment {
    let mut segment = simple();
    segment.thread(2, "feed").site(
        2,
        Level::Info,
        "app",
        "fill <> @ <:.2> on <>",
        &[
            (ArgKind::U64, "qty"),
            (ArgKind::F64, "px"),
            (ArgKind::Str, "venue"),
        ],
    );
    segment
}

fn fill(qty: u64, px: f64) -> Vec<ArgValue<'static>> {
    vec![
        ArgValue::U64(qty),
        ArgValue::F64(px),
        ArgValue::Str("XNAS".into()),
    ]
}

#[test]
fn runs_and_records_decode_in_time_order() {
    let mut segment = two_threads();
    segment
        .run(
            1,
            &[(1, 10, n(0)), (1, 30, n(1)), (2, 50, fill(300, 101.25))],
        )
        .run(2, &[(2, 20, fill(100, 0.1)), (1, 40, n(2))])
        .record(1, 1, 60, &[ArgValue::U64(3)])
        .run(1, &[(1, 70, n(4))]);
    let decoded = decode(&[segment.finish()]);
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    assert_eq!(
        messages(&decoded),
        [
            "n=0",
            "fill 100 @ 0.10 on XNAS",
            "n=1",
            "n=2",
            "fill 300 @ 101.25 on XNAS",
            "n=3",
            "n=4"
        ]
    );
    let times: Vec<i64> = decoded.events().map(|event| event.ts_ns()).collect();
    let start = common::START_NS as i64;
    assert_eq!(
        times,
        [10, 20, 30, 40, 50, 60, 70].map(|ticks| start + ticks)
    );
    let threads: Vec<&str> = decoded.events().map(|event| event.thread_name()).collect();
    assert_eq!(
        threads,
        ["main", "feed", "main", "feed", "main", "main", "main"]
    );
}

/// Builds a run of three records, then damages it with `damage`, which gets the run's body and
/// the offsets of its records in the body. Returns the decoded file and the file offset of the
/// body.
fn damaged_run(damage: impl FnOnce(&mut Vec<u8>, &[usize])) -> (ulog_decode::Decoded, usize) {
    let mut clean = two_threads();
    let entry_start = clean.position();
    clean.run(1, &[(1, 10, n(0)), (2, 20, fill(7, 2.5)), (1, 30, n(2))]);
    let bytes = clean.finish();
    let (_, header_len) = ulog_schema::header::FileHeader::decode(&bytes).unwrap();
    let block = ulog_schema::block::BlockReader::new(&bytes[header_len..], header_len)
        .next()
        .unwrap()
        .unwrap();
    let payload_start = block.offset + ulog_schema::block::HEADER_LEN;
    let run = entry::EntryReader::new(block.stored)
        .map(Result::unwrap)
        .find(|entry| entry.kind == entry::kind::RUN)
        .unwrap();
    assert_eq!(payload_start + run.offset, entry_start);
    let mut body = run.body.to_vec();
    // thread (1 byte) and base ticks (8 bytes), then records of 3, 10 and 3 bytes.
    let starts = [9, 12, 22];
    assert_eq!(body.len(), 25);
    damage(&mut body, &starts);

    let mut segment = two_threads();
    segment.raw(&[entry::kind::RUN]);
    let mut length = Vec::new();
    ulog_schema::varint::write_u64(&mut length, body.len() as u64);
    segment.raw(&length);
    let body_start = segment.position();
    segment.raw(&body).run(2, &[(1, 40, n(3))]);
    (decode(&[segment.unfinished()]), body_start)
}

#[test]
fn run_unknown_site_loses_rest() {
    let (decoded, body_start) = damaged_run(|body, starts| body[starts[1]] = 9);
    assert_eq!(messages(&decoded), ["n=0", "n=3"]);
    let damage = &decoded.damage()[0];
    assert_eq!(damage.offset, (body_start + 12) as u64);
    assert!(damage.message.contains("call site 9"), "{damage}");
    assert!(damage.message.contains("rest of run skipped"), "{damage}");
}

#[test]
fn run_bad_value_loses_rest() {
    // The f64 of the second record: 2.5 is `zigzag(25) << 4 | 1`, two bytes after the site,
    // the delta and the qty.
    let (decoded, body_start) = damaged_run(|body, starts| body[starts[1] + 3] = 0x0c);
    assert_eq!(messages(&decoded), ["n=0", "n=3"]);
    assert_eq!(decoded.damage()[0].offset, (body_start + 12) as u64);
    assert!(decoded.damage()[0].message.contains("decimal places"));

    let (decoded, _) = damaged_run(|body, starts| body.truncate(starts[2] - 2));
    assert_eq!(messages(&decoded), ["n=0", "n=3"]);

    let (decoded, _) = damaged_run(|body, starts| body[starts[2] + 1] = 0x80);
    assert_eq!(messages(&decoded), ["n=0", "fill 7 @ 2.50 on XNAS", "n=3"]);

    let (decoded, body_start) = damaged_run(|body, _| body.truncate(5));
    assert_eq!(messages(&decoded), ["n=3"]);
    assert_eq!(decoded.damage()[0].offset, body_start as u64);
    assert!(decoded.damage()[0].message.contains("run skipped"));

    let (decoded, _) = damaged_run(|body, _| body[0] = 5);
    assert_eq!(messages(&decoded), ["n=3"]);
    assert!(decoded.damage()[0].message.contains("thread 5"));
}

#[test]
fn random_run_bodies_never_panic() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..3000 {
        let (decoded, _) = damaged_run(|body, _| {
            for _ in 0..1 + round % 6 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let index = (state % body.len() as u64) as usize;
                body[index] = (state >> 32) as u8;
            }
            if round % 5 == 0 {
                body.truncate((state >> 40) as usize % (body.len() + 1));
            }
        });
        assert!(decoded.len() <= 4, "round {round}");
    }
}
