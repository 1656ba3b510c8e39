//! Pinning the calling thread to one CPU.
//!
//! Linux threads start with the CPU set of the thread that creates them. The benchmarks use
//! that to place a peer logger's worker threads: pin to the backend CPU, start the logger,
//! then pin to the producer CPU.

use std::sync::OnceLock;

use core_affinity::CoreId;

/// CPU of the timed producer thread.
pub const PRODUCER_CPU: usize = 0;

/// CPU of the logger's backend or worker threads, and of the second producer.
pub const BACKEND_CPU: usize = 1;

/// CPUs the process could use before any thread was pinned. `core_affinity` reports the
/// calling thread's current set, which shrinks to one CPU once that thread is pinned.
static AVAILABLE: OnceLock<Vec<usize>> = OnceLock::new();

/// Pins the calling thread to `cpu`, or exits naming the CPU when that is not possible.
///
/// The first call records the CPUs available, so it must come before any thread is pinned.
pub fn pin(cpu: usize) {
    let available = AVAILABLE.get_or_init(|| {
        core_affinity::get_core_ids()
            .unwrap_or_default()
            .into_iter()
            .map(|core| core.id)
            .collect()
    });
    if !available.contains(&cpu) || !core_affinity::set_for_current(CoreId { id: cpu }) {
        eprintln!(
            "error: cannot pin a thread to CPU {cpu}; this process may use CPUs {available:?}. \
             The benchmarks need CPUs {PRODUCER_CPU} and {BACKEND_CPU}: run them on a machine \
             with at least two, outside a narrower taskset or cgroup"
        );
        std::process::exit(2);
    }
}
