//! Sync policies and the poll interval: every policy writes the data, `Fsync` decides how
//! many syncs that takes, and the backend writes without being asked to flush. That data
//! reaches the disk itself cannot be observed from a test.

use std::time::{Duration, Instant};

use ulog::{ulog, Fsync};
use ulog_tests::{blocks_of, decode_file, messages, segments, TestLogger};

/// Records logged per burst.
const BURST: u32 = 200;

/// Logs `bursts` bursts of records, flushing after each and sleeping `pause` between them.
fn log_bursts(bursts: u32, pause: Duration) {
    for burst in 0..bursts {
        for index in 0..BURST {
            ulog!(Info, "burst <> record <>", burst, index);
        }
        ulog::flush();
        std::thread::sleep(pause);
    }
}

/// Stops the logger and checks that its one file contains every record of `bursts` bursts.
/// Returns the syncs it made and the blocks in its file.
fn finish(logger: &mut TestLogger, bursts: u32) -> (u64, usize) {
    logger.stop();
    let stats = ulog::stats();
    assert_eq!(stats.sync_errors, logger.baseline.sync_errors);

    let files = segments(logger.dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let decoded = decode_file(&files[0]);
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    assert_eq!(messages(&decoded).len() as u32, bursts * BURST);

    let blocks = blocks_of(&std::fs::read(&files[0]).unwrap()).len();
    (stats.syncs - logger.baseline.syncs, blocks)
}

#[test]
fn fsync_never_makes_no_sync() {
    let mut logger = TestLogger::start(|config| config.fsync(Fsync::Never));
    log_bursts(3, Duration::ZERO);
    let (syncs, _) = finish(&mut logger, 3);
    assert_eq!(syncs, 0);
}

#[test]
fn fsync_every_block_syncs_each_block() {
    let mut logger = TestLogger::start(|config| config.fsync(Fsync::EveryBlock));
    log_bursts(3, Duration::ZERO);
    let (syncs, blocks) = finish(&mut logger, 3);
    // One sync per block, the end marker's included, and one of the directory.
    assert!(blocks >= 4, "only {blocks} blocks");
    assert_eq!(syncs, blocks as u64 + 1);
}

#[test]
fn fsync_interval_syncs_once_per_interval() {
    // An hour never passes here: only the directory at the start and the file at its end.
    let hourly = Fsync::Interval(Duration::from_secs(3600));
    let (syncs, blocks) = {
        let mut logger = TestLogger::start(|config| config.fsync(hourly));
        log_bursts(3, Duration::ZERO);
        finish(&mut logger, 3)
    };
    assert!(blocks >= 4, "only {blocks} blocks");
    assert_eq!(syncs, 2);

    // With 20 ms between syncs and 60 ms between bursts, every burst gets its own sync.
    let often = Fsync::Interval(Duration::from_millis(20));
    let (syncs, blocks) = {
        let mut logger = TestLogger::start(|config| config.fsync(often));
        log_bursts(5, Duration::from_millis(60));
        finish(&mut logger, 5)
    };
    assert!(syncs > 5, "{syncs} syncs for 5 bursts");
    assert!(
        syncs <= blocks as u64 + 1,
        "{syncs} syncs for {blocks} blocks"
    );
}

#[test]
fn backend_writes_without_flush() {
    let mut logger = TestLogger::start(|config| config.poll_interval(Duration::from_millis(1)));
    ulog!(Info, "written by the poll");

    let files = segments(logger.dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // The file has no end marker yet, so the decoder reports it as cut short.
        let found = messages(&decode_file(&files[0]));
        if found == ["written by the poll"] {
            break;
        }
        assert!(found.is_empty(), "{found:?}");
        assert!(
            Instant::now() < deadline,
            "the record was not written in 10 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    logger.stop();
}
