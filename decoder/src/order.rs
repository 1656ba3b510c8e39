//! Ordering events by time across threads while each thread keeps its own order.
//!
//! Clocks of different cores can disagree by a little, and a clock re-sync can step back, so
//! a thread's timestamps are not always non-decreasing. Raising each one to at least the
//! thread's previous timestamp, then sorting stably by time, orders the stream by time
//! without ever swapping two events of one thread.

use crate::events::Slot;

/// Events collected in file order, ready to be put in time order.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    slots: Vec<Slot>,
    /// Latest timestamp of each thread, by thread index.
    latest: Vec<i64>,
}

impl Timeline {
    /// Appends an event, raising its timestamp to its thread's latest so far. Events of one
    /// thread must arrive in the order the thread wrote them.
    pub(crate) fn push(&mut self, mut slot: Slot) {
        let thread = slot.thread as usize;
        if self.latest.len() <= thread {
            self.latest.resize(thread + 1, i64::MIN);
        }
        let latest = &mut self.latest[thread];
        slot.ts_ns = slot.ts_ns.max(*latest);
        *latest = slot.ts_ns;
        self.slots.push(slot);
    }

    /// Sorts the events by time, keeping arrival order for ties and within each thread.
    ///
    /// Everything is loaded before sorting, which a one-shot decode can afford.
    // TODO: follow mode (printing while files grow) will need a bounded merge window instead.
    // It would hold back events newer than the oldest thread's latest timestamp and emit the
    // rest in order.
    pub(crate) fn into_ordered(mut self) -> Vec<Slot> {
        self.slots.sort_by_key(|slot| slot.ts_ns);
        self.slots
    }
}

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

    fn ordered(slots: &[Slot]) -> Vec<(u32, u64)> {
        let mut timeline = Timeline::default();
        for &slot in slots {
            timeline.push(slot);
        }
        timeline
            .into_ordered()
            .iter()
            .map(|slot| (slot.thread, slot.data))
            .collect()
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
    fn ties_keep_arrival_order() {
        let order = ordered(&[slot(5, 1, 0), slot(5, 0, 0), slot(5, 1, 1)]);
        assert_eq!(order, [(1, 0), (0, 0), (1, 1)]);
    }
}
