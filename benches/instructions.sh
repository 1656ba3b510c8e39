#!/usr/bin/env bash
# Counts the instructions of one ulog call per benchmark message under valgrind's callgrind
# and fails when a count exceeds its budget in benches/budgets.toml.
#
#   benches/instructions.sh [--repeat] [--calls N] [TARGET...]
#
# Exit codes: 0 every count within budget, 1 a count over budget, 2 an error (valgrind
# missing, invalid budget file, failed build). With CI set, a missing valgrind is installed
# with apt-get.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! command -v valgrind >/dev/null 2>&1; then
    if [[ -z "${CI:-}" ]]; then
        echo "instructions: valgrind not found; install it (apt-get install valgrind)," \
            "or set CI=1 to let this script install it" >&2
        exit 2
    fi
    sudo=""
    if [[ "$(id -u)" != 0 ]]; then
        sudo="sudo -n"
    fi
    echo "instructions: valgrind not found; installing it with apt-get because CI is set" >&2
    if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq valgrind; } >&2 \
        || ! command -v valgrind >/dev/null 2>&1; then
        echo "instructions: installing valgrind with apt-get failed; install it by hand" \
            "and rerun" >&2
        exit 2
    fi
fi

# The probes need neither the peer loggers nor their dependencies.
build=(--release --quiet -p ulog-benches --no-default-features --bin instructions)
if ! cargo build "${build[@]}"; then
    echo "instructions: building the probe binary failed" >&2
    exit 2
fi
exec cargo run "${build[@]}" -- \
    check --budgets benches/budgets.toml "$@"
