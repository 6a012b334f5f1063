#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cnn_arch_fashion.sh BUILD_DIR: a CNN given by `cgrad train --arch`
# learns Fashion-MNIST: a short run (5,000 training images, 3 epochs)
# reaches an accuracy floor on the 10,000 test images, above what a linear
# model reaches on that little data (about 0.78), so passing needs the
# convolutions to work. The summary shows the image shapes and parameter
# counts; `cgrad eval` scores the checkpoint the same; `--resume` goes on.
# Skipped without Fashion-MNIST or with CG_TEST_QUICK=1.
set -u
build=${1:?usage: test_cnn_arch_fashion.sh BUILD_DIR}
cgrad=$build/cgrad
fm=/usr/share/datasets/fashion-mnist
if [ -n "${CG_TEST_QUICK:-}" ]; then echo "CG_TEST_QUICK set: skipping"; exit 0; fi
if [ ! -f "$fm/t10k-images-idx3-ubyte.gz" ]; then echo "skipped: $fm not installed"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
floor=0.80
arch=conv8x3,maxpool2,conv16x3,bn,maxpool2,dense32
json_field() { tail -n 1 "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$2"; }

"$cgrad" train --data fashion-mnist --arch "$arch" --subset 5000 --epochs 3 --val-split 0.02 \
    --lr 0.003 --seed 1 --threads 2 --out "$tmp/run" --json >"$tmp/out" 2>"$tmp/err" ||
    fail "train: $(tail -n 3 "$tmp/err")"
acc=$(json_field "$tmp/out" test_accuracy)
echo "test accuracy after 3 epochs on 5000 images: $acc (floor $floor)"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$acc" "$floor" ||
    fail "test accuracy $acc below the floor $floor"
# The summary (stderr with --json): NCHW shapes, the bias-less conv before
# bn, the flatten before dense32, the totals.
for row in "x (Input) *(None, 1, 28, 28)" "conv1 (Conv2D 3x3/1 same) *(None, 8, 28, 28) *80\$" \
    "maxpool1 (MaxPool2D 2x2/2) *(None, 8, 14, 14)" "conv2 (Conv2D 3x3/1 same) *(None, 16, 14, 14) *1152\$" \
    "bn1 (BatchNorm) *(None, 16, 14, 14) *64\$" "flatten1 (Flatten) *(None, 784)" \
    "dense1 (Dense) *(None, 32) *25120\$" "Total params: 26746" "Non-trainable params: 32"; do
    grep -q "^$row" "$tmp/err" || fail "summary lacks '$row'"
done
grep -q '"arch":\["conv8x3","maxpool2","conv16x3","bn","maxpool2","dense32"\]' <(tr -d '\000\\' <"$tmp/run/last.safetensors" | head -c 30000) ||
    fail "the checkpoint's configuration lacks the architecture"

# eval reads the architecture from the checkpoint.
"$cgrad" eval --model "$tmp/run/last.safetensors" --json >"$tmp/eval" 2>"$tmp/err" ||
    fail "eval: $(cat "$tmp/err")"
python3 - "$tmp/eval" "$acc" <<'PY' || fail "eval: accuracy differs from train's"
import json, sys
e = json.loads(open(sys.argv[1]).read().splitlines()[-1])
assert abs(e["accuracy"] - float(sys.argv[2])) < 1e-9, (e["accuracy"], sys.argv[2])
PY
# --resume continues the CNN's run.
"$cgrad" train --resume "$tmp/run/last.safetensors" --epochs 4 --lr 0.001 --threads 2 --json --quiet \
    >"$tmp/out" 2>"$tmp/err" || fail "resume: $(cat "$tmp/err")"
[ "$(json_field "$tmp/out" epochs)" = 4 ] || fail "resume: not 4 epochs: $(cat "$tmp/out")"

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"
