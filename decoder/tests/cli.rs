//! The `ulog-decode` binary as a user runs it: output, errors and exit codes.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use common::simple;
use ulog_schema::record::ArgValue;

fn ulog_decode(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ulog-decode"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Builds a clean file of `count` records `n=0`, `n=1`, ... in blocks of 100.
fn records(count: u64) -> Vec<u8> {
    let mut segment = simple();
    for n in 0..count {
        if n > 0 && n % 100 == 0 {
            segment.block();
        }
        segment.record(1, 1, n, &[ArgValue::U64(n)]);
    }
    segment.finish()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn clean_file_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.ulog", &records(3));
    let output = ulog_decode(&[&path]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output).lines().count(), 3);
    assert_eq!(stderr(&output), "");
}

#[test]
fn text_line_has_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.ulog", &records(1));
    let output = ulog_decode(&[&path]);
    assert_eq!(
        stdout(&output),
        "2026-12-04T19:12:39.000000000Z INFO  main app: n=0\n"
    );
}

#[test]
fn truncated_file_prints_then_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = records(250);
    let path = write(dir.path(), "cut.ulog", &bytes[..bytes.len() - 10]);
    let output = ulog_decode(&[&path]);
    assert_eq!(output.status.code(), Some(1));
    let printed = stdout(&output);
    assert_eq!(printed.lines().count(), 200);
    assert!(printed.ends_with("n=199\n"));
}

#[test]
fn truncated_file_reports_offset() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = records(250);
    let cut = bytes.len() - 10;
    let path = write(dir.path(), "cut.ulog", &bytes[..cut]);
    let output = ulog_decode(&[&path]);
    let errors = stderr(&output);
    let lines: Vec<&str> = errors.lines().collect();
    assert!(lines[0].starts_with(&format!("ulog-decode: {path}: byte offset ")));
    assert!(lines[0].contains("truncated block"));
    assert_eq!(
        lines[1],
        format!(
            "ulog-decode: {path}: byte offset {cut}: file ends without an end marker: \
             the writer was killed or is still running"
        )
    );
}

#[test]
fn json_format_prints_objects() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.ulog", &records(2));
    let output = ulog_decode(&["--format", "json", &path]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output)
        .lines()
        .all(|line| line.starts_with("{\"ts\":\"2026-")));
}

#[test]
fn directory_skips_other_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.ulog", &records(2));
    write(dir.path(), "notes.txt", b"not a segment");
    let output = ulog_decode(&[dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output).lines().count(), 2);
}

#[test]
fn dash_reads_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ulog-decode"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&records(4)).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout(&output).lines().count(), 4);
}

#[test]
fn closed_pipe_exits_zero_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "big.ulog", &records(200_000));
    let mut child = Command::new(env!("CARGO_BIN_EXE_ulog-decode"))
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0; 64];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr(&output), "");
}

#[test]
fn no_paths_is_a_usage_error() {
    let output = ulog_decode(&[]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: no input given: pass segment files, directories of them, or `-` for \
         standard input\n"
    );
}

#[test]
fn missing_file_names_the_path() {
    let output = ulog_decode(&["/no/such/file.ulog"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: '/no/such/file.ulog' does not exist: pass the path of a segment file or \
         a directory of them\n"
    );
}

#[test]
fn empty_directory_names_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().to_str().unwrap();
    let output = ulog_decode(&[name]);
    assert_eq!(output.status.code(), Some(2));
    let errors = stderr(&output);
    assert_eq!(errors.lines().count(), 1);
    assert!(errors.contains(&format!("directory '{name}' contains no .ulog files")));
}

#[test]
fn unknown_format_lists_the_choices() {
    let output = ulog_decode(&["--format", "xml", "x.ulog"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: invalid value 'xml' for '--format <FORMAT>': use one of text, json\n"
    );
}

#[test]
fn unknown_flag_is_one_line() {
    let output = ulog_decode(&["--follow"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output).lines().count(), 1);
}

#[test]
fn help_documents_exit_codes() {
    let output = ulog_decode(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).contains("1  some input was damaged, truncated or not a segment"));
}

#[test]
fn not_a_segment_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "x.ulog", b"plain text, not a segment at all");
    let output = ulog_decode(&[&path]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "ulog-decode: {path}: byte offset 0: not a ulog segment: the file does not start \
             with the segment magic `ULOGSEG`; pass a .ulog file that the ulog runtime wrote\n"
        )
    );
}

#[test]
fn not_a_segment_spares_the_others() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.ulog", &records(2));
    write(dir.path(), "b.ulog", b"#!/bin/sh\necho not a segment\n");
    let output = ulog_decode(&[dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output).lines().count(), 2);
    assert!(stderr(&output).contains("b.ulog: byte offset 0: not a ulog segment"));
}

#[test]
fn empty_file_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.ulog", b"");
    let output = ulog_decode(&[&path]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output),
        format!(
            "ulog-decode: {path}: byte offset 0: file is 0 bytes, shorter than a segment \
             header (60 bytes)\n"
        )
    );
}

#[test]
fn yaml_format_lists_the_choices() {
    let output = ulog_decode(&["--format", "yaml", "x.ulog"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: invalid value 'yaml' for '--format <FORMAT>': use one of text, json\n"
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn missing_format_value_lists_the_choices() {
    let output = ulog_decode(&["x.ulog", "--format"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: a value is required for '--format <FORMAT>' but none was supplied: use \
         one of text, json\n"
    );
}

#[test]
fn repeated_format_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.ulog", &records(1));
    let output = ulog_decode(&["--format", "json", "--format", "text", &path]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: the argument '--format <FORMAT>' cannot be used multiple times: give \
         --format once\n"
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn misspelled_flag_suggests_the_right_one() {
    let output = ulog_decode(&["--formt", "json", "x.ulog"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: unexpected argument '--formt' found: did you mean --format? Run \
         `ulog-decode --help` for usage\n"
    );
}

#[test]
fn stdin_named_twice_is_a_usage_error() {
    let output = ulog_decode(&["-", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: standard input `-` is named 2 times, and it can be read only once: name \
         it once\n"
    );
}

#[test]
fn socket_is_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listening.ulog");
    let _listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let name = path.to_str().unwrap();
    let output = ulog_decode(&[name]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "ulog-decode: cannot read '{name}': no such device or address: check that it is \
             readable\n"
        )
    );
}

/// Runs `ulog-decode` on `path`, which the current user cannot read. A user who reads it
/// anyway, such as root, runs a copy of the binary as the unprivileged user 65534 through
/// `setpriv`.
fn decode_unreadable(dir: &Path, path: &str) -> Output {
    let readable = if Path::new(path).is_dir() {
        std::fs::read_dir(path).is_ok()
    } else {
        std::fs::read(path).is_ok()
    };
    if !readable {
        return ulog_decode(&[path]);
    }
    let binary = dir.join("ulog-decode");
    std::fs::copy(env!("CARGO_BIN_EXE_ulog-decode"), &binary).unwrap();
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&binary)
        .arg(path)
        .output()
        .expect("setpriv, from util-linux, runs the decoder as an unprivileged user")
}

/// Creates a temporary directory that every user can enter.
fn open_dir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn unreadable_file_names_the_path() {
    use std::os::unix::fs::PermissionsExt;

    let dir = open_dir();
    let path = write(dir.path(), "secret.ulog", &records(1));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let output = decode_unreadable(dir.path(), &path);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "ulog-decode: cannot read '{path}': permission denied: check that it is readable\n"
        )
    );
    assert_eq!(stdout(&output), "");
}

#[test]
fn unreadable_directory_names_the_path() {
    use std::os::unix::fs::PermissionsExt;

    let dir = open_dir();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    write(&logs, "a.ulog", &records(1));
    std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o000)).unwrap();
    let name = logs.to_str().unwrap();
    let output = decode_unreadable(dir.path(), name);
    std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert_eq!(
        stderr(&output),
        format!(
            "ulog-decode: cannot read '{name}': permission denied: check that it is readable\n"
        )
    );
}

#[test]
fn zero_jobs_is_a_usage_error() {
    let output = ulog_decode(&["--jobs", "0", "x.ulog"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: invalid value '0' for '--jobs <N>': '0' is not a thread count; pass a \
         whole number of at least 1, such as 4\n"
    );
}

#[test]
fn repeated_jobs_is_a_usage_error() {
    let output = ulog_decode(&["-j", "2", "-j", "3", "x.ulog"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "ulog-decode: the argument '--jobs <N>' cannot be used multiple times: give --jobs once\n"
    );
}
