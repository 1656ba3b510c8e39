//! Segment files get the configured permission bits whatever the umask. The umask belongs to
//! the whole process, so this test has a binary of its own.

use std::os::unix::fs::PermissionsExt;

use ulog::{ulog, DEFAULT_FILE_MODE, MIN_FILE_SIZE};
use ulog_tests::{segments, TestLogger};

/// Records logged per case: enough for two 64 KiB files, so rotated files are checked too.
const RECORDS: u32 = 20_000;

#[test]
fn file_mode_ignores_umask() {
    // A umask of 0o077 alone would turn 0o640 into 0o600 and 0o644 into 0o600.
    // SAFETY: umask only replaces the process's file creation mask.
    unsafe { libc::umask(0o077) };

    for (mode, expected) in [
        (None, DEFAULT_FILE_MODE),
        (Some(0o644), 0o644),
        (Some(0o604), 0o604),
    ] {
        let mut logger = TestLogger::start(|config| {
            let config = config.max_file_size(MIN_FILE_SIZE);
            match mode {
                Some(mode) => config.file_mode(mode),
                None => config,
            }
        });
        for index in 0..RECORDS {
            ulog!(Info, "order <> px <:.2>", index, 101.25f64);
            if (index + 1) % 1_000 == 0 {
                ulog::flush();
            }
        }
        logger.stop();

        let files = segments(logger.dir.path());
        assert!(files.len() >= 2, "{files:?}");
        for path in files {
            let found = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(found, expected, "{path:?} has mode {found:#o}");
        }
    }
}
