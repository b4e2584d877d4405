#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs the test tools (the real sops) into .tools/,
# then runs every test. CI runs exactly this (see .ci/run and README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-tools.sh
cargo test --all-targets --locked
