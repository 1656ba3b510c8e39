//! One adapter per logger: how it starts, how it logs each shape, and how it finishes.
//!
//! Each adapter's methods are `#[inline(always)]`, so a timed call contains the logger's own
//! macro expansion and nothing of the adapter.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::shapes::Mixed;

#[cfg(feature = "peers")]
pub mod fast_log;
pub mod floor;
#[cfg(feature = "peers")]
pub mod ftlog;
#[cfg(feature = "peers")]
pub mod quicklog;
#[cfg(feature = "peers")]
pub mod tracing;
pub mod ulog;

/// Settings shared by every adapter's `start`.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Directory for the logger's files; the caller deletes it afterwards.
    pub dir: PathBuf,
    /// Whether a full queue should make the caller wait instead of dropping the record.
    /// ulog has no such mode and always drops, counting what it drops.
    pub block_when_full: bool,
    /// ulog's ring size per thread, in bytes.
    pub ulog_ring_bytes: usize,
    /// ulog's block compression.
    pub ulog_compression: ::ulog::Compression,
}

/// Counts a logger reports after it has written everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Finished {
    /// Records the logger reports as written, when it counts them.
    pub written: Option<u64>,
    /// Records the logger reports as dropped, when it counts them.
    pub dropped: Option<u64>,
}

/// A logger under test. `start` runs on the thread that later logs; worker threads the
/// logger spawns inherit that thread's CPU set.
pub trait Logger: Sized {
    /// Starts the logger, writing under `setup.dir`.
    fn start(setup: &Setup) -> Result<Self, String>;

    fn fill(&self, qty: u64, px: f64);
    fn static_text(&self);
    fn int(&self, rate: i32);
    fn two_ints(&self, used: u32, reserved: u32);
    fn double(&self, ratio: f64);
    fn text(&self, gateway: &str);
    fn complex(&self, mixed: Mixed);
    fn text_int(&self, gateway: &str, code: i32);

    /// Writes everything logged so far and stops the logger.
    fn finish(self) -> Finished;
}

/// The loggers the benchmarks know, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Floor,
    Ulog,
    Quicklog,
    Ftlog,
    FastLog,
    Tracing,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Floor,
        Kind::Ulog,
        Kind::Quicklog,
        Kind::Ftlog,
        Kind::FastLog,
        Kind::Tracing,
    ];

    /// Name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Floor => "floor",
            Kind::Ulog => "ulog",
            Kind::Quicklog => "quicklog",
            Kind::Ftlog => "ftlog",
            Kind::FastLog => "fast_log",
            Kind::Tracing => "tracing",
        }
    }

    /// Parses a name from [`Kind::name`].
    pub fn parse(name: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|kind| kind.name()).collect();
                format!("unknown logger {name:?}; choose from {}", known.join(", "))
            })
    }

    /// Returns whether more than one thread may log through this logger.
    pub fn supports_many_producers(self) -> bool {
        // quicklog's producer end is one `static mut` spsc handle shared by every thread.
        self != Kind::Quicklog
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// Counts the newline bytes of every file under `dir`: the lines a text logger wrote.
pub fn count_lines(dir: &Path) -> std::io::Result<u64> {
    use std::io::Read;

    let mut lines = 0u64;
    let mut buffer = vec![0u8; 1 << 20];
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        let mut file = std::fs::File::open(&path)?;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            lines += buffer[..read].iter().filter(|&&byte| byte == b'\n').count() as u64;
        }
    }
    Ok(lines)
}
