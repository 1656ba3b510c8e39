//! The benchmark messages: the trading fill, the shapes of NanoLog's benchmark messages, and a
//! string with an `i32`.
//!
//! Each shape builds its arguments from the call's index, so no value is a constant the
//! compiler could fold into the call, and passes them to the matching [`Logger`] method.

use crate::loggers::Logger;

/// Arguments of the complex message: four integers and a duration.
#[derive(Debug, Clone, Copy)]
pub struct Mixed {
    pub symbols: u32,
    pub symbol_kb: u32,
    pub venues: u32,
    pub venue_kb: u32,
    pub millis: f64,
}

/// Gateway names for the string shapes; 22 to 24 bytes, the size of a typical host name.
const GATEWAYS: [&str; 4] = [
    "gw-equities-primary-01",
    "gw-equities-secondary-02",
    "gw-options-primary-03",
    "gw-futures-backup-04",
];

/// One benchmark message.
pub trait Shape {
    /// Row label in tables and budget files.
    const NAME: &'static str;

    /// The message as a peer logger writes it, with Rust's `{}` placeholders.
    const TEXT: &'static str;

    type Args: Copy;

    /// Returns the arguments of call number `index`.
    fn args(index: u64) -> Self::Args;

    /// Logs the message once.
    fn call<L: Logger>(logger: &L, args: Self::Args);
}

pub struct Fill;
pub struct StaticText;
pub struct OneInt;
pub struct TwoInts;
pub struct OneDouble;
pub struct OneStr;
pub struct Complex;
pub struct StrInt;

impl Shape for Fill {
    const NAME: &'static str = "fill";
    const TEXT: &'static str = "fill {} @ {}";
    type Args = (u64, f64);

    #[inline(always)]
    fn args(index: u64) -> Self::Args {
        (100 + index % 900, 101.25 + (index % 64) as f64 * 0.01)
    }

    #[inline(always)]
    fn call<L: Logger>(logger: &L, (qty, px): Self::Args) {
        logger.fill(qty, px);
    }
}

impl Shape for StaticText {
    const NAME: &'static str = "static";
    const TEXT: &'static str = "order book snapshot finished";
    type Args = ();

    #[inline(always)]
    fn args(_index: u64) -> Self::Args {}

    #[inline(always)]
    fn call<L: Logger>(logger: &L, (): Self::Args) {
        logger.static_text();
    }
}

impl Shape for OneInt {
    const NAME: &'static str = "int";
    const TEXT: &'static str = "feed handler read rate {} MB/s";
    type Args = i32;

    #[inline(always)]
    fn args(index: u64) -> Self::Args {
        (index % 10_000) as i32
    }

    #[inline(always)]
    fn call<L: Logger>(logger: &L, rate: Self::Args) {
        logger.int(rate);
    }
}

impl Shape for TwoInts {
    const NAME: &'static str = "two_ints";
    const TEXT: &'static str = "arena used {} bytes, reserved {} bytes";
    type Args = (u32, u32);

    #[inline(always)]
    fn args(index: u64) -> Self::Args {
        let used = (index % 1_000_000) as u32;
        (used, used + 4096)
    }

    #[inline(always)]
    fn call<L: Logger>(logger: &L, (used, reserved): Self::Args) {
        logger.two_ints(used, reserved);
    }
}

impl Shape for OneDouble {
    const NAME: &'static str = "double";
    const TEXT: &'static str = "imbalance threshold set to {:.6}";
    type Args = f64;

    #[inline(always)]
    fn args(index: u64) -> Self::Args {
        0.5 + (index % 1000) as f64 * 1e-4
    }

    #[inline(always)]
    fn call<L: Logger>(logger: &L, ratio: Self::Args) {
        logger.double(ratio);
    }
}

impl Shape for OneStr {
    const NAME: &'static str = "str";
    const TEXT: &'static str = "session opened with gateway {}";
    type Args = &'static str;

    #[inline(always)]
    fn args(index: u64) -> Self::Args {
        GATEWAYS[(index % 4) as usize]
    }

    #[inline(always)]
    fn call<L: Logger>(logger: &L, gateway: Self::Args) {
        logger.text(gateway);
    }
}

impl Shape for Complex {
    const NAME: &'static str = "complex";
    const TEXT: &'static str = "loaded {} symbols ({} KB) and {} venues ({} KB) in {:.1} ms";
    type Args = Mixed;

    #[inline(always)]
    fn args(index: u64) -> Self::Args {
        let symbols = 8_000 + (index % 512) as u32;
        Mixed {
            symbols,
            symbol_kb: symbols / 4,
            venues: 12 + (index % 8) as u32,
            venue_kb: 3,
            millis: 41.0 + (index % 100) as f64 * 0.1,
        }
    }

    #[inline(always)]
    fn call<L: Logger>(logger: &L, mixed: Self::Args) {
        logger.complex(mixed);
    }
}

impl Shape for StrInt {
    const NAME: &'static str = "str_i32";
    const TEXT: &'static str = "order for {} rejected with code {}";
    type Args = (&'static str, i32);

    #[inline(always)]
    fn args(index: u64) -> Self::Args {
        (GATEWAYS[(index % 4) as usize], -((index % 64) as i32))
    }

    #[inline(always)]
    fn call<L: Logger>(logger: &L, (gateway, code): Self::Args) {
        logger.text_int(gateway, code);
    }
}

/// Names of every shape, in table order.
pub const NAMES: [&str; 8] = [
    Fill::NAME,
    StaticText::NAME,
    OneInt::NAME,
    TwoInts::NAME,
    OneDouble::NAME,
    OneStr::NAME,
    Complex::NAME,
    StrInt::NAME,
];

/// Calls `visit` once for every shape, in table order.
///
/// Rust closures cannot be generic, so a trait with a generic method does the visiting.
pub trait ShapeVisitor {
    fn visit<S: Shape>(&mut self);
}

/// Runs `visitor` over every shape in table order.
pub fn for_each_shape<V: ShapeVisitor>(visitor: &mut V) {
    visitor.visit::<Fill>();
    visitor.visit::<StaticText>();
    visitor.visit::<OneInt>();
    visitor.visit::<TwoInts>();
    visitor.visit::<OneDouble>();
    visitor.visit::<OneStr>();
    visitor.visit::<Complex>();
    visitor.visit::<StrInt>();
}
