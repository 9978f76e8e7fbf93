#!/usr/bin/env bash
# Run every cargo-fuzz target of armlet-fuzz for SECONDS each (default 60) and print the
# executions, executions per second, corpus size and crashes per target.
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and a nightly toolchain, or stable with
# RUSTC_BOOTSTRAP=1 (set here unless already set). Logs: fuzz/logs/NAME.log; corpora:
# fuzz/corpus/NAME (seeded from armlet_fuzz::seeds); crashes: fuzz/artifacts/NAME.
# Usage: emulator/fuzz/run-fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(elf_loader machine_file gdb_packets decoder semihosting guest_memory)
fi
export RUSTC_BOOTSTRAP=${RUSTC_BOOTSTRAP:-1}
cargo run -q -p armlet-fuzz --example write_corpus -- fuzz/corpus >/dev/null
cd fuzz
cargo fuzz build 2>&1 | tail -n 1
mkdir -p logs
printf '%-14s %12s %10s %8s %8s\n' target execs exec/s corpus crashes
status=0
for t in "${targets[@]}"; do
  mkdir -p "artifacts/$t"
  before=$(ls "artifacts/$t" | wc -l)
  # -timeout: one input taking 30 s is a hang; -rss_limit_mb: the harnesses build whole
  # machines (tens of MiB each); stdout of the guest is closed.
  if ! cargo fuzz run "$t" -- -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 \
      -print_final_stats=1 -close_fd_mask=1 >"logs/$t.log" 2>&1; then
    status=1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "logs/$t.log" | grep -o '[0-9]*$' || echo "?")
  corpus=$(ls "corpus/$t" | wc -l)
  crashes=$(( $(ls "artifacts/$t" | wc -l) - before ))
  printf '%-14s %12s %10s %8s %8s\n' "$t" "$execs" "$rate" "$corpus" "$crashes"
done
exit $status
