//! The file header: identity of the writing process and the clock calibration.

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::{ClockSource, VERSION_MAJOR, VERSION_MINOR};

/// First eight bytes of every segment file.
pub const MAGIC: [u8; 8] = *b"ULOGSEG\0";

/// Maximum length of a stored host or program name. Longer names are cut at a character
/// boundary.
pub const MAX_NAME_LEN: usize = 255;

/// Fixed part of the header. The host and program names follow it, each as a one-byte length
/// and that many UTF-8 bytes, and `header_len` counts all of it.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct FixedHeader {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// Major format version; readers reject a larger one.
    pub version_major: U16,
    /// Minor format version; readers accept any.
    pub version_minor: U16,
    /// Bytes from the start of the file to the first block. Readers skip any header fields a
    /// later minor version adds.
    pub header_len: U32,
    /// Process id of the writer.
    pub pid: U32,
    /// [`ClockSource`] of record ticks.
    pub clock_source: u8,
    /// Zero.
    pub reserved: [u8; 3],
    /// Sequence number of this file, increasing within one process.
    pub file_sequence: U32,
    /// Wall time when the logger started, in nanoseconds since the Unix epoch.
    pub start_unix_ns: U64,
    /// Clock ticks per second.
    pub ticks_per_second: U64,
    /// A tick value of the calibration anchor.
    pub anchor_ticks: U64,
    /// Wall time at `anchor_ticks`, in nanoseconds since the Unix epoch.
    pub anchor_unix_ns: U64,
}

/// A whole header, with its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// Major format version.
    pub version_major: u16,
    /// Minor format version.
    pub version_minor: u16,
    /// Process id of the writer.
    pub pid: u32,
    /// Clock of record ticks.
    pub clock_source: ClockSource,
    /// Sequence number of this file, increasing within one process.
    pub file_sequence: u32,
    /// Wall time when the logger started, in Unix nanoseconds.
    pub start_unix_ns: u64,
    /// Clock calibration at the start of the file.
    pub clock: ClockSync,
    /// Host name of the writer.
    pub host: String,
    /// Program name of the writer.
    pub program: String,
}

/// A calibration point: one tick value, the wall time it corresponds to, and the tick rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSync {
    /// Clock ticks per second.
    pub ticks_per_second: u64,
    /// Tick value of the anchor.
    pub anchor_ticks: u64,
    /// Wall time at the anchor, in Unix nanoseconds.
    pub anchor_unix_ns: u64,
}

impl ClockSync {
    /// Converts a tick value to Unix nanoseconds, extrapolating linearly from the anchor.
    ///
    /// Ticks before the anchor give earlier times. A rate of zero, which only a damaged file
    /// holds, maps every tick to the anchor time.
    pub fn to_unix_ns(&self, ticks: u64) -> i128 {
        let delta = i128::from(ticks) - i128::from(self.anchor_ticks);
        let rate = i128::from(self.ticks_per_second.max(1));
        let offset = if self.ticks_per_second == 0 {
            0
        } else {
            delta * 1_000_000_000 / rate
        };
        i128::from(self.anchor_unix_ns) + offset
    }
}

/// Reasons a header cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The input is shorter than a header.
    #[error("file is {len} bytes, shorter than a segment header ({needed} bytes)")]
    Truncated {
        /// Bytes available.
        len: usize,
        /// Bytes needed.
        needed: usize,
    },
    /// The magic bytes are wrong.
    #[error(
        "not a ulog segment: the file does not start with the segment magic `ULOGSEG`; pass a \
         .ulog file that the ulog runtime wrote"
    )]
    BadMagic,
    /// The major version is newer than this reader.
    #[error(
        "segment format version {found_major}.{found_minor} is newer than the supported \
         {supported_major}.{supported_minor}: upgrade ulog-decode"
    )]
    NewerVersion {
        /// Major version in the file.
        found_major: u16,
        /// Minor version in the file.
        found_minor: u16,
        /// Major version of this reader.
        supported_major: u16,
        /// Minor version of this reader.
        supported_minor: u16,
    },
    /// A field contains an impossible value.
    #[error("invalid header: {0}")]
    Invalid(String),
}

impl FileHeader {
    /// Appends the encoded header to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let host = truncate_name(&self.host);
        let program = truncate_name(&self.program);
        let header_len = size_of::<FixedHeader>() + 2 + host.len() + program.len();
        let fixed = FixedHeader {
            magic: MAGIC,
            version_major: U16::new(self.version_major),
            version_minor: U16::new(self.version_minor),
            header_len: U32::new(header_len as u32),
            pid: U32::new(self.pid),
            clock_source: self.clock_source as u8,
            reserved: [0; 3],
            file_sequence: U32::new(self.file_sequence),
            start_unix_ns: U64::new(self.start_unix_ns),
            ticks_per_second: U64::new(self.clock.ticks_per_second),
            anchor_ticks: U64::new(self.clock.anchor_ticks),
            anchor_unix_ns: U64::new(self.clock.anchor_unix_ns),
        };
        out.extend_from_slice(fixed.as_bytes());
        for name in [host, program] {
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
        }
    }

    /// Reads a header from the start of `input`. Returns it and its length in bytes.
    ///
    /// # Errors
    ///
    /// Fails when `input` is too short, does not start with [`MAGIC`], has a newer major
    /// version, or holds an unknown clock source or inconsistent lengths.
    pub fn decode(input: &[u8]) -> Result<(FileHeader, usize), HeaderError> {
        let truncated = HeaderError::Truncated {
            len: input.len(),
            needed: size_of::<FixedHeader>(),
        };
        if input.len() >= MAGIC.len() && input[..MAGIC.len()] != MAGIC {
            return Err(HeaderError::BadMagic);
        }
        let (fixed, _) = FixedHeader::read_from_prefix(input).map_err(|_| truncated.clone())?;
        let version_major = fixed.version_major.get();
        if version_major > VERSION_MAJOR {
            return Err(HeaderError::NewerVersion {
                found_major: version_major,
                found_minor: fixed.version_minor.get(),
                supported_major: VERSION_MAJOR,
                supported_minor: VERSION_MINOR,
            });
        }
        let clock_source = ClockSource::try_from(fixed.clock_source)
            .map_err(|error| HeaderError::Invalid(error.to_string()))?;

        let header_len = fixed.header_len.get() as usize;
        if input.len() < header_len {
            return Err(HeaderError::Truncated {
                len: input.len(),
                needed: header_len,
            });
        }
        let mut names = &input[size_of::<FixedHeader>()..header_len.max(size_of::<FixedHeader>())];
        let mut read_name = || -> Result<String, HeaderError> {
            let (&len, rest) = names.split_first().ok_or_else(|| {
                HeaderError::Invalid(format!(
                    "header length {header_len} leaves no room for names"
                ))
            })?;
            let len = usize::from(len);
            if rest.len() < len {
                return Err(HeaderError::Invalid(format!(
                    "name of {len} bytes does not fit in header length {header_len}"
                )));
            }
            let name = String::from_utf8_lossy(&rest[..len]).into_owned();
            names = &rest[len..];
            Ok(name)
        };
        let host = read_name()?;
        let program = read_name()?;

        let header = FileHeader {
            version_major,
            version_minor: fixed.version_minor.get(),
            pid: fixed.pid.get(),
            clock_source,
            file_sequence: fixed.file_sequence.get(),
            start_unix_ns: fixed.start_unix_ns.get(),
            clock: ClockSync {
                ticks_per_second: fixed.ticks_per_second.get(),
                anchor_ticks: fixed.anchor_ticks.get(),
                anchor_unix_ns: fixed.anchor_unix_ns.get(),
            },
            host,
            program,
        };
        Ok((header, header_len))
    }
}

fn truncate_name(name: &str) -> &str {
    if name.len() <= MAX_NAME_LEN {
        return name;
    }
    let mut end = MAX_NAME_LEN;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> FileHeader {
        FileHeader {
            version_major: VERSION_MAJOR,
            version_minor: VERSION_MINOR,
            pid: 4242,
            clock_source: ClockSource::Tsc,
            file_sequence: 3,
            start_unix_ns: 1_780_000_000_000_000_000,
            clock: ClockSync {
                ticks_per_second: 2_450_000_000,
                anchor_ticks: 99,
                anchor_unix_ns: 1_780_000_000_000_000_001,
            },
            host: "host-a".into(),
            program: "trading".into(),
        }
    }

    #[test]
    fn round_trip() {
        let mut bytes = Vec::new();
        sample().encode(&mut bytes);
        let (decoded, len) = FileHeader::decode(&bytes).unwrap();
        assert_eq!(decoded, sample());
        assert_eq!(len, bytes.len());
    }

    #[test]
    fn newer_major_is_rejected_with_both_versions() {
        let mut header = sample();
        header.version_major = 2;
        header.version_minor = 0;
        let mut bytes = Vec::new();
        header.encode(&mut bytes);
        let error = FileHeader::decode(&bytes).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("2.0"), "{message}");
        assert!(message.contains("1.2"), "{message}");
    }

    #[test]
    fn bad_magic_and_truncation() {
        assert_eq!(
            FileHeader::decode(b"NOTULOG!xxxx"),
            Err(HeaderError::BadMagic)
        );
        let mut bytes = Vec::new();
        sample().encode(&mut bytes);
        for cut in 0..bytes.len() {
            assert!(FileHeader::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn clock_conversion() {
        let clock = sample().clock;
        assert_eq!(clock.to_unix_ns(99), 1_780_000_000_000_000_001);
        assert_eq!(
            clock.to_unix_ns(99 + 2_450_000_000),
            1_780_000_001_000_000_001
        );
        assert_eq!(clock.to_unix_ns(98), 1_780_000_000_000_000_001);
    }
}
