//! The level filter: a compile-time floor from the `max_level_*` features, and a run-time
//! minimum that `init` sets.

use std::sync::atomic::{AtomicU32, Ordering};

use ulog_schema::Level;

/// Level value that no call reaches: logging is off.
pub(crate) const LEVEL_OFF: u8 = u8::MAX;

/// Lowest level compiled in. The most restrictive `max_level_*` feature wins.
pub const STATIC_MIN_LEVEL: u8 = if cfg!(feature = "max_level_off") {
    LEVEL_OFF
} else if cfg!(feature = "max_level_error") {
    Level::Error as u8
} else if cfg!(feature = "max_level_warn") {
    Level::Warn as u8
} else if cfg!(feature = "max_level_info") {
    Level::Info as u8
} else if cfg!(feature = "max_level_debug") {
    Level::Debug as u8
} else {
    Level::Trace as u8
};

/// The run-time minimum level in the low 8 bits and the logger generation in the other 24.
///
/// The generation changes on every `init`, so a thread can tell a ring registered with an
/// earlier backend from its own. Log calls do not read this word: each checks the copy of the
/// minimum level in its thread's ring (see `producer::set_gates`). It serves [`enabled`] and
/// the registration of new rings.
static STATE: AtomicU32 = AtomicU32::new(LEVEL_OFF as u32);

const GENERATION_SHIFT: u32 = 8;

/// Returns the filter word: minimum level and generation.
#[inline(always)]
pub(crate) fn state() -> u32 {
    STATE.load(Ordering::Relaxed)
}

/// Extracts the generation from a filter word.
#[inline(always)]
pub(crate) fn generation_of(state: u32) -> u32 {
    state >> GENERATION_SHIFT
}

/// Stores a new minimum level and generation. Only `producer::set_gates` calls it, so the
/// word and the rings' copies change together.
pub(crate) fn set_state(min_level: u8, generation: u32) {
    STATE.store(
        (generation << GENERATION_SHIFT) | u32::from(min_level),
        Ordering::Release,
    );
}

/// Whether a call at `level` would be recorded by the running logger. The compile-time part
/// folds away, so calls below [`STATIC_MIN_LEVEL`] cost nothing.
///
/// `ulog!` checks the same minimum through the calling thread's ring instead, which is
/// cheaper; both change together.
#[inline(always)]
// The compile-time comparison is always true without a `max_level_*` feature, by design.
#[allow(clippy::absurd_extreme_comparisons)]
pub fn enabled(level: Level) -> bool {
    let level = level as u8;
    level >= STATIC_MIN_LEVEL && level >= state() as u8
}

/// Sets the minimum level of the running logger; calls below it are skipped and not counted.
/// Before `init` and after its guard is dropped, every level is off and this does nothing.
pub fn set_level(level: Level) {
    crate::producer::set_running_level(level as u8);
}
