//! `ulog-decode`: prints ulog segment files as text or JSON lines, ordered by time.

use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Parser, ValueEnum};
use ulog_decode::{write_json_parallel, write_text_parallel, Decoder, Input, InputError};

const EXIT_CODES: &str = "\
Exit codes:
  0  every input decoded cleanly
  1  some input was damaged, truncated or not a segment at all: every intact record was
     still printed, and each problem was reported on stderr as
     `ulog-decode: <path>: byte offset <N>: <what>`
  2  usage error (an unknown option or format, an option given twice, `-` named twice), an
     input that cannot be read (a missing path, a directory without .ulog files, a file
     without read permission), or a failed write to standard output

A closed standard output, as with `ulog-decode logs/ | head`, ends the program quietly with 0.";

/// Prints ulog segment files as text or JSON lines, ordered by time across threads.
#[derive(Debug, Parser)]
#[command(name = "ulog-decode", version, after_help = EXIT_CODES)]
struct Cli {
    /// Segment files, directories whose *.ulog files are read in name order, or `-` for
    /// standard input
    #[arg(value_name = "PATHS")]
    paths: Vec<PathBuf>,

    /// Output format
    #[arg(long, value_enum, ignore_case = true, default_value_t = Format::Text)]
    format: Format,

    /// Threads that decode files and render output; 1 decodes on the main thread only. The
    /// output is the same for every value [default: the available parallelism]
    #[arg(short = 'j', long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<NonZeroUsize>,
}

/// Reads `--jobs`: a whole number of at least 1.
fn parse_jobs(value: &str) -> Result<NonZeroUsize, String> {
    value.parse().map_err(|_| {
        format!("'{value}' is not a thread count; pass a whole number of at least 1, such as 4")
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per record: time, level, thread, module and message
    Text,
    /// One JSON object per line, with typed arguments
    Json,
}

/// The result of a run that read its inputs.
enum Outcome {
    Clean,
    Damaged,
    /// Standard output was closed before everything was written.
    Closed,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    match run(&cli) {
        Ok(Outcome::Clean | Outcome::Closed) => ExitCode::SUCCESS,
        Ok(Outcome::Damaged) => ExitCode::from(1),
        Err(error) => {
            report(&format!("{error:#}"));
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let inputs: Vec<Input> = cli.paths.iter().cloned().map(Input::from_arg).collect();
    let stdin_count = inputs
        .iter()
        .filter(|input| **input == Input::Stdin)
        .count();
    if stdin_count > 1 {
        anyhow::bail!(
            "standard input `-` is named {stdin_count} times, and it can be read only once: \
             name it once"
        );
    }
    if inputs.is_empty() {
        return Err(InputError::Empty.into());
    }
    let jobs = cli
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN));
    let mut decoder = Decoder::new();
    for input in &inputs {
        decoder.add_input(input)?;
    }
    let decoded = decoder.decode_parallel(jobs);

    let stdout = io::stdout().lock();
    let written = match cli.format {
        Format::Text => write_text_parallel(&decoded, stdout, jobs),
        Format::Json => write_json_parallel(&decoded, stdout, jobs),
    };
    match written {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => return Ok(Outcome::Closed),
        Err(error) => anyhow::bail!(
            "cannot write to standard output: {}: check the file or pipe it goes to",
            describe(&error)
        ),
    }

    for damage in decoded.damage() {
        report(&damage.to_string());
    }
    Ok(if decoded.is_clean() {
        Outcome::Clean
    } else {
        Outcome::Damaged
    })
}

/// Writes an I/O error as a lower-case phrase without the OS error number, such as "no space
/// left on device".
fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    let text = text
        .find(" (os error")
        .map_or(text.as_str(), |end| &text[..end]);
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Prints one line on standard error. A closed standard error is ignored: there is nowhere
/// left to report to.
fn report(message: &str) {
    let _ = writeln!(io::stderr().lock(), "ulog-decode: {message}");
}

/// Prints help and version as clap does, and any other command-line error as one line.
fn usage_error(error: &clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = error.print();
        return ExitCode::SUCCESS;
    }

    let rendered = error.to_string();
    let first_line = rendered.lines().next().unwrap_or_default();
    let problem = first_line.strip_prefix("error: ").unwrap_or(first_line);
    match usage_fix(error) {
        Some(fix) => report(&format!("{problem}: {fix}")),
        None => report(problem),
    }
    ExitCode::from(2)
}

/// Returns an option as clap shows it without its value name: `--format` for
/// `--format <FORMAT>`.
fn option_name(arg: &str) -> &str {
    arg.split(' ').next().unwrap_or(arg)
}

/// Tells what to do about a command-line error, or returns `None` when clap's message already
/// does, as the value parser of `--jobs` does.
fn usage_fix(error: &clap::Error) -> Option<String> {
    let context = |kind| match error.get(kind) {
        Some(ContextValue::String(value)) => Some(value.as_str()),
        _ => None,
    };
    if let Some(ContextValue::Strings(values)) = error.get(ContextKind::ValidValue) {
        return Some(format!("use one of {}", values.join(", ")));
    }
    let fix = match (
        error.kind(),
        context(ContextKind::InvalidArg),
        context(ContextKind::PriorArg),
        context(ContextKind::SuggestedArg),
    ) {
        (ErrorKind::ArgumentConflict, Some(arg), Some(prior), _) if arg == prior => {
            format!("give {} once", option_name(arg))
        }
        (ErrorKind::ArgumentConflict, Some(arg), Some(prior), _) => {
            format!(
                "give {} or {}, not both",
                option_name(prior),
                option_name(arg)
            )
        }
        (ErrorKind::UnknownArgument, _, _, Some(suggested)) => {
            format!("did you mean {suggested}? Run `ulog-decode --help` for usage")
        }
        (ErrorKind::ValueValidation, ..) => return None,
        _ => "run `ulog-decode --help` for usage".to_owned(),
    };
    Some(fix)
}
