//! The backend thread: drains every thread's ring into the segment writer.
//!
//! Each pass picks up newly registered rings, then drains everything each ring holds,
//! turning its records into file entries and skipping padding. A thread's drop count reaches the file as a drop marker
//! right after that thread's records. A ring whose thread has exited is drained one last time
//! and released. When a pass finds nothing, the backend writes what it has and sleeps for the
//! poll interval, unless a flush or stop request wakes it earlier. With busy polling it spins
//! instead, and writes what it has once per poll interval.
//!
//! When a write fails, for example on a full disk, the backend stops draining: records stay
//! in the rings, and producers whose ring fills up drop and count their records as usual. It
//! retries the write once per poll interval, and on every flush request, before each pass,
//! so a disk that has room again takes the waiting records at once. Drop counts reach the
//! file as drop markers once writing works again. When the logger stops, the backend tries
//! once more and then gives up: what it cannot write is counted as lost.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use ulog_schema::record;

use crate::clock::Calibration;
use crate::producer::{RingHandle, ThreadShared, RECORD_PREFIX_LEN, REGISTRY};
use crate::ring;
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
    drops_reported: u64,
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
            let stopping = self.control.stop.load(Ordering::Acquire);
            let flush_target = self.lock_flush().requested;
            let flush_due = flush_target > self.lock_flush().completed;

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
                    thread::park_timeout(self.poll_interval);
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

    /// Drains every ring once, and stops early while a write is pending. Returns the bytes
    /// moved.
    fn pass(&mut self) -> usize {
        self.adopt_new_rings();
        let mut moved = 0;
        let mut index = 0;
        while index < self.rings.len() && !self.writer.write_pending() {
            // A producer that is gone wrote everything it will ever write, so checking
            // before draining guarantees that the last drain reads its final records.
            let abandoned = self.rings[index].handle.ring.is_closed();
            moved += self.drain(index);
            // A drain that stopped at a failed write may have left records behind.
            if abandoned && !self.writer.write_pending() {
                self.rings.swap_remove(index);
                STATS.active_threads.fetch_sub(1, Ordering::Relaxed);
            } else {
                index += 1;
            }
        }
        moved
    }

    fn adopt_new_rings(&mut self) {
        let mut registry = REGISTRY
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for handle in registry.pending.drain(..) {
            STATS.active_threads.fetch_add(1, Ordering::Relaxed);
            self.rings.push(Ring {
                handle,
                drops_reported: 0,
            });
        }
    }

    /// Moves every complete record of one ring into the writer, and then its new drop count.
    /// Stops when a write fails, leaving the remaining records in the ring. Returns the bytes
    /// moved.
    fn drain(&mut self, index: usize) -> usize {
        let ring = &mut self.rings[index];
        let RingHandle {
            ring: shared,
            thread,
        } = &ring.handle;
        let writer = &mut self.writer;
        // SAFETY: the backend thread is every ring's only consumer.
        let moved = unsafe { shared.drain(|bytes| write_record(writer, thread, bytes)) };
        if self.writer.write_pending() {
            return moved;
        }

        let dropped = shared.dropped();
        if dropped > ring.drops_reported {
            let new_drops = dropped - ring.drops_reported;
            ring.drops_reported = dropped;
            STATS
                .records_dropped
                .fetch_add(new_drops, Ordering::Relaxed);
            self.writer.drops(thread, new_drops).ok();
        }
        moved
    }

    /// Drains until every ring is empty, then closes the file cleanly. A write that still
    /// fails after one more try loses its block, counted, so that stopping does not wait for
    /// the disk to have room again.
    fn shut_down(mut self) {
        if self.writer.write_pending() {
            self.writer.seal().ok();
        }
        self.writer.discard_failed_blocks();
        while self.pass() > 0 {}
        let control = Arc::clone(&self.control);
        self.writer.close().ok();
        mark_finished(&control);
    }
}

/// Records that the backend thread has exited and wakes every `flush()` caller.
fn mark_finished(control: &Control) {
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
/// and writes it. Returns the record's length in the ring, padding included. While a write
/// is pending, returns 0, which leaves the record in the ring and ends the drain. When the
/// bytes are not a whole record, returns their length, which skips them.
fn write_record(writer: &mut SegmentWriter, thread: &ThreadShared, bytes: &[u8]) -> usize {
    if writer.write_pending() {
        return 0;
    }
    let Some(prefix) = bytes.get(..RECORD_PREFIX_LEN) else {
        debug_assert!(false, "ring holds a partial record");
        return bytes.len();
    };
    let (address, ticks) = prefix.split_at(8);
    let address = u64::from_le_bytes(address.try_into().expect("8 bytes")) as usize;
    let ticks = u64::from_le_bytes(ticks.try_into().expect("8 bytes"));
    // SAFETY: only the producer's `write_at` publishes records, and it writes the address of
    // a `&'static Site` in front of every one. `bytes` starts at a record, because the ring
    // skips each record by its padded length and padding by its marker.
    let site: &'static Site = unsafe { &*(address as *const Site) };

    let args = &bytes[RECORD_PREFIX_LEN..];
    let Some(args_len) = record::args_len(site.args.iter().map(|arg| arg.kind), args) else {
        debug_assert!(false, "ring holds a partial record");
        return bytes.len();
    };
    writer.record(site, thread, ticks, &args[..args_len]).ok();
    ring::record_len(RECORD_PREFIX_LEN + args_len)
}
