//! The backend thread: drains every thread's ring into the segment writer.
//!
//! Each pass picks up newly registered rings, then drains everything each ring holds,
//! turning its records into file entries and skipping padding. A producer that drops records
//! puts a drop marker into its ring in front of its next record, so the file shows the gap
//! where it happened. Drops that no record followed reach the file when the thread exits or
//! the logger stops. A ring whose thread has exited is drained one last time and released. When a pass finds nothing, the backend writes what it has and sleeps for the
//! poll interval, unless a flush or stop request rings its doorbell earlier. With busy polling
//! it spins instead, and writes what it has once per poll interval. Requests from the crash
//! paths arrive through `crash::LINK`, which needs no lock.
//!
//! When a write fails, for example on a full disk, the backend stops draining: records stay
//! in the rings, and producers whose ring fills up drop and count their records, or wait
//! under `Overflow::Block`. It retries the write once per poll interval, and on every flush
//! request, before each pass, so a disk that has room again takes the waiting records at
//! once. Drop counts reach the file as drop markers once writing works again. When the
//! logger stops, the backend tries once more and then gives up: what it cannot write is
//! counted as lost.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, TryLockError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::clock::Calibration;
use crate::crash::LINK;
use crate::producer::{RingHandle, ThreadShared, RECORD_PREFIX_LEN, REGISTRY};
use crate::ring::{self, DrainSink};
use crate::signal;
use crate::site::Site;
use crate::stats::STATS;
use crate::writer::SegmentWriter;

/// How often the backend writes a clock re-sync point.
const RESYNC_INTERVAL: Duration = Duration::from_secs(1);

/// Flush requests and their completion, shared by `flush()` callers and the backend.
#[derive(Default)]
pub(crate) struct FlushState {
    pub(crate) requested: u64,
    pub(crate) completed: u64,
    /// Set when the backend thread has exited, so waiters stop waiting.
    pub(crate) finished: bool,
}

/// State shared by the backend thread, the guard and `flush()`.
pub(crate) struct Control {
    pub(crate) stop: AtomicBool,
    pub(crate) flush: Mutex<FlushState>,
    pub(crate) flushed: Condvar,
}

/// The backend's ring for one thread, with what it has already reported.
struct Ring {
    handle: RingHandle,
    /// The ring's drop count already added to the stats.
    drops_counted: u64,
    /// The ring's drop count already written as drop markers.
    drops_reported: u64,
}

impl Ring {
    /// Adds the drops since the last call to the process's and the thread's stats.
    fn count_drops(&mut self, total: u64) {
        let Some(new_drops) = total.checked_sub(self.drops_counted).filter(|&new| new > 0) else {
            return;
        };
        self.drops_counted = total;
        STATS
            .records_dropped
            .fetch_add(new_drops, Ordering::Relaxed);
        self.handle.thread.counters.add_logged(0, new_drops);
    }
}

pub(crate) struct Backend {
    control: Arc<Control>,
    writer: SegmentWriter,
    calibration: Calibration,
    rings: Vec<Ring>,
    poll_interval: Duration,
    /// Whether an idle backend spins instead of sleeping.
    busy_poll: bool,
    last_resync: Instant,
    last_seal: Instant,
}

impl Backend {
    pub(crate) fn new(
        control: Arc<Control>,
        writer: SegmentWriter,
        calibration: Calibration,
        poll_interval: Duration,
        busy_poll: bool,
    ) -> Backend {
        Backend {
            control,
            writer,
            calibration,
            rings: Vec::new(),
            poll_interval,
            busy_poll,
            last_resync: Instant::now(),
            last_seal: Instant::now(),
        }
    }

    /// Starts the backend thread, pinned to `core` if given.
    pub(crate) fn spawn(self, core: Option<usize>) -> io::Result<JoinHandle<()>> {
        thread::Builder::new()
            .name("ulog-backend".into())
            .spawn(move || {
                LINK.enter_backend_thread();
                signal::block_termination_signals();
                if let Some(core) = core {
                    core_affinity::set_for_current(core_affinity::CoreId { id: core });
                }
                let control = Arc::clone(&self.control);
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run()));
                if outcome.is_err() {
                    // Release `flush()` callers, which would otherwise wait for a backend
                    // that is gone.
                    mark_finished(&control);
                }
            })
    }

    fn run(mut self) {
        loop {
            let doorbell = LINK.doorbell.value();
            let stopping = self.control.stop.load(Ordering::Acquire) || LINK.stop_requested();
            let flush_target = self.lock_flush().requested;
            let urgent_target = LINK.requested();
            let flush_due =
                flush_target > self.lock_flush().completed || LINK.is_due(urgent_target);

            // A sleeping backend wakes once per poll interval, so only a spinning one needs
            // the clock to keep its retries at that rate.
            let retry_due = !self.busy_poll || self.last_seal.elapsed() >= self.poll_interval;
            if self.writer.write_pending() && (retry_due || flush_due || stopping) {
                self.seal();
            }

            let moved = self.pass();
            let idle = moved == 0;

            if self.last_resync.elapsed() >= RESYNC_INTERVAL && !self.writer.write_pending() {
                let sync = self.calibration.resync();
                self.writer.clock(sync).ok();
                self.last_resync = Instant::now();
            }
            // A spinning backend finds nothing on most passes, and sealing on each would
            // write a small block per pass.
            let seal_when_idle = idle && !self.busy_poll;
            let seal_due =
                seal_when_idle || flush_due || self.last_seal.elapsed() >= self.poll_interval;
            if seal_due && !self.writer.write_pending() {
                self.seal();
            }
            if flush_due {
                LINK.complete(urgent_target);
                let mut flush = self.lock_flush();
                flush.completed = flush.completed.max(flush_target);
                drop(flush);
                self.control.flushed.notify_all();
            }

            if stopping && idle {
                break;
            }
            if idle {
                if self.busy_poll {
                    std::hint::spin_loop();
                } else {
                    LINK.doorbell.sleep(doorbell, self.poll_interval);
                }
            }
        }
        self.shut_down();
    }

    /// Writes the open block, or retries a failed write. A failure is counted by the writer
    /// and retried on a later poll.
    fn seal(&mut self) {
        self.writer.seal().ok();
        self.last_seal = Instant::now();
    }

    fn lock_flush(&self) -> std::sync::MutexGuard<'_, FlushState> {
        self.control
            .flush
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drains every ring once, and stops early while a write is pending; the rings' drops are
    /// then only counted. Returns the bytes moved.
    fn pass(&mut self) -> usize {
        self.adopt_new_rings(false);
        let mut moved = 0;
        let mut index = 0;
        while index < self.rings.len() && !self.writer.write_pending() {
            // A producer that is gone wrote everything it will ever write, so checking
            // before draining guarantees that the last drain reads its final records.
            let abandoned = self.rings[index].handle.ring.is_closed();
            moved += self.drain(index);
            // A drain that stopped at a failed write may have left records behind.
            if abandoned && !self.writer.write_pending() {
                self.report_unreported_drops(index);
                let ring = self.rings.swap_remove(index);
                ring.handle.thread.counters.mark_exited();
                STATS.active_threads.fetch_sub(1, Ordering::Relaxed);
            } else {
                index += 1;
            }
        }
        if self.writer.write_pending() {
            // Drop markers wait until writing works again, but the stats show drops at once.
            for ring in &mut self.rings {
                let total = ring.handle.ring.dropped();
                ring.count_drops(total);
            }
        }
        moved
    }

    /// Writes a drop marker for the drops a ring's producer counted but never put into the
    /// ring, because no record followed them. Only exact once the producer logs no more.
    fn report_unreported_drops(&mut self, index: usize) {
        let ring = &mut self.rings[index];
        let shared = Arc::clone(&ring.handle.ring);
        ring.count_drops(shared.dropped());
        let mut sink = RingSink {
            writer: &mut self.writer,
            ring,
            records: 0,
        };
        sink.report_drops(shared.unreported_drops());
    }

    /// Takes the rings registered since the last call. Unless `wait`, it skips the round
    /// when the registry is locked, so that a signal handler waiting for the backend cannot
    /// deadlock with the thread it interrupted inside a registration.
    fn adopt_new_rings(&mut self, wait: bool) {
        let mut registry = match REGISTRY.try_lock() {
            Ok(registry) => registry,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) if !wait => return,
            Err(TryLockError::WouldBlock) => REGISTRY
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        };
        for handle in registry.pending.drain(..) {
            STATS.active_threads.fetch_add(1, Ordering::Relaxed);
            self.rings.push(Ring {
                handle,
                drops_counted: 0,
                drops_reported: 0,
            });
        }
    }

    /// Moves every complete record of one ring into the writer, and then its new drop count.
    /// Stops when a write fails, leaving the remaining records in the ring. Returns the bytes
    /// moved.
    fn drain(&mut self, index: usize) -> usize {
        let ring = &mut self.rings[index];
        let shared = Arc::clone(&ring.handle.ring);
        let mut sink = RingSink {
            writer: &mut self.writer,
            ring,
            records: 0,
        };
        // SAFETY: the backend thread is every ring's only consumer.
        let moved = unsafe { shared.drain(&mut sink) };
        // The stats show drops at once; the file shows them where the producer's drop
        // marker sits in the ring.
        sink.ring.count_drops(shared.dropped());
        let records = sink.records;
        sink.ring.handle.thread.counters.add_logged(records, 0);
        moved
    }

    /// Drains until every ring is empty, then closes the file cleanly. A write that still
    /// fails after one more try loses its block, counted, so that stopping does not wait for
    /// the disk to have room again.
    fn shut_down(mut self) {
        // Rings registered before the stop may still wait in the registry.
        self.adopt_new_rings(true);
        // One last try at a failed write. After it, a failed write loses its block and
        // counts its records, so that stopping does not wait for the disk to have room.
        if self.writer.write_pending() {
            self.writer.seal().ok();
        }
        self.writer.discard_failed_blocks();
        // TODO: a call that passed the level check before the stop can publish after this
        // last pass; its record is neither written nor counted.
        while self.pass() > 0 {}
        // Threads that dropped records and logged nothing since will log nothing more.
        for index in 0..self.rings.len() {
            self.report_unreported_drops(index);
        }
        let control = Arc::clone(&self.control);
        self.writer.close().ok();
        mark_finished(&control);
    }
}

/// Destination of one ring's records and drop counts during a drain.
struct RingSink<'a> {
    writer: &'a mut SegmentWriter,
    ring: &'a mut Ring,
    /// Records written to the writer in this drain.
    records: u64,
}

impl RingSink<'_> {
    /// Writes a drop marker for `count` records and counts them as reported.
    fn report_drops(&mut self, count: u64) {
        if count == 0 {
            return;
        }
        self.ring.drops_reported += count;
        self.writer.drops(&self.ring.handle.thread, count).ok();
    }
}

impl DrainSink for RingSink<'_> {
    fn record(&mut self, bytes: &[u8]) -> usize {
        if self.writer.write_pending() {
            // Leaves the record in the ring and ends the drain.
            return 0;
        }
        if let Some(count) = drop_marker_count(bytes) {
            self.report_drops(count);
            return ring::DROP_MARKER_LEN;
        }
        match write_record(self.writer, &self.ring.handle.thread, bytes) {
            Some(used) => {
                self.records += 1;
                used
            }
            // Skips the rest of the readable region.
            None => bytes.len(),
        }
    }
}

/// Returns the count of the drop marker at the start of `bytes`, or `None` for a record.
fn drop_marker_count(bytes: &[u8]) -> Option<u64> {
    let word = |range: std::ops::Range<usize>| {
        let bytes: [u8; 8] = bytes.get(range)?.try_into().ok()?;
        Some(u64::from_le_bytes(bytes))
    };
    if word(0..8)? != ring::DROP_MARKER {
        return None;
    }
    word(8..16)
}

/// Records that the backend thread has exited and wakes every `flush()` caller and every
/// crash path waiting for it.
fn mark_finished(control: &Control) {
    LINK.finished();
    let mut flush = control
        .flush
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    flush.finished = true;
    flush.completed = flush.requested;
    drop(flush);
    control.flushed.notify_all();
}

/// Parses the record at the start of `bytes`, which runs to the end of what the ring holds,
/// and writes it. Returns the bytes the record takes in the ring, padding included, or
/// `None` when the bytes are not a whole record.
fn write_record(
    writer: &mut SegmentWriter,
    thread: &Arc<ThreadShared>,
    bytes: &[u8],
) -> Option<usize> {
    let Some(prefix) = bytes.get(..RECORD_PREFIX_LEN) else {
        debug_assert!(false, "ring holds a partial record");
        return None;
    };
    let (address, ticks) = prefix.split_at(8);
    let address = u64::from_le_bytes(address.try_into().expect("8 bytes")) as usize;
    let ticks = u64::from_le_bytes(ticks.try_into().expect("8 bytes"));
    // SAFETY: only the producer's `write_at` publishes records, and it writes the address of
    // a `&'static Site` in front of every one. `bytes` starts at a record, because the ring
    // skips each record by its padded length and padding by its marker.
    let site: &'static Site = unsafe { &*(address as *const Site) };

    // The writer packs the arguments and finds where they end in one pass.
    let Some(args_len) = writer.record(site, thread, ticks, &bytes[RECORD_PREFIX_LEN..]) else {
        debug_assert!(false, "ring holds a partial record");
        return None;
    };
    writer.seal_if_full().ok();
    Some(ring::record_len(RECORD_PREFIX_LEN + args_len))
}
