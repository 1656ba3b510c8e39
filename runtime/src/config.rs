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

/// Minimum interval accepted by [`Config::rotate_every`]. File names carry the creation time
/// to the second, so files started more often would share a time in their names.
pub const MIN_ROTATE_INTERVAL: Duration = Duration::from_secs(1);

/// Maximum interval accepted by [`Config::rotate_every`]: 366 days.
pub const MAX_ROTATE_INTERVAL: Duration = Duration::from_secs(366 * 86_400);

/// Minimum number of files accepted by [`Config::max_files`]: the file being written and the
/// one before it.
pub const MIN_RETAINED_FILES: usize = 2;

/// Maximum interval accepted by [`Fsync::Interval`]: one hour.
pub const MAX_FSYNC_INTERVAL: Duration = Duration::from_secs(3600);

/// Room [`Config::validate`] keeps between `max_file_size` and the process's file size limit,
/// for the block that crosses `max_file_size` and the end marker.
///
/// NOTE: a block holding a record with strings longer than this can still reach the limit.
const FILE_LIMIT_HEADROOM: u64 = 1 << 20;

/// Default permissions of segment files: owner reads and writes, group reads.
pub const DEFAULT_FILE_MODE: u32 = 0o640;

/// Policy for syncing written segment data to disk with `File::sync_data` (`fdatasync` on
/// Linux).
///
/// The backend writes what it has drained at least once per poll interval, and a written block
/// sits in the kernel's page cache, so a crash of the process alone loses only what was not
/// written yet, whatever the setting. What a power loss or kernel crash spares depends on the
/// setting. A sync blocks only the backend thread, never a logging thread, but a backend
/// that waits for the disk drains the rings later, so they fill sooner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fsync {
    /// Never sync. The kernel writes the page cache to disk on its own schedule, on Linux
    /// about 30 s after a write by default (`vm.dirty_expire_centisecs`). A power loss can
    /// therefore take the last seconds of records, and the file may lose blocks at its end.
    #[default]
    Never,
    /// Sync after every block, and sync the directory after creating a file. A power loss
    /// then takes at most the block being written and what is still in memory. This costs
    /// one disk flush per block written: one per 64 KiB, and, when records trickle in, up to
    /// one per poll interval and per `ulog::flush` call.
    EveryBlock,
    /// Sync at most once per interval when something was written since the last sync, and
    /// sync each file when it is finished. Sync the directory after creating a file. A power
    /// loss then takes at most the records written during the last interval plus one poll
    /// interval.
    Interval(Duration),
}

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

    // Rotation, retention, permissions and durability of segment files.
    pub(crate) rotate_every: Option<Duration>,
    pub(crate) max_files: Option<usize>,
    pub(crate) max_total_bytes: Option<u64>,
    pub(crate) file_mode: u32,
    pub(crate) fsync: Fsync,

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

            rotate_every: None,
            max_files: None,
            max_total_bytes: None,
            file_mode: DEFAULT_FILE_MODE,
            fsync: Fsync::Never,

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

    /// Starts a new file once the current one is `interval` old, in addition to the size
    /// limit of [`max_file_size`](Config::max_file_size). The interval counts from the
    /// file's creation, and the new file starts at the backend's next poll after it ends.
    /// Off by default; accepted from 1 s to 366 days.
    pub fn rotate_every(mut self, interval: Duration) -> Self {
        self.rotate_every = Some(interval);
        self
    }

    /// Keeps at most `count` segment files of this prefix in the directory, the file being
    /// written included. Each time a file starts, the backend deletes the oldest ones beyond
    /// the limit. Files of earlier runs and other processes with the same prefix count too,
    /// so a service that restarts often still keeps a bounded directory. Other files are
    /// never touched. No limit by default; at least 2.
    pub fn max_files(mut self, count: usize) -> Self {
        self.max_files = Some(count);
        self
    }

    /// Keeps at most about `bytes` of segment files of this prefix in the directory. Each
    /// time a file starts, the backend deletes the oldest files until the others take at
    /// most `bytes - max_file_size`, which leaves room for the new file to grow. A file can
    /// still exceed `max_file_size` by one block. Files count as for
    /// [`max_files`](Config::max_files). No limit by default; at least twice
    /// `max_file_size`.
    pub fn max_total_bytes(mut self, bytes: u64) -> Self {
        self.max_total_bytes = Some(bytes);
        self
    }

    /// Sets the permission bits of new segment files, such as `0o600`. The backend sets them
    /// with `fchmod` after creating the file, so the process's umask does not change them.
    /// Default `0o640`; only the bits in `0o777` are accepted, and they must include `0o600`,
    /// read and write for the owner.
    pub fn file_mode(mut self, mode: u32) -> Self {
        self.file_mode = mode;
        self
    }

    /// Sets when written data is synced to disk; see [`Fsync`] for what each setting
    /// survives. Default [`Fsync::Never`].
    pub fn fsync(mut self, policy: Fsync) -> Self {
        self.fsync = policy;
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
        self.validate_files()?;
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

impl Config {
    /// Checks the rotation, retention, mode and sync settings.
    fn validate_files(&self) -> Result<(), InitError> {
        if let Some(interval) = self.rotate_every {
            if !(MIN_ROTATE_INTERVAL..=MAX_ROTATE_INTERVAL).contains(&interval) {
                return Err(invalid(
                    "rotate_every",
                    format!("{interval:?}"),
                    "choose between 1 s and 366 days, or leave rotation to max_file_size alone"
                        .into(),
                ));
            }
        }
        if let Some(count) = self.max_files {
            if count < MIN_RETAINED_FILES {
                return Err(invalid(
                    "max_files",
                    count.to_string(),
                    format!(
                        "choose at least {MIN_RETAINED_FILES}: the file being written and the \
                         one before it"
                    ),
                ));
            }
        }
        if let Some(bytes) = self.max_total_bytes {
            let least = self.max_file_size.saturating_mul(2);
            if bytes < least {
                return Err(invalid(
                    "max_total_bytes",
                    bytes.to_string(),
                    format!(
                        "choose at least {least} bytes, twice max_file_size, or lower \
                         max_file_size"
                    ),
                ));
            }
        }
        if self.file_mode & !0o777 != 0 {
            return Err(invalid(
                "file_mode",
                format!("{:#o}", self.file_mode),
                "choose permission bits within 0o777, such as 0o640".into(),
            ));
        }
        // Without them the owner could not decode the files the logger writes.
        if self.file_mode & 0o600 != 0o600 {
            return Err(invalid(
                "file_mode",
                format!("{:#o}", self.file_mode),
                "include 0o600, read and write for the owner, such as 0o640".into(),
            ));
        }
        if let Fsync::Interval(interval) = self.fsync {
            if interval.is_zero() || interval > MAX_FSYNC_INTERVAL {
                return Err(invalid(
                    "fsync",
                    format!("Fsync::Interval({interval:?})"),
                    "choose an interval between 1 ns and 1 hour, or Fsync::EveryBlock to sync \
                     after every block"
                        .into(),
                ));
            }
        }
        check_file_size_limit(self.max_file_size)
    }
}

/// Checks that files of `max_file_size` bytes, plus the block that may cross it, fit within
/// the process's file size limit (`RLIMIT_FSIZE`). Past that limit every write would fail.
fn check_file_size_limit(max_file_size: u64) -> Result<(), InitError> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only to `limit`, which lives for the duration of the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit) } != 0
        || limit.rlim_cur == libc::RLIM_INFINITY
    {
        return Ok(());
    }
    let room = FILE_LIMIT_HEADROOM;
    let limit: u64 = limit.rlim_cur;
    if max_file_size.saturating_add(room) <= limit {
        return Ok(());
    }
    let fix = match limit.checked_sub(room) {
        Some(most) if most >= MIN_FILE_SIZE => format!(
            "the process may write files of at most {limit} bytes (RLIMIT_FSIZE, `ulimit -f`): \
             choose at most {most} bytes, or raise the limit"
        ),
        _ => format!(
            "the process may write files of at most {limit} bytes (RLIMIT_FSIZE, `ulimit -f`), \
             too few for a segment file: raise the limit"
        ),
    };
    Err(invalid("max_file_size", max_file_size.to_string(), fix))
}

/// Builds the error for an out-of-range setting.
fn invalid(setting: &'static str, value: String, fix: String) -> InitError {
    InitError::InvalidConfig {
        setting,
        value,
        fix,
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

    /// Returns the message of the error `config` fails with.
    fn rejection(config: Config) -> String {
        config.validate().unwrap_err().to_string()
    }

    #[test]
    fn file_settings_in_range_are_valid() {
        let config = Config::new()
            .rotate_every(Duration::from_secs(3600))
            .max_files(10)
            .max_file_size(MIN_FILE_SIZE)
            .max_total_bytes(2 * MIN_FILE_SIZE)
            .file_mode(0o600)
            .fsync(Fsync::Interval(Duration::from_millis(100)));
        config.validate().unwrap();
        Config::new().fsync(Fsync::EveryBlock).validate().unwrap();
        let message = rejection(Config::new().file_mode(0));
        assert!(message.contains("invalid file_mode 0o0"), "{message}");
        assert!(message.contains("include 0o600"), "{message}");
    }

    #[test]
    fn rotate_every_out_of_range_is_rejected() {
        for interval in [
            Duration::ZERO,
            Duration::from_millis(999),
            MAX_ROTATE_INTERVAL + Duration::from_secs(1),
        ] {
            let message = rejection(Config::new().rotate_every(interval));
            assert!(message.contains("invalid rotate_every"), "{message}");
            assert!(message.contains(&format!("{interval:?}")), "{message}");
            assert!(message.contains("between 1 s and 366 days"), "{message}");
        }
    }

    #[test]
    fn max_files_below_two_is_rejected() {
        let message = rejection(Config::new().max_files(1));
        assert!(message.contains("invalid max_files 1"), "{message}");
        assert!(message.contains("at least 2"), "{message}");
    }

    #[test]
    fn max_total_bytes_below_two_files_is_rejected() {
        let config = Config::new()
            .max_file_size(1 << 20)
            .max_total_bytes((2 << 20) - 1);
        let message = rejection(config);
        assert!(
            message.contains("invalid max_total_bytes 2097151"),
            "{message}"
        );
        assert!(message.contains("at least 2097152 bytes"), "{message}");
    }

    #[test]
    fn file_mode_beyond_permission_bits_is_rejected() {
        let message = rejection(Config::new().file_mode(0o4755));
        assert!(message.contains("invalid file_mode 0o4755"), "{message}");
        assert!(message.contains("within 0o777"), "{message}");
    }

    #[test]
    fn fsync_interval_out_of_range_is_rejected() {
        for interval in [Duration::ZERO, MAX_FSYNC_INTERVAL + Duration::from_secs(1)] {
            let message = rejection(Config::new().fsync(Fsync::Interval(interval)));
            assert!(message.contains("invalid fsync"), "{message}");
            assert!(message.contains(&format!("{interval:?}")), "{message}");
            assert!(message.contains("Fsync::EveryBlock"), "{message}");
        }
    }
}
