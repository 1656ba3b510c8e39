//! Damage to one block of a real segment loses that block's records and no others, because
//! every block repeats the definitions it needs.

use ulog::ulog;
use ulog_decode::Decoder;
use ulog_schema::block::HEADER_LEN;
use ulog_tests::{blocks_of, TestLogger};

const BATCHES: u32 = 5;
const RECORDS_PER_BATCH: u32 = 40;

#[test]
fn damaged_block_loses_only_its_records() {
    let mut logger = TestLogger::start(|config| config);
    for batch in 0..BATCHES {
        for index in 0..RECORDS_PER_BATCH {
            ulog!(
                Info,
                "batch <> record <> px <:.2>",
                batch,
                index,
                px = 101.25f64
            );
        }
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
    let blocks: Vec<(usize, usize)> = blocks_of(&bytes)
        .iter()
        .map(|block| (block.offset, block.records))
        .collect();
    let total: usize = blocks.iter().map(|&(_, records)| records).sum();
    assert_eq!(total, (BATCHES * RECORDS_PER_BATCH) as usize);

    for (index, &(offset, records)) in blocks.iter().enumerate() {
        if records == 0 {
            continue;
        }
        let mut damaged = bytes.clone();
        damaged[offset + HEADER_LEN + 3] ^= 0x5a;
        let mut decoder = Decoder::new();
        decoder.add_bytes("damaged.ulog", damaged);
        let decoded = decoder.decode();

        assert_eq!(decoded.len(), total - records, "damage in block {index}");
        assert_eq!(
            decoded.damage().len(),
            1,
            "block {index}: {:?}",
            decoded.damage()
        );
        assert_eq!(decoded.damage()[0].offset, offset as u64, "block {index}");
    }
}
