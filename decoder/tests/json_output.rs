//! JSON lines are valid JSON with fixed keys in a fixed order and typed argument values.

mod common;

use common::{decode, Segment};
use simd_json::prelude::*;
use simd_json::OwnedValue;
use ulog_schema::record::ArgValue;
use ulog_schema::{ArgKind, Level};

fn json_lines(decoded: &ulog_decode::Decoded) -> Vec<String> {
    let mut out = Vec::new();
    ulog_decode::write_json(decoded, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn parse(line: &str) -> OwnedValue {
    let mut bytes = line.as_bytes().to_vec();
    simd_json::to_owned_value(&mut bytes).unwrap()
}

/// Keys of the top-level object and, when `nested` is given, of that nested object, in the
/// order the line has them.
fn keys(line: &str, nested: Option<&str>) -> Vec<String> {
    let mut bytes = line.as_bytes().to_vec();
    let tape = simd_json::to_tape(&mut bytes).unwrap();
    let value = tape.as_value();
    let object = match nested {
        None => value.as_object().unwrap(),
        Some(key) => value
            .as_object()
            .unwrap()
            .get(key)
            .unwrap()
            .as_object()
            .unwrap(),
    };
    object.keys().map(str::to_owned).collect()
}

/// Decodes one record whose site has an argument of each kind, with values at the edges.
fn every_kind() -> Vec<String> {
    let args: Vec<(ArgKind, &str, ArgValue<'_>)> = vec![
        (ArgKind::U8, "u8", ArgValue::U8(255)),
        (ArgKind::U16, "u16", ArgValue::U16(65535)),
        (ArgKind::U32, "u32", ArgValue::U32(u32::MAX)),
        (ArgKind::U64, "u64_small", ArgValue::U64(1 << 53)),
        (ArgKind::U64, "u64_big", ArgValue::U64(u64::MAX)),
        (ArgKind::U128, "u128", ArgValue::U128(u128::MAX)),
        (ArgKind::I8, "i8", ArgValue::I8(-128)),
        (ArgKind::I16, "i16", ArgValue::I16(-2)),
        (ArgKind::I32, "i32", ArgValue::I32(i32::MIN)),
        (ArgKind::I64, "i64_small", ArgValue::I64(-(1 << 53))),
        (ArgKind::I64, "i64_big", ArgValue::I64(-(1 << 53) - 1)),
        (ArgKind::I128, "i128", ArgValue::I128(i128::MIN)),
        (ArgKind::F32, "f32", ArgValue::F32(0.1)),
        (ArgKind::F64, "f64", ArgValue::F64(-2.5e-300)),
        (ArgKind::F64, "nan", ArgValue::F64(f64::NAN)),
        (ArgKind::F32, "inf", ArgValue::F32(f32::INFINITY)),
        (ArgKind::F64, "neg_inf", ArgValue::F64(f64::NEG_INFINITY)),
        (ArgKind::Bool, "bool", ArgValue::Bool(true)),
        (ArgKind::Char, "char", ArgValue::Char('é')),
        (
            ArgKind::Str,
            "str",
            ArgValue::Str("quote \" slash \\ nl \n ctl \u{1}".into()),
        ),
    ];
    let kinds: Vec<(ArgKind, &str)> = args.iter().map(|(kind, name, _)| (*kind, *name)).collect();
    let values: Vec<ArgValue<'_>> = args.iter().map(|(_, _, value)| value.clone()).collect();
    let mut segment = Segment::new();
    segment
        .thread(1, "worker \"1\"")
        .site(1, Level::Warn, "app::json", "say \"<>\"\t<:?>", &kinds)
        .record(1, 1, 5, &values)
        .drops(1, 3);
    json_lines(&decode(&[segment.finish()]))
}

#[test]
fn record_keys_in_order() {
    let lines = every_kind();
    let expected = [
        "ts", "ts_ns", "level", "thread", "module", "file", "line", "msg", "args",
    ];
    assert_eq!(keys(&lines[0], None), expected);
}

#[test]
fn argument_keys_in_site_order() {
    let lines = every_kind();
    let names = keys(&lines[0], Some("args"));
    assert_eq!(names.first().map(String::as_str), Some("u8"));
    assert_eq!(names.last().map(String::as_str), Some("str"));
    assert_eq!(names.len(), 20);
}

#[test]
fn record_fields_have_their_types() {
    let record = parse(&every_kind()[0]);
    assert_eq!(
        record["ts"].as_str(),
        Some("2026-12-04T19:12:39.000000005Z")
    );
    assert_eq!(record["ts_ns"].as_i64(), Some(1_796_411_559_000_000_005));
    assert_eq!(record["level"].as_str(), Some("WARN"));
    assert_eq!(record["thread"].as_str(), Some("worker \"1\""));
    assert_eq!(record["module"].as_str(), Some("app::json"));
    assert_eq!(record["file"].as_str(), Some("src/lib.rs"));
    assert_eq!(record["line"].as_u64(), Some(1));
}

#[test]
fn message_is_formatted() {
    let record = parse(&every_kind()[0]);
    let expected = "say \"255\"\t65535";
    assert_eq!(record["msg"].as_str(), Some(expected));
}

#[test]
fn small_integers_are_numbers() {
    let args = &parse(&every_kind()[0])["args"];
    assert_eq!(args["u8"].as_u64(), Some(255));
    assert_eq!(args["u32"].as_u64(), Some(u64::from(u32::MAX)));
    assert_eq!(args["u64_small"].as_u64(), Some(1 << 53));
    assert_eq!(args["i8"].as_i64(), Some(-128));
    assert_eq!(args["i64_small"].as_i64(), Some(-(1 << 53)));
}

#[test]
fn big_integers_are_strings() {
    let args = &parse(&every_kind()[0])["args"];
    assert_eq!(args["u64_big"].as_str(), Some("18446744073709551615"));
    assert_eq!(args["u128"].as_str(), Some(u128::MAX.to_string().as_str()));
    assert_eq!(args["i64_big"].as_str(), Some("-9007199254740993"));
    assert_eq!(args["i128"].as_str(), Some(i128::MIN.to_string().as_str()));
}

#[test]
fn floats_are_numbers() {
    let args = &parse(&every_kind()[0])["args"];
    assert_eq!(args["f32"].as_f64(), Some(0.1));
    assert_eq!(args["f64"].as_f64(), Some(-2.5e-300));
}

#[test]
fn non_finite_floats_are_strings() {
    let args = &parse(&every_kind()[0])["args"];
    assert_eq!(args["nan"].as_str(), Some("NaN"));
    assert_eq!(args["inf"].as_str(), Some("inf"));
    assert_eq!(args["neg_inf"].as_str(), Some("-inf"));
}

#[test]
fn text_values_are_strings() {
    let args = &parse(&every_kind()[0])["args"];
    assert_eq!(args["bool"].as_bool(), Some(true));
    assert_eq!(args["char"].as_str(), Some("é"));
    assert_eq!(
        args["str"].as_str(),
        Some("quote \" slash \\ nl \n ctl \u{1}")
    );
}

#[test]
fn drop_marker_keys_in_order() {
    let lines = every_kind();
    assert_eq!(keys(&lines[1], None), ["ts", "ts_ns", "thread", "dropped"]);
}

#[test]
fn drop_marker_counts_records() {
    let marker = parse(&every_kind()[1]);
    assert_eq!(marker["dropped"].as_u64(), Some(3));
    assert_eq!(marker["thread"].as_str(), Some("worker \"1\""));
}

#[test]
fn every_line_is_one_object() {
    let lines = every_kind();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|line| parse(line).is_object()));
}
