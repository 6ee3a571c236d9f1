#!/usr/bin/env bash
# Regenerate tests/fixtures/sops-binary/** with the real sops (3.11), from the
# binary corpus in tests/fixtures/corpus-binary/.
#
#   scripts/regen-format-fixtures-binary-toml.sh   # uses $SOPS_BIN, /opt/sopsvenv/bin/sops or `sops`
#
# For every corpus file NAME (any extension sops 3.11 treats as binary,
# `.toml` included: sops 3.11 has no TOML store):
#   tests/fixtures/sops-binary/NAME           = sops encrypt --age <age-test pub> NAME
#   tests/fixtures/sops-binary/two-recipients/NAME (text.txt, app.toml only)
#                                             = the same for age-test + age-test2
# and the script checks that sops decrypts each one back to the corpus bytes.
# tests/formats_binary_toml.rs checks that sopx decrypts them to the same bytes.
#
# There are no sops TOML fixtures: no released sops (up to 3.13) reads or
# writes TOML; sopx's TOML layout is its own (docs/format.md, "TOML (sopx
# extension)").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="$root/tests/fixtures/corpus-binary"
out="$root/tests/fixtures/sops-binary"
key1="$root/tests/fixtures/keys/age-test.txt"
key2="$root/tests/fixtures/keys/age-test2.txt"

sops="${SOPS_BIN:-}"
if [[ -z "$sops" ]]; then
  if [[ -x /opt/sopsvenv/bin/sops ]]; then sops=/opt/sopsvenv/bin/sops; else sops="$(command -v sops || true)"; fi
fi
[[ -n "$sops" && -x "$sops" ]] || { echo "sops not found (set SOPS_BIN)" >&2; exit 1; }
echo "using $sops: $("$sops" --version --disable-version-check 2>/dev/null | head -1)"

pub() { sed -n 's/^# public key: //p' "$1"; }
pub1="$(pub "$key1")"
pub2="$(pub "$key2")"

# A clean environment: no user config, keys or .sops.yaml can leak in.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
run_sops() { # key-file args...
  local key="$1"
  shift
  (cd "$work" && env -i PATH="$PATH" HOME="$work" XDG_CONFIG_HOME="$work/.config" \
      SOPS_AGE_KEY_FILE="$key" "$sops" "$@")
}

rm -rf "$out"
mkdir -p "$out/two-recipients"
printf '* -text\n' >"$out/.gitattributes"
n=0
for src in "$corpus"/*; do
  [[ -f "$src" ]] || continue
  name="$(basename "$src")"
  run_sops "$key1" encrypt --age "$pub1" "$src" >"$out/$name.tmp"
  mv "$out/$name.tmp" "$out/$name"
  run_sops "$key1" decrypt "$out/$name" >"$work/check"
  cmp -s "$work/check" "$src" || { echo "sops did not decrypt $name back to its bytes" >&2; exit 1; }
  n=$((n + 1))
done
for name in text.txt app.toml; do
  run_sops "$key1" encrypt --age "$pub1,$pub2" "$corpus/$name" >"$out/two-recipients/$name"
  run_sops "$key2" decrypt "$out/two-recipients/$name" >"$work/check"
  cmp -s "$work/check" "$corpus/$name" || { echo "sops did not decrypt two-recipients/$name" >&2; exit 1; }
  n=$((n + 1))
done
echo "wrote $n sops-encrypted binary fixtures to $out"
