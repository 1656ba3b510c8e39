//! A wake-up word for the backend thread that any thread, and a signal handler, can ring.
//!
//! The backend reads the word, looks for work, and sleeps only while the word still has the
//! value it read, so a ring between the read and the sleep is never lost. On Linux the sleep
//! is a futex wait and the ring a futex wake: a system call with no lock and no allocation,
//! which a signal handler may make.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A counter that wakes its sleeper each time it changes.
pub(crate) struct Doorbell {
    word: AtomicU32,
}

impl Doorbell {
    pub(crate) const fn new() -> Doorbell {
        Doorbell {
            word: AtomicU32::new(0),
        }
    }

    /// Returns the current value, to pass to [`Doorbell::sleep`] after looking for work.
    pub(crate) fn value(&self) -> u32 {
        self.word.load(Ordering::Acquire)
    }

    /// Wakes the sleeper, if any. Async-signal-safe on Linux.
    pub(crate) fn ring(&self) {
        self.word.fetch_add(1, Ordering::Release);
        wake(&self.word);
    }

    /// Sleeps for at most `timeout`, unless the word no longer contains `seen`. May return
    /// early for no reason, like any futex wait.
    pub(crate) fn sleep(&self, seen: u32, timeout: Duration) {
        wait(&self.word, seen, timeout);
    }
}

#[cfg(target_os = "linux")]
fn wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE reads nothing but the address, which is a live `AtomicU32`; the
    // remaining arguments are ignored for this operation.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

#[cfg(target_os = "linux")]
fn wait(word: &AtomicU32, seen: u32, timeout: Duration) {
    let timeout = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos().into(),
    };
    // SAFETY: the address is a live `AtomicU32` and `timeout` a valid relative timespec that
    // outlives the call. The kernel compares the word with `seen` atomically before sleeping.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            seen,
            &raw const timeout,
        );
    }
}

/// Without futexes the ring only changes the word, and the sleeper checks it every
/// millisecond.
#[cfg(not(target_os = "linux"))]
fn wake(_word: &AtomicU32) {}

#[cfg(not(target_os = "linux"))]
fn wait(word: &AtomicU32, seen: u32, timeout: Duration) {
    // NOTE: this fallback wakes an idle backend up to 1000 times per second.
    let deadline = std::time::Instant::now() + timeout;
    while word.load(Ordering::Acquire) == seen {
        let now = std::time::Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn ring_wakes_a_sleeper_early() {
        let bell = Arc::new(Doorbell::new());
        let seen = bell.value();
        let ringer = {
            let bell = Arc::clone(&bell);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                bell.ring();
            })
        };
        let started = Instant::now();
        while bell.value() == seen {
            bell.sleep(seen, Duration::from_secs(30));
        }
        assert!(started.elapsed() < Duration::from_secs(20));
        ringer.join().unwrap();
    }

    #[test]
    fn changed_word_does_not_sleep() {
        let bell = Doorbell::new();
        let seen = bell.value();
        bell.ring();
        let started = Instant::now();
        bell.sleep(seen, Duration::from_secs(30));
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
