//! The decoded stream: compact event slots, and the views that the public API hands out.

use std::fmt;

use ulog_schema::packed::decode_packed_args_into;
use ulog_schema::record::{decode_args_into, ArgValue};
use ulog_schema::{ArgKind, Level};

use crate::input::Source;
use crate::message::{render_raw, Template};
use crate::order::{Chunk, Ordered, Run, Stored};

/// A call site, gathered from one file's site entry.
#[derive(Debug)]
pub(crate) struct Site {
    /// Index of the file in [`Decoded::files`], whose bytes hold its records' arguments.
    pub file: u32,
    pub level: Level,
    pub line: u32,
    pub module: Box<str>,
    pub source_file: Box<str>,
    pub format: Box<str>,
    pub kinds: Box<[ArgKind]>,
    pub names: Box<[Box<str>]>,
    /// The parsed format string, or why it cannot render.
    pub template: Result<Template, String>,
}

/// A thread of one process run.
#[derive(Debug)]
pub(crate) struct Thread {
    pub pid: u32,
    pub id: u32,
    pub name: Box<str>,
}

/// [`Slot::site`] of a drop marker.
pub(crate) const DROP_MARKER: u32 = u32::MAX;

/// One event as a file's decoder produces it. The timeline stores it without its thread, in
/// the thread's run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub ts_ns: i64,
    /// For a record, where its argument bytes start in its site's file; for a drop marker,
    /// the number of records dropped.
    pub data: u64,
    /// Index in [`Decoded::sites`], or [`DROP_MARKER`].
    pub site: u32,
    /// Index in [`Decoded::threads`].
    pub thread: u32,
    /// Length of a record's argument bytes.
    pub len: u32,
    /// Whether a record's arguments are in the packed encoding of a RUN entry rather than the
    /// fixed-size one of a RECORD entry.
    pub packed: bool,
}

/// A problem found in an input. Decoding goes on past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The file, as named on input, or `<stdin>`.
    pub path: String,
    /// Byte offset in that file where the problem is.
    pub offset: u64,
    /// Description of the problem, in lower case.
    pub message: String,
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: byte offset {}: {}",
            self.path, self.offset, self.message
        )
    }
}

/// Everything decoded from a set of inputs: the events in time order and the damage found.
#[derive(Debug)]
pub struct Decoded {
    pub(crate) files: Vec<Source>,
    pub(crate) sites: Vec<Site>,
    pub(crate) threads: Vec<Thread>,
    pub(crate) ordered: Ordered,
    pub(crate) damage: Vec<Damage>,
}

impl Decoded {
    /// Returns the events in time order. One thread's events keep the order the thread
    /// wrote them in, and events of several threads with the same timestamp come in the
    /// order their threads first appear in the inputs (process runs by start time).
    pub fn events(&self) -> impl ExactSizeIterator<Item = Event<'_>> + '_ {
        self.chunk_events(&self.ordered.all())
    }

    /// Returns the events of one chunk of [`Ordered::chunks`] in time order.
    pub(crate) fn chunk_events<'a>(
        &'a self,
        chunk: &Chunk,
    ) -> impl ExactSizeIterator<Item = Event<'a>> + 'a {
        self.ordered
            .merge(chunk)
            .map(|(run, stored)| self.event(run, stored))
    }

    /// Number of events, records and drop markers.
    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    /// Returns whether no event was decoded.
    pub fn is_empty(&self) -> bool {
        self.ordered.len() == 0
    }

    /// Problems found, in the order the files were read.
    pub fn damage(&self) -> &[Damage] {
        &self.damage
    }

    /// Returns whether every input decoded without damage.
    pub fn is_clean(&self) -> bool {
        self.damage.is_empty()
    }

    fn event<'a>(&'a self, run: &Run, stored: &Stored) -> Event<'a> {
        let thread_index = run.thread;
        let thread = &self.threads[thread_index as usize];
        if stored.site == DROP_MARKER {
            Event::Dropped(DropMarker {
                ts_ns: stored.ts_ns,
                thread,
                thread_index,
                count: stored.data,
            })
        } else {
            let site_index = stored.site + run.site_offset;
            let site = &self.sites[site_index as usize];
            let bytes = &self.files[site.file as usize].bytes;
            let start = stored.data as usize;
            Record {
                ts_ns: stored.ts_ns,
                thread,
                thread_index,
                site,
                site_index,
                arg_bytes: &bytes[start..start + stored.len()],
                packed: stored.packed(),
            }
            .into()
        }
    }
}

/// One event of the stream.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A log record.
    Record(Record<'a>),
    /// A count of records a thread dropped.
    Dropped(DropMarker<'a>),
}

impl<'a> From<Record<'a>> for Event<'a> {
    fn from(record: Record<'a>) -> Self {
        Event::Record(record)
    }
}

impl<'a> Event<'a> {
    /// Wall time in nanoseconds since the Unix epoch.
    pub fn ts_ns(&self) -> i64 {
        match self {
            Event::Record(record) => record.ts_ns,
            Event::Dropped(marker) => marker.ts_ns,
        }
    }

    /// Name of the thread the event belongs to.
    pub fn thread_name(&self) -> &'a str {
        match self {
            Event::Record(record) => record.thread_name(),
            Event::Dropped(marker) => marker.thread_name(),
        }
    }
}

/// A log record. Its arguments are decoded when asked for.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    ts_ns: i64,
    thread: &'a Thread,
    thread_index: u32,
    site: &'a Site,
    site_index: u32,
    arg_bytes: &'a [u8],
    packed: bool,
}

impl<'a> Record<'a> {
    /// Wall time in nanoseconds since the Unix epoch, never earlier than the thread's
    /// previous record. A time outside what an `i64` holds (the years 1677 to 2262), which only
    /// a damaged clock entry gives, is clamped to the nearest end.
    pub fn ts_ns(&self) -> i64 {
        self.ts_ns
    }

    /// Process id of the writer.
    pub fn pid(&self) -> u32 {
        self.thread.pid
    }

    /// Thread id, unique within one process run.
    pub fn thread_id(&self) -> u32 {
        self.thread.id
    }

    /// Thread name.
    pub fn thread_name(&self) -> &'a str {
        &self.thread.name
    }

    /// Severity.
    pub fn level(&self) -> Level {
        self.site.level
    }

    /// Module path of the call site, such as `trading::router`.
    pub fn module(&self) -> &'a str {
        &self.site.module
    }

    /// Source file of the call site.
    pub fn file(&self) -> &'a str {
        &self.site.source_file
    }

    /// Line of the call site.
    pub fn line(&self) -> u32 {
        self.site.line
    }

    /// Returns the call site's format string, in the grammar of [`ulog_schema::fmt`].
    pub fn format(&self) -> &'a str {
        &self.site.format
    }

    /// Formats the message.
    pub fn message(&self) -> String {
        let mut out = String::new();
        self.write_message(&mut out);
        out
    }

    /// Appends the formatted message to `out`.
    ///
    /// A site whose format string cannot render its arguments, which the decoder reported as
    /// damage, gives the raw format string followed by a note and the arguments.
    pub fn write_message(&self, out: &mut String) {
        let mut values = Vec::new();
        self.values_into(&mut values);
        self.write_message_with(&values, out);
    }

    /// Argument names and values, in call order.
    pub fn args(&self) -> Vec<(&'a str, ArgValue<'a>)> {
        let mut values = Vec::new();
        self.values_into(&mut values);
        self.site
            .names
            .iter()
            .map(|name| &**name)
            .zip(values)
            .collect()
    }

    pub(crate) fn arg_names(&self) -> impl Iterator<Item = &'a str> {
        self.site.names.iter().map(|name| &**name)
    }

    /// Replaces the contents of `values` with the decoded argument values. The decoder
    /// checked these bytes against the same kinds when it read the record, so an error here
    /// would be a bug, and it leaves no values rather than wrong ones.
    pub(crate) fn values_into(&self, values: &mut Vec<ArgValue<'a>>) {
        values.clear();
        let kinds = self.site.kinds.iter().copied();
        let decoded = if self.packed {
            decode_packed_args_into(kinds, self.arg_bytes, values)
        } else {
            decode_args_into(kinds, self.arg_bytes, values)
        };
        if decoded.is_err() {
            values.clear();
        }
    }

    /// Index of the thread in [`Decoded`]'s threads.
    pub(crate) fn thread_index(&self) -> u32 {
        self.thread_index
    }

    /// Index of the call site in [`Decoded`]'s sites.
    pub(crate) fn site_index(&self) -> u32 {
        self.site_index
    }

    pub(crate) fn write_message_with(&self, values: &[ArgValue<'a>], out: &mut String) {
        match &self.site.template {
            Ok(template) => template.render(values, out),
            Err(problem) => {
                let named: Vec<(&str, ArgValue<'_>)> =
                    self.arg_names().zip(values.iter().cloned()).collect();
                render_raw(out, &self.site.format, problem, &named);
            }
        }
    }
}

/// Records a thread dropped because its buffer was full, placed at the time of that thread's
/// previous record in the same file.
#[derive(Debug, Clone, Copy)]
pub struct DropMarker<'a> {
    ts_ns: i64,
    thread: &'a Thread,
    thread_index: u32,
    count: u64,
}

impl<'a> DropMarker<'a> {
    /// Wall time in nanoseconds since the Unix epoch.
    pub fn ts_ns(&self) -> i64 {
        self.ts_ns
    }

    /// Process id of the writer.
    pub fn pid(&self) -> u32 {
        self.thread.pid
    }

    /// Thread id.
    pub fn thread_id(&self) -> u32 {
        self.thread.id
    }

    /// Thread name.
    pub fn thread_name(&self) -> &'a str {
        &self.thread.name
    }

    /// Records dropped.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Index of the thread in [`Decoded`]'s threads.
    pub(crate) fn thread_index(&self) -> u32 {
        self.thread_index
    }
}
