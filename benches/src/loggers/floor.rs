//! The floor: the least a binary logger's call can do. It reads the time-stamp counter,
//! stores 24 bytes (the counter and two argument words) into a thread-local array, and
//! publishes the slot with a release store of the index, as a ring's producer would. Nothing
//! reads the array; it only marks how close a real logger can get.

use std::arch::x86_64::_rdtsc;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Finished, Logger, Setup};
use crate::shapes::Mixed;

/// Slots in the array; a power of two so the index wraps with a mask.
const SLOTS: usize = 1024;

struct Slots {
    records: UnsafeCell<[[u64; 3]; SLOTS]>,
    /// Records stored so far; the next slot is `next % SLOTS`.
    next: AtomicUsize,
}

thread_local! {
    static SLOTS_OF_THREAD: Slots = const {
        Slots {
            records: UnsafeCell::new([[0; 3]; SLOTS]),
            next: AtomicUsize::new(0),
        }
    };
}

/// The floor logger; it has no state outside the thread-local array.
pub struct Floor;

impl Floor {
    #[inline(always)]
    fn store(&self, first: u64, second: u64) {
        // SAFETY: `rdtsc` exists on every x86-64 processor and has no preconditions.
        let ticks = unsafe { _rdtsc() };
        SLOTS_OF_THREAD.with(|slots| {
            let index = slots.next.load(Ordering::Relaxed);
            let slot = index & (SLOTS - 1);
            // SAFETY: only this thread reaches its thread-local array, `slot` is below
            // `SLOTS`, and no reference into the array outlives this statement.
            unsafe { (*slots.records.get())[slot] = [ticks, first, second] };
            slots.next.store(index + 1, Ordering::Release);
        });
    }
}

impl Logger for Floor {
    fn start(_setup: &Setup) -> Result<Self, String> {
        Ok(Floor)
    }

    #[inline(always)]
    fn fill(&self, qty: u64, px: f64) {
        self.store(qty, px.to_bits());
    }

    #[inline(always)]
    fn static_text(&self) {
        self.store(0, 0);
    }

    #[inline(always)]
    fn int(&self, rate: i32) {
        self.store(rate as u64, 0);
    }

    #[inline(always)]
    fn two_ints(&self, used: u32, reserved: u32) {
        self.store(u64::from(used), u64::from(reserved));
    }

    #[inline(always)]
    fn double(&self, ratio: f64) {
        self.store(ratio.to_bits(), 0);
    }

    #[inline(always)]
    fn text(&self, gateway: &str) {
        self.store(gateway.as_ptr() as u64, gateway.len() as u64);
    }

    #[inline(always)]
    fn complex(&self, mixed: Mixed) {
        let packed = u64::from(mixed.symbols) << 32 | u64::from(mixed.venues);
        self.store(packed, mixed.millis.to_bits());
    }

    #[inline(always)]
    fn text_int(&self, gateway: &str, code: i32) {
        self.store(gateway.as_ptr() as u64, code as u64);
    }

    fn finish(self) -> Finished {
        Finished::default()
    }
}
