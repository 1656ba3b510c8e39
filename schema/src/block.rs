//! Blocks: checksummed groups of entries.
//!
//! A block is a [`BlockHeader`] and a payload of entries. The checksum covers the sequence
//! number, the length and the payload, so damage anywhere in a block is detected and affects
//! that block only. A reader that finds damage looks for the next [`BLOCK_MAGIC`] and goes on.

use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// First four bytes of every block.
pub const BLOCK_MAGIC: [u8; 4] = *b"ULBK";

/// Largest payload a reader accepts. A larger length can only come from damage.
pub const MAX_PAYLOAD_LEN: usize = 16 << 20;

/// Payload bytes a reader may hash for blocks whose checksum fails, as a multiple of its
/// input's length, before it gives up on the rest of the input. Damage from a crash or a bad
/// disk costs about one hashed byte per damaged byte. A crafted file with a forged block
/// header every 16 bytes, each claiming the rest of the file, would otherwise cost time
/// quadratic in the file's size.
pub const MAX_FAILED_CHECKSUM_RATIO: usize = 4;

/// Size of [`BlockHeader`] in bytes.
pub const HEADER_LEN: usize = size_of::<BlockHeader>();

/// Header in front of each block's payload.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BlockHeader {
    /// [`BLOCK_MAGIC`].
    pub magic: [u8; 4],
    /// Position of the block in its file, from 0.
    pub sequence: U32,
    /// Payload bytes after this header.
    pub payload_len: U32,
    /// CRC-32 (IEEE) of `sequence`, `payload_len` and the payload, in that order.
    pub checksum: U32,
}

/// Computes the checksum stored in a block header.
pub fn checksum(sequence: u32, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&sequence.to_le_bytes());
    hasher.update(&(payload.len() as u32).to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// Reserves room for a block header at the end of `out` and returns where the block starts.
/// Append the payload to `out`, then call [`finish`].
pub fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.resize(start + HEADER_LEN, 0);
    start
}

/// Fills in the header of the block that [`begin`] started at `start`; everything after the
/// header is its payload.
///
/// # Panics
///
/// Panics if `start` does not leave room for a header, or if the payload is longer than
/// [`MAX_PAYLOAD_LEN`].
pub fn finish(out: &mut [u8], start: usize, sequence: u32) {
    let (header, payload) = out[start..].split_at_mut(HEADER_LEN);
    assert!(
        payload.len() <= MAX_PAYLOAD_LEN,
        "block payload of {} bytes exceeds the maximum {MAX_PAYLOAD_LEN}",
        payload.len()
    );
    let block_header = BlockHeader {
        magic: BLOCK_MAGIC,
        sequence: U32::new(sequence),
        payload_len: U32::new(payload.len() as u32),
        checksum: U32::new(checksum(sequence, payload)),
    };
    header.copy_from_slice(block_header.as_bytes());
}

/// An intact block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// Offset of the block header from the start of the input.
    pub offset: usize,
    /// Sequence number from the header.
    pub sequence: u32,
    /// The entries.
    pub payload: &'a [u8],
}

/// Damage found while reading blocks. Offsets count from the start of the reader's input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The input ends inside a block.
    #[error(
        "truncated block at byte offset {offset}: it needs {needed} bytes, and only {available} remain"
    )]
    Truncated {
        /// Offset of the block.
        offset: usize,
        /// Bytes the block needs, header included.
        needed: usize,
        /// Bytes left in the input.
        available: usize,
    },
    /// Bytes that are not a block header where one was expected.
    #[error("damaged data at byte offsets {offset}..{resume}: no block header found, skipped")]
    Garbage {
        /// Offset where the damage starts.
        offset: usize,
        /// Offset of the next block header, or of the end of the input.
        resume: usize,
    },
    /// A header whose length is impossible.
    #[error(
        "damaged block at byte offset {offset}: payload length {len} exceeds the maximum {MAX_PAYLOAD_LEN}"
    )]
    TooLarge {
        /// Offset of the block.
        offset: usize,
        /// The length in the header.
        len: usize,
    },
    /// A block whose checksum does not match its contents.
    #[error(
        "damaged block at byte offset {offset}: checksum {found:#010x} does not match the stored {stored:#010x}"
    )]
    Checksum {
        /// Offset of the block.
        offset: usize,
        /// Checksum in the header.
        stored: u32,
        /// Checksum of the bytes read.
        found: u32,
    },
    /// Blocks with failed checksums claimed so much payload that checking more of them would
    /// cost more than [`MAX_FAILED_CHECKSUM_RATIO`] times the input's length. The reader
    /// skips the rest of the input.
    #[error(
        "too much damage from byte offset {offset}: blocks with failed checksums claimed \
         {hashed} bytes of payload, more than {MAX_FAILED_CHECKSUM_RATIO} times the input; \
         rest of the input skipped"
    )]
    TooMuchDamage {
        /// Offset of the first block left unchecked.
        offset: usize,
        /// Payload bytes of failed blocks hashed so far.
        hashed: usize,
    },
}

impl BlockError {
    /// Offset where the damage starts.
    pub fn offset(&self) -> usize {
        match *self {
            BlockError::Truncated { offset, .. }
            | BlockError::Garbage { offset, .. }
            | BlockError::TooLarge { offset, .. }
            | BlockError::Checksum { offset, .. }
            | BlockError::TooMuchDamage { offset, .. } => offset,
        }
    }
}

/// Iterates over the blocks of `input`, yielding each intact block and each damaged region.
///
/// `base_offset` is added to every reported offset, so offsets name positions in the whole
/// file when `input` starts after the file header.
#[derive(Debug, Clone)]
pub struct BlockReader<'a> {
    input: &'a [u8],
    position: usize,
    base_offset: usize,
    /// Payload bytes hashed for blocks whose checksum failed.
    failed_checksum_bytes: usize,
}

impl<'a> BlockReader<'a> {
    /// Creates a reader over `input`, whose first byte is at `base_offset` in its file.
    pub fn new(input: &'a [u8], base_offset: usize) -> Self {
        BlockReader {
            input,
            position: 0,
            base_offset,
            failed_checksum_bytes: 0,
        }
    }

    /// Finds the next block magic at or after `from`, or the end of the input.
    fn resync(&self, from: usize) -> usize {
        let from = from.min(self.input.len());
        self.input[from..]
            .windows(BLOCK_MAGIC.len())
            .position(|window| window == BLOCK_MAGIC)
            .map_or(self.input.len(), |found| from + found)
    }
}

impl<'a> Iterator for BlockReader<'a> {
    type Item = Result<Block<'a>, BlockError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.input[self.position..];
        if rest.is_empty() {
            return None;
        }
        let offset = self.base_offset + self.position;

        if rest.len() >= BLOCK_MAGIC.len() && rest[..BLOCK_MAGIC.len()] != BLOCK_MAGIC {
            let resume = self.resync(self.position + 1);
            self.position = resume;
            return Some(Err(BlockError::Garbage {
                offset,
                resume: self.base_offset + resume,
            }));
        }
        let Ok((header, payload_and_rest)) = BlockHeader::read_from_prefix(rest) else {
            self.position = self.input.len();
            return Some(Err(BlockError::Truncated {
                offset,
                needed: HEADER_LEN,
                available: rest.len(),
            }));
        };

        let len = header.payload_len.get() as usize;
        if len > MAX_PAYLOAD_LEN {
            self.position = self.resync(self.position + 1);
            return Some(Err(BlockError::TooLarge { offset, len }));
        }
        if payload_and_rest.len() < len {
            // A torn tail, unless a later block shows that the length field itself is damaged.
            let resume = self.resync(self.position + 1);
            self.position = resume;
            if resume < self.input.len() {
                return Some(Err(BlockError::Garbage {
                    offset,
                    resume: self.base_offset + resume,
                }));
            }
            return Some(Err(BlockError::Truncated {
                offset,
                needed: HEADER_LEN + len,
                available: rest.len(),
            }));
        }

        let budget = MAX_FAILED_CHECKSUM_RATIO.saturating_mul(self.input.len());
        if self.failed_checksum_bytes > budget {
            self.position = self.input.len();
            return Some(Err(BlockError::TooMuchDamage {
                offset,
                hashed: self.failed_checksum_bytes,
            }));
        }
        let payload = &payload_and_rest[..len];
        let sequence = header.sequence.get();
        let found = checksum(sequence, payload);
        let stored = header.checksum.get();
        if found != stored {
            self.failed_checksum_bytes += len;
            self.position = self.resync(self.position + 1);
            return Some(Err(BlockError::Checksum {
                offset,
                stored,
                found,
            }));
        }

        self.position += HEADER_LEN + len;
        Some(Ok(Block {
            offset,
            sequence,
            payload,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_blocks() -> Vec<u8> {
        let mut out = Vec::new();
        for (sequence, payload) in [(0, &b"first"[..]), (1, &b"second block"[..])] {
            let start = begin(&mut out);
            out.extend_from_slice(payload);
            finish(&mut out, start, sequence);
        }
        out
    }

    #[test]
    fn reads_intact_blocks() {
        let bytes = two_blocks();
        let blocks: Vec<_> = BlockReader::new(&bytes, 100).collect();
        assert_eq!(blocks.len(), 2);
        let first = blocks[0].clone().unwrap();
        assert_eq!(first.payload, b"first");
        assert_eq!(first.offset, 100);
        assert_eq!(blocks[1].clone().unwrap().sequence, 1);
    }

    #[test]
    fn every_cut_keeps_first_block_and_reports_truncation() {
        let bytes = two_blocks();
        let second = HEADER_LEN + 5;
        for cut in second + 1..bytes.len() {
            let blocks: Vec<_> = BlockReader::new(&bytes[..cut], 0).collect();
            assert_eq!(blocks.len(), 2, "cut at {cut}");
            assert!(blocks[0].is_ok(), "cut at {cut}");
            let error = blocks[1].clone().unwrap_err();
            assert_eq!(error.offset(), second, "cut at {cut}");
            assert!(
                matches!(error, BlockError::Truncated { .. }),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn flipped_bit_damages_one_block() {
        let mut bytes = two_blocks();
        bytes[HEADER_LEN + 1] ^= 0x04;
        let blocks: Vec<_> = BlockReader::new(&bytes, 0).collect();
        assert!(matches!(blocks[0], Err(BlockError::Checksum { .. })));
        assert_eq!(blocks[1].clone().unwrap().payload, b"second block");
        assert_eq!(blocks.len(), 2);
    }

    #[test]
    fn forged_headers_cost_linear_work() {
        let len = 1 << 20;
        let mut bytes = vec![0; len];
        for offset in (0..len - HEADER_LEN).step_by(HEADER_LEN) {
            let claimed = (len - offset - HEADER_LEN) as u32;
            let forged = BlockHeader {
                magic: BLOCK_MAGIC,
                sequence: U32::new(0),
                payload_len: U32::new(claimed),
                checksum: U32::new(0),
            };
            bytes[offset..offset + HEADER_LEN].copy_from_slice(forged.as_bytes());
        }
        let blocks: Vec<_> = BlockReader::new(&bytes, 0).collect();
        assert!(blocks.len() < 20, "{} blocks checked", blocks.len());
        let last = blocks.last().unwrap().clone().unwrap_err();
        assert!(
            matches!(last, BlockError::TooMuchDamage { hashed, .. } if hashed > 4 * len),
            "{last}"
        );
    }

    #[test]
    fn damaged_length_resyncs_at_next_block() {
        let mut bytes = two_blocks();
        bytes[8] = 0xff;
        bytes[9] = 0xff;
        let blocks: Vec<_> = BlockReader::new(&bytes, 0).collect();
        assert!(blocks[0].is_err());
        assert_eq!(blocks.last().unwrap().clone().unwrap().sequence, 1);
    }
}
