#!/usr/bin/env bash
# Runs every test of the workspace: unit, property, compile-fail, golden and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "test: cargo not found; install the Rust toolchain with rustup and retry" >&2
    exit 2
fi

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
