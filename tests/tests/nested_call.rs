//! An `Arg` whose `encode` logs: the inner call must not write into the bytes the outer call
//! is writing. It is counted as unregistered, and the outer record arrives intact.

use ulog::__private::{ArgKind, RecordWriter};
use ulog::{ulog, Arg};
use ulog_tests::{messages, TestLogger};

/// A `u32` that logs a record of its own while it is encoded.
struct Noisy(u32);

impl Arg for Noisy {
    const KIND: ArgKind = ArgKind::U32;

    fn encoded_len(&self) -> usize {
        4
    }

    fn encode(&self, out: &mut RecordWriter<'_>) {
        ulog!(Info, "inner <>", 7u64);
        self.0.encode(out);
    }
}

#[test]
fn log_call_inside_encode_is_refused() {
    let mut logger = TestLogger::start(|config| config);
    let before = ulog::stats();

    ulog!(Info, "outer <> then <>", Noisy(41), 42u64);
    ulog!(Info, "after <>", 43u64);

    ulog::flush();
    let after = ulog::stats();
    assert_eq!(after.records_unregistered - before.records_unregistered, 1);
    assert_eq!(after.records_dropped, before.records_dropped);

    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    assert_eq!(messages(&decoded), ["outer 41 then 42", "after 43"]);
}
