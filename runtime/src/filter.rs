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
/// Packing both into one word lets a call check the level and whether its thread's ring
/// belongs to the running backend with a single relaxed load. The generation changes on every
/// `init`, so a ring registered with an earlier backend is replaced rather than written into.
static STATE: AtomicU32 = AtomicU32::new(LEVEL_OFF as u32);

const LEVEL_MASK: u32 = 0xff;
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

/// Stores a new minimum level and generation.
pub(crate) fn set_state(min_level: u8, generation: u32) {
    STATE.store(
        (generation << GENERATION_SHIFT) | u32::from(min_level),
        Ordering::Release,
    );
}

/// Changes the minimum level and keeps the generation.
pub(crate) fn set_min_level(min_level: u8) {
    let generation = generation_of(state());
    set_state(min_level, generation);
}

/// Whether a call at `level` is recorded. The compile-time part folds away, so calls below
/// [`STATIC_MIN_LEVEL`] cost nothing.
#[inline(always)]
// The compile-time comparison is always true without a `max_level_*` feature, by design.
#[allow(clippy::absurd_extreme_comparisons)]
pub fn enabled(level: Level) -> bool {
    let level = level as u8;
    // Comparing the low byte, not the masked word, lets the compiler compare the loaded byte
    // directly: 2 instructions fewer per call (callgrind, `benches/instructions.sh`).
    level >= STATIC_MIN_LEVEL && level >= state() as u8
}

/// Sets the minimum level of the running logger; calls below it are skipped and not counted.
/// Before `init` and after its guard is dropped, every level is off.
pub fn set_level(level: Level) {
    if state() & LEVEL_MASK != u32::from(LEVEL_OFF) {
        set_min_level(level as u8);
    }
}
