#!/usr/bin/env bash
# Runs the main job end to end. It builds the trading example and ulog-decode in release
# mode and logs a multi-threaded trading workload into ./logs. Then it decodes the logs to
# JSON lines and checks that every line is valid JSON and that the record count matches what
# was written.
#
# Extra arguments go to the trading example, e.g. `scripts/demo.sh --duration 10 --rate unlimited`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
    echo "demo: cargo not found; install the Rust toolchain with rustup and retry" >&2
    exit 2
fi

cargo build --release --quiet -p ulog-example-trading -p ulog-decode
bin="${CARGO_TARGET_DIR:-target}/release"

summary=$(mktemp)
json=$(mktemp)
trap 'rm -f "$summary" "$json"' EXIT

"$bin/trading" --dir logs "$@" | tee "$summary"
"$bin/ulog-decode" --format json logs/ >"$json"

written=$(awk '/^records written:/ {print $3}' "$summary")
python3 - "$json" "$written" <<'PY'
import json, sys

path, written = sys.argv[1], int(sys.argv[2])
records = drops = 0
with open(path, encoding="utf-8") as lines:
    for number, line in enumerate(lines, 1):
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            sys.exit(f"demo: line {number} of the JSON output is not valid JSON: {error}")
        if not isinstance(value, dict):
            sys.exit(f"demo: line {number} is not a JSON object")
        if "msg" in value:
            records += 1
        elif "dropped" in value:
            drops += 1
print(f"ulog-decode --format json logs/: {records} records, {drops} drop markers, every line valid JSON")
if records != written:
    sys.exit(f"demo: decoded {records} records, but the logger wrote {written}")
print("demo: decoded records = records logged - records dropped")
PY
