//! A trading workload on ulog: market data, strategy, order routing and risk threads log
//! for a set duration, then the program reports what was logged and decodes the last lines.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use ulog::{ulog, Compression, Config, Level};

mod memory;
mod workload;

/// Runs a multi-threaded trading workload that logs through ulog, then decodes the result.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Logging threads; the roles market-data, strategy, order-router and risk repeat in
    /// that order.
    #[arg(long, default_value_t = 4)]
    threads: usize,

    /// Seconds the workload runs.
    #[arg(long, default_value_t = 3.0)]
    duration: f64,

    /// Records per second per thread, or `unlimited` to log as fast as each thread can.
    #[arg(long, default_value = "500000")]
    rate: Rate,

    /// Directory for segment files. Segments that earlier runs of this program left there
    /// are removed first, so the directory contains exactly this run.
    #[arg(long, default_value = "logs")]
    dir: PathBuf,

    /// Ring size per thread, in bytes.
    #[arg(long, default_value_t = 8 << 20)]
    ring_capacity: usize,

    /// CPU core to pin the backend thread to.
    #[arg(long)]
    backend_core: Option<usize>,

    /// Decoded lines to print at the end.
    #[arg(long, default_value_t = 8)]
    tail: usize,

    /// Block compression: `none`, or `lz4`, which the backend thread applies to each block.
    #[arg(long, value_enum, default_value_t = CompressionArg::None)]
    compression: CompressionArg,
}

/// Values of `--compression`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CompressionArg {
    None,
    Lz4,
}

impl From<CompressionArg> for Compression {
    fn from(value: CompressionArg) -> Self {
        match value {
            CompressionArg::None => Compression::None,
            CompressionArg::Lz4 => Compression::Lz4,
        }
    }
}

/// A per-thread logging rate.
#[derive(Debug, Clone, Copy)]
pub enum Rate {
    /// Records per second.
    PerSecond(u64),
    /// As fast as the thread can log.
    Unlimited,
}

impl std::str::FromStr for Rate {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("unlimited") {
            return Ok(Rate::Unlimited);
        }
        match text.parse::<u64>() {
            Ok(rate) if rate > 0 => Ok(Rate::PerSecond(rate)),
            _ => Err(format!(
                "invalid rate {text:?}: give records per second per thread, such as 500000, or `unlimited`"
            )),
        }
    }
}

const PREFIX: &str = "trading";

fn main() -> Result<()> {
    let args = Args::parse();
    if args.threads == 0 {
        bail!("invalid --threads 0: give at least 1");
    }
    if !(args.duration > 0.0 && args.duration.is_finite()) {
        bail!(
            "invalid --duration {}: give a positive number of seconds",
            args.duration
        );
    }
    remove_old_segments(&args.dir)?;

    let mut config = Config::new()
        .dir(&args.dir)
        .file_prefix(PREFIX)
        .ring_capacity(args.ring_capacity)
        .compression(args.compression.into())
        .min_level(Level::Trace);
    if let Some(core) = args.backend_core {
        config = config.backend_core(core);
    }
    let guard = ulog::init(config).context("cannot start ulog")?;

    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..args.threads)
        .map(|index| {
            let stop = Arc::clone(&stop);
            let role = workload::Role::for_index(index);
            let name = if args.threads <= workload::Role::COUNT {
                role.name().to_owned()
            } else {
                format!("{}-{}", role.name(), index / workload::Role::COUNT)
            };
            std::thread::Builder::new()
                .name(name)
                .spawn(move || workload::run(role, index as u64, args.rate, &stop))
                .context("cannot start a worker thread")
        })
        .collect::<Result<_>>()?;

    std::thread::sleep(Duration::from_secs_f64(args.duration));
    stop.store(true, Ordering::Relaxed);
    let mut logged = 0;
    for worker in workers {
        logged += worker
            .join()
            .map_err(|_| anyhow::anyhow!("a worker thread panicked"))?;
    }
    ulog!(
        Info,
        "session closed after <:.3> s",
        secs = started.elapsed().as_secs_f64()
    );
    logged += 1;
    drop(guard);
    let elapsed = started.elapsed();
    let logging_peak = memory::peak_rss_bytes();

    let stats = ulog::stats();
    let files = segment_files(&args.dir)?;
    let bytes: u64 = files
        .iter()
        .map(|path| std::fs::metadata(path).map(|meta| meta.len()))
        .sum::<std::io::Result<u64>>()
        .context("cannot read segment sizes")?;

    println!("records logged:   {logged}");
    println!("records dropped:  {}", stats.records_dropped);
    println!("records written:  {}", stats.records_written);
    println!(
        "bytes on disk:    {bytes} in {} file(s) under {}",
        files.len(),
        args.dir.display()
    );
    let written = stats.records_written.max(1);
    println!("bytes per record: {:.2}", bytes as f64 / written as f64);
    println!(
        "throughput:       {:.1} M records/s over {:.2} s",
        logged as f64 / elapsed.as_secs_f64() / 1e6,
        elapsed.as_secs_f64()
    );
    if logged != stats.records_written + stats.records_dropped {
        bail!(
            "accounting mismatch: {logged} logged, but {} written + {} dropped",
            stats.records_written,
            stats.records_dropped
        );
    }

    print_tail(&files, args.tail)?;
    println!(
        "peak RSS:         {} while logging, {} after decoding (VmHWM)",
        memory::describe(logging_peak),
        memory::describe(memory::peak_rss_bytes())
    );
    Ok(())
}

/// Removes segment files that an earlier run of this program left in `dir`.
fn remove_old_segments(dir: &Path) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for path in segment_files(dir)? {
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove old segment {}", path.display()))?;
    }
    Ok(())
}

/// Lists this program's segment files in `dir`, sorted by name.
fn segment_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if name.starts_with(&format!("{PREFIX}-")) && name.ends_with(".ulog") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Decodes the segments and prints their last `count` lines.
fn print_tail(files: &[PathBuf], count: usize) -> Result<()> {
    let lines = workload::decode_tail(files, count)?;
    println!("last {} decoded lines:", lines.len());
    for line in lines {
        println!("  {line}");
    }
    Ok(())
}
