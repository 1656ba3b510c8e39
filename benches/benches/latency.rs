//! Latency of one log call, per logger and message.
//!
//! ```text
//! cargo bench -p ulog-benches --bench latency [-- LOGGER...]
//! ```
//!
//! Under `cargo test` (no `--bench` argument) it makes a short smoke run instead, which checks
//! that every logger still starts and logs, and fails if one does not.
//!
//! Each logger runs in its own child process. The producer thread is pinned to CPU 0 and the
//! logger's backend or worker threads to CPU 1. Every call is timed alone with the
//! time-stamp counter, in 20 rounds of 1,000 calls with a 1 ms pause between rounds, and the
//! timer's own median cost is subtracted. Bursts of 20 back-to-back calls are timed as well
//! and divided by 20.

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!(
        "latency: skipped; the benchmarks read the time-stamp counter and run only on x86-64"
    );
}

#[cfg(target_arch = "x86_64")]
fn main() {
    measure::main();
}

#[cfg(target_arch = "x86_64")]
mod measure {
    use std::hint::black_box;
    use std::time::Duration;

    use ulog_benches::affinity::{self, BACKEND_CPU, PRODUCER_CPU};
    use ulog_benches::child::{self, WithLogger};
    use ulog_benches::loggers::{Kind, Logger, Setup};
    use ulog_benches::shapes::{self, Shape, ShapeVisitor};
    use ulog_benches::stats::{self, Summary};
    use ulog_benches::table::{self, Table};
    use ulog_benches::tsc;

    const BURST: usize = 20;
    const PAUSE: Duration = Duration::from_millis(1);

    /// How many calls a child times.
    #[derive(Debug, Clone, Copy)]
    struct Plan {
        rounds: usize,
        calls_per_round: usize,
        warmup_calls: u64,
    }

    /// The measurement `cargo bench` runs.
    const FULL: Plan = Plan {
        rounds: 20,
        calls_per_round: 1_000,
        warmup_calls: 2_000,
    };

    /// The smoke run `cargo test` makes: enough to exercise every path, too few for figures.
    const SMOKE: Plan = Plan {
        rounds: 2,
        calls_per_round: 100,
        warmup_calls: 100,
    };

    const ROW_TAG: &str = "latency";
    const DONE_TAG: &str = "finished";

    pub fn main() {
        tsc::require_rdtscp();
        let code = match child::child_args() {
            Some(args) => run_child(&args),
            None => run_parent(),
        };
        if let Err(message) = code {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    }

    /// One child's figures for one message.
    struct Row {
        logger: Kind,
        shape: String,
        summary: Summary,
        burst_ns: f64,
    }

    impl Row {
        /// Returns the two averages the ratios use: the mean of the fastest 99% and the burst mean.
        /// Single calls are quantized by the counter's step, and averages are not.
        fn averages(&self) -> (f64, f64) {
            (self.summary.mean_fastest_99, self.burst_ns)
        }
    }

    fn run_parent() -> Result<(), String> {
        let (kinds, smoke) = parse_args()?;
        let plan = if smoke { SMOKE } else { FULL };
        if smoke {
            println!(
                "latency: smoke run with {} calls per message (no --bench argument, as under \
                 cargo test); run `cargo bench -p ulog-benches --bench latency` for figures\n",
                plan.rounds * plan.calls_per_round
            );
        }

        let hz = tsc::measure_hz(Duration::from_millis(100));
        let overhead = tsc::timer_overhead(20_000);
        let step = tsc::typical_step();
        let ns = |ticks: u64| ticks as f64 / hz * 1e9;
        println!(
            "TSC {:.3} GHz (measured against Instant over 100 ms); timer overhead {overhead} ticks \
             ({:.1} ns), subtracted from every sample; the counter advances in steps of {step} \
             ticks ({:.1} ns), so single-call percentiles are multiples of that",
            hz / 1e9,
            ns(overhead),
            ns(step)
        );
        println!(
            "{} rounds x {} calls per message, {} ms pause between rounds; bursts of {BURST} \
             calls likewise; producer on CPU {PRODUCER_CPU}, logger threads on CPU {BACKEND_CPU}\n",
            plan.rounds,
            plan.calls_per_round,
            PAUSE.as_millis()
        );

        let mut rows = Vec::new();
        let mut notes = Vec::new();
        let mut failed = Vec::new();
        for &kind in &kinds {
            let args = vec![
                kind.name().to_owned(),
                format!("{hz}"),
                plan.rounds.to_string(),
                plan.calls_per_round.to_string(),
                plan.warmup_calls.to_string(),
            ];
            let records = match child::run(&args, ROW_TAG) {
                Ok(records) => records,
                Err(message) => {
                    notes.push(format!("{kind}: not measured, {message}"));
                    failed.push(kind);
                    continue;
                }
            };
            for record in records {
                if record.first().map(String::as_str) == Some(DONE_TAG) {
                    notes.push(format!(
                        "{kind}: {} records written, {} dropped (- = the logger does not count)",
                        record.get(1).map_or("-", String::as_str),
                        record.get(2).map_or("-", String::as_str)
                    ));
                    continue;
                }
                rows.push(parse_row(kind, &record)?);
            }
        }

        print!("{}", render(&rows));
        println!();
        for note in notes {
            println!("- {note}");
        }

        let expected = kinds.len() - failed.len();
        for shape in shapes::NAMES {
            let found = rows.iter().filter(|row| row.shape == shape).count();
            if found != expected {
                return Err(format!(
                    "message {shape} has {found} rows, expected {expected}; a child stopped early"
                ));
            }
        }
        if !failed.is_empty() {
            let names: Vec<&str> = failed.iter().map(|kind| kind.name()).collect();
            return Err(format!(
                "no figures for {}; see the notes above",
                names.join(", ")
            ));
        }
        Ok(())
    }

    /// Reads logger names from the command line; none means every logger. Returns them and
    /// whether this is a smoke run, which is when cargo did not pass `--bench`.
    fn parse_args() -> Result<(Vec<Kind>, bool), String> {
        let mut kinds = Vec::new();
        let mut smoke = true;
        for arg in std::env::args().skip(1) {
            match arg.as_str() {
                "--bench" => smoke = false,
                "-h" | "--help" => {
                    let names: Vec<&str> = Kind::ALL.iter().map(|kind| kind.name()).collect();
                    println!(
                        "usage: cargo bench -p ulog-benches --bench latency [-- LOGGER...]\n\
                         loggers: {} (default: all)",
                        names.join(" ")
                    );
                    std::process::exit(0);
                }
                name => kinds.push(Kind::parse(name)?),
            }
        }
        if kinds.is_empty() {
            kinds = Kind::ALL.to_vec();
        }
        Ok((kinds, smoke))
    }

    fn parse_row(logger: Kind, record: &[String]) -> Result<Row, String> {
        Ok(Row {
            logger,
            shape: child::field(record, 0)?,
            summary: Summary {
                p50: child::field(record, 1)?,
                p90: child::field(record, 2)?,
                p99: child::field(record, 3)?,
                p999: child::field(record, 4)?,
                max: child::field(record, 5)?,
                mean_fastest_99: child::field(record, 6)?,
            },
            burst_ns: child::field(record, 7)?,
        })
    }

    /// Renders one table: every message, and under it every logger.
    fn render(rows: &[Row]) -> String {
        let mut table = Table::new(&[
            "message",
            "logger",
            ">p50 ns",
            ">p90",
            ">p99",
            ">p99.9",
            ">max",
            ">mean 99%",
            ">burst/20",
            ">mean / floor",
            ">mean / ulog",
            ">burst / floor",
            ">burst / ulog",
        ]);
        for shape in shapes::NAMES {
            let of_shape: Vec<&Row> = rows.iter().filter(|row| row.shape == shape).collect();
            let find = |kind: Kind| of_shape.iter().find(|row| row.logger == kind);
            let floor = find(Kind::Floor).map_or((0.0, 0.0), |row| row.averages());
            let ulog = find(Kind::Ulog).map_or((0.0, 0.0), |row| row.averages());
            for row in &of_shape {
                let s = &row.summary;
                table.row(vec![
                    shape.to_owned(),
                    row.logger.name().to_owned(),
                    table::ns(s.p50),
                    table::ns(s.p90),
                    table::ns(s.p99),
                    table::ns(s.p999),
                    table::ns(s.max),
                    table::ns(s.mean_fastest_99),
                    table::ns(row.burst_ns),
                    table::ratio(s.mean_fastest_99, floor.0),
                    table::ratio(s.mean_fastest_99, ulog.0),
                    table::ratio(row.burst_ns, floor.1),
                    table::ratio(row.burst_ns, ulog.1),
                ]);
            }
        }
        table.render()
    }

    fn run_child(args: &[String]) -> Result<(), String> {
        let [name, hz, rounds, calls_per_round, warmup_calls] = args else {
            return Err(format!(
                "a latency child takes LOGGER TSC_HZ ROUNDS CALLS_PER_ROUND WARMUP_CALLS, \
                 not {args:?}"
            ));
        };
        let kind = Kind::parse(name)?;
        let hz: f64 = hz
            .parse()
            .map_err(|_| format!("invalid TSC rate {hz:?}; pass ticks per second"))?;
        let count = |text: &String, what: &str| {
            text.parse::<usize>()
                .ok()
                .filter(|&count| count > 0)
                .ok_or_else(|| format!("invalid {what} {text:?}; pass a whole number above 0"))
        };
        let plan = Plan {
            rounds: count(rounds, "round count")?,
            calls_per_round: count(calls_per_round, "calls per round")?.max(BURST),
            warmup_calls: count(warmup_calls, "warm-up call count")? as u64,
        };
        child::with_logger(
            kind,
            Child {
                ns_per_tick: 1e9 / hz,
                plan,
            },
        )
    }

    struct Child {
        ns_per_tick: f64,
        plan: Plan,
    }

    impl WithLogger for Child {
        type Output = Result<(), String>;

        fn run<L: Logger + Sync>(self, _kind: Kind) -> Self::Output {
            let dir = tempfile::tempdir()
                .map_err(|error| format!("cannot create a temporary directory: {error}"))?;
            let setup = Setup {
                dir: dir.path().to_owned(),
                block_when_full: false,
                ulog_ring_bytes: 1 << 20,
                ulog_compression: ulog::Compression::None,
            };

            affinity::pin(BACKEND_CPU);
            let logger = L::start(&setup)?;
            affinity::pin(PRODUCER_CPU);

            let overhead = tsc::timer_overhead(20_000);
            shapes::for_each_shape(&mut Warmup {
                logger: &logger,
                calls: self.plan.warmup_calls,
            });
            std::thread::sleep(Duration::from_millis(20));
            shapes::for_each_shape(&mut Timing {
                logger: &logger,
                overhead,
                ns_per_tick: self.ns_per_tick,
                plan: self.plan,
            });

            let finished = logger.finish();
            child::emit(
                ROW_TAG,
                &[
                    DONE_TAG.to_owned(),
                    child::optional(finished.written),
                    child::optional(finished.dropped),
                ],
            );
            Ok(())
        }
    }

    /// Runs every message untimed, so first-call work (a ring, a thread name, a lazy
    /// static) is not in the samples.
    struct Warmup<'a, L> {
        logger: &'a L,
        calls: u64,
    }

    impl<L: Logger> ShapeVisitor for Warmup<'_, L> {
        fn visit<S: Shape>(&mut self) {
            for index in 0..self.calls {
                S::call(self.logger, S::args(index));
            }
        }
    }

    struct Timing<'a, L> {
        logger: &'a L,
        overhead: u64,
        ns_per_tick: f64,
        plan: Plan,
    }

    impl<L: Logger> ShapeVisitor for Timing<'_, L> {
        fn visit<S: Shape>(&mut self) {
            let samples = time_single_calls::<L, S>(self.logger, self.overhead, self.plan);
            let bursts = time_bursts::<L, S>(self.logger, self.overhead, self.plan);
            let burst_ticks: u64 = bursts.iter().sum();
            let burst_ns = burst_ticks as f64 / (bursts.len() * BURST) as f64 * self.ns_per_tick;

            let mut samples = samples;
            let s = stats::summarize(&mut samples, self.ns_per_tick);
            child::emit(
                ROW_TAG,
                &[
                    S::NAME.to_owned(),
                    format!("{}", s.p50),
                    format!("{}", s.p90),
                    format!("{}", s.p99),
                    format!("{}", s.p999),
                    format!("{}", s.max),
                    format!("{}", s.mean_fastest_99),
                    format!("{burst_ns}"),
                ],
            );
        }
    }

    /// Times each call alone and returns ticks per call, without the timer overhead.
    fn time_single_calls<L: Logger, S: Shape>(logger: &L, overhead: u64, plan: Plan) -> Vec<u64> {
        let mut samples = Vec::with_capacity(plan.rounds * plan.calls_per_round);
        let mut index = plan.warmup_calls;
        for _ in 0..plan.rounds {
            for _ in 0..plan.calls_per_round {
                let args = black_box(S::args(index));
                index += 1;

                let begin = tsc::start();
                S::call(logger, args);
                let end = tsc::stop();

                samples.push((end - begin).saturating_sub(overhead));
            }
            std::thread::sleep(PAUSE);
        }
        samples
    }

    /// Times bursts of [`BURST`] back-to-back calls and returns ticks per burst, without the
    /// timer overhead.
    fn time_bursts<L: Logger, S: Shape>(logger: &L, overhead: u64, plan: Plan) -> Vec<u64> {
        let bursts_per_round = plan.calls_per_round / BURST;
        let mut bursts = Vec::with_capacity(plan.rounds * bursts_per_round);
        let mut index = plan.warmup_calls;
        for _ in 0..plan.rounds {
            for _ in 0..bursts_per_round {
                let args: [S::Args; BURST] =
                    black_box(std::array::from_fn(|offset| S::args(index + offset as u64)));
                index += BURST as u64;

                let begin = tsc::start();
                for args in args {
                    S::call(logger, args);
                }
                let end = tsc::stop();

                bursts.push((end - begin).saturating_sub(overhead));
            }
            std::thread::sleep(PAUSE);
        }
        bursts
    }
}
