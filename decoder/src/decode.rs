//! The decoder: collects sources, decodes each file (several at a time when asked), joins
//! the files' tables in process-run order, and orders the events.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;

use ulog_schema::header::FileHeader;

use crate::events::{Damage, Decoded, Site, Thread};
use crate::input::{read_input, Input, InputError, Source};
use crate::order::{Ordered, Run};
use crate::parallel;
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

    /// Decodes every source on the calling thread. Whatever cannot be decoded is listed in
    /// [`Decoded::damage`], and everything intact is in [`Decoded::events`].
    pub fn decode(self) -> Decoded {
        self.decode_parallel(NonZeroUsize::MIN)
    }

    /// Decodes every source as [`Decoder::decode`] does, with up to `jobs` files decoded at
    /// the same time. The result is the same for every `jobs`.
    pub fn decode_parallel(self, jobs: NonZeroUsize) -> Decoded {
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

        let mut merged = Merged::default();
        let mut headers = Vec::new();
        for (index, source) in sources.iter().enumerate() {
            match FileHeader::decode(&source.bytes) {
                Ok((header, len)) => headers.push((index, header, len)),
                Err(error) => merged.damage.push(Damage {
                    path: source.name.clone(),
                    offset: 0,
                    message: error.to_string(),
                }),
            }
        }
        headers
            .sort_by_key(|(_, header, _)| (header.start_unix_ns, header.pid, header.file_sequence));

        let parts = parallel::map(&headers, jobs, |(index, header, header_len)| {
            let source = &sources[*index];
            let segment = Segment {
                file: *index as u32,
                name: &source.name,
                bytes: &source.bytes,
                header,
                header_len: *header_len,
            };
            let mut tables = Tables::default();
            let decompressed = segment::decode(&mut tables, &segment);
            (tables, decompressed)
        });
        for ((part, decompressed), (index, header, _)) in parts.into_iter().zip(&headers) {
            // Records of compressed blocks point past the file's own bytes, into this.
            sources[*index].bytes.extend_from_slice(&decompressed);
            merged.add(part, header);
        }

        Decoded {
            files: sources,
            sites: merged.sites,
            threads: merged.threads,
            ordered: Ordered::new(merged.runs),
            damage: merged.damage,
        }
    }
}

/// Identity of a thread across the files of one process run: pid, start time, thread id.
type ThreadKey = (u32, u64, u32);

/// The tables of every file decoded so far, joined in process-run order.
#[derive(Debug, Default)]
struct Merged {
    sites: Vec<Site>,
    threads: Vec<Thread>,
    thread_index: HashMap<ThreadKey, u32>,
    /// Each file's runs, in process-run order.
    runs: Vec<Run>,
    /// Latest timestamp of each thread in the files joined so far, by thread index.
    latest: Vec<i64>,
    damage: Vec<Damage>,
}

impl Merged {
    /// Joins one file's tables, which must come after every file joined so far in
    /// process-run order. The result equals decoding all those files into one table.
    fn add(&mut self, mut part: Tables, header: &FileHeader) {
        let site_offset = self.sites.len() as u32;
        self.sites.append(&mut part.sites);
        self.damage.append(&mut part.damage);

        let mut runs = part.timeline.take_runs();
        runs.resize_with(part.threads.len(), Default::default);
        for (thread, mut run) in part.threads.into_iter().zip(runs) {
            let key = (thread.pid, header.start_unix_ns, thread.id);
            let index = match self.thread_index.get(&key) {
                Some(&index) => {
                    // A later file's definition of the thread's name wins, as within a file.
                    self.threads[index as usize].name = thread.name;
                    index
                }
                None => {
                    let index = self.threads.len() as u32;
                    self.thread_index.insert(key, index);
                    self.threads.push(thread);
                    self.latest.push(i64::MIN);
                    index
                }
            };
            let latest = &mut self.latest[index as usize];
            run.rise_to(*latest);
            *latest = run.last_ts().unwrap_or(*latest);
            run.thread = index;
            run.site_offset = site_offset;
            self.runs.push(run);
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
