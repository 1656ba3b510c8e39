//! Rendering one argument value by a placeholder spec, exactly as Rust's `format!` would.
//!
//! Rust's formatting machinery cannot take a fill character or flags at run time, so this
//! module splits the work. Numbers go through `write!` with every combination of the sign,
//! `#` and `0` flags spelled out at compile time, and the width and precision passed as
//! runtime `w$` and `p$` arguments. When the `0` flag is off, the value is written without a
//! width and padded here with the spec's fill and alignment, the way `Formatter::padding`
//! does it: by counting characters, right-aligned by default for numbers and left-aligned
//! for text. Text values (`str`, `char`, `bool`) are cut to the precision and padded here.

use std::fmt::Write as _;

use ulog_schema::fmt::{Align, Spec, Type};
use ulog_schema::record::ArgValue;

use crate::number;

/// Largest width or precision this decoder renders. A spec that requests more is rendered
/// with this limit and a note after the value, which keeps a hostile file from making each
/// message tens of megabytes long.
pub const MAX_RENDERED_WIDTH: usize = 4096;

/// The parts of a spec that select a `write!` arm, with width and precision already capped.
#[derive(Debug, Clone, Copy)]
struct Flags {
    plus: bool,
    alternate: bool,
    zero: bool,
    width: usize,
    precision: Option<usize>,
}

/// Writes `value` with the `0` flag and precision variants of one set of literal flags.
macro_rules! write_by_zero_and_precision {
    ($out:expr, $value:expr, $flags:expr, $literal:literal, $letter:literal) => {
        match ($flags.zero, $flags.precision) {
            (false, None) => write!($out, concat!("{:", $literal, $letter, "}"), $value),
            (false, Some(p)) => write!(
                $out,
                concat!("{:", $literal, ".p$", $letter, "}"),
                $value,
                p = p
            ),
            (true, None) => write!(
                $out,
                concat!("{:", $literal, "0w$", $letter, "}"),
                $value,
                w = $flags.width
            ),
            (true, Some(p)) => write!(
                $out,
                concat!("{:", $literal, "0w$.p$", $letter, "}"),
                $value,
                w = $flags.width,
                p = p
            ),
        }
    };
}

/// Writes `value` through the formatting trait named by `$letter`, choosing the arm for the
/// `+` and `#` flags.
macro_rules! write_flagged {
    ($out:expr, $value:expr, $flags:expr, $letter:literal) => {
        match ($flags.plus, $flags.alternate) {
            (false, false) => write_by_zero_and_precision!($out, $value, $flags, "", $letter),
            (false, true) => write_by_zero_and_precision!($out, $value, $flags, "#", $letter),
            (true, false) => write_by_zero_and_precision!($out, $value, $flags, "+", $letter),
            (true, true) => write_by_zero_and_precision!($out, $value, $flags, "+#", $letter),
        }
    };
}

/// Writes an unsigned integer, or a signed one's bits for the hex, octal and binary types.
fn write_unsigned(out: &mut String, value: u128, ty: Type, flags: Flags) -> std::fmt::Result {
    match ty {
        Type::Display => write_flagged!(out, value, flags, ""),
        Type::Debug => write_flagged!(out, value, flags, "?"),
        Type::LowerHex => write_flagged!(out, value, flags, "x"),
        Type::UpperHex => write_flagged!(out, value, flags, "X"),
        Type::Octal => write_flagged!(out, value, flags, "o"),
        Type::Binary => write_flagged!(out, value, flags, "b"),
        Type::LowerExp => write_flagged!(out, value, flags, "e"),
        Type::UpperExp => write_flagged!(out, value, flags, "E"),
    }
}

/// Writes a signed integer by a decimal type; [`write_unsigned`] handles the others.
fn write_signed(out: &mut String, value: i128, ty: Type, flags: Flags) -> std::fmt::Result {
    match ty {
        Type::Debug => write_flagged!(out, value, flags, "?"),
        Type::LowerExp => write_flagged!(out, value, flags, "e"),
        Type::UpperExp => write_flagged!(out, value, flags, "E"),
        _ => write_flagged!(out, value, flags, ""),
    }
}

/// Writes a float. Floats have no hex, octal or binary form; those types render as `Display`.
macro_rules! write_float {
    ($out:expr, $value:expr, $ty:expr, $flags:expr) => {
        match $ty {
            Type::Debug => write_flagged!($out, $value, $flags, "?"),
            Type::LowerExp => write_flagged!($out, $value, $flags, "e"),
            Type::UpperExp => write_flagged!($out, $value, $flags, "E"),
            _ => write_flagged!($out, $value, $flags, ""),
        }
    };
}

/// A value as the renderer groups it.
enum Class<'v> {
    Unsigned(u128),
    Signed(i128),
    /// The bits of a signed integer, zero-extended, for the hex, octal and binary types.
    Bits(u128),
    F32(f32),
    F64(f64),
    Text(&'v str),
    Char(char),
}

fn classify<'v>(value: &'v ArgValue<'_>, ty: Type) -> Class<'v> {
    let bits = matches!(
        ty,
        Type::LowerHex | Type::UpperHex | Type::Octal | Type::Binary
    );
    let signed = |wide: i128, narrow_bits: u128| {
        if bits {
            Class::Bits(narrow_bits)
        } else {
            Class::Signed(wide)
        }
    };
    match value {
        ArgValue::U8(v) => Class::Unsigned(u128::from(*v)),
        ArgValue::U16(v) => Class::Unsigned(u128::from(*v)),
        ArgValue::U32(v) => Class::Unsigned(u128::from(*v)),
        ArgValue::U64(v) => Class::Unsigned(u128::from(*v)),
        ArgValue::U128(v) => Class::Unsigned(*v),
        ArgValue::I8(v) => signed(i128::from(*v), u128::from(*v as u8)),
        ArgValue::I16(v) => signed(i128::from(*v), u128::from(*v as u16)),
        ArgValue::I32(v) => signed(i128::from(*v), u128::from(*v as u32)),
        ArgValue::I64(v) => signed(i128::from(*v), u128::from(*v as u64)),
        ArgValue::I128(v) => signed(*v, *v as u128),
        ArgValue::F32(v) => Class::F32(*v),
        ArgValue::F64(v) => Class::F64(*v),
        ArgValue::Bool(true) => Class::Text("true"),
        ArgValue::Bool(false) => Class::Text("false"),
        ArgValue::Char(c) => Class::Char(*c),
        ArgValue::Str(text) => Class::Text(text),
    }
}

/// Appends `value` rendered by `spec` to `out`, equal to what `format!` gives for the same
/// value and the same spec in Rust's `{:spec}` syntax.
///
/// Widths and precisions above [`MAX_RENDERED_WIDTH`] are lowered to it, and a note saying
/// so follows the value. A type the value does not implement in Rust (`x` on a float, `e` on
/// a string), which call sites checked at compile time never hold, renders as `Display`.
///
/// ```
/// use ulog_decode::render_value;
/// use ulog_schema::fmt::{parse, Piece};
/// use ulog_schema::record::ArgValue;
///
/// let Piece::Placeholder(placeholder) = parse("<:*^+#12.3e>").unwrap()[0] else {
///     unreachable!()
/// };
/// let mut out = String::new();
/// render_value(&mut out, &ArgValue::F64(1234.5), &placeholder.spec);
/// assert_eq!(out, format!("{:*^+#12.3e}", 1234.5));
/// ```
pub fn render_value(out: &mut String, value: &ArgValue<'_>, spec: &Spec) {
    let width = Limit::new(spec.width);
    let precision = Limit::new(spec.precision);
    let flags = Flags {
        plus: spec.sign_plus,
        alternate: spec.alternate,
        zero: spec.zero_pad,
        width: width.value.unwrap_or(0),
        precision: precision.value,
    };

    let start = out.len();
    let class = classify(value, spec.ty);
    if width.lowered_from.is_none()
        && precision.lowered_from.is_none()
        && push_decimal(out, &class, spec, flags)
    {
        return;
    }
    let numeric = !matches!(class, Class::Text(_) | Class::Char(_));
    let quoted = spec.ty == Type::Debug && matches!(value, ArgValue::Str(_) | ArgValue::Char(_));
    // Writing to a `String` cannot fail, so the `fmt::Result`s carry no information.
    let _ = match class {
        Class::Unsigned(v) | Class::Bits(v) => write_unsigned(out, v, spec.ty, flags),
        Class::Signed(v) => write_signed(out, v, spec.ty, flags),
        Class::F32(v) => write_float!(out, v, spec.ty, flags),
        Class::F64(v) => write_float!(out, v, spec.ty, flags),
        Class::Text(text) if quoted => write!(out, "{text:?}"),
        Class::Char(c) if quoted => write!(out, "{c:?}"),
        Class::Text(text) => {
            push_truncated(out, text, flags.precision);
            Ok(())
        }
        Class::Char(c) => {
            let mut buffer = [0; 4];
            push_truncated(out, c.encode_utf8(&mut buffer), flags.precision);
            Ok(())
        }
    };

    // `Debug` of `str` and `char` ignores the width, and zero padding already happened.
    let unpadded = quoted || (numeric && spec.zero_pad);
    if !unpadded {
        let default = if numeric { Align::Right } else { Align::Left };
        pad(
            out,
            start,
            flags.width,
            spec.fill,
            spec.align.unwrap_or(default),
        );
    }

    for (what, limit) in [("width", width), ("precision", precision)] {
        if let Some(asked) = limit.lowered_from {
            let _ = write!(
                out,
                " [ulog-decode: {what} {asked} lowered to {MAX_RENDERED_WIDTH}]"
            );
        }
    }
}

/// Renders the common decimal cases without `write!`: integers by `Display`, and finite
/// floats by `Display` with or without a precision of up to
/// [`number::MAX_FIXED_PRECISION`]. Returns `false`, appending nothing, for any other case.
fn push_decimal(out: &mut String, class: &Class<'_>, spec: &Spec, flags: Flags) -> bool {
    if spec.ty != Type::Display {
        return false;
    }
    let start = out.len();
    let negative = match *class {
        Class::Unsigned(v) => {
            push_sign(out, false, flags.plus);
            number::push_u128(out, v);
            false
        }
        // Integers ignore the precision, as in Rust.
        Class::Signed(v) => {
            push_sign(out, v < 0, flags.plus);
            number::push_u128(out, v.unsigned_abs());
            v < 0
        }
        Class::F64(v) => return push_float(out, v, false, spec, flags),
        Class::F32(v) => return push_float(out, f64::from(v), true, spec, flags),
        Class::Bits(_) | Class::Text(_) | Class::Char(_) => return false,
    };
    pad_number(out, start, usize::from(negative || flags.plus), spec, flags);
    true
}

/// Renders a finite float for [`push_decimal`]. An `f32` arrives widened to `f64`, which is
/// exact and so rounds to the same decimals, but its shortest digits are those of the `f32`.
fn push_float(out: &mut String, value: f64, single: bool, spec: &Spec, flags: Flags) -> bool {
    if !value.is_finite()
        || flags
            .precision
            .is_some_and(|precision| precision > number::MAX_FIXED_PRECISION)
    {
        return false;
    }
    let start = out.len();
    let negative = value.is_sign_negative();
    push_sign(out, negative, flags.plus);
    let magnitude = value.abs();
    match flags.precision {
        Some(precision) => {
            let pushed = number::push_fixed(out, magnitude, precision);
            debug_assert!(pushed, "finite values with a small precision always render");
        }
        None if single => number::push_f32(out, magnitude as f32),
        None => number::push_f64(out, magnitude),
    }
    pad_number(out, start, usize::from(negative || flags.plus), spec, flags);
    true
}

fn push_sign(out: &mut String, negative: bool, plus: bool) {
    if negative {
        out.push('-');
    } else if plus {
        out.push('+');
    }
}

/// Pads the number written after `start`, whose sign takes `sign_len` bytes, to the width:
/// with zeros after the sign for the `0` flag, else with the fill, right-aligned by default.
fn pad_number(out: &mut String, start: usize, sign_len: usize, spec: &Spec, flags: Flags) {
    if spec.zero_pad {
        let len = out.len() - start;
        if flags.width > len {
            let zeros: String = std::iter::repeat_n('0', flags.width - len).collect();
            out.insert_str(start + sign_len, &zeros);
        }
    } else {
        pad(
            out,
            start,
            flags.width,
            spec.fill,
            spec.align.unwrap_or(Align::Right),
        );
    }
}

/// A width or precision after applying [`MAX_RENDERED_WIDTH`].
#[derive(Debug, Clone, Copy)]
struct Limit {
    value: Option<usize>,
    /// What the spec asked for, when that was more than the limit.
    lowered_from: Option<u16>,
}

impl Limit {
    fn new(asked: Option<u16>) -> Limit {
        match asked {
            Some(asked) if usize::from(asked) > MAX_RENDERED_WIDTH => Limit {
                value: Some(MAX_RENDERED_WIDTH),
                lowered_from: Some(asked),
            },
            other => Limit {
                value: other.map(usize::from),
                lowered_from: None,
            },
        }
    }
}

/// Appends at most `precision` characters of `text`, as `Formatter::pad` cuts strings.
fn push_truncated(out: &mut String, text: &str, precision: Option<usize>) {
    let end = precision
        .and_then(|max| text.char_indices().nth(max))
        .map_or(text.len(), |(index, _)| index);
    out.push_str(&text[..end]);
}

/// Pads what was written to `out` after `start` to `width` characters with `fill`.
///
/// Splits the padding the way Rust does: all after the value for left alignment, all before
/// for right, and for center half before and the odd one after.
fn pad(out: &mut String, start: usize, width: usize, fill: char, align: Align) {
    let len = out[start..].chars().count();
    let Some(padding) = width.checked_sub(len).filter(|&padding| padding > 0) else {
        return;
    };
    let (before, after) = match align {
        Align::Left => (0, padding),
        Align::Right => (padding, 0),
        Align::Center => (padding / 2, padding - padding / 2),
    };
    if before > 0 {
        let prefix: String = std::iter::repeat_n(fill, before).collect();
        out.insert_str(start, &prefix);
    }
    out.extend(std::iter::repeat_n(fill, after));
}

#[cfg(test)]
mod tests {
    use super::*;
    use ulog_schema::fmt::{parse, Piece};

    fn spec(text: &str) -> Spec {
        match parse(text).unwrap()[..] {
            [Piece::Placeholder(placeholder)] => placeholder.spec,
            _ => panic!("{text} is not one placeholder"),
        }
    }

    fn render(value: ArgValue<'_>, text: &str) -> String {
        let mut out = String::new();
        render_value(&mut out, &value, &spec(text));
        out
    }

    #[test]
    fn zero_padding_keeps_sign_first() {
        assert_eq!(render(ArgValue::I32(-5), "<:*^08>"), format!("{:*^08}", -5));
    }

    #[test]
    fn signed_hex_uses_own_width() {
        assert_eq!(render(ArgValue::I8(-1), "<:#x>"), "0xff");
    }

    #[test]
    fn debug_string_ignores_width() {
        assert_eq!(render(ArgValue::Str("ab".into()), "<:10?>"), "\"ab\"");
    }

    #[test]
    fn center_puts_odd_fill_after() {
        assert_eq!(render(ArgValue::Char('c'), "<:é^4>"), "écéé");
    }

    #[test]
    fn precision_cuts_text_by_characters() {
        assert_eq!(render(ArgValue::Str("éàü".into()), "<:.2>"), "éà");
    }

    #[test]
    fn huge_width_is_lowered_and_noted() {
        let out = render(ArgValue::U8(1), "<:65535>");
        assert!(out.starts_with(&" ".repeat(MAX_RENDERED_WIDTH - 1)));
        assert!(out.ends_with("1 [ulog-decode: width 65535 lowered to 4096]"));
    }

    #[test]
    fn huge_precision_is_lowered_and_noted() {
        let out = render(ArgValue::F64(0.5), "<:.9999>");
        assert_eq!(out.find(' '), Some(2 + MAX_RENDERED_WIDTH));
        assert!(out.ends_with("[ulog-decode: precision 9999 lowered to 4096]"));
    }

    #[test]
    fn unsupported_type_renders_as_display() {
        assert_eq!(render(ArgValue::F64(1.5), "<:x>"), "1.5");
    }
}
