//! A real segment cut at every byte offset of its last blocks still yields every record of
//! the blocks before the cut, and the damage report names the offset of the cut block.

use std::collections::HashMap;
use ulog::ulog;
use ulog_decode::Decoder;
use ulog_schema::block::BlockReader;

use ulog_schema::entry::{kind, EntryReader, SiteDef};
use ulog_schema::header::FileHeader;
use ulog_schema::run::RunReader;
use ulog_schema::ArgKind;
use ulog_tests::TestLogger;

const BATCHES: u32 = 4;
const RECORDS_PER_BATCH: u32 = 25;

/// Offset, length and record count of one block.
struct BlockInfo {
    offset: usize,
    len: usize,
    records: usize,
}

fn blocks_of(bytes: &[u8]) -> Vec<BlockInfo> {
    let (_, header_len) = FileHeader::decode(bytes).unwrap();
    let mut kinds: HashMap<u32, Vec<ArgKind>> = HashMap::new();
    BlockReader::new(&bytes[header_len..], header_len)
        .map(|block| {
            let block = block.unwrap();
            let mut records = 0;
            for entry in EntryReader::new(block.payload) {
                let entry = entry.unwrap();
                match entry.kind {
                    kind::SITE => {
                        let site = SiteDef::decode(entry.body).unwrap();
                        kinds.insert(site.id, site.args.iter().map(|arg| arg.kind).collect());
                    }
                    kind::RUN => {
                        let mut run = RunReader::new(entry.body).unwrap();
                        while let Some(record) =
                            run.next_record(|id| kinds.get(&id).map(Vec::as_slice))
                        {
                            record.unwrap();
                            records += 1;
                        }
                    }
                    _ => {}
                }
            }
            BlockInfo {
                offset: block.offset,
                len: ulog_schema::block::HEADER_LEN + block.payload.len(),
                records,
            }
        })
        .collect()
}

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
