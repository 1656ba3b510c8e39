//! ftlog 0.2 behind the `log` facade, writing UTC timestamps to one file.
//!
//! ftlog formats the message on the calling thread into a boxed record and sends it over a
//! bounded channel of 100,000 records to its log thread. When the channel is full it drops
//! the record without counting it where a caller can read the count, or blocks when asked to.

use ftlog::appender::FileAppender;
use ftlog::LoggerGuard;
use log::LevelFilter;

use super::{Finished, Logger, Setup};
use crate::shapes::Mixed;

/// Records the channel to the log thread holds; ftlog's default size.
const CHANNEL_RECORDS: usize = 100_000;

pub struct Ftlog {
    guard: LoggerGuard,
}

impl Logger for Ftlog {
    fn start(setup: &Setup) -> Result<Self, String> {
        let guard = ftlog::builder()
            .max_log_level(LevelFilter::Info)
            .bounded(CHANNEL_RECORDS, setup.block_when_full)
            .utc()
            .root(FileAppender::new(setup.dir.join("ftlog.log")))
            .try_init()
            .map_err(|error| format!("ftlog failed to start: {error}"))?;
        Ok(Ftlog { guard })
    }

    #[inline(always)]
    fn fill(&self, qty: u64, px: f64) {
        log::info!("fill {} @ {}", qty, px);
    }

    #[inline(always)]
    fn static_text(&self) {
        log::info!("order book snapshot finished");
    }

    #[inline(always)]
    fn int(&self, rate: i32) {
        log::info!("feed handler read rate {} MB/s", rate);
    }

    #[inline(always)]
    fn two_ints(&self, used: u32, reserved: u32) {
        log::info!("arena used {} bytes, reserved {} bytes", used, reserved);
    }

    #[inline(always)]
    fn double(&self, ratio: f64) {
        log::info!("imbalance threshold set to {:.6}", ratio);
    }

    #[inline(always)]
    fn text(&self, gateway: &str) {
        log::info!("session opened with gateway {}", gateway);
    }

    #[inline(always)]
    fn complex(&self, mixed: Mixed) {
        log::info!(
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
        log::info!("order for {} rejected with code {}", gateway, code);
    }

    fn finish(self) -> Finished {
        // Dropping the guard sends a flush request and waits for the log thread to finish it.
        drop(self.guard);
        Finished::default()
    }
}
