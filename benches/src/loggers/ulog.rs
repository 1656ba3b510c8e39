//! ulog, with its backend pinned to the backend CPU.

use ulog::{ulog, Config, Guard};

use super::{Finished, Logger, Setup};
use crate::affinity::BACKEND_CPU;
use crate::shapes::Mixed;

pub struct Ulog {
    guard: Guard,
    /// Counters before this logger started, so `finish` reports only its own records.
    before: ulog::Stats,
}

impl Logger for Ulog {
    // NOTE: `ulog::init` checks `backend_core` against the calling thread's CPU set, not the
    // process's, so this must not run on a thread already pinned to another CPU. The
    // benchmarks call it while pinned to the backend CPU.
    fn start(setup: &Setup) -> Result<Self, String> {
        let before = ulog::stats();
        let config = Config::new()
            .dir(&setup.dir)
            .file_prefix("bench")
            .ring_capacity(setup.ulog_ring_bytes)
            .compression(setup.ulog_compression)
            .backend_core(BACKEND_CPU);
        let guard = ulog::init(config).map_err(|error| format!("ulog::init failed: {error}"))?;
        Ok(Ulog { guard, before })
    }

    #[inline(always)]
    fn fill(&self, qty: u64, px: f64) {
        ulog!(Info, "fill <> @ <>", qty, px);
    }

    #[inline(always)]
    fn static_text(&self) {
        ulog!(Info, "order book snapshot finished");
    }

    #[inline(always)]
    fn int(&self, rate: i32) {
        ulog!(Info, "feed handler read rate <> MB/s", rate);
    }

    #[inline(always)]
    fn two_ints(&self, used: u32, reserved: u32) {
        ulog!(
            Info,
            "arena used <> bytes, reserved <> bytes",
            used,
            reserved
        );
    }

    #[inline(always)]
    fn double(&self, ratio: f64) {
        ulog!(Info, "imbalance threshold set to <:.6>", ratio);
    }

    #[inline(always)]
    fn text(&self, gateway: &str) {
        ulog!(Info, "session opened with gateway <>", gateway);
    }

    #[inline(always)]
    fn complex(&self, mixed: Mixed) {
        ulog!(
            Info,
            "loaded <> symbols (<> KB) and <> venues (<> KB) in <:.1> ms",
            mixed.symbols,
            mixed.symbol_kb,
            mixed.venues,
            mixed.venue_kb,
            mixed.millis
        );
    }

    #[inline(always)]
    fn text_int(&self, gateway: &str, code: i32) {
        ulog!(Info, "order for <> rejected with code <>", gateway, code);
    }

    fn finish(self) -> Finished {
        drop(self.guard);
        let after = ulog::stats();
        Finished {
            written: Some(after.records_written - self.before.records_written),
            dropped: Some(
                after.records_dropped - self.before.records_dropped
                    + (after.records_unregistered - self.before.records_unregistered),
            ),
        }
    }
}
