//! A single-producer, single-consumer byte ring that keeps every record contiguous.
//!
//! Positions are byte offsets from the start of the buffer, in `0..=capacity`. The producer
//! publishes its write position and the consumer its read position, each on its own cache
//! line, and each side keeps a private copy of the other's position. The producer refreshes
//! its copy only when a record does not fit below it.
//!
//! Invariants, relied on by every `unsafe` block in this module and its users:
//!
//! - Every record length and every position is a multiple of [`RECORD_ALIGN`].
//! - `write == read` means empty. The producer never writes up to `read` from behind, so a
//!   full ring never looks empty.
//! - A record never crosses the end of the buffer. When the bytes before the end are too
//!   few, the producer writes [`PAD_MARKER`] where the record would have started (unless it
//!   is exactly at the end) and continues at offset 0. A consumer that meets the marker
//!   skips to the end.
//! - Bytes in `read..write` (going around the end when `write < read`) belong to the
//!   consumer; all other bytes belong to the producer. The buffer is zeroed when it is
//!   created, so every byte is initialized at all times.

use std::alloc::{alloc_zeroed, dealloc, handle_alloc_error, Layout};
use std::cell::UnsafeCell;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// Every record length is a multiple of this, so the bytes left before the end of the buffer
/// always hold a whole [`PAD_MARKER`].
pub(crate) const RECORD_ALIGN: usize = 8;

/// The word a padding entry starts with: no record starts with a zero site address.
pub(crate) const PAD_MARKER: u64 = 0;

/// The word a drop marker starts with. No record starts with it, because site addresses are
/// multiples of 8, and it is not [`PAD_MARKER`]. The marker's second word is the number of records the producer dropped
/// right before it, so the consumer learns where in the thread's sequence the gap is.
pub(crate) const DROP_MARKER: u64 = u64::MAX;

/// Bytes of a drop marker in the ring: the marker word and the count.
pub(crate) const DROP_MARKER_LEN: usize = 16;

/// Generation of the detached rings; logger generations have 24 bits, so it never matches.
pub(crate) const NO_GENERATION: u32 = u32::MAX;

/// Why [`Ring::reserve_slow`] granted no room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoRoom {
    /// The consumer has not freed enough bytes yet.
    Full,
    /// The ring is a static without a buffer: the thread has no ring to write to.
    NoBuffer,
}

/// Largest record the fast path reserves; larger ones take the slow path, which compares
/// without overflow. Rings hold at most 1 GiB, so this excludes nothing that fits.
const MAX_FAST_LEN: usize = 1 << 32;

/// Alignment of the buffer: one cache line.
const BUFFER_ALIGN: usize = 64;

/// Bytes the consumer drains between two stores of its read position. With one store per
/// drain, a 1 MiB ring dropped 53% to 54% of the throughput benchmark's records, and with
/// this stride 0.4% to 1.3%.
const PUBLISH_STRIDE: usize = 64 << 10;

/// Bytes between two writes that pre-fault the buffer: the smallest page size.
const PAGE: usize = 4096;

/// Rounds a record length up to a multiple of [`RECORD_ALIGN`]. Wraps for lengths near
/// `usize::MAX`; callers bound what they write by the rounded length, never by the length
/// given.
#[inline(always)]
pub(crate) const fn record_len(unpadded: usize) -> usize {
    unpadded.wrapping_add(RECORD_ALIGN - 1) & !(RECORD_ALIGN - 1)
}

/// Receives what [`Ring::drain`] takes out of a ring.
pub(crate) trait DrainSink {
    /// Receives the bytes from a record's start to the end of the readable region. Returns
    /// the record's padded length, a non-zero multiple of [`RECORD_ALIGN`] within the
    /// slice. A return of 0 ends the drain and leaves the record in the ring. A return of
    /// more than the slice discards the rest of the region.
    fn record(&mut self, bytes: &[u8]) -> usize;
}

/// The producer's cache line.
#[repr(C, align(64))]
struct ProducerSide {
    /// Lowest level a call through this ring may have: the running logger's minimum level,
    /// copied into the ring so that the level check reads the producer's own cache line
    /// instead of a global. `producer::set_gates` keeps the copies current. `LEVEL_OFF` in
    /// rings without a buffer and in retired rings, whose callers must consult the filter.
    gate: AtomicU8,
    /// Logger generation the ring was registered with; never changes.
    generation: u32,
    /// Address of the next record, `base + write position`. The producer stores it with
    /// `Release` after writing a record; the consumer loads it with `Acquire`.
    write: AtomicPtr<u8>,
    /// The producer's cached view of the consumer: the address the fast path may write up
    /// to, exclusive. It is the end of the buffer when the producer is at or ahead of the
    /// consumer's position as last read, and one byte before that position when the producer
    /// has wrapped behind it. Always at least `write`. Only the producer touches it, and it
    /// re-reads the consumer's position only when a record does not fit below it.
    limit: UnsafeCell<*mut u8>,
    /// Drops not yet written into the ring as a [`DROP_MARKER`]. Only the producer writes
    /// it, so it needs no read-modify-write; the consumer reads it once the producer is done.
    unreported: AtomicU64,
    /// Records dropped because the ring was full. Only the producer writes it, so it needs
    /// no read-modify-write; the consumer loads it with `Acquire`.
    dropped: AtomicU64,
    base: *mut u8,
    capacity: usize,
}

/// The consumer's cache line.
#[repr(C, align(64))]
struct ConsumerSide {
    /// The consumer's position; stored with `Release` after it has read the bytes before it.
    read: AtomicUsize,
    /// Set with `Release` by the producer after its last write; the consumer then drains the
    /// ring a last time and drops it.
    closed: AtomicBool,
    base: *mut u8,
    capacity: usize,
}

/// One thread's ring, shared by its producer thread and the backend.
#[repr(C)]
pub(crate) struct Ring {
    producer: ProducerSide,
    consumer: ConsumerSide,
}

// SAFETY: the `UnsafeCell` fields are touched only by the one producer thread (the `unsafe`
// producer methods require it), and the buffer is split between the two sides by the
// positions, which travel through atomics with release and acquire ordering.
unsafe impl Sync for Ring {}
// SAFETY: the ring owns its buffer, and nothing in it is tied to the creating thread.
unsafe impl Send for Ring {}

impl Ring {
    /// Allocates a ring of `capacity` bytes, rounded down to a multiple of [`RECORD_ALIGN`],
    /// and writes every page so that no log call takes a first-touch page fault.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is below 64 bytes.
    pub(crate) fn new(capacity: usize, generation: u32, gate: u8) -> Ring {
        let capacity = capacity & !(RECORD_ALIGN - 1);
        assert!(capacity >= 64, "ring capacity {capacity} is below 64 bytes");
        let layout = Layout::from_size_align(capacity, BUFFER_ALIGN).expect("ring layout");
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc_zeroed(layout) };
        if base.is_null() {
            handle_alloc_error(layout);
        }
        for offset in (0..capacity).step_by(PAGE) {
            // SAFETY: `offset < capacity`, inside the allocation. A volatile write is not
            // optimized away, so the page is touched here and not on a later log call.
            unsafe { ptr::write_volatile(base.add(offset), 0) };
        }
        Ring {
            producer: ProducerSide {
                gate: AtomicU8::new(gate),
                generation,
                write: AtomicPtr::new(base),
                // Empty ring: the producer may write up to the end.
                // SAFETY: `capacity` is the allocation's size.
                limit: UnsafeCell::new(unsafe { base.add(capacity) }),
                unreported: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                base,
                capacity,
            },
            consumer: ConsumerSide {
                read: AtomicUsize::new(0),
                closed: AtomicBool::new(false),
                base,
                capacity,
            },
        }
    }

    /// Returns a ring with no buffer and a generation no logger has. Its gate stays closed,
    /// and its null limit fails every reservation.
    pub(crate) const fn detached() -> Ring {
        Ring {
            producer: ProducerSide {
                gate: AtomicU8::new(crate::filter::LEVEL_OFF),
                generation: NO_GENERATION,
                write: AtomicPtr::new(ptr::null_mut()),
                limit: UnsafeCell::new(ptr::null_mut()),
                unreported: AtomicU64::new(0),
                dropped: AtomicU64::new(0),
                base: ptr::null_mut(),
                capacity: 0,
            },
            consumer: ConsumerSide {
                read: AtomicUsize::new(0),
                closed: AtomicBool::new(true),
                base: ptr::null_mut(),
                capacity: 0,
            },
        }
    }

    /// Logger generation the ring belongs to.
    #[inline(always)]
    pub(crate) fn generation(&self) -> u32 {
        self.producer.generation
    }

    /// Checks whether a call at `level` passes the ring's copy of the minimum level.
    #[inline(always)]
    pub(crate) fn admits(&self, level: u8) -> bool {
        level >= self.producer.gate.load(Ordering::Relaxed)
    }

    /// Sets the ring's copy of the minimum level.
    pub(crate) fn set_gate(&self, min_level: u8) {
        self.producer.gate.store(min_level, Ordering::Relaxed);
    }

    /// Bytes the ring holds, after rounding; 0 for a detached ring.
    pub(crate) fn capacity(&self) -> usize {
        self.consumer.capacity
    }

    /// Reserves `len` contiguous bytes and returns their start, or `None` when the ring has
    /// no room. Nothing is visible to the consumer until [`Ring::publish`].
    ///
    /// # Safety
    ///
    /// Only the ring's one producer thread may call it, never while an earlier reservation is
    /// still unpublished (a reservation is abandoned by simply not publishing it), and `len`
    /// must be a multiple of [`RECORD_ALIGN`].
    #[cfg(test)]
    unsafe fn reserve(&self, len: usize) -> Option<*mut u8> {
        // SAFETY: forwarded from the caller.
        match unsafe { self.reserve_fast(len) } {
            Some(start) => Some(start),
            // SAFETY: forwarded from the caller.
            None => unsafe { self.reserve_slow(len) }.ok(),
        }
    }

    /// Reserves `len` bytes below the cached limit, without looking at the consumer. Returns
    /// `None` when they do not fit there; [`Ring::reserve_slow`] then decides.
    ///
    /// # Safety
    ///
    /// As for [`Ring::reserve`].
    #[inline(always)]
    pub(crate) unsafe fn reserve_fast(&self, len: usize) -> Option<*mut u8> {
        let write = self.producer.write.load(Ordering::Relaxed);
        // SAFETY: only the producer thread touches `limit`, as the caller promises.
        let limit = unsafe { *self.producer.limit.get() };
        // Bounding `len` first keeps `write + len` from overflowing. For the constant lengths
        // of fixed-size arguments the bound folds away, so the test is one compare of the
        // record's end with `limit`. That is 2 instructions fewer than comparing `len` with
        // `limit - write` (callgrind, `benches/instructions.sh`).
        if len <= MAX_FAST_LEN && write.addr() + len <= limit.addr() {
            Some(write)
        } else {
            None
        }
    }

    /// Refreshes the consumer's position, pads and wraps if the record does not fit before
    /// the end, and recomputes `limit`.
    ///
    /// # Errors
    ///
    /// [`NoRoom::Full`] when the consumer has not freed enough bytes, [`NoRoom::NoBuffer`]
    /// for a ring without a buffer.
    ///
    /// # Safety
    ///
    /// As for [`Ring::reserve`].
    #[cold]
    #[inline(never)]
    pub(crate) unsafe fn reserve_slow(&self, len: usize) -> Result<*mut u8, NoRoom> {
        let side = &self.producer;
        if side.base.is_null() {
            return Err(NoRoom::NoBuffer);
        }
        let unreported = side.unreported.load(Ordering::Relaxed);
        if unreported > 0 {
            // SAFETY: forwarded from the caller; the marker's length is a multiple of 8.
            let start = unsafe { self.reserve_room(DROP_MARKER_LEN) }?;
            // SAFETY: `reserve_room` granted `DROP_MARKER_LEN` bytes at `start`, 8-aligned
            // because positions are multiples of 8 and the buffer is 64-aligned.
            unsafe {
                start.cast::<u64>().write(DROP_MARKER.to_le());
                start.add(8).cast::<u64>().write(unreported.to_le());
                self.publish(start.add(DROP_MARKER_LEN));
            }
            side.unreported.store(0, Ordering::Release);
        }
        // SAFETY: forwarded from the caller.
        unsafe { self.reserve_room(len) }
    }

    /// Does the work of [`Ring::reserve_slow`] for one reservation.
    ///
    /// # Safety
    ///
    /// As for [`Ring::reserve`].
    unsafe fn reserve_room(&self, len: usize) -> Result<*mut u8, NoRoom> {
        let side = &self.producer;
        debug_assert_eq!(len % RECORD_ALIGN, 0);
        let capacity = side.capacity;
        let write_ptr = side.write.load(Ordering::Relaxed);
        let mut write = write_ptr.addr() - side.base.addr();
        let read = self.consumer.read.load(Ordering::Acquire);
        debug_assert!(write <= capacity && read <= capacity);
        debug_assert_eq!(write % RECORD_ALIGN, 0);

        let mut start = write_ptr;
        if write >= read {
            // Free: `write..capacity`, then `0..read - 1` after wrapping.
            if len > capacity - write {
                if len >= read {
                    return Err(NoRoom::Full);
                }
                if write < capacity {
                    // SAFETY: `write` and `capacity` are multiples of 8 and `write` is below
                    // `capacity`, so 8 bytes fit. They belong to the producer because
                    // `write >= read`.
                    unsafe { start.cast::<u64>().write(PAD_MARKER.to_le()) };
                }
                write = 0;
                start = side.base;
                // Publish the wrap at once: the consumer then skips the padding and finds
                // the ring empty at offset 0. `limit >= write` then stays true even if the
                // reservation is abandoned.
                side.write.store(start, Ordering::Release);
            }
        } else if len >= read - write {
            // Free: `write..read - 1`; writing up to `read` would look empty.
            return Err(NoRoom::Full);
        }
        let limit = if write >= read { capacity } else { read - 1 };
        debug_assert!(write + len <= limit);
        // SAFETY: only the producer thread touches `limit`; `limit <= capacity` keeps the
        // pointer inside the allocation, or one past its end.
        unsafe { *side.limit.get() = side.base.add(limit) };
        Ok(start)
    }

    /// Moves an empty ring's write position back to offset 0, so that a record longer than
    /// the free space on either side of the current position fits once the consumer
    /// follows. Returns whether it moved.
    ///
    /// The producer writes [`PAD_MARKER`] at its position and publishes offset 0, as a wrap
    /// does. The consumer then skips the padding, finds the ring empty at 0, and stores 0 as
    /// its read position. Until [`Ring::reserve_slow`] next runs, the fast path reserves nothing.
    ///
    /// # Safety
    ///
    /// As for [`Ring::reserve`].
    #[cold]
    pub(crate) unsafe fn rewind_if_empty(&self) -> bool {
        let side = &self.producer;
        if side.base.is_null() {
            return false;
        }
        let write_ptr = side.write.load(Ordering::Relaxed);
        let write = write_ptr.addr() - side.base.addr();
        let read = self.consumer.read.load(Ordering::Acquire);
        if write != read || write == 0 {
            return false;
        }
        if write < side.capacity {
            // SAFETY: `write` is a multiple of 8 below `capacity`, so 8 bytes fit, and the
            // ring is empty, so every byte belongs to the producer.
            unsafe { write_ptr.cast::<u64>().write(PAD_MARKER.to_le()) };
        }
        // SAFETY: only the producer thread touches `limit`. Setting it to the new write
        // position keeps `limit >= write` and sends the next reservation to the slow path.
        unsafe { *side.limit.get() = side.base };
        side.write.store(side.base, Ordering::Release);
        true
    }

    /// Makes the record that starts at a reservation and ends at `end` visible to the
    /// consumer.
    ///
    /// # Safety
    ///
    /// Only the producer thread may call it, with `end` the end of the last reservation,
    /// after writing every byte of it.
    #[inline(always)]
    pub(crate) unsafe fn publish(&self, end: *mut u8) {
        self.producer.write.store(end, Ordering::Release);
    }

    /// Counts a record the producer could not write. The count goes into the ring as a
    /// [`DROP_MARKER`] in front of the next record that fits, and the fast path fails until
    /// then, so every call takes [`Ring::reserve_slow`], which writes the marker.
    ///
    /// # Safety
    ///
    /// Only the ring's producer thread may call it. A reservation not yet published is
    /// abandoned.
    #[cold]
    #[inline(never)]
    pub(crate) unsafe fn count_drop(&self) {
        let side = &self.producer;
        let dropped = &side.dropped;
        dropped.store(dropped.load(Ordering::Relaxed) + 1, Ordering::Release);
        if side.base.is_null() {
            return;
        }
        let unreported = &side.unreported;
        unreported.store(unreported.load(Ordering::Relaxed) + 1, Ordering::Release);
        // SAFETY: only the producer thread touches `limit`, as the caller promises. A limit
        // equal to the write position keeps `limit >= write` and fails every fast reservation.
        unsafe { *side.limit.get() = side.write.load(Ordering::Relaxed) };
    }

    /// Drops counted by the producer but not yet written into the ring as a marker. Final
    /// only once the producer has closed the ring or stopped logging.
    pub(crate) fn unreported_drops(&self) -> u64 {
        self.producer.unreported.load(Ordering::Acquire)
    }

    /// Records dropped so far.
    pub(crate) fn dropped(&self) -> u64 {
        self.producer.dropped.load(Ordering::Acquire)
    }

    /// Marks the producer as gone; it writes nothing after this.
    pub(crate) fn close(&self) {
        self.consumer.closed.store(true, Ordering::Release);
    }

    /// Returns whether the producer has closed the ring. A consumer that loads `true` and
    /// then drains the ring has received every record.
    pub(crate) fn is_closed(&self) -> bool {
        self.consumer.closed.load(Ordering::Acquire)
    }

    /// Hands every published record to `sink`, one contiguous slice per record (padding
    /// skipped), and frees their bytes. Returns the bytes consumed.
    ///
    /// Before each stretch of records, `sink` gets the drop count as loaded after the
    /// stretch's end was read. Every drop that happened before one of those records was
    /// published is included, so a drop marker written then comes before the records that
    /// follow the gap.
    ///
    /// # Safety
    ///
    /// Only one thread, the consumer, may call it at a time.
    pub(crate) unsafe fn drain(&self, sink: &mut impl DrainSink) -> usize {
        let side = &self.consumer;
        if side.base.is_null() {
            return 0;
        }
        let capacity = side.capacity;
        let mut read = side.read.load(Ordering::Relaxed);
        let mut published = read;
        let mut consumed = 0;
        let mut stopped = false;
        loop {
            let write = self.producer.write.load(Ordering::Acquire).addr() - side.base.addr();
            debug_assert!(write <= capacity && read <= capacity);
            if read == write {
                break;
            }
            if read == capacity {
                // The producer has wrapped: `write != capacity`.
                read = 0;
                continue;
            }
            let end = if read < write { write } else { capacity };
            // SAFETY: `read..end` is published and belongs to the consumer (module
            // invariants), and every byte of the buffer is initialized. The producer does not
            // write these bytes until `read` moves past them.
            let region = unsafe { std::slice::from_raw_parts(side.base.add(read), end - read) };
            let mut offset = 0;
            // Stopping after `PUBLISH_STRIDE` bytes publishes the read position while a long
            // drain goes on, so the producer can reuse the space instead of dropping records.
            while offset < region.len() && offset < PUBLISH_STRIDE {
                let rest = &region[offset..];
                let first = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
                if first == PAD_MARKER {
                    // Padding runs to the end of the buffer.
                    debug_assert_eq!(end, capacity);
                    offset = region.len();
                    break;
                }
                let used = sink.record(rest);
                if used == 0 {
                    stopped = true;
                    break;
                }
                if used > rest.len() {
                    offset = region.len();
                    break;
                }
                debug_assert_eq!(used % RECORD_ALIGN, 0);
                offset += used;
            }
            consumed += offset;
            read += offset;
            if offset > 0 {
                // The loop makes a new `region` after this store, so no slice covers bytes
                // the producer may now write.
                side.read.store(read, Ordering::Release);
                published = read;
            }
            if stopped {
                break;
            }
        }
        if read != published {
            side.read.store(read, Ordering::Release);
        }
        consumed
    }

    /// Bytes published and not yet drained; for tests.
    #[cfg(test)]
    fn used(&self) -> usize {
        let write = self.producer.write.load(Ordering::Acquire).addr() - self.consumer.base.addr();
        let read = self.consumer.read.load(Ordering::Acquire);
        if write >= read {
            write - read
        } else {
            self.consumer.capacity - read + write
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        if self.consumer.base.is_null() {
            return;
        }
        let layout =
            Layout::from_size_align(self.consumer.capacity, BUFFER_ALIGN).expect("ring layout");
        // SAFETY: `base` came from `alloc_zeroed` with this layout, and `&mut self` means no
        // side uses it any more.
        unsafe { dealloc(self.consumer.base, layout) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Writes a test record: `tag` (never 0), its length, then bytes derived from `tag`.
    /// Returns whether it fit.
    fn push(ring: &Ring, tag: u64, len: usize) -> bool {
        assert!(len >= 16);
        assert_eq!(len % RECORD_ALIGN, 0);
        // SAFETY: the tests call it from one producer thread at a time, and publish each
        // reservation before the next.
        let Some(start) = (unsafe { ring.reserve(len) }) else {
            // SAFETY: as above.
            unsafe { ring.count_drop() };
            return false;
        };
        let mut bytes = vec![tag as u8; len];
        bytes[..8].copy_from_slice(&tag.to_le_bytes());
        bytes[8..16].copy_from_slice(&(len as u64).to_le_bytes());
        // SAFETY: `reserve` granted `len` bytes at `start`; publishing them right after.
        unsafe {
            ptr::copy_nonoverlapping(bytes.as_ptr(), start, len);
            ring.publish(start.add(len));
        }
        true
    }

    /// Collects drained test records, and the drop counts reported before them.
    #[derive(Default)]
    struct Collect {
        records: Vec<(u64, usize)>,
        /// `(records collected so far, drop count)` for each drop marker.
        drops: Vec<(usize, u64)>,
    }

    impl DrainSink for Collect {
        fn record(&mut self, bytes: &[u8]) -> usize {
            let tag = u64::from_le_bytes(bytes[..8].try_into().unwrap());
            if tag == DROP_MARKER {
                let count = u64::from_le_bytes(bytes[8..16].try_into().unwrap());
                self.drops.push((self.records.len(), count));
                return DROP_MARKER_LEN;
            }
            let len = u64::from_le_bytes(bytes[8..16].try_into().unwrap()) as usize;
            assert!(bytes[16..len].iter().all(|&byte| byte == tag as u8));
            self.records.push((tag, len));
            len
        }
    }

    /// Drains the ring, checking each record's contents; returns `(tag, len)` pairs.
    fn take(ring: &Ring) -> Vec<(u64, usize)> {
        let mut sink = Collect::default();
        // SAFETY: one consumer thread at a time.
        unsafe { ring.drain(&mut sink) };
        sink.records
    }

    #[test]
    fn every_record_size_wraps_near_the_end() {
        let capacity = 256;
        for lead in (16..capacity - 16).step_by(RECORD_ALIGN) {
            for len in (16..=capacity / 2).step_by(RECORD_ALIGN) {
                let ring = Ring::new(capacity, 1, 0);
                // Both positions at `lead`, ring empty.
                assert!(push(&ring, 1, lead));
                assert_eq!(take(&ring), [(1, lead)]);
                // The second or third record of `len` meets the end for some `lead`: it
                // must wrap, with or without padding, and come out whole.
                assert!(push(&ring, 2, len), "lead {lead} len {len}");
                assert_eq!(take(&ring), [(2, len)]);
                assert!(push(&ring, 3, len), "lead {lead} len {len}");
                assert_eq!(take(&ring), [(3, len)], "lead {lead} len {len}");
                assert!(push(&ring, 4, 16), "lead {lead} len {len}");
                assert_eq!(take(&ring), [(4, 16)], "lead {lead} len {len}");
                assert_eq!(ring.used(), 0);
                assert_eq!(ring.dropped(), 0);
            }
        }
    }

    #[test]
    fn drain_stops_where_sink_returns_zero() {
        /// Takes records until it meets the one tagged `stop_at`.
        struct StopAt {
            stop_at: u64,
            seen: Vec<u64>,
        }

        impl DrainSink for StopAt {
            fn record(&mut self, bytes: &[u8]) -> usize {
                let tag = u64::from_le_bytes(bytes[..8].try_into().unwrap());
                if tag == self.stop_at {
                    return 0;
                }
                self.seen.push(tag);
                32
            }
        }

        let ring = Ring::new(4096, 1, 0);
        for tag in 1..=4 {
            assert!(push(&ring, tag, 32));
        }
        let mut sink = StopAt {
            stop_at: 3,
            seen: Vec::new(),
        };
        // SAFETY: this test is the ring's only consumer.
        let consumed = unsafe { ring.drain(&mut sink) };
        assert_eq!(sink.seen, [1, 2]);
        assert_eq!(consumed, 64);
        assert_eq!(take(&ring), [(3, 32), (4, 32)]);
    }

    #[test]
    fn full_ring_drops_and_counts() {
        let ring = Ring::new(4096, 1, 0);
        assert_eq!(ring.capacity(), 4096);
        let mut written = 0;
        while push(&ring, written + 1, 64) {
            written += 1;
        }
        assert_eq!(written, 4096 / 64);
        assert!(!push(&ring, 99, 16));
        assert_eq!(ring.dropped(), 2);
        let seen = take(&ring);
        assert_eq!(seen.len() as u64, written);
        assert!(seen
            .iter()
            .zip(1..)
            .all(|(&(tag, _), expected)| tag == expected));
        // Space came back; a record larger than the ring never fits.
        assert!(push(&ring, 100, 64));
        assert!(!push(&ring, 101, 8192));
        assert_eq!(ring.dropped(), 3);
    }

    #[test]
    fn wrapped_producer_never_reaches_the_consumer() {
        let ring = Ring::new(128, 1, 0);
        assert!(push(&ring, 1, 64));
        assert!(push(&ring, 2, 32));
        assert_eq!(take(&ring).len(), 2);
        // The consumer is at 96. The producer fills 96..128 exactly, wraps without
        // padding, and may then fill 0..95 at most, never up to 96, which would look empty.
        assert!(push(&ring, 3, 32));
        assert!(push(&ring, 4, 48));
        assert!(push(&ring, 5, 16));
        assert!(push(&ring, 6, 16));
        assert!(!push(&ring, 7, 16));
        assert_eq!(take(&ring), [(3, 32), (4, 48), (5, 16), (6, 16)]);
        assert!(push(&ring, 7, 16));
        assert_eq!(take(&ring), [(7, 16)]);
    }

    #[test]
    fn rounds_lengths_up() {
        assert_eq!(record_len(16), 16);
        assert_eq!(record_len(17), 24);
        assert_eq!(record_len(23), 24);
        assert_eq!(record_len(usize::MAX - 3), 0);
        let ring = Ring::new(4100, 1, 0);
        assert_eq!(ring.capacity(), 4096);
    }

    #[test]
    fn rewind_lets_a_long_record_fit() {
        let ring = Ring::new(256, 1, 0);
        assert!(push(&ring, 1, 160));
        assert_eq!(take(&ring), [(1, 160)]);
        // Both positions at 160: 96 bytes before the end, 159 after wrapping.
        // SAFETY: this thread is the only producer, with no reservation pending.
        unsafe {
            assert!(ring.reserve(160).is_none());
            assert!(ring.rewind_if_empty());
            // Rewound but not yet followed by the consumer: not empty from here.
            assert!(!ring.rewind_if_empty());
            assert!(ring.reserve(160).is_none());
        }
        assert_eq!(take(&ring), []);
        assert!(push(&ring, 2, 160));
        assert_eq!(take(&ring), [(2, 160)]);

        // A record as long as the ring fits once the ring is empty at offset 0.
        // SAFETY: as above.
        assert!(unsafe { ring.rewind_if_empty() });
        assert_eq!(take(&ring), []);
        assert!(push(&ring, 3, 256));
        assert_eq!(take(&ring), [(3, 256)]);
        assert!(push(&ring, 4, 16));
        assert_eq!(take(&ring), [(4, 16)]);
        assert_eq!(ring.dropped(), 0);
    }

    #[test]
    fn rewind_leaves_a_busy_ring_alone() {
        let ring = Ring::new(256, 1, 0);
        assert!(push(&ring, 1, 64));
        // SAFETY: this thread is the only producer, with no reservation pending.
        assert!(!unsafe { ring.rewind_if_empty() });
        assert_eq!(take(&ring), [(1, 64)]);
    }

    #[test]
    fn drop_marker_sits_where_records_dropped() {
        let ring = Ring::new(128, 1, 0);
        assert!(push(&ring, 1, 64));
        assert!(push(&ring, 2, 32));
        assert!(!push(&ring, 3, 64));
        let mut sink = Collect::default();
        // SAFETY: one consumer thread at a time.
        unsafe { ring.drain(&mut sink) };
        assert_eq!(sink.records, [(1, 64), (2, 32)]);
        // The drop reaches the ring with the next record that fits, not before.
        assert_eq!(sink.drops, []);
        assert_eq!(ring.unreported_drops(), 1);

        assert!(push(&ring, 4, 64));
        assert!(push(&ring, 5, 16));
        let mut sink = Collect::default();
        // SAFETY: as above.
        unsafe { ring.drain(&mut sink) };
        assert_eq!(sink.records, [(4, 64), (5, 16)]);
        assert_eq!(sink.drops, [(0, 1)]);
        assert_eq!(ring.unreported_drops(), 0);
        assert_eq!(ring.dropped(), 1);
    }

    /// Sequence numbers and variable lengths from one thread to another, checked in order.
    #[test]
    fn two_threads_pass_a_sequence() {
        let records: u64 = if cfg!(miri) { 2_000 } else { 2_000_000 };
        let ring = Arc::new(Ring::new(if cfg!(miri) { 512 } else { 64 << 10 }, 1, 0));
        let producer = {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                let mut sum = 0u64;
                for tag in 1..=records {
                    let len = 16 + (tag as usize * 7 % 13) * RECORD_ALIGN;
                    while !push(&ring, tag, len) {
                        std::thread::yield_now();
                    }
                    sum = sum.wrapping_mul(31).wrapping_add(tag ^ len as u64);
                }
                ring.close();
                sum
            })
        };
        let mut next = 1;
        let mut sum = 0u64;
        loop {
            let closed = ring.is_closed();
            for (tag, len) in take(&ring) {
                assert_eq!(tag, next);
                assert_eq!(len, 16 + (tag as usize * 7 % 13) * RECORD_ALIGN);
                sum = sum.wrapping_mul(31).wrapping_add(tag ^ len as u64);
                next += 1;
            }
            if closed {
                break;
            }
            std::thread::yield_now();
        }
        assert_eq!(next, records + 1);
        assert_eq!(sum, producer.join().unwrap());
        // Drops count the failed attempts, which depend on scheduling; none is lost.
        assert_eq!(ring.used(), 0);
    }

    /// A producer thread that exits leaves its records to the consumer, which frees the ring.
    #[test]
    fn records_outlive_their_thread() {
        let ring = Arc::new(Ring::new(4096, 1, 0));
        let producer = Arc::clone(&ring);
        std::thread::spawn(move || {
            for tag in 1..=10 {
                assert!(push(&producer, tag, 24));
            }
            producer.close();
        })
        .join()
        .unwrap();
        assert!(ring.is_closed());
        let tags: Vec<u64> = take(&ring).into_iter().map(|(tag, _)| tag).collect();
        assert_eq!(tags, (1..=10).collect::<Vec<_>>());
        assert_eq!(Arc::strong_count(&ring), 1);
    }
}
