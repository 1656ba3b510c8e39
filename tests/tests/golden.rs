//! Golden files: small checked-in segments and the text and JSON that `ulog-decode` must
//! produce from them. They catch any change to the format or the output that would break
//! existing files or the tools that read the output.
//!
//! `basic.*` contains a segment of format 1.0, with RECORD entries, written before format 1.1
//! existed. `packed.*` contains the same session written in format 1.1, with RUN entries,
//! before format 1.2 existed. Both are frozen: decoders must keep reading them. `lz4.*`
//! contains the same session written by the current writer with LZ4 compression on, so
//! it holds compressed blocks and the plain block that ends the file. To regenerate `lz4.*`
//! after a deliberate change, run `ULOG_BLESS=1 cargo test -p ulog-tests --test golden` and
//! review the diff.

use std::path::{Path, PathBuf};

use ulog::{ulog, Compression, Config};
use ulog_decode::{write_json, write_text, Decoder};
use ulog_schema::block::{BlockReader, Encoding};
use ulog_schema::entry::{kind, EntryReader};
use ulog_schema::header::FileHeader;
use ulog_schema::{VERSION_MAJOR, VERSION_MINOR};
use ulog_tests::TestLogger;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

/// Gives every thread the smallest ring, so the burst in [`log_session`] drops records, and
/// turns compression on.
fn tiny_rings_lz4(config: Config) -> Config {
    config
        .ring_capacity(ulog::MIN_RING_CAPACITY)
        .compression(Compression::Lz4)
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
    let mut logger = TestLogger::start(tiny_rings_lz4);
    log_session();
    logger.stop();
    let written = std::fs::read_dir(logger.dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let segment = golden_dir().join("lz4.ulog");
    std::fs::copy(written, &segment).unwrap();
    let (text, json) = decode_golden(&segment);
    std::fs::write(golden_dir().join("lz4.txt"), text).unwrap();
    std::fs::write(golden_dir().join("lz4.jsonl"), json).unwrap();
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

/// What a golden segment contains.
struct Contents {
    version: (u16, u16),
    /// Entry kinds, in file order.
    kinds: Vec<u8>,
    /// Whether each block is compressed, in file order.
    compressed: Vec<bool>,
}

fn contents(name: &str) -> Contents {
    let bytes = std::fs::read(golden_dir().join(format!("{name}.ulog"))).unwrap();
    let (header, header_len) = FileHeader::decode(&bytes).unwrap();
    let mut kinds = Vec::new();
    let mut compressed = Vec::new();
    let mut scratch = Vec::new();
    for block in BlockReader::new(&bytes[header_len..], header_len) {
        let block = block.unwrap();
        compressed.push(block.encoding != Encoding::Plain);
        for entry in EntryReader::new(block.entries(&mut scratch).unwrap()) {
            kinds.push(entry.unwrap().kind);
        }
    }
    Contents {
        version: (header.version_major, header.version_minor),
        kinds,
        compressed,
    }
}

#[test]
fn golden_format_1_0_still_decodes() {
    let contents = contents("basic");
    assert_eq!(contents.version, (1, 0));
    assert!(contents.kinds.contains(&kind::RECORD));
    assert!(!contents.kinds.contains(&kind::RUN));
    check_golden("basic");
}

#[test]
fn golden_format_1_1_still_decodes() {
    let contents = contents("packed");
    assert_eq!(contents.version, (1, 1));
    assert!(contents.kinds.contains(&kind::RUN));
    assert!(!contents.kinds.contains(&kind::RECORD));
    assert!(!contents.compressed.contains(&true));
    check_golden("packed");
}

#[test]
fn golden_compressed_segment_decodes() {
    if std::env::var_os("ULOG_BLESS").is_some() {
        bless();
    }
    let contents = contents("lz4");
    assert_eq!(contents.version, (VERSION_MAJOR, VERSION_MINOR));
    assert!(contents.kinds.contains(&kind::RUN));
    assert!(!contents.kinds.contains(&kind::RECORD));
    assert!(contents.compressed.contains(&true), "no compressed block");
    assert_eq!(
        contents.compressed.last(),
        Some(&false),
        "the block holding only the end marker is too small to shrink"
    );
    check_golden("lz4");
}
