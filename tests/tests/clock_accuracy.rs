//! Decoded timestamps against the system's wall clock.
//!
//! The test thread reads `CLOCK_REALTIME` right before and right after each probe call and
//! keeps both readings. The decoded time of the probe must lie between them, give or take
//! 1 µs, over a whole run, and a thread's decoded times never go backwards. The file header's
//! clock anchor and the backend's periodic re-sync points carry the conversion. The run lasts
//! 60 s; `ULOG_CLOCK_TEST_SECONDS` shortens it for a quick local check.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ulog::ulog;
use ulog_decode::Event;
use ulog_tests::TestLogger;

/// Largest distance allowed between a decoded time and the wall-clock bracket of its call.
const TOLERANCE_NS: i64 = 1_000;

/// Default length of the run.
const DEFAULT_SECONDS: u64 = 60;

/// Pause between two probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(5);

/// Reads the wall clock: `SystemTime::now` is `clock_gettime(CLOCK_REALTIME)` on Linux.
fn realtime_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("wall clock after 1970")
        .as_nanos() as i64
}

fn run_seconds() -> u64 {
    match std::env::var("ULOG_CLOCK_TEST_SECONDS") {
        Ok(text) => text.parse().unwrap_or_else(|_| {
            panic!("ULOG_CLOCK_TEST_SECONDS={text:?} is not a whole number of seconds")
        }),
        Err(_) => DEFAULT_SECONDS,
    }
}

/// One probe: the wall clock read just before and just after the call, and the decoded time.
#[derive(Debug, Default, Clone, Copy)]
struct Probe {
    before_ns: i64,
    after_ns: i64,
    decoded_ns: i64,
}

#[test]
fn decoded_time_tracks_wall_clock() {
    let seconds = run_seconds();
    let mut logger = TestLogger::start(|config| config);
    ulog::prepare_thread();

    let mut probes = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut sequence = 0u64;
    while Instant::now() < deadline {
        let before_ns = realtime_ns();
        ulog!(Info, "probe <>", sequence);
        let after_ns = realtime_ns();
        probes.push(Probe {
            before_ns,
            after_ns,
            decoded_ns: 0,
        });
        sequence += 1;
        std::thread::sleep(PROBE_INTERVAL);
    }

    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    let mut seen = 0usize;
    let mut previous_ns = i64::MIN;
    for event in decoded.events() {
        let Event::Record(record) = event else {
            continue;
        };
        let message = record.message();
        let index: usize = message
            .strip_prefix("probe ")
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("unexpected record {message:?}"));
        assert_eq!(index, seen, "probes out of order");
        assert!(
            record.ts_ns() >= previous_ns,
            "time went backwards at probe {index}"
        );
        previous_ns = record.ts_ns();
        probes[index].decoded_ns = record.ts_ns();
        seen += 1;
    }
    assert_eq!(seen, probes.len(), "every probe decodes");

    let mut worst_ns = 0i64;
    let mut worst_index = 0usize;
    let mut widest_bracket_ns = 0i64;
    for (index, probe) in probes.iter().enumerate() {
        widest_bracket_ns = widest_bracket_ns.max(probe.after_ns - probe.before_ns);
        let early_ns = probe.before_ns - probe.decoded_ns;
        let late_ns = probe.decoded_ns - probe.after_ns;
        let error_ns = early_ns.max(late_ns).max(0);
        if error_ns > worst_ns {
            worst_ns = error_ns;
            worst_index = index;
        }
    }
    eprintln!(
        "{} probes over {seconds} s; largest distance outside the wall-clock bracket: {worst_ns} ns \
         (probe {worst_index}); widest bracket: {widest_bracket_ns} ns",
        probes.len()
    );
    assert!(
        worst_ns <= TOLERANCE_NS,
        "probe {worst_index} decoded {worst_ns} ns outside its wall-clock bracket {:?}",
        probes[worst_index]
    );
}
