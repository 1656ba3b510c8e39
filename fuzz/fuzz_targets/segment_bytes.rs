//! Arbitrary bytes as a segment file.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ulog_fuzz::check_decode(data);
});
