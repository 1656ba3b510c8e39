//! Ordering events by time across threads while each thread keeps its own order.
//!
//! Clocks of different cores can disagree by a little, and a clock re-sync can step back, so
//! a thread's timestamps are not always non-decreasing. Each event's timestamp is raised to at
//! least its thread's previous one as it arrives. That makes every thread's events in each
//! file a sorted run, and a thread's run in a later file starts no earlier than its run in the
//! file before. The runs are put in order of (thread index, file order), and the stream is a
//! k-way merge of them by the key (timestamp, position of the run in that order). So equal
//! timestamps of two threads come out in thread index order, and one thread's events never
//! swap. Runs stay where each file's decoder left them: joining files copies no events.
//!
//! The merge needs no global sort and can be cut into chunks by timestamp. Every chunk merges
//! on its own, and concatenating the chunks gives the whole stream. Parallel rendering relies
//! on this.

use std::cmp::Ordering;

use crate::events::Slot;

/// An event as stored in a run. The run records the thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stored {
    pub ts_ns: i64,
    /// For a record, where its argument bytes start in its site's file; for a drop marker,
    /// the number of records dropped.
    pub data: u64,
    /// Index of the call site among its file's sites (see [`Run::site_offset`]), or
    /// [`crate::events::DROP_MARKER`].
    pub site: u32,
    /// Length of a record's argument bytes, with [`PACKED`] set for the packed encoding.
    len_and_encoding: u32,
}

/// Bit of [`Stored::len_and_encoding`] set for arguments in the packed encoding of a RUN
/// entry. Argument lengths stay far below it because a block payload is at most 16 MiB.
const PACKED: u32 = 1 << 31;

impl Stored {
    /// Length of a record's argument bytes.
    pub fn len(&self) -> usize {
        (self.len_and_encoding & !PACKED) as usize
    }

    /// Returns whether a record's arguments are in the packed encoding.
    pub fn packed(&self) -> bool {
        self.len_and_encoding & PACKED != 0
    }
}

/// One thread's events from one file in the order the thread wrote them, with non-decreasing
/// timestamps.
#[derive(Debug, Default)]
pub(crate) struct Run {
    /// Index of the thread in [`crate::Decoded`]'s threads.
    pub thread: u32,
    /// Added to the site index of each record: the sites of earlier files.
    pub site_offset: u32,
    pub events: Vec<Stored>,
}

impl Run {
    fn latest(&self) -> i64 {
        self.events.last().map_or(i64::MIN, |event| event.ts_ns)
    }
}

/// Events collected in file order, one run per thread.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    /// Runs by thread index.
    runs: Vec<Run>,
}

impl Timeline {
    /// Appends an event to its thread's run, raising its timestamp to the thread's latest so
    /// far. Events of one thread must arrive in the order the thread wrote them.
    pub(crate) fn push(&mut self, slot: Slot) {
        debug_assert!(slot.len < PACKED, "argument length {} too large", slot.len);
        let run = self.run_mut(slot.thread);
        let ts_ns = slot.ts_ns.max(run.latest());
        run.events.push(Stored {
            ts_ns,
            data: slot.data,
            site: slot.site,
            len_and_encoding: slot.len | if slot.packed { PACKED } else { 0 },
        });
    }

    /// Removes the runs, by thread index.
    pub(crate) fn take_runs(&mut self) -> Vec<Run> {
        std::mem::take(&mut self.runs)
    }

    fn run_mut(&mut self, thread: u32) -> &mut Run {
        let index = thread as usize;
        if self.runs.len() <= index {
            let first = self.runs.len() as u32;
            self.runs.extend((first..=thread).map(|thread| Run {
                thread,
                ..Run::default()
            }));
        }
        &mut self.runs[index]
    }
}

impl Run {
    /// Raises the timestamps of the first events to `latest`, the thread's latest in earlier
    /// files, as [`Timeline::push`] does within a file.
    pub(crate) fn rise_to(&mut self, latest: i64) {
        // The run is sorted, so only its first events can be behind `latest`.
        for event in self.events.iter_mut() {
            if event.ts_ns >= latest {
                break;
            }
            event.ts_ns = latest;
        }
    }

    /// Timestamp of the last event, or `None` for an empty run.
    pub(crate) fn last_ts(&self) -> Option<i64> {
        self.events.last().map(|event| event.ts_ns)
    }
}

/// Every thread's sorted runs, ready to merge.
#[derive(Debug, Default)]
pub(crate) struct Ordered {
    /// Ordered by thread index, and a thread's runs by file.
    runs: Vec<Run>,
    len: usize,
}

/// A range of each run: `starts[run]..ends[run]`.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    starts: Vec<usize>,
    ends: Vec<usize>,
}

impl Chunk {
    /// Number of events in the chunk.
    pub fn len(&self) -> usize {
        self.starts
            .iter()
            .zip(&self.ends)
            .map(|(start, end)| end - start)
            .sum()
    }
}

impl Ordered {
    /// Orders `runs`, which must list each thread's runs in file order and have their
    /// timestamps raised as [`Run::rise_to`] does. Empty runs are left out.
    pub fn new(mut runs: Vec<Run>) -> Ordered {
        runs.retain(|run| !run.events.is_empty());
        runs.sort_by_key(|run| run.thread);
        let len = runs.iter().map(|run| run.events.len()).sum();
        Ordered { runs, len }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns the whole stream as one chunk.
    pub fn all(&self) -> Chunk {
        Chunk {
            starts: vec![0; self.runs.len()],
            ends: self.runs.iter().map(|run| run.events.len()).collect(),
        }
    }

    /// Merges the events of `chunk` in order.
    pub fn merge(&self, chunk: &Chunk) -> Merge<'_> {
        Merge::new(&self.runs, chunk)
    }

    /// Cuts the stream into consecutive chunks of about `target` events each. Cuts fall
    /// between timestamps, so a chunk contains more when many events share one timestamp.
    pub fn chunks(&self, target: usize) -> Vec<Chunk> {
        let target = target.max(1);
        let count = self.len.div_ceil(target).max(1);
        let mut cuts: Vec<Vec<usize>> = Vec::with_capacity(count + 1);
        cuts.push(vec![0; self.runs.len()]);
        for index in 1..count {
            let ts_ns = self.cut_time(index * target);
            let cut: Vec<usize> = self
                .runs
                .iter()
                .map(|run| run.events.partition_point(|event| event.ts_ns < ts_ns))
                .collect();
            if cut != *cuts.last().expect("the first cut is pushed above") {
                cuts.push(cut);
            }
        }
        let ends: Vec<usize> = self.runs.iter().map(|run| run.events.len()).collect();
        if ends != *cuts.last().expect("the first cut is pushed above") || cuts.len() == 1 {
            cuts.push(ends);
        }
        cuts.windows(2)
            .map(|pair| Chunk {
                starts: pair[0].clone(),
                ends: pair[1].clone(),
            })
            .collect()
    }

    /// Returns the smallest timestamp that at least `before` events precede, or the largest
    /// timestamp when fewer events exist.
    fn cut_time(&self, before: usize) -> i64 {
        let earlier = |ts_ns: i64| -> usize {
            self.runs
                .iter()
                .map(|run| run.events.partition_point(|event| event.ts_ns < ts_ns))
                .sum()
        };
        let (mut low, mut high) = (i64::MIN, i64::MAX);
        while low < high {
            let middle = ((i128::from(low) + i128::from(high)).div_euclid(2)) as i64;
            if earlier(middle) >= before {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        low
    }
}

/// Head of one run in a [`Merge`].
#[derive(Debug, Clone, Copy)]
struct Head {
    ts_ns: i64,
    /// Index of the run in [`Ordered::runs`].
    run: u32,
    position: usize,
    end: usize,
}

impl Head {
    fn key(&self) -> (i64, u32) {
        (self.ts_ns, self.run)
    }
}

/// A k-way merge of runs by (timestamp, run index), through a binary min-heap of the run
/// heads.
#[derive(Debug, Clone)]
pub(crate) struct Merge<'a> {
    runs: &'a [Run],
    heap: Vec<Head>,
    remaining: usize,
}

impl<'a> Merge<'a> {
    fn new(runs: &'a [Run], chunk: &Chunk) -> Merge<'a> {
        let mut heap: Vec<Head> = Vec::with_capacity(runs.len());
        for (index, run) in runs.iter().enumerate() {
            let (start, end) = (chunk.starts[index], chunk.ends[index]);
            if start < end {
                heap.push(Head {
                    ts_ns: run.events[start].ts_ns,
                    run: index as u32,
                    position: start,
                    end,
                });
            }
        }
        let mut merge = Merge {
            runs,
            heap,
            remaining: chunk.len(),
        };
        for index in (0..merge.heap.len() / 2).rev() {
            merge.sift_down(index);
        }
        merge
    }

    fn sift_down(&mut self, mut index: usize) {
        let heap = &mut self.heap;
        loop {
            let left = 2 * index + 1;
            if left >= heap.len() {
                return;
            }
            let right = left + 1;
            let smaller = if right < heap.len()
                && heap[right].key().cmp(&heap[left].key()) == Ordering::Less
            {
                right
            } else {
                left
            };
            if heap[smaller].key() >= heap[index].key() {
                return;
            }
            heap.swap(index, smaller);
            index = smaller;
        }
    }
}

impl<'a> Iterator for Merge<'a> {
    /// The event's run and the event.
    type Item = (&'a Run, &'a Stored);

    fn next(&mut self) -> Option<Self::Item> {
        let head = self.heap.first_mut()?;
        let run = &self.runs[head.run as usize];
        let events = &run.events;
        let event = &events[head.position];
        head.position += 1;
        if head.position < head.end {
            head.ts_ns = events[head.position].ts_ns;
        } else {
            let last = self.heap.pop().expect("the heap has a head");
            if let Some(first) = self.heap.first_mut() {
                *first = last;
            }
        }
        self.sift_down(0);
        self.remaining -= 1;
        Some((run, event))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Merge<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(ts_ns: i64, thread: u32, data: u64) -> Slot {
        Slot {
            packed: false,
            ts_ns,
            data,
            site: 0,
            thread,
            len: 0,
        }
    }

    fn timeline(slots: &[Slot]) -> Ordered {
        let mut timeline = Timeline::default();
        for &slot in slots {
            timeline.push(slot);
        }
        Ordered::new(timeline.take_runs())
    }

    fn merged(ordered: &Ordered, chunk: &Chunk) -> Vec<(u32, u64)> {
        ordered
            .merge(chunk)
            .map(|(run, event)| (run.thread, event.data))
            .collect()
    }

    fn ordered(slots: &[Slot]) -> Vec<(u32, u64)> {
        let ordered = timeline(slots);
        merged(&ordered, &ordered.all())
    }

    #[test]
    fn threads_interleave_by_time() {
        let order = ordered(&[slot(10, 0, 0), slot(30, 0, 1), slot(20, 1, 0)]);
        assert_eq!(order, [(0, 0), (1, 0), (0, 1)]);
    }

    #[test]
    fn backward_step_keeps_thread_order() {
        let order = ordered(&[slot(30, 0, 0), slot(10, 0, 1), slot(20, 1, 0)]);
        assert_eq!(order, [(1, 0), (0, 0), (0, 1)]);
    }

    #[test]
    fn ties_go_by_thread_then_sequence() {
        let order = ordered(&[slot(5, 1, 0), slot(5, 0, 0), slot(5, 1, 1), slot(5, 0, 1)]);
        assert_eq!(order, [(0, 0), (0, 1), (1, 0), (1, 1)]);
    }

    #[test]
    fn later_file_run_rises_and_follows() {
        let mut first = Timeline::default();
        first.push(slot(50, 0, 0));
        first.push(slot(50, 1, 1));
        let mut second = Timeline::default();
        second.push(slot(10, 0, 2));
        second.push(slot(60, 0, 3));
        let mut runs = first.take_runs();
        let latest = runs[0].last_ts().unwrap();
        for mut run in second.take_runs() {
            run.rise_to(latest);
            runs.push(run);
        }
        let ordered = Ordered::new(runs);
        let order: Vec<(i64, u32, u64)> = ordered
            .merge(&ordered.all())
            .map(|(run, event)| (event.ts_ns, run.thread, event.data))
            .collect();
        assert_eq!(order, [(50, 0, 0), (50, 0, 2), (50, 1, 1), (60, 0, 3)]);
    }

    /// Many threads with clustered, equal and backward-stepping timestamps.
    fn busy_slots() -> Vec<Slot> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        (0..5_000)
            .map(|index| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let thread = (state % 7) as u32;
                let ts_ns = (state >> 8) as i64 % 300 - 20;
                slot(ts_ns, thread, index)
            })
            .collect()
    }

    #[test]
    fn merge_matches_stable_sort() {
        let slots = busy_slots();
        let ordered = timeline(&slots);
        let mut expected: Vec<(i64, u32, u64)> = ordered
            .runs
            .iter()
            .flat_map(|run| {
                run.events
                    .iter()
                    .map(move |event| (event.ts_ns, run.thread, event.data))
            })
            .collect();
        expected.sort_by_key(|&(ts_ns, thread, _)| (ts_ns, thread));
        let expected: Vec<(u32, u64)> = expected
            .into_iter()
            .map(|(_, thread, data)| (thread, data))
            .collect();
        assert_eq!(merged(&ordered, &ordered.all()), expected);
    }

    #[test]
    fn chunks_concatenate_to_the_whole_merge() {
        let ordered = timeline(&busy_slots());
        let whole = merged(&ordered, &ordered.all());
        for target in [1, 7, 100, 4_999, 5_000, 1 << 20] {
            let chunks = ordered.chunks(target);
            let joined: Vec<(u32, u64)> = chunks
                .iter()
                .flat_map(|chunk| merged(&ordered, chunk))
                .collect();
            assert_eq!(joined, whole, "target {target}");
            let sizes: usize = chunks.iter().map(Chunk::len).sum();
            assert_eq!(sizes, ordered.len(), "target {target}");
        }
    }

    #[test]
    fn chunks_of_an_empty_stream() {
        let ordered = timeline(&[]);
        let chunks = ordered.chunks(10);
        assert_eq!(chunks.len(), 1);
        assert_eq!(ordered.merge(&chunks[0]).count(), 0);
    }

    #[test]
    fn extreme_timestamps_cut_and_merge() {
        let ordered = timeline(&[
            slot(i64::MAX, 0, 0),
            slot(i64::MIN, 1, 0),
            slot(i64::MAX, 1, 1),
            slot(i64::MIN, 2, 0),
        ]);
        let whole = merged(&ordered, &ordered.all());
        assert_eq!(whole, [(1, 0), (2, 0), (0, 0), (1, 1)]);
        let joined: Vec<(u32, u64)> = ordered
            .chunks(1)
            .iter()
            .flat_map(|chunk| merged(&ordered, chunk))
            .collect();
        assert_eq!(joined, whole);
    }
}
