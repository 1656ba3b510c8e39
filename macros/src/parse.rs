//! The input syntax of `ulog!`: `level, "format", arguments`, read without judging it.
//!
//! The level and the format are read as any expression, so that `validate` can report what is
//! wrong with them and still knows the rest of the call.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Token};

/// One `ulog!` call as written.
pub struct Call {
    /// The level, or `None` when the call starts with the format string or is empty.
    pub level: Option<Expr>,
    /// The format, or `None` when the call ends before it.
    pub format: Option<Expr>,
    /// Span of the end of the input, where an error about a missing part points.
    pub end: Span,
    /// The arguments, in order.
    pub args: Vec<Argument>,
}

/// One argument: `expr` or `name = expr`.
pub struct Argument {
    /// The name given with `name = expr`.
    pub name: Option<Ident>,
    /// The value.
    pub expr: Expr,
}

impl Parse for Call {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let level = if input.is_empty() || input.peek(LitStr) {
            None
        } else {
            let level = input.parse()?;
            if !input.is_empty() {
                comma(input, "after the level")?;
            }
            Some(level)
        };

        let format = if input.is_empty() {
            None
        } else {
            Some(input.parse()?)
        };

        let mut args = Vec::new();
        while !input.is_empty() {
            let what = if args.is_empty() {
                "between the format and the first argument"
            } else {
                "between arguments"
            };
            comma(input, what)?;
            if input.is_empty() {
                break;
            }
            args.push(input.parse()?);
        }

        Ok(Call {
            level,
            format,
            end: input.span(),
            args,
        })
    }
}

impl Parse for Argument {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let name: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            if input.is_empty() || input.peek(Token![,]) {
                return Err(syn::Error::new_spanned(
                    &name,
                    format!("expected a value after `{name} =`, such as `{name} = order.qty`"),
                ));
            }
            Some(name)
        } else {
            None
        };
        Ok(Argument {
            name,
            expr: input.parse()?,
        })
    }
}

fn comma(input: ParseStream<'_>, place: &str) -> syn::Result<()> {
    if input.peek(Token![,]) {
        input.parse::<Token![,]>()?;
        Ok(())
    } else {
        Err(input.error(format!("expected `,` {place}")))
    }
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    use super::*;

    fn parse(tokens: &str) -> syn::Result<Call> {
        syn::parse_str(tokens)
    }

    fn text(tokens: &impl ToTokens) -> String {
        tokens.to_token_stream().to_string()
    }

    #[test]
    fn level_format_and_args() {
        let call = parse(r#"Info, "fill <> @ <>", qty, order.px"#).unwrap();
        assert_eq!(text(call.level.as_ref().unwrap()), "Info");
        assert_eq!(text(call.format.as_ref().unwrap()), r#""fill <> @ <>""#);
        assert_eq!(call.args.len(), 2);
        assert!(call.args.iter().all(|arg| arg.name.is_none()));
        assert_eq!(text(&call.args[1].expr), "order . px");
    }

    #[test]
    fn trailing_comma_is_accepted() {
        assert_eq!(parse(r#"Warn, "<>", x,"#).unwrap().args.len(), 1);
        assert!(parse(r#"Warn, "text","#).unwrap().args.is_empty());
        assert!(parse("Warn,").unwrap().format.is_none());
    }

    #[test]
    fn named_arguments_take_their_name() {
        let call = parse(r#"Info, "<> <> <>", qty = a + 1, r#type = t, x == y"#).unwrap();
        assert_eq!(call.args[0].name.as_ref().unwrap().to_string(), "qty");
        assert_eq!(text(&call.args[0].expr), "a + 1");
        assert_eq!(call.args[1].name.as_ref().unwrap().to_string(), "r#type");
        assert!(call.args[2].name.is_none());
        assert_eq!(text(&call.args[2].expr), "x == y");
    }

    #[test]
    fn missing_level_keeps_the_format() {
        let call = parse(r#""fill <>", qty"#).unwrap();
        assert!(call.level.is_none());
        assert!(call.format.is_some());
        assert_eq!(call.args.len(), 1);
        assert!(parse("").unwrap().level.is_none());
    }

    #[test]
    fn missing_commas_are_named() {
        let message = |tokens| parse(tokens).err().unwrap().to_string();
        assert_eq!(message(r#"Info "x""#), "expected `,` after the level");
        assert_eq!(
            message(r#"Info, "<>" x"#),
            "expected `,` between the format and the first argument"
        );
        assert_eq!(
            message(r#"Info, "<> <>", x y"#),
            "expected `,` between arguments"
        );
    }
}
