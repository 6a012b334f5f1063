#!/bin/bash
# SPDX-License-Identifier: MIT
# bench/cnn/run.sh [STEPS]: issue 23's CNN, one training step (forward,
# backward, Adam) at batch 128, in cgrad (cnn_bench.c) and PyTorch
# (torch_cnn.py, Debian's python3-torch) at 1 and 2 threads, one after the
# other; then cgrad's per-op profile at 2 threads. Timings are only
# comparable on an otherwise idle machine.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-/tmp/build-bench-cnn}
steps=${1:-30}
cmake -S "$root/bench" -B "$build" -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j2 --target cnn_bench > /dev/null
py=/usr/bin/python3
for t in 1 2; do
  "$build/cnn_bench" "$t" "$steps" | head -1
  if "$py" -c "import torch" 2> /dev/null; then
    "$py" "$root/bench/cnn/torch_cnn.py" "$t" "$steps"
  else
    echo "torch: python3-torch missing, skipped"
  fi
done
"$build/cnn_bench" 2 "$steps" | tail -n +2
