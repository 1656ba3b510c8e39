//! Counters of what the logger recorded, wrote and lost.

use std::sync::atomic::{AtomicU64, Ordering};

/// Process-wide counters. The backend thread updates most of them; producers only touch
/// `unregistered_drops`, on a cold path.
pub(crate) struct Counters {
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

/// A snapshot of the logger's counters since the process started.
///
/// Every record that passed the level filter is, once the backend has drained it, exactly one
/// of: written, dropped because its ring was full, lost to a failed write, or unregistered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Records written to segment files.
    pub records_written: u64,
    /// Records dropped because their thread's ring was full. Each drop reaches a segment file
    /// as a drop marker.
    pub records_dropped: u64,
    /// Records that passed the level check but found no ring: logged while the logger was
    /// stopping, from a thread-local destructor after the thread's ring was gone, or from
    /// inside another log call. Calls before `init` or after the guard is dropped fail the
    /// level check, because every level is off then, and are not counted anywhere.
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
}

/// Returns the current counters.
pub fn stats() -> Stats {
    let load = |counter: &AtomicU64| counter.load(Ordering::Acquire);
    Stats {
        records_written: load(&STATS.records_written),
        records_dropped: load(&STATS.records_dropped),
        records_unregistered: load(&STATS.unregistered_drops),
        records_lost_io: load(&STATS.records_lost_io),
        bytes_written: load(&STATS.bytes_written),
        write_errors: load(&STATS.write_errors),
        files_created: load(&STATS.files_created),
        active_threads: load(&STATS.active_threads),
        files_deleted: load(&STATS.files_deleted),
        delete_errors: load(&STATS.delete_errors),
        syncs: load(&STATS.syncs),
        sync_errors: load(&STATS.sync_errors),
    }
}
