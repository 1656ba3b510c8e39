//! tracing 0.1 with tracing-subscriber's fmt layer, writing through tracing-appender's
//! non-blocking writer to a file.
//!
//! The fmt layer formats the whole line on the calling thread and the non-blocking writer
//! sends it to a worker thread over a channel of 128,000 lines (tracing-appender's default).
//! A full channel drops the line and counts it, or blocks when asked to.

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};

use super::{Finished, Logger, Setup};
use crate::shapes::Mixed;

pub struct Tracing {
    guard: WorkerGuard,
    dropped: ErrorCounter,
}

impl Logger for Tracing {
    fn start(setup: &Setup) -> Result<Self, String> {
        let file = tracing_appender::rolling::never(&setup.dir, "tracing.log");
        let (writer, guard) = NonBlockingBuilder::default()
            .lossy(!setup.block_when_full)
            .finish(file);
        let dropped = writer.error_counter();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(writer)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|error| format!("cannot install the tracing subscriber: {error}"))?;
        Ok(Tracing { guard, dropped })
    }

    #[inline(always)]
    fn fill(&self, qty: u64, px: f64) {
        tracing::info!("fill {} @ {}", qty, px);
    }

    #[inline(always)]
    fn static_text(&self) {
        tracing::info!("order book snapshot finished");
    }

    #[inline(always)]
    fn int(&self, rate: i32) {
        tracing::info!("feed handler read rate {} MB/s", rate);
    }

    #[inline(always)]
    fn two_ints(&self, used: u32, reserved: u32) {
        tracing::info!("arena used {} bytes, reserved {} bytes", used, reserved);
    }

    #[inline(always)]
    fn double(&self, ratio: f64) {
        tracing::info!("imbalance threshold set to {:.6}", ratio);
    }

    #[inline(always)]
    fn text(&self, gateway: &str) {
        tracing::info!("session opened with gateway {}", gateway);
    }

    #[inline(always)]
    fn complex(&self, mixed: Mixed) {
        tracing::info!(
            "loaded {} symbols ({} KB) and {} venues ({} KB) in {:.1} ms",
            mixed.symbols,
            mixed.symbol_kb,
            mixed.venues,
            mixed.venue_kb,
            mixed.millis
        );
    }

    #[inline(always)]
    fn text_int(&self, gateway: &str, code: i32) {
        tracing::info!("order for {} rejected with code {}", gateway, code);
    }

    fn finish(self) -> Finished {
        // Dropping the guard waits up to one second for the worker to write what it holds.
        drop(self.guard);
        Finished {
            written: None,
            dropped: Some(self.dropped.dropped_lines() as u64),
        }
    }
}
