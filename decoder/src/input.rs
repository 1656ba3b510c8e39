//! Inputs: segment files, directories of them, and standard input.

use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ulog_schema::header::MAGIC;
use ulog_schema::FILE_EXTENSION;

/// A source of segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A segment file, or a directory whose `*.ulog` files are read in name order.
    Path(PathBuf),
    /// Standard input, read to its end.
    Stdin,
}

impl Input {
    /// Reads a command-line value: `-` is standard input, anything else a path.
    pub fn from_arg(value: impl Into<PathBuf>) -> Input {
        let path = value.into();
        if path.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::Path(path)
        }
    }
}

/// An input that cannot be read. Each message names the value and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// No inputs at all.
    #[error("no input given: pass segment files, directories of them, or `-` for standard input")]
    Empty,
    /// The path does not exist.
    #[error(
        "'{}' does not exist: pass the path of a segment file or a directory of them",
        .path.display()
    )]
    NotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// The file or directory exists and cannot be read.
    #[error("cannot read '{}': {reason}: check that it is readable", .path.display())]
    Unreadable {
        /// The path that failed.
        path: PathBuf,
        /// The operating system's error message, in lower case.
        reason: String,
    },
    /// A directory without segment files.
    #[error(
        "directory '{}' contains no .{FILE_EXTENSION} files: pass the directory the logger \
         writes to, or segment files",
        .path.display()
    )]
    NoSegments {
        /// The directory.
        path: PathBuf,
    },
    /// Standard input failed.
    #[error("cannot read standard input: {reason}: pipe a segment file into `-`")]
    Stdin {
        /// The operating system's error message, in lower case.
        reason: String,
    },
}

/// The bytes of one segment file, and the name to report it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as given or found in a directory, or `<stdin>`.
    pub name: String,
    /// Canonical path of the file, used to skip a file named twice. `None` for standard
    /// input and bytes from memory.
    pub path: Option<PathBuf>,
    /// The whole file.
    pub bytes: Vec<u8>,
}

/// Name under which standard input is reported.
pub const STDIN_NAME: &str = "<stdin>";

/// Reads every segment an input names.
///
/// # Errors
///
/// Fails when a path does not exist, a file or directory cannot be read, a directory has no
/// segment files, or standard input fails.
pub fn read_input(input: &Input) -> Result<Vec<Source>, InputError> {
    match input {
        Input::Stdin => {
            let bytes = read_segment(io::stdin().lock()).map_err(|error| InputError::Stdin {
                reason: describe(&error),
            })?;
            Ok(vec![Source {
                name: STDIN_NAME.to_owned(),
                path: None,
                bytes,
            }])
        }
        Input::Path(path) => {
            let metadata = std::fs::metadata(path).map_err(|error| path_error(path, &error))?;
            if metadata.is_dir() {
                segment_files(path)?
                    .iter()
                    .map(|file| read_file(file))
                    .collect()
            } else {
                Ok(vec![read_file(path)?])
            }
        }
    }
}

/// Lists the segment files directly inside `dir`, sorted by file name.
fn segment_files(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let entries = std::fs::read_dir(dir).map_err(|error| path_error(dir, &error))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| path_error(dir, &error))?;
        let path = entry.path();
        let is_segment = path.extension() == Some(OsStr::new(FILE_EXTENSION));
        if is_segment && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(InputError::NoSegments {
            path: dir.to_path_buf(),
        });
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

fn read_file(path: &Path) -> Result<Source, InputError> {
    let bytes = std::fs::File::open(path)
        .and_then(read_segment)
        .map_err(|error| path_error(path, &error))?;
    Ok(Source {
        name: path.display().to_string(),
        path: Some(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())),
        bytes,
    })
}

/// Reads a whole segment, but stops after the first bytes when they are not the segment
/// magic, so that `/dev/zero` or a stray pipe is rejected without reading it to the end.
fn read_segment(reader: impl Read) -> io::Result<Vec<u8>> {
    let mut reader = reader;
    let mut bytes = Vec::new();
    (&mut reader)
        .take(MAGIC.len() as u64)
        .read_to_end(&mut bytes)?;
    if bytes.as_slice() == MAGIC {
        reader.read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

fn path_error(path: &Path, error: &io::Error) -> InputError {
    if error.kind() == io::ErrorKind::NotFound {
        InputError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        InputError::Unreadable {
            path: path.to_path_buf(),
            reason: describe(error),
        }
    }
}

/// Formats an I/O error as a lower-case phrase without the OS error number.
pub(crate) fn describe(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match text.find(" (os error") {
        Some(end) => &text[..end],
        None => &text,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_means_stdin() {
        assert_eq!(Input::from_arg("-"), Input::Stdin);
    }

    #[test]
    fn missing_path_names_the_path() {
        let error = read_input(&Input::from_arg("/no/such/dir/x.ulog")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("'/no/such/dir/x.ulog' does not exist"));
    }

    #[test]
    fn directory_lists_segments_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.ulog", "a.ulog", "c.ulog.tmp", "notes.txt"] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        let sources = read_input(&Input::Path(dir.path().to_path_buf())).unwrap();
        let names: Vec<&[u8]> = sources.iter().map(|s| s.bytes.as_slice()).collect();
        assert_eq!(names, [&b"a.ulog"[..], &b"b.ulog"[..]]);
    }

    #[test]
    fn directory_without_segments_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = read_input(&Input::Path(dir.path().to_path_buf())).unwrap_err();
        assert!(matches!(error, InputError::NoSegments { .. }));
    }

    #[test]
    fn io_errors_read_in_lower_case() {
        let error = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(describe(&error), "permission denied");
    }
}
