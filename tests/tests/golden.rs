//! Golden files: small checked-in segments and the text and JSON that `ulog-decode` must
//! produce from them. They catch any change to the format or the output that would break
//! existing files or the tools that read the output.
//!
//! `basic.*` contains a segment of format 1.0, with RECORD entries, written before format 1.1
//! existed. It is frozen: the writer no longer produces 1.0 files, and decoders must keep
//! reading it. `packed.*` contains the same session written by the current writer, format 1.1
//! with RUN entries. To regenerate `packed.*` after a deliberate change, run
//! `ULOG_BLESS=1 cargo test -p ulog-tests --test golden` and review the diff.

use std::path::{Path, PathBuf};

use ulog::{ulog, Config};
use ulog_decode::{write_json, write_text, Decoder};
use ulog_schema::block::BlockReader;
use ulog_schema::entry::{kind, EntryReader};
use ulog_schema::header::FileHeader;
use ulog_schema::{VERSION_MAJOR, VERSION_MINOR};
use ulog_tests::TestLogger;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

/// Gives every thread the smallest ring, so the burst in [`log_session`] drops records.
fn tiny_rings(config: Config) -> Config {
    config.ring_capacity(ulog::MIN_RING_CAPACITY)
}

/// Logs a small, varied session from two named threads, one after the other; the second
/// logs a burst that overflows its ring.
fn log_session() {
    let router = std::thread::Builder::new()
        .name("order-router".into())
        .spawn(|| {
            let (order_id, qty, px, venue) = (4_200_017u64, 300u32, 101.25f64, "XNAS");
            ulog!(
                Info,
                "fill order=<> venue=<> qty=<> px=<:.2>",
                order_id,
                venue,
                qty,
                px
            );
            ulog!(
                Warn,
                "reject order=<> reason=<:?>",
                order_id,
                reason = "price \"band\"\n"
            );
            ulog!(Error, "venue <> down after <:.3e> s", venue, 0.000_125f64);
            ulog!(
                Debug,
                "mask <:#010b> hex <:#x> big <> neg <>",
                0b1011u8,
                48_879u16,
                u128::MAX,
                i64::MIN
            );
            ulog!(Trace, "flags <> <:?> <:>5> <<tag>", true, 'é', 'x');
        })
        .unwrap();
    router.join().unwrap();

    let feed = std::thread::Builder::new()
        .name("market-data".into())
        .spawn(|| {
            for sequence in 0..400u32 {
                ulog!(
                    Info,
                    "quote <> bid <:.2> ask <:.2>",
                    sequence,
                    100.0f64,
                    100.02f64
                );
            }
        })
        .unwrap();
    feed.join().unwrap();
    ulog!(Info, "session closed");
}

fn decode_golden(segment: &Path) -> (String, String) {
    let name = segment.file_name().unwrap().to_str().unwrap();
    let mut decoder = Decoder::new();
    decoder.add_bytes(name, std::fs::read(segment).unwrap());
    let decoded = decoder.decode();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    let mut text = Vec::new();
    write_text(&decoded, &mut text).unwrap();
    let mut json = Vec::new();
    write_json(&decoded, &mut json).unwrap();
    (
        String::from_utf8(text).unwrap(),
        String::from_utf8(json).unwrap(),
    )
}

fn bless() {
    let mut logger = TestLogger::start(tiny_rings);
    log_session();
    logger.stop();
    let written = std::fs::read_dir(logger.dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let segment = golden_dir().join("packed.ulog");
    std::fs::copy(written, &segment).unwrap();
    let (text, json) = decode_golden(&segment);
    std::fs::write(golden_dir().join("packed.txt"), text).unwrap();
    std::fs::write(golden_dir().join("packed.jsonl"), json).unwrap();
}

/// Decodes `NAME.ulog` and compares with `NAME.txt` and `NAME.jsonl`.
fn check_golden(name: &str) {
    let (text, json) = decode_golden(&golden_dir().join(format!("{name}.ulog")));
    let expected_text = std::fs::read_to_string(golden_dir().join(format!("{name}.txt"))).unwrap();
    let expected_json =
        std::fs::read_to_string(golden_dir().join(format!("{name}.jsonl"))).unwrap();
    assert_eq!(text, expected_text);
    assert_eq!(json, expected_json);
}

/// Format version and the kinds of the entries of a golden segment.
fn versions_and_kinds(name: &str) -> ((u16, u16), Vec<u8>) {
    let bytes = std::fs::read(golden_dir().join(format!("{name}.ulog"))).unwrap();
    let (header, header_len) = FileHeader::decode(&bytes).unwrap();
    let mut kinds = Vec::new();
    for block in BlockReader::new(&bytes[header_len..], header_len) {
        for entry in EntryReader::new(block.unwrap().payload) {
            kinds.push(entry.unwrap().kind);
        }
    }
    ((header.version_major, header.version_minor), kinds)
}

#[test]
fn golden_format_1_0_still_decodes() {
    let (version, kinds) = versions_and_kinds("basic");
    assert_eq!(version, (1, 0));
    assert!(kinds.contains(&kind::RECORD));
    assert!(!kinds.contains(&kind::RUN));
    check_golden("basic");
}

#[test]
fn golden_format_1_1_decodes() {
    if std::env::var_os("ULOG_BLESS").is_some() {
        bless();
    }
    let (version, kinds) = versions_and_kinds("packed");
    assert_eq!(version, (VERSION_MAJOR, VERSION_MINOR));
    assert!(kinds.contains(&kind::RUN));
    assert!(!kinds.contains(&kind::RECORD));
    check_golden("packed");
}
