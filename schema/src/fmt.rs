//! The format-string grammar of `ulog!`, shared by the macro (which checks it at compile time)
//! and the decoder (which renders messages with it).
//!
//! ```text
//! format      := (literal | escape | placeholder)*
//! escape      := "<<"                      a literal '<'
//! placeholder := "<>" | "<:" spec ">"
//! spec        := [[fill] align] [sign] ["#"] ["0"] [width] ["." precision] [type]
//! fill        := any character
//! align       := "<" | "^" | ">"           left, center, right
//! sign        := "+" | "-"
//! width       := integer                   at most MAX_WIDTH
//! precision   := integer                   at most MAX_WIDTH
//! type        := "" | "?" | "x" | "X" | "o" | "b" | "e" | "E"
//! integer     := ["0"-"9"]+
//! ```
//!
//! A `<` that is not followed by `<`, `>` or `:` is literal text, so `px < limit` needs no
//! escape. Everything else about `spec` has the meaning of the part after the colon in Rust's
//! `{:spec}`: `<:>8.2>` renders like `{:>8.2}`. Rust's runtime widths (`*`, `name$`) are not
//! supported, because every argument's bytes are captured before anything is formatted.

use std::fmt;

use crate::ArgKind;

/// Largest width or precision a spec may give. Rust's own `format!` has the same limit.
pub const MAX_WIDTH: u16 = u16::MAX;

/// One piece of a parsed format string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text printed as it is, with escapes already resolved.
    Literal(&'a str),
    /// A placeholder that the next argument fills.
    Placeholder(Placeholder),
}

/// A placeholder and where it starts in the format string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder {
    /// Rendering options of the argument.
    pub spec: Spec,
    /// Byte offset of the opening `<` in the format string.
    pub offset: usize,
}

/// Alignment of a padded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// `<`: value first, then fill.
    Left,
    /// `^`: fill split around the value, the extra one on the right.
    Center,
    /// `>`: fill first, then value.
    Right,
}

/// Formatting trait of a placeholder, as in Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// No type letter: `Display`.
    Display,
    /// `?`: `Debug`.
    Debug,
    /// `x`: `LowerHex`.
    LowerHex,
    /// `X`: `UpperHex`.
    UpperHex,
    /// `o`: `Octal`.
    Octal,
    /// `b`: `Binary`.
    Binary,
    /// `e`: `LowerExp`.
    LowerExp,
    /// `E`: `UpperExp`.
    UpperExp,
}

impl Type {
    /// The letter after the spec's other parts, empty for `Display`.
    pub const fn letter(self) -> &'static str {
        match self {
            Type::Display => "",
            Type::Debug => "?",
            Type::LowerHex => "x",
            Type::UpperHex => "X",
            Type::Octal => "o",
            Type::Binary => "b",
            Type::LowerExp => "e",
            Type::UpperExp => "E",
        }
    }

    /// Name of the Rust trait this type renders with.
    pub const fn trait_name(self) -> &'static str {
        match self {
            Type::Display => "Display",
            Type::Debug => "Debug",
            Type::LowerHex => "LowerHex",
            Type::UpperHex => "UpperHex",
            Type::Octal => "Octal",
            Type::Binary => "Binary",
            Type::LowerExp => "LowerExp",
            Type::UpperExp => "UpperExp",
        }
    }

    /// Whether an argument of `kind` implements this type's trait.
    pub const fn accepts(self, kind: ArgKind) -> bool {
        match self {
            Type::Display | Type::Debug => true,
            Type::LowerHex | Type::UpperHex | Type::Octal | Type::Binary => kind.is_integer(),
            Type::LowerExp | Type::UpperExp => kind.is_numeric(),
        }
    }
}

/// A parsed spec: everything between `<:` and `>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// Padding character, a space unless given.
    pub fill: char,
    /// Alignment, or `None` for the type's default (left for text, right for numbers).
    pub align: Option<Align>,
    /// `+`: print a plus sign on non-negative numbers.
    pub sign_plus: bool,
    /// `-`: accepted for compatibility with Rust, and has no effect.
    pub sign_minus: bool,
    /// `#`: the alternate form (`0x` prefixes, pretty `Debug`).
    pub alternate: bool,
    /// `0`: pad numbers with zeros after the sign, ignoring fill and alignment.
    pub zero_pad: bool,
    /// Minimum width in characters.
    pub width: Option<u16>,
    /// Digits after the point for floats, maximum characters for text.
    pub precision: Option<u16>,
    /// Formatting trait.
    pub ty: Type,
}

impl Default for Spec {
    fn default() -> Self {
        Spec {
            fill: ' ',
            align: None,
            sign_plus: false,
            sign_minus: false,
            alternate: false,
            zero_pad: false,
            width: None,
            precision: None,
            ty: Type::Display,
        }
    }
}

impl Spec {
    /// Whether the spec is `<>`: `Display` with no options.
    pub fn is_plain(&self) -> bool {
        *self == Spec::default()
    }
}

impl fmt::Display for Spec {
    /// Writes the spec in Rust's syntax, without braces: the part after `{:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(align) = self.align {
            if self.fill != ' ' {
                write!(f, "{}", self.fill)?;
            }
            let symbol = match align {
                Align::Left => '<',
                Align::Center => '^',
                Align::Right => '>',
            };
            write!(f, "{symbol}")?;
        }
        if self.sign_plus {
            f.write_str("+")?;
        }
        if self.sign_minus {
            f.write_str("-")?;
        }
        if self.alternate {
            f.write_str("#")?;
        }
        if self.zero_pad {
            f.write_str("0")?;
        }
        if let Some(width) = self.width {
            write!(f, "{width}")?;
        }
        if let Some(precision) = self.precision {
            write!(f, ".{precision}")?;
        }
        f.write_str(self.ty.letter())
    }
}

/// A format string that does not follow the grammar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} (at byte {offset} of the format string)")]
pub struct ParseError {
    /// Byte offset of the offending character in the format string.
    pub offset: usize,
    /// Description of the problem.
    pub kind: ParseErrorKind,
}

/// The ways a format string can be invalid. Each message names what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The string ended inside `<:...`.
    #[error("placeholder is not closed: end it with `>`, or write `<<` for a literal `<`")]
    Unterminated,
    /// A character that the spec grammar does not allow at that point.
    #[error(
        "unexpected `{found}` in placeholder spec: expected \
         `[[fill]align][sign][#][0][width][.precision][type]>` \
         with type one of `? x X o b e E`"
    )]
    Unexpected {
        /// The character found.
        found: char,
    },
    /// `*` or `name$`, which Rust allows and ulog does not.
    #[error(
        "runtime widths and precisions (`*`, `name$`) are not supported: \
         write the number, such as `<:8.2>`"
    )]
    RuntimeWidth,
    /// A `.` with no digits after it.
    #[error("`.` must be followed by a precision, such as `<:.2>`")]
    MissingPrecision,
    /// A width or precision larger than [`MAX_WIDTH`].
    #[error("{what} {value} is larger than the maximum {MAX_WIDTH}")]
    TooLarge {
        /// `width` or `precision`.
        what: &'static str,
        /// The number as written.
        value: String,
    },
}

/// Parses a format string into literal text and placeholders.
///
/// # Errors
///
/// Returns a [`ParseError`] with the byte offset of the first character that breaks the
/// grammar in the module documentation.
pub fn parse(format: &str) -> Result<Vec<Piece<'_>>, ParseError> {
    let bytes = format.as_bytes();
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut index = 0;

    while index < bytes.len() {
        if bytes[index] != b'<' {
            index += 1;
            continue;
        }
        match bytes.get(index + 1) {
            Some(b'<') => {
                // Keep the first `<` as text and skip the second.
                push_literal(&mut pieces, &format[literal_start..=index]);
                index += 2;
                literal_start = index;
            }
            Some(b'>') => {
                push_literal(&mut pieces, &format[literal_start..index]);
                pieces.push(Piece::Placeholder(Placeholder {
                    spec: Spec::default(),
                    offset: index,
                }));
                index += 2;
                literal_start = index;
            }
            Some(b':') => {
                push_literal(&mut pieces, &format[literal_start..index]);
                let (spec, end) = parse_spec(format, index + 2)?;
                pieces.push(Piece::Placeholder(Placeholder {
                    spec,
                    offset: index,
                }));
                index = end;
                literal_start = index;
            }
            _ => index += 1,
        }
    }
    push_literal(&mut pieces, &format[literal_start..]);
    Ok(pieces)
}

/// Counts the placeholders of a parsed format string.
pub fn placeholder_count(pieces: &[Piece<'_>]) -> usize {
    pieces
        .iter()
        .filter(|piece| matches!(piece, Piece::Placeholder(_)))
        .count()
}

fn push_literal<'a>(pieces: &mut Vec<Piece<'a>>, text: &'a str) {
    if !text.is_empty() {
        pieces.push(Piece::Literal(text));
    }
}

/// A cursor over the spec part of a placeholder.
struct SpecCursor<'a> {
    format: &'a str,
    position: usize,
}

impl SpecCursor<'_> {
    fn peek(&self) -> Option<char> {
        self.format[self.position..].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.format[self.position..].chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let next = self.peek()?;
        self.position += next.len_utf8();
        Some(next)
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.position += expected.len_utf8();
            true
        } else {
            false
        }
    }

    fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError {
            offset: self.position,
            kind,
        }
    }

    fn integer(&mut self, what: &'static str) -> Result<Option<u16>, ParseError> {
        let start = self.position;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.position += 1;
        }
        if start == self.position {
            return Ok(None);
        }
        let digits = &self.format[start..self.position];
        if matches!(self.peek(), Some('$')) {
            return Err(self.error(ParseErrorKind::RuntimeWidth));
        }
        match digits.parse::<u16>() {
            Ok(value) => Ok(Some(value)),
            Err(_) => Err(ParseError {
                offset: start,
                kind: ParseErrorKind::TooLarge {
                    what,
                    value: digits.to_owned(),
                },
            }),
        }
    }
}

fn align_of(c: char) -> Option<Align> {
    match c {
        '<' => Some(Align::Left),
        '^' => Some(Align::Center),
        '>' => Some(Align::Right),
        _ => None,
    }
}

/// Reading of the start of a spec: a `>` there can be a fill, an alignment or the closing
/// bracket, so the parser tries each reading in turn.
#[derive(Clone, Copy)]
enum Prefix {
    FillAndAlign,
    Align,
    Neither,
}

/// Parses the spec that starts at byte `start`, through its closing `>`. Returns the spec and
/// the offset just past the `>`.
///
/// The first reading that parses wins, in the order fill and align, align alone, neither. So
/// `<:>>` is right-aligned, `<:>>5>` is filled with `>`, and `<:>` is an empty spec. When no
/// reading parses, the error is the one found furthest into the string.
fn parse_spec(format: &str, start: usize) -> Result<(Spec, usize), ParseError> {
    let mut furthest: Option<ParseError> = None;
    for prefix in [Prefix::FillAndAlign, Prefix::Align, Prefix::Neither] {
        match parse_spec_as(format, start, prefix) {
            Ok(Some(parsed)) => return Ok(parsed),
            Ok(None) => {}
            Err(error) => {
                if furthest
                    .as_ref()
                    .is_none_or(|best| error.offset > best.offset)
                {
                    furthest = Some(error);
                }
            }
        }
    }
    Err(furthest.unwrap_or(ParseError {
        offset: start,
        kind: ParseErrorKind::Unterminated,
    }))
}

/// Parses a spec with one reading of its start. Returns `Ok(None)` when the start does not fit
/// that reading at all.
fn parse_spec_as(
    format: &str,
    start: usize,
    prefix: Prefix,
) -> Result<Option<(Spec, usize)>, ParseError> {
    let mut cursor = SpecCursor {
        format,
        position: start,
    };
    let mut spec = Spec::default();

    match prefix {
        Prefix::FillAndAlign => match (cursor.peek(), cursor.peek_second().and_then(align_of)) {
            (Some(fill), Some(align)) => {
                spec.fill = fill;
                spec.align = Some(align);
                cursor.bump();
                cursor.bump();
            }
            _ => return Ok(None),
        },
        Prefix::Align => match cursor.peek().and_then(align_of) {
            Some(align) => {
                spec.align = Some(align);
                cursor.bump();
            }
            None => return Ok(None),
        },
        Prefix::Neither => {}
    }

    if cursor.eat('+') {
        spec.sign_plus = true;
    } else if cursor.eat('-') {
        spec.sign_minus = true;
    }
    spec.alternate = cursor.eat('#');
    if cursor.peek() == Some('0') && cursor.peek_second() != Some('$') {
        spec.zero_pad = true;
        cursor.bump();
    }
    if cursor.peek() == Some('*') {
        return Err(cursor.error(ParseErrorKind::RuntimeWidth));
    }
    spec.width = cursor.integer("width")?;
    if cursor.eat('.') {
        if cursor.peek() == Some('*') {
            return Err(cursor.error(ParseErrorKind::RuntimeWidth));
        }
        spec.precision = cursor.integer("precision")?;
        if spec.precision.is_none() {
            return Err(cursor.error(ParseErrorKind::MissingPrecision));
        }
    }
    spec.ty = match cursor.peek() {
        Some('?') => Type::Debug,
        Some('x') => Type::LowerHex,
        Some('X') => Type::UpperHex,
        Some('o') => Type::Octal,
        Some('b') => Type::Binary,
        Some('e') => Type::LowerExp,
        Some('E') => Type::UpperExp,
        _ => Type::Display,
    };
    if spec.ty != Type::Display {
        cursor.bump();
    }

    let found_at = cursor.position;
    match cursor.bump() {
        Some('>') => Ok(Some((spec, cursor.position))),
        None => Err(ParseError {
            offset: start - 2,
            kind: ParseErrorKind::Unterminated,
        }),
        Some(found) => {
            let rest = &format[found_at..];
            let name_length = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            let kind = if found.is_alphabetic() && rest[name_length..].starts_with('$') {
                ParseErrorKind::RuntimeWidth
            } else {
                ParseErrorKind::Unexpected { found }
            };
            Err(ParseError {
                offset: found_at,
                kind,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_of(format: &str) -> Spec {
        match parse(format).unwrap().as_slice() {
            [Piece::Placeholder(placeholder)] => placeholder.spec,
            other => panic!("expected one placeholder in {format:?}, got {other:?}"),
        }
    }

    #[test]
    fn literal_and_plain_placeholders() {
        let pieces = parse("fill <> @ <>").unwrap();
        assert_eq!(pieces.len(), 4);
        assert_eq!(pieces[0], Piece::Literal("fill "));
        assert_eq!(pieces[2], Piece::Literal(" @ "));
        assert_eq!(placeholder_count(&pieces), 2);
    }

    #[test]
    fn escape_gives_literal_angle() {
        let pieces = parse("a <<> b").unwrap();
        assert_eq!(pieces, vec![Piece::Literal("a <"), Piece::Literal("> b")]);
        assert_eq!(placeholder_count(&parse("<<<>").unwrap()), 1);
    }

    #[test]
    fn lone_angle_is_literal() {
        let pieces = parse("px < limit <= 5").unwrap();
        assert_eq!(pieces, vec![Piece::Literal("px < limit <= 5")]);
    }

    #[test]
    fn full_spec_parses() {
        let spec = spec_of("<:*^+#010.3e>");
        assert_eq!(spec.fill, '*');
        assert_eq!(spec.align, Some(Align::Center));
        assert!(spec.sign_plus);
        assert!(spec.alternate);
        assert!(spec.zero_pad);
        assert_eq!(spec.width, Some(10));
        assert_eq!(spec.precision, Some(3));
        assert_eq!(spec.ty, Type::LowerExp);
        assert_eq!(spec.to_string(), "*^+#010.3e");
    }

    #[test]
    fn angle_align_specs() {
        assert_eq!(spec_of("<:>8>").align, Some(Align::Right));
        assert_eq!(spec_of("<:>8>").width, Some(8));
        assert_eq!(spec_of("<:<8>").align, Some(Align::Left));
        assert_eq!(spec_of("<:>>").align, Some(Align::Right));
        assert_eq!(spec_of("<:>"), Spec::default());
        let spec = spec_of("<:>>5>");
        assert_eq!(
            (spec.fill, spec.align, spec.width),
            ('>', Some(Align::Right), Some(5))
        );
        let spec = spec_of("<:é<3>");
        assert_eq!((spec.fill, spec.align), ('é', Some(Align::Left)));
    }

    #[test]
    fn type_letters() {
        for (letter, ty) in [
            ("?", Type::Debug),
            ("x", Type::LowerHex),
            ("X", Type::UpperHex),
            ("o", Type::Octal),
            ("b", Type::Binary),
            ("e", Type::LowerExp),
            ("E", Type::UpperExp),
        ] {
            assert_eq!(spec_of(&format!("<:{letter}>")).ty, ty);
        }
    }

    #[test]
    fn errors_name_offset_and_fix() {
        let error = parse("x <:8").unwrap_err();
        assert_eq!(error.offset, 2);
        assert_eq!(error.kind, ParseErrorKind::Unterminated);

        let error = parse("<:8q>").unwrap_err();
        assert_eq!(error.kind, ParseErrorKind::Unexpected { found: 'q' });
        assert_eq!(error.offset, 3);

        assert_eq!(
            parse("<:.>").unwrap_err().kind,
            ParseErrorKind::MissingPrecision
        );
        assert_eq!(
            parse("<:*>").unwrap_err().kind,
            ParseErrorKind::RuntimeWidth
        );
        assert_eq!(
            parse("<:.*>").unwrap_err().kind,
            ParseErrorKind::RuntimeWidth
        );
        assert_eq!(
            parse("<:1$>").unwrap_err().kind,
            ParseErrorKind::RuntimeWidth
        );
        assert_eq!(
            parse("<:w$>").unwrap_err().kind,
            ParseErrorKind::RuntimeWidth
        );
        assert!(matches!(
            parse("<:1000000000>").unwrap_err().kind,
            ParseErrorKind::TooLarge { what: "width", .. }
        ));
        assert!(matches!(
            parse("<:.70000>").unwrap_err().kind,
            ParseErrorKind::TooLarge {
                what: "precision",
                ..
            }
        ));
    }

    #[test]
    fn type_accepts_kinds() {
        assert!(Type::LowerHex.accepts(ArgKind::U32));
        assert!(!Type::LowerHex.accepts(ArgKind::F64));
        assert!(Type::LowerExp.accepts(ArgKind::I8));
        assert!(!Type::LowerExp.accepts(ArgKind::Str));
        assert!(Type::Debug.accepts(ArgKind::Char));
    }
}
