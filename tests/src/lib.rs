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
}

/// Lists the blocks of an undamaged segment with their record counts, reading entries with
/// the schema crate alone.
///
/// # Panics
///
/// Panics when the segment is damaged.
pub fn blocks_of(bytes: &[u8]) -> Vec<BlockInfo> {
    use std::collections::HashMap;

    use ulog_schema::block::{BlockReader, HEADER_LEN};
    use ulog_schema::entry::{kind, EntryReader, SiteDef};
    use ulog_schema::header::FileHeader;
    use ulog_schema::run::RunReader;
    use ulog_schema::ArgKind;

    let (_, header_len) = FileHeader::decode(bytes).expect("segment header");
    let mut kinds: HashMap<u32, Vec<ArgKind>> = HashMap::new();
    let mut blocks = Vec::new();
    for block in BlockReader::new(&bytes[header_len..], header_len) {
        let block = block.expect("intact block");
        let mut records = 0;
        for entry in EntryReader::new(block.payload) {
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
            len: HEADER_LEN + block.payload.len(),
            records,
        });
    }
    blocks
}
