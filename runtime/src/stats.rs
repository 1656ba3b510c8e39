//! Counters of what the logger recorded, wrote and lost, in total and per thread.
//!
//! Producers never count on the fast path. The backend derives what was logged from what it
//! drains out of each ring plus the ring's drop count, which the producer keeps without a
//! read-modify-write. The only producer-side counter, `unregistered_drops`, is on a cold path.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::producer::lock_registry;

/// Process-wide counters. The backend thread updates most of them; producers only touch
/// `unregistered_drops`, on a cold path.
pub(crate) struct Counters {
    /// Records the backend drained from rings plus records dropped at full rings.
    pub(crate) records_logged: AtomicU64,
    pub(crate) records_written: AtomicU64,
    pub(crate) records_dropped: AtomicU64,
    pub(crate) unregistered_drops: AtomicU64,
    pub(crate) records_lost_io: AtomicU64,
    pub(crate) bytes_written: AtomicU64,
    pub(crate) write_errors: AtomicU64,
    pub(crate) files_created: AtomicU64,
    pub(crate) active_threads: AtomicU64,
    pub(crate) files_deleted: AtomicU64,
    pub(crate) delete_errors: AtomicU64,
    pub(crate) syncs: AtomicU64,
    pub(crate) sync_errors: AtomicU64,
}

pub(crate) static STATS: Counters = Counters {
    records_logged: AtomicU64::new(0),
    records_written: AtomicU64::new(0),
    records_dropped: AtomicU64::new(0),
    unregistered_drops: AtomicU64::new(0),
    records_lost_io: AtomicU64::new(0),
    bytes_written: AtomicU64::new(0),
    write_errors: AtomicU64::new(0),
    files_created: AtomicU64::new(0),
    active_threads: AtomicU64::new(0),
    files_deleted: AtomicU64::new(0),
    delete_errors: AtomicU64::new(0),
    syncs: AtomicU64::new(0),
    sync_errors: AtomicU64::new(0),
};

/// The backend's counters for one thread. Only the backend thread writes them.
#[derive(Debug, Default)]
pub(crate) struct ThreadCounters {
    logged: AtomicU64,
    written: AtomicU64,
    dropped: AtomicU64,
    lost_io: AtomicU64,
    bytes: AtomicU64,
    /// Set when the backend has drained the ring of the exited thread a last time.
    exited: AtomicBool,
}

impl ThreadCounters {
    /// Counts `records` drained from the ring and `dropped` new drops.
    pub(crate) fn add_logged(&self, records: u64, dropped: u64) {
        self.logged.fetch_add(records + dropped, Ordering::Relaxed);
        self.dropped.fetch_add(dropped, Ordering::Relaxed);
        STATS
            .records_logged
            .fetch_add(records + dropped, Ordering::Relaxed);
    }

    /// Counts `records` and `bytes` in a block that reached the file.
    pub(crate) fn add_written(&self, records: u64, bytes: u64) {
        self.written.fetch_add(records, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts `records` in a block whose write failed.
    pub(crate) fn add_lost_io(&self, records: u64) {
        self.lost_io.fetch_add(records, Ordering::Relaxed);
    }

    pub(crate) fn mark_exited(&self) {
        self.exited.store(true, Ordering::Release);
    }

    pub(crate) fn is_active(&self) -> bool {
        !self.exited.load(Ordering::Acquire)
    }
}

/// A snapshot of the logger's counters.
///
/// The totals count since the process started. Every record that passed the level filter is,
/// once the backend has drained it and written its block, exactly one of: written, dropped
/// because its ring was full, lost to a failed write, or unregistered. So after
/// [`crate::flush`] returns, or the guard is dropped,
/// `records_logged == records_written + records_dropped + records_lost_io +
/// records_unregistered`. In between, `records_logged` may run ahead by the records in the
/// block the backend is building.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// Records that passed the level check and reached a ring or were counted as dropped
    /// or unregistered. The backend counts a ring's records as it drains them, so this lags
    /// the calls by up to one poll interval.
    pub records_logged: u64,
    /// Records written to segment files.
    pub records_written: u64,
    /// Records dropped because their thread's ring was full. Each drop reaches a segment file
    /// as a drop marker.
    pub records_dropped: u64,
    /// Records that passed the level check but found no ring: logged while the logger was
    /// stopping, from a thread-local destructor after the thread's ring was gone, from
    /// inside another log call, or under [`crate::Overflow::Block`] after the backend had
    /// stopped. Calls before `init` or after the guard is dropped fail the level check,
    /// because every level is off then, and are not counted anywhere.
    pub records_unregistered: u64,
    /// Records lost because writing their block failed for good. A failed write is retried
    /// at every poll while the logger runs, so records are lost this way only when the
    /// logger stops before a retry succeeds.
    pub records_lost_io: u64,
    /// Bytes written to segment files, headers included.
    pub bytes_written: u64,
    /// Failed attempts to create a segment file or write to one, retries included.
    pub write_errors: u64,
    /// Segment files created.
    pub files_created: u64,
    /// Threads whose ring the backend is draining.
    pub active_threads: u64,
    /// Old segment files deleted by retention.
    pub files_deleted: u64,
    /// Failures to list the directory or delete an old file during retention.
    pub delete_errors: u64,
    /// Syncs of segment files and of their directory to disk.
    pub syncs: u64,
    /// Syncs that failed: the kernel could not write some data to disk.
    pub sync_errors: u64,
    /// Every thread registered with the current or last logger, in registration order. Of
    /// the threads that have exited, only the last 1024 are listed; the totals above count
    /// all of them.
    pub threads: Vec<ThreadStats>,
}

/// Counters of one logging thread under the current or last logger.
///
/// After [`crate::flush`] returns, or the guard is dropped,
/// `records_logged == records_written + records_dropped + records_lost_io`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ThreadStats {
    /// Thread id as written to segment files and shown by the decoder; unique within the
    /// process.
    pub id: u32,
    /// Thread name, or `thread-ID` for an unnamed thread.
    pub name: String,
    /// Records the backend drained from the thread's ring plus those dropped at its full ring.
    pub records_logged: u64,
    /// Records written to segment files.
    pub records_written: u64,
    /// Records dropped because the ring was full.
    pub records_dropped: u64,
    /// Records lost because writing their block failed.
    pub records_lost_io: u64,
    /// Bytes of the thread's entries in written blocks: its records, drop markers and the
    /// definitions they needed. Block headers and clock points are counted only in
    /// [`Stats::bytes_written`]. With [`crate::Compression::Lz4`] these are the bytes before
    /// compression, while [`Stats::bytes_written`] counts the bytes in the files.
    pub bytes_written: u64,
    /// Whether the thread is still running. The backend notices an exit when it drains the
    /// thread's ring a last time.
    pub active: bool,
}

/// Returns the current counters, in total and for each thread.
pub fn stats() -> Stats {
    let load = |counter: &AtomicU64| counter.load(Ordering::Acquire);
    let threads = lock_registry()
        .threads
        .iter()
        .map(|thread| {
            let counters = &thread.counters;
            ThreadStats {
                id: thread.id,
                name: thread.name.clone(),
                records_logged: load(&counters.logged),
                records_written: load(&counters.written),
                records_dropped: load(&counters.dropped),
                records_lost_io: load(&counters.lost_io),
                bytes_written: load(&counters.bytes),
                active: counters.is_active(),
            }
        })
        .collect();
    let unregistered = load(&STATS.unregistered_drops);
    Stats {
        records_logged: load(&STATS.records_logged) + unregistered,
        records_written: load(&STATS.records_written),
        records_dropped: load(&STATS.records_dropped),
        records_unregistered: unregistered,
        records_lost_io: load(&STATS.records_lost_io),
        bytes_written: load(&STATS.bytes_written),
        write_errors: load(&STATS.write_errors),
        files_created: load(&STATS.files_created),
        active_threads: load(&STATS.active_threads),
        files_deleted: load(&STATS.files_deleted),
        delete_errors: load(&STATS.delete_errors),
        syncs: load(&STATS.syncs),
        sync_errors: load(&STATS.sync_errors),
        threads,
    }
}
