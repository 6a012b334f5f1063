#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/cnn/run.sh [STEPS]: issue 23's CNN (conv32x3, maxpool2, conv64x3,
# maxpool2, dense128), cgrad against PyTorch (Debian's python3-torch,
# /usr/bin/python3), one run of each, one after the other:
#  - training: one step (forward, backward, Adam) at batch 128, cgrad
#    (cnn_bench.c) and PyTorch (torch_cnn.py) at 1 and 2 threads; the
#    ratio of the better of each (examples/s, cgrad over PyTorch; issue 23
#    asks >= 1.5);
#  - inference: one image through the model (cnn_latency.c, built as
#    `--arch` builds it, through cg_predict; torch_cnn.py latency), at 1
#    thread; the ratio cgrad over PyTorch (issue 23 asks <= 0.5);
#  - cgrad's per-op profile of the training step at 2 threads;
#  - the convolutions against their GEMM roofline (conv_roofline.c: the
#    same im2col products timed alone, the faster of OpenBLAS and oneDNN
#    fp32 on each), at 1 thread: the fraction of it cgrad's conv2d ops
#    reach (issue 23 asks >= 0.6), and their GFLOP/s against a 1024^3
#    product (the faster backend's).
# Timings are only comparable on an otherwise idle machine: ratios of one
# run, not a test.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/bench/lib.sh"
build=${BUILD:-/tmp/build-bench-cnn}
steps=${1:-30}
cmake -S "$root/bench" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j2 --target cnn_bench cnn_latency conv_roofline > /dev/null
py=/usr/bin/python3
have_torch=0
need_python torch python3-torch python3-numpy && have_torch=1
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
best_cg=0 best_torch=0
for t in 1 2; do
  line=$("$build/cnn_bench" "$t" "$steps" | head -1)
  echo "$line"
  best_cg=$(echo "$line" | field ex_per_s | awk -v b="$best_cg" '{print ($1 > b ? $1 : b)}')
  if [ $have_torch = 1 ]; then
    line=$("$py" "$root/bench/cnn/torch_cnn.py" "$t" "$steps")
    echo "$line"
    best_torch=$(echo "$line" | field ex_per_s | awk -v b="$best_torch" '{print ($1 > b ? $1 : b)}')
  else
    echo "torch: python3-torch missing, skipped"
  fi
done
line=$("$build/cnn_latency" 1)
echo "$line"
lat_cg=$(echo "$line" | field us_per_image)
if [ $have_torch = 1 ]; then
  line=$("$py" "$root/bench/cnn/torch_cnn.py" latency 1)
  echo "$line"
  lat_torch=$(echo "$line" | field us_per_image)
  awk -v a="$best_cg" -v b="$best_torch" -v c="$lat_cg" -v d="$lat_torch" 'BEGIN {
    printf "training throughput, better of 1 and 2 threads: cgrad %.0f ex/s, PyTorch %.0f ex/s: %.2fx\n", a, b, a / b
    printf "single-image latency, 1 thread: cgrad %.1f us, PyTorch %.1f us: %.2f of PyTorch\n", c, d, c / d }'
fi
"$build/cnn_bench" 2 "$steps" | tail -n +2

# Roofline of the convolutions, one thread: cgrad's conv2d rows of the
# profile (forward and backward us per call, in graph order) against the
# products alone.
prof=$("$build/cnn_bench" 1 "$steps" | grep ' conv2d ')
roof=$("$build/conv_roofline")
echo "$roof"
paste <(echo "$prof" | awk '{ print $(NF-3), $(NF-1) }') <(echo "$roof" | grep '^conv' | sed 's/[a-z_0-9]*=//g') |
  awk -v peak="$(echo "$roof" | sed -n 's/^peak gflops=//p')" '{
    cg = $1 + $2; gm = $4 + $5; tc += cg; tg += gm; fl += $6
    printf "%s: cgrad %.0f us, GEMM roofline %.0f us: %.2f of the roofline, %.1f GFLOP/s\n", $3, cg, gm, gm / cg, $6 * 1e6 / cg }
  END { printf "convolutions: %.2f of their GEMM roofline; %.1f GFLOP/s against %.1f for a 1024^3 product (%.2f)\n", tg / tc, fl * 1e6 / tc, peak, fl * 1e6 / tc / peak }'
