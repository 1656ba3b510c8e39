//! The program that the crash tests run as a child process. It logs numbered records, then
//! ends the way its mode names, so that the parent can decode what reached the files.
//!
//! ```text
//! crash_child MODE DIR RECORDS [OPTION]
//! ```
//!
//! Every mode but `kill-loop` starts a logger whose backend sleeps 10 seconds between looks
//! at the rings, and waits until it sleeps. The records logged afterwards then reach the
//! file only if the way the process ends makes the backend write them. Each record is
//! `worker <> seq <>`, logged by threads `worker-0` to `worker-3`.
//!
//! Modes:
//!
//! - `exit`: `std::process::exit(0)` while the guard is alive.
//! - `leak`: leaks the guard and returns from `main`.
//! - `static`: keeps the guard in a static and returns from `main`.
//! - `flush-then-_exit`: `ulog::flush()`, then `_exit(0)`, which skips exit handlers.
//! - `_exit`: `_exit(0)` without a flush.
//! - `panic`, `panic-no-hook`: a thread panics; the hook installed before `init` prints
//!   `previous hook ran` and aborts. `panic-no-hook` turns `Config::panic_hook` off.
//! - `signal`: with `Config::signal_handler` on, ends by OPTION: `SIGSEGV-raise`,
//!   `SIGSEGV-fault` (a write to a page without access), `SIGABRT` (`abort`), or
//!   `SIGTERM`/`SIGINT`, which the parent sends after `ready` is printed.
//! - `signal-off`: as `signal` with the handler off.
//! - `fork`: forks after logging; the child logs, flushes, drops its guard and exits, and the
//!   parent waits for it, then drops its own guard. A child that hangs in `flush`, the drop
//!   or the exit handler makes the parent hang too.
//! - `kill-loop`: OPTION is `drop` or `block`, RECORDS the ring capacity in bytes; three
//!   threads log until the parent kills the process, in 64 KiB files. `ready` is printed
//!   once they log.

use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use ulog::{ulog, Config, Guard, Level, Overflow};

/// Threads that log the numbered records.
const WORKERS: u64 = 4;

/// Where mode `static` keeps its guard.
static GUARD: Mutex<Option<Guard>> = Mutex::new(None);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: crash_child MODE DIR RECORDS [OPTION]");
        std::process::exit(2);
    }
    let (mode, dir) = (args[1].as_str(), Path::new(&args[2]));
    let Ok(records) = args[3].parse::<u64>() else {
        eprintln!(
            "crash_child: invalid RECORDS {:?}: give a whole number",
            args[3]
        );
        std::process::exit(2);
    };
    let option = args.get(4).map(String::as_str).unwrap_or("");

    match mode {
        "exit" => {
            let _guard = start(dir, |config| config);
            log_numbered(records);
            std::process::exit(0);
        }
        "leak" => {
            let guard = start(dir, |config| config);
            log_numbered(records);
            std::mem::forget(guard);
        }
        "static" => {
            *GUARD.lock().unwrap() = Some(start(dir, |config| config));
            log_numbered(records);
        }
        "flush-then-_exit" => {
            let _guard = start(dir, |config| config);
            log_numbered(records);
            ulog::flush();
            // SAFETY: _exit ends the process at once; nothing runs after it.
            unsafe { libc::_exit(0) };
        }
        "_exit" => {
            let _guard = start(dir, |config| config);
            log_numbered(records);
            // SAFETY: as above.
            unsafe { libc::_exit(0) };
        }
        "panic" | "panic-no-hook" => {
            std::panic::set_hook(Box::new(|_| {
                eprintln!("previous hook ran");
                std::process::abort();
            }));
            let hook = mode == "panic";
            let _guard = start(dir, |config| config.panic_hook(hook));
            log_numbered(records);
            let panicker = std::thread::Builder::new()
                .name("panicker".into())
                .spawn(|| panic!("child panic"))
                .unwrap();
            let _ = panicker.join();
            eprintln!("crash_child: the panic did not end the process");
            std::process::exit(3);
        }
        "signal" | "signal-off" => {
            let handler = mode == "signal";
            let _guard = start(dir, |config| config.signal_handler(handler));
            log_numbered(records);
            end_by_signal(option);
        }
        "fork" => {
            let guard = start(dir, |config| config);
            log_numbered(records);
            fork_and_exit_child(guard);
        }
        "kill-loop" => {
            let policy = match option {
                "drop" => Overflow::Drop,
                "block" => Overflow::Block,
                other => {
                    eprintln!("crash_child: invalid policy {other:?}: use drop or block");
                    std::process::exit(2);
                }
            };
            kill_loop(dir, records as usize, policy);
        }
        other => {
            eprintln!("crash_child: unknown mode {other:?}");
            std::process::exit(2);
        }
    }
}

/// Starts a logger in `dir` whose backend then sleeps for 10 seconds.
fn start(dir: &Path, configure: impl FnOnce(Config) -> Config) -> Guard {
    let config = configure(
        Config::new()
            .dir(dir)
            .file_prefix("child")
            .min_level(Level::Trace)
            .poll_interval(Duration::from_secs(10)),
    );
    let guard = ulog::init(config).expect("logger starts");
    // The backend completes the flush, may make one more pass if the flush woke it between
    // two passes, then sleeps. What is logged after the pause stays in the rings.
    ulog::flush();
    std::thread::sleep(Duration::from_millis(100));
    guard
}

/// Logs `records` numbered records, split over [`WORKERS`] threads that have exited when it
/// returns.
fn log_numbered(records: u64) {
    let workers: Vec<_> = (0..WORKERS)
        .map(|worker| {
            let count = records / WORKERS + u64::from(worker < records % WORKERS);
            std::thread::Builder::new()
                .name(format!("worker-{worker}"))
                .spawn(move || {
                    for seq in 0..count {
                        ulog!(Info, "worker <> seq <>", worker, seq);
                    }
                })
                .unwrap()
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
}

fn end_by_signal(option: &str) -> ! {
    match option {
        "SIGSEGV-raise" => {
            // SAFETY: raise has no preconditions.
            unsafe { libc::raise(libc::SIGSEGV) };
        }
        "SIGSEGV-fault" => {
            let faulting = std::thread::Builder::new()
                .name("faulting".into())
                .spawn(write_to_inaccessible_page)
                .unwrap();
            let _ = faulting.join();
        }
        "SIGABRT" => std::process::abort(),
        "SIGTERM" | "SIGINT" => {
            println!("ready");
            std::io::stdout().flush().unwrap();
            std::thread::sleep(Duration::from_secs(60));
        }
        other => {
            eprintln!("crash_child: unknown signal option {other:?}");
            std::process::exit(2);
        }
    }
    eprintln!("crash_child: the signal did not end the process");
    std::process::exit(3);
}

/// Forks. The child logs, flushes, drops its copy of `guard` and exits through the exit
/// handler; the parent waits for it, then drops `guard`.
fn fork_and_exit_child(guard: Guard) {
    // SAFETY: the worker threads have exited, so only the backend runs besides this thread,
    // and the child touches no lock that the backend holds for long.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        // If a bug hangs this child, it must not outlive the test that waits for it.
        // SAFETY: PR_SET_PDEATHSIG takes a signal number and changes only this process.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        ulog!(Info, "forked child seq <>", seq = 0u64);
        ulog::flush();
        drop(guard);
        std::process::exit(0);
    }
    let mut status = 0;
    // SAFETY: `status` is a valid place for waitpid to store the child's status.
    let waited = unsafe { libc::waitpid(pid, &raw mut status, 0) };
    assert_eq!(waited, pid, "waitpid failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "forked child ended with status {status:#x}"
    );
    drop(guard);
}

/// Maps a page without access rights and writes to it, so that the kernel raises SIGSEGV.
fn write_to_inaccessible_page() {
    // SAFETY: an anonymous private mapping with no address hint has no preconditions.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(page, libc::MAP_FAILED, "mmap failed");
    // SAFETY: the page is mapped, so the pointer is valid for the compiler's purposes. The
    // write faults because the page has no access rights, and that fault is the point.
    unsafe { page.cast::<u8>().write_volatile(1) };
}

/// Logs numbered records from three threads until the process is killed.
fn kill_loop(dir: &Path, ring_capacity: usize, policy: Overflow) -> ! {
    let config = Config::new()
        .dir(dir)
        .file_prefix("child")
        .min_level(Level::Trace)
        .ring_capacity(ring_capacity)
        .max_file_size(ulog::MIN_FILE_SIZE)
        .overflow(policy);
    let _guard = ulog::init(config).expect("logger starts");
    let pad = "x".repeat(200);
    for worker in 0..3u64 {
        let pad = pad.clone();
        std::thread::Builder::new()
            .name(format!("worker-{worker}"))
            .spawn(move || {
                for seq in 0u64.. {
                    let note = &pad[..(seq * 37 % 200) as usize];
                    ulog!(Info, "worker <> seq <> note <>", worker, seq, note);
                    if seq % 32 == 31 {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
            })
            .unwrap();
    }
    println!("ready");
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}
