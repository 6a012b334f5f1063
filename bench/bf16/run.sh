#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh: issue 27's benchmark, bf16 against fp32. In one run, rounds
# alternating the two (so both see the same load on a shared machine):
#   - cgrad 784-512-512-10 Adam batch 128 (config A): fp32 and bf16 steps,
#     and PyTorch's fp32 and bf16-autocast steps, at 1 and 2 threads;
#   - cgrad 784-2048-2048-10 Adam batch 512 (config E): fp32 and bf16;
#   - the products of both steps alone (gemm_bench): OpenBLAS, oneDNN fp32,
#     oneDNN bf16 = the bf16 roofline, and cgrad's bf16 step as a fraction
#     of it.
# Prints a Markdown table (medians over the rounds). Never a test.
#
#   bash bench/bf16/run.sh [BUILD_DIR]     (default: build-bench)
# Environment: BENCH_ROUNDS (default 3), BENCH_SCALE (step counts, default
# 0.25 for A, 1 for E), BENCH_THREADS (default "1 2").
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/bench/lib.sh"
build=$(bench_dir "${1:-build-bench}")
rounds=${BENCH_ROUNDS:-3}
scale=${BENCH_SCALE:-0.25}
threads=${BENCH_THREADS:-"1 2"}
py=/usr/bin/python3

cmake -S "$root/bench" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$(nproc)" --target bench_train gemm_bench > /dev/null
if ! "$build/gemm_bench" A 1 > /dev/null 2> "$build/bf16.err"; then
  echo "bench/bf16: no bf16 here: $(cat "$build/bf16.err")" >&2
  exit 1
fi
have_torch=0
need_python torch python3-torch python3-numpy && have_torch=1

echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
echo
echo "| threads | model | cgrad fp32 | cgrad bf16 | bf16/fp32 | torch fp32 | torch bf16 | bf16 / torch best |"
echo "|---|---|---|---|---|---|---|---|"
for t in $threads; do
  for cfg in A E; do
    s=$scale
    if [ "$cfg" = E ]; then s=1; fi
    f=""; b=""; tf=""; tb=""
    for _ in $(seq "$rounds"); do
      f+=" $(BENCH_SCALE=$s BENCH_PRECISION=fp32 "$build/bench_train" $cfg "$t" | ex_per_s)"
      b+=" $(BENCH_SCALE=$s BENCH_PRECISION=bf16 "$build/bench_train" $cfg "$t" | ex_per_s)"
      if [ $have_torch = 1 ] && [ "$cfg" = A ]; then
        tf+=" $(BENCH_SCALE=$s "$py" "$root/bench/torch_bench.py" $cfg "$t" | ex_per_s)"
        tb+=" $(BENCH_SCALE=$s "$py" "$root/bench/torch_bench.py" $cfg "$t" bf16 | ex_per_s)"
      fi
    done
    f=$(echo "$f" | median); b=$(echo "$b" | median)
    if [ -n "$tf" ]; then
      tf=$(echo "$tf" | median); tb=$(echo "$tb" | median)
      best=$(awk -v x="$tf" -v y="$tb" 'BEGIN {print (x + 0 > y + 0) ? x : y}')
      vs=$(ratio "$b" "$best" %.2fx)
    else
      tf="-"; tb="-"; vs="-"
    fi
    echo "| $t | $cfg | $f | $b | $(ratio "$b" "$f" %.2fx) | $tf | $tb | $vs |"
    eval "bf16_${cfg}_$t=$b"
  done
done
echo
echo "The products alone (gemm_bench; examples/s of a step doing only its products):"
echo
echo "| threads | model | OpenBLAS fp32 | oneDNN fp32 | oneDNN bf16 (roofline) | cgrad bf16 step / roofline |"
echo "|---|---|---|---|---|---|"
for t in $threads; do
  for cfg in A E; do
    line=$("$build/gemm_bench" $cfg "$t" | grep "roofline ex_per_s")
    read -r blas dnnl bf <<< "$(echo "$line" | sed 's/.*blas \([0-9]*\), fp32 dnnl \([0-9]*\), bf16 \([0-9]*\) .*/\1 \2 \3/')"
    v="bf16_${cfg}_$t"
    frac=$(ratio "${!v}" "$bf")
    echo "| $t | $cfg | $blas | $dnnl | $bf | $frac |"
  done
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
