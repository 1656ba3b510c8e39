//! The text output: one line per event.

use std::io::{self, Write};

use crate::events::{Decoded, DropMarker, Event, Record};
use crate::time::write_rfc3339;

/// Bytes collected before they are handed to the writer.
const FLUSH_AT: usize = 64 * 1024;

/// Writes every event as a line of text:
///
/// ```text
/// 2026-12-04T19:12:39.123456789Z INFO  order-router trading::router: fill 100 @ 101.25
/// 2026-12-04T19:12:39.123456789Z WARN  order-router ulog: 1234 records dropped on thread order-router: its buffer was full
/// ```
///
/// The time is RFC 3339 in UTC with nine fractional digits, then the level padded to five
/// characters, the thread name, the module path and the message.
///
/// # Errors
///
/// Fails when `out` does; a closed pipe gives [`io::ErrorKind::BrokenPipe`].
pub fn write_text(decoded: &Decoded, mut out: impl Write) -> io::Result<()> {
    let mut line = String::with_capacity(FLUSH_AT + 1024);
    for event in decoded.events() {
        write_text_line(&mut line, &event);
        if line.len() >= FLUSH_AT {
            out.write_all(line.as_bytes())?;
            line.clear();
        }
    }
    out.write_all(line.as_bytes())?;
    out.flush()
}

/// Appends one event as a line of text, newline included, in the layout of [`write_text`].
pub fn write_text_line(out: &mut String, event: &Event<'_>) {
    match event {
        Event::Record(record) => push_record(out, record),
        Event::Dropped(marker) => push_drop_marker(out, marker),
    }
}

fn push_record(out: &mut String, record: &Record<'_>) {
    write_rfc3339(out, record.ts_ns());
    out.push(' ');
    let level = record.level().as_str();
    out.push_str(level);
    out.extend(std::iter::repeat_n(' ', 6 - level.len()));
    out.push_str(record.thread_name());
    out.push(' ');
    out.push_str(record.module());
    out.push_str(": ");
    record.write_message(out);
    out.push('\n');
}

fn push_drop_marker(out: &mut String, marker: &DropMarker<'_>) {
    write_rfc3339(out, marker.ts_ns());
    out.push_str(" WARN  ");
    out.push_str(marker.thread_name());
    out.push_str(" ulog: ");
    out.push_str(itoa::Buffer::new().format(marker.count()));
    out.push_str(if marker.count() == 1 {
        " record dropped on thread "
    } else {
        " records dropped on thread "
    });
    out.push_str(marker.thread_name());
    out.push_str(": its buffer was full\n");
}
