//! Running each logger in a child process of the benchmark binary.
//!
//! The parent starts `<its own executable> --child ARGS...`. The child writes its results to
//! standard output as tab-separated records whose first field is a tag. Anything else it
//! prints, and its standard error, passes through to the terminal.

use std::process::{Command, Stdio};

use crate::loggers::fast_log::FastLog;
use crate::loggers::floor::Floor;
use crate::loggers::ftlog::Ftlog;
use crate::loggers::quicklog::Quicklog;
use crate::loggers::tracing::Tracing;
use crate::loggers::ulog::Ulog;
use crate::loggers::{Kind, Logger};

/// First argument of a child process.
pub const CHILD_FLAG: &str = "--child";

/// Returns the arguments after `--child` when this process is a child, or `None`.
pub fn child_args() -> Option<Vec<String>> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() == Some(CHILD_FLAG) {
        Some(args.collect())
    } else {
        None
    }
}

/// Prints one result record: `tag`, then `fields`, separated by tabs.
pub fn emit(tag: &str, fields: &[String]) {
    println!("{tag}\t{}", fields.join("\t"));
}

/// Runs this executable as a child with `args` and returns the fields of every record tagged
/// `tag`, without the tag.
pub fn run(args: &[String], tag: &str) -> Result<Vec<Vec<String>>, String> {
    let exe = std::env::current_exe()
        .map_err(|error| format!("cannot find this benchmark's executable: {error}"))?;
    let output = Command::new(&exe)
        .arg(CHILD_FLAG)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| format!("cannot start {}: {error}", exe.display()))?;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut records = Vec::new();
    for line in stdout.lines() {
        let mut fields = line.split('\t');
        if fields.next() == Some(tag) {
            records.push(fields.map(str::to_owned).collect());
        } else if !line.is_empty() {
            println!("{line}");
        }
    }
    if !output.status.success() {
        return Err(format!(
            "child `{} {CHILD_FLAG} {}` failed with {}",
            exe.display(),
            args.join(" "),
            output.status
        ));
    }
    Ok(records)
}

/// Work that needs the logger's concrete type, so its calls inline.
pub trait WithLogger {
    type Output;

    fn run<L: Logger + Sync>(self, kind: Kind) -> Self::Output;
}

/// Runs `work` with the adapter type of `kind`.
pub fn with_logger<W: WithLogger>(kind: Kind, work: W) -> W::Output {
    match kind {
        Kind::Floor => work.run::<Floor>(kind),
        Kind::Ulog => work.run::<Ulog>(kind),
        Kind::Quicklog => work.run::<Quicklog>(kind),
        Kind::Ftlog => work.run::<Ftlog>(kind),
        Kind::FastLog => work.run::<FastLog>(kind),
        Kind::Tracing => work.run::<Tracing>(kind),
    }
}

/// Parses field `index` of a child's record, naming the record when it is missing or invalid.
pub fn field<T: std::str::FromStr>(record: &[String], index: usize) -> Result<T, String> {
    let text = record
        .get(index)
        .ok_or_else(|| format!("child record {record:?} has no field {index}"))?;
    text.parse()
        .map_err(|_| format!("child record {record:?} has an invalid field {index}: {text:?}"))
}

/// Formats an optional count for a record field; `-` stands for "not counted".
pub fn optional(count: Option<u64>) -> String {
    count.map_or_else(|| "-".to_owned(), |count| count.to_string())
}

/// Parses a field written by [`optional`].
pub fn parse_optional(text: &str) -> Option<u64> {
    text.parse().ok()
}
