//! The four roles of the trading workload and what each logs.
//!
//! Between them the roles cover the message shapes of NanoLog's published benchmark: a static
//! string, one integer, two integers, one double, a string argument, and a mixed format.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use ulog::ulog;
use ulog_decode::{write_text_line, Input};

use crate::Rate;

/// Records logged between two checks of the clock and the stop flag.
const BATCH: u64 = 64;

/// Job of a worker thread.
#[derive(Debug, Clone, Copy)]
pub enum Role {
    /// Logs quotes and book updates.
    MarketData,
    /// Logs trading signals.
    Strategy,
    /// Logs order acknowledgements and fills.
    OrderRouter,
    /// Logs limit checks.
    Risk,
}

const VENUES: [&str; 4] = ["XNAS", "ARCX", "BATS", "IEXG"];
const SYMBOLS: [&str; 6] = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META"];

impl Role {
    /// Number of roles.
    pub const COUNT: usize = 4;

    /// Role of the worker with this index.
    pub fn for_index(index: usize) -> Role {
        match index % Self::COUNT {
            0 => Role::MarketData,
            1 => Role::Strategy,
            2 => Role::OrderRouter,
            _ => Role::Risk,
        }
    }

    /// Thread name.
    pub fn name(self) -> &'static str {
        match self {
            Role::MarketData => "market-data",
            Role::Strategy => "strategy",
            Role::OrderRouter => "order-router",
            Role::Risk => "risk",
        }
    }
}

/// A xorshift generator: cheap, deterministic prices and sizes.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, limit: u64) -> u64 {
        self.next() % limit
    }
}

/// Logs as `role` at `rate` until `stop` is set. Returns the records logged.
pub fn run(role: Role, seed: u64, rate: Rate, stop: &AtomicBool) -> u64 {
    let mut random = Random(0x9e37_79b9_7f4a_7c15 ^ (seed + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let started = Instant::now();
    let mut logged = 0u64;
    let mut order_id = 1_000_000 * (seed + 1);
    let mut mid = 100.0 + seed as f64;

    ulog!(Info, "<> thread started", role = role.name());
    logged += 1;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..BATCH {
            let step = random.below(1000);
            match role {
                Role::MarketData => {
                    let symbol = SYMBOLS[random.below(6) as usize];
                    mid += (random.below(21) as f64 - 10.0) * 0.01;
                    let (bid_size, ask_size) = (
                        random.below(900) as u32 + 100,
                        random.below(900) as u32 + 100,
                    );
                    if step == 0 {
                        ulog!(Debug, "market data session heartbeat");
                    } else if step < 10 {
                        ulog!(Debug, "book depth <> levels", depth = random.below(50) + 1);
                    } else {
                        ulog!(
                            Info,
                            "quote <> bid <:.2> x <> ask <:.2> x <>",
                            symbol,
                            mid - 0.01,
                            bid_size,
                            mid + 0.01,
                            ask_size
                        );
                    }
                }
                Role::Strategy => {
                    let score = (random.below(2001) as f64 - 1000.0) / 1000.0;
                    if step < 5 {
                        ulog!(
                            Warn,
                            "spread widened to <:.4>",
                            spread = random.below(100) as f64 * 1e-4
                        );
                    } else {
                        ulog!(
                            Info,
                            "signal <> score <:+.3> edge <:.1>bp",
                            symbol = SYMBOLS[random.below(6) as usize],
                            score,
                            edge = score * 12.5
                        );
                    }
                }
                Role::OrderRouter => {
                    order_id += 1;
                    let venue = VENUES[random.below(4) as usize];
                    if step < 300 {
                        ulog!(
                            Debug,
                            "order <> acked after <> ns",
                            order_id,
                            latency_ns = random.below(40_000) + 2_000
                        );
                    } else if step < 302 {
                        ulog!(Info, "venue <> connected", venue);
                    } else {
                        let qty = (random.below(50) + 1) * 100;
                        let px = mid + random.below(200) as f64 * 0.01;
                        ulog!(
                            Info,
                            "fill order=<> venue=<> qty=<> px=<:.2> latency=<>us",
                            order_id,
                            venue,
                            qty,
                            px,
                            latency_us = random.below(90) + 10
                        );
                    }
                }
                Role::Risk => {
                    let limit = 5_000_000u64;
                    let exposure = random.below(limit);
                    if step < 2 {
                        ulog!(
                            Error,
                            "limit breached: exposure <> over <>",
                            exposure = limit + exposure,
                            limit
                        );
                    } else {
                        ulog!(
                            Trace,
                            "limit check <> exposure <> of <> (<:.1>%)",
                            account = random.below(64) as u16,
                            exposure,
                            limit,
                            used = exposure as f64 * 100.0 / limit as f64
                        );
                    }
                }
            }
        }
        logged += BATCH;
        if let Rate::PerSecond(rate) = rate {
            pace(started, logged, rate, stop);
        }
    }
    logged
}

/// Waits until `logged` records are due at `rate` records per second since `started`.
fn pace(started: Instant, logged: u64, rate: u64, stop: &AtomicBool) {
    let due = Duration::from_nanos((u128::from(logged) * 1_000_000_000 / u128::from(rate)) as u64);
    loop {
        let elapsed = started.elapsed();
        if elapsed >= due || stop.load(Ordering::Relaxed) {
            return;
        }
        let ahead = due - elapsed;
        if ahead > Duration::from_micros(200) {
            std::thread::sleep(ahead - Duration::from_micros(100));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Decodes `files` and returns the text of their last `count` events, in time order.
///
/// # Errors
///
/// Fails when a file cannot be read, or when any file is damaged.
pub fn decode_tail(files: &[PathBuf], count: usize) -> Result<Vec<String>> {
    let inputs: Vec<Input> = files.iter().cloned().map(Input::Path).collect();
    let decoded = ulog_decode::decode_paths(&inputs)?;
    if let Some(damage) = decoded.damage().first() {
        bail!("the segments written by this run are damaged: {damage}");
    }
    let skip = decoded.len().saturating_sub(count);
    let lines = decoded
        .events()
        .skip(skip)
        .map(|event| {
            let mut line = String::new();
            write_text_line(&mut line, &event);
            line.trim_end().to_owned()
        })
        .collect();
    Ok(lines)
}
