//! The panic hook: on a panic in any thread, the backend writes every record already in the
//! rings before the hook that was installed earlier runs.
//!
//! The hook is installed once per process, by the first `init` with `Config::panic_hook`
//! on, over the hook in place then, which it calls afterwards. A hook set later replaces
//! it; set yours before `init` so that both run.

use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use crate::crash::{self, LINK};

/// Whether the running logger wants panics to drain the rings.
static ENABLED: AtomicBool = AtomicBool::new(false);

static INSTALL: Once = Once::new();

/// Turns draining on panic on or off for the logger being started, installing the hook the
/// first time it is turned on.
pub(crate) fn install(enabled: bool) {
    ENABLED.store(enabled, Ordering::Release);
    if !enabled {
        return;
    }
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if ENABLED.load(Ordering::Acquire) {
                record_and_drain(info);
            }
            previous(info);
        }));
    });
}

/// Logs the panic, then waits, at most [`crash::DRAIN_TIMEOUT`], until the backend has
/// written every record published so far.
fn record_and_drain(info: &PanicHookInfo<'_>) {
    // The backend cannot wait for itself, and its own panic ends it.
    if !LINK.any_running() || LINK.on_backend_thread() {
        return;
    }

    let thread = std::thread::current();
    let location = info
        .location()
        .map(|location| {
            format!(
                "{}:{}:{}",
                location.file(),
                location.line(),
                location.column()
            )
        })
        .unwrap_or_default();
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    crate::ulog!(
        Error,
        "thread '<>' panicked at <>: <>",
        thread = thread.name().unwrap_or("<unnamed>"),
        location,
        message
    );

    crash::request_drain(false, crash::DRAIN_TIMEOUT);
}
