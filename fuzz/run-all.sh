#!/usr/bin/env bash
# Run every fuzz target for SECONDS each (default 1800), one after another, and print what
# libFuzzer reports: runs, time and any crash. Needs cargo-fuzz (`cargo install cargo-fuzz`);
# RUSTC_BOOTSTRAP=1 lets the stable toolchain take the sanitizer flags.
# usage: fuzz/run-all.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-1800}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(yaml_reader yaml_round_trip kustomization strategic_merge json_patch template)
[ -d corpus ] || ./seed.sh
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O >/dev/null 2>&1 || { echo "cargo fuzz build failed" >&2; exit 1; }
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="artifacts/$t.log"
  cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 >"$log" 2>&1
  code=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  took=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1)
  if [ $code -eq 0 ]; then
    echo "$t: ok, ${runs:-?} runs (${took:-no summary})"
  else
    echo "$t: FAILED (exit $code), see fuzz/$log; crash inputs in fuzz/artifacts/$t/"
  fi
done
