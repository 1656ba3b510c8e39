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
    /// `ulog::stats()` just before this logger started; counters only grow, so the
    /// difference to a later reading is this test's share.
    pub baseline: ulog::Stats,
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
        let dir = tempfile::tempdir().expect("temporary directory");
        TestLogger::start_in(dir, configure)
    }

    /// Starts a logger as [`TestLogger::start`] does, in `dir`, which may already hold
    /// files.
    ///
    /// # Panics
    ///
    /// Panics when the logger cannot be created.
    pub fn start_in(
        dir: tempfile::TempDir,
        configure: impl FnOnce(Config) -> Config,
    ) -> TestLogger {
        let serial = LOGGER
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let baseline = ulog::stats();
        let config = configure(
            Config::new()
                .dir(dir.path())
                .file_prefix("test")
                .min_level(Level::Trace),
        );
        let guard = ulog::init(config).expect("logger starts");
        TestLogger {
            dir,
            baseline,
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

/// Returns the segment files in `dir`, sorted by name.
///
/// # Panics
///
/// Panics when the directory cannot be read.
pub fn segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("log directory listed")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "ulog")
        })
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

/// Decodes one segment file on its own.
///
/// # Panics
///
/// Panics when the file cannot be read.
pub fn decode_file(path: &Path) -> Decoded {
    let mut decoder = ulog_decode::Decoder::new();
    let name = path.display().to_string();
    decoder.add_bytes(name, std::fs::read(path).expect("segment read"));
    decoder.decode()
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

/// Offset, length and record count of one block of a segment.
#[derive(Debug, Clone, Copy)]
pub struct BlockInfo {
    /// Byte offset of the block header in the file.
    pub offset: usize,
    /// Bytes of the block, header included.
    pub len: usize,
    /// Records in the block, whether in RECORD or RUN entries.
    pub records: usize,
    /// Whether the block is compressed.
    pub compressed: bool,
}

/// Lists the blocks of an undamaged segment with their record counts, reading entries with
/// the schema crate alone.
///
/// # Panics
///
/// Panics when the segment is damaged.
pub fn blocks_of(bytes: &[u8]) -> Vec<BlockInfo> {
    use std::collections::HashMap;

    use ulog_schema::block::{BlockReader, Encoding};
    use ulog_schema::entry::{kind, EntryReader, SiteDef};
    use ulog_schema::header::FileHeader;
    use ulog_schema::run::RunReader;
    use ulog_schema::ArgKind;

    let (_, header_len) = FileHeader::decode(bytes).expect("segment header");
    let mut kinds: HashMap<u32, Vec<ArgKind>> = HashMap::new();
    let mut blocks = Vec::new();
    let mut scratch = Vec::new();
    for block in BlockReader::new(&bytes[header_len..], header_len) {
        let block = block.expect("intact block");
        let mut records = 0;
        for entry in EntryReader::new(block.entries(&mut scratch).expect("block decompresses")) {
            let entry = entry.expect("intact entry");
            match entry.kind {
                kind::SITE => {
                    let site = SiteDef::decode(entry.body).expect("site definition");
                    kinds.insert(site.id, site.args.iter().map(|arg| arg.kind).collect());
                }
                kind::RECORD => records += 1,
                kind::RUN => {
                    let mut run = RunReader::new(entry.body).expect("run header");
                    while let Some(record) = run.next_record(|id| kinds.get(&id).map(Vec::as_slice))
                    {
                        record.expect("run record");
                        records += 1;
                    }
                }
                _ => {}
            }
        }
        blocks.push(BlockInfo {
            offset: block.offset,
            len: block.len(),
            compressed: block.encoding != Encoding::Plain,
            records,
        });
    }
    blocks
}

/// Returns the blocks of a segment that read back intact, up to the first damaged or cut
/// block, and the byte offset where they end. `None` when the file header itself does not decode.
pub fn intact_prefix(bytes: &[u8]) -> Option<(Vec<BlockInfo>, usize)> {
    use ulog_schema::block::BlockReader;
    use ulog_schema::header::FileHeader;

    let (_, header_len) = FileHeader::decode(bytes).ok()?;
    let mut end = header_len;
    for block in BlockReader::new(&bytes[header_len..], header_len) {
        let Ok(block) = block else {
            break;
        };
        end = block.offset + block.len();
    }
    let blocks = blocks_of(&bytes[..end]);
    Some((blocks, end))
}

/// One thread's decoded records whose argument `seq` numbers its calls from 0, and its drop
/// markers, as [`check_sequences`] sums them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SequenceSummary {
    /// Records with a `seq` argument.
    pub records: u64,
    /// Total of the thread's drop markers.
    pub dropped: u64,
    /// Sequence numbers missing before the last decoded record.
    pub gaps: u64,
    /// One past the last decoded sequence number.
    pub next: u64,
}

/// Checks, for every thread, that its records' `seq` arguments rise, and that each number
/// missing before a record is covered by drop markers decoded before that record. Returns a
/// summary per thread name, or a description of the first violation.
///
/// A drop marker may come earlier than the gap it covers, because the backend writes the
/// ring's drop count before the records it drains next, and that count may include drops
/// after some of those records. It never comes later.
pub fn check_sequences(
    decoded: &Decoded,
) -> Result<std::collections::BTreeMap<String, SequenceSummary>, String> {
    use ulog_decode::ArgValue;

    let mut threads = std::collections::BTreeMap::<String, SequenceSummary>::new();
    for event in decoded.events() {
        let summary = threads.entry(event.thread_name().to_owned()).or_default();
        let record = match event {
            Event::Dropped(marker) => {
                summary.dropped += marker.count();
                continue;
            }
            Event::Record(record) => record,
        };
        let Some(seq) = record
            .args()
            .into_iter()
            .find_map(|(name, value)| match value {
                ArgValue::U64(seq) if name == "seq" => Some(seq),
                _ => None,
            })
        else {
            continue;
        };
        if seq < summary.next {
            return Err(format!(
                "thread {}: seq {seq} after seq {}",
                event.thread_name(),
                summary.next - 1
            ));
        }
        summary.gaps += seq - summary.next;
        if summary.gaps > summary.dropped {
            return Err(format!(
                "thread {}: {} records missing before seq {seq}, and drop markers before it \
                 count only {}",
                event.thread_name(),
                summary.gaps,
                summary.dropped
            ));
        }
        summary.next = seq + 1;
        summary.records += 1;
    }
    Ok(threads)
}

/// A child process of a crash test, killed with SIGKILL if it is still running when dropped.
pub struct ChildProcess {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

/// How a child process ended, with what it printed on stderr.
#[derive(Debug)]
pub struct ChildExit {
    /// Exit status.
    pub status: std::process::ExitStatus,
    /// Everything the child wrote to stderr.
    pub stderr: String,
}

impl ChildProcess {
    /// Starts `program` with `args`, its stdout and stderr piped.
    ///
    /// # Panics
    ///
    /// Panics when the program cannot be started.
    pub fn spawn(program: &str, args: &[&str]) -> ChildProcess {
        let mut child = std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {program}: {error}"));
        let stdout = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        ChildProcess { child, stdout }
    }

    /// Reads the child's stdout until a line equal to `line`.
    ///
    /// # Panics
    ///
    /// Panics when stdout ends first.
    pub fn wait_for_line(&mut self, line: &str) {
        use std::io::BufRead;

        let mut text = String::new();
        loop {
            text.clear();
            let read = self.stdout.read_line(&mut text).expect("child stdout");
            assert!(read > 0, "child stdout ended before the line {line:?}");
            if text.trim_end() == line {
                return;
            }
        }
    }

    /// Sends `signal` to the child.
    ///
    /// # Panics
    ///
    /// Panics when `kill` fails.
    pub fn signal(&self, signal: i32) {
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: kill has no memory preconditions; the pid is our own child, not reaped yet.
        let result = unsafe { libc::kill(pid, signal) };
        assert_eq!(result, 0, "kill({pid}, {signal}) failed");
    }

    /// Waits at most `timeout` for the child to exit.
    ///
    /// # Panics
    ///
    /// Panics when the child is still running after `timeout`; it is then killed.
    pub fn wait(mut self, timeout: std::time::Duration) -> ChildExit {
        use std::io::Read;

        let deadline = std::time::Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "child still running after {timeout:?}; killed"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut stderr).ok();
        }
        ChildExit { status, stderr }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}
