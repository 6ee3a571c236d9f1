#!/usr/bin/env bash
# Benchmark sopx against the real sops: encrypt and decrypt of a small YAML file
# (~20 keys with comments) and a large one (20,000 keys, nested, mixed types).
# Reports mean wall time, the ratio sops/sopx, peak RSS (KiB) of each, and
# sopx's peak RSS as a multiple of the input file's size.
# Not part of the test suite.
#
#   scripts/bench-vs-sops.sh [RUNS]      # RUNS defaults to 10
#   scripts/bench-vs-sops.sh RUNS --huge # also a 200 MB file with 5.4 million
#                                        # keys, sopx only, one run each (sops
#                                        # took over 8 CPU minutes and 17 GB
#                                        # there before it was stopped)
#   SOPS_BIN=/path/to/sops scripts/bench-vs-sops.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-10}"
huge="${2:-}"

need_apt() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ $(id -u) == 0 ]]; then
    apt-get update -qq </dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" </dev/null >/dev/null
  fi
}
need_apt hyperfine hyperfine || true
[[ -x /usr/bin/time ]] || need_apt /usr/bin/time time || true
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time missing (apt-get install time)" >&2; exit 1; }

sops="${SOPS_BIN:-}"
if [[ -z "$sops" ]]; then
  if [[ -x /opt/sopsvenv/bin/sops ]]; then sops=/opt/sopsvenv/bin/sops; else sops="$(command -v sops || true)"; fi
fi
[[ -n "$sops" && -x "$sops" ]] || { echo "sops not found (set SOPS_BIN)" >&2; exit 1; }

(cd "$root" && cargo build --release --quiet --bin sopx)
sopx="${CARGO_TARGET_DIR:-$root/target}/release/sopx"

key="$root/tests/fixtures/keys/age-test.txt"
pub="$(sed -n 's/^# public key: //p' "$key")"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# Clean, private environment for both tools.
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config"
mkdir -p "$HOME"
for v in $(env | sed -n 's/^\(SOPS_[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export SOPS_AGE_KEY_FILE="$key"

# ---- inputs ---------------------------------------------------------------
python3 - <<'PY'
import random
random.seed(42)
small = ["# small service configuration", "# generated for the benchmark", ""]
for i in range(20):
    if i % 5 == 0:
        small.append(f"# section {i // 5}")
    kind = i % 4
    if kind == 0:
        small.append(f"key_{i}: value-{i}-secret  # inline comment {i}")
    elif kind == 1:
        small.append(f"port_{i}: {8000 + i}")
    elif kind == 2:
        small.append(f"ratio_{i}: {i / 7:.4f}")
    else:
        small.append(f"enabled_{i}: {'true' if i % 2 else 'false'}")
open("small.yaml", "w").write("\n".join(small) + "\n")

big = ["# large generated file: 20,000 leaf keys", ""]
n = 0
g = 0
while n < 20000:
    big.append(f"# group {g}")
    big.append(f"group_{g}:")
    for s in range(10):
        big.append(f"  sub_{s}:")
        for k in range(10):
            r = random.random()
            if r < 0.5:
                v = f"'{''.join(random.choice('abcdefghijklmnopqrstuvwxyz0123456789') for _ in range(24))}'"
            elif r < 0.7:
                v = str(random.randint(-10**9, 10**9))
            elif r < 0.85:
                v = f"{random.uniform(-1000, 1000):.6f}"
            elif r < 0.95:
                v = random.choice(["true", "false"])
            else:
                v = "null"
            big.append(f"    k{k}: {v}")
            n += 1
    g += 1
    if g % 10 == 0:
        big.append("")
open("large.yaml", "w").write("\n".join(big) + "\n")
PY

"$sopx" encrypt --age "$pub" small.yaml >small.sopx.enc.yaml
"$sopx" encrypt --age "$pub" large.yaml >large.sopx.enc.yaml
"$sops" encrypt --age "$pub" small.yaml >small.sops.enc.yaml
"$sops" encrypt --age "$pub" large.yaml >large.sops.enc.yaml

# ---- measurement ----------------------------------------------------------
# mean wall time in ms of a command (string run by sh -c)
mean_ms() {
  local cmd="$1"
  if command -v hyperfine >/dev/null 2>&1; then
    # -N: no intermediate shell, so millisecond runs are not drowned in its start-up.
    hyperfine -N --style none --warmup 3 --runs "$2" --export-json "$tmp/h.json" -- "${cmd#exec }" >/dev/null 2>&1
    python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["mean"]*1000))' "$tmp/h.json"
  else
    sh -c "$cmd" >/dev/null 2>&1
    local start end
    start=$(date +%s%N)
    for ((i = 0; i < $2; i++)); do sh -c "$cmd" >/dev/null 2>&1; done
    end=$(date +%s%N)
    python3 -c "print('%.2f' % (($end - $start) / 1e6 / $2))"
  fi
}
# peak RSS in KiB
peak_kib() { /usr/bin/time -f %M -o "$tmp/rss" sh -c "$1" >/dev/null 2>&1; tail -1 "$tmp/rss"; }

printf '%-8s %-8s %12s %12s %10s %14s %14s %10s\n' file op "sopx ms" "sops ms" "sops/sopx" "sopx RSS KiB" "sops RSS KiB" "sopx RSS/size"
for f in small large; do
  enc_sopx="exec '$sopx' encrypt --age '$pub' $f.yaml"
  enc_sops="exec '$sops' encrypt --age '$pub' $f.yaml"
  dec_sopx="exec '$sopx' decrypt $f.sopx.enc.yaml"
  dec_sops="exec '$sops' decrypt $f.sops.enc.yaml"
  # Small files take a few milliseconds: more runs to average out noise.
  n=$runs; [[ $f == small ]] && n=$((runs * 5))
  for op in encrypt decrypt; do
    if [[ $op == encrypt ]]; then a="$enc_sopx"; b="$enc_sops"; else a="$dec_sopx"; b="$dec_sops"; fi
    ta=$(mean_ms "$a" "$n"); tb=$(mean_ms "$b" "$n")
    ra=$(peak_kib "$a"); rb=$(peak_kib "$b")
    ratio=$(python3 -c "print('%.2f' % ($tb / $ta))")
    input=$f.yaml; [[ $op == decrypt ]] && input=$f.sopx.enc.yaml
    per=$(python3 -c "print('%.1f' % ($ra * 1024 / $(wc -c <"$input")))")
    printf '%-8s %-8s %12s %12s %10s %14s %14s %10s\n' "$f" "$op" "$ta" "$tb" "${ratio}x" "$ra" "$rb" "${per}x"
  done
done
echo "($runs runs each; $(command -v hyperfine >/dev/null && echo hyperfine || echo 'date +%s%N loop'); sizes: small $(wc -c <small.yaml) B, large $(wc -c <large.yaml) B)"

[[ "$huge" == --huge ]] || exit 0

# ---- a 200 MB file: time and peak memory, one run each -----------------------
python3 - <<'PY'
import random
random.seed(7)
alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
n = g = 0
with open("huge.yaml", "w") as out:
    while n < 5_400_000:
        buf = [f"# group {g}\ngroup_{g}:\n"]
        for s in range(10):
            buf.append(f"  sub_{s}:\n")
            for k in range(10):
                r = random.random()
                if r < 0.5:
                    v = "'" + "".join(random.choices(alnum, k=38)) + "'"
                elif r < 0.7:
                    v = str(random.randint(-10**9, 10**9))
                elif r < 0.85:
                    v = f"{random.uniform(-1000, 1000):.6f}"
                elif r < 0.95:
                    v = random.choice(["true", "false"])
                else:
                    v = "null"
                buf.append(f"    key_{k}: {v}\n")
                n += 1
        g += 1
        out.write("".join(buf))
PY
# wall seconds and peak RSS (KiB) of one run, output to $2
one() { /usr/bin/time -f '%e %M' -o "$tmp/t" sh -c "$1" >"$2" 2>/dev/null; tail -1 "$tmp/t"; }
size=$(wc -c <huge.yaml)
read -r es er < <(one "exec '$sopx' encrypt --age '$pub' huge.yaml" huge.sopx.enc.yaml)
esize=$(wc -c <huge.sopx.enc.yaml)
read -r ds dr < <(one "exec '$sopx' decrypt huge.sopx.enc.yaml" huge.out)
cmp -s huge.out huge.yaml || { echo "huge: sopx decrypt does not give back the file" >&2; exit 1; }
rm -f huge.out
printf '\n%-8s %-8s %10s %14s %16s\n' file op "sopx s" "sopx RSS MiB" "RSS/input size"
printf '%-8s %-8s %10s %14s %16s\n' huge encrypt "$es" $((er / 1024)) \
  "$(python3 -c "print('%.2fx' % ($er * 1024 / $size))")"
printf '%-8s %-8s %10s %14s %16s\n' huge decrypt "$ds" $((dr / 1024)) \
  "$(python3 -c "print('%.2fx' % ($dr * 1024 / $esize))")"
echo "(one run each; huge.yaml $((size / 1048576)) MiB, 5,400,000 keys; its encryption, decrypt's input, $((esize / 1048576)) MiB)"
