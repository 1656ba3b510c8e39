//! Segment files: headers, blocks, per-file dictionaries, rotation and failed writes.
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
//! A sealed block stays in memory until a write of it succeeds. While it waits, the writer
//! takes no new entries, and [`SegmentWriter::write_pending`] returns true, so the backend
//! leaves records in the rings. Each later [`SegmentWriter::seal`] retries the write at the same
//! offset, and a failed write leaves no partial block in the file (see `segment_file`).
//! After [`SegmentWriter::discard_failed_blocks`], a failed write drops its block instead and
//! counts the block's records as lost.
//!
//! A file ends with a block holding only the END entry. The next file is created when the
//! next block is written, so a logger that stops right after a rotation leaves no empty file.
//!
//! With compression on, sealing a block compresses its payload with LZ4 on the backend
//! thread; a block that does not shrink is written plain.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use ulog_schema::block::{self, Lz4Compressor};
use ulog_schema::entry::{self, ArgDef, ClockEntry, DropsEntry, EndEntry, SiteDef, ThreadDef};
use ulog_schema::header::{ClockSync, FileHeader};
use ulog_schema::run::RunBuilder;
use ulog_schema::{ClockSource, VERSION_MAJOR, VERSION_MINOR};

use crate::config::{Compression, Config, Fsync};
use crate::producer::ThreadShared;
use crate::retention::{self, Retention};
use crate::segment_file::{self, SegmentFile};
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
    /// Epoch of the last block that defined the site.
    defined_in: u64,
}

/// Identity of the writing process, repeated in every file header.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) pid: u32,
    pub(crate) host: String,
    pub(crate) program: String,
    pub(crate) start_unix_ns: u64,
    pub(crate) clock_source: ClockSource,
}

/// Contents of the sealed block that waits to be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sealed {
    /// Entries of the current file.
    Data,
    /// The END entry, after which the file is closed.
    End,
}

/// When the writer starts a new file.
#[derive(Debug, Clone, Copy)]
struct Rotation {
    max_file_size: u64,
    max_age: Option<Duration>,
}

/// Writes one process run's segment files.
pub(crate) struct SegmentWriter {
    dir: PathBuf,
    prefix: String,
    identity: Identity,
    rotation: Rotation,
    retention: Retention,
    file_mode: u32,
    fsync: Fsync,

    /// The file being written; `None` between a finished file and the next block.
    file: Option<SegmentFile>,
    /// Position of the next block in its file.
    block_sequence: u32,
    /// Number of the block being built, counted across files and never reused, so that a
    /// block dropped after a failed write does not make the next one skip its definitions.
    /// 64 bits never wrap, even at one block per poll for centuries.
    block_epoch: u64,

    /// The block being built, header space included; empty when no block is open.
    block: Vec<u8>,
    /// Set when `block` is finished and waits for a successful write.
    sealed: Option<Sealed>,
    /// Whether a block whose write failed is kept for a retry; cleared at shutdown.
    keep_failed_blocks: bool,
    /// The open RUN entry, which belongs at the end of `block`.
    run: RunBuilder,
    records_in_block: u64,
    dropped_in_block: u64,
    records_in_file: u64,
    dropped_in_file: u64,

    /// File-local site id by site address, with the epoch of the last block that defined it.
    site_ids: HashMap<usize, (u32, u64)>,
    /// Direct-mapped copies of `site_ids` entries by site address, which spare most records
    /// the hash lookup. The lookup took about a fifth of the backend's time in `perf`.
    site_cache: [CachedSite; SITE_CACHE_SLOTS],
    /// Epoch of the last block that defined each thread id.
    threads_defined: HashMap<u32, u64>,
    /// Most recent calibration.
    clock: ClockSync,
    /// Calibration in force where the next file's first block starts, for its header.
    header_clock: ClockSync,
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
    /// Creates the directory if needed and the first file, with its header.
    ///
    /// # Errors
    ///
    /// Fails when the directory or the file cannot be created or the header cannot be
    /// written.
    pub(crate) fn create(
        config: &Config,
        identity: Identity,
        clock: ClockSync,
    ) -> io::Result<SegmentWriter> {
        std::fs::create_dir_all(&config.dir)?;
        let mut writer = SegmentWriter {
            dir: config.dir.clone(),
            prefix: config.file_prefix.clone().unwrap_or_default(),
            identity,
            rotation: Rotation {
                max_file_size: config.max_file_size,
                max_age: config.rotate_every,
            },
            retention: Retention {
                max_files: config.max_files,
                max_total_bytes: config.max_total_bytes,
                max_file_size: config.max_file_size,
            },
            file_mode: config.file_mode,
            fsync: config.fsync,
            file: None,
            block_sequence: 0,
            block_epoch: 0,
            block: Vec::with_capacity(BLOCK_TARGET * 2),
            sealed: None,
            keep_failed_blocks: true,
            run: RunBuilder::new(),
            records_in_block: 0,
            dropped_in_block: 0,
            records_in_file: 0,
            dropped_in_file: 0,
            site_ids: HashMap::new(),
            site_cache: [CachedSite::default(); SITE_CACHE_SLOTS],
            threads_defined: HashMap::new(),
            clock,
            header_clock: clock,
            block_shares: Vec::new(),
            compressor: None,
        };
        if let Err(error) = writer.start_file() {
            if let Some(file) = writer.file.take() {
                let _ = std::fs::remove_file(writer.dir.join(file.name()));
            }
            return Err(error);
        }
        Ok(writer)
    }

    /// Sets how blocks sealed from now on are compressed.
    pub(crate) fn set_compression(&mut self, compression: Compression) {
        self.compressor = match compression {
            Compression::None => None,
            Compression::Lz4 => Some(Box::default()),
        };
    }

    /// Returns whether a sealed block waits for a write to succeed. The writer takes no
    /// entries until then; [`SegmentWriter::seal`] retries the write.
    pub(crate) fn write_pending(&self) -> bool {
        self.sealed.is_some()
    }

    /// Makes every later failed write final: the block is dropped and its records counted
    /// as lost instead of waiting for a retry. A block already waiting is dropped now. The
    /// backend calls this when it stops, so that stopping does not wait for the disk to
    /// have room again.
    pub(crate) fn discard_failed_blocks(&mut self) {
        self.keep_failed_blocks = false;
        if self.sealed.is_some() {
            self.drop_sealed_block();
        }
    }

    /// Makes sure a file is open and has its header. A new file gets its header, then a
    /// directory sync if the sync policy requires one, and then retention runs.
    fn start_file(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            let file =
                SegmentFile::create(&self.dir, &self.prefix, self.identity.pid, self.file_mode)?;
            STATS.files_created.fetch_add(1, Ordering::Relaxed);
            self.file = Some(file);
        }
        let file = self.file.as_mut().expect("a file was opened above");
        if file.len() > 0 {
            return Ok(());
        }

        let header = FileHeader {
            version_major: VERSION_MAJOR,
            version_minor: VERSION_MINOR,
            pid: self.identity.pid,
            clock_source: self.identity.clock_source,
            file_sequence: file.sequence(),
            start_unix_ns: self.identity.start_unix_ns,
            clock: self.header_clock,
            host: self.identity.host.clone(),
            program: self.identity.program.clone(),
        };
        let mut bytes = Vec::new();
        header.encode(&mut bytes);
        file.append(&bytes)?;
        STATS
            .bytes_written
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);

        if self.fsync != Fsync::Never {
            count_sync(segment_file::sync_dir(&self.dir));
        }
        let current = file.name().to_owned();
        retention::enforce(&self.dir, &self.prefix, &current, &self.retention);
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
        let block = self.block_epoch;
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
        if cached.address == address && cached.defined_in == self.block_epoch {
            return cached.id;
        }
        let id = self.define_site(site);
        self.site_cache[slot] = CachedSite {
            address,
            id,
            defined_in: self.block_epoch,
        };
        id
    }

    /// Looks `site` up in `site_ids`, assigning the next id to a new site, and defines it in
    /// the open block unless this block already has. Returns its id.
    #[cold]
    fn define_site(&mut self, site: &'static Site) -> u32 {
        let address = site as *const Site as usize;
        let block = self.block_epoch;
        let next_id = self.site_ids.len() as u32;
        let (id, defined_in) = self.site_ids.entry(address).or_insert((next_id, u64::MAX));
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
    /// [`SegmentWriter::seal_if_full`]. Must not be called while a write is pending.
    pub(crate) fn record(
        &mut self,
        site: &'static Site,
        thread: &Arc<ThreadShared>,
        ticks: u64,
        args: &[u8],
    ) -> Option<usize> {
        debug_assert!(!self.write_pending(), "a record while a write is pending");
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
        debug_assert!(
            !self.write_pending(),
            "a drop marker while a write is pending"
        );
        self.open_block();
        let start = self.open_len();
        self.close_run();
        self.define_thread(thread);
        let marker = DropsEntry {
            thread: thread.id.into(),
            count: count.into(),
        };
        entry::write_fixed(&mut self.block, entry::kind::DROPS, &marker);
        self.dropped_in_block += count;
        self.add_share(thread, 0, start);
        self.seal_if_full()
    }

    /// Appends a clock re-sync point, and keeps it for the headers of later files.
    pub(crate) fn clock(&mut self, sync: ClockSync) -> io::Result<()> {
        debug_assert!(
            !self.write_pending(),
            "a clock point while a write is pending"
        );
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

    /// Writes the open block, if any, or retries the write of a block that failed before.
    /// Then syncs if the sync policy requires it, and starts a new file when this one is
    /// full or old enough.
    ///
    /// # Errors
    ///
    /// Fails when the write fails. The block then waits for the next call, unless
    /// [`SegmentWriter::discard_failed_blocks`] was called, which drops it and counts its
    /// records as lost.
    pub(crate) fn seal(&mut self) -> io::Result<()> {
        if self.sealed.is_none() {
            self.close_run();
            if !self.block.is_empty() {
                self.finish_block();
                self.mark_sealed(Sealed::Data);
            }
        }
        if self.sealed.is_some() {
            self.write_sealed()?;
        }
        self.sync_if_due();
        if self.rotation_due() {
            self.seal_end_block();
            self.write_sealed()?;
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

    /// Marks the finished block as waiting for its write. Later blocks get a new epoch, so
    /// they define their sites and threads again.
    fn mark_sealed(&mut self, kind: Sealed) {
        self.sealed = Some(kind);
        self.block_epoch += 1;
    }

    /// Writes the sealed block, first opening a file if none is open.
    fn write_sealed(&mut self) -> io::Result<()> {
        let Some(kind) = self.sealed else {
            return Ok(());
        };
        let result = self.start_file().and_then(|()| {
            let file = self.file.as_mut().expect("start_file opened a file");
            file.append(&self.block)
        });
        if let Err(error) = result {
            STATS.write_errors.fetch_add(1, Ordering::Relaxed);
            if !self.keep_failed_blocks {
                self.drop_sealed_block();
            }
            return Err(error);
        }

        STATS
            .bytes_written
            .fetch_add(self.block.len() as u64, Ordering::Relaxed);
        STATS
            .records_written
            .fetch_add(self.records_in_block, Ordering::Relaxed);
        self.settle_shares(true);
        self.records_in_file += std::mem::take(&mut self.records_in_block);
        self.dropped_in_file += std::mem::take(&mut self.dropped_in_block);
        self.block_sequence += 1;
        self.block.clear();
        self.sealed = None;
        if self.fsync == Fsync::EveryBlock {
            self.sync_file();
        }
        if kind == Sealed::End {
            self.close_file();
        }
        Ok(())
    }

    /// Drops the sealed block after a failed write and counts its records as lost. Drop
    /// markers in it were already counted as drops when their rings were drained.
    fn drop_sealed_block(&mut self) {
        STATS
            .records_lost_io
            .fetch_add(self.records_in_block, Ordering::Relaxed);
        self.settle_shares(false);
        self.records_in_block = 0;
        self.dropped_in_block = 0;
        self.block.clear();
        if self.sealed.take() == Some(Sealed::End) {
            // The file stays without its end marker, which shows a reader it was cut short.
            self.close_file();
        }
    }

    /// Returns whether the current file should end now: it is full or old enough, and no
    /// block is waiting.
    fn rotation_due(&self) -> bool {
        let Some(file) = &self.file else {
            return false;
        };
        self.sealed.is_none()
            && self.block.is_empty()
            && file.len() > 0
            && (file.len() >= self.rotation.max_file_size
                || self.rotation.max_age.is_some_and(|age| file.age() >= age))
    }

    /// Seals a block that holds only the END entry of the current file.
    fn seal_end_block(&mut self) {
        debug_assert!(self.block.is_empty() && self.sealed.is_none());
        self.open_block();
        let end = EndEntry {
            records: self.records_in_file.into(),
            dropped: self.dropped_in_file.into(),
        };
        entry::write_fixed(&mut self.block, entry::kind::END, &end);
        self.finish_block();
        self.mark_sealed(Sealed::End);
    }

    /// Closes the current file, synced unless the policy is [`Fsync::Never`], and resets the
    /// per-file state for the next one.
    fn close_file(&mut self) {
        if self.fsync != Fsync::Never && self.file.as_ref().is_some_and(SegmentFile::unsynced) {
            self.sync_file();
        }
        self.file = None;
        self.block_sequence = 0;
        self.records_in_file = 0;
        self.dropped_in_file = 0;
        self.site_ids.clear();
        self.site_cache = [CachedSite::default(); SITE_CACHE_SLOTS];
        self.threads_defined.clear();
        self.header_clock = self.clock;
    }

    /// Syncs the file when the policy is [`Fsync::Interval`], something was written since
    /// the last sync, and the interval has passed.
    fn sync_if_due(&mut self) {
        let Fsync::Interval(interval) = self.fsync else {
            return;
        };
        if self
            .file
            .as_ref()
            .is_some_and(|file| file.unsynced() && file.since_sync() >= interval)
        {
            self.sync_file();
        }
    }

    fn sync_file(&mut self) {
        if let Some(file) = self.file.as_mut() {
            count_sync(file.sync());
        }
    }

    /// Writes everything and closes the last file with its end marker. Call
    /// [`SegmentWriter::discard_failed_blocks`] first, or a failed write keeps its block.
    ///
    /// # Errors
    ///
    /// Fails when a write fails; the blocks that failed are counted as lost.
    pub(crate) fn close(mut self) -> io::Result<()> {
        let sealed = self.seal();
        if self.sealed.is_some() || self.file.is_none() {
            return sealed;
        }
        self.seal_end_block();
        sealed.and(self.write_sealed())
    }
}

/// Counts a sync and, if it failed, the failure.
fn count_sync(result: io::Result<()>) {
    STATS.syncs.fetch_add(1, Ordering::Relaxed);
    if result.is_err() {
        STATS.sync_errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Returns the site cache slot of the site at `address`.
fn site_cache_slot(address: usize) -> usize {
    // A multiplicative hash, because sites are statics whose spacing depends on their size.
    ((address as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SITE_CACHE_SLOTS.ilog2()))
        as usize
}
