//! Golden files: a small checked-in segment and the text and JSON that `ulog-decode` must
//! produce from it. They catch any change to the format or the output that would break
//! existing files or the tools that read the output.
//!
//! To regenerate all three after a deliberate change, run
//! `ULOG_BLESS=1 cargo test -p ulog-tests --test golden` and review the diff.

use std::path::{Path, PathBuf};

use ulog::{ulog, Config};
use ulog_decode::{write_json, write_text, Decoder};
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
    let mut decoder = Decoder::new();
    decoder.add_bytes("basic.ulog", std::fs::read(segment).unwrap());
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
    let segment = golden_dir().join("basic.ulog");
    std::fs::copy(written, &segment).unwrap();
    let (text, json) = decode_golden(&segment);
    std::fs::write(golden_dir().join("basic.txt"), text).unwrap();
    std::fs::write(golden_dir().join("basic.jsonl"), json).unwrap();
}

#[test]
fn golden_segment_decodes_to_golden_output() {
    if std::env::var_os("ULOG_BLESS").is_some() {
        bless();
    }
    let (text, json) = decode_golden(&golden_dir().join("basic.ulog"));
    let expected_text = std::fs::read_to_string(golden_dir().join("basic.txt")).unwrap();
    let expected_json = std::fs::read_to_string(golden_dir().join("basic.jsonl")).unwrap();
    assert_eq!(text, expected_text);
    assert_eq!(json, expected_json);
}
