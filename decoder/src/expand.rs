//! Reading a file's blocks, with the entries of compressed blocks decompressed.
//!
//! Events point at their argument bytes by offset, so the entries of every compressed block
//! are decompressed into one buffer before any entry is read. The decoder appends that buffer
//! to the file's bytes, and an event in a compressed block points past the end of the file.

use std::ops::Range;

use ulog_schema::block::{BlockError, BlockReader, Encoding, HEADER_LEN};

/// Location of one intact block's entries.
#[derive(Debug, Clone)]
pub(crate) struct BlockEntries {
    /// Offset of the block in its file.
    pub offset: usize,
    /// Sequence number of the block in its file.
    pub sequence: u32,
    /// Whether the entries were decompressed, and `range` indexes the decompressed bytes
    /// rather than the file.
    pub decompressed: bool,
    pub range: Range<usize>,
}

/// Reads the blocks of the file `bytes`, whose first block starts at `header_len`. Returns
/// each block or its damage in file order, and the entries of the compressed blocks back to
/// back.
pub(crate) fn read_blocks(
    bytes: &[u8],
    header_len: usize,
) -> (Vec<Result<BlockEntries, BlockError>>, Vec<u8>) {
    let mut decompressed = Vec::new();
    let blocks = BlockReader::new(&bytes[header_len..], header_len)
        .map(|block| {
            let block = block?;
            if block.encoding == Encoding::Plain {
                let start = block.offset + HEADER_LEN;
                return Ok(BlockEntries {
                    offset: block.offset,
                    sequence: block.sequence,
                    decompressed: false,
                    range: start..start + block.stored.len(),
                });
            }
            let range = block.decompress_into(&mut decompressed)?;
            Ok(BlockEntries {
                offset: block.offset,
                sequence: block.sequence,
                decompressed: true,
                range,
            })
        })
        .collect();
    (blocks, decompressed)
}
