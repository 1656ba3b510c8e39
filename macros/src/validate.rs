//! Checks a parsed call against the rules that need no types: the level, the format grammar,
//! one argument per placeholder, and unique argument names.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, Member, UnOp};
use ulog_schema::entry::MAX_ARGS;
use ulog_schema::fmt::{self, Piece, Type};
use ulog_schema::Level;

use crate::parse::{Argument, Call};

/// A call that passed every check, ready to expand.
pub struct Checked {
    /// Severity.
    pub level: Level,
    /// The level as written, when it is a path such as `Level::Info` that names an item.
    pub level_path: Option<Expr>,
    /// The format string.
    pub format: LitStr,
    /// One argument per placeholder, in order.
    pub args: Vec<CheckedArg>,
}

/// An argument and what its placeholder needs of it.
pub struct CheckedArg {
    /// The value.
    pub expr: Expr,
    /// Name shown by the decoder, unique within the call.
    pub name: String,
    /// The trait check that the placeholder's spec type requires, if any.
    pub spec_check: Option<SpecCheck>,
}

/// A spec type that only some argument types support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecCheck {
    /// `x`, `X`, `o`, `b`: the argument must be an integer.
    Integer,
    /// `e`, `E`: the argument must be a number.
    Numeric,
}

/// A call that broke at least one rule.
pub struct Rejected {
    /// Every rule broken, combined.
    pub error: syn::Error,
    /// The argument values, which the expansion still mentions so that they do not look unused.
    pub exprs: Vec<Expr>,
}

/// Checks a parsed call.
///
/// # Errors
///
/// Returns every broken rule that can be found before the others are fixed. The rules are: a
/// known level, a string literal format that follows the grammar, one argument per
/// placeholder, at most [`MAX_ARGS`] arguments, and unique argument names.
pub fn check(call: Call) -> Result<Checked, Box<Rejected>> {
    let mut errors = Errors::default();

    let level = check_level(&call, &mut errors);
    let format = check_format(&call, &mut errors);
    if call.args.len() > MAX_ARGS {
        errors.push(syn::Error::new_spanned(
            &call.args[MAX_ARGS].expr,
            format!(
                "too many arguments: a call takes at most {MAX_ARGS}; \
                 split the message into several calls"
            ),
        ));
    }
    let spec_checks = format
        .as_ref()
        .and_then(|(literal, types)| check_count(literal, types, &call.args, &mut errors));
    let names = names(&call.args, &mut errors);

    match (level, format, spec_checks, errors.combined()) {
        (Some((level, level_path)), Some((format, _)), Some(spec_checks), None) => Ok(Checked {
            level,
            level_path,
            format,
            args: call
                .args
                .into_iter()
                .zip(names)
                .zip(spec_checks)
                .map(|((arg, name), spec_check)| CheckedArg {
                    expr: arg.expr,
                    name,
                    spec_check,
                })
                .collect(),
        }),
        (.., error) => Err(Box::new(Rejected {
            error: error
                .unwrap_or_else(|| syn::Error::new(Span::call_site(), "ulog! rejected this call")),
            exprs: call.args.into_iter().map(|arg| arg.expr).collect(),
        })),
    }
}

#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn combined(self) -> Option<syn::Error> {
        self.0
    }
}

const LEVELS: &str = "`Trace`, `Debug`, `Info`, `Warn` or `Error`";

/// Returns the variant name of a level, as written in a call.
pub fn level_name(level: Level) -> &'static str {
    match level {
        Level::Trace => "Trace",
        Level::Debug => "Debug",
        Level::Info => "Info",
        Level::Warn => "Warn",
        Level::Error => "Error",
    }
}

/// Returns the level, and the expression that names it when it is a path of more than one
/// segment.
fn check_level(call: &Call, errors: &mut Errors) -> Option<(Level, Option<Expr>)> {
    let Some(expr) = &call.level else {
        let span = call.format.as_ref().map_or(call.end, Spanned::span);
        errors.push(syn::Error::new(
            span,
            format!(
                "expected a level before the format: {LEVELS}, \
                 such as `ulog!(Info, \"fill <>\", qty)`"
            ),
        ));
        return None;
    };

    let word = match expr {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
            let segments = &path.path.segments;
            let qualified_by_level = segments.len() == 1
                || (segments.len() >= 2 && segments[segments.len() - 2].ident == "Level");
            let last = &segments[segments.len() - 1];
            (qualified_by_level && last.arguments.is_none()).then(|| last.ident.unraw())
        }
        _ => None,
    };
    let level = word.as_ref().and_then(|word| {
        Level::ALL
            .into_iter()
            .find(|level| word == level_name(*level))
    });
    let Some(level) = level else {
        let hint = match word
            .as_ref()
            .and_then(|word| Level::from_name(&word.to_string()))
        {
            Some(level) => format!("; write `{}`", level_name(level)),
            None => String::new(),
        };
        errors.push(syn::Error::new_spanned(
            expr,
            format!("unknown level: expected {LEVELS}{hint}"),
        ));
        return None;
    };
    let named_item = matches!(expr, Expr::Path(path) if path.path.segments.len() > 1);
    Some((level, named_item.then(|| expr.clone())))
}

/// Returns the format literal and the spec type of each placeholder.
fn check_format(call: &Call, errors: &mut Errors) -> Option<(LitStr, Vec<Type>)> {
    // A literal passed through a `macro_rules!` metavariable arrives in an invisible group.
    let mut format = call.format.as_ref();
    while let Some(Expr::Group(group)) = format {
        format = Some(&group.expr);
    }
    let literal = match format {
        Some(Expr::Lit(ExprLit {
            lit: Lit::Str(literal),
            attrs,
        })) if attrs.is_empty() => literal,
        Some(other) => {
            errors.push(syn::Error::new_spanned(
                other,
                "expected a string literal format, such as \"fill <> @ <>\"",
            ));
            return None;
        }
        None => {
            if call.level.is_some() {
                errors.push(syn::Error::new(
                    call.end,
                    "expected a string literal format after the level, such as \"fill <> @ <>\"",
                ));
            }
            return None;
        }
    };
    if !literal.suffix().is_empty() {
        errors.push(syn::Error::new_spanned(
            literal,
            "expected a string literal format without a suffix, such as \"fill <> @ <>\"",
        ));
        return None;
    }

    let value = literal.value();
    match fmt::parse(&value) {
        Ok(pieces) => {
            let types = pieces
                .iter()
                .filter_map(|piece| match piece {
                    Piece::Placeholder(placeholder) => Some(placeholder.spec.ty),
                    Piece::Literal(_) => None,
                })
                .collect();
            Some((literal.clone(), types))
        }
        Err(error) => {
            errors.push(syn::Error::new_spanned(
                literal,
                format!("invalid format string: {error}"),
            ));
            None
        }
    }
}

/// Checks one argument per placeholder and returns each argument's spec check.
fn check_count(
    literal: &LitStr,
    types: &[Type],
    args: &[Argument],
    errors: &mut Errors,
) -> Option<Vec<Option<SpecCheck>>> {
    let placeholders = types.len();
    if args.len() > placeholders {
        // A user coming from `format!` writes `{}`, so the message names the right syntax.
        let value = literal.value();
        let hint = if value.contains("{}") || value.contains("{:") {
            "; ulog placeholders are `<>` and `<:spec>`, not `{}` and `{:spec}`"
        } else {
            ""
        };
        errors.push(syn::Error::new_spanned(
            &args[placeholders].expr,
            format!(
                "this argument has no placeholder: the format has {} and {} given; \
                 add `<>` to the format or remove the argument{hint}",
                counted(placeholders, "placeholder", "placeholders"),
                counted(args.len(), "argument was", "arguments were"),
            ),
        ));
        return None;
    }
    if args.len() < placeholders {
        let given = match args.len() {
            0 => "no arguments were given".to_owned(),
            count => format!(
                "only {}",
                counted(count, "argument was given", "arguments were given")
            ),
        };
        errors.push(syn::Error::new_spanned(
            literal,
            format!(
                "the format has {} but {given}; add arguments or remove placeholders",
                counted(placeholders, "placeholder", "placeholders"),
            ),
        ));
        return None;
    }
    Some(types.iter().map(|ty| spec_check(*ty)).collect())
}

fn spec_check(ty: Type) -> Option<SpecCheck> {
    match ty {
        Type::Display | Type::Debug => None,
        Type::LowerHex | Type::UpperHex | Type::Octal | Type::Binary => Some(SpecCheck::Integer),
        Type::LowerExp | Type::UpperExp => Some(SpecCheck::Numeric),
    }
}

fn counted(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Names every argument. An argument without `name =` gets its [`derived_name`], or else its
/// [`positional_name`].
///
/// An explicit name must be unique, and must not be the positional name of another argument.
/// A derived name that another argument also has, explicit, derived or positional, is
/// replaced by the positional name on every argument that derived it, because it would not
/// tell them apart.
fn names(args: &[Argument], errors: &mut Errors) -> Vec<String> {
    let mut explicit = HashMap::new();
    for (index, arg) in args.iter().enumerate() {
        if let Some(name) = &arg.name {
            let text = name.unraw().to_string();
            if explicit.insert(text.clone(), index).is_some() {
                errors.push(syn::Error::new_spanned(
                    name,
                    format!(
                        "duplicate argument name `{text}`: each argument needs its own name; \
                         rename this one"
                    ),
                ));
            }
        }
    }

    let mut derived: Vec<Option<String>> = args
        .iter()
        .map(|arg| match arg.name {
            Some(_) => None,
            None => derived_name(&arg.expr),
        })
        .collect();
    let mut seen = HashSet::new();
    let mut shared = HashSet::new();
    for name in derived.iter().flatten() {
        if explicit.contains_key(name) || !seen.insert(name.clone()) {
            shared.insert(name.clone());
        }
    }
    for name in &mut derived {
        if name.as_ref().is_some_and(|name| shared.contains(name)) {
            *name = None;
        }
    }

    // A derived name such as `arg1` may be the positional name of another argument. Replacing
    // it by its own positional name can clash with another derived name, so this repeats
    // until no name changes. Each round turns at least one derived name positional.
    loop {
        let positional: HashSet<String> = args
            .iter()
            .enumerate()
            .filter(|(index, arg)| arg.name.is_none() && derived[*index].is_none())
            .map(|(index, _)| positional_name(index))
            .collect();
        let mut changed = false;
        for (index, name) in derived.iter_mut().enumerate() {
            if name
                .as_ref()
                .is_some_and(|name| *name != positional_name(index) && positional.contains(name))
            {
                *name = None;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let mut names = Vec::with_capacity(args.len());
    for (index, arg) in args.iter().enumerate() {
        let name = match (&arg.name, &derived[index]) {
            (Some(name), _) => name.unraw().to_string(),
            (None, Some(name)) => name.clone(),
            (None, None) => {
                let positional = positional_name(index);
                if let Some(&owner) = explicit.get(&positional) {
                    if let Some(name) = &args[owner].name {
                        errors.push(syn::Error::new_spanned(
                            name,
                            format!(
                                "duplicate argument name `{positional}`: argument {index} has \
                                 no name of its own and is called `{positional}`; choose \
                                 another name, or name argument {index} with `name = value`"
                            ),
                        ));
                    }
                }
                positional
            }
        };
        names.push(name);
    }
    names
}

/// Returns the name of the argument at `index` when it has no name of its own.
pub fn positional_name(index: usize) -> String {
    format!("arg{index}")
}

/// Returns the name that an argument without `name =` gets from its expression: the last
/// segment of a path (`qty`, `limits::MAX`), or the field of a named field access
/// (`order.px`). A borrow, a dereference, a cast, parentheses and the invisible groups of
/// `macro_rules!` fragments are looked through, so `&order.px` and `qty as u64` keep their
/// names.
pub fn derived_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            last.arguments
                .is_none()
                .then(|| last.ident.unraw().to_string())
        }
        Expr::Field(field) => match &field.member {
            Member::Named(ident) => Some(ident.unraw().to_string()),
            Member::Unnamed(_) => None,
        },
        Expr::Reference(inner) => derived_name(&inner.expr),
        Expr::Unary(ExprUnary {
            op: UnOp::Deref(_),
            expr,
            ..
        }) => derived_name(expr),
        Expr::Cast(inner) => derived_name(&inner.expr),
        Expr::Paren(inner) => derived_name(&inner.expr),
        Expr::Group(inner) => derived_name(&inner.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_str(tokens: &str) -> Result<Checked, Vec<String>> {
        let call: Call = syn::parse_str(tokens).expect("the call parses");
        check(call).map_err(|rejected| {
            rejected
                .error
                .into_iter()
                .map(|error| error.to_string())
                .collect()
        })
    }

    fn errors_of(tokens: &str) -> Vec<String> {
        match check_str(tokens) {
            Ok(_) => panic!("`{tokens}` was accepted"),
            Err(errors) => errors,
        }
    }

    fn names_of(tokens: &str) -> Vec<String> {
        match check_str(tokens) {
            Ok(checked) => checked.args.into_iter().map(|arg| arg.name).collect(),
            Err(errors) => panic!("`{tokens}` was rejected: {errors:?}"),
        }
    }

    #[test]
    fn accepts_levels_and_paths() {
        for (tokens, level) in [
            (r#"Trace, "x""#, Level::Trace),
            (r#"Debug, "x""#, Level::Debug),
            (r#"Info, "x""#, Level::Info),
            (r#"Warn, "x""#, Level::Warn),
            (r#"Error, "x""#, Level::Error),
            (r#"Level::Warn, "x""#, Level::Warn),
            (r#"ulog::Level::Error, "x""#, Level::Error),
            (r#"::ulog::Level::Debug, "x""#, Level::Debug),
        ] {
            let checked = check_str(tokens).ok().unwrap();
            assert_eq!(checked.level, level, "{tokens}");
            assert_eq!(
                checked.level_path.is_some(),
                tokens.contains("::"),
                "{tokens}"
            );
        }
    }

    #[test]
    fn unknown_level_lists_the_levels() {
        assert_eq!(
            errors_of(r#"Fatal, "x""#),
            ["unknown level: expected `Trace`, `Debug`, `Info`, `Warn` or `Error`"]
        );
        assert_eq!(
            errors_of(r#"info, "x""#),
            ["unknown level: expected `Trace`, `Debug`, `Info`, `Warn` or `Error`; write `Info`"]
        );
        assert_eq!(errors_of(r#"Other::Info, "x""#).len(), 1);
        assert_eq!(errors_of(r#"level(), "x""#).len(), 1);
    }

    #[test]
    fn missing_level_or_format() {
        let missing_level = "expected a level before the format: `Trace`, `Debug`, `Info`, \
                             `Warn` or `Error`, such as `ulog!(Info, \"fill <>\", qty)`";
        assert_eq!(errors_of(r#""fill <>", qty"#), [missing_level]);
        assert_eq!(errors_of(""), [missing_level]);
        assert_eq!(
            errors_of("Info"),
            ["expected a string literal format after the level, such as \"fill <> @ <>\""]
        );
    }

    #[test]
    fn format_must_be_a_literal() {
        let expected = ["expected a string literal format, such as \"fill <> @ <>\""];
        assert_eq!(errors_of("Info, text, x"), expected);
        assert_eq!(errors_of(r#"Info, concat!("a", "<>"), x"#), expected);
        assert_eq!(errors_of(r#"Info, b"<>", x"#), expected);
    }

    #[test]
    fn grammar_errors_carry_the_offset() {
        assert_eq!(
            errors_of(r#"Info, "px <:8q>", px"#),
            [
                "invalid format string: unexpected `q` in placeholder spec: expected \
              `[[fill]align][sign][#][0][width][.precision][type]>` with type one of \
              `? x X o b e E` (at byte 6 of the format string)"
            ]
        );
        assert_eq!(
            errors_of(r#"Info, "px <:*>", px"#),
            [
                "invalid format string: runtime widths and precisions (`*`, `name$`) are not \
              supported: write the number, such as `<:8.2>` (at byte 5 of the format string)"
            ]
        );
    }

    #[test]
    fn argument_count_must_match() {
        assert_eq!(
            errors_of(r#"Info, "<>", a, b, c"#),
            [
                "this argument has no placeholder: the format has 1 placeholder and 3 arguments \
              were given; add `<>` to the format or remove the argument"
            ]
        );
        assert_eq!(
            errors_of(r#"Info, "<> <> <>", a, b"#),
            [
                "the format has 3 placeholders but only 2 arguments were given; add arguments \
              or remove placeholders"
            ]
        );
        assert_eq!(
            errors_of(r#"Info, "<>""#),
            [
                "the format has 1 placeholder but no arguments were given; add arguments or \
              remove placeholders"
            ]
        );
    }

    #[test]
    fn more_than_max_args_rejected() {
        let call = |count: usize| {
            let args = vec!["x"; count].join(", ");
            let placeholders = vec!["<>"; count].join(" ");
            format!(r#"Info, "{placeholders}", {args}"#)
        };
        assert!(check_str(&call(MAX_ARGS)).is_ok());
        assert_eq!(
            errors_of(&call(MAX_ARGS + 1)),
            ["too many arguments: a call takes at most 255; split the message into several calls"]
        );
    }

    #[test]
    fn spec_types_ask_for_checks() {
        let checked =
            check_str(r#"Info, "<> <:?> <:x> <:#X> <:o> <:b> <:e> <:E>", a, b, c, d, e, f, g, h"#)
                .ok()
                .unwrap();
        let checks: Vec<_> = checked.args.iter().map(|arg| arg.spec_check).collect();
        let (integer, numeric) = (Some(SpecCheck::Integer), Some(SpecCheck::Numeric));
        assert_eq!(
            checks,
            [None, None, integer, integer, integer, integer, numeric, numeric]
        );
    }

    #[test]
    fn names_derive_from_expressions() {
        assert_eq!(
            names_of(
                r#"Info, "<> <> <> <> <> <> <> <>", qty, order.px, self.side, t.0, a + b,
                   limits::MAX, (inner), r#type"#
            ),
            ["qty", "px", "side", "arg3", "arg4", "MAX", "inner", "type"]
        );
        assert_eq!(
            names_of(r#"Info, "<> <> <> <> <>", &order.id, *limit, qty as u64, -px, v.len()"#),
            ["id", "limit", "qty", "arg3", "arg4"]
        );
        assert_eq!(
            names_of(r#"Info, "<> <>", size = v.len(), x"#),
            ["size", "x"]
        );
    }

    #[test]
    fn shared_derived_names_become_positional() {
        assert_eq!(
            names_of(r#"Info, "<> <> <>", bid.px, ask.px, qty"#),
            ["arg0", "arg1", "qty"]
        );
        assert_eq!(
            names_of(r#"Info, "<> <>", px = 1, order.px"#),
            ["px", "arg1"]
        );
        assert_eq!(names_of(r#"Info, "<> <>", qty, qty"#), ["arg0", "arg1"]);
        assert_eq!(names_of(r#"Info, "<> <>", arg1, a + b"#), ["arg0", "arg1"]);
        assert_eq!(names_of(r#"Info, "<> <>", arg0, a + b"#), ["arg0", "arg1"]);
        assert_eq!(
            names_of(r#"Info, "<> <> <>", arg2, arg1, -x"#),
            ["arg0", "arg1", "arg2"]
        );
        assert_eq!(
            names_of(r#"Info, "<> <> <>", arg2, x.arg0, -x"#),
            ["arg0", "arg1", "arg2"]
        );
    }

    #[test]
    fn accepted_names_are_unique() {
        let forms = [
            "x", "y", "arg0", "arg1", "arg2", "a.x", "b.arg1", "-z", "x = 1", "arg1 = 2",
            "arg0 = 3",
        ];
        for first in forms {
            for second in forms {
                for third in forms {
                    let tokens = format!(r#"Info, "<> <> <>", {first}, {second}, {third}"#);
                    let call: Call = syn::parse_str(&tokens).unwrap();
                    if let Ok(checked) = check(call) {
                        let names: HashSet<_> = checked.args.iter().map(|arg| &arg.name).collect();
                        assert_eq!(names.len(), 3, "{tokens}");
                    }
                }
            }
        }
    }

    #[test]
    fn duplicate_explicit_name_rejected() {
        assert_eq!(
            errors_of(r#"Info, "<> <>", px = a, px = b"#),
            ["duplicate argument name `px`: each argument needs its own name; rename this one"]
        );
        assert_eq!(
            errors_of(r#"Info, "<> <>", arg1 = a, b + 1"#),
            [
                "duplicate argument name `arg1`: argument 1 has no name of its own and is called \
              `arg1`; choose another name, or name argument 1 with `name = value`"
            ]
        );
    }

    #[test]
    fn independent_errors_are_all_reported() {
        assert_eq!(errors_of(r#"Fatal, "<>", px = a, px = b"#).len(), 3);
    }
}
