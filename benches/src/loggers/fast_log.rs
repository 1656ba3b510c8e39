//! fast_log 1.7 behind the `log` facade, writing to one file.
//!
//! fast_log copies the message, target, module and file into owned strings on the calling
//! thread and sends them over a crossbeam channel to a formatting thread, which hands them
//! on to an appender thread. The channel is unbounded by default; with `block_when_full` it
//! is bounded to 100,000 records, and a full channel blocks the caller.

use log::{LevelFilter, Log};

use super::{Finished, Logger, Setup};
use crate::shapes::Mixed;

/// Records the bounded channel holds.
const CHANNEL_RECORDS: usize = 100_000;

pub struct FastLog {
    logger: &'static fast_log::Logger,
}

impl Logger for FastLog {
    fn start(setup: &Setup) -> Result<Self, String> {
        let path = setup.dir.join("fast_log.log");
        let path = path
            .to_str()
            .ok_or_else(|| format!("log path {} is not UTF-8", path.display()))?;
        let channel = setup.block_when_full.then_some(CHANNEL_RECORDS);
        let config = fast_log::Config::new()
            .file(path)
            .level(LevelFilter::Info)
            .chan_len(channel);
        let logger =
            fast_log::init(config).map_err(|error| format!("fast_log failed to start: {error}"))?;
        Ok(FastLog { logger })
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
        // fast_log's `flush` waits until the appender thread has written and flushed the file.
        self.logger.flush();
        Finished::default()
    }
}
