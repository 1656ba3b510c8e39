//! Calls of `ulog!` that must not compile, and the error each one gives. Regenerate the
//! `.stderr` files with `TRYBUILD=overwrite cargo test -p ulog --test ui`, then read them.

#[test]
fn invalid_calls_fail_to_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
