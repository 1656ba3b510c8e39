//! The renderer against `format!` as the oracle: for every argument kind, every spec
//! combination valid for it, and random values, both must give the same text.
//!
//! `format!` needs its spec as a literal, so a macro expands the product of fill and
//! alignment, flags and types into literal specs, each with a runtime width `w$` and, in a
//! second variant, a runtime precision `p$`. The same spec is then written in ulog's syntax
//! (`{:*^+#w$.p$e}` becomes `<:*^+#10.3e>`), parsed with `ulog_schema::fmt::parse` and
//! rendered by `ulog_decode::render_value`.

use std::fmt::{Binary, Debug, Display, LowerExp, LowerHex, Octal, UpperExp, UpperHex};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use ulog_decode::{render_value, ArgValue};
use ulog_schema::fmt::{parse, Piece};

trait IntArg: Display + Debug + LowerHex + UpperHex + Octal + Binary + LowerExp + UpperExp {}
impl<T: Display + Debug + LowerHex + UpperHex + Octal + Binary + LowerExp + UpperExp> IntArg for T {}

trait FloatArg: Display + Debug + LowerExp + UpperExp {}
impl<T: Display + Debug + LowerExp + UpperExp> FloatArg for T {}

trait TextArg: Display + Debug {}
impl<T: Display + Debug + ?Sized> TextArg for T {}

type Int<'a> = dyn IntArg + 'a;
type Float<'a> = dyn FloatArg + 'a;
type Text<'a> = dyn TextArg + 'a;

/// `format!` with one literal spec, applied as `oracle(value, width, precision)`.
type IntOracle = fn(&Int, usize, usize) -> String;
type FloatOracle = fn(&Float, usize, usize) -> String;
type TextOracle = fn(&Text, usize, usize) -> String;

/// One literal spec and its oracle.
struct Case<F> {
    spec: &'static str,
    oracle: F,
}

/// Expands `[fill and align] x [flags] x [types]` into cases, with and without precision.
macro_rules! cases {
    ($arg:ty; [$($fill_align:literal)*]; $flags:tt; $types:tt) => {{
        let mut all: Vec<Case<fn(&$arg, usize, usize) -> String>> = Vec::new();
        $( cases!(@flags all; $arg; $fill_align; $flags; $types); )*
        all
    }};
    (@flags $all:ident; $arg:ty; $fill_align:literal; [$($flag:literal)*]; $types:tt) => {
        $( cases!(@types $all; $arg; $fill_align; $flag; $types); )*
    };
    (@types $all:ident; $arg:ty; $fill_align:literal; $flag:literal; [$($ty:literal)*]) => {
        $(
            $all.push(Case {
                spec: concat!("{:", $fill_align, $flag, "w$", $ty, "}"),
                oracle: |value: &$arg, w, _| {
                    format!(concat!("{:", $fill_align, $flag, "w$", $ty, "}"), value, w = w)
                },
            });
            $all.push(Case {
                spec: concat!("{:", $fill_align, $flag, "w$.p$", $ty, "}"),
                oracle: |value: &$arg, w, p| {
                    format!(concat!("{:", $fill_align, $flag, "w$.p$", $ty, "}"), value, w = w, p = p)
                },
            });
        )*
    };
}

macro_rules! all_cases {
    ($arg:ty; $types:tt) => {
        cases!(
            $arg;
            ["" "<" "^" ">" " <" " ^" " >" "*<" "*^" "*>" "é<" "é^" "é>" "><" ">^" ">>"];
            ["" "0" "#" "#0" "+" "+0" "+#" "+#0" "-" "-0" "-#" "-#0"];
            $types
        )
    };
}

fn int_cases() -> Vec<Case<IntOracle>> {
    all_cases!(Int; ["" "?" "x" "X" "o" "b" "e" "E"])
}

fn float_cases() -> Vec<Case<FloatOracle>> {
    all_cases!(Float; ["" "?" "e" "E"])
}

fn text_cases() -> Vec<Case<TextOracle>> {
    all_cases!(Text; ["" "?"])
}

/// Writes a literal Rust spec in ulog's syntax, with the runtime width and precision filled
/// in. A width of 0 is left out, which means the same in both.
fn ulog_spec(rust_spec: &str, width: usize, precision: usize) -> String {
    let inner = &rust_spec[2..rust_spec.len() - 1];
    let width = if width == 0 {
        String::new()
    } else {
        width.to_string()
    };
    let inner = inner
        .replace("w$", &width)
        .replace("p$", &precision.to_string());
    format!("<:{inner}>")
}

fn check(
    spec: &str,
    expected: String,
    value: &ArgValue<'_>,
    width: usize,
    precision: usize,
) -> Result<(), TestCaseError> {
    let ulog = ulog_spec(spec, width, precision);
    let pieces = parse(&ulog).map_err(|error| TestCaseError::fail(format!("{ulog}: {error}")))?;
    let [Piece::Placeholder(placeholder)] = pieces[..] else {
        return Err(TestCaseError::fail(format!(
            "{ulog} is not one placeholder"
        )));
    };
    let mut actual = String::new();
    render_value(&mut actual, value, &placeholder.spec);
    prop_assert_eq!(
        actual,
        expected,
        "Rust spec {} written as {} for {:?}",
        spec,
        ulog,
        value
    );
    Ok(())
}

/// Mostly small widths and precisions, sometimes up to the renderer's limit.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![12 => 0usize..=24, 1 => 25usize..=4096]
}

/// Values that bring out edge cases, and random ones.
macro_rules! edgy_int {
    ($ty:ty) => {
        prop_oneof![
            any::<$ty>(),
            Just(<$ty>::MIN),
            Just(<$ty>::MAX),
            Just(0 as $ty),
            Just(1 as $ty),
            Just(15 as $ty),
        ]
    };
}

macro_rules! edgy_float {
    ($ty:ident) => {
        prop_oneof![
            4 => any::<$ty>(),
            1 => Just($ty::NAN),
            1 => Just($ty::INFINITY),
            1 => Just($ty::NEG_INFINITY),
            1 => Just(-0.0 as $ty),
            1 => Just(0.0 as $ty),
            1 => Just($ty::MAX),
            1 => Just($ty::MIN),
            1 => Just($ty::MIN_POSITIVE),
            1 => Just($ty::from_bits(1)),
            1 => Just(0.1 as $ty),
            1 => Just(1e15 as $ty),
            1 => (-1_000_000i32..1_000_000).prop_map(|n| n as $ty / 8.0),
        ]
    };
}

/// Runs every case of `$cases` on one value.
macro_rules! check_all {
    ($cases:expr, $oracle_value:expr, $value:expr, $width:expr, $precision:expr) => {
        for case in &$cases {
            let expected = (case.oracle)($oracle_value, $width, $precision);
            check(case.spec, expected, &$value, $width, $precision)?;
        }
    };
}

macro_rules! int_test {
    ($name:ident, $ty:ty, $variant:ident) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            #[test]
            fn $name(value in edgy_int!($ty), width in size(), precision in size()) {
                let cases = int_cases();
                check_all!(cases, &value as &Int<'_>, &ArgValue::$variant(value), width, precision);
            }
        }
    };
}

int_test!(u8_matches_format, u8, U8);
int_test!(u16_matches_format, u16, U16);
int_test!(u32_matches_format, u32, U32);
int_test!(u64_matches_format, u64, U64);
int_test!(u128_matches_format, u128, U128);
int_test!(i8_matches_format, i8, I8);
int_test!(i16_matches_format, i16, I16);
int_test!(i32_matches_format, i32, I32);
int_test!(i64_matches_format, i64, I64);
int_test!(i128_matches_format, i128, I128);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn f32_matches_format(value in edgy_float!(f32), width in size(), precision in size()) {
        let cases = float_cases();
        check_all!(cases, &value as &Float<'_>, &ArgValue::F32(value), width, precision);
    }

    #[test]
    fn f64_matches_format(value in edgy_float!(f64), width in size(), precision in size()) {
        let cases = float_cases();
        check_all!(cases, &value as &Float<'_>, &ArgValue::F64(value), width, precision);
    }

    #[test]
    fn bool_matches_format(value in any::<bool>(), width in size(), precision in size()) {
        let cases = text_cases();
        check_all!(cases, &value as &Text<'_>, &ArgValue::Bool(value), width, precision);
    }

    #[test]
    fn char_matches_format(value in any::<char>(), width in size(), precision in size()) {
        let cases = text_cases();
        check_all!(cases, &value as &Text<'_>, &ArgValue::Char(value), width, precision);
    }

    #[test]
    fn str_matches_format(
        value in prop_oneof![any::<String>(), "[a-zé\"\\\\ \\n\\t]{0,12}"],
        width in size(),
        precision in size(),
    ) {
        let cases = text_cases();
        let arg = ArgValue::Str(value.as_str().into());
        let text: &str = &value;
        check_all!(cases, &text as &Text<'_>, &arg, width, precision);
    }
}

#[test]
fn every_case_spec_parses() {
    let specs = int_cases().iter().map(|case| case.spec).collect::<Vec<_>>();
    for spec in specs {
        for (width, precision) in [(0, 0), (7, 3)] {
            let ulog = ulog_spec(spec, width, precision);
            assert!(parse(&ulog).is_ok(), "{ulog} does not parse");
        }
    }
}
