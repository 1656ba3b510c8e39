//! Settings of the logger, as a builder.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ulog_schema::Level;

use crate::overflow::Overflow;
use crate::InitError;

/// Smallest ring a thread may get, in bytes.
pub const MIN_RING_CAPACITY: usize = 4 << 10;

/// Largest ring a thread may get, in bytes. String lengths travel as 32-bit values, so a
/// record must stay below 4 GiB.
pub const MAX_RING_CAPACITY: usize = 1 << 30;

/// Smallest file size limit accepted by [`Config::max_file_size`].
pub const MIN_FILE_SIZE: u64 = 64 << 10;

/// Compression that the backend applies to the blocks it writes.
///
/// Compression runs on the backend thread when it writes a block, never in a `ulog!` call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Blocks are written as they are.
    #[default]
    None,
    /// Each block is compressed with LZ4 on its own, and written plain when that does not
    /// make it smaller. Files need a decoder of format 1.2 or later.
    Lz4,
}

/// Settings for [`crate::init`]. Every setting has a default; change the ones you need:
///
/// ```no_run
/// let config = ulog::Config::new()
///     .dir("/var/log/router")
///     .ring_capacity(4 << 20)
///     .backend_core(1)
///     .min_level(ulog::Level::Debug);
/// let _guard = ulog::init(config).expect("logger starts");
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    pub(crate) dir: PathBuf,
    pub(crate) file_prefix: Option<String>,
    pub(crate) ring_capacity: usize,
    pub(crate) backend_core: Option<usize>,
    pub(crate) poll_interval: Duration,
    pub(crate) busy_poll: bool,
    pub(crate) max_file_size: u64,
    pub(crate) min_level: Level,

    // Overflow policy and crash safety.
    pub(crate) overflow: Overflow,
    pub(crate) panic_hook: bool,
    pub(crate) signal_handler: bool,

    pub(crate) compression: Compression,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dir: PathBuf::from("logs"),
            file_prefix: None,
            ring_capacity: 1 << 20,
            backend_core: None,
            poll_interval: Duration::from_millis(1),
            busy_poll: false,
            max_file_size: 256 << 20,
            min_level: Level::Info,

            overflow: Overflow::Drop,
            panic_hook: true,
            signal_handler: false,

            compression: Compression::None,
        }
    }
}

impl Config {
    /// Creates the default settings: directory `./logs`, the program name as file prefix,
    /// 1 MiB rings, an unpinned backend polling every millisecond, 256 MiB files without
    /// compression, and level `Info` and above.
    pub fn new() -> Self {
        Config::default()
    }

    /// Sets the directory for segment files; it is created if missing.
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = dir.as_ref().to_path_buf();
        self
    }

    /// Sets the start of every file name; the default is the program's file name.
    pub fn file_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.file_prefix = Some(prefix.into());
        self
    }

    /// Sets the ring size of each logging thread, in bytes, rounded down to a multiple of 8.
    /// A record that does not fit in the free part of its ring is dropped and counted.
    ///
    /// NOTE: a record is never split at the end of the ring, so it needs one contiguous
    /// stretch of free space; a record longer than half the ring may be dropped even when the
    /// ring is nearly empty.
    pub fn ring_capacity(mut self, bytes: usize) -> Self {
        self.ring_capacity = bytes;
        self
    }

    /// Pins the backend thread to a CPU core, numbered as the operating system does.
    pub fn backend_core(mut self, core: usize) -> Self {
        self.backend_core = Some(core);
        self
    }

    /// Sets how long an idle backend sleeps between looks at the rings. It is also the
    /// longest a record waits in memory before the backend writes it to the file.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// Makes an idle backend spin instead of sleeping, so it picks records up as soon as they
    /// are logged and no ring fills up while the backend sleeps. It then keeps a whole core
    /// busy, so pin it with [`backend_core`](Config::backend_core) to a core nothing else
    /// needs. It still writes what it has once per [`poll_interval`](Config::poll_interval).
    /// Off by default.
    pub fn busy_poll(mut self, spin: bool) -> Self {
        self.busy_poll = spin;
        self
    }

    /// Sets the size in bytes at which the backend starts a new file. A file can exceed it
    /// by one block, at most 64 KiB plus one record.
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// Sets the least severe level that is recorded.
    pub fn min_level(mut self, level: Level) -> Self {
        self.min_level = level;
        self
    }

    /// Sets what a log call does when its thread's ring is full: [`Overflow::Drop`] (the
    /// default) drops and counts the record, [`Overflow::Block`] waits for room. A thread
    /// can override it with [`crate::set_thread_overflow`].
    pub fn overflow(mut self, policy: Overflow) -> Self {
        self.overflow = policy;
        self
    }

    /// Sets whether a panic in any thread first makes the backend write every record
    /// already in the rings, then runs the panic hook that was installed before `init`. On
    /// by default. The hook also logs the panic message as an `Error` record.
    pub fn panic_hook(mut self, enabled: bool) -> Self {
        self.panic_hook = enabled;
        self
    }

    /// Sets whether fatal signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTERM and
    /// SIGINT) make the backend write what the rings hold before the signal's previous
    /// action runs. Off by default, because signal dispositions belong to the whole process;
    /// the README lists what the handler can and cannot promise.
    pub fn signal_handler(mut self, enabled: bool) -> Self {
        self.signal_handler = enabled;
        self
    }

    /// Sets how the backend compresses blocks; the default is [`Compression::None`].
    ///
    /// With [`Compression::Lz4`] the backend compresses each block before it writes it,
    /// which costs it CPU time per block and, on a backend that cannot keep up, may make
    /// rings fill and drop records sooner. Blocks decode alone either way, so damage still
    /// costs only the damaged block.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Checks every setting and fills in the file prefix.
    pub(crate) fn validate(mut self) -> Result<Config, InitError> {
        let invalid =
            |setting: &'static str, value: String, fix: String| InitError::InvalidConfig {
                setting,
                value,
                fix,
            };
        if !(MIN_RING_CAPACITY..=MAX_RING_CAPACITY).contains(&self.ring_capacity) {
            return Err(invalid(
                "ring_capacity",
                self.ring_capacity.to_string(),
                format!("choose between {MIN_RING_CAPACITY} and {MAX_RING_CAPACITY} bytes"),
            ));
        }
        if self.max_file_size < MIN_FILE_SIZE {
            return Err(invalid(
                "max_file_size",
                self.max_file_size.to_string(),
                format!("choose at least {MIN_FILE_SIZE} bytes"),
            ));
        }
        if self.poll_interval.is_zero() || self.poll_interval > Duration::from_secs(10) {
            return Err(invalid(
                "poll_interval",
                format!("{:?}", self.poll_interval),
                "choose between 1 ns and 10 s".into(),
            ));
        }
        if let Some(core) = self.backend_core {
            // The calling thread may itself be pinned, so the machine's online CPUs are the
            // reference here, not the caller's affinity mask.
            // SAFETY: sysconf has no preconditions and only reads system configuration.
            let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
            let online = usize::try_from(online).unwrap_or(0);
            if core >= online {
                return Err(invalid(
                    "backend_core",
                    core.to_string(),
                    format!("choose a core from 0 to {}", online.saturating_sub(1)),
                ));
            }
        }
        let prefix = self.file_prefix.take().unwrap_or_else(program_name);
        if prefix.is_empty() || prefix.contains(['/', '\\', '\0']) {
            return Err(invalid(
                "file_prefix",
                format!("{prefix:?}"),
                "use a non-empty name without path separators".into(),
            ));
        }
        self.file_prefix = Some(prefix);
        Ok(self)
    }
}

/// Returns the file name of the running program, or `ulog` when it is unknown.
pub(crate) fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "ulog".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = Config::new().validate().unwrap();
        assert!(config.file_prefix.is_some());
    }

    #[test]
    fn invalid_settings_name_value_and_fix() {
        let error = Config::new().ring_capacity(10).validate().unwrap_err();
        let message = error.to_string();
        assert!(message.contains("ring_capacity"), "{message}");
        assert!(message.contains("10"), "{message}");
        assert!(message.contains("choose between"), "{message}");

        let error = Config::new().backend_core(100_000).validate().unwrap_err();
        assert!(error.to_string().contains("100000"));

        let error = Config::new().file_prefix("a/b").validate().unwrap_err();
        assert!(error.to_string().contains("file_prefix"));

        let error = Config::new().max_file_size(1).validate().unwrap_err();
        assert!(error.to_string().contains("max_file_size"));
    }
}
