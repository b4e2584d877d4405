#!/usr/bin/env bash
# The whole test suite, on a fresh machine: checks formatting, lints (clippy, warnings are
# errors) and that the core library builds without its front-end features, installs the test
# tools (the real sops, the local KMS server) into .tools/, starts the KMS server on 127.0.0.1
# for the KMS tests, runs every test, then fuzzes the readers for a minute. CI runs exactly
# this (see .ci/run and README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
# The core/front-end boundary, checked by the compiler: no editor, AWS SDK or publish.
cargo check --lib --no-default-features --locked
# The demo's lean build (README's first command): no AWS SDK, gRPC key service or sequoia.
cargo clippy --bins --no-default-features --features lean --locked -- -D warnings
./scripts/install-tools.sh

# A local AWS KMS + STS API (moto) on a free loopback port; the KMS tests find it through
# SESAME_TEST_KMS_ENDPOINT and fail (never skip) without it. Stopped by PID on every exit.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
kms_log="$(mktemp "${TMPDIR:-/tmp}/sesame-kms-server.XXXXXX")"
.tools/bin/moto_server -H 127.0.0.1 -p "$port" >"$kms_log" 2>&1 &
kms_pid=$!
stop_kms() {
    kill "$kms_pid" 2>/dev/null || true
    wait "$kms_pid" 2>/dev/null || true
    rm -f "$kms_log"
}
trap stop_kms EXIT
export SESAME_TEST_KMS_ENDPOINT="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    if python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
        "$SESAME_TEST_KMS_ENDPOINT/moto-api/" 2>/dev/null; then
        break
    fi
    if ! kill -0 "$kms_pid" 2>/dev/null; then
        echo "the local KMS server (moto_server) exited:" >&2
        cat "$kms_log" >&2
        exit 1
    fi
    sleep 0.2
done
python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" \
    "$SESAME_TEST_KMS_ENDPOINT/moto-api/" || {
    echo "the local KMS server did not answer on $SESAME_TEST_KMS_ENDPOINT" >&2
    cat "$kms_log" >&2
    exit 1
}

cargo test --all-targets --locked

# Coverage-guided fuzzing of the readers (every store, the metadata, Document::open): 60 s.
./scripts/fuzz.sh 60
