//! The text output: one line per event.

use std::io::{self, Write};
use std::num::NonZeroUsize;

use ulog_schema::record::ArgValue;

use crate::events::{Decoded, DropMarker, Event, Record};
use crate::parallel;
use crate::time::TimeFormatter;

/// Bytes collected before they are handed to the writer.
const FLUSH_AT: usize = 64 * 1024;

/// Events per chunk when several threads render.
pub(crate) const CHUNK_EVENTS: usize = 16 * 1024;

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
pub fn write_text(decoded: &Decoded, out: impl Write) -> io::Result<()> {
    write_text_parallel(decoded, out, NonZeroUsize::MIN)
}

/// Writes what [`write_text`] writes, rendering on up to `jobs` threads. The bytes written
/// are the same for every `jobs`.
///
/// # Errors
///
/// Fails as [`write_text`] does.
pub fn write_text_parallel(
    decoded: &Decoded,
    mut out: impl Write,
    jobs: NonZeroUsize,
) -> io::Result<()> {
    if jobs.get() == 1 || decoded.len() <= CHUNK_EVENTS {
        let mut renderer = TextRenderer::default();
        let mut text = String::with_capacity(FLUSH_AT + 1024);
        for event in decoded.events() {
            renderer.event(&mut text, &event);
            if text.len() >= FLUSH_AT {
                out.write_all(text.as_bytes())?;
                text.clear();
            }
        }
        out.write_all(text.as_bytes())?;
        return out.flush();
    }

    let chunks = decoded.ordered.chunks(CHUNK_EVENTS);
    parallel::render_in_order(
        &chunks,
        jobs,
        |chunk, buffer| {
            let mut renderer = TextRenderer::default();
            let mut text =
                String::from_utf8(std::mem::take(buffer)).expect("an empty buffer is valid UTF-8");
            for event in decoded.chunk_events(chunk) {
                renderer.event(&mut text, &event);
            }
            *buffer = text.into_bytes();
        },
        &mut out,
    )?;
    out.flush()
}

/// Appends one event as a line of text, newline included, in the layout of [`write_text`].
pub fn write_text_line(out: &mut String, event: &Event<'_>) {
    TextRenderer::default().event(out, event);
}

/// Renders events as text lines, keeping its scratch space from one event to the next.
#[derive(Default)]
pub(crate) struct TextRenderer<'a> {
    time: TimeFormatter,
    values: Vec<ArgValue<'a>>,
}

impl<'a> TextRenderer<'a> {
    pub(crate) fn event(&mut self, out: &mut String, event: &Event<'a>) {
        match event {
            Event::Record(record) => self.record(out, record),
            Event::Dropped(marker) => self.drop_marker(out, marker),
        }
    }

    fn record(&mut self, out: &mut String, record: &Record<'a>) {
        self.time.push(out, record.ts_ns());
        out.push(' ');
        out.push_str(padded_level(record.level()));
        out.push_str(record.thread_name());
        out.push(' ');
        out.push_str(record.module());
        out.push_str(": ");
        record.values_into(&mut self.values);
        record.write_message_with(&self.values, out);
        out.push('\n');
    }

    fn drop_marker(&mut self, out: &mut String, marker: &DropMarker<'_>) {
        self.time.push(out, marker.ts_ns());
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
}

/// Returns the level name padded to five characters, and the space after it.
fn padded_level(level: ulog_schema::Level) -> &'static str {
    use ulog_schema::Level;
    match level {
        Level::Trace => "TRACE ",
        Level::Debug => "DEBUG ",
        Level::Info => "INFO  ",
        Level::Warn => "WARN  ",
        Level::Error => "ERROR ",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ulog_schema::Level;

    #[test]
    fn padded_levels_match_the_names() {
        for level in [
            Level::Trace,
            Level::Debug,
            Level::Info,
            Level::Warn,
            Level::Error,
        ] {
            assert_eq!(padded_level(level), format!("{:<6}", level.as_str()));
        }
    }
}
