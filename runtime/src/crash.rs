//! Lock-free requests to the backend from the paths where the process may be dying: the
//! panic hook, fatal signal handlers, the exit handler and producers blocked on a full ring.
//!
//! Everything here uses atomics, the [`Doorbell`] and, to wait, `clock_gettime` and
//! `nanosleep`, so [`request_drain`] is async-signal-safe: it takes no lock and allocates
//! nothing. The backend does the draining and writing itself, on its own thread, where locks
//! and allocation are safe. What the caller promises is only a bounded wait.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::doorbell::Doorbell;

/// Maximum time the panic hook and the signal handlers wait for the backend.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// How often a waiter looks at the backend's progress.
const WAIT_STEP: Duration = Duration::from_micros(100);

/// Value of [`BackendLink::live`] while no backend runs. Logger generations have 24 bits.
const NO_BACKEND: u32 = u32::MAX;

/// The running backend, as the crash paths see it.
pub(crate) struct BackendLink {
    /// Generation of the logger whose backend thread runs, or [`NO_BACKEND`].
    live: AtomicU32,
    /// Kernel thread id of the backend thread, or 0 before it starts.
    backend_thread: AtomicI64,
    /// Process that started the backend. A child made by `fork` has no backend thread, so
    /// the backend counts as running only in this process.
    process: AtomicI32,
    /// Drain requests made so far; each one is a number the backend completes.
    requested: AtomicU64,
    /// Highest request the backend has completed: it drained every ring and wrote the block
    /// after the request was made.
    completed: AtomicU64,
    /// Set when the process is about to die: the backend then drains, writes the end marker
    /// and stops, as when the guard is dropped.
    stop_requested: AtomicBool,
    /// Wakes the backend's idle sleep.
    pub(crate) doorbell: Doorbell,
}

pub(crate) static LINK: BackendLink = BackendLink {
    live: AtomicU32::new(NO_BACKEND),
    backend_thread: AtomicI64::new(0),
    process: AtomicI32::new(0),
    requested: AtomicU64::new(0),
    completed: AtomicU64::new(0),
    stop_requested: AtomicBool::new(false),
    doorbell: Doorbell::new(),
};

/// Serializes the unit tests that play the backend through [`LINK`].
#[cfg(test)]
pub(crate) static TEST_SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Outcome of a [`request_drain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DrainOutcome {
    /// The backend wrote every record published before the request, or finished.
    Drained,
    /// No backend runs, so there is nothing to drain.
    NoBackend,
    /// The caller is the backend thread, which cannot wait for itself.
    OnBackendThread,
    /// The backend did not finish within the timeout.
    TimedOut,
}

impl BackendLink {
    /// Marks the backend of `generation` as starting; called by `init` before the spawn.
    pub(crate) fn starting(&self, generation: u32) {
        self.stop_requested.store(false, Ordering::Relaxed);
        self.backend_thread.store(0, Ordering::Relaxed);
        self.process.store(current_process_id(), Ordering::Relaxed);
        self.live.store(generation, Ordering::Release);
    }

    /// Records the calling thread as the backend thread.
    pub(crate) fn enter_backend_thread(&self) {
        self.backend_thread
            .store(current_thread_id(), Ordering::Release);
    }

    /// Marks the backend as gone, which ends every wait for it.
    pub(crate) fn finished(&self) {
        self.live.store(NO_BACKEND, Ordering::Release);
        self.backend_thread.store(0, Ordering::Release);
    }

    /// Returns whether the backend of `generation` is still running in this process.
    pub(crate) fn is_running(&self, generation: u32) -> bool {
        self.live.load(Ordering::Acquire) == generation && self.in_starting_process()
    }

    /// Returns whether any backend is running in this process.
    pub(crate) fn any_running(&self) -> bool {
        self.live.load(Ordering::Acquire) != NO_BACKEND && self.in_starting_process()
    }

    /// Returns whether the caller runs in the process that started the backend, not in a
    /// child made by `fork`. Async-signal-safe.
    pub(crate) fn in_starting_process(&self) -> bool {
        self.process.load(Ordering::Relaxed) == current_process_id()
    }

    /// Returns whether the calling thread is the backend thread.
    pub(crate) fn on_backend_thread(&self) -> bool {
        let backend = self.backend_thread.load(Ordering::Acquire);
        backend != 0 && backend == current_thread_id()
    }

    /// Returns the latest request number; the backend reads it before a pass and completes
    /// it after.
    pub(crate) fn requested(&self) -> u64 {
        self.requested.load(Ordering::Acquire)
    }

    /// Returns whether a request newer than the last completed one is waiting.
    pub(crate) fn is_due(&self, target: u64) -> bool {
        target > self.completed.load(Ordering::Acquire)
    }

    /// Completes every request up to `target`.
    pub(crate) fn complete(&self, target: u64) {
        self.completed.fetch_max(target, Ordering::Release);
    }

    /// Returns whether a dying process asked the backend to stop.
    pub(crate) fn stop_requested(&self) -> bool {
        self.stop_requested.load(Ordering::Acquire)
    }
}

/// Asks the backend to write every record published so far and waits, at most `timeout`,
/// until it has. With `stop`, the backend also writes the end marker and stops; records
/// logged after that stay in the rings. Pass `stop` only when the process is about to end.
///
/// Async-signal-safe: it takes no lock and allocates nothing.
pub(crate) fn request_drain(stop: bool, timeout: Duration) -> DrainOutcome {
    let generation = LINK.live.load(Ordering::Acquire);
    if generation == NO_BACKEND || !LINK.in_starting_process() {
        return DrainOutcome::NoBackend;
    }
    if LINK.on_backend_thread() {
        return DrainOutcome::OnBackendThread;
    }
    if stop {
        LINK.stop_requested.store(true, Ordering::Release);
    }
    let target = LINK.requested.fetch_add(1, Ordering::AcqRel) + 1;
    LINK.doorbell.ring();

    let deadline = monotonic_ns().saturating_add(timeout.as_nanos() as u64);
    loop {
        if !LINK.is_running(generation) {
            return DrainOutcome::Drained;
        }
        if !stop && LINK.completed.load(Ordering::Acquire) >= target {
            return DrainOutcome::Drained;
        }
        if monotonic_ns() >= deadline {
            return DrainOutcome::TimedOut;
        }
        nap(WAIT_STEP);
    }
}

/// Nanoseconds of `CLOCK_MONOTONIC`; async-signal-safe.
fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the kernel to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &raw mut now) };
    (now.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(now.tv_nsec as u64)
}

/// Sleeps for `duration` with `nanosleep`; async-signal-safe.
fn nap(duration: Duration) {
    let request = libc::timespec {
        tv_sec: duration.as_secs() as libc::time_t,
        tv_nsec: duration.subsec_nanos().into(),
    };
    // SAFETY: `request` is a valid timespec; no remainder is requested.
    unsafe { libc::nanosleep(&raw const request, std::ptr::null_mut()) };
}

/// Returns the id of the calling process; async-signal-safe.
fn current_process_id() -> i32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() }
}

/// Returns the kernel's id of the calling thread; async-signal-safe.
#[cfg(target_os = "linux")]
fn current_thread_id() -> i64 {
    // SAFETY: gettid takes no arguments and has no preconditions.
    unsafe { libc::syscall(libc::SYS_gettid) }
}

/// Returns an id of the calling thread. `pthread_self` is not on POSIX's list of
/// async-signal-safe functions, but it only reads the thread pointer on common systems.
#[cfg(not(target_os = "linux"))]
fn current_thread_id() -> i64 {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as usize as i64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generation no real logger in these tests has.
    const GENERATION: u32 = 0x00fe_dcba;

    #[test]
    fn drain_without_backend_returns_at_once() {
        let _serial = TEST_SERIAL
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        LINK.finished();
        assert_eq!(
            request_drain(false, Duration::from_secs(30)),
            DrainOutcome::NoBackend
        );
    }

    #[test]
    fn drain_times_out_when_nobody_serves() {
        let _serial = TEST_SERIAL
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        LINK.starting(GENERATION);
        assert_eq!(
            request_drain(false, Duration::from_millis(10)),
            DrainOutcome::TimedOut
        );
        LINK.finished();
    }

    /// A thread playing the backend completes requests as the real one does.
    #[test]
    fn drain_returns_when_served_and_when_stopped() {
        let _serial = TEST_SERIAL
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        LINK.starting(GENERATION);
        let backend = std::thread::spawn(|| {
            LINK.enter_backend_thread();
            assert_eq!(
                request_drain(false, Duration::from_secs(30)),
                DrainOutcome::OnBackendThread
            );
            loop {
                let bell = LINK.doorbell.value();
                let target = LINK.requested();
                if LINK.is_due(target) {
                    LINK.complete(target);
                }
                if LINK.stop_requested() {
                    LINK.finished();
                    return;
                }
                LINK.doorbell.sleep(bell, Duration::from_secs(30));
            }
        });
        assert_eq!(
            request_drain(false, Duration::from_secs(30)),
            DrainOutcome::Drained
        );
        assert!(LINK.is_running(GENERATION));
        assert_eq!(
            request_drain(true, Duration::from_secs(30)),
            DrainOutcome::Drained
        );
        backend.join().unwrap();
        assert!(!LINK.any_running());
    }
}
