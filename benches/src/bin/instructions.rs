//! Counts the instructions of one log call under valgrind's callgrind and checks them against
//! a budget file. `benches/instructions.sh` builds this binary and runs `check`.
//!
//! ```text
//! instructions check [--budgets FILE] [--calls N] [--repeat] [TARGET...]
//! instructions list
//! instructions call TARGET CALLS      (what `check` runs under callgrind)
//! ```
//!
//! Each target is one `#[no_mangle]`, `#[inline(never)]` function that makes one log call.
//! `check` runs `call TARGET N` and `call TARGET 2N` under
//! `valgrind --tool=callgrind --toggle-collect=SYMBOL`, which counts only instructions
//! executed inside that function, and reports (Ir(2N) - Ir(N)) / N. The difference removes
//! whatever the first calls cost once, such as creating the thread's ring. The count
//! includes the function's prologue, the level check and the `ret`, but not the caller's
//! `call` instruction.

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("instructions: the probes read the time-stamp counter and run only on x86-64");
    std::process::exit(2);
}

#[cfg(target_arch = "x86_64")]
fn main() {
    std::process::exit(probe::main());
}

#[cfg(target_arch = "x86_64")]
mod probe {
    use std::collections::BTreeMap;
    use std::hint::black_box;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::Mutex;

    use ulog_benches::loggers::floor::Floor;
    use ulog_benches::loggers::ulog::Ulog;
    use ulog_benches::loggers::{Logger, Setup};
    use ulog_benches::shapes::{
        Complex, Fill, OneDouble, OneInt, OneStr, Shape, StaticText, StrInt, TwoInts,
    };
    use ulog_benches::table::Table;

    /// Calls per run in `check`; the second run makes twice as many.
    const DEFAULT_CALLS: u64 = 10_000;

    /// Ring size for the probe runs: large enough that no record of `2 * calls` is dropped
    /// even if callgrind never schedules the backend, because a drop runs other code.
    const PROBE_RING: usize = 16 << 20;

    /// Valgrind processes run at once; each one is single-threaded under valgrind.
    const PARALLEL_RUNS: usize = 2;

    /// Exit code when a count exceeds its budget.
    const EXIT_OVER_BUDGET: i32 = 1;
    /// Exit code for usage, budget-file and valgrind errors.
    const EXIT_ERROR: i32 = 2;

    /// One probed log call.
    struct Target {
        /// `logger.message`, as in the budget file.
        name: &'static str,
        /// Symbol that `--toggle-collect` names.
        symbol: &'static str,
        /// Runs the probe `calls` times in this process.
        run: fn(u64) -> Result<(), String>,
    }

    macro_rules! targets {
        ($($symbol:ident: $logger:ident, $shape:ident, $name:literal;)*) => {
            $(
                #[no_mangle]
                #[inline(never)]
                pub fn $symbol(logger: &$logger, args: <$shape as Shape>::Args) {
                    $shape::call(logger, args);
                }
            )*

            const TARGETS: &[Target] = &[$(
                Target {
                    name: $name,
                    symbol: stringify!($symbol),
                    run: |calls| repeat_calls::<$logger, $shape>(calls, $symbol),
                },
            )*];
        };
    }

    targets! {
        ulog_probe_fill: Ulog, Fill, "ulog.fill";
        ulog_probe_static: Ulog, StaticText, "ulog.static";
        ulog_probe_int: Ulog, OneInt, "ulog.int";
        ulog_probe_two_ints: Ulog, TwoInts, "ulog.two_ints";
        ulog_probe_double: Ulog, OneDouble, "ulog.double";
        ulog_probe_str: Ulog, OneStr, "ulog.str";
        ulog_probe_complex: Ulog, Complex, "ulog.complex";
        ulog_probe_str_i32: Ulog, StrInt, "ulog.str_i32";
        floor_probe_fill: Floor, Fill, "floor.fill";
    }

    /// Starts the logger, makes one call outside the probe, then `calls` probed calls.
    fn repeat_calls<L: Logger, S: Shape>(calls: u64, probe: fn(&L, S::Args)) -> Result<(), String> {
        let dir = tempfile::tempdir()
            .map_err(|error| format!("cannot create a temporary directory: {error}"))?;
        let setup = Setup {
            dir: dir.path().to_owned(),
            block_when_full: false,
            ulog_ring_bytes: PROBE_RING,
            ulog_compression: ulog::Compression::None,
        };
        let logger = L::start(&setup)?;

        S::call(&logger, S::args(0));
        for index in 0..calls {
            probe(&logger, black_box(S::args(index)));
        }

        let finished = logger.finish();
        if let Some(dropped) = finished.dropped.filter(|&dropped| dropped > 0) {
            return Err(format!(
                "{dropped} records were dropped, so the count includes the drop path; \
                 raise PROBE_RING in benches/src/bin/instructions.rs"
            ));
        }
        Ok(())
    }

    pub fn main() -> i32 {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let result = match args.first().map(String::as_str) {
            Some("call") => call(&args[1..]).map(|()| 0),
            Some("check") => check(&args[1..]),
            Some("list") => {
                for target in TARGETS {
                    println!("{}", target.name);
                }
                Ok(0)
            }
            Some("-h" | "--help") => {
                println!("{}", usage());
                Ok(0)
            }
            Some(other) => Err(format!("unknown command {other:?}\n{}", usage())),
            None => Err(usage()),
        };
        result.unwrap_or_else(|message| {
            eprintln!("error: {message}");
            EXIT_ERROR
        })
    }

    fn usage() -> String {
        "usage: instructions check [--budgets FILE] [--calls N] [--repeat] [TARGET...]\n\
         \x20      instructions list\n\
         \x20      instructions call TARGET CALLS\n\
         check  counts instructions per call of each TARGET (default: all) under callgrind,\n\
         \x20      and with --budgets fails when one exceeds its budget; --repeat measures twice\n\
         \x20      and fails unless both counts agree"
            .to_owned()
    }

    fn find_target(name: &str) -> Result<&'static Target, String> {
        TARGETS
            .iter()
            .find(|target| target.name == name)
            .ok_or_else(|| format!("unknown target {name:?}; known: {}", target_names()))
    }

    fn target_names() -> String {
        TARGETS
            .iter()
            .map(|target| target.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn call(args: &[String]) -> Result<(), String> {
        let [name, calls] = args else {
            return Err("call takes TARGET CALLS, such as `call ulog.fill 10000`".into());
        };
        let target = find_target(name)?;
        let calls = parse_calls(calls)?;
        (target.run)(calls)
    }

    fn parse_calls(text: &str) -> Result<u64, String> {
        text.parse()
            .ok()
            .filter(|&calls| calls > 0)
            .ok_or_else(|| format!("invalid call count {text:?}; pass a whole number above 0"))
    }

    struct CheckOptions {
        budgets: Option<PathBuf>,
        calls: u64,
        repeat: bool,
        targets: Vec<&'static Target>,
    }

    fn parse_check(args: &[String]) -> Result<CheckOptions, String> {
        let mut options = CheckOptions {
            budgets: None,
            calls: DEFAULT_CALLS,
            repeat: false,
            targets: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--budgets" => {
                    let path = args.next().ok_or("--budgets needs a file path")?;
                    options.budgets = Some(PathBuf::from(path));
                }
                "--calls" => {
                    let calls = args.next().ok_or("--calls needs a count")?;
                    options.calls = parse_calls(calls)?;
                }
                "--repeat" => options.repeat = true,
                name => options.targets.push(find_target(name)?),
            }
        }
        if options.targets.is_empty() {
            options.targets = TARGETS.iter().collect();
        }
        Ok(options)
    }

    /// Measures every target, prints the table and compares with the budgets.
    fn check(args: &[String]) -> Result<i32, String> {
        let options = parse_check(args)?;
        let budgets = match &options.budgets {
            Some(path) => {
                let budgets = read_budgets(path)?;
                require_budgets(&budgets, &options.targets, path)?;
                Some(budgets)
            }
            None => None,
        };
        let exe = std::env::current_exe()
            .map_err(|error| format!("cannot find this executable: {error}"))?;
        let out_dir = tempfile::tempdir()
            .map_err(|error| format!("cannot create a temporary directory: {error}"))?;

        let passes = if options.repeat { 2 } else { 1 };
        let mut jobs = Vec::new();
        for pass in 0..passes {
            for target in &options.targets {
                for calls in [options.calls, 2 * options.calls] {
                    jobs.push(Job {
                        target,
                        calls,
                        pass,
                    });
                }
            }
        }
        let counts = run_jobs(&exe, out_dir.path(), &jobs)?;

        let mut table = Table::new(&[
            "target",
            ">instructions/call",
            ">budget",
            ">budget used",
            "status",
        ]);
        let mut over = Vec::new();
        for target in &options.targets {
            let per_call = |pass: usize| {
                let ir = |calls| counts[&(target.name, calls, pass)];
                let extra = ir(2 * options.calls) as i128 - ir(options.calls) as i128;
                extra as f64 / options.calls as f64
            };
            let measured = per_call(0);
            if options.repeat && per_call(1) != measured {
                return Err(format!(
                    "{}: two measurements disagree ({measured} and {} instructions per call); \
                     the probe is not deterministic, so a budget cannot guard it",
                    target.name,
                    per_call(1)
                ));
            }

            let budget = budgets.as_ref().map(|budgets| budgets[target.name]);
            let status = match budget {
                Some(budget) if measured > budget as f64 => {
                    over.push((target.name, measured, budget));
                    "OVER BUDGET"
                }
                Some(_) => "ok",
                None => "-",
            };
            table.row(vec![
                target.name.to_owned(),
                format_count(measured),
                budget.map_or_else(|| "-".to_owned(), |budget| budget.to_string()),
                budget.map_or_else(
                    || "-".to_owned(),
                    |budget| format!("{:.0}%", measured / budget as f64 * 100.0),
                ),
                status.to_owned(),
            ]);
        }

        println!(
            "instructions per call = (Ir({}) - Ir({})) / {}, counted inside each probe \
             function by callgrind{}",
            2 * options.calls,
            options.calls,
            options.calls,
            if options.repeat {
                "; measured twice, both counts agree"
            } else {
                ""
            }
        );
        print!("{}", table.render());

        if over.is_empty() {
            return Ok(0);
        }
        for (name, measured, budget) in &over {
            eprintln!(
                "error: {name} takes {} instructions per call, over its budget of {budget}. \
                 Make the call cheaper, or raise the budget in its own commit that says why.",
                format_count(*measured)
            );
        }
        Ok(EXIT_OVER_BUDGET)
    }

    fn format_count(count: f64) -> String {
        if count.fract() == 0.0 {
            format!("{count:.0}")
        } else {
            format!("{count:.2}")
        }
    }

    /// One callgrind run.
    struct Job {
        target: &'static Target,
        calls: u64,
        pass: usize,
    }

    type Counts = BTreeMap<(&'static str, u64, usize), u64>;

    /// Runs the jobs, [`PARALLEL_RUNS`] at a time, and returns each one's instruction count.
    fn run_jobs(exe: &Path, out_dir: &Path, jobs: &[Job]) -> Result<Counts, String> {
        let next = Mutex::new(jobs.iter().enumerate());
        let results = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..PARALLEL_RUNS {
                scope.spawn(|| loop {
                    let Some((index, job)) = next.lock().expect("job queue lock").next() else {
                        break;
                    };
                    let out_file = out_dir.join(format!("callgrind.{index}.out"));
                    let result = run_callgrind(exe, &out_file, job);
                    results.lock().expect("results lock").push((job, result));
                });
            }
        });

        let mut counts = Counts::new();
        for (job, result) in results.into_inner().expect("results lock") {
            counts.insert((job.target.name, job.calls, job.pass), result?);
        }
        Ok(counts)
    }

    /// Runs one job under callgrind and returns the instructions counted in its probe.
    fn run_callgrind(exe: &Path, out_file: &Path, job: &Job) -> Result<u64, String> {
        let output = Command::new("valgrind")
            .arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}", out_file.display()))
            .arg(format!("--toggle-collect={}", job.target.symbol))
            .arg("--collect-atstart=no")
            .arg("--dump-line=no")
            .arg(exe)
            .args(["call", job.target.name, &job.calls.to_string()])
            .output()
            .map_err(|error| {
                format!(
                    "cannot run valgrind: {error}; install it (apt-get install valgrind) \
                     or run benches/instructions.sh, which installs it when CI is set"
                )
            })?;
        if !output.status.success() {
            return Err(format!(
                "valgrind failed on {} with {} calls ({}):\n{}",
                job.target.name,
                job.calls,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }

        let profile = std::fs::read_to_string(out_file).map_err(|error| {
            format!(
                "cannot read callgrind's output {}: {error}",
                out_file.display()
            )
        })?;
        let count = profile
            .lines()
            .find_map(|line| line.strip_prefix("summary:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|count| count.parse::<u64>().ok())
            .ok_or_else(|| {
                format!(
                    "callgrind's output {} has no `summary:` line with an instruction count",
                    out_file.display()
                )
            })?;
        if count == 0 {
            return Err(format!(
                "callgrind counted no instructions in {}; the symbol is missing from the \
                 binary or was never called",
                job.target.symbol
            ));
        }
        Ok(count)
    }

    /// Fails naming the first target that has no budget, before any measurement runs.
    fn require_budgets(
        budgets: &BTreeMap<String, u64>,
        targets: &[&Target],
        path: &Path,
    ) -> Result<(), String> {
        let Some(target) = targets
            .iter()
            .find(|target| !budgets.contains_key(target.name))
        else {
            return Ok(());
        };
        let (logger, message) = target.name.split_once('.').unwrap_or((target.name, ""));
        Err(format!(
            "{}: no budget for {}; add `{message} = <instructions>` under [{logger}]",
            path.display(),
            target.name
        ))
    }

    /// Reads a budget file: one TOML table per logger, each mapping a message to the largest
    /// instruction count per call it may take. Returns budgets keyed `logger.message`.
    fn read_budgets(path: &Path) -> Result<BTreeMap<String, u64>, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| format!("cannot read budget file {}: {error}", path.display()))?;
        parse_budgets(&text).map_err(|message| format!("{}: {message}", path.display()))
    }

    fn parse_budgets(text: &str) -> Result<BTreeMap<String, u64>, String> {
        let document: toml::Table = text
            .parse()
            .map_err(|error| format!("invalid TOML: {error}"))?;
        let mut budgets = BTreeMap::new();
        for (logger, messages) in &document {
            let messages = messages.as_table().ok_or_else(|| {
                format!(
                    "`{logger}` must be a table such as `[{logger}]` with `message = count` \
                     lines under it"
                )
            })?;
            for (message, budget) in messages {
                let name = format!("{logger}.{message}");
                if !TARGETS.iter().any(|target| target.name == name) {
                    return Err(format!(
                        "unknown message {name}; known: {}. Fix the name or remove the line",
                        target_names()
                    ));
                }
                let budget = budget
                    .as_integer()
                    .and_then(|budget| u64::try_from(budget).ok())
                    .filter(|&budget| budget > 0)
                    .ok_or_else(|| {
                        format!(
                            "budget of {name} is {budget}; write a whole number of \
                             instructions above 0"
                        )
                    })?;
                budgets.insert(name, budget);
            }
        }
        Ok(budgets)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn budgets_parse_per_logger() {
            let budgets = parse_budgets("[ulog]\nfill = 40\n\n[floor]\nfill = 12\n").unwrap();
            assert_eq!(budgets["ulog.fill"], 40);
            assert_eq!(budgets["floor.fill"], 12);
        }

        #[test]
        fn budgets_reject_unknown_message() {
            let error = parse_budgets("[ulog]\nfil = 40\n").unwrap_err();
            assert!(error.contains("unknown message ulog.fil"), "{error}");
            assert!(error.contains("ulog.fill"), "{error}");
        }

        #[test]
        fn budgets_reject_unknown_logger() {
            let error = parse_budgets("[tracing]\nfill = 40\n").unwrap_err();
            assert!(error.contains("unknown message tracing.fill"), "{error}");
        }

        #[test]
        fn budgets_reject_bad_values() {
            for text in [
                "[ulog]\nfill = -1\n",
                "[ulog]\nfill = 0\n",
                "[ulog]\nfill = \"40\"\n",
                "[ulog]\nfill = 4.5\n",
            ] {
                let error = parse_budgets(text).unwrap_err();
                assert!(error.contains("budget of ulog.fill"), "{text}: {error}");
            }
        }

        #[test]
        fn budgets_reject_flat_key() {
            let error = parse_budgets("fill = 40\n").unwrap_err();
            assert!(error.contains("must be a table"), "{error}");
        }

        #[test]
        fn budgets_reject_invalid_toml() {
            let error = parse_budgets("[ulog\nfill = 40\n").unwrap_err();
            assert!(error.contains("invalid TOML"), "{error}");
        }

        #[test]
        fn every_target_has_unique_name_and_symbol() {
            for (index, target) in TARGETS.iter().enumerate() {
                for other in &TARGETS[index + 1..] {
                    assert_ne!(target.name, other.name);
                    assert_ne!(target.symbol, other.symbol);
                }
            }
        }
    }
}
