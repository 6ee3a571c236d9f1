#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time, each seeded
# from tests/fixtures, and prints the executions per target.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60, all)
# Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# The corpora (fuzz/corpus/) and crashes (fuzz/artifacts/) stay local.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
secs="${1:-60}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(yaml yaml_fast json dotenv ini toml binary enc_token metadata sops_yaml)
fx=tests/fixtures

seed() { # target, files...
  local dir="fuzz/corpus/$1"
  shift
  mkdir -p "$dir"
  local f
  for f in "$@"; do [[ -f $f ]] && cp "$f" "$dir/$(basename "$(dirname "$f")")_$(basename "$f")"; done
  return 0
}
shopt -s nullglob dotglob
seed yaml $fx/corpus/*.yaml $fx/sops/*.yaml $fx/sops-decrypted/*.yaml $fx/realworld/yaml/*
seed yaml_fast $fx/corpus/*.yaml $fx/sops/*.yaml $fx/sops-decrypted/*.yaml $fx/realworld/yaml/*
seed json $fx/corpus/*.json $fx/sops/*.json $fx/sops-decrypted/*.json $fx/realworld/json/*
seed dotenv $fx/corpus-dotenv/*.env $fx/sops-dotenv/* $fx/realworld/dotenv/*
seed ini $fx/corpus-ini/*.ini $fx/sops-ini/* $fx/realworld/ini/*
seed toml $fx/corpus-toml/*.toml $fx/realworld/toml/*
seed binary $fx/corpus-binary/* $fx/sops-binary/*
seed sops_yaml examples/.sops.yaml
mkdir -p fuzz/corpus/enc_token fuzz/corpus/metadata fuzz/corpus/sops_yaml
# Tokens and metadata blocks of the files the real sops wrote.
python3 - "$fx" <<'PY'
import json, pathlib, re, sys
fx = pathlib.Path(sys.argv[1])
toks = set()
for f in fx.glob("sops*/*"):
    if f.is_file():
        toks.update(re.findall(r"ENC\[AES256_GCM,[^\]]*\]", f.read_text(errors="replace")))
for i, t in enumerate(sorted(toks)[:200]):
    pathlib.Path(f"fuzz/corpus/enc_token/fx{i}").write_text(t)
for f in fx.glob("sops/*.json"):
    try:
        m = json.loads(f.read_text()).get("sops")
    except Exception:
        continue
    if m is not None:
        pathlib.Path(f"fuzz/corpus/metadata/{f.stem}").write_text(json.dumps(m))
rules = [
    "creation_rules:\n  - path_regex: \\.yaml$\n    age: age1cjw0fpmk6v645m4zfqq093j8fjftqmxq538j5xnl3n29h9pcmenqws6xat\n",
    "creation_rules:\n  - path_regex: prod/.*\n    key_groups:\n      - age: [age1cjw0fpmk6v645m4zfqq093j8fjftqmxq538j5xnl3n29h9pcmenqws6xat]\n        pgp: [FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4]\n    shamir_threshold: 1\n    encrypted_regex: ^(data|stringData)$\n",
    "stores:\n  yaml:\n    indent: 2\ncreation_rules:\n  - kms: arn:aws:kms:us-east-1:111122223333:key/abc,arn:aws:kms:eu-west-1:111122223333:alias/x\n    gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k\n    hc_vault_transit_uri: https://vault.example:8200/v1/transit/keys/k\n    azure_keyvault: https://v.vault.azure.net/keys/k/0123456789abcdef0123456789abcdef\n",
]
for i, r in enumerate(rules):
    pathlib.Path(f"fuzz/corpus/sops_yaml/rules{i}.yaml").write_text(r)
PY

(cd fuzz && cargo +nightly fuzz build -O >/dev/null) || {
  echo "building the fuzz targets failed" >&2
  exit 1
}
tdir="$(cd fuzz && cargo +nightly metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
bin="$tdir/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"
mkdir -p fuzz/artifacts
summary=()
for t in "${targets[@]}"; do
  log="fuzz/artifacts/$t.log"
  echo "== $t ($secs s)"
  status=ok
  "$bin/$t" "fuzz/corpus/$t" -artifact_prefix="fuzz/artifacts/$t-" -max_total_time="$secs" \
    -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 >"$log" 2>&1 || status=FAILED
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  summary+=("$t: ${runs:-?} executions, $status")
  [[ $status == ok ]] || tail -40 "$log"
done
printf '%s\n' "${summary[@]}"
printf '%s\n' "${summary[@]}" | grep -q FAILED && exit 1 || exit 0
