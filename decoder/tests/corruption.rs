//! A flipped bit anywhere in a block costs that block only.

mod common;

use common::{decode, messages, simple};
use ulog_schema::record::ArgValue;

/// Three blocks of two records each; returns the file and where the middle block starts
/// and ends.
fn three_blocks() -> (Vec<u8>, usize, usize) {
    let mut segment = simple();
    segment.record(1, 1, 0, &[ArgValue::U64(0)]);
    segment.record(1, 1, 1, &[ArgValue::U64(1)]);
    segment.block();
    let middle = segment.block_offset();
    segment.record(1, 1, 2, &[ArgValue::U64(2)]);
    segment.record(1, 1, 3, &[ArgValue::U64(3)]);
    segment.block();
    let last = segment.block_offset();
    segment.record(1, 1, 4, &[ArgValue::U64(4)]);
    segment.record(1, 1, 5, &[ArgValue::U64(5)]);
    (segment.finish(), middle, last)
}

#[test]
fn every_flipped_bit_loses_one_block() {
    let (bytes, middle, last) = three_blocks();
    for bit in middle * 8..last * 8 {
        let mut damaged = bytes.clone();
        damaged[bit / 8] ^= 1 << (bit % 8);
        let decoded = decode(&[damaged]);
        assert_eq!(
            messages(&decoded),
            ["n=0", "n=1", "n=4", "n=5"],
            "bit {bit}"
        );
    }
}

#[test]
fn every_flipped_bit_is_reported_once() {
    let (bytes, middle, last) = three_blocks();
    for bit in middle * 8..last * 8 {
        let mut damaged = bytes.clone();
        damaged[bit / 8] ^= 1 << (bit % 8);
        let decoded = decode(&[damaged]);
        let offsets: Vec<u64> = decoded.damage().iter().map(|d| d.offset).collect();
        assert_eq!(offsets, [middle as u64], "bit {bit}");
    }
}

#[test]
fn garbage_between_blocks_is_skipped() {
    let (bytes, middle, _) = three_blocks();
    let mut damaged = bytes[..middle].to_vec();
    damaged.extend_from_slice(b"some stray bytes");
    damaged.extend_from_slice(&bytes[middle..]);
    let decoded = decode(&[damaged]);
    assert_eq!(messages(&decoded).len(), 6);
    assert_eq!(decoded.damage()[0].offset, middle as u64);
}

#[test]
fn random_bytes_never_panic() {
    let (bytes, _, _) = three_blocks();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..2000 {
        let mut damaged = bytes.clone();
        for _ in 0..1 + round % 8 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = (state % damaged.len() as u64) as usize;
            damaged[index] = (state >> 32) as u8;
        }
        let decoded = decode(&[damaged]);
        assert!(decoded.len() <= 6, "round {round}");
    }
}
