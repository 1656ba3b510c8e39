//! Throughput: how fast one or two threads can push the fill message through each logger
//! until every record is in the log file.
//!
//! ```text
//! cargo bench -p ulog-benches --bench throughput [-- [--records N] [LOGGER...]]
//! ```
//!
//! Each run is a child process. Producers are pinned to CPU 0 (and CPU 1 for the second),
//! the logger's threads to CPU 1. The clock starts when the producers are released and stops
//! when the logger has written everything: after ulog's guard is dropped, or after the
//! peer's flush or guard drop. Peers are set to block when their queue is full, so every
//! record reaches the file. ulog has no blocking mode: it drops and counts what does not fit
//! in the ring, so it runs once with a ring large enough for the whole run and once with the
//! default 1 MiB ring. A third ulog run uses the large ring with LZ4 block compression, which
//! adds to the backend's work per record.
//!
//! Under `cargo test` (no `--bench` argument) it makes a smoke run of 20,000 records instead,
//! which checks that every logger still writes every record, and fails if one does not.

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("throughput: skipped; the benchmarks share code that reads the time-stamp counter and run only on x86-64");
}

#[cfg(target_arch = "x86_64")]
fn main() {
    measure::main();
}

#[cfg(target_arch = "x86_64")]
mod measure {
    use std::sync::Barrier;
    use std::time::Instant;

    use ulog_benches::affinity::{self, BACKEND_CPU, PRODUCER_CPU};
    use ulog_benches::child::{self, WithLogger};
    use ulog_benches::loggers::{self, Kind, Logger, Setup};
    use ulog_benches::shapes::{Fill, Shape};
    use ulog_benches::table::{self, Table};

    const DEFAULT_RECORDS: u64 = 10_000_000;
    /// Records of the smoke run that `cargo test` makes.
    const SMOKE_RECORDS: u64 = 20_000;
    /// Bytes of one fill record in a ulog ring: site, ticks, u64 and f64.
    const FILL_RECORD_BYTES: u64 = 32;
    /// ulog's default ring size.
    const DEFAULT_RING: usize = 1 << 20;

    const TAG: &str = "throughput";

    pub fn main() {
        let result = match child::child_args() {
            Some(args) => run_child(&args),
            None => run_parent(),
        };
        if let Err(message) = result {
            eprintln!("error: {message}");
            std::process::exit(2);
        }
    }

    /// One child run: a logger, its producer count, and for ulog its ring size and whether it
    /// compresses blocks.
    struct Run {
        kind: Kind,
        producers: usize,
        ring: usize,
        lz4: bool,
    }

    impl Run {
        fn label(&self) -> String {
            match self.kind {
                Kind::Ulog if self.lz4 => format!("ulog ({} MiB ring, LZ4)", self.ring >> 20),
                Kind::Ulog => format!("ulog ({} MiB ring)", self.ring >> 20),
                kind => kind.name().to_owned(),
            }
        }
    }

    /// Figures one child measured.
    struct Outcome {
        calls_secs: f64,
        disk_secs: f64,
        on_disk: Option<u64>,
        dropped: Option<u64>,
    }

    struct Options {
        records: u64,
        kinds: Vec<Kind>,
        /// Set when cargo did not pass `--bench`, as under `cargo test`.
        smoke: bool,
    }

    fn parse_options() -> Result<Options, String> {
        let mut options = Options {
            records: 0,
            kinds: Vec::new(),
            smoke: true,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--bench" => options.smoke = false,
                "--records" => {
                    let value = args
                        .next()
                        .ok_or("--records needs a count, such as --records 1000000")?;
                    options.records = value
                        .parse()
                        .ok()
                        .filter(|&records| records >= 2)
                        .ok_or_else(|| {
                            format!(
                                "invalid --records {value:?}; pass a whole number of at least 2"
                            )
                        })?;
                }
                "-h" | "--help" => {
                    println!(
                        "usage: cargo bench -p ulog-benches --bench throughput \
                         [-- [--records N] [LOGGER...]]\n\
                         --records N  records per run, split evenly across producers \
                         (default {DEFAULT_RECORDS})\n\
                         loggers: ulog quicklog ftlog fast_log tracing (default: all)"
                    );
                    std::process::exit(0);
                }
                name => match Kind::parse(name)? {
                    Kind::Floor => {
                        return Err("the floor writes no file, so it has no throughput; \
                                    choose a real logger"
                            .into())
                    }
                    kind => options.kinds.push(kind),
                },
            }
        }
        if options.records == 0 {
            options.records = if options.smoke {
                SMOKE_RECORDS
            } else {
                DEFAULT_RECORDS
            };
        }
        if options.kinds.is_empty() {
            options.kinds = Kind::ALL
                .into_iter()
                .filter(|&kind| kind != Kind::Floor)
                .collect();
        }
        Ok(options)
    }

    /// Returns a ulog ring size that fits every record of the run without a drop: a power of
    /// two from 1 MiB up to ulog's maximum of 1 GiB.
    fn large_ring(records: u64) -> usize {
        let bytes = (records * FILL_RECORD_BYTES).next_power_of_two();
        bytes.clamp(DEFAULT_RING as u64, ulog::MAX_RING_CAPACITY as u64) as usize
    }

    fn run_parent() -> Result<(), String> {
        let options = parse_options()?;
        let large_ring = large_ring(options.records);
        if options.smoke {
            println!(
                "throughput: smoke run (no --bench argument, as under cargo test); run \
                 `cargo bench -p ulog-benches --bench throughput` for figures"
            );
        }
        println!(
            "{} fill records per run, split across the producers; producers on CPU {PRODUCER_CPU} \
             (and {BACKEND_CPU}), logger threads on CPU {BACKEND_CPU}; peers block when full\n",
            options.records
        );

        let mut runs = Vec::new();
        for producers in [1, 2] {
            for &kind in &options.kinds {
                let rings = match kind {
                    Kind::Ulog if large_ring > DEFAULT_RING => {
                        vec![
                            (large_ring, false),
                            (DEFAULT_RING, false),
                            (large_ring, true),
                        ]
                    }
                    Kind::Ulog => vec![(DEFAULT_RING, false), (DEFAULT_RING, true)],
                    _ => vec![(0, false)],
                };
                for (ring, lz4) in rings {
                    runs.push(Run {
                        kind,
                        producers,
                        ring,
                        lz4,
                    });
                }
            }
        }

        let mut table = Table::new(&[
            "logger",
            ">producers",
            ">calls done, M/s",
            ">written to disk, M/s",
            ">records on disk",
            ">dropped",
            ">on disk vs ulog",
        ]);
        let mut notes = Vec::new();
        let mut failures = Vec::new();
        let mut ulog_rate = [0.0f64; 3];
        for run in &runs {
            if run.producers > 1 && !run.kind.supports_many_producers() {
                table.row(vec![
                    run.label(),
                    run.producers.to_string(),
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                    "n/a".into(),
                ]);
                notes.push(format!(
                    "{}: one producer thread only; its queue's producer end is a single \
                     process-wide handle",
                    run.label()
                ));
                continue;
            }

            let outcome = match measure_run(run, options.records) {
                Ok(outcome) => outcome,
                Err(message) => {
                    notes.push(format!("{}: not measured, {message}", run.label()));
                    failures.push(run.label());
                    continue;
                }
            };
            let lost = options.records - outcome.on_disk.unwrap_or(options.records);
            if run.kind != Kind::Ulog && lost > 0 {
                failures.push(format!(
                    "{} ({} producers) lost {lost} of {} records although it blocks when full",
                    run.label(),
                    run.producers,
                    options.records
                ));
            }
            // A ulog run that dropped records wrote fewer than it was given; its rate counts
            // only the records that reached the file.
            let written = outcome.on_disk.unwrap_or(options.records);
            let disk_rate = written as f64 / outcome.disk_secs / 1e6;
            if run.kind == Kind::Ulog && run.ring == large_ring && !run.lz4 {
                ulog_rate[run.producers] = disk_rate;
            }
            table.row(vec![
                run.label(),
                run.producers.to_string(),
                format!("{:.2}", options.records as f64 / outcome.calls_secs / 1e6),
                format!("{disk_rate:.2}"),
                child::optional(outcome.on_disk),
                child::optional(outcome.dropped),
                table::ratio(disk_rate, ulog_rate[run.producers]),
            ]);
        }

        print!("{}", table.render());
        println!(
            "\n`calls done` is records logged per second until the last producer returns from \
             its last call. `written to disk` is records in the file per second until the logger \
             has written everything (to the page cache, no fsync). `-` means the logger does not \
             count it."
        );
        for note in notes {
            println!("- {note}");
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(format!("failed runs: {}", failures.join("; ")))
        }
    }

    fn measure_run(run: &Run, records: u64) -> Result<Outcome, String> {
        let args = vec![
            run.kind.name().to_owned(),
            run.producers.to_string(),
            records.to_string(),
            run.ring.to_string(),
            run.lz4.to_string(),
        ];
        let outcomes = child::run(&args, TAG)?;
        let [record] = outcomes.as_slice() else {
            return Err(format!("expected one result, got {outcomes:?}"));
        };
        Ok(Outcome {
            calls_secs: child::field(record, 0)?,
            disk_secs: child::field(record, 1)?,
            on_disk: child::parse_optional(&child::field::<String>(record, 2)?),
            dropped: child::parse_optional(&child::field::<String>(record, 3)?),
        })
    }

    fn run_child(args: &[String]) -> Result<(), String> {
        let [name, producers, records, ring, lz4] = args else {
            return Err(format!(
                "a throughput child takes LOGGER PRODUCERS RECORDS RING_BYTES LZ4, not {args:?}"
            ));
        };
        let kind = Kind::parse(name)?;
        let number = |text: &String, what: &str| {
            text.parse::<u64>()
                .map_err(|_| format!("invalid {what} {text:?}; pass a whole number"))
        };
        let work = Child {
            producers: number(producers, "producer count")? as usize,
            records: number(records, "record count")?,
            ring: number(ring, "ring size")? as usize,
            lz4: lz4
                .parse()
                .map_err(|_| format!("invalid LZ4 flag {lz4:?}; pass true or false"))?,
        };
        child::with_logger(kind, work)
    }

    struct Child {
        producers: usize,
        records: u64,
        ring: usize,
        lz4: bool,
    }

    impl WithLogger for Child {
        type Output = Result<(), String>;

        fn run<L: Logger + Sync>(self, kind: Kind) -> Self::Output {
            let dir = tempfile::tempdir()
                .map_err(|error| format!("cannot create a temporary directory: {error}"))?;
            let setup = Setup {
                dir: dir.path().to_owned(),
                block_when_full: true,
                ulog_ring_bytes: self.ring.max(DEFAULT_RING),
                ulog_compression: if self.lz4 {
                    ulog::Compression::Lz4
                } else {
                    ulog::Compression::None
                },
            };

            affinity::pin(BACKEND_CPU);
            let logger = L::start(&setup)?;

            let producers = self.producers.max(1);
            let barrier = Barrier::new(producers + 1);
            let started = std::thread::scope(|scope| {
                for producer in 0..producers {
                    let share = self.records / producers as u64
                        + u64::from((producer as u64) < self.records % producers as u64);
                    let (logger, barrier) = (&logger, &barrier);
                    scope.spawn(move || {
                        affinity::pin(if producer == 0 {
                            PRODUCER_CPU
                        } else {
                            BACKEND_CPU
                        });
                        // One untimed call creates per-thread state such as ulog's ring.
                        Fill::call(logger, Fill::args(0));
                        barrier.wait();
                        for index in 0..share {
                            Fill::call(logger, Fill::args(index));
                        }
                    });
                }
                barrier.wait();
                Instant::now()
            });
            let calls_secs = started.elapsed().as_secs_f64();
            let finished = logger.finish();
            let disk_secs = started.elapsed().as_secs_f64();

            // Both counts include the untimed first call of each producer; they are removed.
            let warmup = producers as u64;
            let on_disk = match kind {
                Kind::Ulog => finished.written,
                _ => Some(loggers::count_lines(dir.path()).map_err(|error| {
                    format!(
                        "cannot count the lines under {}: {error}",
                        dir.path().display()
                    )
                })?),
            }
            .map(|count| count.saturating_sub(warmup));

            child::emit(
                TAG,
                &[
                    format!("{calls_secs}"),
                    format!("{disk_secs}"),
                    child::optional(on_disk),
                    child::optional(finished.dropped),
                ],
            );
            Ok(())
        }
    }
}
