//! Handlers for fatal signals: the backend writes what the rings hold, then the signal's
//! previous action runs.
//!
//! The handler itself only does what is async-signal-safe: it increments atomics, rings the
//! backend's doorbell (a futex wake), waits with `nanosleep` for at most
//! [`crash::DRAIN_TIMEOUT`], then calls `sigaction` and `raise`. It takes no lock and
//! allocates nothing, so a thread interrupted while holding a lock or inside `malloc` cannot
//! deadlock it. The backend thread does the draining and writing; SIGTERM and SIGINT are
//! blocked there, so the kernel delivers them to a thread that can wait for it.
//!
//! The backend can still be held up by the interrupted thread: if that thread holds the
//! allocator's lock or the flush lock, the backend blocks on it, and the handler gives up
//! when the timeout ends. Records the interrupted thread was writing at that moment are not
//! published and are lost.
//!
//! After the drain the handler chains to the previous action:
//!
//! - Default action: it restores the default and re-raises the signal, or, for a fault
//!   raised by an instruction, returns so that the instruction faults again. The process
//!   then ends as it would have without ulog, with the same signal.
//! - A handler function: it calls that function with the same arguments. If the function
//!   restored the default action (as Rust's own SIGSEGV and SIGBUS handler does for faults
//!   that are not stack overflows) and the signal was sent rather than raised by a fault, it
//!   re-raises the signal.
//! - Ignored: the handler is not installed for that signal.
//!
//! Faults and SIGABRT end the process in practice, so their drain also writes the end
//! marker and stops the logger. SIGTERM and SIGINT do so only when their previous action is
//! the default; a program with its own handler may go on running, so the logger does too.

use std::cell::UnsafeCell;
use std::mem::MaybeUninit;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use libc::{c_int, c_void, siginfo_t};

use crate::crash;

/// The signals handled, in the order of [`PREVIOUS`]'s slots.
const SIGNALS: [c_int; 7] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGABRT,
    libc::SIGTERM,
    libc::SIGINT,
];

/// Whether the running logger wants fatal signals to drain the rings.
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Serializes installation.
static INSTALL: Mutex<()> = Mutex::new(());

/// The action each signal had before the handler was installed.
struct PreviousActions {
    actions: UnsafeCell<[MaybeUninit<libc::sigaction>; SIGNALS.len()]>,
    /// Set with `Release` once the slot is written, before the handler is installed; a
    /// slot is written once per process.
    saved: [AtomicBool; SIGNALS.len()],
}

// SAFETY: a slot is written once, under `INSTALL`, before `saved` publishes it with a release
// store, and read only after an acquire load of `saved` returns true.
unsafe impl Sync for PreviousActions {}

static PREVIOUS: PreviousActions = PreviousActions {
    actions: UnsafeCell::new([const { MaybeUninit::uninit() }; SIGNALS.len()]),
    saved: [const { AtomicBool::new(false) }; SIGNALS.len()],
};

/// Turns the handlers on or off for the logger being started, installing them the first
/// time they are turned on. A signal whose action is "ignore" is left alone.
///
/// # Errors
///
/// Fails when `sigaction` fails.
pub(crate) fn install(enabled: bool) -> std::io::Result<()> {
    ENABLED.store(enabled, Ordering::Release);
    if !enabled {
        return Ok(());
    }
    let _serial = INSTALL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for (slot, &signal) in SIGNALS.iter().enumerate() {
        if PREVIOUS.saved[slot].load(Ordering::Acquire) {
            continue;
        }
        let previous = query(signal)?;
        if previous.sa_sigaction == libc::SIG_IGN {
            continue;
        }
        // SAFETY: the slot is not published yet, so no handler reads it, and `INSTALL`
        // keeps other installers out.
        unsafe { (*PREVIOUS.actions.get())[slot].write(previous) };
        PREVIOUS.saved[slot].store(true, Ordering::Release);

        // SAFETY: an all-zero sigaction is valid; every field used is set below.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = on_signal as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        // Runs on the alternate stack that Rust gives each thread, so a stack overflow can
        // still be handled, and keeps the other handled signals out while it runs.
        // SAFETY: `sa_mask` is a valid signal set to fill.
        unsafe {
            libc::sigemptyset(&raw mut action.sa_mask);
            for &other in &SIGNALS {
                libc::sigaddset(&raw mut action.sa_mask, other);
            }
        }
        set(signal, &action)?;
    }
    Ok(())
}

/// Blocks SIGTERM and SIGINT in the calling thread, the backend, when the handlers are on,
/// so that the kernel delivers them to a thread that can wait for the backend.
pub(crate) fn block_termination_signals() {
    if !ENABLED.load(Ordering::Acquire) {
        return;
    }
    // SAFETY: `set` is a valid signal set for the calls to fill, and pthread_sigmask only
    // changes the calling thread's mask.
    unsafe {
        let mut set = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGTERM);
        libc::sigaddset(set.as_mut_ptr(), libc::SIGINT);
        libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), ptr::null_mut());
    }
}

/// Returns the current action of `signal`. Async-signal-safe.
fn query(signal: c_int) -> std::io::Result<libc::sigaction> {
    // SAFETY: an all-zero sigaction is valid for the kernel to overwrite.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the current one into `current`.
    let result = unsafe { libc::sigaction(signal, ptr::null(), &raw mut current) };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(current)
}

/// Sets the action of `signal`. Async-signal-safe.
fn set(signal: c_int, action: &libc::sigaction) -> std::io::Result<()> {
    // SAFETY: `action` is a fully initialized sigaction; the old one is not requested.
    let result = unsafe { libc::sigaction(signal, action, ptr::null_mut()) };
    if result != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Restores the default action of `signal`. Async-signal-safe.
fn restore_default(signal: c_int) {
    // SAFETY: an all-zero sigaction is SIG_DFL with no flags and an empty mask.
    let default: libc::sigaction = unsafe { std::mem::zeroed() };
    let _ = set(signal, &default);
}

/// Whether the signal comes from a faulting instruction, which faults again when the handler
/// returns, rather than from `kill`, `raise` or `abort`.
///
/// # Safety
///
/// `info` must be null or point at the siginfo the kernel passed to the handler.
unsafe fn raised_by_fault(signal: c_int, info: *const siginfo_t) -> bool {
    let synchronous = matches!(
        signal,
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE
    );
    // SAFETY: the caller promises `info` is null or valid. A positive `si_code` means the
    // kernel raised the signal; `kill`, `tgkill` and `sigqueue` give zero or less.
    synchronous && !info.is_null() && unsafe { (*info).si_code } > 0
}

extern "C" fn on_signal(signal: c_int, info: *mut siginfo_t, context: *mut c_void) {
    let errno = errno();
    let Some(slot) = SIGNALS.iter().position(|&handled| handled == signal) else {
        return;
    };
    if !PREVIOUS.saved[slot].load(Ordering::Acquire) {
        return;
    }
    // SAFETY: `saved` is set, so the slot was written and is never written again.
    let previous = unsafe { (*PREVIOUS.actions.get())[slot].assume_init() };
    let previous_is_default = previous.sa_sigaction == libc::SIG_DFL;

    if ENABLED.load(Ordering::Acquire) {
        let termination = matches!(signal, libc::SIGTERM | libc::SIGINT);
        crash::request_drain(previous_is_default || !termination, crash::DRAIN_TIMEOUT);
    }

    // SAFETY: `info` is what the kernel passed.
    let fault = unsafe { raised_by_fault(signal, info) };
    if previous_is_default {
        restore_default(signal);
        if !fault {
            // The signal stays blocked until this handler returns, then ends the process.
            // SAFETY: raise is async-signal-safe.
            unsafe { libc::raise(signal) };
        }
    } else {
        if previous.sa_flags & libc::SA_RESETHAND != 0 {
            restore_default(signal);
        }
        call_previous(&previous, signal, info, context);
        let reset_to_default =
            query(signal).is_ok_and(|current| current.sa_sigaction == libc::SIG_DFL);
        if reset_to_default && !fault {
            // SAFETY: raise is async-signal-safe.
            unsafe { libc::raise(signal) };
        }
    }
    set_errno(errno);
}

/// Calls a previous handler function as the kernel would have.
fn call_previous(
    previous: &libc::sigaction,
    signal: c_int,
    info: *mut siginfo_t,
    context: *mut c_void,
) {
    if previous.sa_flags & libc::SA_SIGINFO != 0 {
        // SAFETY: with SA_SIGINFO, `sa_sigaction` contains a three-argument handler, which the
        // program installed for this signal.
        let handler: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(previous.sa_sigaction) };
        handler(signal, info, context);
    } else {
        // SAFETY: without SA_SIGINFO, `sa_sigaction` contains a one-argument handler (neither
        // SIG_DFL nor SIG_IGN, which the caller ruled out).
        let handler: extern "C" fn(c_int) = unsafe { std::mem::transmute(previous.sa_sigaction) };
        handler(signal);
    }
}

#[cfg(target_os = "linux")]
fn errno() -> c_int {
    // SAFETY: `__errno_location` returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

#[cfg(target_os = "linux")]
fn set_errno(value: c_int) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = value };
}

#[cfg(not(target_os = "linux"))]
fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

// NOTE: other systems keep errno elsewhere; the handler leaves it changed there.
#[cfg(not(target_os = "linux"))]
fn set_errno(_value: c_int) {}
