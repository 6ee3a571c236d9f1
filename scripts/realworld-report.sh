#!/usr/bin/env bash
# How sopx fares on the real-world corpus (tests/fixtures/realworld, 300+
# files from public repositories): builds sopx and runs tests/realworld.rs,
# then prints, per test and per format, how many files are byte-identical
# after a round trip, data-equal, opened by sops, read from sops, and so on,
# followed by the files that fail (the full messages are in the log).
#
#   scripts/realworld-report.sh              # the whole corpus
#   scripts/realworld-report.sh bitnami      # only files whose path contains "bitnami"
#   REALWORLD_THREADS=2 scripts/realworld-report.sh
#   SOPS_BIN=/path/to/sops scripts/realworld-report.sh
#
# Needs the real sops 3.11 (SOPS_BIN, /opt/sopsvenv/bin/sops or on PATH) for
# the interoperability counts; without it those tests are skipped. Exits with
# the test run's status (0 when every file passes every test).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ $# -gt 0 ]]; then
  export REALWORLD_FILTER="$1"
fi

log="$(mktemp -t realworld-report.XXXXXX.log)"
echo "building sopx and the realworld test..." >&2
if ! cargo test --test realworld --no-run >"$log" 2>&1; then
  cat "$log" >&2
  echo "build failed (log: $log)" >&2
  exit 2
fi

echo "running the corpus (log: $log)..." >&2
cargo test --test realworld -- --nocapture --test-threads=2 >>"$log" 2>&1
status=$?

echo
echo "== summary"
grep -E '^realworld [a-z-]+: ' "$log" | grep -v -E ' (checked|cases failed)' | sort -s -k2,2
grep -E 'SKIPPING THIS TEST' "$log" | sort -u
echo
echo "== tests"
grep -E '^test [a-z_]+ \.\.\. ' "$log"
echo
echo "== failing files (first line of each message)"
grep -E '^(yaml|json|dotenv|ini|toml|sops-refuses)/[^ ]+: ' "$log" |
  sed -E 's#/tmp/sopx-test-[A-Za-z0-9]+/work/(inplace-[0-9]+/|[0-9]+-(plain|sopx|sops|set|view|view-enc|enc)-)##g' |
  cut -c1-200 | sort -u
echo
grep -E '^test result:' "$log"
exit "$status"
