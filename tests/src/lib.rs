//! Helpers for the end-to-end tests: start a logger in a fresh directory, decode what it
//! wrote, and keep tests that share the process-wide logger from overlapping.

#![deny(missing_docs)]

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use ulog::{Config, Guard, Level};
use ulog_decode::{Decoded, Event, Input};

/// The logger is one per process, so tests in one binary take this lock while theirs runs.
static LOGGER: Mutex<()> = Mutex::new(());

/// A running logger that writes into its own temporary directory.
pub struct TestLogger {
    /// Directory of the segment files; removed on drop.
    pub dir: tempfile::TempDir,
    guard: Option<Guard>,
    _serial: MutexGuard<'static, ()>,
}

impl TestLogger {
    /// Starts a logger at level `Trace` in a new temporary directory; `configure` may change
    /// any other setting.
    ///
    /// # Panics
    ///
    /// Panics when the directory or the logger cannot be created.
    pub fn start(configure: impl FnOnce(Config) -> Config) -> TestLogger {
        let serial = LOGGER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let dir = tempfile::tempdir().expect("temporary directory");
        let config = configure(
            Config::new()
                .dir(dir.path())
                .file_prefix("test")
                .min_level(Level::Trace),
        );
        let guard = ulog::init(config).expect("logger starts");
        TestLogger {
            dir,
            guard: Some(guard),
            _serial: serial,
        }
    }

    /// Stops the logger, which drains every ring and closes the last file.
    pub fn stop(&mut self) {
        self.guard.take();
    }

    /// Stops the logger and decodes everything it wrote. Other tests stay locked out until
    /// this value is dropped, so `ulog::stats()` still describes this test alone.
    pub fn finish(&mut self) -> Decoded {
        self.stop();
        decode_dir(self.dir.path())
    }
}

/// Decodes every segment in `dir`.
///
/// # Panics
///
/// Panics when the directory cannot be read.
pub fn decode_dir(dir: &Path) -> Decoded {
    ulog_decode::decode_paths(&[Input::Path(dir.to_path_buf())]).expect("segments decode")
}

/// Returns the formatted messages of every record, in output order.
pub fn messages(decoded: &Decoded) -> Vec<String> {
    decoded
        .events()
        .filter_map(|event| match event {
            Event::Record(record) => Some(record.message()),
            Event::Dropped(_) => None,
        })
        .collect()
}

/// Returns the total of every drop marker.
pub fn dropped(decoded: &Decoded) -> u64 {
    decoded
        .events()
        .map(|event| match event {
            Event::Dropped(marker) => marker.count(),
            Event::Record(_) => 0,
        })
        .sum()
}
