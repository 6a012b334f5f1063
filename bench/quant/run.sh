#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/quant/run.sh BUILD_DIR [CKPT]: int8 against float ONNX export of a
# Fashion-MNIST MLP in ONNX Runtime: test accuracy (10,000 images), file
# size, single-image latency (one thread, median and 10th percentile).
# Without CKPT it trains cgrad's default MLP (784-256-256-10, 10 epochs)
# first. The int8 model is calibrated on 1,000 training images
# (--calibrate). Prints a Markdown table. Not a test; figures from a
# loaded machine are provisional.
set -euo pipefail
build=$(cd "${1:?usage: bench/quant/run.sh BUILD_DIR [CKPT]}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
cgrad=$build/cgrad
fm=/usr/share/datasets/fashion-mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
NODE_PATH=$(bash "$here/../../tests/onnx/install_ort.sh" "$build")
export NODE_PATH
ckpt=${2:-}
if [ -z "$ckpt" ]; then
    echo "training the default MLP..." >&2
    "$cgrad" train --out "$tmp/run" --quiet >&2
    ckpt=$tmp/run/last.safetensors
fi
"$cgrad" export --model "$ckpt" --onnx "$tmp/float.onnx" >/dev/null
"$cgrad" export --model "$ckpt" --onnx "$tmp/int8.onnx" --int8 --data fashion-mnist \
    --calibrate 1000 >/dev/null
echo "| model | test accuracy | file bytes | latency median (us) | latency p10 (us) |"
echo "|---|---|---|---|---|"
for m in float int8; do
    node "$here/../../tests/onnx/ort_run.js" "$tmp/$m.onnx" "$fm/t10k-images-idx3-ubyte.gz" 0 >"$tmp/$m.out"
    acc=$(python3 - "$tmp/$m.out" "$fm/t10k-labels-idx1-ubyte.gz" <<'PY'
import gzip, sys
got = [int(l.split()[0]) for l in open(sys.argv[1])]
y = gzip.open(sys.argv[2]).read()[8:]
print("%.4f" % (sum(a == b for a, b in zip(got, y)) / len(got)))
PY
)
    read -r med p10 < <(node "$here/latency.js" "$tmp/$m.onnx" "$fm/t10k-images-idx3-ubyte.gz" 2000)
    echo "| $m | $acc | $(stat -c %s "$tmp/$m.onnx") | $med | $p10 |"
done
