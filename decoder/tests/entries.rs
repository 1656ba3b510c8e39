//! Bad entries inside intact blocks are reported and skipped; decoding goes on.

mod common;

use common::{decode, messages, simple, text, Segment};
use ulog_schema::entry::{self, kind};
use ulog_schema::record::ArgValue;
use ulog_schema::{ArgKind, Level};

fn damage_messages(decoded: &ulog_decode::Decoded) -> Vec<String> {
    decoded
        .damage()
        .iter()
        .map(|damage| damage.message.clone())
        .collect()
}

#[test]
fn undefined_site_is_skipped() {
    let mut segment = simple();
    segment.record(7, 1, 0, &[]);
    segment.record(1, 1, 1, &[ArgValue::U64(1)]);
    let decoded = decode(&[segment.finish()]);
    assert_eq!(messages(&decoded), ["n=1"]);
    assert!(damage_messages(&decoded)[0].contains("call site 7"));
}

#[test]
fn undefined_thread_is_skipped() {
    let mut segment = simple();
    segment.record(1, 8, 0, &[ArgValue::U64(0)]);
    let decoded = decode(&[segment.finish()]);
    assert!(decoded.is_empty());
    assert!(damage_messages(&decoded)[0].contains("thread 8"));
}

#[test]
fn short_arguments_are_skipped() {
    let mut segment = simple();
    segment.record_bytes(1, 1, 0, &[1, 2, 3]);
    segment.record(1, 1, 1, &[ArgValue::U64(9)]);
    let decoded = decode(&[segment.finish()]);
    assert_eq!(messages(&decoded), ["n=9"]);
    assert!(damage_messages(&decoded)[0].contains("argument 0 (u64)"));
}

#[test]
fn trailing_argument_bytes_are_damage() {
    let mut segment = simple();
    segment.record_bytes(1, 1, 0, &[0; 9]);
    let decoded = decode(&[segment.finish()]);
    assert!(damage_messages(&decoded)[0].contains("1 byte follows its arguments"));
}

#[test]
fn invalid_bool_is_damage() {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(1, Level::Info, "app", "<>", &[(ArgKind::Bool, "flag")])
        .record_bytes(1, 1, 0, &[7]);
    let decoded = decode(&[segment.finish()]);
    assert!(damage_messages(&decoded)[0].contains("bool byte is 7"));
}

#[test]
fn unparsable_format_renders_raw() {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(1, Level::Info, "app", "px <:8q>", &[(ArgKind::F64, "px")])
        .record(1, 1, 0, &[ArgValue::F64(1.5)]);
    let decoded = decode(&[segment.finish()]);
    let message = &messages(&decoded)[0];
    assert!(message.starts_with("px <:8q> [ulog-decode: "), "{message}");
    assert!(message.ends_with("arguments: px=1.5]"), "{message}");
}

#[test]
fn unparsable_format_is_damage() {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(1, Level::Info, "app", "px <:8q>", &[(ArgKind::F64, "px")]);
    let decoded = decode(&[segment.finish()]);
    assert!(damage_messages(&decoded)[0].contains("cannot render its messages"));
}

#[test]
fn hex_of_string_renders_raw() {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(1, Level::Info, "app", "<:x>", &[(ArgKind::Str, "s")])
        .record(1, 1, 0, &[ArgValue::Str("hi".into())]);
    let decoded = decode(&[segment.finish()]);
    assert!(messages(&decoded)[0].contains("LowerHex"));
}

#[test]
fn huge_width_is_lowered() {
    let mut segment = Segment::new();
    segment
        .thread(1, "main")
        .site(
            1,
            Level::Info,
            "app",
            "<:65535><:65535>",
            &[(ArgKind::U8, "a"), (ArgKind::U8, "b")],
        )
        .record(1, 1, 0, &[ArgValue::U8(1), ArgValue::U8(2)]);
    let decoded = decode(&[segment.finish()]);
    let message = &messages(&decoded)[0];
    assert!(message.len() < 3 * ulog_decode::MAX_RENDERED_WIDTH);
}

#[test]
fn unknown_entry_kind_is_skipped() {
    let mut segment = simple();
    segment.raw(&[200, 3, 1, 2, 3]);
    segment.record(1, 1, 0, &[ArgValue::U64(4)]);
    let decoded = decode(&[segment.finish()]);
    assert_eq!(messages(&decoded), ["n=4"]);
    assert!(decoded.is_clean());
}

#[test]
fn overrunning_entry_loses_rest_of_block() {
    let mut segment = simple();
    segment.record(1, 1, 0, &[ArgValue::U64(1)]);
    segment.raw(&[kind::RECORD, 100]);
    segment.block();
    segment.record(1, 1, 1, &[ArgValue::U64(2)]);
    let decoded = decode(&[segment.finish()]);
    assert_eq!(messages(&decoded), ["n=1", "n=2"]);
    assert!(damage_messages(&decoded)[0].contains("claims 100 bytes"));
}

#[test]
fn missing_end_marker_is_damage() {
    let mut segment = simple();
    segment.record(1, 1, 0, &[ArgValue::U64(1)]);
    let bytes = segment.unfinished();
    let len = bytes.len() as u64;
    let decoded = decode(&[bytes]);
    assert_eq!(messages(&decoded), ["n=1"]);
    assert_eq!(decoded.damage()[0].offset, len);
}

#[test]
fn end_count_mismatch_is_damage() {
    let mut segment = simple();
    segment.record(1, 1, 0, &[ArgValue::U64(1)]);
    let end = entry::EndEntry {
        records: 5.into(),
        dropped: 0.into(),
    };
    let mut bytes = Vec::new();
    entry::write_fixed(&mut bytes, kind::END, &end);
    segment.raw(&bytes);
    let decoded = decode(&[segment.unfinished()]);
    assert!(damage_messages(&decoded)[0].contains("end marker counts 5 records"));
}

#[test]
fn text_shows_level_thread_module() {
    let mut segment = Segment::new();
    segment
        .thread(3, "order-router")
        .site(
            1,
            Level::Info,
            "trading::router",
            "fill <> @ <:.2>",
            &[(ArgKind::U64, "qty"), (ArgKind::F64, "px")],
        )
        .record(
            1,
            3,
            123_456_789,
            &[ArgValue::U64(100), ArgValue::F64(101.25)],
        );
    let decoded = decode(&[segment.finish()]);
    assert_eq!(
        text(&decoded),
        "2026-12-04T19:12:39.123456789Z INFO  order-router trading::router: fill 100 @ 101.25\n"
    );
}
