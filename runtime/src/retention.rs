//! Retention: deleting the oldest segment files of a prefix so that the directory stays
//! within a number of files and a number of bytes.
//!
//! Only names that [`naming::parse`] accepts for the logger's own prefix count, from this
//! process or any other, earlier runs included. Other files in the directory are never
//! touched. Files are ordered by the creation time in their names, then by process id and
//! sequence number.

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use crate::naming::{self, NameKey};
use crate::stats::STATS;

/// Limits on the segment files of one prefix.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retention {
    /// Maximum number of files to keep, the file being written included.
    pub(crate) max_files: Option<usize>,
    /// Maximum bytes to keep, the file being written included once it has grown to
    /// `max_file_size`.
    pub(crate) max_total_bytes: Option<u64>,
    /// Size at which the writer starts a new file.
    pub(crate) max_file_size: u64,
}

impl Retention {
    /// Returns whether any limit is set.
    pub(crate) fn is_enabled(&self) -> bool {
        self.max_files.is_some() || self.max_total_bytes.is_some()
    }
}

/// A segment file found in the directory.
struct Candidate {
    key: NameKey,
    name: String,
    len: u64,
}

/// Deletes the oldest segment files of `prefix` in `dir`, never `current`, until at most
/// `max_files` remain and the others take at most `max_total_bytes - max_file_size`, which
/// leaves room for `current` to grow to a full file. Counts each deletion and each failure
/// to list or delete in the stats; a file that is already gone counts as neither.
pub(crate) fn enforce(dir: &Path, prefix: &str, current: &str, limits: &Retention) {
    if !limits.is_enabled() {
        return;
    }
    let mut others = match list(dir, prefix, current) {
        Ok(others) => others,
        Err(_) => {
            STATS.delete_errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    others.sort_by(|left, right| left.key.cmp(&right.key));

    let max_others = limits
        .max_files
        .map_or(usize::MAX, |max| max.saturating_sub(1));
    let max_other_bytes = limits
        .max_total_bytes
        .map_or(u64::MAX, |max| max.saturating_sub(limits.max_file_size));
    let mut count = others.len();
    let mut bytes: u64 = others.iter().map(|candidate| candidate.len).sum();

    for oldest in &others {
        if count <= max_others && bytes <= max_other_bytes {
            break;
        }
        match std::fs::remove_file(dir.join(&oldest.name)) {
            Ok(()) => {
                STATS.files_deleted.fetch_add(1, Ordering::Relaxed);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(_) => {
                STATS.delete_errors.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        }
        count -= 1;
        bytes -= oldest.len;
    }
}

/// Lists the regular files in `dir` named like segments of `prefix`, except `current`.
fn list(dir: &Path, prefix: &str, current: &str) -> io::Result<Vec<Candidate>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name == current {
            continue;
        }
        let Some(key) = naming::parse(prefix, &name) else {
            continue;
        };
        // `DirEntry::metadata` does not follow symbolic links, so a link named like a
        // segment is left alone.
        let metadata = match entry.metadata() {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        if metadata.is_file() {
            found.push(Candidate {
                key,
                name,
                len: metadata.len(),
            });
        }
    }
    Ok(found)
}
