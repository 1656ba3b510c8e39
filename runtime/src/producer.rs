//! The hot path: each thread's ring and the code that copies a record into it.
//!
//! A thread gets its own [`Ring`] on its first call, registered with the backend under a
//! lock. After that, a call reads the clock, reserves contiguous room in the ring, stores the
//! site address, the tick count and the argument bytes, and publishes them with one release
//! store. It takes no lock, makes no system call and allocates nothing.
//!
//! A record in a ring is laid out as: site address (8 bytes), ticks (8 bytes), then the
//! arguments in the encoding of `ulog_schema::record`, all little-endian, padded with
//! unspecified bytes to a multiple of [`ring::RECORD_ALIGN`]. The backend finds the argument
//! kinds through the site address, so records carry no length.
//!
//! The fast path reaches the ring through [`CURRENT`], a thread-local raw pointer with a
//! constant initializer and no destructor, so reading it is a single load relative to the
//! thread pointer, with no lazy-initialization or destructor-registration check. It points at
//! [`DETACHED`] until the thread registers. [`OWNER`], a thread-local with a destructor, is
//! touched only on the cold path: it owns the thread's ring, and at thread exit points
//! `CURRENT` back at `DETACHED` and closes the ring, which the backend then drains and frees.
//! A call made later, from another thread-local destructor, finds `DETACHED` again and is
//! counted as unregistered.

use std::cell::{Cell, RefCell};
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use ulog_schema::Level;

use crate::arg::RecordWriter;
use crate::clock;
use crate::filter::{self, LEVEL_OFF, STATIC_MIN_LEVEL};
use crate::overflow;
use crate::ring::{self, NoRoom, Ring};
use crate::site::Site;
use crate::stats::ThreadCounters;

/// Bytes in front of a record's arguments in a ring: the site address and the ticks.
pub(crate) const RECORD_PREFIX_LEN: usize = 16;

/// Identity of one producer thread, as the backend writes it to files, and the backend's
/// counters of what became of its records.
#[derive(Debug)]
pub(crate) struct ThreadShared {
    /// Id written to the file; unique within one process.
    pub(crate) id: u32,
    /// Thread name at registration.
    pub(crate) name: String,
    pub(crate) counters: ThreadCounters,
}

/// The backend's end of one thread's ring.
pub(crate) struct RingHandle {
    pub(crate) ring: Arc<Ring>,
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
    /// Every thread registered with the running logger, in registration order, for
    /// `ulog::stats()`. Exited threads beyond [`MAX_EXITED_LISTED`] are removed, oldest first.
    pub(crate) threads: Vec<Arc<ThreadShared>>,
    /// The minimum level that every ring's gate holds; [`LEVEL_OFF`] while no logger runs.
    gate: u8,
    /// Every ring of the running logger, so that [`set_gates`] reaches all of them. Entries
    /// whose ring is gone are pruned; [`close_gates`] empties the list.
    rings: Vec<Weak<Ring>>,
}

pub(crate) static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    generation: 0,
    accepting: false,
    ring_capacity: 0,
    pending: Vec::new(),
    next_thread_id: 1,
    threads: Vec::new(),
    gate: LEVEL_OFF,
    rings: Vec::new(),
});

/// Exited threads that `ulog::stats()` keeps listing; the totals count every thread.
pub(crate) const MAX_EXITED_LISTED: usize = 1024;

/// Locks the registry, also after a thread panicked while holding it: every update leaves
/// it consistent.
pub(crate) fn lock_registry() -> MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Sets the minimum level and generation in the filter word and copies the level into the
/// gate of every ring of the running logger, while the registry is locked, so that a ring
/// registered meanwhile cannot miss the change.
pub(crate) fn set_gates(registry: &mut Registry, min_level: u8, generation: u32) {
    filter::set_state(min_level, generation);
    registry.gate = min_level;
    registry.rings.retain(|ring| match ring.upgrade() {
        Some(ring) => {
            ring.set_gate(min_level);
            true
        }
        None => false,
    });
}

/// Changes the minimum level of the running logger; does nothing when none runs.
pub(crate) fn set_running_level(min_level: u8) {
    let mut registry = lock_registry();
    if registry.accepting {
        let generation = registry.generation;
        set_gates(&mut registry, min_level, generation);
    }
}

/// Turns every level off and stops accepting new rings. The rings' gates stay closed for
/// good, so after the next `init` a thread's call consults the filter and registers a new
/// ring. A call that passed its gate before still writes its record.
pub(crate) fn close_gates() {
    let mut registry = lock_registry();
    registry.accepting = false;
    let generation = registry.generation;
    set_gates(&mut registry, LEVEL_OFF, generation);
    registry.rings.clear();
}

/// Target of [`CURRENT`] while the thread has no ring. Its generation matches no logger.
static DETACHED: Ring = Ring::detached();

/// Target of [`CURRENT`] while a call encodes its arguments, so that a log call made from
/// inside an `Arg::encode` cannot reserve the bytes the outer call is writing. Its
/// generation matches no logger, and the cold path recognizes it by address.
static BUSY: Ring = Ring::detached();

thread_local! {
    /// The ring the fast path writes to: this thread's ring, [`DETACHED`] or [`BUSY`].
    ///
    /// Invariant: it points at a static or at the ring that [`OWNER`] holds, and `OWNER`
    /// points it back at `DETACHED` before letting go of its ring.
    static CURRENT: Cell<*const Ring> = const { Cell::new(&raw const DETACHED) };

    /// Owns this thread's ring; used on the cold path only.
    static OWNER: RefCell<Option<Owner>> = const { RefCell::new(None) };
}

/// The producer thread's share of its ring.
struct Owner {
    ring: Arc<Ring>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        // `CURRENT` has no destructor, so it is still there during thread exit.
        let _ = CURRENT.try_with(|current| current.set(&raw const DETACHED));
        self.ring.close();
    }
}

/// Points [`CURRENT`] at [`BUSY`] while the arguments are encoded, and back at the ring when
/// dropped, also when an `Arg::encode` panics.
struct Busy {
    ring: *const Ring,
}

impl Busy {
    #[inline(always)]
    fn enter(ring: *const Ring) -> Busy {
        CURRENT.with(|current| current.set(&raw const BUSY));
        Busy { ring }
    }
}

impl Drop for Busy {
    #[inline(always)]
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.ring));
    }
}

/// Checks whether a call at `level` is recorded, as `ulog!` does before evaluating its
/// arguments. The compile-time part folds away. The run-time part compares with the copy of
/// the minimum level in the calling thread's ring, which sits on the producer's own cache
/// line. When that gate is closed, because the level is off or because the thread has no
/// ring of the running logger, the filter word decides. A thread whose ring belongs to an
/// earlier logger is detached then, so that [`write_record`] registers a new ring.
///
/// Nothing here makes a call: a call would force the caller to save registers on every log
/// call, the fast ones included.
#[inline(always)]
// The compile-time comparison is always true without a `max_level_*` feature, by design.
#[allow(clippy::absurd_extreme_comparisons)]
pub fn enabled_here(level: Level) -> bool {
    let level = level as u8;
    if level < STATIC_MIN_LEVEL {
        return false;
    }
    let ring = CURRENT.with(Cell::get);
    // SAFETY: `CURRENT` points at a static or at this thread's ring, which `OWNER` keeps
    // alive for as long as `CURRENT` points at it (invariant of `CURRENT`).
    let ring_ref = unsafe { &*ring };
    if ring_ref.admits(level) {
        return true;
    }

    let state = filter::state();
    if level < state as u8 {
        return false;
    }
    // `BUSY` must stay, so that a call from inside `encode` cannot reserve in the ring.
    if ring_ref.generation() != filter::generation_of(state) && !ptr::eq(ring, &raw const BUSY) {
        CURRENT.with(|current| current.set(&raw const DETACHED));
    }
    true
}

/// Copies one record into the calling thread's ring. `ulog!` calls this after
/// [`enabled_here`] returned `true`; `args_len` must be the sum of the arguments'
/// `Arg::encoded_len`.
#[inline(always)]
pub fn write_record<F: FnOnce(&mut RecordWriter<'_>)>(
    site: &'static Site,
    args_len: usize,
    encode: F,
) {
    // Reading `CURRENT` before the clock lets the compiler reuse the load of the level
    // check, which the clock read would otherwise separate from this one.
    let ring = CURRENT.with(Cell::get);
    let ticks = clock::now();
    // SAFETY: `CURRENT` points at a static or at this thread's ring, which `OWNER` keeps
    // alive for as long as `CURRENT` points at it (invariant of `CURRENT`). No reservation
    // of this thread is pending, because a call from inside `encode` finds `BUSY`, which has
    // no buffer, and `attach` refuses it.
    unsafe { write_attached(ring, site, ticks, args_len, encode) };
}

/// Writes a record into `ring`.
///
/// # Safety
///
/// `ring` must be the calling thread's `CURRENT` ring, with no reservation pending. It may
/// be a static without a buffer, whose reservations fail.
#[inline(always)]
unsafe fn write_attached<F: FnOnce(&mut RecordWriter<'_>)>(
    ring_ptr: *const Ring,
    site: &'static Site,
    ticks: u64,
    args_len: usize,
    encode: F,
) {
    // SAFETY: the caller promises the ring is alive.
    let ring = unsafe { &*ring_ptr };
    let len = ring::record_len(RECORD_PREFIX_LEN.wrapping_add(args_len));
    // SAFETY: this thread is the ring's producer and has no reservation pending, as the
    // caller promises and `Busy` in `write_at` ensures for nested calls. `len` is a
    // multiple of 8.
    match unsafe { ring.reserve_fast(len) } {
        // SAFETY: `reserve_fast` granted `len` bytes at `start`; forwarded from the caller.
        Some(start) => unsafe { write_at(ring_ptr, start, len, site, ticks, args_len, encode) },
        // SAFETY: forwarded from the caller.
        None => unsafe { write_after_refresh(ring_ptr, len, site, ticks, args_len, encode) },
    }
}

/// Re-reads the consumer's position when a record does not fit below the cached limit,
/// wraps if needed, then writes the record or applies the thread's overflow policy. It is
/// out of line so that the fast path makes no call and saves no registers.
///
/// # Safety
///
/// As for [`write_attached`], and `len` is the record's padded length.
#[cold]
#[inline(never)]
unsafe fn write_after_refresh<F: FnOnce(&mut RecordWriter<'_>)>(
    ring_ptr: *const Ring,
    len: usize,
    site: &'static Site,
    ticks: u64,
    args_len: usize,
    encode: F,
) {
    // SAFETY: the caller promises the ring is alive.
    let ring = unsafe { &*ring_ptr };
    // SAFETY: as in `write_attached`.
    match unsafe { ring.reserve_slow(len) } {
        // SAFETY: `reserve_slow` granted `len` bytes at `start`; forwarded from the caller.
        Ok(start) => unsafe { write_at(ring_ptr, start, len, site, ticks, args_len, encode) },
        // SAFETY: forwarded from the caller.
        Err(NoRoom::Full) => unsafe {
            write_when_full(ring_ptr, len, site, ticks, args_len, encode)
        },
        Err(NoRoom::NoBuffer) => write_unattached(site, ticks, args_len, encode),
    }
}

/// Applies the thread's overflow policy to a record that found its ring full, and writes
/// the record if the policy found room for it.
///
/// # Safety
///
/// As for [`write_after_refresh`].
#[cold]
#[inline(never)]
unsafe fn write_when_full<F: FnOnce(&mut RecordWriter<'_>)>(
    ring_ptr: *const Ring,
    len: usize,
    site: &'static Site,
    ticks: u64,
    args_len: usize,
    encode: F,
) {
    // SAFETY: the caller promises the ring is alive.
    let ring = unsafe { &*ring_ptr };
    // SAFETY: forwarded from the caller.
    if let Some(start) = unsafe { overflow::on_full(ring, len) } {
        // SAFETY: `on_full` granted `len` bytes at `start`; forwarded from the caller.
        unsafe { write_at(ring_ptr, start, len, site, ticks, args_len, encode) };
    }
}

/// Registers the thread's ring if it may, then writes the record: the cold path of a
/// thread's first call, of its first call after a new `init`, and of a call from inside
/// another call's `encode`.
#[cold]
#[inline(never)]
fn write_unattached<F: FnOnce(&mut RecordWriter<'_>)>(
    site: &'static Site,
    ticks: u64,
    args_len: usize,
    encode: F,
) {
    let Some(ring_ptr) = attach() else {
        count_unregistered_drop();
        return;
    };
    // SAFETY: `attach` returns this thread's own ring, which `OWNER` holds.
    let ring = unsafe { &*ring_ptr };
    let len = ring::record_len(RECORD_PREFIX_LEN.wrapping_add(args_len));
    // Matching here instead of calling `write_after_refresh` keeps the two functions from
    // calling each other: that recursion made the compiler spill the arguments to the stack
    // on the fast path (4 instructions more per call, `benches/instructions.sh`).
    // SAFETY: this thread is the ring's producer, and none of its calls is between
    // `reserve` and `publish`, because such a call points `CURRENT` at `BUSY`, for which
    // `attach` returns `None`. `len` is a multiple of 8.
    match unsafe { ring.reserve_slow(len) } {
        // SAFETY: `reserve_slow` granted `len` bytes at `start` of this thread's ring.
        Ok(start) => unsafe { write_at(ring_ptr, start, len, site, ticks, args_len, encode) },
        // SAFETY: as above.
        Err(NoRoom::Full) => unsafe {
            write_when_full(ring_ptr, len, site, ticks, args_len, encode)
        },
        Err(NoRoom::NoBuffer) => count_unregistered_drop(),
    }
}

/// Writes a record into the `len` bytes reserved at `start` and publishes it.
///
/// # Safety
///
/// As for [`write_attached`], and `start..start + len` is the ring's pending reservation.
#[inline(always)]
unsafe fn write_at<F: FnOnce(&mut RecordWriter<'_>)>(
    ring_ptr: *const Ring,
    start: *mut u8,
    len: usize,
    site: &'static Site,
    ticks: u64,
    args_len: usize,
    encode: F,
) {
    // SAFETY: the caller promises the ring is alive.
    let ring = unsafe { &*ring_ptr };
    let unpadded = RECORD_PREFIX_LEN.wrapping_add(args_len);
    // SAFETY: `reserve` returned `len` bytes at `start` that belong to the producer until
    // they are published, and nothing else touches them meanwhile.
    let mut writer = unsafe { RecordWriter::new(start, len) };
    writer.put(&(site as *const Site as usize as u64).to_le_bytes());
    writer.put(&ticks.to_le_bytes());
    let busy = Busy::enter(ring_ptr);
    encode(&mut writer);
    drop(busy);
    if writer.written() != unpadded {
        // An `Arg` implementation wrote a different length than it promised. Publishing
        // would expose bytes the backend would misread, so the record is dropped instead.
        // SAFETY: this thread is the ring's producer (caller's promise).
        unsafe { ring.count_drop() };
        return;
    }
    // SAFETY: every byte of the reservation the backend reads has been written; `len` is
    // what `reserve` granted, so the end stays inside the buffer.
    unsafe { ring.publish(start.add(len)) };
}

/// Points [`CURRENT`] at the calling thread's ring for the running logger, registering a new
/// ring if needed. Returns `None` when no logger takes rings, the thread is exiting, or the
/// call comes from inside another call.
fn attach() -> Option<*const Ring> {
    let current = CURRENT.with(Cell::get);
    if ptr::eq(current, &raw const BUSY) {
        return None;
    }
    let generation = filter::generation_of(filter::state());
    OWNER
        .try_with(|owner| {
            let mut owner = owner.try_borrow_mut().ok()?;
            let ring = match owner.as_ref() {
                Some(existing) if existing.ring.generation() == generation => {
                    Arc::as_ptr(&existing.ring)
                }
                _ => {
                    let ring = register(generation)?;
                    let pointer = Arc::as_ptr(&ring);
                    // Dropping the earlier owner, if any, closes its ring.
                    *owner = Some(Owner { ring });
                    pointer
                }
            };
            CURRENT.with(|current| current.set(ring));
            Some(ring)
        })
        .ok()
        .flatten()
}

/// Creates the calling thread's ring now, so that its first log call does not pay for the
/// allocation and page faults, which grow with `Config::ring_capacity` (about a millisecond
/// for 1 MiB). Call it at the start of each latency-critical thread. Returns `false` when no
/// logger is running; the first log call then registers the thread as usual.
pub fn prepare_thread() -> bool {
    attach().is_some()
}

/// Counts a record that had no ring to go to: the thread is exiting, the logger is stopping,
/// or a log call ran inside another one.
#[cold]
#[inline(never)]
fn count_unregistered_drop() {
    overflow::count_unregistered();
}

/// Creates a ring for the calling thread and hands it to the backend.
#[cold]
#[inline(never)]
fn register(generation: u32) -> Option<Arc<Ring>> {
    let capacity = {
        let registry = lock_registry();
        if !registry.accepting || registry.generation != generation {
            return None;
        }
        registry.ring_capacity
    };
    // Allocating and touching the ring takes long; other threads may register meanwhile.
    let ring = Arc::new(Ring::new(capacity, generation, LEVEL_OFF));
    let mut registry = lock_registry();
    if !registry.accepting || registry.generation != generation {
        return None;
    }
    ring.set_gate(registry.gate);
    registry.rings.retain(|ring| ring.strong_count() > 0);
    registry.rings.push(Arc::downgrade(&ring));

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
        counters: ThreadCounters::default(),
    });
    registry.pending.push(RingHandle {
        ring: Arc::clone(&ring),
        thread: Arc::clone(&thread),
    });
    registry.threads.push(thread);
    forget_oldest_exited(&mut registry.threads);
    Some(ring)
}

/// Removes the oldest exited threads from `threads` while more than [`MAX_EXITED_LISTED`]
/// have exited.
fn forget_oldest_exited(threads: &mut Vec<Arc<ThreadShared>>) {
    let exited = threads
        .iter()
        .filter(|thread| !thread.counters.is_active())
        .count();
    let mut excess = exited.saturating_sub(MAX_EXITED_LISTED);
    if excess == 0 {
        return;
    }
    threads.retain(|thread| {
        if excess > 0 && !thread.counters.is_active() {
            excess -= 1;
            return false;
        }
        true
    });
}
