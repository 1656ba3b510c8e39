//! The backend thread: drains every thread's ring into the segment writer.
//!
//! Each pass picks up newly registered rings, then drains everything each ring holds,
//! turning its records into file entries and skipping padding. A thread's drop count reaches the file as a drop marker
//! right after that thread's records. A ring whose thread has exited is drained one last time
//! and released. When a pass finds nothing, the backend writes what it has and sleeps for the
//! poll interval, unless a flush or stop request wakes it earlier. With busy polling it spins
//! instead, and writes what it has once per poll interval.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

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

            let moved = self.pass();
            let idle = moved == 0;

            if self.last_resync.elapsed() >= RESYNC_INTERVAL {
                let sync = self.calibration.resync();
                self.writer.clock(sync).ok();
                self.last_resync = Instant::now();
            }
            let flush_due = flush_target > self.lock_flush().completed;
            // A spinning backend finds nothing on most passes, and sealing on each would
            // write a small block per pass.
            let seal_when_idle = idle && !self.busy_poll;
            if seal_when_idle || flush_due || self.last_seal.elapsed() >= self.poll_interval {
                self.writer.seal().ok();
                self.last_seal = Instant::now();
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

    fn lock_flush(&self) -> std::sync::MutexGuard<'_, FlushState> {
        self.control
            .flush
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drains every ring once. Returns the bytes moved.
    fn pass(&mut self) -> usize {
        self.adopt_new_rings();
        let mut moved = 0;
        let mut index = 0;
        while index < self.rings.len() {
            // A producer that is gone wrote everything it will ever write, so checking
            // before draining guarantees that the last drain reads its final records.
            let abandoned = self.rings[index].handle.ring.is_closed();
            moved += self.drain(index);
            if abandoned {
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

    /// Moves every complete record of one ring into the writer. Returns the bytes moved.
    fn drain(&mut self, index: usize) -> usize {
        let ring = &mut self.rings[index];
        let RingHandle {
            ring: shared,
            thread,
        } = &ring.handle;
        let writer = &mut self.writer;
        // SAFETY: the backend thread is every ring's only consumer.
        let moved = unsafe { shared.drain(|bytes| write_record(writer, thread, bytes)) };

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

    /// Drains until every ring is empty, then closes the file cleanly.
    fn shut_down(mut self) {
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
/// and writes it. Returns the record's length in the ring, padding included, or 0 when the
/// bytes are not a whole record.
fn write_record(writer: &mut SegmentWriter, thread: &ThreadShared, bytes: &[u8]) -> usize {
    let Some(prefix) = bytes.get(..RECORD_PREFIX_LEN) else {
        debug_assert!(false, "ring holds a partial record");
        return 0;
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
        return 0;
    };
    writer.seal_if_full().ok();
    ring::record_len(RECORD_PREFIX_LEN + args_len)
}
