#!/usr/bin/env bash
# Regenerate tests/fixtures/sops/** and tests/fixtures/sops-decrypted/** with the
# real sops (3.11), from the plaintext corpus in tests/fixtures/corpus/.
#
#   scripts/regen-sops-fixtures.sh            # uses $SOPS_BIN, /opt/sopsvenv/bin/sops or `sops`
#
# For every corpus file NAME (.yaml/.json):
#   tests/fixtures/sops/NAME            = sops encrypt --age <age-test pub> <flags from NAME.flags> NAME
#   tests/fixtures/sops-decrypted/NAME  = sops decrypt tests/fixtures/sops/NAME
# and for a few files, the same with two recipients (age-test + age-test2) under
# two-recipients/ (decrypted with the SECOND key, to prove both recipients work).
#
# sops 3.11's `encrypt` subcommand lacks --mac-only-encrypted and the
# --(un)encrypted-comment-regex flags; they only exist on the legacy
# `sops --encrypt` form, so the script uses that form for files whose flags need it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="$root/tests/fixtures/corpus"
out="$root/tests/fixtures/sops"
dec="$root/tests/fixtures/sops-decrypted"
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
run_sops() {
  (cd "$work" && env -i PATH="$PATH" HOME="$work" XDG_CONFIG_HOME="$work/.config" \
      SOPS_AGE_KEY_FILE="$SOPS_AGE_KEY_FILE_FOR_RUN" "$sops" "$@")
}

needs_legacy() { grep -qE -- '--(mac-only-encrypted|encrypted-comment-regex|unencrypted-comment-regex)' "$1" 2>/dev/null; }

encrypt_one() { # src dst recipients
  local src="$1" dst="$2" recips="$3" flags=() f="$1.flags"
  if [[ -f "$f" ]]; then
    # whitespace-separated args, '#' lines are comments
    read -r -a flags <<<"$(grep -v '^#' "$f" | tr '\n' ' ')"
  fi
  if needs_legacy "$f"; then
    SOPS_AGE_KEY_FILE_FOR_RUN="$key1" run_sops --encrypt --age "$recips" "${flags[@]}" "$src" >"$dst.tmp"
  else
    SOPS_AGE_KEY_FILE_FOR_RUN="$key1" run_sops encrypt --age "$recips" "${flags[@]}" "$src" >"$dst.tmp"
  fi
  mv "$dst.tmp" "$dst"
}

rm -rf "$out" "$dec"
mkdir -p "$out/two-recipients" "$dec/two-recipients"
n=0
for src in "$corpus"/*.yaml "$corpus"/*.json; do
  name="$(basename "$src")"
  encrypt_one "$src" "$out/$name" "$pub1"
  SOPS_AGE_KEY_FILE_FOR_RUN="$key1" run_sops decrypt "$out/$name" >"$dec/$name"
  n=$((n + 1))
done
for name in indent2.yaml multidoc.yaml k8s_secret.yaml indent2.json nested_arrays.json; do
  encrypt_one "$corpus/$name" "$out/two-recipients/$name" "$pub1,$pub2"
  SOPS_AGE_KEY_FILE_FOR_RUN="$key2" run_sops decrypt "$out/two-recipients/$name" >"$dec/two-recipients/$name"
  n=$((n + 1))
done
echo "wrote $n sops-encrypted fixtures to $out and their decryptions to $dec"
