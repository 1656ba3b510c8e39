//! A file cut anywhere in its last block keeps every earlier block's records and reports the
//! cut at its offset.

mod common;

use common::{decode, messages, simple};
use ulog_schema::record::ArgValue;

/// Builds a file of three blocks with two records each, and the offset of the last block.
fn three_blocks() -> (Vec<u8>, usize) {
    let mut segment = simple();
    for n in 0..6u64 {
        if n > 0 && n % 2 == 0 {
            segment.block();
        }
        segment.record(1, 1, n * 10, &[ArgValue::U64(n)]);
    }
    let last = segment.block_offset();
    (segment.finish(), last)
}

#[test]
fn intact_file_is_clean() {
    let (bytes, _) = three_blocks();
    let decoded = decode(&[bytes]);
    assert_eq!(decoded.damage(), []);
    assert_eq!(messages(&decoded).len(), 6);
}

#[test]
fn every_cut_keeps_earlier_blocks() {
    let (bytes, last) = three_blocks();
    for cut in last..bytes.len() {
        let decoded = decode(&[bytes[..cut].to_vec()]);
        let expected: Vec<String> = (0..4).map(|n| format!("n={n}")).collect();
        assert_eq!(messages(&decoded), expected, "cut at {cut}");
    }
}

#[test]
fn every_cut_reports_its_offset() {
    let (bytes, last) = three_blocks();
    for cut in last + 1..bytes.len() {
        let decoded = decode(&[bytes[..cut].to_vec()]);
        let damage = decoded.damage();
        assert_eq!(damage[0].offset, last as u64, "cut at {cut}");
        assert!(
            damage[0].message.starts_with("truncated block"),
            "cut at {cut}"
        );
    }
}

#[test]
fn every_cut_reports_missing_end() {
    let (bytes, last) = three_blocks();
    for cut in last..bytes.len() {
        let decoded = decode(&[bytes[..cut].to_vec()]);
        let end = decoded.damage().last().unwrap();
        assert_eq!(end.offset, cut as u64, "cut at {cut}");
        assert!(
            end.message.contains("without an end marker"),
            "cut at {cut}"
        );
    }
}

#[test]
fn cut_at_block_boundary_reports_only_missing_end() {
    let (bytes, last) = three_blocks();
    let decoded = decode(&[bytes[..last].to_vec()]);
    assert_eq!(decoded.damage().len(), 1);
}

#[test]
fn every_cut_in_header_is_damage() {
    let (bytes, _) = three_blocks();
    let header_len = ulog_schema::header::FileHeader::decode(&bytes).unwrap().1;
    for cut in 0..header_len {
        let decoded = decode(&[bytes[..cut].to_vec()]);
        assert_eq!(decoded.damage().len(), 1, "cut at {cut}");
        assert!(decoded.is_empty(), "cut at {cut}");
    }
}
