//! The decoder: collects sources, decodes them in process-run order, and orders the events.

use std::collections::HashSet;

use ulog_schema::header::FileHeader;

use crate::events::{Damage, Decoded};
use crate::input::{read_input, Input, InputError, Source};
use crate::segment::{self, Segment, Tables};

/// Collects segment files, then decodes them together into one ordered stream.
///
/// Files may come in any order: the decoder reads each process run's files by their
/// sequence number, so a thread's records keep their order across file rotation. A file
/// named twice, for example directly and through its directory, is read once.
#[derive(Debug, Default)]
pub struct Decoder {
    sources: Vec<Source>,
}

impl Decoder {
    /// Creates a decoder with no sources.
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Reads the segments an input names.
    ///
    /// # Errors
    ///
    /// Fails as [`read_input`] does; the decoder is unchanged then.
    pub fn add_input(&mut self, input: &Input) -> Result<&mut Decoder, InputError> {
        self.sources.extend(read_input(input)?);
        Ok(self)
    }

    /// Adds a segment held in memory, reported under `name`.
    pub fn add_bytes(&mut self, name: impl Into<String>, bytes: Vec<u8>) -> &mut Decoder {
        self.add_source(Source {
            name: name.into(),
            path: None,
            bytes,
        })
    }

    /// Adds a source read elsewhere.
    pub fn add_source(&mut self, source: Source) -> &mut Decoder {
        self.sources.push(source);
        self
    }

    /// Decodes every source. Whatever cannot be decoded is listed in [`Decoded::damage`],
    /// and everything intact is in [`Decoded::events`].
    pub fn decode(self) -> Decoded {
        let mut seen = HashSet::new();
        let mut sources: Vec<Source> = self
            .sources
            .into_iter()
            .filter(|source| {
                source
                    .path
                    .as_ref()
                    .is_none_or(|path| seen.insert(path.clone()))
            })
            .collect();

        let mut tables = Tables::default();
        let mut headers = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            match FileHeader::decode(&source.bytes) {
                Ok((header, len)) => headers.push((index, header, len)),
                Err(error) => tables.damage.push(Damage {
                    path: source.name.clone(),
                    offset: 0,
                    message: error.to_string(),
                }),
            }
        }
        headers
            .sort_by_key(|(_, header, _)| (header.start_unix_ns, header.pid, header.file_sequence));

        for (index, header, header_len) in &headers {
            let source = &sources[*index];
            let segment = Segment {
                file: *index as u32,
                name: &source.name,
                bytes: &source.bytes,
                header,
                header_len: *header_len,
            };
            let decompressed = segment::decode(&mut tables, &segment);
            sources[*index].bytes.extend_from_slice(&decompressed);
        }

        Decoded {
            files: sources,
            sites: tables.sites,
            threads: tables.threads,
            slots: tables.timeline.into_ordered(),
            damage: tables.damage,
        }
    }
}

/// Reads and decodes `inputs` in one step.
///
/// # Errors
///
/// Fails on the first input that cannot be read; see [`read_input`]. Damage inside files is
/// no error: it is listed in [`Decoded::damage`].
pub fn decode_paths(inputs: &[Input]) -> Result<Decoded, InputError> {
    if inputs.is_empty() {
        return Err(InputError::Empty);
    }
    let mut decoder = Decoder::new();
    for input in inputs {
        decoder.add_input(input)?;
    }
    Ok(decoder.decode())
}
