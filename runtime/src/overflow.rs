//! Overflow policies: the choice a log call makes when its thread's ring is full, between
//! dropping the record and waiting for room.
//!
//! The policy is read only here, on the cold path that a call takes after the ring's slow
//! reservation has failed, so it costs the fast path nothing. The process-wide default comes
//! from `Config::overflow`; [`set_thread_overflow`] overrides it for the calling thread.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::crash::LINK;
use crate::ring::Ring;
use crate::stats::STATS;

/// Policy for a record that does not fit in its thread's ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Drop the record and count it. `ulog::stats()` shows the count at once. The file shows
    /// it as a drop marker in front of the thread's next record, or when the thread exits or
    /// the logger stops. The call never waits.
    #[default]
    Drop,
    /// Wait until the backend has drained enough of the ring: spin briefly, then yield the
    /// CPU and wake the backend, until the record fits. No record is dropped for lack of room
    /// while the backend runs. A record longer than the whole ring can never fit and is
    /// dropped and counted. Once the backend has stopped (the guard was dropped, the exit
    /// handler ran, or the backend failed), the call gives up and counts the record in
    /// `Stats::records_unregistered`, so it never waits forever.
    Block,
}

impl Overflow {
    const fn to_byte(self) -> u8 {
        match self {
            Overflow::Drop => 1,
            Overflow::Block => 2,
        }
    }

    const fn from_byte(byte: u8) -> Option<Overflow> {
        match byte {
            1 => Some(Overflow::Drop),
            2 => Some(Overflow::Block),
            _ => None,
        }
    }
}

/// Byte of a thread without an override.
const INHERIT: u8 = 0;

/// The running logger's default policy, as set by `init`.
static DEFAULT: AtomicU8 = AtomicU8::new(Overflow::Drop.to_byte());

thread_local! {
    /// The calling thread's override, or [`INHERIT`]. A constant initializer and no
    /// destructor keep it usable at any point of the thread's life.
    static OVERRIDE: Cell<u8> = const { Cell::new(INHERIT) };
}

/// Retries with a spin-loop hint before the first yield.
const SPINS: u32 = 64;

/// Sets the default policy for every thread without an override; called by `init`.
pub(crate) fn set_default(policy: Overflow) {
    DEFAULT.store(policy.to_byte(), Ordering::Relaxed);
}

/// Sets what the calling thread's log calls do when its ring is full, over the default of
/// `Config::overflow`; `None` removes the override. Returns the previous override.
///
/// The override belongs to the thread, not to a logger: it may be set before `init` and
/// stays in force across loggers.
///
/// ```no_run
/// use ulog::Overflow;
///
/// // This thread writes audit records that must not be lost.
/// ulog::set_thread_overflow(Overflow::Block);
/// ```
pub fn set_thread_overflow(policy: impl Into<Option<Overflow>>) -> Option<Overflow> {
    let byte = policy.into().map_or(INHERIT, Overflow::to_byte);
    OVERRIDE.with(|current| Overflow::from_byte(current.replace(byte)))
}

/// Returns the policy in force for the calling thread.
pub fn thread_overflow() -> Overflow {
    let byte = OVERRIDE.try_with(Cell::get).unwrap_or(INHERIT);
    Overflow::from_byte(byte)
        .or_else(|| Overflow::from_byte(DEFAULT.load(Ordering::Relaxed)))
        .unwrap_or_default()
}

/// Applies the calling thread's policy to a record of `len` bytes that did not fit in its
/// full `ring`. Returns a reservation of `len` bytes once there is room, or `None` after
/// counting the record as dropped or, when the backend has stopped, as unregistered.
///
/// # Safety
///
/// The calling thread must be `ring`'s producer, with no reservation pending, and `len` a
/// multiple of `ring::RECORD_ALIGN`.
#[cold]
#[inline(never)]
pub(crate) unsafe fn on_full(ring: &Ring, len: usize) -> Option<*mut u8> {
    let generation = ring.generation();
    if !LINK.is_running(generation) {
        count_unregistered();
        return None;
    }
    if thread_overflow() == Overflow::Drop || len > ring.capacity() {
        // SAFETY: the calling thread is the ring's producer (caller's promise).
        unsafe { ring.count_drop() };
        return None;
    }

    let mut attempts = 0u32;
    loop {
        // SAFETY: forwarded from the caller.
        if let Ok(start) = unsafe { ring.reserve_slow(len) } {
            return Some(start);
        }
        // A record longer than the free space on both sides of an empty ring's position
        // fits only from offset 0.
        // SAFETY: forwarded from the caller.
        if unsafe { ring.rewind_if_empty() } {
            LINK.doorbell.ring();
            continue;
        }
        if !LINK.is_running(generation) {
            count_unregistered();
            return None;
        }
        attempts = attempts.saturating_add(1);
        if attempts < SPINS {
            std::hint::spin_loop();
        } else {
            LINK.doorbell.ring();
            std::thread::yield_now();
        }
    }
}

/// Counts a record that no backend will ever read.
#[cold]
#[inline(never)]
pub(crate) fn count_unregistered() {
    STATS.unregistered_drops.fetch_add(1, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crash::TEST_SERIAL;
    use crate::filter::LEVEL_OFF;
    use crate::ring::DrainSink;
    use std::sync::Arc;
    use std::time::Duration;

    /// A generation no real logger in these tests has.
    const GENERATION: u32 = 0x00ab_cdef;

    /// Takes the lock that keeps tests of the process-wide link apart, and marks a backend of
    /// [`GENERATION`] as running. Each test marks it finished itself.
    fn start_link() -> std::sync::MutexGuard<'static, ()> {
        let serial = TEST_SERIAL
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        LINK.starting(GENERATION);
        serial
    }

    /// Fills `ring` with 64-byte records whose first word is their length.
    fn fill(ring: &Ring) {
        // SAFETY: the calling thread is the ring's only producer, and publishes each
        // reservation before the next.
        unsafe {
            while let Ok(start) = ring.reserve_slow(64) {
                start.cast::<u64>().write(64);
                ring.publish(start.add(64));
            }
        }
    }

    /// Accepts test records, which carry their length in the first word.
    struct Accept;

    impl DrainSink for Accept {
        fn record(&mut self, bytes: &[u8]) -> usize {
            u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize
        }
    }

    #[test]
    fn thread_override_wins_and_resets() {
        set_default(Overflow::Drop);
        assert_eq!(thread_overflow(), Overflow::Drop);
        assert_eq!(set_thread_overflow(Overflow::Block), None);
        assert_eq!(thread_overflow(), Overflow::Block);

        let other = std::thread::spawn(thread_overflow).join().unwrap();
        assert_eq!(
            other,
            Overflow::Drop,
            "the override leaked to another thread"
        );

        assert_eq!(set_thread_overflow(None), Some(Overflow::Block));
        assert_eq!(thread_overflow(), Overflow::Drop);
    }

    #[test]
    fn drop_counts_and_returns() {
        let _serial = start_link();
        let ring = Ring::new(4096, GENERATION, LEVEL_OFF);
        fill(&ring);
        set_thread_overflow(Overflow::Drop);
        // SAFETY: this thread is the producer, with no reservation pending.
        assert!(unsafe { on_full(&ring, 64) }.is_none());
        assert_eq!(ring.dropped(), 1);
        LINK.finished();
    }

    #[test]
    fn block_drops_a_record_longer_than_the_ring() {
        let _serial = start_link();
        let ring = Ring::new(4096, GENERATION, LEVEL_OFF);
        set_thread_overflow(Overflow::Block);
        // SAFETY: as above.
        assert!(unsafe { on_full(&ring, 4104) }.is_none());
        assert_eq!(ring.dropped(), 1);
        set_thread_overflow(None);
        LINK.finished();
    }

    #[test]
    fn block_waits_until_the_consumer_frees_room() {
        let _serial = start_link();
        let ring = Arc::new(Ring::new(4096, GENERATION, LEVEL_OFF));
        fill(&ring);
        let consumer = {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                // SAFETY: this thread is the only consumer.
                unsafe { ring.drain(&mut Accept) }
            })
        };
        set_thread_overflow(Overflow::Block);
        // SAFETY: this thread is the producer, with no reservation pending.
        let reserved = unsafe { on_full(&ring, 64) };
        set_thread_overflow(None);
        assert!(reserved.is_some());
        assert_eq!(ring.dropped(), 0);
        assert_eq!(consumer.join().unwrap(), 4096);
        LINK.finished();
    }

    #[test]
    fn block_gives_up_when_the_backend_finishes() {
        let _serial = start_link();
        let ring = Ring::new(4096, GENERATION, LEVEL_OFF);
        fill(&ring);
        let unregistered = STATS.unregistered_drops.load(Ordering::Relaxed);
        let finisher = std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            LINK.finished();
        });
        set_thread_overflow(Overflow::Block);
        // SAFETY: this thread is the producer, with no reservation pending.
        let reserved = unsafe { on_full(&ring, 64) };
        set_thread_overflow(None);
        finisher.join().unwrap();
        assert!(reserved.is_none());
        assert_eq!(ring.dropped(), 0);
        assert!(STATS.unregistered_drops.load(Ordering::Relaxed) > unregistered);
    }
}
