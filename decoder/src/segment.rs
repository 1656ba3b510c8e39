//! Decoding one segment file into events, and reporting its damage.
//!
//! A file's blocks are read in order. Each intact block's entries update the file's
//! dictionary (sites, threads, the current clock) or add an event. Anything wrong is reported
//! with its byte offset in the file and skipped: a damaged block costs that block, a bad
//! entry costs that entry, and decoding goes on with the next one.
//!
//! A hostile file cannot make the decoder allocate more than a fixed bound per entry. A block
//! payload is at most [`block::MAX_PAYLOAD_LEN`] stored and [`block::MAX_RAW_LEN`] once
//! decompressed, and every length inside it (of an entry, a string, a run's arguments) is
//! checked against the bytes left before it is used. Decoded entries borrow from the file or
//! its decompressed blocks instead of copying, a site has at most
//! [`ulog_schema::entry::MAX_ARGS`] arguments, a record costs one fixed-size slot, and
//! rendering caps widths and precisions at [`crate::MAX_RENDERED_WIDTH`]. The damage listed
//! per file stops at [`MAX_REPORTS_PER_FILE`], and the checksum work spent on damaged blocks at
//! [`block::MAX_FAILED_CHECKSUM_RATIO`] times the file's size.

// foldhash rather than the standard SipHash: the record loop looks up a site per record.
use foldhash::HashMap;

use ulog_schema::block::{self, BlockError};
use ulog_schema::entry::{
    kind, read_fixed, ClockEntry, DropsEntry, EndEntry, Entry, EntryError, SiteDef, ThreadDef,
};
use ulog_schema::header::{ClockSync, FileHeader};
use ulog_schema::record::{args_len, decode_args, read_record};
use ulog_schema::run::RunReader;
use ulog_schema::ArgKind;

use crate::events::{Damage, Site, Slot, Thread, DROP_MARKER};
use crate::expand::{self, BlockEntries};
use crate::message::Template;
use crate::order::Timeline;

/// Identity of a thread across the files of one process run: pid, start time, thread id.
type ThreadKey = (u32, u64, u32);

/// Sites, threads, events and damage gathered from the files decoded so far.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub sites: Vec<Site>,
    pub threads: Vec<Thread>,
    thread_index: HashMap<ThreadKey, u32>,
    pub timeline: Timeline,
    pub damage: Vec<Damage>,
}

/// One file being decoded.
pub(crate) struct Segment<'a> {
    /// Index of the file among the decoder's sources.
    pub file: u32,
    /// Name to report damage under.
    pub name: &'a str,
    /// The whole file.
    pub bytes: &'a [u8],
    pub header: &'a FileHeader,
    pub header_len: usize,
}

/// The per-file dictionary and counters.
struct State<'t, 'a> {
    tables: &'t mut Tables,
    segment: &'t Segment<'a>,
    /// Entries of the file's compressed blocks, decompressed.
    decompressed: &'a [u8],
    /// Offset of the block being read, if it is compressed.
    compressed_block: Option<usize>,
    /// File-local site ids to site indexes, with the body that defined each, so a block that
    /// repeats a definition costs no new site.
    sites: HashMap<u32, (u32, &'a [u8])>,
    /// File-local thread ids to thread indexes.
    threads: HashMap<u32, u32>,
    clock: ClockSync,
    /// Timestamp of each thread's latest record in this file, by thread index.
    latest: HashMap<u32, i64>,
    end: Option<(usize, EndEntry)>,
    records: u64,
    dropped: u64,
    damaged: bool,
    /// Problems found in this file beyond [`MAX_REPORTS_PER_FILE`], counted but not listed.
    unreported: u64,
    /// Intact blocks by sequence number, with the offset and checksum of the first one.
    blocks: HashMap<u32, (usize, u32)>,
    /// Sequence number of the latest intact block.
    previous_block: Option<u32>,
    /// One more than the highest sequence number seen: the next block's number when none is
    /// missing.
    next_block: u64,
    /// Whether damage was found between blocks since the latest intact block, which explains
    /// a gap in the sequence numbers.
    damage_since_block: bool,
}

/// Problems listed per file; a hostile file could otherwise produce one line per record.
const MAX_REPORTS_PER_FILE: usize = 100;

/// Offset of the checksum in a block header, plain or compressed.
const CHECKSUM_OFFSET: usize = 12;

/// Decodes one file's blocks into `tables`. Returns the decompressed entries of the file's
/// compressed blocks. The caller appends them to the file's bytes, because the records of
/// those blocks point at their arguments there.
pub(crate) fn decode(tables: &mut Tables, segment: &Segment<'_>) -> Vec<u8> {
    let (blocks, decompressed) = expand::read_blocks(segment.bytes, segment.header_len);
    let mut state = State {
        tables,
        segment,
        decompressed: &decompressed,
        compressed_block: None,
        sites: HashMap::default(),
        threads: HashMap::default(),
        clock: segment.header.clock,
        latest: HashMap::default(),
        end: None,
        records: 0,
        dropped: 0,
        damaged: false,
        unreported: 0,
        blocks: HashMap::default(),
        previous_block: None,
        next_block: 0,
        damage_since_block: false,
    };

    for block in blocks {
        match block {
            Ok(block) => {
                if state.check_sequence(&block) {
                    state.block(block);
                }
            }
            Err(error) => {
                state.damage_since_block = true;
                state.report(error.offset(), block_problem(&error));
            }
        }
    }

    state.finish();
    decompressed
}

/// Describes a block error without its offset, which the damage line already gives.
fn block_problem(error: &BlockError) -> String {
    match error {
        BlockError::Truncated {
            needed, available, ..
        } => format!("truncated block: it needs {needed} bytes, and only {available} remain"),
        BlockError::Garbage { resume, .. } => {
            format!("damaged data up to byte offset {resume}: no block header found, skipped")
        }
        BlockError::TooLarge { len, .. } => format!(
            "damaged block: payload length {len} exceeds the maximum {}",
            block::MAX_PAYLOAD_LEN
        ),
        BlockError::Checksum { stored, found, .. } => format!(
            "damaged block: checksum {found:#010x} does not match the stored {stored:#010x}, skipped"
        ),
        BlockError::TooMuchDamage { hashed, .. } => format!(
            "too much damage: blocks with failed checksums claimed {hashed} bytes of payload, \
             more than {} times the file, so the rest of the file is skipped",
            block::MAX_FAILED_CHECKSUM_RATIO
        ),
        BlockError::RawTooLarge { len, .. } => format!(
            "damaged block: uncompressed length {len} exceeds the maximum {}, skipped",
            block::MAX_RAW_LEN
        ),
        BlockError::Decompress { stated, detail, .. } => format!(
            "damaged compressed block: its header states {stated} bytes of entries, and {detail}, \
             skipped"
        ),
    }
}

impl<'a> State<'_, 'a> {
    /// Reports a problem at `offset` in the file, or, inside a compressed block, at `offset`
    /// in its decompressed entries.
    fn report(&mut self, offset: usize, message: impl Into<String>) {
        let (offset, message) = match self.compressed_block {
            Some(block) => (
                block,
                format!(
                    "{} (in the compressed block at this offset, at byte {offset} of its entries)",
                    message.into()
                ),
            ),
            None => (offset, message.into()),
        };
        self.damaged = true;
        let name = self.segment.name;
        let listed = self
            .tables
            .damage
            .iter()
            .rev()
            .take_while(|damage| damage.path == name)
            .count();
        if listed >= MAX_REPORTS_PER_FILE {
            self.unreported += 1;
            return;
        }
        self.tables.damage.push(Damage {
            path: self.segment.name.to_owned(),
            offset: offset as u64,
            message,
        });
    }

    /// Checks a block's sequence number against the blocks before it, and reports a repeated
    /// block, a gap that no damage explains, or blocks out of order. Returns whether to decode
    /// the block: an exact copy of an earlier block is skipped, since its records would
    /// appear twice.
    fn check_sequence(&mut self, block: &BlockEntries) -> bool {
        let sequence = block.sequence;
        let checksum_at = block.offset + CHECKSUM_OFFSET;
        let checksum_bytes = &self.segment.bytes[checksum_at..checksum_at + 4];
        let checksum = u32::from_le_bytes(checksum_bytes.try_into().expect("4 bytes"));
        let damage_since_block = std::mem::take(&mut self.damage_since_block);

        if let Some(&(first, first_checksum)) = self.blocks.get(&sequence) {
            if first_checksum == checksum {
                self.report(
                    block.offset,
                    format!("block {sequence} repeats the block at byte offset {first}, skipped"),
                );
                return false;
            }
            self.report(
                block.offset,
                format!(
                    "block {sequence} has the sequence number of the block at byte offset \
                     {first} and other contents; decoded anyway"
                ),
            );
        } else if u64::from(sequence) > self.next_block && !damage_since_block {
            let missing = if u64::from(sequence) == self.next_block + 1 {
                format!("block {} is missing", self.next_block)
            } else {
                format!("blocks {} to {} are missing", self.next_block, sequence - 1)
            };
            self.report(block.offset, format!("{missing} before block {sequence}"));
        } else if u64::from(sequence) < self.next_block {
            if let Some(previous) = self.previous_block {
                self.report(
                    block.offset,
                    format!(
                        "block {sequence} comes after block {previous}: blocks are out of order"
                    ),
                );
            }
        }

        self.blocks
            .entry(sequence)
            .or_insert((block.offset, checksum));
        self.previous_block = Some(sequence);
        self.next_block = self.next_block.max(u64::from(sequence) + 1);
        true
    }

    fn block(&mut self, block: BlockEntries) {
        let (payload, payload_offset) = if block.decompressed {
            self.compressed_block = Some(block.offset);
            (&self.decompressed[block.range], 0)
        } else {
            let payload = &self.segment.bytes[block.range];
            (payload, block.offset + block::HEADER_LEN)
        };
        for entry in ulog_schema::entry::EntryReader::new(payload) {
            match entry {
                Ok(entry) => self.entry(payload_offset, entry),
                Err(error) => {
                    let (at, problem) = match error {
                        EntryError::BadLength { offset } => {
                            (offset, "entry length is truncated, rest of block skipped".into())
                        }
                        EntryError::Overrun {
                            offset,
                            len,
                            available,
                        } => (
                            offset,
                            format!(
                                "entry claims {len} bytes, and only {available} remain in its block, \
                                 rest of block skipped"
                            ),
                        ),
                        other @ EntryError::Malformed { .. } => (0, other.to_string()),
                    };
                    self.report(payload_offset + at, problem);
                }
            }
        }
        self.compressed_block = None;
    }

    fn entry(&mut self, payload_offset: usize, entry: Entry<'a>) {
        let at = payload_offset + entry.offset;
        let result = match entry.kind {
            kind::SITE => self.site(entry.body),
            kind::THREAD => self.thread(entry.body),
            kind::RECORD => self.record(entry.body),
            kind::RUN => {
                self.run(at + entry_header_len(entry), entry.body);
                Ok(())
            }
            kind::CLOCK => self.clock(entry.body),
            kind::DROPS => self.drops(entry.body),
            kind::END => read_fixed::<EndEntry>("end", entry.body)
                .map(|end| self.end = Some((self.compressed_block.unwrap_or(at), end)))
                .map_err(|error| error.to_string()),
            _ => Ok(()),
        };
        if let Err(problem) = result {
            self.report(at, problem);
        }
    }

    fn site(&mut self, body: &'a [u8]) -> Result<(), String> {
        let def = SiteDef::decode(body).map_err(|error| error.to_string())?;
        if self
            .sites
            .get(&def.id)
            .is_some_and(|&(_, defined_by)| defined_by == body)
        {
            return Ok(());
        }
        let kinds: Box<[ArgKind]> = def.args.iter().map(|arg| arg.kind).collect();
        let template = Template::new(def.format, &kinds).map_err(|error| error.to_string());
        let index = self.tables.sites.len() as u32;
        self.tables.sites.push(Site {
            file: self.segment.file,
            level: def.level,
            line: def.line,
            module: def.module.into(),
            source_file: def.file.into(),
            format: def.format.into(),
            kinds,
            names: def.args.iter().map(|arg| arg.name.into()).collect(),
            template: template.clone(),
        });
        self.sites.insert(def.id, (index, body));

        template.map(|_| ()).map_err(|problem| {
            format!(
                "call site {} ({}:{}) cannot render its messages: {problem}; \
                 its records show the raw format string",
                def.id, def.file, def.line
            )
        })
    }

    fn thread(&mut self, body: &[u8]) -> Result<(), String> {
        let def = ThreadDef::decode(body).map_err(|error| error.to_string())?;
        let header = self.segment.header;
        let key = (header.pid, header.start_unix_ns, def.id);
        let tables = &mut *self.tables;
        let index = *tables.thread_index.entry(key).or_insert_with(|| {
            tables.threads.push(Thread {
                pid: header.pid,
                id: def.id,
                name: def.name.into(),
            });
            tables.threads.len() as u32 - 1
        });
        let thread = &mut tables.threads[index as usize];
        if *thread.name != *def.name {
            thread.name = def.name.into();
        }
        self.threads.insert(def.id, index);
        Ok(())
    }

    fn thread_index(&self, id: u32, entry_name: &str) -> Result<u32, String> {
        self.threads.get(&id).copied().ok_or_else(|| {
            format!(
                "{entry_name} names thread {id}, which no earlier thread entry in this file \
                 defines, skipped"
            )
        })
    }

    fn record(&mut self, body: &[u8]) -> Result<(), String> {
        let (header, args) = read_record(body).map_err(|error| error.to_string())?;
        let site_id = header.site.get();
        let (site, _) = *self.sites.get(&site_id).ok_or_else(|| {
            format!(
                "record names call site {site_id}, which no earlier site entry in this file \
                 defines, skipped"
            )
        })?;
        let thread = self.thread_index(header.thread.get(), "record")?;

        check_args(&self.tables.sites[site as usize].kinds, args)
            .map_err(|problem| format!("record of call site {site_id}: {problem}, skipped"))?;

        let ts_ns = saturate(self.clock.to_unix_ns(header.ticks.get()));
        self.latest.insert(thread, ts_ns);
        self.records += 1;
        self.tables.timeline.push(Slot {
            ts_ns,
            data: self.data_offset(args) as u64,
            site,
            thread,
            len: args.len() as u32,
            packed: false,
        });
        Ok(())
    }

    /// Reads a RUN entry whose body starts at file offset `at`. Damage costs the rest of the
    /// run and is reported at the damaged record's offset.
    fn run(&mut self, at: usize, body: &[u8]) {
        let mut reader = match RunReader::new(body) {
            Ok(reader) => reader,
            Err(error) => {
                self.report(at, format!("{}, run skipped", error.detail));
                return;
            }
        };
        let thread = match self.thread_index(reader.thread(), "run") {
            Ok(thread) => thread,
            Err(problem) => return self.report(at, problem),
        };
        let mut latest = None;
        let mut damage = None;
        let (origin, origin_offset) = self.data_origin();
        let sites = &self.sites;
        let tables = &mut *self.tables;
        loop {
            let mut site = 0;
            let next = reader.next_record(|id| {
                let (index, _) = *sites.get(&id)?;
                site = index;
                Some(&*tables.sites[index as usize].kinds)
            });
            let record = match next {
                None => break,
                Some(Ok(record)) => record,
                Some(Err(error)) => {
                    damage = Some(error);
                    break;
                }
            };
            let ts_ns = saturate(self.clock.to_unix_ns(record.ticks));
            latest = Some(ts_ns);
            self.records += 1;
            tables.timeline.push(Slot {
                ts_ns,
                data: (origin_offset + offset_in(origin, record.args)) as u64,
                site,
                thread,
                len: record.args.len() as u32,
                packed: true,
            });
        }
        if let Some(ts_ns) = latest {
            self.latest.insert(thread, ts_ns);
        }
        if let Some(error) = damage {
            let message = format!("damaged run record: {}; rest of run skipped", error.detail);
            self.report(at + error.offset, message);
        }
    }

    /// Returns the bytes that the current block's entries lie in, and the offset of those
    /// bytes in the file's bytes with its decompressed entries appended.
    fn data_origin(&self) -> (&'a [u8], usize) {
        match self.compressed_block {
            Some(_) => (self.decompressed, self.segment.bytes.len()),
            None => (self.segment.bytes, 0),
        }
    }

    /// Position of a record's argument bytes in the file's bytes with its decompressed
    /// entries appended.
    fn data_offset(&self, args: &[u8]) -> usize {
        let (origin, origin_offset) = self.data_origin();
        origin_offset + offset_in(origin, args)
    }

    fn clock(&mut self, body: &[u8]) -> Result<(), String> {
        let entry: ClockEntry = read_fixed("clock", body).map_err(|error| error.to_string())?;
        self.clock = ClockSync {
            ticks_per_second: entry.ticks_per_second.get(),
            anchor_ticks: entry.ticks.get(),
            anchor_unix_ns: entry.unix_ns.get(),
        };
        Ok(())
    }

    fn drops(&mut self, body: &[u8]) -> Result<(), String> {
        let entry: DropsEntry = read_fixed("drops", body).map_err(|error| error.to_string())?;
        let thread = self.thread_index(entry.thread.get(), "drop marker")?;
        let count = entry.count.get();
        self.dropped = self.dropped.saturating_add(count);
        if count == 0 {
            return Ok(());
        }
        let file_start = saturate(i128::from(self.segment.header.clock.anchor_unix_ns));
        let ts_ns = self.latest.get(&thread).copied().unwrap_or(file_start);
        self.tables.timeline.push(Slot {
            ts_ns,
            data: count,
            site: DROP_MARKER,
            thread,
            len: 0,
            packed: false,
        });
        Ok(())
    }

    fn finish(mut self) {
        self.report_end();
        if self.unreported > 0 {
            let message = format!(
                "{} more problems in this file were found and not listed",
                self.unreported
            );
            self.tables.damage.push(Damage {
                path: self.segment.name.to_owned(),
                offset: self.segment.bytes.len() as u64,
                message,
            });
        }
    }

    fn report_end(&mut self) {
        let Some((at, end)) = self.end else {
            self.report(
                self.segment.bytes.len(),
                "file ends without an end marker: the writer was killed or is still running",
            );
            return;
        };
        let (records, dropped) = (end.records.get(), end.dropped.get());
        if !self.damaged && (records, dropped) != (self.records, self.dropped) {
            self.report(
                at,
                format!(
                    "end marker counts {records} records and {dropped} dropped, and the file holds \
                     {} and {}: blocks are missing",
                    self.records, self.dropped
                ),
            );
        }
    }
}

/// Checks that `args` contains exactly one valid value of each kind.
///
/// Only `bool` and `char` have byte patterns that are invalid at the right length, so the
/// values themselves are decoded only when one of those kinds is present.
fn check_args(kinds: &[ArgKind], args: &[u8]) -> Result<(), String> {
    let needs_values = kinds
        .iter()
        .any(|kind| matches!(kind, ArgKind::Bool | ArgKind::Char));
    let used = match args_len(kinds.iter().copied(), args) {
        Some(used) if !needs_values => used,
        _ => {
            decode_args(kinds.iter().copied(), args)
                .map_err(|error| error.to_string())?
                .1
        }
    };
    let extra = args.len() - used;
    match extra {
        0 => Ok(()),
        1 => Err("1 byte follows its arguments".to_owned()),
        _ => Err(format!("{extra} bytes follow its arguments")),
    }
}

/// Bytes of an entry's kind and length in front of its body.
fn entry_header_len(entry: Entry<'_>) -> usize {
    ulog_schema::entry::header_len(entry.body.len())
}

/// Clamps a time in nanoseconds to what an `i64` holds: the years 1677 to 2262.
fn saturate(ns: i128) -> i64 {
    i64::try_from(ns).unwrap_or(if ns < 0 { i64::MIN } else { i64::MAX })
}

/// Position of `inner` within `outer`, which must contain it.
fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    inner.as_ptr() as usize - outer.as_ptr() as usize
}
