//! Timestamps for the hot path and their calibration against the wall clock.
//!
//! On x86-64 a record's ticks are the time-stamp counter, read with `rdtsc`; elsewhere they
//! are `CLOCK_MONOTONIC` nanoseconds. `init` measures the tick rate against the monotonic
//! clock and anchors ticks to the wall clock; the backend repeats the measurement
//! periodically and writes each result to the file, so the decoder converts ticks with a
//! recent calibration.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ulog_schema::header::ClockSync;
use ulog_schema::ClockSource;

/// Clock behind [`now`].
pub(crate) const SOURCE: ClockSource = if cfg!(target_arch = "x86_64") {
    ClockSource::Tsc
} else {
    ClockSource::Monotonic
};

/// How long `init` spends measuring the tick rate.
const CALIBRATION_WINDOW: Duration = Duration::from_millis(20);

/// Reads of the clocks taken together; the one with the shortest window wins.
const SAMPLE_TRIES: usize = 7;

/// Returns the current tick count.
#[inline(always)]
pub(crate) fn now() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `rdtsc` exists on every x86-64 processor and has no preconditions.
        #[allow(unused_unsafe)]
        unsafe {
            core::arch::x86_64::_rdtsc()
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        monotonic_ns()
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn monotonic_ns() -> u64 {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `time` is a valid, writable timespec, and CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut time) };
    time.tv_sec as u64 * 1_000_000_000 + time.tv_nsec as u64
}

/// Returns the wall time in nanoseconds since the Unix epoch; 0 for a clock set before 1970.
pub(crate) fn unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as u64)
}

/// One reading of the tick counter, the wall clock and the monotonic clock, taken together.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) ticks: u64,
    pub(crate) unix_ns: u64,
    pub(crate) instant: Instant,
}

/// Reads the clocks together. The wall clock is read between two tick reads, and the tick
/// value is their midpoint; the try with the narrowest pair is kept.
pub(crate) fn sample() -> Sample {
    let mut best: Option<(u64, Sample)> = None;
    for _ in 0..SAMPLE_TRIES {
        let before = now();
        let unix_ns = unix_ns();
        let instant = Instant::now();
        let after = now();
        let window = after.wrapping_sub(before);
        let candidate = Sample {
            ticks: before + window / 2,
            unix_ns,
            instant,
        };
        if best.is_none_or(|(narrowest, _)| window < narrowest) {
            best = Some((window, candidate));
        }
    }
    best.map(|(_, sample)| sample)
        .expect("SAMPLE_TRIES is not zero")
}

/// The calibration of one logger run: the first sample, and the tick rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Calibration {
    origin: Sample,
    ticks_per_second: u64,
}

impl Calibration {
    /// Measures the tick rate over [`CALIBRATION_WINDOW`]. Blocks the caller for that long
    /// when the clock is the TSC.
    pub(crate) fn measure() -> Calibration {
        let origin = sample();
        if SOURCE == ClockSource::Monotonic {
            return Calibration {
                origin,
                ticks_per_second: 1_000_000_000,
            };
        }
        std::thread::sleep(CALIBRATION_WINDOW);
        let mut calibration = Calibration {
            origin,
            ticks_per_second: 1,
        };
        calibration.ticks_per_second = calibration.rate_at(&sample());
        calibration
    }

    /// Tick rate measured from the origin to `later`, against the monotonic clock.
    fn rate_at(&self, later: &Sample) -> u64 {
        let elapsed_ns = later.instant.duration_since(self.origin.instant).as_nanos();
        let ticks = u128::from(later.ticks.wrapping_sub(self.origin.ticks));
        if elapsed_ns == 0 {
            return self.ticks_per_second;
        }
        ((ticks * 1_000_000_000 + elapsed_ns / 2) / elapsed_ns).max(1) as u64
    }

    /// Returns the calibration to write in a file header: the origin and the measured rate.
    pub(crate) fn origin_sync(&self) -> ClockSync {
        ClockSync {
            ticks_per_second: self.ticks_per_second,
            anchor_ticks: self.origin.ticks,
            anchor_unix_ns: self.origin.unix_ns,
        }
    }

    /// Takes a new sample and refines the rate over the whole run so far. Returns the re-sync
    /// point to write to the file.
    pub(crate) fn resync(&mut self) -> ClockSync {
        let now = sample();
        if SOURCE == ClockSource::Tsc {
            self.ticks_per_second = self.rate_at(&now);
        }
        ClockSync {
            ticks_per_second: self.ticks_per_second,
            anchor_ticks: now.ticks,
            anchor_unix_ns: now.unix_ns,
        }
    }

    /// Wall time of the run's start, in Unix nanoseconds.
    pub(crate) fn start_unix_ns(&self) -> u64 {
        self.origin.unix_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_tracks_wall_clock() {
        let mut calibration = Calibration::measure();
        std::thread::sleep(Duration::from_millis(30));
        let sync = calibration.resync();
        let origin = calibration.origin_sync();
        let predicted = origin.to_unix_ns(sync.anchor_ticks);
        let error_ns = (predicted - i128::from(sync.anchor_unix_ns)).abs();
        assert!(error_ns < 1_000_000, "calibration is off by {error_ns} ns");
    }

    #[test]
    fn ticks_never_go_backwards_on_one_thread() {
        let mut previous = now();
        for _ in 0..10_000 {
            let current = now();
            assert!(current >= previous);
            previous = current;
        }
    }
}
