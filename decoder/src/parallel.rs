//! Work spread over scoped threads, with results kept in input order.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;

/// Applies `work` to every item on up to `jobs` threads and returns the results in item order.
///
/// # Panics
///
/// Panics with the worker's panic if `work` panics.
pub(crate) fn map<T: Sync, R: Send>(
    items: &[T],
    jobs: NonZeroUsize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let jobs = jobs.get().min(items.len());
    if jobs <= 1 {
        return items.iter().map(work).collect();
    }

    let next = AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            return done;
                        };
                        done.push((index, work(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Chunks rendered ahead of the writer per job, which bounds the memory held in buffers.
const AHEAD_PER_JOB: usize = 4;

/// State shared by the renderers and the writer of [`render_in_order`].
struct Shared {
    state: Mutex<State>,
    /// Signalled when a chunk is ready, a chunk is written, or the run stops.
    changed: Condvar,
}

struct State {
    /// Chunks written so far; chunk `written` is the next to write.
    written: usize,
    /// Rendered chunks waiting for the writer, by chunk index.
    ready: BTreeMap<usize, Vec<u8>>,
    /// Written buffers, cleared, for renderers to reuse.
    spare: Vec<Vec<u8>>,
    /// Set when the writer failed or a renderer panicked: everyone stops.
    stopped: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }
}

/// Stops the run when a renderer unwinds, so that the writer does not wait for its chunk.
struct StopOnPanic<'a>(&'a Shared);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if thread::panicking() {
            self.0.stop();
        }
    }
}

/// Renders every chunk with `render` on `jobs` threads and writes the output to `out` in chunk
/// order, so the bytes written are those of rendering the chunks one after another.
///
/// `render` appends a chunk's output to the empty buffer it is given.
///
/// # Errors
///
/// Fails with the first error of `out`; rendering then stops.
///
/// # Panics
///
/// Panics with the renderer's panic if `render` panics.
pub(crate) fn render_in_order<C: Sync>(
    chunks: &[C],
    jobs: NonZeroUsize,
    render: impl Fn(&C, &mut Vec<u8>) + Sync,
    out: &mut dyn Write,
) -> io::Result<()> {
    let jobs = jobs.get().min(chunks.len());
    if jobs <= 1 {
        let mut buffer = Vec::new();
        for chunk in chunks {
            buffer.clear();
            render(chunk, &mut buffer);
            out.write_all(&buffer)?;
        }
        return Ok(());
    }

    let shared = Shared {
        state: Mutex::new(State {
            written: 0,
            ready: BTreeMap::new(),
            spare: Vec::new(),
            stopped: false,
        }),
        changed: Condvar::new(),
    };
    let next = AtomicUsize::new(0);
    let ahead = jobs * AHEAD_PER_JOB;

    thread::scope(|scope| {
        let renderers: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| {
                    let _stop_on_panic = StopOnPanic(&shared);
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(chunk) = chunks.get(index) else {
                            return;
                        };
                        let mut buffer = {
                            let mut state = shared.lock();
                            while !state.stopped && index >= state.written + ahead {
                                state = shared.wait(state);
                            }
                            if state.stopped {
                                return;
                            }
                            state.spare.pop().unwrap_or_default()
                        };
                        render(chunk, &mut buffer);
                        shared.lock().ready.insert(index, buffer);
                        shared.changed.notify_all();
                    }
                })
            })
            .collect();

        let result = write_ready(&shared, chunks.len(), out);
        if result.is_err() {
            shared.stop();
        }
        for renderer in renderers {
            if let Err(panic) = renderer.join() {
                std::panic::resume_unwind(panic);
            }
        }
        result
    })
}

/// Writes the chunks in order as the renderers finish them. Returns early without error
/// when a renderer panicked; the scope then raises the panic.
fn write_ready(shared: &Shared, chunks: usize, out: &mut dyn Write) -> io::Result<()> {
    for index in 0..chunks {
        let buffer = {
            let mut state = shared.lock();
            loop {
                if let Some(buffer) = state.ready.remove(&index) {
                    break buffer;
                }
                if state.stopped {
                    return Ok(());
                }
                state = shared.wait(state);
            }
        };
        out.write_all(&buffer)?;

        let mut buffer = buffer;
        buffer.clear();
        let mut state = shared.lock();
        state.written = index + 1;
        state.spare.push(buffer);
        drop(state);
        shared.changed.notify_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(count: usize) -> NonZeroUsize {
        NonZeroUsize::new(count).unwrap()
    }

    #[test]
    fn map_keeps_item_order() {
        let items: Vec<u32> = (0..100).collect();
        for count in [1, 2, 3, 200] {
            let squares = map(&items, jobs(count), |item| item * item);
            let expected: Vec<u32> = items.iter().map(|item| item * item).collect();
            assert_eq!(squares, expected, "{count} jobs");
        }
    }

    #[test]
    fn chunks_are_written_in_order() {
        let chunks: Vec<usize> = (0..257).collect();
        let expected: Vec<u8> = chunks
            .iter()
            .flat_map(|&chunk| vec![chunk as u8; chunk % 5])
            .collect();
        for count in [1, 2, 4] {
            let mut out = Vec::new();
            render_in_order(
                &chunks,
                jobs(count),
                |&chunk, buffer| buffer.extend(std::iter::repeat_n(chunk as u8, chunk % 5)),
                &mut out,
            )
            .unwrap();
            assert_eq!(out, expected, "{count} jobs");
        }
    }

    /// A writer that fails after `limit` bytes.
    struct Full {
        taken: usize,
        limit: usize,
    }

    impl Write for Full {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if self.taken + bytes.len() > self.limit {
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            self.taken += bytes.len();
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_error_stops_every_renderer() {
        let chunks: Vec<usize> = (0..1_000).collect();
        let mut out = Full {
            taken: 0,
            limit: 100,
        };
        let error = render_in_order(
            &chunks,
            jobs(3),
            |_, buffer| buffer.extend_from_slice(&[0; 10]),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(out.taken, 100);
    }

    #[test]
    #[should_panic(expected = "renderer failed")]
    fn renderer_panic_reaches_the_caller() {
        let chunks: Vec<usize> = (0..100).collect();
        let _ = render_in_order(
            &chunks,
            jobs(2),
            |&chunk, _| assert!(chunk != 37, "renderer failed"),
            &mut io::sink(),
        );
    }
}
