//! Summary statistics of timed calls.

/// Latency figures of one logger and message, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    /// Mean of the fastest 99% of calls, which leaves out interrupts and page faults.
    pub mean_fastest_99: f64,
}

/// Returns the value at quantile `q` (0 to 1) of sorted `values`, by the nearest-rank method.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    assert!(!sorted.is_empty(), "quantile of no values");
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Summarizes call durations given in ticks, converting with `ns_per_tick`.
///
/// # Panics
///
/// Panics if `ticks` is empty.
pub fn summarize(ticks: &mut [u64], ns_per_tick: f64) -> Summary {
    ticks.sort_unstable();
    let fastest = &ticks[..quantile_count(ticks.len(), 0.99)];
    let fastest_sum: u128 = fastest.iter().map(|&value| u128::from(value)).sum();
    let ns = |value: u64| value as f64 * ns_per_tick;
    Summary {
        p50: ns(quantile(ticks, 0.50)),
        p90: ns(quantile(ticks, 0.90)),
        p99: ns(quantile(ticks, 0.99)),
        p999: ns(quantile(ticks, 0.999)),
        max: ns(*ticks.last().expect("summarize needs at least one value")),
        mean_fastest_99: fastest_sum as f64 / fastest.len() as f64 * ns_per_tick,
    }
}

/// Number of values in the lowest fraction `q` of `len` values; at least one.
fn quantile_count(len: usize, q: f64) -> usize {
    ((len as f64 * q).ceil() as usize).clamp(1, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_uses_nearest_rank() {
        let values: Vec<u64> = (1..=1000).collect();
        assert_eq!(quantile(&values, 0.5), 500);
        assert_eq!(quantile(&values, 0.99), 990);
        assert_eq!(quantile(&values, 0.999), 999);
        assert_eq!(quantile(&values, 1.0), 1000);
        assert_eq!(quantile(&values, 0.0), 1);
    }

    #[test]
    fn summary_drops_slowest_percent_from_mean() {
        let mut ticks: Vec<u64> = vec![10; 99];
        ticks.push(10_000);
        let summary = summarize(&mut ticks, 0.5);
        assert_eq!(summary.p50, 5.0);
        assert_eq!(summary.max, 5000.0);
        assert_eq!(summary.mean_fastest_99, 5.0);
    }

    #[test]
    fn summary_of_one_value() {
        let summary = summarize(&mut [4], 1.0);
        assert_eq!(summary.p50, 4.0);
        assert_eq!(summary.p999, 4.0);
        assert_eq!(summary.mean_fastest_99, 4.0);
    }
}
