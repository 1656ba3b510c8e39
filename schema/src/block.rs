//! Blocks: checksummed groups of entries.
//!
//! A block is a header and a payload of entries. The checksum covers the sequence number, the
//! lengths and the stored payload, so damage anywhere in a block is detected and affects that
//! block only. A reader that finds damage looks for the next block magic and goes on.
//!
//! A plain block ([`BLOCK_MAGIC`]) stores its entries as they are. A compressed block
//! ([`LZ4_BLOCK_MAGIC`], since format 1.2) stores them as one LZ4 block and states their
//! length in its header. The checksum covers the compressed bytes, so a reader verifies it
//! before it decompresses anything, and each block still decodes alone.

use std::ops::Range;

use lz4_flex::block::{CompressTable, DecompressError};
use zerocopy::little_endian::U32;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// First four bytes of every plain block.
pub const BLOCK_MAGIC: [u8; 4] = *b"ULBK";

/// First four bytes of every LZ4-compressed block. Since format 1.2.
pub const LZ4_BLOCK_MAGIC: [u8; 4] = *b"ULBZ";

/// Largest stored payload a reader accepts. A larger length can only come from damage.
pub const MAX_PAYLOAD_LEN: usize = 16 << 20;

/// Largest uncompressed length a compressed block may state: 16 times the runtime's 64 KiB
/// block target. Writers store a larger payload uncompressed, and readers report a larger
/// stated length as damage, so no untrusted length makes a reader allocate more than this
/// for one block.
pub const MAX_RAW_LEN: usize = 1 << 20;

/// Payload bytes a reader may hash for blocks whose checksum fails, as a multiple of its
/// input's length, before it gives up on the rest of the input. Damage from a crash or a bad
/// disk costs about one hashed byte per damaged byte. A crafted file with a forged block
/// header every 16 bytes, each claiming the rest of the file, would otherwise cost time
/// quadratic in the file's size.
pub const MAX_FAILED_CHECKSUM_RATIO: usize = 4;

/// Size of [`BlockHeader`] in bytes.
pub const HEADER_LEN: usize = size_of::<BlockHeader>();

/// Size of [`Lz4BlockHeader`] in bytes.
pub const LZ4_HEADER_LEN: usize = size_of::<Lz4BlockHeader>();

/// Header in front of each plain block's payload.
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

/// Header in front of each compressed block's payload: the fields of [`BlockHeader`], then
/// the uncompressed length.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct Lz4BlockHeader {
    /// [`LZ4_BLOCK_MAGIC`].
    pub magic: [u8; 4],
    /// Position of the block in its file, from 0.
    pub sequence: U32,
    /// Compressed payload bytes after this header.
    pub payload_len: U32,
    /// CRC-32 (IEEE) of `sequence`, `payload_len`, `raw_len` and the compressed payload, in
    /// that order.
    pub checksum: U32,
    /// Length of the entries once decompressed, at most [`MAX_RAW_LEN`].
    pub raw_len: U32,
}

/// Computes the checksum stored in a plain block's header.
pub fn checksum(sequence: u32, payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&sequence.to_le_bytes());
    hasher.update(&(payload.len() as u32).to_le_bytes());
    hasher.update(payload);
    hasher.finalize()
}

/// Computes the checksum stored in a compressed block's header, over the compressed payload.
pub fn lz4_checksum(sequence: u32, raw_len: u32, compressed: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&sequence.to_le_bytes());
    hasher.update(&(compressed.len() as u32).to_le_bytes());
    hasher.update(&raw_len.to_le_bytes());
    hasher.update(compressed);
    hasher.finalize()
}

/// Reserves room for a block header at the end of `out` and returns where the block starts.
/// Append the payload to `out`, then call [`finish`] or [`Lz4Compressor::finish`].
pub fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.resize(start + HEADER_LEN, 0);
    start
}

/// Fills in the header of the plain block that [`begin`] started at `start`; everything after
/// the header is its payload.
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

/// Compresses blocks with LZ4. It keeps its hash table and output buffer from one block to
/// the next, so a writer allocates them once.
pub struct Lz4Compressor {
    table: CompressTable,
    compressed: Vec<u8>,
}

impl std::fmt::Debug for Lz4Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lz4Compressor")
            .field("buffer_capacity", &self.compressed.capacity())
            .finish_non_exhaustive()
    }
}

impl Default for Lz4Compressor {
    fn default() -> Self {
        Lz4Compressor::new()
    }
}

impl Lz4Compressor {
    /// Creates a compressor.
    pub fn new() -> Self {
        Lz4Compressor {
            table: CompressTable::default(),
            compressed: Vec::new(),
        }
    }

    /// Fills in the header of the block that [`begin`] started at `start`, as [`finish`] does,
    /// after compressing its payload when that makes the block smaller. A payload that does
    /// not shrink, or is longer than [`MAX_RAW_LEN`], stays a plain block. Returns whether the
    /// block was compressed.
    ///
    /// # Panics
    ///
    /// Panics as [`finish`] does.
    pub fn finish(&mut self, out: &mut Vec<u8>, start: usize, sequence: u32) -> bool {
        let raw = &out[start + HEADER_LEN..];
        let Some(compressed_len) = self.compress(raw) else {
            finish(out, start, sequence);
            return false;
        };

        let raw_len = raw.len() as u32;
        let compressed = &self.compressed[..compressed_len];
        let header = Lz4BlockHeader {
            magic: LZ4_BLOCK_MAGIC,
            sequence: U32::new(sequence),
            payload_len: U32::new(compressed_len as u32),
            checksum: U32::new(lz4_checksum(sequence, raw_len, compressed)),
            raw_len: U32::new(raw_len),
        };
        out.truncate(start);
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(compressed);
        true
    }

    /// Compresses `raw` into the output buffer. Returns the compressed length, or `None` when
    /// the block should stay plain.
    fn compress(&mut self, raw: &[u8]) -> Option<usize> {
        if raw.len() > MAX_RAW_LEN {
            return None;
        }
        let bound = lz4_flex::block::get_maximum_output_size(raw.len());
        self.compressed.resize(bound, 0);
        let compressed_len =
            lz4_flex::block::compress_into_with_table(raw, &mut self.compressed, &mut self.table)
                .ok()?;
        let saves_bytes = LZ4_HEADER_LEN + compressed_len < HEADER_LEN + raw.len();
        saves_bytes.then_some(compressed_len)
    }
}

/// Storage of a block's entries: as they are, or compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The payload is the entries.
    Plain,
    /// The payload is one LZ4 block holding `raw_len` bytes of entries.
    Lz4 {
        /// Length of the entries, at most [`MAX_RAW_LEN`].
        raw_len: usize,
    },
}

/// A block whose checksum matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// Offset of the block header from the start of the input.
    pub offset: usize,
    /// Sequence number from the header.
    pub sequence: u32,
    /// The payload as stored: the entries of a plain block, the LZ4 data of a compressed one.
    pub stored: &'a [u8],
    /// Encoding of `stored`.
    pub encoding: Encoding,
}

impl<'a> Block<'a> {
    /// Bytes the block takes in its file, header included.
    pub fn len(&self) -> usize {
        let header_len = match self.encoding {
            Encoding::Plain => HEADER_LEN,
            Encoding::Lz4 { .. } => LZ4_HEADER_LEN,
        };
        header_len + self.stored.len()
    }

    /// Returns whether the block holds no stored bytes.
    pub fn is_empty(&self) -> bool {
        self.stored.is_empty()
    }

    /// Returns the entries: the stored payload of a plain block, or the payload of a
    /// compressed block decompressed into `scratch`.
    ///
    /// # Errors
    ///
    /// Fails with [`BlockError::Decompress`] when a compressed payload is not valid LZ4 data
    /// or does not decompress to the length its header states.
    pub fn entries<'s>(&self, scratch: &'s mut Vec<u8>) -> Result<&'s [u8], BlockError>
    where
        'a: 's,
    {
        if self.encoding == Encoding::Plain {
            return Ok(self.stored);
        }
        scratch.clear();
        let range = self.decompress_into(scratch)?;
        Ok(&scratch[range])
    }

    /// Appends the entries to `out`, decompressing them if the block is compressed, and
    /// returns where they are in `out`. On an error `out` is left as it was.
    ///
    /// # Errors
    ///
    /// Fails as [`Block::entries`] does.
    pub fn decompress_into(&self, out: &mut Vec<u8>) -> Result<Range<usize>, BlockError> {
        let start = out.len();
        let Encoding::Lz4 { raw_len } = self.encoding else {
            out.extend_from_slice(self.stored);
            return Ok(start..out.len());
        };

        out.resize(start + raw_len, 0);
        let detail = match lz4_flex::block::decompress_into(self.stored, &mut out[start..]) {
            Ok(len) if len == raw_len => return Ok(start..out.len()),
            Ok(len) => format!("it decompresses to only {len}"),
            Err(DecompressError::OutputTooSmall { .. }) => "it decompresses to more".to_owned(),
            Err(error) => format!("it is not valid LZ4 data: {error}"),
        };
        out.truncate(start);
        Err(BlockError::Decompress {
            offset: self.offset,
            stated: raw_len,
            detail,
        })
    }
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
    /// A compressed block whose checksum matches and whose uncompressed length is impossible.
    #[error(
        "damaged block at byte offset {offset}: uncompressed length {len} exceeds the maximum {MAX_RAW_LEN}"
    )]
    RawTooLarge {
        /// Offset of the block.
        offset: usize,
        /// The uncompressed length in the header.
        len: usize,
    },
    /// A compressed block whose checksum matches and whose payload does not decompress to
    /// the length its header states. A faulty writer produces one, because damage almost
    /// always fails the checksum first.
    #[error(
        "damaged block at byte offset {offset}: its header states {stated} bytes of entries, \
         and {detail}"
    )]
    Decompress {
        /// Offset of the block.
        offset: usize,
        /// The uncompressed length in the header.
        stated: usize,
        /// The length the payload decompresses to instead, or the reason it does not decompress.
        detail: String,
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
            | BlockError::TooMuchDamage { offset, .. }
            | BlockError::RawTooLarge { offset, .. }
            | BlockError::Decompress { offset, .. } => offset,
        }
    }
}

/// The fields of either block header.
struct Header {
    len: usize,
    sequence: u32,
    payload_len: usize,
    checksum: u32,
    /// The uncompressed length of a compressed block.
    raw_len: Option<u32>,
}

impl Header {
    /// Reads a compressed or a plain block's header from the start of `bytes`, or returns the
    /// length of that header when `bytes` is shorter.
    fn read(bytes: &[u8], compressed: bool) -> Result<Header, usize> {
        if compressed {
            let (header, _) =
                Lz4BlockHeader::read_from_prefix(bytes).map_err(|_| LZ4_HEADER_LEN)?;
            return Ok(Header {
                len: LZ4_HEADER_LEN,
                sequence: header.sequence.get(),
                payload_len: header.payload_len.get() as usize,
                checksum: header.checksum.get(),
                raw_len: Some(header.raw_len.get()),
            });
        }
        let (header, _) = BlockHeader::read_from_prefix(bytes).map_err(|_| HEADER_LEN)?;
        Ok(Header {
            len: HEADER_LEN,
            sequence: header.sequence.get(),
            payload_len: header.payload_len.get() as usize,
            checksum: header.checksum.get(),
            raw_len: None,
        })
    }

    fn checksum_of(&self, payload: &[u8]) -> u32 {
        match self.raw_len {
            None => checksum(self.sequence, payload),
            Some(raw_len) => lz4_checksum(self.sequence, raw_len, payload),
        }
    }
}

/// Returns whether `window` is one of the block magics.
fn is_magic(window: &[u8]) -> bool {
    window == BLOCK_MAGIC || window == LZ4_BLOCK_MAGIC
}

/// Iterates over the blocks of `input`, yielding each block whose checksum matches and each
/// damaged region.
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
            .position(is_magic)
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

        let magic = rest.get(..BLOCK_MAGIC.len());
        if magic.is_some_and(|magic| !is_magic(magic)) {
            let resume = self.resync(self.position + 1);
            self.position = resume;
            return Some(Err(BlockError::Garbage {
                offset,
                resume: self.base_offset + resume,
            }));
        }
        let compressed = magic == Some(&LZ4_BLOCK_MAGIC[..]);
        let header = match Header::read(rest, compressed) {
            Ok(header) => header,
            Err(needed) => {
                self.position = self.input.len();
                return Some(Err(BlockError::Truncated {
                    offset,
                    needed,
                    available: rest.len(),
                }));
            }
        };

        let len = header.payload_len;
        if len > MAX_PAYLOAD_LEN {
            self.position = self.resync(self.position + 1);
            return Some(Err(BlockError::TooLarge { offset, len }));
        }
        if rest.len() - header.len < len {
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
                needed: header.len + len,
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
        let payload = &rest[header.len..header.len + len];
        let found = header.checksum_of(payload);
        if found != header.checksum {
            self.failed_checksum_bytes += len;
            self.position = self.resync(self.position + 1);
            return Some(Err(BlockError::Checksum {
                offset,
                stored: header.checksum,
                found,
            }));
        }

        self.position += header.len + len;
        let encoding = match header.raw_len {
            None => Encoding::Plain,
            Some(raw_len) if raw_len as usize > MAX_RAW_LEN => {
                return Some(Err(BlockError::RawTooLarge {
                    offset,
                    len: raw_len as usize,
                }));
            }
            Some(raw_len) => Encoding::Lz4 {
                raw_len: raw_len as usize,
            },
        };
        Some(Ok(Block {
            offset,
            sequence: header.sequence,
            stored: payload,
            encoding,
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

    /// Entries that compress well: the same short text many times.
    fn repetitive(len: usize) -> Vec<u8> {
        b"fill 300 @ 101.25 venue XNAS; "
            .iter()
            .copied()
            .cycle()
            .take(len)
            .collect()
    }

    /// Builds a compressed block of `raw`, a plain block, and a second compressed block.
    fn mixed_blocks(raw: &[u8]) -> Vec<u8> {
        let mut compressor = Lz4Compressor::new();
        let mut out = Vec::new();
        let start = begin(&mut out);
        out.extend_from_slice(raw);
        assert!(compressor.finish(&mut out, start, 0));
        let start = begin(&mut out);
        out.extend_from_slice(b"plain");
        finish(&mut out, start, 1);
        let start = begin(&mut out);
        out.extend_from_slice(raw);
        assert!(compressor.finish(&mut out, start, 2));
        out
    }

    /// Builds a compressed block with any stored bytes and stated length, and a matching
    /// checksum.
    fn forged_lz4_block(sequence: u32, raw_len: u32, stored: &[u8]) -> Vec<u8> {
        let header = Lz4BlockHeader {
            magic: LZ4_BLOCK_MAGIC,
            sequence: U32::new(sequence),
            payload_len: U32::new(stored.len() as u32),
            checksum: U32::new(lz4_checksum(sequence, raw_len, stored)),
            raw_len: U32::new(raw_len),
        };
        [header.as_bytes(), stored].concat()
    }

    #[test]
    fn reads_intact_blocks() {
        let bytes = two_blocks();
        let blocks: Vec<_> = BlockReader::new(&bytes, 100).collect();
        assert_eq!(blocks.len(), 2);
        let first = blocks[0].clone().unwrap();
        assert_eq!(first.stored, b"first");
        assert_eq!(first.encoding, Encoding::Plain);
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
        assert_eq!(blocks[1].clone().unwrap().stored, b"second block");
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

    #[test]
    fn compressed_block_round_trips() {
        let raw = repetitive(64 << 10);
        let bytes = mixed_blocks(&raw);
        assert!(bytes.len() < raw.len() / 4, "{} bytes", bytes.len());

        let blocks: Vec<_> = BlockReader::new(&bytes, 0)
            .map(|block| block.unwrap())
            .collect();
        assert_eq!(blocks.len(), 3);
        assert_eq!(blocks[0].encoding, Encoding::Lz4 { raw_len: raw.len() });
        assert_eq!(blocks[1].encoding, Encoding::Plain);
        assert_eq!(blocks[2].offset, blocks[0].len() + blocks[1].len());

        let mut scratch = Vec::new();
        assert_eq!(blocks[0].entries(&mut scratch).unwrap(), raw);
        assert_eq!(blocks[1].entries(&mut scratch).unwrap(), b"plain");
        assert_eq!(blocks[2].entries(&mut scratch).unwrap(), raw);

        let mut out = b"prefix".to_vec();
        let range = blocks[2].decompress_into(&mut out).unwrap();
        assert_eq!(range, 6..6 + raw.len());
        assert_eq!(&out[range], raw);
    }

    #[test]
    fn incompressible_or_huge_payload_stays_plain() {
        let mut compressor = Lz4Compressor::new();
        for payload in [b"short".to_vec(), repetitive(MAX_RAW_LEN + 1)] {
            let mut out = Vec::new();
            let start = begin(&mut out);
            out.extend_from_slice(&payload);
            assert!(!compressor.finish(&mut out, start, 0));
            let block = BlockReader::new(&out, 0).next().unwrap().unwrap();
            assert_eq!(block.encoding, Encoding::Plain);
            assert_eq!(block.stored, payload);
        }
    }

    #[test]
    fn flipped_bit_in_compressed_block_damages_only_it() {
        let bytes = mixed_blocks(&repetitive(4096));
        let first_len = BlockReader::new(&bytes, 0).next().unwrap().unwrap().len();
        for position in [4, 8, 12, 16, 19, LZ4_HEADER_LEN, first_len - 1] {
            let mut damaged = bytes.clone();
            damaged[position] ^= 0x10;
            let blocks: Vec<_> = BlockReader::new(&damaged, 0).collect();
            assert!(blocks[0].is_err(), "bit flipped at {position}");
            assert_eq!(blocks[0].clone().unwrap_err().offset(), 0);
            let intact: Vec<u32> = blocks
                .iter()
                .filter_map(|block| block.as_ref().ok().map(|block| block.sequence))
                .collect();
            assert_eq!(intact, [1, 2], "bit flipped at {position}");
        }
    }

    #[test]
    fn every_cut_of_compressed_block_reports_truncation() {
        let bytes = mixed_blocks(&repetitive(4096));
        let blocks: Vec<_> = BlockReader::new(&bytes, 0).map(Result::unwrap).collect();
        let last = blocks[2].offset;
        for cut in last + 1..bytes.len() {
            let read: Vec<_> = BlockReader::new(&bytes[..cut], 0).collect();
            assert_eq!(read.len(), 3, "cut at {cut}");
            let error = read[2].clone().unwrap_err();
            assert!(
                matches!(error, BlockError::Truncated { offset, .. } if offset == last),
                "cut at {cut}: {error}"
            );
        }
    }

    #[test]
    fn garbage_resyncs_at_compressed_block() {
        let mut bytes = b"junk bytes".to_vec();
        bytes.extend(mixed_blocks(&repetitive(4096)));
        let blocks: Vec<_> = BlockReader::new(&bytes, 0).collect();
        assert_eq!(
            blocks[0],
            Err(BlockError::Garbage {
                offset: 0,
                resume: 10
            })
        );
        assert_eq!(blocks[1].clone().unwrap().offset, 10);
        assert_eq!(blocks.len(), 4);
    }

    #[test]
    fn stated_length_above_maximum_is_rejected() {
        let mut bytes = forged_lz4_block(0, MAX_RAW_LEN as u32 + 1, b"\x10a");
        bytes.extend(two_blocks());
        let blocks: Vec<_> = BlockReader::new(&bytes, 0).collect();
        assert_eq!(
            blocks[0],
            Err(BlockError::RawTooLarge {
                offset: 0,
                len: MAX_RAW_LEN + 1
            })
        );
        let message = blocks[0].clone().unwrap_err().to_string();
        assert!(message.contains("1048577"), "{message}");
        assert!(message.contains("1048576"), "{message}");
        assert_eq!(blocks[1].clone().unwrap().stored, b"first");
        assert_eq!(blocks.len(), 3);
    }

    #[test]
    fn invalid_lz4_with_matching_checksum_is_reported() {
        let raw = repetitive(1000);
        let compressed = lz4_flex::block::compress(&raw);
        let cases: [(&str, u32, Vec<u8>); 3] = [
            ("decompresses to only 1000", 1001, compressed.clone()),
            ("decompresses to more", 999, compressed.clone()),
            ("not valid LZ4 data", 1000, vec![0xf0; 8]),
        ];
        for (expected, raw_len, stored) in cases {
            let bytes = forged_lz4_block(3, raw_len, &stored);
            let block = BlockReader::new(&bytes, 50).next().unwrap().unwrap();
            let mut out = b"kept".to_vec();
            let error = block.decompress_into(&mut out).unwrap_err();
            assert_eq!(out, b"kept", "{expected}");
            assert_eq!(error.offset(), 50);
            let message = error.to_string();
            assert!(message.contains(expected), "{message}");
            assert!(
                message.contains(&format!("states {raw_len} bytes")),
                "{message}"
            );
        }
    }
}
