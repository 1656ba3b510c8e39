//! The exit handler: when the process exits with a logger still running, because the guard
//! was leaked, kept in a static, or `std::process::exit` skipped its drop, the logger is
//! stopped as if the guard had been dropped.
//!
//! It is registered with `atexit` once per process, by the first `init`. `exit` runs it,
//! whether called directly or after `main` returns, before the process ends; `_exit`, a
//! fatal signal and `abort` skip it.

use std::sync::Once;
use std::time::Duration;

/// Maximum time the exit handler waits for the backend to drain and close the file.
pub(crate) const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

static REGISTER: Once = Once::new();

/// Registers the exit handler, once per process.
pub(crate) fn register() {
    REGISTER.call_once(|| {
        // SAFETY: `at_exit` is an `extern "C"` function with no arguments that does not
        // unwind, as `atexit` requires.
        let result = unsafe { libc::atexit(at_exit) };
        if result != 0 {
            // NOTE: without the handler, a leaked guard loses the records still in memory
            // at exit, as `_exit` does.
            eprintln!("ulog: registering the exit handler failed; drop the guard before exiting");
        }
    });
}

extern "C" fn at_exit() {
    // Unwinding out of an `extern "C"` function aborts; a panic here must not.
    let _ = std::panic::catch_unwind(|| crate::stop_at_exit(EXIT_TIMEOUT));
}
