//! Decoder throughput: how many records per second `ulog-decode` turns from segment files into
//! text and JSON lines, on one thread and on several.
//!
//! ```text
//! cargo bench -p ulog-benches --bench decode [-- [--records N] [--threads T] [--jobs J] [--repeat R]]
//! ```
//!
//! The benchmark first logs N records (default 10 M) with the real `ulog` runtime into a
//! temporary directory, from T producer threads (default 4), cycling through the messages of
//! `src/shapes.rs`. Each producer calls `ulog::flush` every [`FLUSH_EVERY`] records, so no ring
//! fills and nothing is dropped. Files rotate at [`MAX_FILE_SIZE`], which makes a segment set
//! of several files, as a long run leaves.
//!
//! Each measurement then reads the files, decodes them and renders every event into a writer
//! that only counts bytes, so the disk is not measured: the same steps as `ulog-decode PATHS
//! [--format json] --jobs J > /dev/null`. It runs R times (default 3) for text and JSON with
//! 1 job and with J jobs (default: the available parallelism). The table gives the best and
//! the median rate by wall time, the rate per second of CPU time (user and system, all
//! threads) of the run that used least, and the time of each step of the best run. On a
//! shared machine the CPU-time rate of 1 job is the steadier figure for one core, because
//! time the process waits for a CPU does not count.
//!
//! Under `cargo test` (no `--bench` argument) it makes a smoke run of 20,000 records instead.
//! That run fails when the decoder does not return every record, or when the output of 1 and 2
//! jobs differs.

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("decode: skipped; the benchmark messages live in a module built only on x86-64");
}

#[cfg(target_arch = "x86_64")]
fn main() {
    if let Err(message) = measure::main() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

/// Records each producer logs between two calls of `ulog::flush`.
#[cfg(target_arch = "x86_64")]
const FLUSH_EVERY: u64 = 50_000;

/// File size at which the logger starts a new segment file.
#[cfg(target_arch = "x86_64")]
const MAX_FILE_SIZE: u64 = 32 << 20;

#[cfg(target_arch = "x86_64")]
mod measure {
    use std::io::{self, Write};
    use std::num::NonZeroUsize;
    use std::path::{Path, PathBuf};
    use std::time::{Duration, Instant};

    use ulog::{ulog, Config, Level};
    use ulog_benches::shapes::{
        Complex, Fill, OneDouble, OneInt, OneStr, Shape, StaticText, StrInt, TwoInts,
    };
    use ulog_benches::table::Table;
    use ulog_decode::{write_json_parallel, write_text_parallel, Decoder, Input};

    use super::{FLUSH_EVERY, MAX_FILE_SIZE};

    const DEFAULT_RECORDS: u64 = 10_000_000;
    /// Records of the smoke run that `cargo test` makes.
    const SMOKE_RECORDS: u64 = 20_000;
    const DEFAULT_REPEAT: usize = 3;
    /// Ring per producer: enough for [`FLUSH_EVERY`] records of the longest message.
    const RING_BYTES: usize = 16 << 20;

    /// Goals on one core, in records per second.
    const TEXT_GOAL: f64 = 10e6;
    const JSON_GOAL: f64 = 5e6;

    struct Options {
        records: u64,
        threads: usize,
        jobs: NonZeroUsize,
        repeat: usize,
        /// Directory to log into and keep, for profiling the decoder on the same files.
        keep: Option<PathBuf>,
        /// Set when cargo did not pass `--bench`, as under `cargo test`.
        smoke: bool,
    }

    fn parse_options() -> Result<Options, String> {
        let mut options = Options {
            records: 0,
            threads: 4,
            jobs: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            repeat: 0,
            keep: None,
            smoke: true,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = |name: &str, example: &str| {
                args.next()
                    .ok_or_else(|| format!("{name} needs a value, such as {name} {example}"))
            };
            let invalid = |name: &str, value: &str, expected: &str| {
                format!("invalid {name} {value:?}: pass {expected}")
            };
            match arg.as_str() {
                "--bench" => options.smoke = false,
                "--records" => {
                    let text = value("--records", "1000000")?;
                    options.records = text
                        .parse()
                        .ok()
                        .filter(|&records| records >= 1)
                        .ok_or_else(|| {
                            invalid("--records", &text, "a whole number of at least 1")
                        })?;
                }
                "--threads" => {
                    let text = value("--threads", "4")?;
                    options.threads = text
                        .parse()
                        .ok()
                        .filter(|threads| (1..=4).contains(threads))
                        .ok_or_else(|| invalid("--threads", &text, "a whole number from 1 to 4"))?;
                }
                "--jobs" => {
                    let text = value("--jobs", "2")?;
                    options.jobs = text
                        .parse()
                        .map_err(|_| invalid("--jobs", &text, "a whole number of at least 1"))?;
                }
                "--repeat" => {
                    let text = value("--repeat", "5")?;
                    options.repeat =
                        text.parse()
                            .ok()
                            .filter(|&repeat| repeat >= 1)
                            .ok_or_else(|| {
                                invalid("--repeat", &text, "a whole number of at least 1")
                            })?;
                }
                "--keep" => options.keep = Some(PathBuf::from(value("--keep", "/tmp/decode")?)),
                "-h" | "--help" => {
                    println!(
                        "usage: cargo bench -p ulog-benches --bench decode \
                         [-- [--records N] [--threads T] [--jobs J] [--repeat R]]\n\
                         --records N  records to log and decode (default {DEFAULT_RECORDS})\n\
                         --threads T  producer threads, 1 to 4 (default 4)\n\
                         --jobs J     decoder threads of the parallel runs (default: the \
                         available parallelism)\n\
                         --repeat R   runs of each measurement (default {DEFAULT_REPEAT})\n\
                         --keep DIR   log into DIR, which must be empty or missing, and keep the \
                         files there"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other:?}; see --help")),
            }
        }
        if options.records == 0 {
            options.records = if options.smoke {
                SMOKE_RECORDS
            } else {
                DEFAULT_RECORDS
            };
        }
        if options.repeat == 0 {
            options.repeat = if options.smoke { 1 } else { DEFAULT_REPEAT };
        }
        Ok(options)
    }

    pub fn main() -> Result<(), String> {
        let options = parse_options()?;
        if options.smoke {
            println!(
                "decode: smoke run (no --bench argument, as under cargo test); run \
                 `cargo bench -p ulog-benches --bench decode` for figures"
            );
        }

        let temp =
            tempfile::tempdir().map_err(|error| format!("cannot create a temp dir: {error}"))?;
        let dir = match &options.keep {
            Some(dir) => {
                let empty =
                    std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none());
                if !empty {
                    return Err(format!(
                        "--keep {} is not empty; pass a new or empty directory",
                        dir.display()
                    ));
                }
                dir.as_path()
            }
            None => temp.path(),
        };
        let started = Instant::now();
        let files = generate(dir, options.records, options.threads)?;
        let bytes: u64 = files
            .iter()
            .map(|file| std::fs::metadata(file).map_or(0, |metadata| metadata.len()))
            .sum();
        println!(
            "logged {} records from {} threads in {:.1} s: {} files, {:.1} MiB, {:.1} bytes per record",
            options.records,
            options.threads,
            started.elapsed().as_secs_f64(),
            files.len(),
            bytes as f64 / f64::from(1 << 20),
            bytes as f64 / options.records as f64
        );

        if options.smoke {
            return smoke_check(dir, options.records);
        }

        let mut jobs_list = vec![NonZeroUsize::MIN];
        if options.jobs.get() > 1 {
            jobs_list.push(options.jobs);
        }
        let mut table = Table::new(&[
            "format",
            ">jobs",
            ">best M records/s",
            ">median M records/s",
            ">M records per CPU s",
            ">read s",
            ">decode s",
            ">render s",
            ">output MiB",
            ">best vs goal",
        ]);
        for format in [Format::Text, Format::Json] {
            for &jobs in &jobs_list {
                let mut runs: Vec<Timing> = (0..options.repeat)
                    .map(|_| measure(dir, format, jobs))
                    .collect::<Result<_, _>>()?;
                for run in &runs {
                    if run.events != options.records {
                        return Err(format!(
                            "the decoder returned {} events for {} records logged",
                            run.events, options.records
                        ));
                    }
                }
                runs.sort_by_key(Timing::total);
                let best = &runs[0];
                let best_cpu = runs
                    .iter()
                    .map(|run| run.cpu)
                    .min()
                    .expect("at least one run");
                let median = &runs[runs.len() / 2];
                let rate = |run: &Timing| options.records as f64 / run.total().as_secs_f64();
                let goal = match format {
                    Format::Text => TEXT_GOAL,
                    Format::Json => JSON_GOAL,
                };
                table.row(vec![
                    format.name().to_owned(),
                    jobs.to_string(),
                    format!("{:.2}", rate(best) / 1e6),
                    format!("{:.2}", rate(median) / 1e6),
                    format!(
                        "{:.2}",
                        options.records as f64 / best_cpu.as_secs_f64() / 1e6
                    ),
                    format!("{:.3}", best.read.as_secs_f64()),
                    format!("{:.3}", best.decode.as_secs_f64()),
                    format!("{:.3}", best.render.as_secs_f64()),
                    format!("{:.0}", best.output_bytes as f64 / f64::from(1 << 20)),
                    format!("{:.2}x", rate(best) / goal),
                ]);
            }
        }
        println!(
            "\n`cargo bench -p ulog-benches --bench decode -- --records {} --threads {} --jobs {} \
             --repeat {}`; goals on one job: text {:.0} M/s, JSON {:.0} M/s\n",
            options.records,
            options.threads,
            options.jobs,
            options.repeat,
            TEXT_GOAL / 1e6,
            JSON_GOAL / 1e6
        );
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load = load
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        println!("load average before the table: {load}");
        print!("{}", table.render());
        Ok(())
    }

    /// Logs `records` records from `threads` producers into `dir` and returns the segment
    /// files.
    fn generate(dir: &Path, records: u64, threads: usize) -> Result<Vec<PathBuf>, String> {
        let config = Config::new()
            .dir(dir)
            .file_prefix("decode")
            .ring_capacity(RING_BYTES)
            .max_file_size(MAX_FILE_SIZE)
            .min_level(Level::Info);
        let guard = ulog::init(config).map_err(|error| format!("ulog::init failed: {error}"))?;
        let before = ulog::stats();

        std::thread::scope(|scope| {
            for thread in 0..threads as u64 {
                let share = records / threads as u64 + u64::from(thread < records % threads as u64);
                std::thread::Builder::new()
                    .name(format!("producer-{thread}"))
                    .spawn_scoped(scope, move || {
                        for index in 0..share {
                            log_shape(index * threads as u64 + thread);
                            if (index + 1) % FLUSH_EVERY == 0 {
                                ulog::flush();
                            }
                        }
                    })
                    .expect("spawning a producer thread");
            }
        });
        drop(guard);

        let after = ulog::stats();
        let written = after.records_written - before.records_written;
        let lost = (after.records_dropped - before.records_dropped)
            + (after.records_unregistered - before.records_unregistered)
            + (after.records_lost_io - before.records_lost_io);
        if written != records || lost != 0 {
            return Err(format!(
                "the logger wrote {written} of {records} records and lost {lost}; the benchmark \
                 needs every record in the files"
            ));
        }

        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|error| format!("cannot list {}: {error}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        files.sort();
        Ok(files)
    }

    /// Logs message number `index` of the cycle through the benchmark shapes.
    fn log_shape(index: u64) {
        match index % 8 {
            0 => {
                let (qty, px) = Fill::args(index);
                ulog!(Info, "fill <> @ <>", qty, px);
            }
            1 => {
                StaticText::args(index);
                ulog!(Info, "order book snapshot finished");
            }
            2 => {
                let rate = OneInt::args(index);
                ulog!(Info, "feed handler read rate <> MB/s", rate);
            }
            3 => {
                let (used, reserved) = TwoInts::args(index);
                ulog!(
                    Info,
                    "arena used <> bytes, reserved <> bytes",
                    used,
                    reserved
                );
            }
            4 => {
                let ratio = OneDouble::args(index);
                ulog!(Info, "imbalance threshold set to <:.6>", ratio);
            }
            5 => {
                let gateway = OneStr::args(index);
                ulog!(Info, "session opened with gateway <>", gateway);
            }
            6 => {
                let mixed = Complex::args(index);
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
            _ => {
                let (gateway, code) = StrInt::args(index);
                ulog!(Info, "order for <> rejected with code <>", gateway, code);
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Format {
        Text,
        Json,
    }

    impl Format {
        fn name(self) -> &'static str {
            match self {
                Format::Text => "text",
                Format::Json => "json",
            }
        }
    }

    /// A writer that keeps nothing and counts the bytes.
    #[derive(Default)]
    struct Counter(u64);

    impl Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0 += bytes.len() as u64;
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Times of one run's steps.
    struct Timing {
        read: Duration,
        decode: Duration,
        render: Duration,
        /// CPU time of the process, user and system, over all steps and threads.
        cpu: Duration,
        events: u64,
        output_bytes: u64,
    }

    /// CPU time the process has used so far, user and system, over all its threads.
    fn cpu_time() -> Duration {
        let mut time = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `time` is a valid, writable `timespec`, and the clock id is a constant that
        // Linux defines.
        let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut time) };
        assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
        Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
    }

    impl Timing {
        fn total(&self) -> Duration {
            self.read + self.decode + self.render
        }
    }

    fn measure(dir: &Path, format: Format, jobs: NonZeroUsize) -> Result<Timing, String> {
        let cpu_before = cpu_time();
        let started = Instant::now();
        let mut decoder = Decoder::new();
        decoder
            .add_input(&Input::Path(dir.to_path_buf()))
            .map_err(|error| error.to_string())?;
        let read = started.elapsed();

        let started = Instant::now();
        let decoded = decoder.decode_parallel(jobs);
        let decode = started.elapsed();
        if let Some(damage) = decoded.damage().first() {
            return Err(format!("the benchmark's segments are damaged: {damage}"));
        }

        let events = decoded.len() as u64;

        let started = Instant::now();
        let mut counter = Counter::default();
        match format {
            Format::Text => write_text_parallel(&decoded, &mut counter, jobs),
            Format::Json => write_json_parallel(&decoded, &mut counter, jobs),
        }
        .map_err(|error| format!("rendering failed: {error}"))?;
        drop(decoded);
        let render = started.elapsed();

        Ok(Timing {
            read,
            decode,
            render,
            cpu: cpu_time() - cpu_before,
            events,
            output_bytes: counter.0,
        })
    }

    /// Decodes the smoke run's files with 1 and 2 jobs into memory, and checks that every
    /// record comes out, one line each, and that both outputs are the same bytes.
    fn smoke_check(dir: &Path, records: u64) -> Result<(), String> {
        for format in [Format::Text, Format::Json] {
            let mut outputs = Vec::new();
            for jobs in [1, 2] {
                let jobs = NonZeroUsize::new(jobs).expect("1 and 2 are not zero");
                let mut decoder = Decoder::new();
                decoder
                    .add_input(&Input::Path(dir.to_path_buf()))
                    .map_err(|error| error.to_string())?;
                let decoded = decoder.decode_parallel(jobs);
                if !decoded.is_clean() || decoded.len() as u64 != records {
                    return Err(format!(
                        "{jobs} jobs decoded {} events of {records} records, with {} problems",
                        decoded.len(),
                        decoded.damage().len()
                    ));
                }
                let mut out = Vec::new();
                match format {
                    Format::Text => write_text_parallel(&decoded, &mut out, jobs),
                    Format::Json => write_json_parallel(&decoded, &mut out, jobs),
                }
                .map_err(|error| format!("rendering failed: {error}"))?;
                let lines = out.iter().filter(|&&byte| byte == b'\n').count() as u64;
                if lines != records {
                    return Err(format!(
                        "{} output with {jobs} jobs has {lines} lines for {records} records",
                        format.name()
                    ));
                }
                outputs.push(out);
            }
            if outputs[0] != outputs[1] {
                return Err(format!(
                    "{} output differs between 1 and 2 jobs",
                    format.name()
                ));
            }
        }
        println!("decode: smoke run passed: text and JSON identical with 1 and 2 jobs");
        Ok(())
    }
}
