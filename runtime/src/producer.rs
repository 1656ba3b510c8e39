//! The hot path: each thread's ring and the code that copies a record into it.
//!
//! A thread gets its own `rtrb` byte ring on its first call, registered with the backend
//! under a lock. After that, a call reads the clock, reserves room in the ring, copies the
//! site address, the tick count and the argument bytes, and publishes them with one release
//! store. It takes no lock, makes no system call and allocates nothing.
//!
//! A record in a ring is laid out as: site address (8 bytes), ticks (8 bytes), then the
//! arguments in the encoding of `ulog_schema::record`, all little-endian. The backend finds the
//! argument kinds through the site address, so records carry no length.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rtrb::{Consumer, Producer, RingBuffer};

use crate::arg::RecordWriter;
use crate::clock;
use crate::filter;
use crate::site::Site;
use crate::stats::STATS;

/// Bytes in front of a record's arguments in a ring: the site address and the ticks.
pub(crate) const RECORD_PREFIX_LEN: usize = 16;

/// State of one producer thread, shared with the backend.
#[derive(Debug)]
pub(crate) struct ThreadShared {
    /// Id written to the file; unique within one process.
    pub(crate) id: u32,
    /// Thread name at registration.
    pub(crate) name: String,
    /// Records dropped because the ring was full. Only the producer thread writes it, so it
    /// needs no read-modify-write.
    pub(crate) dropped: AtomicU64,
}

/// The backend's end of one thread's ring.
pub(crate) struct RingHandle {
    pub(crate) consumer: Consumer<u8>,
    pub(crate) thread: Arc<ThreadShared>,
}

/// Rings created since the backend last looked, and the settings for new ones.
pub(crate) struct Registry {
    /// Generation of the running logger; rings of other generations are not accepted.
    pub(crate) generation: u32,
    /// Whether a backend is running and takes new rings.
    pub(crate) accepting: bool,
    /// Capacity of each new ring in bytes.
    pub(crate) ring_capacity: usize,
    /// Rings the backend has not picked up yet.
    pub(crate) pending: Vec<RingHandle>,
    /// Next thread id.
    pub(crate) next_thread_id: u32,
}

pub(crate) static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    generation: 0,
    accepting: false,
    ring_capacity: 0,
    pending: Vec::new(),
    next_thread_id: 1,
});

/// The producer thread's end of its ring.
struct ThreadRing {
    producer: Producer<u8>,
    thread: Arc<ThreadShared>,
    generation: u32,
}

thread_local! {
    static RING: RefCell<Option<ThreadRing>> = const { RefCell::new(None) };
}

impl ThreadRing {
    #[inline(always)]
    fn push<F: FnOnce(&mut RecordWriter<'_>)>(
        &mut self,
        site: &'static Site,
        ticks: u64,
        args_len: usize,
        encode: F,
    ) {
        let len = RECORD_PREFIX_LEN + args_len;
        let Ok(mut chunk) = self.producer.write_chunk_uninit(len) else {
            self.count_drop();
            return;
        };
        let (first, second) = chunk.as_mut_slices();
        let mut writer = RecordWriter::new(first, second);
        writer.put(&(site as *const Site as usize as u64).to_le_bytes());
        writer.put(&ticks.to_le_bytes());
        encode(&mut writer);
        if writer.written() != len {
            // An `Arg` implementation wrote a different length than it promised. Publishing
            // would expose uninitialized bytes, so the record is dropped instead.
            self.count_drop();
            return;
        }
        // SAFETY: the writer initialized all `len` bytes of the chunk, as checked above.
        unsafe { chunk.commit_all() };
    }

    #[cold]
    #[inline(never)]
    fn count_drop(&self) {
        let dropped = &self.thread.dropped;
        dropped.store(dropped.load(Ordering::Relaxed) + 1, Ordering::Release);
    }
}

/// Copies one record into the calling thread's ring. `ulog!` calls this after its level check;
/// `args_len` must be the sum of the arguments' `Arg::encoded_len`.
#[inline(always)]
pub fn write_record<F: FnOnce(&mut RecordWriter<'_>)>(
    site: &'static Site,
    args_len: usize,
    encode: F,
) {
    let ticks = clock::now();
    let pushed = RING.try_with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return false;
        };
        let generation = filter::generation_of(filter::state());
        let ring = match slot.as_mut() {
            Some(ring) if ring.generation == generation => ring,
            _ => match register(&mut slot, generation) {
                Some(ring) => ring,
                None => return false,
            },
        };
        ring.push(site, ticks, args_len, encode);
        true
    });
    if pushed != Ok(true) {
        count_unregistered_drop();
    }
}

/// Creates the calling thread's ring now, so that its first log call does not pay for the
/// allocation and page faults, which grow with `Config::ring_capacity` (about a millisecond
/// for 1 MiB). Call it at the start of each latency-critical thread. Returns `false` when no
/// logger is running; the first log call then registers the thread as usual.
pub fn prepare_thread() -> bool {
    RING.try_with(|cell| {
        let Ok(mut slot) = cell.try_borrow_mut() else {
            return false;
        };
        let generation = filter::generation_of(filter::state());
        match slot.as_ref() {
            Some(ring) if ring.generation == generation => true,
            _ => register(&mut slot, generation).is_some(),
        }
    })
    .unwrap_or(false)
}

/// Counts a record that had no ring to go to: the thread is exiting, the logger is stopping,
/// or a log call ran inside another one.
#[cold]
#[inline(never)]
fn count_unregistered_drop() {
    STATS.unregistered_drops.fetch_add(1, Ordering::Relaxed);
}

/// Creates the calling thread's ring and hands its consumer to the backend.
#[cold]
#[inline(never)]
fn register(slot: &mut Option<ThreadRing>, generation: u32) -> Option<&mut ThreadRing> {
    let mut registry = REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if !registry.accepting || registry.generation != generation {
        return None;
    }
    let (mut producer, consumer) = RingBuffer::new(registry.ring_capacity);
    prefault(&mut producer);

    let id = registry.next_thread_id;
    registry.next_thread_id += 1;
    let current = std::thread::current();
    let name = match current.name() {
        Some(name) => name.to_owned(),
        None => format!("thread-{id}"),
    };
    let thread = Arc::new(ThreadShared {
        id,
        name,
        dropped: AtomicU64::new(0),
    });
    registry.pending.push(RingHandle {
        consumer,
        thread: Arc::clone(&thread),
    });
    drop(registry);

    *slot = Some(ThreadRing {
        producer,
        thread,
        generation,
    });
    slot.as_mut()
}

/// Touches every page of a new ring so that first-touch page faults happen here, not inside
/// a later log call.
fn prefault(producer: &mut Producer<u8>) {
    let capacity = producer.buffer().capacity();
    if let Ok(chunk) = producer.write_chunk(capacity) {
        // Creating the chunk wrote a zero into every slot; dropping it commits nothing.
        drop(chunk);
    }
}
