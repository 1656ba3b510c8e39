#!/usr/bin/env bash
# Fuzzes the segment decoder with libFuzzer through cargo fuzz, on stable Rust.
#
#   scripts/fuzz.sh [SECONDS] [--export]
#
# Runs the three targets of fuzz/ one after another on one core, SECONDS in all (default 600;
# 0 only exports), each with the same fixed seed (FUZZ_SEED, default 1). Corpora grow in
# fuzz/corpus/<target>, and crashes land in fuzz/artifacts/<target>/. With --export, each
# target's corpus is then minimized and written as segment files to
# decoder/tests/corpus/<target>-*.ulog, which `cargo test --workspace` replays. Files named
# otherwise there, such as the inputs of fixed crashes, are kept. Exits 1 when a target found
# a crash, a timeout or an allocation above the limit.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=600
export_corpus=false
for arg in "$@"; do
    case "$arg" in
        --export) export_corpus=true ;;
        '' | *[!0-9]*)
            echo "fuzz: invalid argument '$arg': pass a duration in seconds and optionally --export" >&2
            exit 2
            ;;
        *) seconds=$arg ;;
    esac
done

targets=(segment_bytes segment_blocks message_render)
seed=${FUZZ_SEED:-1}
per_target=$((seconds / ${#targets[@]}))
if ((seconds > 0 && per_target < 1)); then
    echo "fuzz: $seconds seconds is less than one per target: pass 0 or at least ${#targets[@]}" >&2
    exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked
fi

# Fuzz builds get their own target folder: their instrumentation flags would otherwise force
# a rebuild of the workspace's ordinary builds, and the other way around.
fuzz_target_dir=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$PWD/target}/fuzz}
tools_target_dir=${fuzz_target_dir}-tools

# --sanitizer none keeps to stable Rust: AddressSanitizer needs the nightly-only -Zsanitizer.
# Safe Rust gets its bounds and overflow checks from the debug assertions cargo fuzz enables.
(cd fuzz && cargo fuzz build --sanitizer none --target-dir "$fuzz_target_dir")
(cd fuzz && cargo build --quiet --target-dir "$tools_target_dir" --example corpus)
corpus_tool=$tools_target_dir/debug/examples/corpus
bin_dir=$fuzz_target_dir/x86_64-unknown-linux-gnu/release

"$corpus_tool" seed fuzz/corpus
cp decoder/tests/corpus/*.ulog fuzz/corpus/segment_bytes/ 2>/dev/null || true

status=0
for target in "${targets[@]}"; do
    if ((seconds == 0)); then
        break
    fi
    mkdir -p "fuzz/artifacts/$target"
    echo "fuzz: $target for $per_target s, seed $seed" >&2
    # Inputs up to 64 KiB. Decoding one takes milliseconds and a few MiB, so 10 s for one input,
    # or 64 MiB in one allocation, is a bug.
    if ! "$bin_dir/$target" "fuzz/corpus/$target" \
        -seed="$seed" -max_total_time="$per_target" -max_len=65536 -timeout=10 \
        -malloc_limit_mb=64 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$target/"; then
        echo "fuzz: $target found a failure; see fuzz/artifacts/$target/" >&2
        status=1
    fi
done

if $export_corpus; then
    for target in "${targets[@]}"; do
        minimized=$(mktemp -d)
        rm -f "decoder/tests/corpus/$target"-*.ulog
        # Keep a small set of inputs, cut to 1 KiB, that covers every edge the corpus reaches;
        # hit counts per edge would keep thousands.
        "$bin_dir/$target" -set_cover_merge=1 -use_counters=0 -max_len=1024 \
            "$minimized" "fuzz/corpus/$target" 2>/dev/null
        "$corpus_tool" export "$target" "$minimized" decoder/tests/corpus
        rm -rf "$minimized"
    done
    echo "fuzz: exported to decoder/tests/corpus ($(du -sh decoder/tests/corpus | cut -f1))" >&2
fi
exit $status
