//! Calls of `ulog!` that must compile: every argument type, spec and syntax the macro accepts.
//!
//! No test here starts the logger, so every level is off and the calls record nothing. The
//! tests check that each expansion type-checks, and that a disabled call does not evaluate its
//! arguments.

use std::borrow::Cow;
use std::cell::Cell;

use ulog::{ulog, Level};

struct Order {
    id: u64,
    px: f64,
    side: char,
}

impl Order {
    fn log_fill(&self, qty: u32) {
        ulog!(Info, "fill <> of order <> @ <:.2>", qty, self.id, self.px);
    }
}

fn log_in_plain_function(qty: u32) {
    ulog!(Debug, "plain <>", qty);
}

fn log_in_generic_function<T: ulog::Arg>(value: T) {
    ulog!(Debug, "generic <>", value);
}

#[test]
fn every_argument_type_compiles() {
    let text = String::from("text");
    let owned: Cow<'_, str> = Cow::Owned(String::from("owned"));
    let borrowed: Cow<'_, str> = Cow::Borrowed("borrowed");
    ulog!(
        Info,
        "<> <> <> <> <> <> <> <> <> <> <> <>",
        1u8,
        2u16,
        3u32,
        4u64,
        5u128,
        6usize,
        -1i8,
        -2i16,
        -3i32,
        -4i64,
        -5i128,
        -6isize,
    );
    ulog!(
        Info,
        "<> <> <> <> <> <> <> <> <>",
        1.5f32,
        2.5f64,
        true,
        'c',
        "str",
        text.clone(),
        &text,
        owned,
        borrowed,
    );
    let mut counter = 7u32;
    let counter_ref = &mut counter;
    ulog!(Info, "<> <>", counter_ref, &&text.as_str());
}

#[test]
fn every_level_and_path_compiles() {
    ulog!(Trace, "trace");
    ulog!(Debug, "debug");
    ulog!(Info, "info");
    ulog!(Warn, "warn");
    ulog!(Error, "error");
    ulog!(Level::Warn, "level path");
    ulog!(ulog::Level::Error, "crate path");
}

#[test]
fn names_fields_and_trailing_comma() {
    let order = Order {
        id: 9,
        px: 101.25,
        side: 'B',
    };
    let pair = (1u8, 2u16);
    ulog!(
        Warn,
        "order <> side <> px <> pair <> <> size <>",
        order.id,
        order.side,
        px = order.px,
        pair.0,
        pair.1,
        size = u32::from(pair.0) + 1,
    );
    order.log_fill(100);
}

#[test]
fn every_spec_type_compiles() {
    let (int, float, text) = (255u32, 1234.5f64, "text");
    ulog!(
        Info,
        "<> <:?> <:x> <:X> <:o> <:b> <:e> <:E>",
        int,
        text,
        int,
        int,
        int,
        int,
        float,
        float,
    );
    ulog!(
        Info,
        "<:e> <:E> <:#x> <:#010b> <:>8.2> <:*^9> <:+.1e> <:-<5> <:#?> <:.3>",
        int,
        -7i64,
        int,
        int,
        float,
        text,
        float,
        'c',
        text,
        text,
    );
}

#[test]
fn escapes_and_literal_angles_compile() {
    let limit = 5u32;
    ulog!(Info, "<<tag>> px < limit <= <> and <<<>", limit, 1u8);
}

#[test]
fn calls_in_functions_compile() {
    log_in_plain_function(1);
    log_in_generic_function(2u64);
    log_in_generic_function("generic");
    let closure = |qty: i32| ulog!(Error, "closure <>", qty);
    closure(-3);
}

#[test]
#[rustfmt::skip]
fn two_calls_on_one_line() {
    let qty = 3u16;
    ulog!(Info, "first <>", qty); ulog!(Info, "second <>", qty);
}

fn log_by_size(qty: u32) {
    if qty > 100 {
        ulog!(Warn, "large <>", qty)
    } else {
        ulog!(Info, "small <>", qty)
    }
}

#[test]
fn call_works_as_an_expression() {
    log_by_size(3);
    log_by_size(300);
    match 1u8 {
        0 => ulog!(Debug, "zero"),
        other => ulog!(Debug, "other <>", other),
    }
}

#[test]
fn disabled_call_skips_its_arguments() {
    let evaluated = Cell::new(false);
    let expensive = || {
        evaluated.set(true);
        1u64
    };
    ulog!(Error, "value <>", expensive());
    assert!(!evaluated.get());
}

#[test]
fn temporaries_live_through_the_call() {
    ulog!(
        Info,
        "<> <>",
        String::from("temporary").as_str(),
        vec![1u8, 2].len()
    );
}
