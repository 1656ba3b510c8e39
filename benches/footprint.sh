#!/usr/bin/env bash
# Measures ulog's footprint:
#   (a) the peak resident memory (VmHWM) of the trading example run with default settings,
#       without and with LZ4 compression;
#   (b) the bytes of machine code and data that each `ulog!` call site adds to a release
#       binary, for three messages of the benchmarks: static, fill and str_i32.
#
#   benches/footprint.sh [--sites N]
#
# For (b) it generates a small program outside the workspace with N and 2N call sites of one
# message (default N = 200) and a baseline with none, builds each with the workspace's
# release profile, and reads section sizes with `size -A`. The bytes per call site are
# (size(2N) - size(N)) / N, and (size(N) - size(baseline)) / N gives the average over the
# first N sites, which includes code that only the first site of a kind adds. It takes about 3 minutes on 2 cores, most of it building, so CI does not
# run it. Exit codes: 0 done, 2 an error (missing tool, failed build or run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

sites=200
while [[ $# -gt 0 ]]; do
    case "$1" in
        --sites)
            sites="${2:-}"
            shift 2
            ;;
        *)
            echo "footprint: unknown argument '$1'; usage: benches/footprint.sh [--sites N]" >&2
            exit 2
            ;;
    esac
done
if ! [[ "$sites" =~ ^[1-9][0-9]*$ ]]; then
    echo "footprint: invalid --sites '$sites'; give a positive number of call sites" >&2
    exit 2
fi
for tool in cargo size awk; do
    if ! command -v "$tool" >/dev/null; then
        echo "footprint: $tool not found; install it (size is in binutils) and rerun" >&2
        exit 2
    fi
done

target="${CARGO_TARGET_DIR:-$root/target}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

echo "== (a) peak resident memory of the trading example, default settings"
if ! cargo build --release --quiet -p ulog-example-trading; then
    echo "footprint: building the trading example failed" >&2
    exit 2
fi
for compression in none lz4; do
    echo "--compression $compression:"
    "$target/release/trading" --dir "$scratch/logs-$compression" --tail 0 \
        --compression "$compression" | grep -E '^(records written|bytes per record|peak RSS)' \
        | sed 's/^/  /'
done

echo
echo "== (b) bytes added per ulog! call site, release build, $sites and $((2 * sites)) sites"
crate="$scratch/sites"
mkdir -p "$crate/src"
cat >"$crate/Cargo.toml" <<TOML
[package]
name = "ulog-footprint-sites"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
ulog = { path = "$root/runtime" }

# The workspace's release profile.
[profile.release]
debug = 1
codegen-units = 1
lto = "thin"

[workspace]
TOML

# Prints main.rs with COUNT call sites of MESSAGE: none, static, fill or str_i32.
generate() {
    local message="$1" count="$2"
    cat <<'RUST'
use std::hint::black_box;

use ulog::Config;

#[inline(never)]
fn log_sites(qty: u64, px: f64, gateway: &str, code: i32) {
    let _ = (qty, px, gateway, code);
RUST
    local index
    for ((index = 0; index < count; index++)); do
        case "$message" in
            static) echo "    ulog::ulog!(Info, \"order book snapshot $index finished\");" ;;
            fill) echo "    ulog::ulog!(Info, \"fill $index <> @ <>\", qty, px);" ;;
            str_i32) echo "    ulog::ulog!(Info, \"order $index for <> rejected with code <>\", gateway, code);" ;;
        esac
    done
    cat <<'RUST'
}

fn main() {
    let dir = std::env::args().nth(1).expect("pass a log directory");
    let _guard = ulog::init(Config::new().dir(dir)).expect("logger starts");
    log_sites(black_box(100), black_box(101.25), black_box("gw-equities-primary-01"), black_box(-3));
}
RUST
}

# Builds the program with COUNT sites of MESSAGE and prints the sizes of .text, .rodata,
# .data.rel.ro and .eh_frame.
measure() {
    local message="$1" count="$2"
    generate "$message" "$count" >"$crate/src/main.rs"
    if ! CARGO_TARGET_DIR="$target/footprint" cargo build --release --quiet \
        --manifest-path "$crate/Cargo.toml"; then
        echo "footprint: building $count call sites of $message failed" >&2
        exit 2
    fi
    local binary="$target/footprint/release/ulog-footprint-sites"
    if ! "$binary" "$scratch/logs-sites" >/dev/null; then
        echo "footprint: the program with $count call sites of $message failed" >&2
        exit 2
    fi
    size -A -d "$binary" | awk '
        $1 == ".text" { text = $2 }
        $1 == ".rodata" { rodata = $2 }
        $1 == ".data.rel.ro" { relro = $2 }
        $1 == ".eh_frame" { eh = $2 }
        END { print text + 0, rodata + 0, relro + 0, eh + 0 }'
}

read -r base_text _ < <(measure none 0)
echo "baseline without call sites: .text $base_text bytes"
printf '| %-8s | %10s | %12s | %17s | %14s | %20s |\n' \
    "message" ".text/site" ".rodata/site" ".data.rel.ro/site" ".eh_frame/site" ".text/site, first N"
printf '|%s|%s|%s|%s|%s|%s|\n' "----------" "-----------:" "-------------:" \
    "------------------:" "---------------:" "---------------------:"
for message in static fill str_i32; do
    read -r text1 rodata1 relro1 eh1 < <(measure "$message" "$sites")
    read -r text2 rodata2 relro2 eh2 < <(measure "$message" "$((2 * sites))")
    awk -v n="$sites" -v m="$message" -v b="$base_text" \
        -v t1="$text1" -v t2="$text2" -v r1="$rodata1" -v r2="$rodata2" \
        -v d1="$relro1" -v d2="$relro2" -v e1="$eh1" -v e2="$eh2" 'BEGIN {
            per = (t2 - t1) / n
            printf "| %-8s | %10.1f | %12.1f | %17.1f | %14.1f | %20.1f |\n",
                m, per, (r2 - r1) / n, (d2 - d1) / n, (e2 - e1) / n, (t1 - b) / n
        }'
done
