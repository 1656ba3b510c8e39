//! LZ4 compression end to end: records logged with `Compression::Lz4` decode exactly, and a
//! damaged, forged or truncated compressed block costs only its own records.

use std::collections::HashMap;

use ulog::{ulog, Compression};
use ulog_decode::{Decoded, Decoder, Event};
use ulog_schema::block::{self, lz4_checksum, BlockReader, Lz4Compressor, LZ4_HEADER_LEN};
use ulog_tests::{blocks_of, dropped, BlockInfo, TestLogger};

const VENUES: [&str; 4] = ["XNAS", "XNYS", "BATS", "IEXG"];

/// Returns the message of record `index` of thread `thread`.
fn expected_message(thread: u64, index: u64) -> String {
    let px = 100.0 + (index % 400) as f64 * 0.25;
    format!(
        "order {} qty {} px {px:.2} venue {}",
        thread * 1_000_000 + index,
        (index % 50 + 1) * 100,
        VENUES[(index % 4) as usize]
    )
}

/// Logs the records that [`expected_message`] describes.
fn log_records(thread: u64, records: std::ops::Range<u64>) {
    for index in records {
        let px = 100.0 + (index % 400) as f64 * 0.25;
        ulog!(
            Info,
            "order <> qty <> px <:.2> venue <>",
            thread * 1_000_000 + index,
            (index % 50 + 1) * 100,
            px,
            VENUES[(index % 4) as usize]
        );
    }
}

/// Returns each thread's messages in the order the decoder gives them.
fn messages_by_thread(decoded: &Decoded) -> HashMap<String, Vec<String>> {
    let mut by_thread: HashMap<String, Vec<String>> = HashMap::new();
    for event in decoded.events() {
        if let Event::Record(record) = event {
            by_thread
                .entry(record.thread_name().to_owned())
                .or_default()
                .push(record.message());
        }
    }
    by_thread
}

fn only_segment(logger: &TestLogger) -> Vec<u8> {
    let mut paths: Vec<_> = std::fs::read_dir(logger.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    std::fs::read(paths.pop().unwrap()).unwrap()
}

fn decode_bytes(bytes: Vec<u8>) -> Decoded {
    let mut decoder = Decoder::new();
    decoder.add_bytes("test.ulog", bytes);
    decoder.decode()
}

#[test]
fn compressed_log_round_trips() {
    const THREADS: u64 = 3;
    const RECORDS: u64 = 30_000;

    let mut logger =
        TestLogger::start(|config| config.compression(Compression::Lz4).ring_capacity(16 << 20));
    let workers: Vec<_> = (0..THREADS)
        .map(|thread| {
            std::thread::Builder::new()
                .name(format!("worker-{thread}"))
                .spawn(move || log_records(thread, 0..RECORDS))
                .unwrap()
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    logger.stop();

    let bytes = only_segment(&logger);
    let blocks = blocks_of(&bytes);
    let compressed = blocks.iter().filter(|block| block.compressed).count();
    assert!(
        compressed >= 5,
        "{compressed} of {} blocks compressed",
        blocks.len()
    );

    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    assert_eq!(dropped(&decoded), 0, "rings were sized to drop nothing");
    let by_thread = messages_by_thread(&decoded);
    assert_eq!(by_thread.len(), THREADS as usize);
    for thread in 0..THREADS {
        let expected: Vec<String> = (0..RECORDS)
            .map(|index| expected_message(thread, index))
            .collect();
        assert!(
            by_thread[&format!("worker-{thread}")] == expected,
            "messages of worker-{thread} differ"
        );
    }
}

const BATCHES: u64 = 5;
const RECORDS_PER_BATCH: u64 = 300;

/// Logs a segment of one compressed block per batch, then a plain block with the end
/// marker. Returns the file and its blocks.
fn batched_segment() -> (Vec<u8>, Vec<BlockInfo>) {
    let mut logger = TestLogger::start(|config| config.compression(Compression::Lz4));
    for batch in 0..BATCHES {
        log_records(
            0,
            batch * RECORDS_PER_BATCH..(batch + 1) * RECORDS_PER_BATCH,
        );
        // Each flush ends a block.
        ulog::flush();
    }
    logger.stop();
    let bytes = only_segment(&logger);
    let blocks = blocks_of(&bytes);
    let with_records: Vec<&BlockInfo> = blocks.iter().filter(|block| block.records > 0).collect();
    assert!(with_records.len() >= 3, "{blocks:?}");
    assert!(
        with_records.iter().all(|block| block.compressed),
        "{blocks:?}"
    );
    let total: usize = blocks.iter().map(|block| block.records).sum();
    assert_eq!(total as u64, BATCHES * RECORDS_PER_BATCH);
    (bytes, blocks)
}

fn total_records(blocks: &[BlockInfo]) -> usize {
    blocks.iter().map(|block| block.records).sum()
}

#[test]
fn damaged_compressed_block_loses_only_its_records() {
    let (bytes, blocks) = batched_segment();
    let total = total_records(&blocks);
    for (index, block) in blocks.iter().enumerate() {
        if block.records == 0 {
            continue;
        }
        let mut damaged = bytes.clone();
        damaged[block.offset + LZ4_HEADER_LEN + 3] ^= 0x5a;
        let decoded = decode_bytes(damaged);

        assert_eq!(decoded.len(), total - block.records, "block {index}");
        let damage = decoded.damage();
        assert_eq!(damage.len(), 1, "block {index}: {damage:?}");
        assert_eq!(damage[0].offset, block.offset as u64, "block {index}");
        assert!(damage[0].message.contains("checksum"), "{}", damage[0]);
    }
}

/// Reads the little-endian `u32` at `at`.
fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// Sets the stated length and the compressed payload of the block at `offset`, keeping its
/// size, and gives it the checksum that matches, as a faulty writer would.
fn forge_block(bytes: &mut [u8], offset: usize, raw_len: u32, payload: impl FnOnce(&mut [u8])) {
    let sequence = read_u32(bytes, offset + 4);
    let stored_len = read_u32(bytes, offset + 8) as usize;
    let stored_at = offset + LZ4_HEADER_LEN;
    payload(&mut bytes[stored_at..stored_at + stored_len]);
    let checksum = lz4_checksum(sequence, raw_len, &bytes[stored_at..stored_at + stored_len]);
    bytes[offset + 12..offset + 16].copy_from_slice(&checksum.to_le_bytes());
    bytes[offset + 16..offset + 20].copy_from_slice(&raw_len.to_le_bytes());
}

/// A change to a block's compressed payload.
type PayloadChange = fn(&mut [u8]);

#[test]
fn forged_compressed_block_is_reported() {
    let (bytes, blocks) = batched_segment();
    let total = total_records(&blocks);
    let block = blocks[1];
    assert!(block.compressed, "{blocks:?}");
    assert!(block.records > 0, "{blocks:?}");
    let raw_len = read_u32(&bytes, block.offset + 16);

    let cases: [(&str, u32, PayloadChange); 3] = [
        ("decompresses to only", raw_len + 1, |_| {}),
        ("decompresses to more", raw_len - 1, |_| {}),
        ("not valid LZ4 data", raw_len, |payload| payload.fill(0xf0)),
    ];
    for (expected, stated, change_payload) in cases {
        let mut forged = bytes.clone();
        forge_block(&mut forged, block.offset, stated, change_payload);
        let decoded = decode_bytes(forged);

        assert_eq!(decoded.len(), total - block.records, "{expected}");
        let damage = decoded.damage();
        assert_eq!(damage.len(), 1, "{expected}: {damage:?}");
        assert_eq!(damage[0].offset, block.offset as u64);
        assert!(damage[0].message.contains(expected), "{}", damage[0]);
        assert!(
            damage[0]
                .message
                .contains(&format!("states {stated} bytes")),
            "{}",
            damage[0]
        );
    }
}

#[test]
fn stated_length_over_maximum_is_reported() {
    let (mut bytes, blocks) = batched_segment();
    let total = total_records(&blocks);
    let block = blocks[2];
    let too_long = block::MAX_RAW_LEN as u32 + 1;
    forge_block(&mut bytes, block.offset, too_long, |_| {});
    let decoded = decode_bytes(bytes);

    assert_eq!(decoded.len(), total - block.records);
    let damage = decoded.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!(damage[0].offset, block.offset as u64);
    assert!(
        damage[0]
            .message
            .contains("uncompressed length 1048577 exceeds the maximum 1048576"),
        "{}",
        damage[0]
    );
}

#[test]
fn bad_entry_in_compressed_block_names_block_and_position() {
    let (bytes, blocks) = batched_segment();
    let total = total_records(&blocks);
    let block = blocks[1];

    // Decompress the block's entries, append the start of an entry whose length is cut off,
    // and compress the result into a block of the same sequence number.
    let original = BlockReader::new(&bytes[block.offset..], block.offset)
        .next()
        .unwrap()
        .unwrap();
    let mut entries = Vec::new();
    original.decompress_into(&mut entries).unwrap();
    let bad_at = entries.len();
    let mut rebuilt = Vec::new();
    let start = block::begin(&mut rebuilt);
    rebuilt.extend_from_slice(&entries);
    rebuilt.extend_from_slice(&[7, 0x80]);
    assert!(Lz4Compressor::new().finish(&mut rebuilt, start, original.sequence));

    let mut forged = bytes[..block.offset].to_vec();
    forged.extend_from_slice(&rebuilt);
    forged.extend_from_slice(&bytes[block.offset + block.len..]);
    let decoded = decode_bytes(forged);

    assert_eq!(decoded.len(), total, "the bad entry follows every record");
    let damage = decoded.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert_eq!(damage[0].offset, block.offset as u64);
    let message = &damage[0].message;
    assert!(message.contains("entry length is truncated"), "{message}");
    assert!(
        message.contains(&format!(
            "in the compressed block at this offset, at byte {bad_at} of its entries"
        )),
        "{message}"
    );
}

#[test]
fn truncated_compressed_file_keeps_earlier_blocks() {
    let (bytes, blocks) = batched_segment();
    // The last block holds the end marker; the one before it, the last records.
    let last_records = blocks.len() - 2;
    for (index, block) in blocks.iter().enumerate().skip(last_records) {
        let intact = total_records(&blocks[..index]);
        for cut in block.offset..block.offset + block.len {
            let decoded = decode_bytes(bytes[..cut].to_vec());

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
}
