//! The `ulog!` macro of the ulog logger. Use it through the `ulog` crate, which re-exports it
//! as `ulog::ulog` and provides the items its expansion names.
//!
//! The macro checks a call at compile time: the level, the format string against the grammar in
//! `ulog_schema::fmt`, one argument per placeholder, and the argument names. It expands the call
//! to a level check, static call-site metadata, and a copy of the arguments' bytes. Formatting
//! happens later, in the decoder.
//!
//! The work is split in three steps: `parse` reads the input syntax, `validate` checks it, and
//! `expand` writes the code.

#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

mod expand;
mod parse;
mod validate;

use proc_macro::TokenStream;

/// Logs a message at a level, with arguments that the format's placeholders render.
///
/// ```ignore
/// use ulog::ulog;
///
/// ulog!(Info, "fill <> @ <:.2>", qty, px);
/// ulog!(Warn, "order <> rejected: <>", order.id, reason = code.as_str(),);
/// ulog!(Level::Debug, "mask <:#010b>", mask);
/// ```
///
/// # Syntax
///
/// `ulog!(LEVEL, "FORMAT", ARG, ...)`, with a trailing comma allowed:
///
/// - `LEVEL` is `Trace`, `Debug`, `Info`, `Warn` or `Error`, alone or as a path ending in
///   `Level::Info`.
/// - `FORMAT` is a string literal in the grammar of `ulog_schema::fmt`: `<>` is a placeholder,
///   `<:spec>` one with Rust's format spec (`<:>8.2>` renders like `{:>8.2}`), and `<<` a
///   literal `<`.
/// - Each `ARG` is an expression or `name = expression`, one per placeholder, at most 255. An
///   argument is an integer, `f32`, `f64`, `bool`, `char`, `str`, `String`, `Cow<str>`, or a
///   reference to one.
///
/// The decoder shows each argument with a name: the one given with `name =`, else the variable
/// (`qty`) or field (`order.px` gives `px`) that the argument reads, looking through `&`, `*`
/// and `as`, else `arg` and its position (`arg2`). Explicit names must be unique. A derived
/// name that two arguments share falls back to the positional name on both.
///
/// # Evaluation
///
/// The arguments are evaluated once, in order, and only when the level is enabled. They are
/// borrowed, never moved.
///
/// # Errors
///
/// A call that breaks a rule above does not compile, and the error points at the offending
/// token. So does a spec that does not fit its argument's type (`<:x>` on an `f64`) and an
/// argument of a type that cannot be logged.
#[proc_macro]
pub fn ulog(input: TokenStream) -> TokenStream {
    let call = match syn::parse::<parse::Call>(input) {
        Ok(call) => call,
        Err(error) => return error.to_compile_error().into(),
    };
    match validate::check(call) {
        Ok(checked) => expand::expand(&checked),
        Err(rejected) => expand::expand_rejected(&rejected),
    }
    .into()
}
