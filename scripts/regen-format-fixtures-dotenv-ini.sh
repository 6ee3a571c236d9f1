#!/usr/bin/env bash
# Regenerate the sops-written dotenv and INI fixtures with the real sops (3.11):
#
#   scripts/regen-format-fixtures-dotenv-ini.sh   # uses $SOPS_BIN, /opt/sopsvenv/bin/sops or `sops`
#
# For every corpus file NAME in tests/fixtures/corpus-dotenv/ and
# tests/fixtures/corpus-ini/:
#   tests/fixtures/sops-<fmt>/NAME                 = sops encrypt --age <age-test pub> <flags from NAME.flags> NAME
#   tests/fixtures/sops-<fmt>/decrypted/NAME.json  = sops decrypt --output-type json tests/fixtures/sops-<fmt>/NAME
#   tests/fixtures/sops-<fmt>/decrypted/NAME       = sops decrypt tests/fixtures/sops-<fmt>/NAME
# Files listed in the corpus directory's SOPS_UNREADABLE are those sops 3.11
# cannot handle: a dotenv file there is skipped (sops refuses to read it), an
# INI file gets no plain decryption (sops panics writing it; the JSON works).
# The tests (tests/formats_dotenv_ini.rs) check that sopx decrypts these files
# to the same data as sops, and that sops decrypts sopx's files to the same
# JSON as these.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
key1="$root/tests/fixtures/keys/age-test.txt"

sops="${SOPS_BIN:-}"
if [[ -z "$sops" ]]; then
  if [[ -x /opt/sopsvenv/bin/sops ]]; then sops=/opt/sopsvenv/bin/sops; else sops="$(command -v sops || true)"; fi
fi
[[ -n "$sops" && -x "$sops" ]] || { echo "sops not found (set SOPS_BIN)" >&2; exit 1; }
echo "using $sops: $("$sops" --version --disable-version-check 2>/dev/null | head -1)"

pub1="$(sed -n 's/^# public key: //p' "$key1")"

# A clean environment: no user config, keys or .sops.yaml can leak in.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
run_sops() {
  (cd "$work" && env -i PATH="$PATH" HOME="$work" XDG_CONFIG_HOME="$work/.config" \
      SOPS_AGE_KEY_FILE="$key1" "$sops" "$@")
}

listed() { # file name -> is NAME listed in the list file?
  [[ -f "$1" ]] && grep -v '^#' "$1" | awk '{print $1}' | grep -qxF "$2"
}

n=0
for fmt in dotenv ini; do
  corpus="$root/tests/fixtures/corpus-$fmt"
  out="$root/tests/fixtures/sops-$fmt"
  ext="$fmt"; [[ "$fmt" == dotenv ]] && ext=env
  rm -rf "$out"
  mkdir -p "$out/decrypted"
  for src in "$corpus"/*."$ext"; do
    name="$(basename "$src")"
    unreadable=false
    if listed "$corpus/SOPS_UNREADABLE" "$name"; then
      unreadable=true
      if [[ "$fmt" == dotenv ]]; then
        echo "skipping $fmt/$name (in SOPS_UNREADABLE)"
        continue
      fi
    fi
    flags=()
    if [[ -f "$src.flags" ]]; then
      read -r -a flags <<<"$(grep -v '^#' "$src.flags" | tr '\n' ' ')"
    fi
    run_sops encrypt --age "$pub1" "${flags[@]}" "$src" >"$out/$name.tmp"
    mv "$out/$name.tmp" "$out/$name"
    run_sops decrypt --output-type json "$out/$name" >"$out/decrypted/$name.json.tmp"
    mv "$out/decrypted/$name.json.tmp" "$out/decrypted/$name.json"
    if ! $unreadable; then
      run_sops decrypt "$out/$name" >"$out/decrypted/$name.tmp"
      mv "$out/decrypted/$name.tmp" "$out/decrypted/$name"
    fi
    n=$((n + 1))
  done
done
echo "wrote $n sops-encrypted dotenv/INI fixtures and their decryptions"
