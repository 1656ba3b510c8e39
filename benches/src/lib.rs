//! Shared parts of the ulog benchmarks: the cycle timer, the message shapes, one adapter per
//! logger, summary statistics and the plumbing that runs each logger in its own process.
//!
//! Every logger runs in a child process of the benchmark binary. Most peers install a
//! process-wide logger that can be set only once: `log::set_logger`, the global `tracing`
//! subscriber, quicklog's static queue. A fresh process per logger lets one run measure all
//! of them with the same method.
//!
//! The timer reads the time-stamp counter, so the crate only has content on x86-64.

#![cfg(target_arch = "x86_64")]

pub mod affinity;
#[cfg(feature = "peers")]
pub mod child;
pub mod loggers;
pub mod shapes;
pub mod stats;
pub mod table;
pub mod tsc;
