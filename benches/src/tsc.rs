//! The time-stamp counter as a timer for one call, and its rate.
//!
//! A timed region starts with `lfence; rdtsc; lfence` and ends with `rdtscp; lfence`. The
//! first fence keeps earlier instructions from finishing inside the region and the second
//! keeps the region's instructions from starting before the read. `rdtscp` waits for the
//! region's instructions to finish, and the last fence keeps later instructions out.

use std::arch::x86_64::{__cpuid, __rdtscp, _mm_lfence, _rdtsc};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Returns whether the processor has `rdtscp` (CPUID leaf 0x8000_0001, EDX bit 27).
pub fn has_rdtscp() -> bool {
    // SAFETY: `cpuid` exists on every x86-64 processor, and leaf 0x8000_0000 reports the
    // highest extended leaf, so leaf 0x8000_0001 is read only when it exists. Newer compilers
    // declare `__cpuid` safe, hence the allowance.
    #[allow(unused_unsafe)]
    unsafe {
        let highest = __cpuid(0x8000_0000).eax;
        highest >= 0x8000_0001 && (__cpuid(0x8000_0001).edx >> 27) & 1 == 1
    }
}

/// Reads the counter at the start of a timed region.
#[inline(always)]
pub fn start() -> u64 {
    // SAFETY: `lfence` and `rdtsc` exist on every x86-64 processor and access no memory.
    unsafe {
        _mm_lfence();
        let ticks = _rdtsc();
        _mm_lfence();
        ticks
    }
}

/// Reads the counter at the end of a timed region.
///
/// Callers first check that the processor has `rdtscp`, once, with [`require_rdtscp`].
#[inline(always)]
pub fn stop() -> u64 {
    let mut processor_id = 0u32;
    // SAFETY: `require_rdtscp` has confirmed the instruction exists before any region is
    // timed, and `processor_id` is a valid place for the processor id it stores.
    unsafe {
        let ticks = __rdtscp(&mut processor_id);
        _mm_lfence();
        ticks
    }
}

/// Exits with a message when the processor lacks `rdtscp`, which [`stop`] needs.
pub fn require_rdtscp() {
    if !has_rdtscp() {
        eprintln!(
            "error: this processor has no rdtscp instruction, which the timer needs; \
             run the benchmarks on an x86-64 processor that has it (CPUID 0x80000001 EDX bit 27)"
        );
        std::process::exit(2);
    }
}

/// Measures the counter's rate in ticks per second against `Instant` over `window`.
pub fn measure_hz(window: Duration) -> f64 {
    let first_instant = Instant::now();
    let first_ticks = start();
    std::thread::sleep(window);
    let last_ticks = stop();
    let elapsed = first_instant.elapsed();
    (last_ticks - first_ticks) as f64 / elapsed.as_secs_f64()
}

/// Returns the median cost in ticks of an empty timed region, measured over `samples` regions.
pub fn timer_overhead(samples: usize) -> u64 {
    let mut ticks: Vec<u64> = (0..samples)
        .map(|_| {
            let begin = start();
            black_box(());
            stop() - begin
        })
        .collect();
    ticks.sort_unstable();
    ticks[ticks.len() / 2]
}

/// Returns the most common nonzero difference between two back-to-back counter reads: the
/// counter's effective resolution. Some processors (AMD Zen, for one) advance it in steps of
/// many ticks, which quantizes the time of a single short call.
pub fn typical_step() -> u64 {
    let mut counts = std::collections::BTreeMap::new();
    for _ in 0..10_000 {
        // SAFETY: `rdtsc` exists on every x86-64 processor and has no preconditions.
        let (first, second) = unsafe { (_rdtsc(), _rdtsc()) };
        let step = second.wrapping_sub(first);
        if step != 0 {
            *counts.entry(step).or_insert(0u32) += 1;
        }
    }
    counts
        .into_iter()
        .max_by_key(|&(_, count)| count)
        .map_or(1, |(step, _)| step)
}
