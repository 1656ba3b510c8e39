//! Ways a process can end, each in a child process whose backend sleeps while the records are
//! logged: an exit with the guard alive, a panic, and fatal signals. Every record logged
//! before the end must decode, except where a test shows what a disabled safety net loses.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use ulog_decode::Decoded;
use ulog_tests::{check_sequences, decode_dir, messages, ChildExit, ChildProcess};

const CHILD: &str = env!("CARGO_BIN_EXE_crash_child");

/// Records each child logs, over four threads.
const RECORDS: u64 = 2_000;

/// Maximum time a child may take; they take well under a second.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the child in `mode` with `option` in a new directory; returns how it ended and what
/// it wrote.
fn run(mode: &str, option: &str) -> (ChildExit, Decoded) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let records = RECORDS.to_string();
    let child = ChildProcess::spawn(CHILD, &[mode, path, &records, option]);
    let exit = child.wait(TIMEOUT);
    (exit, decode_dir(dir.path()))
}

/// Like [`run`], for a child that prints `ready` and waits to receive `signal`.
fn run_until_signal(option: &str, signal: i32) -> (ChildExit, Decoded) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let records = RECORDS.to_string();
    let mut child = ChildProcess::spawn(CHILD, &["signal", path, &records, option]);
    child.wait_for_line("ready");
    child.signal(signal);
    let exit = child.wait(TIMEOUT);
    (exit, decode_dir(dir.path()))
}

/// Asserts that every numbered record of every worker decoded, in order.
fn assert_all_records(decoded: &Decoded, exit: &ChildExit) {
    let threads = check_sequences(decoded).unwrap_or_else(|error| panic!("{error}"));
    let workers: Vec<_> = threads
        .iter()
        .filter(|(name, _)| name.starts_with("worker-"))
        .collect();
    assert_eq!(
        workers.len(),
        4,
        "{threads:?}; child stderr: {}",
        exit.stderr
    );
    let total: u64 = workers.iter().map(|(_, summary)| summary.records).sum();
    assert_eq!(total, RECORDS, "{threads:?}; child stderr: {}", exit.stderr);
    for (name, summary) in workers {
        assert_eq!(summary.gaps, 0, "{name}: {summary:?}");
        assert_eq!(summary.dropped, 0, "{name}: {summary:?}");
    }
}

/// Asserts that the file decoded without damage: the end marker was written.
fn assert_closed(decoded: &Decoded) {
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
}

fn worker_records(decoded: &Decoded) -> usize {
    messages(decoded)
        .iter()
        .filter(|message| message.starts_with("worker "))
        .count()
}

#[test]
fn exit_with_live_guard_writes_all() {
    let (exit, decoded) = run("exit", "");
    assert!(exit.status.success(), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
}

#[test]
fn leaked_guard_writes_all_at_exit() {
    let (exit, decoded) = run("leak", "");
    assert!(exit.status.success(), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
}

#[test]
fn static_guard_writes_all_at_exit() {
    let (exit, decoded) = run("static", "");
    assert!(exit.status.success(), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
}

#[test]
fn flush_before_immediate_exit_writes_all() {
    let (exit, decoded) = run("flush-then-_exit", "");
    assert!(exit.status.success(), "{exit:?}");
    assert_all_records(&decoded, &exit);
    // `_exit` skips the exit handler, so the file has no end marker.
    let damage = decoded.damage();
    assert_eq!(damage.len(), 1, "{damage:?}");
    assert!(
        damage[0].message.contains("without an end marker"),
        "{damage:?}"
    );
}

/// The control for the tests above: with no flush and no exit handler, the records stay in
/// memory, so a test whose safety net failed would see them missing.
#[test]
fn immediate_exit_without_flush_loses_rings() {
    let (exit, decoded) = run("_exit", "");
    assert!(exit.status.success(), "{exit:?}");
    assert_eq!(worker_records(&decoded), 0);
}

#[test]
fn panic_hook_drains_before_previous_hook() {
    let (exit, decoded) = run("panic", "");
    assert_eq!(exit.status.signal(), Some(libc::SIGABRT), "{exit:?}");
    assert!(exit.stderr.contains("previous hook ran"), "{}", exit.stderr);
    assert_all_records(&decoded, &exit);

    let panic_records: Vec<String> = messages(&decoded)
        .into_iter()
        .filter(|message| message.starts_with("thread 'panicker' panicked at "))
        .collect();
    assert_eq!(panic_records.len(), 1, "{:?}", messages(&decoded).last());
    assert!(
        panic_records[0].ends_with(": child panic"),
        "{panic_records:?}"
    );
}

#[test]
fn panic_without_hook_loses_rings() {
    let (exit, decoded) = run("panic-no-hook", "");
    assert_eq!(exit.status.signal(), Some(libc::SIGABRT), "{exit:?}");
    assert!(exit.stderr.contains("previous hook ran"), "{}", exit.stderr);
    assert_eq!(worker_records(&decoded), 0);
}

#[test]
fn raised_sigsegv_writes_all_and_ends_by_it() {
    let (exit, decoded) = run("signal", "SIGSEGV-raise");
    assert_eq!(exit.status.signal(), Some(libc::SIGSEGV), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
}

#[test]
fn faulting_write_writes_all_and_ends_by_sigsegv() {
    let (exit, decoded) = run("signal", "SIGSEGV-fault");
    assert_eq!(exit.status.signal(), Some(libc::SIGSEGV), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
}

#[test]
fn abort_writes_all_and_ends_by_sigabrt() {
    let (exit, decoded) = run("signal", "SIGABRT");
    assert_eq!(exit.status.signal(), Some(libc::SIGABRT), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
}

#[test]
fn sigterm_writes_all_and_ends_by_it() {
    let (exit, decoded) = run_until_signal("SIGTERM", libc::SIGTERM);
    assert_eq!(exit.status.signal(), Some(libc::SIGTERM), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
}

#[test]
fn sigint_writes_all_and_ends_by_it() {
    let (exit, decoded) = run_until_signal("SIGINT", libc::SIGINT);
    assert_eq!(exit.status.signal(), Some(libc::SIGINT), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
}

/// The control for the signal tests: without the handler, SIGTERM loses the rings.
#[test]
fn sigterm_without_handler_loses_rings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let records = RECORDS.to_string();
    let mut child = ChildProcess::spawn(CHILD, &["signal-off", path, &records, "SIGTERM"]);
    child.wait_for_line("ready");
    child.signal(libc::SIGTERM);
    let exit = child.wait(TIMEOUT);
    assert_eq!(exit.status.signal(), Some(libc::SIGTERM), "{exit:?}");
    assert_eq!(worker_records(&decode_dir(dir.path())), 0);
}

/// A child made by `fork` has no backend: its flush, guard drop and exit return at once, and
/// the parent's records are all written.
#[test]
fn forked_child_exits_and_parent_writes_all() {
    let (exit, decoded) = run("fork", "");
    assert!(exit.status.success(), "{exit:?}");
    assert_all_records(&decoded, &exit);
    assert_closed(&decoded);
    let forked: Vec<String> = messages(&decoded)
        .into_iter()
        .filter(|message| message.starts_with("forked child"))
        .collect();
    assert!(forked.is_empty(), "{forked:?}");
}
