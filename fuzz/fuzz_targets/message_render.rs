//! Format strings and packed arguments of one call site; see
//! `ulog_fuzz::segment_from_message`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(segment) = ulog_fuzz::segment_from_message(data) {
        ulog_fuzz::check_decode(&segment);
    }
});
