#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh: which backend runs cgrad's fp32 products faster, oneDNN (the
# default where the build has it) or OpenBLAS (CG_GEMM=openblas), on the
# training steps of bench/configs.h (A-E), batch-1 and batch-1000
# inference of model A, and issue 23's CNN, at 1 and 2 threads. The two
# alternate, BENCH_ROUNDS rounds (default 3), so both see the same load
# on a shared machine; medians. Prints a Markdown table. Never a test.
#
#   bash bench/backends/run.sh [BUILD_DIR]     (default: build-bench)
# Environment: BENCH_ROUNDS, BENCH_SCALE (step counts, default 0.25),
# BENCH_THREADS (default "1 2").
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/bench/lib.sh"
build=$(bench_dir "${1:-build-bench}")
rounds=${BENCH_ROUNDS:-3}
scale=${BENCH_SCALE:-0.25}
threads=${BENCH_THREADS:-"1 2"}

cmake -S "$root/bench" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$(nproc)" --target bench_train cnn_bench > /dev/null

run() { # run GEMM CONFIG THREADS: examples per second
  if [ "$2" = cnn ]; then
    CG_GEMM=$1 "$build/cnn_bench" "$3" "$(awk -v s="$scale" 'BEGIN {n = int(120 * s); print n < 5 ? 5 : n}')" | ex_per_s
  else
    CG_GEMM=$1 BENCH_SCALE=$scale "$build/bench_train" "$2" "$3" | ex_per_s
  fi
}

echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
echo
echo "| threads | config | OpenBLAS ex/s | oneDNN ex/s | oneDNN / OpenBLAS |"
echo "|---|---|---|---|---|"
for t in $threads; do
  for cfg in A B C D E infer1 infer1000 cnn; do
    o=""; d=""
    for _ in $(seq "$rounds"); do
      o+=" $(run openblas $cfg "$t")"
      d+=" $(run dnnl $cfg "$t")"
    done
    o=$(echo "$o" | median); d=$(echo "$d" | median)
    echo "| $t | $cfg | $o | $d | $(ratio "$d" "$o") |"
  done
done
