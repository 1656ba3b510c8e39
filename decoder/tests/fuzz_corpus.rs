//! Replays the fuzz corpus: every segment in `tests/corpus` decodes and renders without a
//! panic, in bounded time. `scripts/fuzz.sh --export` refreshes the corpus.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use ulog_decode::{Decoder, Event};

/// Maximum time to decode one file. The files are at most a few KiB and decode in milliseconds, so
/// only a hang or a quadratic blowup reaches this.
const TIME_LIMIT: Duration = Duration::from_secs(20);

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "ulog")
        })
        .collect();
    files.sort();
    files
}

/// Decodes `bytes` and renders every event as text, JSON and messages. Returns the number
/// of events and of problems found.
fn decode_all(name: String, bytes: Vec<u8>) -> (usize, usize) {
    let len = bytes.len() as u64;
    let mut decoder = Decoder::new();
    decoder.add_bytes(name, bytes);
    let decoded = decoder.decode();
    ulog_decode::write_text(&decoded, std::io::sink()).unwrap();
    ulog_decode::write_json(&decoded, std::io::sink()).unwrap();
    for event in decoded.events() {
        if let Event::Record(record) = event {
            record.message();
            record.args();
        }
    }
    for damage in decoded.damage() {
        assert!(damage.offset <= len, "{damage}");
    }
    (decoded.len(), decoded.damage().len())
}

#[test]
fn corpus_is_present() {
    assert!(
        corpus().len() >= 10,
        "{} files in tests/corpus",
        corpus().len()
    );
}

#[test]
fn corpus_decodes_without_panic() {
    for path in corpus() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.display().to_string();
        let (sender, receiver) = mpsc::channel();
        let worker = {
            let name = name.clone();
            std::thread::spawn(move || sender.send(decode_all(name, bytes)))
        };
        match receiver.recv_timeout(TIME_LIMIT) {
            Ok(_) => worker.join().unwrap().unwrap(),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{name} took more than {TIME_LIMIT:?} to decode")
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let panic = worker.join().unwrap_err();
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("a panic without a message");
                panic!("decoding {name} panicked: {message}");
            }
        }
    }
}
