#!/usr/bin/env bash
# Whole-repository batch against the real sops run file by file, in one
# script run (not part of the test suite):
#   1. a generated tree of N small YAML files (default 1,000) in nested
#      directories, one age recipient from .sops.yaml:
#        - sopx encrypt -i -r TREE        vs  sops encrypt -i, file by file
#        - sopx decrypt -r --output-dir   vs  sops decrypt > out, file by file
#        - sopx check -r TREE (hyperfine when installed)
#   2. with 5 AWS KMS recipients: moto_server on loopback behind a tiny proxy
#      that holds every request for LATENCY_MS (default 50) before passing
#      it on, on a tree of KMS_FILES files (default 200; sops makes its 5
#      wrap calls one after the other, so 1,000 files take it minutes).
#
#   scripts/bench-batch.sh                 # N=1000 KMS_FILES=200 LATENCY_MS=50
#   N=200 KMS_FILES=50 scripts/bench-batch.sh
#   SKIP_KMS=1 scripts/bench-batch.sh      # or SKIP_AGE=1: only part 2
#   JOBS=32 scripts/bench-batch.sh         # sopx -j 32 (default: max(cores, 8))
#   SOPX=path/to/sopx SOPS_BIN=... MOTO_SERVER_BIN=... scripts/bench-batch.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${N:-1000}"
kms_files="${KMS_FILES:-200}"
latency_ms="${LATENCY_MS:-50}"

sops="${SOPS_BIN:-}"
if [[ -z "$sops" ]]; then
  if [[ -x /opt/sopsvenv/bin/sops ]]; then sops=/opt/sopsvenv/bin/sops; else sops="$(command -v sops || true)"; fi
fi
[[ -n "$sops" && -x "$sops" ]] || { echo "sops not found (set SOPS_BIN)" >&2; exit 1; }

sopx="${SOPX:-}"
if [[ -z "$sopx" ]]; then
  (cd "$root" && cargo build --release --quiet --bin sopx)
  sopx="${CARGO_TARGET_DIR:-$root/target}/release/sopx"
fi

tmp="$(mktemp -d)"
moto_pid="" proxy_pid=""
cleanup() {
  for p in "$proxy_pid" "$moto_pid"; do
    if [[ -n "$p" ]]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config"
mkdir -p "$HOME"
for v in $(env | sed -n 's/^\(SOPS_[A-Z0-9_]*\|AWS_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export SOPS_AGE_KEY_FILE="$root/tests/fixtures/keys/age-test.txt"
pub="$(sed -n 's/^# public key: //p' "$SOPS_AGE_KEY_FILE")"

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# gen DIR COUNT: COUNT small YAML files under DIR/<a>/<b>/, a .gitignore'd
# directory and a README that no rule covers.
gen() {
  python3 - "$1" "$2" <<'PY'
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
random.seed(7)
for i in range(count):
    d = os.path.join(root, "services", f"team{i % 10}", f"app{i % 37}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"s{i}.yaml"), "w") as f:
        f.write(f"# service {i}\ndb:\n  user: app{i}\n  password: {random.getrandbits(96):x}\n"
                f"  port: {5000 + i}\napi_token: {random.getrandbits(128):x}\nenabled: true\n")
os.makedirs(os.path.join(root, "build"), exist_ok=True)
open(os.path.join(root, "build", "ignored.yaml"), "w").write("a: 1\n")
open(os.path.join(root, ".gitignore"), "w").write("build/\n")
open(os.path.join(root, "README.md"), "w").write("# tree\n")
PY
}

rules() { # DIR KEYLINE
  printf 'creation_rules:\n  - path_regex: ^services/.*\\.yaml$\n    %s\n' "$2" >"$1/.sops.yaml"
}

echo "sopx: $("$sopx" --version | head -1); sops: $("$sops" --version --disable-version-check 2>/dev/null | head -1); $(nproc) cores"
echo

files() { (cd "$1" && find services -name '*.yaml' | sort); }
# sopx with the batch's -j, when JOBS is set.
sopxj() { "$sopx" "$1" ${JOBS:+-j "$JOBS"} "${@:2}"; }

# ---- 1. age, N files --------------------------------------------------------
if [[ -z "${SKIP_AGE:-}" ]]; then
gen a "$n"; rules a "age: $pub"
cp -r a b
cp -r a c

t=$(date +%s%N); (cd a && sopxj encrypt -i -r . 2>"$tmp/enc.log"); sopx_enc=$(ms_since "$t")
tail -1 "$tmp/enc.log"
# The same without the --reuse git:HEAD default's `git ls-files` per file
# (sops has no such step).
t=$(date +%s%N); (cd c && sopxj encrypt -i --no-reuse -r . 2>/dev/null); sopx_enc_nr=$(ms_since "$t")
t=$(date +%s%N); (cd b && files . | while read -r f; do "$sops" encrypt -i "$f"; done); sops_enc=$(ms_since "$t")

t=$(date +%s%N); (cd a && sopxj decrypt -r . --output-dir "$tmp/out-a" 2>"$tmp/dec.log"); sopx_dec=$(ms_since "$t")
tail -1 "$tmp/dec.log"
t=$(date +%s%N)
(cd b && files . | while read -r f; do mkdir -p "$tmp/out-b/$(dirname "$f")"; "$sops" decrypt "$f" >"$tmp/out-b/$f"; done)
sops_dec=$(ms_since "$t")
# sops re-indents YAML where sopx keeps the bytes: compare the file lists.
[[ "$(cd "$tmp/out-a" && find . -type f | sort)" == "$(cd "$tmp/out-b" && find . -type f | sort)" ]] && echo "same plaintext files from sopx and sops"
# sops opens what sopx wrote
(cd a && "$sops" decrypt "$(files . | head -1)" >/dev/null) && echo "sops opens sopx's files"

if command -v hyperfine >/dev/null 2>&1; then
  (cd a && hyperfine -N --style none --warmup 2 --runs 10 -i --export-json "$tmp/check.json" -- "$sopx check ${JOBS:+-j $JOBS} -r ." >/dev/null 2>&1)
  check_ms=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f ± %.1f" % (r["mean"]*1000, r["stddev"]*1000))' "$tmp/check.json")
else
  t=$(date +%s%N); (cd a && "$sopx" check -r . 2>/dev/null); check_ms=$(ms_since "$t")
fi

echo
printf '%-34s %10s %10s %8s\n' "age, $n files" "sopx ms" "sops ms" "ratio"
printf '%-34s %10s %10s %7sx\n' "encrypt -i (sopx -r; sops per file)" "$sopx_enc" "$sops_enc" "$(python3 -c "print('%.1f' % ($sops_enc / $sopx_enc))")"
printf '%-34s %10s %10s %7sx\n' "  the same, sopx --no-reuse" "$sopx_enc_nr" "$sops_enc" "$(python3 -c "print('%.1f' % ($sops_enc / $sopx_enc_nr))")"
printf '%-34s %10s %10s %7sx\n' "decrypt (sopx -r --output-dir)" "$sopx_dec" "$sops_dec" "$(python3 -c "print('%.1f' % ($sops_dec / $sopx_dec))")"
printf '%-34s %10s\n' "check -r (encrypted tree)" "$check_ms"

fi
[[ -n "${SKIP_KMS:-}" ]] && exit 0

# ---- 2. 5 AWS KMS keys behind a 50 ms proxy -------------------------------
moto="${MOTO_SERVER_BIN:-}"
if [[ -z "$moto" ]]; then
  if [[ -x /opt/sopsvenv/bin/moto_server ]]; then moto=/opt/sopsvenv/bin/moto_server; else moto="$(command -v moto_server || true)"; fi
fi
[[ -n "$moto" && -x "$moto" ]] || { echo "moto_server not found (set MOTO_SERVER_BIN); KMS part skipped" >&2; exit 0; }
python="$(dirname "$moto")/python3"
[[ -x "$python" ]] || python=python3
freeport() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(freeport)"; pport="$(freeport)"
"$moto" -H 127.0.0.1 -p "$port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
# The proxy: one thread per connection, each request held LATENCY_MS, then
# sent on to moto over a fresh connection.
"$python" - "$pport" "$port" "$latency_ms" >"$tmp/proxy.log" 2>&1 <<'PY' &
import http.client, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
listen, upstream, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self): self.relay()
    def do_GET(self): self.relay()
    def relay(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(delay)
        c = http.client.HTTPConnection("127.0.0.1", upstream, timeout=30)
        c.request(self.command, self.path, body, {k: v for k, v in self.headers.items()})
        r = c.getresponse(); data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers(); self.wfile.write(data)
class S(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
S(("127.0.0.1", listen), H).serve_forever()
PY
proxy_pid=$!
for _ in $(seq 1 300); do
  "$python" -c "import sys,urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null && break
  sleep 0.1
done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$pport" AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$tmp/none" AWS_SHARED_CREDENTIALS_FILE="$tmp/none"
arns="$("$python" - "$port" <<'PY'
import json, sys, urllib.request
arns = []
for i in range(5):
    req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/", data=json.dumps({"Description": f"bench {i}"}).encode(),
        headers={"X-Amz-Target": "TrentService.CreateKey", "Content-Type": "application/x-amz-json-1.1",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=00"})
    arns.append(json.load(urllib.request.urlopen(req))["KeyMetadata"]["Arn"])
print(",".join(arns))
PY
)"
gen k "$kms_files"; rules k "kms: $arns"
cp -r k l
unset SOPS_AGE_KEY_FILE

t=$(date +%s%N); (cd k && sopxj encrypt -i -r . 2>"$tmp/kenc.log"); ksopx_enc=$(ms_since "$t")
tail -1 "$tmp/kenc.log"
t=$(date +%s%N); (cd l && files . | while read -r f; do "$sops" encrypt -i "$f"; done); ksops_enc=$(ms_since "$t")
t=$(date +%s%N); (cd k && sopxj decrypt -r . --output-dir "$tmp/kout-a" 2>"$tmp/kdec.log"); ksopx_dec=$(ms_since "$t")
tail -1 "$tmp/kdec.log"
t=$(date +%s%N)
(cd l && files . | while read -r f; do mkdir -p "$tmp/kout-b/$(dirname "$f")"; "$sops" decrypt "$f" >"$tmp/kout-b/$f"; done)
ksops_dec=$(ms_since "$t")
[[ "$(cd "$tmp/kout-a" && find . -type f | sort)" == "$(cd "$tmp/kout-b" && find . -type f | sort)" ]] && echo "same plaintext files from sopx and sops (KMS)"
grep -c '^        - arn:' "k/$(files k | head -1)" | sed 's/^/KMS recipients per sopx file: /'

echo
printf '%-34s %10s %10s %8s\n' "5 KMS keys, ${latency_ms} ms/call, $kms_files files" "sopx ms" "sops ms" "ratio"
printf '%-34s %10s %10s %7sx\n' "encrypt -i" "$ksopx_enc" "$ksops_enc" "$(python3 -c "print('%.1f' % ($ksops_enc / $ksopx_enc))")"
printf '%-34s %10s %10s %7sx\n' "decrypt (--output-dir)" "$ksopx_dec" "$ksops_dec" "$(python3 -c "print('%.1f' % ($ksops_dec / $ksopx_dec))")"
echo "(sopx: -j ${JOBS:-default, max(cores, 8)}; at most 32 remote requests in flight)"
