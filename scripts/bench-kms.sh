#!/usr/bin/env bash
# Benchmark sopx against the real sops with AWS KMS keys: a moto_server on
# loopback stands in for KMS. Creates 5 keys, then times
#   - decrypt of a file wrapped for all 5 (written by sopx),
#   - encrypt of the same plaintext for the 5 keys,
# with sopx and with sops, against the same moto. sopx sends the 5 wrap
# requests at once on encrypt, and on decrypt asks every key of the group at
# once and takes the first answer; sops goes key by key.
# Not part of the test suite.
#
#   scripts/bench-kms.sh [RUNS]        # RUNS defaults to 20
#   SOPS_BIN=... MOTO_SERVER_BIN=... scripts/bench-kms.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-20}"

sops="${SOPS_BIN:-}"
if [[ -z "$sops" ]]; then
  if [[ -x /opt/sopsvenv/bin/sops ]]; then sops=/opt/sopsvenv/bin/sops; else sops="$(command -v sops || true)"; fi
fi
[[ -n "$sops" && -x "$sops" ]] || { echo "sops not found (set SOPS_BIN)" >&2; exit 1; }
moto="${MOTO_SERVER_BIN:-}"
if [[ -z "$moto" ]]; then
  if [[ -x /opt/sopsvenv/bin/moto_server ]]; then moto=/opt/sopsvenv/bin/moto_server; else moto="$(command -v moto_server || true)"; fi
fi
[[ -n "$moto" && -x "$moto" ]] || { echo "moto_server not found (set MOTO_SERVER_BIN; scripts/test.sh installs it)" >&2; exit 1; }
python="$(dirname "$moto")/python3"
[[ -x "$python" ]] || python=python3

(cd "$root" && cargo build --release --quiet --bin sopx)
sopx="$root/target/release/sopx"

tmp="$(mktemp -d)"
moto_pid=""
cleanup() {
  if [[ -n "$moto_pid" ]]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

# A free loopback port, then moto on it.
port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$moto" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 300); do
  "$python" - "$port" <<'PY' 2>/dev/null && break
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
PY
  sleep 0.1
done

# A clean, private environment for both tools: fake credentials, moto as the
# endpoint, no shared config files, no instance metadata.
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config"
mkdir -p "$HOME"
for v in $(env | sed -n 's/^\(SOPS_[A-Z0-9_]*\|AWS_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$tmp/none" AWS_SHARED_CREDENTIALS_FILE="$tmp/none"

# Five keys, through the KMS JSON API.
arns="$("$python" - "$port" <<'PY'
import json, sys, urllib.request
arns = []
for i in range(5):
    req = urllib.request.Request(
        f"http://127.0.0.1:{sys.argv[1]}/",
        data=json.dumps({"Description": f"bench {i}"}).encode(),
        headers={
            "X-Amz-Target": "TrentService.CreateKey",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00",
        },
    )
    arns.append(json.load(urllib.request.urlopen(req))["KeyMetadata"]["Arn"])
print(",".join(arns))
PY
)"

cat >plain.yaml <<'YAML'
# service configuration
db:
    user: admin
    password: hunter2 # inline
    port: 5432
api_token: 0123456789abcdef
tags:
    - a
    - b
enabled: true
YAML
"$sopx" encrypt --kms "$arns" plain.yaml >five.yaml
n="$(grep -c '^        - arn:' five.yaml)"
[[ "$n" == 5 ]] || { echo "expected 5 kms entries, found $n" >&2; exit 1; }
"$sopx" decrypt five.yaml | cmp -s - plain.yaml || { echo "sopx does not open its own file" >&2; exit 1; }
"$sops" decrypt five.yaml >/dev/null || { echo "sops does not open sopx's file" >&2; exit 1; }

echo "sopx: $("$sopx" --version 2>/dev/null | head -1); sops: $("$sops" --version --disable-version-check 2>/dev/null | head -1)"
echo "moto_server on 127.0.0.1:$port; 5 KMS keys; $runs runs each"
echo

if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 3 --runs "$runs" -N --export-markdown "$tmp/decrypt.md" \
    -n "sopx decrypt (5 kms)" "$sopx decrypt five.yaml" \
    -n "sops decrypt (5 kms)" "$sops decrypt five.yaml"
  hyperfine --warmup 3 --runs "$runs" -N --export-markdown "$tmp/encrypt.md" \
    -n "sopx encrypt (5 kms)" "$sopx encrypt --kms $arns plain.yaml" \
    -n "sops encrypt (5 kms)" "$sops encrypt --kms $arns plain.yaml"
  echo
  cat "$tmp/decrypt.md"
  echo
  cat "$tmp/encrypt.md"
else
  timeit() { # label command...
    local label="$1"; shift
    local start end
    start="$(date +%s%N)"
    for _ in $(seq 1 "$runs"); do "$@" >/dev/null; done
    end="$(date +%s%N)"
    awk -v l="$label" -v ns="$((end - start))" -v n="$runs" 'BEGIN { printf "%-24s %8.1f ms mean over %d runs\n", l, ns / 1e6 / n, n }'
  }
  timeit "sopx decrypt (5 kms)" "$sopx" decrypt five.yaml
  timeit "sops decrypt (5 kms)" "$sops" decrypt five.yaml
  timeit "sopx encrypt (5 kms)" "$sopx" encrypt --kms "$arns" plain.yaml
  timeit "sops encrypt (5 kms)" "$sops" encrypt --kms "$arns" plain.yaml
fi
