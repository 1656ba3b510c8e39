//! Runs one failed-write scenario for `tests/tests/disk_full.rs`, in a process of its own,
//! because it changes the process's file size limit or mounts a small tmpfs.
//!
//! Usage: `disk_full SCENARIO DIR [OUT]`. Scenarios:
//!
//! - `recover DIR`: writes fail past a lowered file size limit (`EFBIG`), then the limit is
//!   raised again and logging goes on.
//! - `give-up DIR`: writes fail past a lowered file size limit until the logger stops.
//! - `tmpfs DIR OUT`: mounts a 1 MiB tmpfs on DIR in a private mount namespace, fills it so
//!   that writes fail with `ENOSPC`, frees it again, and copies the segments to OUT. Exits
//!   with [`CANNOT_MOUNT`] when the process may not mount.
//! - `init-limit DIR`: starts a logger whose files would not fit under a 1 MiB file size
//!   limit, and prints the error.
//!
//! Every scenario logs phases of records whose messages are `before <i>`, `during <i>` and
//! `after <i>`, and prints `key=value` lines: the counts it logged and `ulog::stats()`
//! figures taken during the failure and at the end. Outside the failure it flushes every
//! [`FLUSH_EVERY`] records, so only records logged during the failure can drop. The failure
//! phase starts with one record and a flush at a time until a write has failed, so the
//! records after that wait in the ring whatever the backend's timing. It prints
//! once the file size limit is back up, because the limit applies to standard output too
//! when that is a file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use ulog::{ulog, Config, Level};

/// Exit code when the tmpfs scenario cannot mount; the caller reports it and skips.
const CANNOT_MOUNT: u8 = 77;

/// Records logged before the failure.
const BEFORE: u32 = 100;

/// Records logged while writes fail: far more than a ring and a block hold, so some drop.
const DURING: u32 = 20_000;

/// Records logged after the failure is over.
const AFTER: u32 = 3_000;

/// Ring of each logging thread: small, so that it fills up during the failure.
const RING: usize = 64 << 10;

/// Records between two flushes outside the failure. A ring has room for more than 2,000.
const FLUSH_EVERY: u32 = 500;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(scenario), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: disk_full recover|give-up|tmpfs|init-limit DIR [OUT]");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    ignore_file_size_signal();
    match scenario.as_str() {
        "recover" => recover(&dir),
        "give-up" => give_up(&dir),
        "tmpfs" => {
            let Some(out) = args.get(3) else {
                eprintln!("usage: disk_full tmpfs DIR OUT");
                return ExitCode::from(2);
            };
            if let Err(reason) = mount_tmpfs(&dir) {
                println!("cannot_mount={reason}");
                return ExitCode::from(CANNOT_MOUNT);
            }
            tmpfs(&dir, Path::new(out));
        }
        "init-limit" => init_limit(&dir),
        other => {
            eprintln!("unknown scenario {other:?}: use recover, give-up, tmpfs or init-limit");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn config(dir: &Path) -> Config {
    Config::new()
        .dir(dir)
        .file_prefix("full")
        .ring_capacity(RING)
        .poll_interval(Duration::from_millis(1))
        .min_level(Level::Info)
}

/// Lowers the file size limit to just above the file's length so that writes fail, then
/// raises it again.
fn recover(dir: &Path) {
    let mut report = Report::default();
    let guard = ulog::init(config(dir)).expect("logger starts");
    log_phase("before", BEFORE, Some(FLUSH_EVERY));
    ulog::flush();

    let file = only_segment(dir);
    let intact = file_len(&file);
    // Ten bytes of room make the next write a partial one.
    set_file_size_limit(Some(intact + 10));
    log_failure_phase();
    ulog::flush();
    report.stats("during", &ulog::stats());
    let during_failure = std::fs::read(&file).expect("segment read");

    set_file_size_limit(None);
    std::fs::write(dir.join("during-failure.bin"), during_failure).expect("copy written");
    ulog::flush();
    log_phase("after", AFTER, Some(FLUSH_EVERY));
    drop(guard);
    report.stats("end", &ulog::stats());
    report.line("logged", BEFORE + DURING + AFTER);
    report.print();
}

/// Lowers the file size limit so that writes fail, and stops the logger before raising it.
fn give_up(dir: &Path) {
    let mut report = Report::default();
    let guard = ulog::init(config(dir)).expect("logger starts");
    log_phase("before", BEFORE, Some(FLUSH_EVERY));
    ulog::flush();

    let intact = file_len(&only_segment(dir));
    set_file_size_limit(Some(intact + 10));
    log_failure_phase();
    ulog::flush();
    report.stats("during", &ulog::stats());
    drop(guard);
    report.stats("end", &ulog::stats());
    report.line("logged", BEFORE + DURING);

    set_file_size_limit(None);
    report.print();
}

/// Fills the file system so that writes fail, then deletes a file to make room.
fn tmpfs(dir: &Path, out: &Path) {
    let logs = dir.join("logs");
    // 64 KiB files, so the records after the failure span several files.
    let mut report = Report::default();
    let guard = ulog::init(config(&logs).max_file_size(ulog::MIN_FILE_SIZE)).expect("starts");
    log_phase("before", BEFORE, Some(FLUSH_EVERY));
    ulog::flush();

    let filler = dir.join("filler");
    report.line("fill_error", fill(&filler));
    log_failure_phase();
    ulog::flush();
    report.stats("during", &ulog::stats());

    std::fs::remove_file(&filler).expect("filler removed");
    ulog::flush();
    log_phase("after", AFTER * 10, Some(FLUSH_EVERY));
    drop(guard);
    report.stats("end", &ulog::stats());
    report.line("logged", BEFORE + DURING + AFTER * 10);
    report.print();

    std::fs::create_dir_all(out).expect("output directory");
    for entry in std::fs::read_dir(&logs).expect("segments listed") {
        let path = entry.expect("directory entry").path();
        std::fs::copy(&path, out.join(path.file_name().expect("file name"))).expect("copy");
    }
}

/// Starts a logger under a file size limit too low for the default file size, which `init`
/// rejects.
fn init_limit(dir: &Path) {
    set_file_size_limit(Some(1 << 20));
    match ulog::init(Config::new().dir(dir)) {
        Ok(_) => println!("init=ok"),
        Err(error) => println!("init_error={error}"),
    }
}

/// Logs the records of the failure phase: one at a time, each with a flush, until a write
/// fails, then the rest at full speed.
fn log_failure_phase() {
    let errors_before = ulog::stats().write_errors;
    let mut index = 0;
    while index < DURING && ulog::stats().write_errors == errors_before {
        ulog!(Info, "during <>", index);
        ulog::flush();
        index += 1;
    }
    assert!(
        ulog::stats().write_errors > errors_before,
        "no write failed in the failure phase"
    );
    for index in index..DURING {
        ulog!(Info, "during <>", index);
    }
}

/// Logs `count` records of `phase`, flushing after every `flush_every` of them if given.
fn log_phase(phase: &str, count: u32, flush_every: Option<u32>) {
    for index in 0..count {
        match phase {
            "before" => ulog!(Info, "before <>", index),
            _ => ulog!(Info, "after <>", index),
        }
        if flush_every.is_some_and(|every| (index + 1) % every == 0) {
            ulog::flush();
        }
    }
}

/// The `key=value` lines a scenario prints when it is done.
#[derive(Default)]
struct Report {
    lines: String,
}

impl Report {
    fn line(&mut self, key: &str, value: impl std::fmt::Display) {
        self.lines.push_str(&format!("{key}={value}\n"));
    }

    fn stats(&mut self, when: &str, stats: &ulog::Stats) {
        self.line(&format!("{when}_written"), stats.records_written);
        self.line(&format!("{when}_dropped"), stats.records_dropped);
        self.line(&format!("{when}_lost"), stats.records_lost_io);
        self.line(&format!("{when}_write_errors"), stats.write_errors);
        self.line(&format!("{when}_files_created"), stats.files_created);
    }

    fn print(&self) {
        print!("{}", self.lines);
    }
}

fn only_segment(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("log directory listed")
        .map(|entry| entry.expect("directory entry").path())
        .collect();
    assert_eq!(files.len(), 1, "expected one segment: {files:?}");
    files.into_iter().next().expect("one segment")
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).expect("segment metadata").len()
}

/// Writes zeros to `path` until the file system is full; returns the error that ended it.
fn fill(path: &Path) -> String {
    let mut file = std::fs::File::create(path).expect("filler created");
    let chunk = vec![0u8; 4096];
    loop {
        if let Err(error) = file.write_all(&chunk) {
            return error.to_string();
        }
    }
}

/// Makes a write past the file size limit fail with `EFBIG` instead of killing the process.
fn ignore_file_size_signal() {
    // SAFETY: SIG_IGN is a valid disposition for SIGXFSZ, and nothing else in this program
    // handles that signal.
    let previous = unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    assert_ne!(previous, libc::SIG_ERR, "cannot ignore SIGXFSZ");
}

/// Sets the soft file size limit to `bytes`, or back to the hard limit for `None`.
fn set_file_size_limit(bytes: Option<u64>) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write `limit`, which outlives the calls.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
        limit.rlim_cur = bytes.map_or(limit.rlim_max, |bytes| bytes as libc::rlim_t);
        assert_eq!(
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit),
            0,
            "setrlimit(RLIMIT_FSIZE, {bytes:?}) failed: {}",
            std::io::Error::last_os_error()
        );
    }
}

/// Mounts a 1 MiB tmpfs on `dir` in a mount namespace of this process alone, so the mount
/// disappears when the process exits. Returns why it cannot, when it cannot.
fn mount_tmpfs(dir: &Path) -> Result<(), String> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let target = CString::new(dir.as_os_str().as_bytes()).map_err(|error| error.to_string())?;
    // SAFETY: unshare takes only flags. CLONE_NEWNS implies CLONE_FS, which needs a process
    // of one thread, and the logger has not started its backend yet.
    if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
        return Err(format!(
            "unshare(CLONE_NEWNS): {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: every pointer is a NUL-terminated string literal, a CString that lives through
    // the call, or null where mount(2) allows it.
    unsafe {
        // Without this, the new mount would propagate to the parent's namespace.
        if libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ) != 0
        {
            return Err(format!(
                "make / private: {}",
                std::io::Error::last_os_error()
            ));
        }
        if libc::mount(
            c"tmpfs".as_ptr(),
            target.as_ptr(),
            c"tmpfs".as_ptr(),
            0,
            c"size=1m".as_ptr().cast(),
        ) != 0
        {
            return Err(format!("mount tmpfs: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}
