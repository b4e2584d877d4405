#!/usr/bin/env bash
# Coverage-guided fuzzing of sesame's readers with libFuzzer, on the stable toolchain: builds the
# targets in fuzz/ with SanitizerCoverage, seeds each from the test fixtures (files the real sops
# wrote), and runs them for SECONDS in all (default 60) split across the targets. A crash, a
# panic, a timeout or running out of memory fails the run and leaves the input in
# target/fuzz/artifacts/. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-60}"
targets=(store metadata document)
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR="$PWD/target/fuzz"
# An explicit target keeps the instrumentation off build scripts and proc macros.
host="$(rustc -vV | sed -n 's/^host: //p')"
cargo build --release --locked --manifest-path fuzz/Cargo.toml --bins --target "$host"
bin="$CARGO_TARGET_DIR/$host/release"

work="$CARGO_TARGET_DIR/run"
rm -rf "$work"
mkdir -p "$work/seeds" "$CARGO_TARGET_DIR/artifacts"
# Seeds: every fixture and the demo file, each behind a format byte for the targets that read one.
i=0
while IFS= read -r -d '' f; do
    case "$f" in
        *.yaml|*.yml) b=0 ;; *.json) b=1 ;; *.env) b=2 ;; *.ini) b=3 ;; *) b=4 ;;
    esac
    { printf "\\x$(printf %02x "$b")"; cat "$f"; } > "$work/seeds/$i"
    i=$((i + 1))
done < <(find tests/fixtures assets -type f -size -64k -print0)
echo "fuzzing ${targets[*]} for ${total} s with $i seed files"

per=$(( total / ${#targets[@]} ))
[ "$per" -ge 1 ] || per=1
for t in "${targets[@]}"; do
    corpus="$work/corpus-$t"
    mkdir -p "$corpus"
    "$bin/$t" "$corpus" "$work/seeds" \
        -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$CARGO_TARGET_DIR/artifacts/$t-" -print_final_stats=1 \
        2> "$work/$t.log" || {
        echo "fuzz target $t failed:" >&2
        tail -n 40 "$work/$t.log" >&2
        exit 1
    }
    grep -E '^stat::number_of_executed_units|^Done' "$work/$t.log" | tr '\n' ' ' | sed "s/^/$t: /"
    echo
done
