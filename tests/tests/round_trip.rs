//! Every argument kind and every spec, logged through `ulog!`, written by the backend and
//! decoded, renders exactly as Rust's `format!` renders the same value and spec.

use std::borrow::Cow;

use ulog::ulog;
use ulog_tests::{messages, TestLogger};

/// Logs `value` once per spec pair and records what `format!` gives for the same spec.
macro_rules! log_specs {
    ($expected:ident, $value:expr, [$(($ulog_spec:literal, $rust_spec:literal)),* $(,)?]) => {$(
        ulog!(Info, $ulog_spec, $value);
        $expected.push(format!($rust_spec, $value));
    )*};
}

macro_rules! integer_specs {
    ($expected:ident, $value:expr) => {
        log_specs!(
            $expected,
            $value,
            [
                ("<>", "{}"),
                ("<:?>", "{:?}"),
                ("<:>12>", "{:>12}"),
                ("<:<12>", "{:<12}"),
                ("<:^12>", "{:^12}"),
                ("<:*^13>", "{:*^13}"),
                ("<:é>9>", "{:é>9}"),
                ("<:>>9>", "{:>>9}"),
                ("<:+>", "{:+}"),
                ("<:012>", "{:012}"),
                ("<:+012>", "{:+012}"),
                ("<:x>", "{:x}"),
                ("<:#x>", "{:#x}"),
                ("<:#012x>", "{:#012x}"),
                ("<:X>", "{:X}"),
                ("<:#X>", "{:#X}"),
                ("<:o>", "{:o}"),
                ("<:#o>", "{:#o}"),
                ("<:b>", "{:b}"),
                ("<:#b>", "{:#b}"),
                ("<:->20b>", "{:->20b}"),
                ("<:e>", "{:e}"),
                ("<:E>", "{:E}"),
                ("<:.2e>", "{:.2e}"),
                ("<:+12.3E>", "{:+12.3E}"),
                ("<:.3>", "{:.3}"),
                ("<:#?>", "{:#?}"),
            ]
        );
    };
}

macro_rules! float_specs {
    ($expected:ident, $value:expr) => {
        log_specs!(
            $expected,
            $value,
            [
                ("<>", "{}"),
                ("<:?>", "{:?}"),
                ("<:.0>", "{:.0}"),
                ("<:.2>", "{:.2}"),
                ("<:.9>", "{:.9}"),
                ("<:12.3>", "{:12.3}"),
                ("<:<12.3>", "{:<12.3}"),
                ("<:^+12.1>", "{:^+12.1}"),
                ("<:*>14.4>", "{:*>14.4}"),
                ("<:010.2>", "{:010.2}"),
                ("<:+010.2>", "{:+010.2}"),
                ("<:+>", "{:+}"),
                ("<:e>", "{:e}"),
                ("<:E>", "{:E}"),
                ("<:.3e>", "{:.3e}"),
                ("<:+015.2E>", "{:+015.2E}"),
                ("<:.1?>", "{:.1?}"),
                ("<:12?>", "{:12?}"),
                ("<:#?>", "{:#?}"),
            ]
        );
    };
}

macro_rules! text_specs {
    ($expected:ident, $value:expr) => {
        log_specs!(
            $expected,
            $value,
            [
                ("<>", "{}"),
                ("<:?>", "{:?}"),
                ("<:>10>", "{:>10}"),
                ("<:<10>", "{:<10}"),
                ("<:^10>", "{:^10}"),
                ("<:*^11>", "{:*^11}"),
                ("<:.2>", "{:.2}"),
                ("<:>8.1>", "{:>8.1}"),
                ("<:010>", "{:010}"),
                ("<:>10?>", "{:>10?}"),
                ("<:#?>", "{:#?}"),
            ]
        );
    };
}

#[test]
fn every_kind_and_spec_matches_format() {
    let mut logger = TestLogger::start(|config| config.ring_capacity(16 << 20));
    let mut expected = Vec::new();

    integer_specs!(expected, 0u8);
    integer_specs!(expected, u8::MAX);
    integer_specs!(expected, 4_660u16);
    integer_specs!(expected, u32::MAX);
    integer_specs!(expected, 1_234_567_890_123u64);
    integer_specs!(expected, u64::MAX);
    integer_specs!(expected, usize::MAX);
    integer_specs!(expected, u128::MAX);
    integer_specs!(expected, i8::MIN);
    integer_specs!(expected, -300i16);
    integer_specs!(expected, i32::MIN);
    integer_specs!(expected, -42i64);
    integer_specs!(expected, isize::MAX);
    integer_specs!(expected, i128::MIN);
    integer_specs!(expected, 7i128);

    float_specs!(expected, 0.1f64);
    float_specs!(expected, -2.5f64);
    float_specs!(expected, 101.255f64);
    float_specs!(expected, 1e20f64);
    float_specs!(expected, 1.5e-7f64);
    float_specs!(expected, -0.0f64);
    float_specs!(expected, f64::NAN);
    float_specs!(expected, f64::NEG_INFINITY);
    float_specs!(expected, f64::MAX);
    float_specs!(expected, 2.25f32);
    float_specs!(expected, -1e-40f32);
    float_specs!(expected, f32::INFINITY);

    text_specs!(expected, true);
    text_specs!(expected, false);
    text_specs!(expected, 'x');
    text_specs!(expected, 'é');
    text_specs!(expected, '\n');
    text_specs!(expected, "fill");
    text_specs!(expected, "");
    text_specs!(expected, "naïve \"quoted\"\ttab\u{1F600}");
    text_specs!(expected, String::from("owned"));
    text_specs!(expected, Cow::<str>::Borrowed("cow"));

    let (qty, px, venue) = (100u64, 101.25f64, "XNAS");
    ulog!(Info, "fill <> @ <:.2> on <> <<> <<< a < b", qty, px, venue);
    expected.push(format!("fill {qty} @ {px:.2} on {venue} <> << a < b"));

    let decoded = logger.finish();
    assert!(decoded.is_clean(), "{:?}", decoded.damage());
    let decoded = messages(&decoded);
    assert_eq!(decoded.len(), expected.len());
    for (index, (got, want)) in decoded.iter().zip(&expected).enumerate() {
        assert_eq!(got, want, "record {index}");
    }
}
