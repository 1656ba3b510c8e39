//! Messages: a call site's format string, parsed once, filled in with a record's arguments.

use std::fmt::Write as _;

use ulog_schema::fmt::{self, Piece, Spec};
use ulog_schema::record::ArgValue;
use ulog_schema::ArgKind;

use crate::number;
use crate::spec::render_value;

/// A format string that cannot render the arguments its call site declares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The format string does not follow the grammar of [`ulog_schema::fmt`].
    #[error("format string does not parse: {0}")]
    Parse(#[from] fmt::ParseError),
    /// More placeholders than arguments.
    #[error("format string has {placeholders} placeholders for {args} arguments")]
    MissingArgument {
        /// Placeholders in the format string.
        placeholders: usize,
        /// Arguments the call site declares.
        args: usize,
    },
    /// A placeholder type the argument's Rust type does not implement.
    #[error(
        "placeholder {index} asks for {trait_name}, which argument type {kind} does not implement"
    )]
    Unsupported {
        /// Position of the placeholder, from 0.
        index: usize,
        /// Formatting trait the placeholder names.
        trait_name: &'static str,
        /// Rust type of the argument.
        kind: &'static str,
    },
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(Box<str>),
    Value { spec: Spec, arg: usize },
}

/// A format string checked against its call site's argument kinds, ready to render records.
///
/// Arguments beyond the placeholders are allowed: they are not part of the message, and
/// still appear among a record's arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `format` and checks that each placeholder has an argument whose type
    /// implements the placeholder's formatting trait.
    ///
    /// # Errors
    ///
    /// Fails when `format` does not parse, has more placeholders than `kinds`, or pairs a
    /// placeholder type with an argument type that does not implement it.
    pub fn new(format: &str, kinds: &[ArgKind]) -> Result<Template, TemplateError> {
        let pieces = fmt::parse(format)?;
        let placeholders = fmt::placeholder_count(&pieces);
        if placeholders > kinds.len() {
            return Err(TemplateError::MissingArgument {
                placeholders,
                args: kinds.len(),
            });
        }

        let mut parts = Vec::with_capacity(pieces.len());
        let mut arg = 0;
        for piece in pieces {
            match piece {
                Piece::Literal(text) => parts.push(Part::Literal(text.into())),
                Piece::Placeholder(placeholder) => {
                    let kind = kinds[arg];
                    if !placeholder.spec.ty.accepts(kind) {
                        return Err(TemplateError::Unsupported {
                            index: arg,
                            trait_name: placeholder.spec.ty.trait_name(),
                            kind: kind.type_name(),
                        });
                    }
                    parts.push(Part::Value {
                        spec: placeholder.spec,
                        arg,
                    });
                    arg += 1;
                }
            }
        }
        Ok(Template { parts })
    }

    /// Appends the message for `args` to `out`. A missing argument, which [`Template::new`]
    /// rules out for arguments of the checked kinds, renders as nothing.
    pub fn render(&self, args: &[ArgValue<'_>], out: &mut String) {
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Value { spec, arg } => {
                    if let Some(value) = args.get(*arg) {
                        if spec.is_plain() {
                            push_plain(out, value);
                        } else {
                            render_value(out, value, spec);
                        }
                    }
                }
            }
        }
    }
}

/// Appends `value` as `{}` renders it, with a fast path for the common kinds.
fn push_plain(out: &mut String, value: &ArgValue<'_>) {
    let mut integer = itoa::Buffer::new();
    match value {
        ArgValue::U8(v) => out.push_str(integer.format(*v)),
        ArgValue::U16(v) => out.push_str(integer.format(*v)),
        ArgValue::U32(v) => out.push_str(integer.format(*v)),
        ArgValue::U64(v) => out.push_str(integer.format(*v)),
        ArgValue::U128(v) => out.push_str(integer.format(*v)),
        ArgValue::I8(v) => out.push_str(integer.format(*v)),
        ArgValue::I16(v) => out.push_str(integer.format(*v)),
        ArgValue::I32(v) => out.push_str(integer.format(*v)),
        ArgValue::I64(v) => out.push_str(integer.format(*v)),
        ArgValue::I128(v) => out.push_str(integer.format(*v)),
        ArgValue::F32(v) => number::push_f32(out, *v),
        ArgValue::F64(v) => number::push_f64(out, *v),
        ArgValue::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
        ArgValue::Char(c) => out.push(*c),
        ArgValue::Str(text) => out.push_str(text),
    }
}

/// Appends the raw format string of a site whose [`Template`] failed, with the reason and
/// the arguments, so that no information is lost.
pub(crate) fn render_raw(
    out: &mut String,
    format: &str,
    problem: &str,
    args: &[(&str, ArgValue<'_>)],
) {
    out.push_str(format);
    let _ = write!(out, " [ulog-decode: {problem}; arguments:");
    for (name, value) in args {
        let _ = write!(out, " {name}=");
        match value {
            ArgValue::Str(text) => {
                let _ = write!(out, "{text:?}");
            }
            ArgValue::Char(c) => {
                let _ = write!(out, "{c:?}");
            }
            other => push_plain(out, other),
        }
    }
    out.push(']');
}

/// Renders `format` with `args` in one step, as a call site with these argument values would.
///
/// ```
/// use ulog_decode::format_message;
/// use ulog_schema::record::ArgValue;
///
/// let message = format_message("fill <> @ <:.2>", &[ArgValue::U64(100), ArgValue::F64(101.25)]);
/// assert_eq!(message.unwrap(), "fill 100 @ 101.25");
/// ```
///
/// # Errors
///
/// Fails as [`Template::new`] does for the kinds of `args`.
pub fn format_message(format: &str, args: &[ArgValue<'_>]) -> Result<String, TemplateError> {
    let kinds: Vec<ArgKind> = args.iter().map(kind_of).collect();
    let template = Template::new(format, &kinds)?;
    let mut out = String::new();
    template.render(args, &mut out);
    Ok(out)
}

/// Returns the wire kind of a decoded value.
pub(crate) fn kind_of(value: &ArgValue<'_>) -> ArgKind {
    match value {
        ArgValue::U8(_) => ArgKind::U8,
        ArgValue::U16(_) => ArgKind::U16,
        ArgValue::U32(_) => ArgKind::U32,
        ArgValue::U64(_) => ArgKind::U64,
        ArgValue::U128(_) => ArgKind::U128,
        ArgValue::I8(_) => ArgKind::I8,
        ArgValue::I16(_) => ArgKind::I16,
        ArgValue::I32(_) => ArgKind::I32,
        ArgValue::I64(_) => ArgKind::I64,
        ArgValue::I128(_) => ArgKind::I128,
        ArgValue::F32(_) => ArgKind::F32,
        ArgValue::F64(_) => ArgKind::F64,
        ArgValue::Bool(_) => ArgKind::Bool,
        ArgValue::Char(_) => ArgKind::Char,
        ArgValue::Str(_) => ArgKind::Str,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_escape_and_values_render() {
        let message = format_message(
            "px <<> <:>8.2> for <>",
            &[ArgValue::F64(1.5), ArgValue::Str("acct".into())],
        );
        assert_eq!(message.unwrap(), "px <>     1.50 for acct");
    }

    #[test]
    fn plain_values_match_display() {
        let values = [
            ArgValue::I128(i128::MIN),
            ArgValue::F32(0.1),
            ArgValue::F64(-0.0),
            ArgValue::Char('é'),
            ArgValue::Bool(false),
        ];
        let message = format_message("<> <> <> <> <>", &values).unwrap();
        let expected = format!("{} {} {} {} {}", i128::MIN, 0.1f32, -0.0f64, 'é', false);
        assert_eq!(message, expected);
    }

    #[test]
    fn missing_argument_is_an_error() {
        let error = format_message("<> <>", &[ArgValue::U8(1)]).unwrap_err();
        assert!(matches!(error, TemplateError::MissingArgument { .. }));
    }

    #[test]
    fn hex_on_float_is_an_error() {
        let error = format_message("<:x>", &[ArgValue::F64(1.0)]).unwrap_err();
        assert!(matches!(error, TemplateError::Unsupported { index: 0, .. }));
    }

    #[test]
    fn extra_arguments_are_left_out() {
        let message = format_message("done", &[ArgValue::U8(1)]).unwrap();
        assert_eq!(message, "done");
    }

    #[test]
    fn raw_rendering_lists_arguments() {
        let mut out = String::new();
        let args = [
            ("qty", ArgValue::U32(3)),
            ("who", ArgValue::Str("a".into())),
        ];
        render_raw(&mut out, "bad <:q>", "cannot parse", &args);
        assert_eq!(
            out,
            "bad <:q> [ulog-decode: cannot parse; arguments: qty=3 who=\"a\"]"
        );
    }
}
