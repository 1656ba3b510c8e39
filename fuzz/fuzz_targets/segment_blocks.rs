//! Block payloads with valid checksums, and damaged block headers; see
//! `ulog_fuzz::segment_from_blocks`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ulog_fuzz::check_decode(&ulog_fuzz::segment_from_blocks(data));
});
