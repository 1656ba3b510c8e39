//! Static metadata of a call site, built at compile time by `ulog!`.

use ulog_schema::{ArgKind, Level};

/// Everything about one `ulog!` call that does not change between calls.
///
/// The macro places one `Site` per call site in read-only memory, and its address is the call
/// site's id on the hot path: a record in a ring starts with that address, and the backend
/// reads the metadata through it. Two sites with equal contents may share an address, which
/// is harmless because they describe the same call.
#[derive(Debug)]
pub struct Site {
    /// Severity.
    pub level: Level,
    /// `module_path!()` of the call.
    pub module: &'static str,
    /// `file!()` of the call.
    pub file: &'static str,
    /// `line!()` of the call.
    pub line: u32,
    /// `column!()` of the call.
    pub column: u32,
    /// The format string as written.
    pub format: &'static str,
    /// Kind and name of each argument, in order.
    pub args: &'static [ArgMeta],
}

/// Kind and name of one argument of a call site.
#[derive(Debug, Clone, Copy)]
pub struct ArgMeta {
    /// Encoding of the argument's bytes.
    pub kind: ArgKind,
    /// Name shown by the decoder.
    pub name: &'static str,
}
