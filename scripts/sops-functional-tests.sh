#!/usr/bin/env bash
# Runs sops's own functional test suite with sesame placed as its `./sops`.
#   scripts/sops-functional-tests.sh SOPS_GIT_DIR [TAG]
# SOPS_GIT_DIR is a clone (or bare mirror) of the sops repository; the suite is exported from
# TAG (default v3.11.0) into a temp folder and never copied into this project. Like sops's CI,
# it gets a private GnuPG home with sops's test key, and a dev-mode OpenBao server (Vault API)
# on 127.0.0.1:8200 with a KV v1 engine at kv/. Set SESAME_FT_BINARY=sops to run the real sops
# instead, for comparison.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sops_git="${1:?usage: $0 SOPS_GIT_DIR [TAG]}"
tag="${2:-v3.11.0}"
"$root/scripts/install-tools.sh" >/dev/null

work="$(mktemp -d /tmp/sesame-ft.XXXXXX)"
bao_pid=""
cleanup() {
    [ -n "$bao_pid" ] && kill "$bao_pid" 2>/dev/null || true
    GNUPGHOME="$work/gnupg" gpgconf --kill gpg-agent 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

git --git-dir="$sops_git" archive "$tag" functional-tests pgp/sops_functional_tests_key.asc \
    2>/dev/null | tar -x -C "$work" \
    || git -C "$sops_git" archive "$tag" functional-tests pgp/sops_functional_tests_key.asc | tar -x -C "$work"

mkdir -m 700 "$work/gnupg"
GNUPGHOME="$work/gnupg" gpg --batch --quiet --import "$work/pgp/sops_functional_tests_key.asc" 2>/dev/null

mkdir "$work/bao-home"
HOME="$work/bao-home" "$root/.tools/bin/bao" server -dev -dev-root-token-id=root \
    -dev-listen-address=127.0.0.1:8200 >"$work/bao.log" 2>&1 &
bao_pid=$!
for _ in $(seq 100); do
    BAO_ADDR=http://127.0.0.1:8200 "$root/.tools/bin/bao" status >/dev/null 2>&1 && break
    sleep 0.1
done
BAO_ADDR=http://127.0.0.1:8200 BAO_TOKEN=root "$root/.tools/bin/bao" secrets enable -version=1 kv >/dev/null

if [ "${SESAME_FT_BINARY:-sesame}" = sops ]; then
    cp "$(readlink -f "$root/.tools/bin/sops")" "$work/functional-tests/sops"
else
    (cd "$root" && cargo build --locked --quiet)
    cp "$root/target/debug/sesame" "$work/functional-tests/sops"
fi

cd "$work/functional-tests"
unset SOPS_AGE_KEY_FILE SOPS_AGE_KEY SOPS_AGE_KEY_CMD
GNUPGHOME="$work/gnupg" SOPS_DISABLE_VERSION_CHECK=1 \
    VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root \
    CARGO_TARGET_DIR="${SESAME_FT_TARGET:-$work/target}" cargo test --quiet 2>&1 | grep -E "^test result|FAILED|panicked" | head -n 20
