#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/quant/run.sh BUILD_DIR [MLP_CKPT [CNN_CKPT]]: int8 against float
# exports of a Fashion-MNIST MLP and CNN, as ONNX in ONNX Runtime and as
# the generated C (`cgrad export --c`, compiled with cc -O2): test accuracy
# (10,000 images), file size (the .onnx; for C the compiled object), and
# single-image latency (one thread; median and 10th percentile of RUNS
# calls, default 2000). Without the checkpoints it trains them first:
# cgrad's default MLP (784-256-256-10, 10 epochs) and the CNN
# conv32x3,maxpool2,conv64x3,maxpool2,dense128 for CNN_EPOCHS epochs
# (default 10; minutes on a small machine). The int8 models are calibrated
# on 1,000 training images (--calibrate). Prints a Markdown table. Not a
# test; figures from a loaded machine are provisional.
set -euo pipefail
build=$(cd "${1:?usage: bench/quant/run.sh BUILD_DIR [MLP_CKPT [CNN_CKPT]]}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
cgrad=$build/cgrad
fm=/usr/share/datasets/fashion-mnist
runs=${RUNS:-2000}
cc=${CC:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
NODE_PATH=$(bash "$here/../../tests/onnx/install_ort.sh" "$build")
export NODE_PATH
gunzip -c "$fm/t10k-images-idx3-ubyte.gz" >"$tmp/images"
gunzip -c "$fm/t10k-labels-idx1-ubyte.gz" >"$tmp/labels"
mlp=${2:-}
cnn=${3:-}
if [ -z "$mlp" ]; then
    echo "training the default MLP..." >&2
    "$cgrad" train --out "$tmp/mlp" --quiet >&2
    mlp=$tmp/mlp/last.safetensors
fi
if [ -z "$cnn" ]; then
    echo "training the CNN (${CNN_EPOCHS:-10} epochs)..." >&2
    "$cgrad" train --arch conv32x3,maxpool2,conv64x3,maxpool2,dense128 --epochs "${CNN_EPOCHS:-10}" \
        --out "$tmp/cnn" --quiet >&2
    cnn=$tmp/cnn/last.safetensors
fi
echo "| model | export | test accuracy | file bytes | latency median (us) | latency p10 (us) |"
echo "|---|---|---|---|---|---|"
for model in mlp cnn; do
    ckpt=${!model}
    for q in float int8; do
        flags=()
        [ $q = float ] || flags=(--int8 --data fashion-mnist --calibrate 1000)
        "$cgrad" export --model "$ckpt" --onnx "$tmp/$model-$q.onnx" --c "$tmp/$model-$q" "${flags[@]}" >/dev/null
        node "$here/../../tests/onnx/ort_run.js" "$tmp/$model-$q.onnx" "$fm/t10k-images-idx3-ubyte.gz" 0 \
            >"$tmp/ort.out"
        acc=$(python3 - "$tmp/ort.out" "$tmp/labels" <<'PY'
import sys
got = [int(l.split()[0]) for l in open(sys.argv[1])]
y = open(sys.argv[2], "rb").read()[8:]
print("%.4f" % (sum(a == b for a, b in zip(got, y)) / len(got)))
PY
)
        read -r med p10 < <(node "$here/latency.js" "$tmp/$model-$q.onnx" "$fm/t10k-images-idx3-ubyte.gz" "$runs")
        echo "| $model | $q ONNX Runtime | $acc | $(stat -c %s "$tmp/$model-$q.onnx") | $med | $p10 |"
        d=$tmp/$model-$q
        "$cc" -std=c99 -O2 -c "$d/model.c" -o "$d/model.o"
        "$cc" -std=c99 -O2 -I "$d" "$here/c_run.c" "$d/model.o" -o "$d/c_run" -lm
        read -r acc med p10 < <("$d/c_run" "$tmp/images" "$tmp/labels" "$runs")
        echo "| $model | $q C | $acc | $(stat -c %s "$d/model.o") | $med | $p10 |"
    done
done
