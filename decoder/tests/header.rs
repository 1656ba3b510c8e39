//! Files that are not segments this decoder can read are reported, and the others still
//! decode.

mod common;

use common::{decode, header, messages, simple, Segment, PID};
use ulog_schema::record::ArgValue;
use ulog_schema::{VERSION_MAJOR, VERSION_MINOR};

#[test]
fn newer_major_names_both_versions() {
    let mut newer = header(PID, 0);
    newer.version_major = 2;
    newer.version_minor = 3;
    let decoded = decode(&[Segment::with_header(&newer).finish()]);
    let message = &decoded.damage()[0].message;
    assert!(message.contains("2.3"), "{message}");
    let supported = format!("{VERSION_MAJOR}.{VERSION_MINOR}");
    assert!(message.contains(&supported), "{message}");
}

#[test]
fn newer_minor_still_decodes() {
    let mut newer = header(PID, 0);
    newer.version_minor = 9;
    let mut segment = Segment::with_header(&newer);
    segment
        .thread(1, "main")
        .site(1, ulog_schema::Level::Info, "app", "x", &[])
        .record(1, 1, 0, &[]);
    let decoded = decode(&[segment.finish()]);
    assert_eq!(messages(&decoded), ["x"]);
}

#[test]
fn bad_magic_is_not_a_segment() {
    let decoded = decode(&[b"hello, this is text and not a segment".to_vec()]);
    assert!(decoded.damage()[0]
        .message
        .starts_with("not a ulog segment"));
}

#[test]
fn bad_file_spares_the_others() {
    let mut good = simple();
    good.record(1, 1, 0, &[ArgValue::U64(7)]);
    let decoded = decode(&[b"junk".to_vec(), good.finish()]);
    assert_eq!(messages(&decoded), ["n=7"]);
    assert_eq!(decoded.damage()[0].path, "0.ulog");
}
