//! The code a `ulog!` call becomes.
//!
//! ```text
//! if enabled_here(Level::Info) {
//!     match (&(qty), &(px)) {
//!         (__ulog_a0, __ulog_a1) => {
//!             fn __ulog_write<A0: Arg, A1: Arg>(a0: &A0, a1: &A1) {
//!                 let site = const { &Site { .., args: &[ArgMeta { kind: A0::KIND, .. }, ..] } };
//!                 let len = a0.encoded_len() + a1.encoded_len();
//!                 write_record(site, len, |writer| { a0.encode(writer); a1.encode(writer); });
//!             }
//!             check_integer_spec((__ulog_a1,).0);    // per placeholder whose spec needs it
//!             __ulog_write((__ulog_a0,).0, (__ulog_a1,).0);
//!         }
//!     }
//! }
//! ```
//!
//! The `match` evaluates each argument once and keeps its temporaries alive for the whole
//! call, as `format_args!` does. The inline `const` gives every call site one `Site` in
//! read-only memory, and the generic function is how it learns the argument types, which the
//! macro cannot name. Because the function is generic, a call inside a generic function gets
//! one site per set of argument types. The function is always inlined, so the call costs what
//! its body costs.
//!
//! The `Arg` bound is required in one place only, the call of `__ulog_write`, so an argument
//! whose type cannot be logged gives one error. Code that concerns one argument carries that
//! argument's span, so type errors point at the argument.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr};

use crate::validate::{level_name, Checked, Rejected, SpecCheck};

/// Expands a call that passed validation.
pub fn expand(call: &Checked) -> TokenStream {
    let private = quote!(::ulog::__private);
    let level = format_ident!("{}", level_name(call.level));
    let level_check = call
        .level_path
        .as_ref()
        .map_or_else(|| quote!(#private::Level::#level), |path| quote!(#path));
    let format = LitStr::new(&call.format.value(), call.format.span());

    let spans: Vec<Span> = call.args.iter().map(|arg| arg.expr.span()).collect();
    let bindings: Vec<_> = spans
        .iter()
        .enumerate()
        .map(|(index, span)| Ident::new(&format!("__ulog_a{index}"), *span))
        .collect();
    let params: Vec<_> = (0..call.args.len())
        .map(|index| format_ident!("A{index}"))
        .collect();
    let values: Vec<_> = (0..call.args.len())
        .map(|index| format_ident!("a{index}"))
        .collect();

    let borrows = call.args.iter().map(|arg| {
        let expr = &arg.expr;
        quote_spanned!(expr.span()=> &(#expr))
    });
    let metas = call.args.iter().zip(&params).map(|(arg, param)| {
        let name = LitStr::new(&arg.name, arg.expr.span());
        quote! {
            #private::ArgMeta { kind: <#param as #private::Arg>::KIND, name: #name }
        }
    });
    let whole: Vec<_> = call
        .args
        .iter()
        .zip(&bindings)
        .map(|(arg, binding)| spanning(binding, &arg.expr))
        .collect();
    let spec_checks = call.args.iter().zip(&whole).filter_map(|(arg, value)| {
        let check = match arg.spec_check? {
            SpecCheck::Integer => quote!(check_integer_spec),
            SpecCheck::Numeric => quote!(check_numeric_spec),
        };
        Some(quote_spanned!(arg.expr.span()=> ::ulog::__private::#check(#value);))
    });
    let len = if call.args.is_empty() {
        quote!(0)
    } else {
        quote!(#(#private::Arg::encoded_len(#values))+*)
    };
    let closure = if call.args.is_empty() {
        quote!(|_| {})
    } else {
        // The compiler's default heuristics declined to inline a closure of five `encode`
        // calls into the fast path: 100 instructions per call instead of about 30 (callgrind).
        quote!(#[inline(always)] |writer| { #(#private::Arg::encode(#values, writer);)* })
    };

    quote! {
        {
            if #private::enabled_here(#level_check) {
                match (#(#borrows,)*) {
                    (#(#bindings,)*) => {
                        #[inline(always)]
                        #[allow(clippy::too_many_arguments)]
                        fn __ulog_write<#(#params: #private::Arg + ?::core::marker::Sized),*>(
                            #(#values: &#params),*
                        ) {
                            let site: &'static #private::Site = const {
                                &#private::Site {
                                    level: #private::Level::#level,
                                    module: ::core::module_path!(),
                                    file: ::core::file!(),
                                    line: ::core::line!(),
                                    column: ::core::column!(),
                                    format: #format,
                                    args: &[#(#metas),*],
                                }
                            };
                            let len: usize = #len;
                            #private::write_record(site, len, #closure);
                        }

                        #(#spec_checks)*
                        __ulog_write(#(#whole),*);
                    }
                }
            }
        }
    }
}

/// Expands a rejected call to its errors, and a reference to each argument in dead code. The
/// references keep the caller's variables used, and still type-check the arguments.
pub fn expand_rejected(rejected: &Rejected) -> TokenStream {
    let errors = rejected.error.to_compile_error();
    let exprs = &rejected.exprs;
    quote! {
        {
            #errors
            if false {
                #(let _ = &(#exprs);)*
            }
        }
    }
}

/// Returns `binding` as an expression whose span covers the whole argument `expr`, so that an
/// error about its type underlines the argument and not only its first token. Stable Rust
/// cannot join two spans, so the expression is `(binding,).0`, with the tuple at the
/// argument's first token and the field at its last.
fn spanning(binding: &Ident, expr: &Expr) -> TokenStream {
    let first = expr.span();
    let last = match expr.to_token_stream().into_iter().last() {
        Some(TokenTree::Group(group)) => group.span_close(),
        Some(token) => token.span(),
        None => first,
    };
    let mut tuple = Group::new(Delimiter::Parenthesis, quote!(#binding,));
    tuple.set_span(first);
    let field = quote_spanned!(last=> .0);
    quote!(#tuple #field)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Call;
    use crate::validate::check;

    fn expand_str(tokens: &str) -> String {
        let call: Call = syn::parse_str(tokens).unwrap();
        match check(call) {
            Ok(checked) => expand(&checked).to_string(),
            Err(rejected) => expand_rejected(&rejected).to_string(),
        }
    }

    #[test]
    fn expansion_has_site_checks_and_write() {
        let code = expand_str(r#"Info, "fill <> @ <:x>", qty, order.px"#);
        for part in [
            ":: ulog :: __private :: enabled_here (:: ulog :: __private :: Level :: Info)",
            "match (& (qty) , & (order . px) ,)",
            "(__ulog_a0 , __ulog_a1 ,) =>",
            "fn __ulog_write < A0 : :: ulog :: __private :: Arg + ? :: core :: marker :: Sized , \
             A1 : :: ulog :: __private :: Arg + ? :: core :: marker :: Sized > \
             (a0 : & A0 , a1 : & A1)",
            "kind : < A0 as :: ulog :: __private :: Arg > :: KIND , name : \"qty\"",
            "name : \"px\"",
            "format : \"fill <> @ <:x>\"",
            "let len : usize = :: ulog :: __private :: Arg :: encoded_len (a0) + \
             :: ulog :: __private :: Arg :: encoded_len (a1) ;",
            ":: ulog :: __private :: write_record (site , len , # [inline (always)] | writer | { \
             :: ulog :: __private :: Arg :: encode (a0 , writer) ; \
             :: ulog :: __private :: Arg :: encode (a1 , writer) ; })",
            ":: ulog :: __private :: check_integer_spec ((__ulog_a1 ,) . 0) ; \
             __ulog_write ((__ulog_a0 ,) . 0 , (__ulog_a1 ,) . 0) ;",
        ] {
            assert!(code.contains(part), "missing `{part}` in\n{code}");
        }
        assert!(!code.contains("check_numeric_spec"));
    }

    #[test]
    fn level_path_is_kept_for_check() {
        let code = expand_str(r#"Level::Warn, "x""#);
        assert!(
            code.contains(":: ulog :: __private :: enabled_here (Level :: Warn)"),
            "{code}"
        );
        assert!(
            code.contains("level : :: ulog :: __private :: Level :: Warn"),
            "{code}"
        );
    }

    #[test]
    fn no_arguments_expand_to_empty_record() {
        let code = expand_str(r#"Warn, "started""#);
        assert!(code.contains("match () { () =>"), "{code}");
        assert!(code.contains("fn __ulog_write < > () {"), "{code}");
        assert!(code.contains("args : & []"), "{code}");
        assert!(code.contains("let len : usize = 0 ;"), "{code}");
        assert!(
            code.contains("write_record (site , len , | _ | { })"),
            "{code}"
        );
        assert!(code.contains("__ulog_write () ;"), "{code}");
    }

    #[test]
    fn rejected_call_still_mentions_arguments() {
        let code = expand_str(r#"Info, "<>", a, b"#);
        assert!(code.contains("compile_error"), "{code}");
        assert!(
            code.contains("if false { let _ = & (a) ; let _ = & (b) ; }"),
            "{code}"
        );
        assert!(!code.contains("write_record"), "{code}");
    }
}
