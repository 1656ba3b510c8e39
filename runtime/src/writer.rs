//! Segment files: naming, headers, blocks, per-file dictionaries and rotation.
//!
//! The writer builds one block in memory and writes it with a single `write` call once it
//! reaches [`BLOCK_TARGET`] bytes or the backend requests a flush. A site or thread is
//! defined again in every block that uses it, so each block decodes on its own: damage to
//! one block loses only that block's records, and every file decodes alone.
//!
//! Consecutive records of one thread go into one RUN entry, whose body builds up in a scratch
//! buffer: the writer converts each record's arguments from the ring encoding to the packed
//! one there, and appends the entry to the block when the run ends. A run ends when another
//! thread's record, a definition, a drop marker or a clock point comes, or when the block is
//! sealed.
//!
//! With compression on, sealing a block compresses its payload with LZ4 on the backend
//! thread; a block that does not shrink is written plain.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use ulog_schema::block::{self, Lz4Compressor};
use ulog_schema::entry::{self, ArgDef, ClockEntry, DropsEntry, EndEntry, SiteDef, ThreadDef};
use ulog_schema::header::{ClockSync, FileHeader};
use ulog_schema::run::RunBuilder;
use ulog_schema::{ClockSource, FILE_EXTENSION, VERSION_MAJOR, VERSION_MINOR};

use crate::config::Compression;
use crate::producer::ThreadShared;
use crate::site::Site;
use crate::stats::STATS;

/// Block size at which the writer writes the block out.
pub(crate) const BLOCK_TARGET: usize = 64 << 10;

/// Number of slots in the writer's site cache, a power of two.
const SITE_CACHE_SLOTS: usize = 64;

/// A site the writer has defined in a block, as the site cache keeps it.
#[derive(Debug, Clone, Copy, Default)]
struct CachedSite {
    /// Address of the `Site`; 0 in an unused slot, because no site is at address 0.
    address: usize,
    id: u32,
    /// Sequence number of the last block that defined the site.
    defined_in: u32,
}

/// Permissions of new segment files: owner reads and writes, group reads.
const FILE_MODE: u32 = 0o640;

/// Sequence number of the next segment file this process creates.
static NEXT_FILE_SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// Sequence number past which the writer stops skipping names that already exist.
const MAX_FILE_SEQUENCE: u32 = 1_000_000;

/// Identity of the writing process, repeated in every file header.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) pid: u32,
    pub(crate) host: String,
    pub(crate) program: String,
    pub(crate) start_unix_ns: u64,
    pub(crate) clock_source: ClockSource,
}

/// Writes one process run's segment files.
pub(crate) struct SegmentWriter {
    dir: PathBuf,
    prefix: String,
    identity: Identity,
    max_file_size: u64,

    file: Option<File>,
    file_sequence: u32,
    file_bytes: u64,
    block_sequence: u32,

    /// The block being built, header space included; empty when no block is open.
    block: Vec<u8>,
    /// The open RUN entry, which belongs at the end of `block`.
    run: RunBuilder,
    records_in_block: u64,
    records_in_file: u64,
    dropped_in_file: u64,

    /// File-local site id by site address, with the sequence number of the last block that
    /// defined it.
    site_ids: HashMap<usize, (u32, u32)>,
    /// Direct-mapped copies of `site_ids` entries by site address, which spare most records
    /// the hash lookup. The lookup took about a fifth of the backend's time in `perf`.
    site_cache: [CachedSite; SITE_CACHE_SLOTS],
    /// Sequence number of the last block that defined each thread id.
    threads_defined: HashMap<u32, u32>,
    /// Most recent calibration, repeated at the top of each new file.
    clock: ClockSync,
    /// Compresses sealed blocks; `None` writes them plain.
    compressor: Option<Box<Lz4Compressor>>,
    /// Records and bytes each thread added to the open block, credited to the thread's
    /// counters when the block is written or lost. One share per stretch of one thread.
    block_shares: Vec<BlockShare>,
}

/// One thread's records and bytes in the open block.
struct BlockShare {
    thread: Arc<ThreadShared>,
    records: u64,
    bytes: u64,
}

impl SegmentWriter {
    /// Creates the directory if needed and opens the first file.
    pub(crate) fn create(
        dir: &Path,
        prefix: &str,
        identity: Identity,
        max_file_size: u64,
        clock: ClockSync,
    ) -> io::Result<SegmentWriter> {
        std::fs::create_dir_all(dir)?;
        let mut writer = SegmentWriter {
            dir: dir.to_path_buf(),
            prefix: prefix.to_owned(),
            identity,
            max_file_size,
            file: None,
            file_sequence: 0,
            file_bytes: 0,
            block_sequence: 0,
            block: Vec::with_capacity(BLOCK_TARGET * 2),
            run: RunBuilder::new(),
            records_in_block: 0,
            records_in_file: 0,
            dropped_in_file: 0,
            site_ids: HashMap::new(),
            site_cache: [CachedSite::default(); SITE_CACHE_SLOTS],
            threads_defined: HashMap::new(),
            clock,
            block_shares: Vec::new(),
            compressor: None,
        };
        writer.open_file()?;
        Ok(writer)
    }

    /// Sets how blocks sealed from now on are compressed.
    pub(crate) fn set_compression(&mut self, compression: Compression) {
        self.compressor = match compression {
            Compression::None => None,
            Compression::Lz4 => Some(Box::default()),
        };
    }

    fn file_name(&self) -> String {
        let start_seconds = self.identity.start_unix_ns / 1_000_000_000;
        format!(
            "{}-{}-{}-{:04}.{FILE_EXTENSION}",
            self.prefix,
            compact_utc(start_seconds),
            self.identity.pid,
            self.file_sequence
        )
    }

    fn open_file(&mut self) -> io::Result<()> {
        let mut file = loop {
            // Sequence numbers count across every logger run in this process, so a second
            // `init` within the same second never reuses a name.
            self.file_sequence = NEXT_FILE_SEQUENCE.fetch_add(1, Ordering::Relaxed);
            let path = self.dir.join(self.file_name());
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
            match options.open(&path) {
                Ok(file) => break file,
                Err(error)
                    if error.kind() == io::ErrorKind::AlreadyExists
                        && self.file_sequence < MAX_FILE_SEQUENCE => {}
                Err(error) => {
                    return Err(io::Error::new(
                        error.kind(),
                        format!("cannot create {}: {error}", path.display()),
                    ))
                }
            }
        };

        let header = FileHeader {
            version_major: VERSION_MAJOR,
            version_minor: VERSION_MINOR,
            pid: self.identity.pid,
            clock_source: self.identity.clock_source,
            file_sequence: self.file_sequence,
            start_unix_ns: self.identity.start_unix_ns,
            clock: self.clock,
            host: self.identity.host.clone(),
            program: self.identity.program.clone(),
        };
        let mut bytes = Vec::new();
        header.encode(&mut bytes);
        file.write_all(&bytes)?;

        STATS.files_created.fetch_add(1, Ordering::Relaxed);
        STATS
            .bytes_written
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.file = Some(file);
        self.file_bytes = bytes.len() as u64;
        self.block_sequence = 0;
        self.records_in_file = 0;
        self.dropped_in_file = 0;
        self.site_ids.clear();
        self.site_cache = [CachedSite::default(); SITE_CACHE_SLOTS];
        self.threads_defined.clear();
        Ok(())
    }

    fn open_block(&mut self) {
        if self.block.is_empty() {
            block::begin(&mut self.block);
        }
    }

    /// Appends the open run, if any, to the block.
    fn close_run(&mut self) {
        self.run.finish(&mut self.block);
    }

    fn define_thread(&mut self, thread: &ThreadShared) {
        let block = self.block_sequence;
        if self.threads_defined.insert(thread.id, block) != Some(block) {
            self.close_run();
            ThreadDef {
                id: thread.id,
                name: &thread.name,
            }
            .encode(&mut self.block);
        }
    }

    /// Returns the file-local id of `site`, after defining it in the open block if this
    /// block has no definition yet.
    #[inline]
    fn site_id(&mut self, site: &'static Site) -> u32 {
        let address = site as *const Site as usize;
        let slot = site_cache_slot(address);
        let cached = self.site_cache[slot];
        if cached.address == address && cached.defined_in == self.block_sequence {
            return cached.id;
        }
        let id = self.define_site(site);
        self.site_cache[slot] = CachedSite {
            address,
            id,
            defined_in: self.block_sequence,
        };
        id
    }

    /// Looks `site` up in `site_ids`, assigning the next id to a new site, and defines it in
    /// the open block unless this block already has. Returns its id.
    #[cold]
    fn define_site(&mut self, site: &'static Site) -> u32 {
        let address = site as *const Site as usize;
        let block = self.block_sequence;
        let next_id = self.site_ids.len() as u32;
        let (id, defined_in) = self.site_ids.entry(address).or_insert((next_id, u32::MAX));
        let id = *id;
        if *defined_in == block {
            return id;
        }
        *defined_in = block;
        self.close_run();
        SiteDef {
            id,
            level: site.level,
            line: site.line,
            column: site.column,
            module: site.module,
            file: site.file,
            format: site.format,
            args: site
                .args
                .iter()
                .map(|arg| ArgDef {
                    kind: arg.kind,
                    name: arg.name,
                })
                .collect(),
        }
        .encode(&mut self.block);
        id
    }

    /// Appends a record, after the definitions it needs. `args` starts with the record's
    /// arguments in the ring encoding and may run on past them. Returns the bytes of `args`
    /// the record took, or `None` when `args` ends inside an argument. The caller then calls
    /// [`SegmentWriter::seal_if_full`].
    pub(crate) fn record(
        &mut self,
        site: &'static Site,
        thread: &Arc<ThreadShared>,
        ticks: u64,
        args: &[u8],
    ) -> Option<usize> {
        self.open_block();
        let start = self.open_len();
        if self.run.thread() != Some(thread.id) {
            self.close_run();
            self.define_thread(thread);
        }
        let site_id = self.site_id(site);
        if self.run.thread().is_none() {
            self.run.start(thread.id, ticks);
        }
        let kinds = site.args.iter().map(|arg| arg.kind);
        let used = self.run.push(site_id, ticks, kinds, args);
        if used.is_some() {
            self.records_in_block += 1;
            self.add_share(thread, 1, start);
        }
        used
    }

    /// Bytes of the open block, with the open run as if it were finished.
    fn open_len(&self) -> usize {
        self.block.len() + self.run.entry_len()
    }

    /// Credits `thread` with `records` and the bytes the open block grew by since it held
    /// `start` bytes.
    fn add_share(&mut self, thread: &Arc<ThreadShared>, records: u64, start: usize) {
        let bytes = self.open_len().saturating_sub(start) as u64;
        match self.block_shares.last_mut() {
            Some(share) if Arc::ptr_eq(&share.thread, thread) => {
                share.records += records;
                share.bytes += bytes;
            }
            _ => self.block_shares.push(BlockShare {
                thread: Arc::clone(thread),
                records,
                bytes,
            }),
        }
    }

    /// Credits each thread's share of the block just sealed as written or lost.
    fn settle_shares(&mut self, written: bool) {
        for share in self.block_shares.drain(..) {
            if written {
                share
                    .thread
                    .counters
                    .add_written(share.records, share.bytes);
            } else {
                share.thread.counters.add_lost_io(share.records);
            }
        }
    }

    /// Appends a drop marker for `count` records of `thread`.
    pub(crate) fn drops(&mut self, thread: &Arc<ThreadShared>, count: u64) -> io::Result<()> {
        self.open_block();
        let start = self.open_len();
        self.close_run();
        self.define_thread(thread);
        let marker = DropsEntry {
            thread: thread.id.into(),
            count: count.into(),
        };
        entry::write_fixed(&mut self.block, entry::kind::DROPS, &marker);
        self.dropped_in_file += count;
        self.add_share(thread, 0, start);
        self.seal_if_full()
    }

    /// Appends a clock re-sync point, and keeps it for the headers of later files.
    pub(crate) fn clock(&mut self, sync: ClockSync) -> io::Result<()> {
        self.open_block();
        self.close_run();
        self.clock = sync;
        let point = ClockEntry {
            ticks: sync.anchor_ticks.into(),
            unix_ns: sync.anchor_unix_ns.into(),
            ticks_per_second: sync.ticks_per_second.into(),
        };
        entry::write_fixed(&mut self.block, entry::kind::CLOCK, &point);
        self.seal_if_full()
    }

    /// Writes the open block once it has reached [`BLOCK_TARGET`].
    ///
    /// # Errors
    ///
    /// As for [`SegmentWriter::seal`].
    pub(crate) fn seal_if_full(&mut self) -> io::Result<()> {
        if self.block.len() + self.run.entry_len() >= BLOCK_TARGET {
            self.seal()?;
        }
        Ok(())
    }

    /// Writes the open block, if any, and starts a new file when this one is full.
    ///
    /// # Errors
    ///
    /// Fails when the write fails. The block's records are then counted as lost.
    pub(crate) fn seal(&mut self) -> io::Result<()> {
        self.close_run();
        if self.block.is_empty() {
            return Ok(());
        }
        self.finish_block();
        let result = match self.file.as_mut() {
            Some(file) => file.write_all(&self.block),
            None => Err(io::Error::other("no segment file is open")),
        };
        let records = std::mem::take(&mut self.records_in_block);
        self.settle_shares(result.is_ok());
        match result {
            Ok(()) => {
                STATS.records_written.fetch_add(records, Ordering::Relaxed);
                STATS
                    .bytes_written
                    .fetch_add(self.block.len() as u64, Ordering::Relaxed);
                self.file_bytes += self.block.len() as u64;
                self.records_in_file += records;
                self.block_sequence += 1;
            }
            Err(_) => {
                // TODO: a failed write loses the block's records, and the definitions in it
                // are assumed written; keeping the block for a retry needs both fixed.
                STATS.write_errors.fetch_add(1, Ordering::Relaxed);
                STATS.records_lost_io.fetch_add(records, Ordering::Relaxed);
            }
        }
        self.block.clear();
        result?;
        if self.file_bytes >= self.max_file_size {
            self.rotate()?;
        }
        Ok(())
    }

    /// Fills in the open block's header, compressing the block first if compression is on.
    fn finish_block(&mut self) {
        match self.compressor.as_deref_mut() {
            Some(compressor) => {
                compressor.finish(&mut self.block, 0, self.block_sequence);
            }
            None => block::finish(&mut self.block, 0, self.block_sequence),
        }
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.finish_file()?;
        self.open_file()
    }

    /// Writes the end marker in a block of its own and closes the file.
    fn finish_file(&mut self) -> io::Result<()> {
        self.seal_without_rotation()?;
        self.open_block();
        let end = EndEntry {
            records: self.records_in_file.into(),
            dropped: self.dropped_in_file.into(),
        };
        entry::write_fixed(&mut self.block, entry::kind::END, &end);
        self.seal_without_rotation()?;
        if let Some(file) = self.file.take() {
            file.sync_data().ok();
        }
        Ok(())
    }

    fn seal_without_rotation(&mut self) -> io::Result<()> {
        let limit = std::mem::replace(&mut self.max_file_size, u64::MAX);
        let result = self.seal();
        self.max_file_size = limit;
        result
    }

    /// Writes everything and closes the last file cleanly.
    pub(crate) fn close(mut self) -> io::Result<()> {
        self.finish_file()
    }
}

/// Returns the site cache slot of the site at `address`.
fn site_cache_slot(address: usize) -> usize {
    // A multiplicative hash, because sites are statics whose spacing depends on their size.
    ((address as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SITE_CACHE_SLOTS.ilog2()))
        as usize
}

/// Formats Unix seconds as `YYYYMMDDTHHMMSSZ`.
fn compact_utc(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let seconds_of_day = unix_seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        seconds_of_day / 3600,
        seconds_of_day / 60 % 60,
        seconds_of_day % 60
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_utc_formats_known_dates() {
        assert_eq!(compact_utc(0), "19700101T000000Z");
        assert_eq!(compact_utc(951_782_400), "20000229T000000Z");
        assert_eq!(compact_utc(1_796_411_559), "20261204T191239Z");
    }
}
