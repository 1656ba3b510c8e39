//! A real segment cut at every byte offset of its last blocks still yields every record of
//! the blocks before the cut, and the damage report names the offset of the cut block.

use ulog::ulog;
use ulog_decode::Decoder;
use ulog_tests::{blocks_of, TestLogger};

const BATCHES: u32 = 4;
const RECORDS_PER_BATCH: u32 = 25;

#[test]
fn every_cut_keeps_earlier_blocks() {
    let mut logger = TestLogger::start(|config| config);
    for batch in 0..BATCHES {
        for index in 0..RECORDS_PER_BATCH {
            ulog!(
                Info,
                "batch <> record <> venue <>",
                batch,
                index,
                venue = "XNAS"
            );
        }
        // Each flush ends a block, so the file holds one block per batch.
        ulog::flush();
    }
    logger.stop();

    let path = std::fs::read_dir(logger.dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&path).unwrap();
    let blocks = blocks_of(&bytes);
    let total: usize = blocks.iter().map(|block| block.records).sum();
    assert_eq!(total, (BATCHES * RECORDS_PER_BATCH) as usize);
    assert!(
        blocks.len() >= 3,
        "expected several blocks, got {}",
        blocks.len()
    );

    // The last block holds the end marker; the one before it, the last records.
    let first_cut_block = blocks.len() - 2;
    for (index, block) in blocks.iter().enumerate().skip(first_cut_block) {
        let intact: usize = blocks[..index].iter().map(|block| block.records).sum();
        for cut in block.offset..block.offset + block.len {
            let mut decoder = Decoder::new();
            decoder.add_bytes("cut.ulog", bytes[..cut].to_vec());
            let decoded = decoder.decode();

            assert_eq!(decoded.len(), intact, "cut at {cut}");
            let damage = decoded.damage();
            assert!(!damage.is_empty(), "cut at {cut} was not reported");
            let expected_offset = if cut == block.offset {
                cut
            } else {
                block.offset
            };
            assert_eq!(
                damage[0].offset, expected_offset as u64,
                "cut at {cut}: {damage:?}"
            );
        }
    }

    let mut decoder = Decoder::new();
    decoder.add_bytes("whole.ulog", bytes);
    let whole = decoder.decode();
    assert!(whole.is_clean(), "{:?}", whole.damage());
    assert_eq!(whole.len(), total);
}
