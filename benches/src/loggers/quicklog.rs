//! quicklog 0.1, flushed by a thread of its own as quicklog's documentation shows.
//!
//! quicklog queues a boxed closure per call and leaves formatting and I/O to the thread that
//! calls `flush!`. Its bundled `FileFlusher` opens the file again for every line, which would make
//! the file the bottleneck, so the adapter gives it a buffered file through `with_flush!`.
//! Its queue holds 1,000,000 records, a size fixed when quicklog is compiled.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use quicklog::level::Level;
use quicklog::SendResult;
use quicklog_flush::noop_flusher::NoopFlusher;
use quicklog_flush::Flush;

use super::{Finished, Logger, Setup};
use crate::shapes::Mixed;

/// A `Flush` that appends each line to one buffered file.
struct BufferedFile(BufWriter<File>);

impl Flush for BufferedFile {
    fn flush_one(&mut self, line: String) {
        if let Err(error) = self.0.write_all(line.as_bytes()) {
            eprintln!("quicklog adapter: writing a line failed: {error}");
        }
    }
}

impl Drop for BufferedFile {
    fn drop(&mut self) {
        if let Err(error) = self.0.flush() {
            eprintln!("quicklog adapter: flushing the log file failed: {error}");
        }
    }
}

pub struct Quicklog {
    stop: Arc<AtomicBool>,
    flusher: JoinHandle<()>,
    block_when_full: bool,
    /// Records rejected by a full queue. Only the one producer thread writes it.
    dropped: AtomicU64,
}

impl Quicklog {
    /// Retries `enqueue` while the queue is full when blocking, or counts one drop.
    #[inline(always)]
    fn submit(&self, mut enqueue: impl FnMut() -> SendResult) {
        while enqueue().is_err() {
            if !self.block_when_full {
                let dropped = self.dropped.load(Ordering::Relaxed);
                self.dropped.store(dropped + 1, Ordering::Relaxed);
                return;
            }
            std::hint::spin_loop();
        }
    }
}

impl Logger for Quicklog {
    fn start(setup: &Setup) -> Result<Self, String> {
        let path = setup.dir.join("quicklog.log");
        let file = File::create(&path)
            .map_err(|error| format!("cannot create {}: {error}", path.display()))?;
        quicklog::init!();
        quicklog::with_flush!(BufferedFile(BufWriter::with_capacity(1 << 16, file)));

        let stop = Arc::new(AtomicBool::new(false));
        let flusher_stop = Arc::clone(&stop);
        let flusher = std::thread::Builder::new()
            .name("quicklog-flush".into())
            .spawn(move || loop {
                if quicklog::try_flush!().is_err() {
                    if flusher_stop.load(Ordering::Acquire) {
                        break;
                    }
                    std::hint::spin_loop();
                }
            })
            .map_err(|error| format!("cannot start the quicklog flusher thread: {error}"))?;

        Ok(Quicklog {
            stop,
            flusher,
            block_when_full: setup.block_when_full,
            dropped: AtomicU64::new(0),
        })
    }

    #[inline(always)]
    fn fill(&self, qty: u64, px: f64) {
        self.submit(|| quicklog::try_log!(Level::Info, "fill {} @ {}", qty, px));
    }

    #[inline(always)]
    fn static_text(&self) {
        self.submit(|| quicklog::try_log!(Level::Info, "order book snapshot finished"));
    }

    #[inline(always)]
    fn int(&self, rate: i32) {
        self.submit(|| quicklog::try_log!(Level::Info, "feed handler read rate {} MB/s", rate));
    }

    #[inline(always)]
    fn two_ints(&self, used: u32, reserved: u32) {
        self.submit(|| {
            quicklog::try_log!(
                Level::Info,
                "arena used {} bytes, reserved {} bytes",
                used,
                reserved
            )
        });
    }

    #[inline(always)]
    fn double(&self, ratio: f64) {
        self.submit(|| quicklog::try_log!(Level::Info, "imbalance threshold set to {:.6}", ratio));
    }

    #[inline(always)]
    fn text(&self, gateway: &str) {
        self.submit(|| quicklog::try_log!(Level::Info, "session opened with gateway {}", gateway));
    }

    #[inline(always)]
    fn complex(&self, mixed: Mixed) {
        let Mixed {
            symbols,
            symbol_kb,
            venues,
            venue_kb,
            millis,
        } = mixed;
        self.submit(|| {
            quicklog::try_log!(
                Level::Info,
                "loaded {} symbols ({} KB) and {} venues ({} KB) in {:.1} ms",
                symbols,
                symbol_kb,
                venues,
                venue_kb,
                millis
            )
        });
    }

    #[inline(always)]
    fn text_int(&self, gateway: &str, code: i32) {
        self.submit(|| {
            quicklog::try_log!(
                Level::Info,
                "order for {} rejected with code {}",
                gateway,
                code
            )
        });
    }

    fn finish(self) -> Finished {
        self.stop.store(true, Ordering::Release);
        if self.flusher.join().is_err() {
            eprintln!("quicklog adapter: the flusher thread panicked");
        }
        // Replacing the flusher drops the buffered file, which writes its last block.
        quicklog::with_flush!(NoopFlusher);
        Finished {
            written: None,
            dropped: Some(self.dropped.load(Ordering::Relaxed)),
        }
    }
}
