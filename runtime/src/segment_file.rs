//! One open segment file: creating it under a fresh name with its mode, appending whole
//! blocks at the end of what is known to be written, and syncing it.
//!
//! The file keeps the length of its intact part: the header and every block written whole.
//! Each append writes at that offset with `pwrite`, and a failed append cuts the file back to
//! it, so a partly written block never stays in front of later blocks.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::naming;

/// Sequence number of the next segment file this process creates.
static NEXT_FILE_SEQUENCE: AtomicU32 = AtomicU32::new(0);

/// Creation second of the newest file name this process made. Names never go back in time,
/// even when the wall clock does, so a process's names keep sorting in creation order.
static LAST_NAME_SECOND: AtomicU64 = AtomicU64::new(0);

/// Names tried before creating a file gives up; each existing name costs one.
const MAX_CREATE_ATTEMPTS: u32 = 1000;

/// An open segment file.
#[derive(Debug)]
pub(crate) struct SegmentFile {
    file: File,
    path: PathBuf,
    name: String,
    sequence: u32,
    /// Bytes of the intact part: the header and every block written whole.
    len: u64,
    created: Instant,
    /// Whether bytes were written since the file was last synced.
    unsynced: bool,
    last_sync: Instant,
}

impl SegmentFile {
    /// Creates a new, empty file in `dir` and gives it exactly `mode`, whatever the umask.
    ///
    /// # Errors
    ///
    /// Fails when the file cannot be created or its mode cannot be set; the error names the
    /// path. A file whose mode could not be set is removed.
    pub(crate) fn create(dir: &Path, prefix: &str, pid: u32, mode: u32) -> io::Result<SegmentFile> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let second = LAST_NAME_SECOND.fetch_max(now, Ordering::Relaxed).max(now);

        let mut attempts = 0;
        let (file, path, name, sequence) = loop {
            // Sequence numbers count across every logger run in this process, so a second
            // `init` within the same second never reuses a name.
            let sequence = NEXT_FILE_SEQUENCE.fetch_add(1, Ordering::Relaxed);
            let name = naming::format(prefix, second, pid, sequence);
            let path = dir.join(&name);
            attempts += 1;
            // The mode given to `open` passes through the umask; `set_permissions` below
            // applies it exactly.
            let opened = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(&path);
            match opened {
                Ok(file) => break (file, path, name, sequence),
                Err(error)
                    if error.kind() == io::ErrorKind::AlreadyExists
                        && attempts < MAX_CREATE_ATTEMPTS => {}
                Err(error) => return Err(with_path("create", &path, error)),
            }
        };

        if let Err(error) = file.set_permissions(std::fs::Permissions::from_mode(mode)) {
            let _ = std::fs::remove_file(&path);
            return Err(with_path(&format!("set mode {mode:#o} on"), &path, error));
        }

        let now = Instant::now();
        Ok(SegmentFile {
            file,
            path,
            name,
            sequence,
            len: 0,
            created: now,
            unsynced: false,
            last_sync: now,
        })
    }

    /// File name, without the directory.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Sequence number of the file within its process, as its header and name carry it.
    pub(crate) fn sequence(&self) -> u32 {
        self.sequence
    }

    /// Bytes of the intact part of the file.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Time since the file was created.
    pub(crate) fn age(&self) -> std::time::Duration {
        self.created.elapsed()
    }

    /// Returns whether bytes were written since the last [`SegmentFile::sync`].
    pub(crate) fn unsynced(&self) -> bool {
        self.unsynced
    }

    /// Time since the last [`SegmentFile::sync`], or since creation before the first.
    pub(crate) fn since_sync(&self) -> std::time::Duration {
        self.last_sync.elapsed()
    }

    /// Writes `bytes` whole after the intact part.
    ///
    /// # Errors
    ///
    /// Fails when the write fails, for example with `ENOSPC` on a full disk or `EFBIG` past
    /// the process's file size limit. The file is then cut back to its intact part, as far
    /// as the file system allows, and the same bytes can be appended again later.
    pub(crate) fn append(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.file.write_all_at(bytes, self.len) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                self.unsynced = true;
                Ok(())
            }
            Err(error) => {
                // Shrinking needs no free space. Should it fail anyway, the next append
                // writes over the partial bytes, because it writes at the same offset.
                let _ = self.file.set_len(self.len);
                Err(with_path("write to", &self.path, error))
            }
        }
    }

    /// Asks the kernel to put the file's data on disk (`fdatasync` on Linux).
    ///
    /// # Errors
    ///
    /// Fails when the kernel reports that it could not write the data.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.unsynced = false;
        self.last_sync = Instant::now();
        self.file
            .sync_data()
            .map_err(|error| with_path("sync", &self.path, error))
    }
}

/// Asks the kernel to put the entries of `dir` on disk, so that a file created in it
/// survives a power loss.
///
/// # Errors
///
/// Fails when the directory cannot be opened or synced.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|error| with_path("sync directory", dir, error))
}

/// Adds the action and the path to an I/O error, keeping its kind.
fn with_path(action: &str, path: &Path, error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        format!("cannot {action} {}: {error}", path.display()),
    )
}
