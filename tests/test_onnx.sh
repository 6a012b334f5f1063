#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_onnx.sh BUILD_DIR: `cgrad export --onnx` writes a model that
# onnx.checker accepts and that ONNX Runtime runs to the same answers as
# `cgrad predict --probs`: every class equal, probabilities within 1e-5.
#  1. Errors: flags, an unwritable path (no file left behind).
#  2. Models trained here on a CSV (raw features in the thousands, so the
#     standardisation inside the graph matters): batch norm + dropout, tanh
#     without batch norm, softmax regression; each on the whole test set,
#     all rows at once and 7 at a time (the batch dimension is symbolic);
#     rows with missing cells (NaN) filled in the graph as cgrad does.
#  3. tests/export/synth.py's checkpoints: batch norm after an activation
#     (a scale and shift, not folded), sigmoid, tanh, F64 tensors, class
#     names that need escaping, no normaliser.
#  4. Fashion-MNIST (when installed): a --bn model, all 10,000 test images;
#     a CNN (--arch: Reshape, Conv with a batch norm folded in and with
#     "same" padding at stride 2, MaxPool, AveragePool, a per-channel batch
#     norm, GlobalAveragePool + Flatten, dropout left out), all at once and
#     7 at a time.
#  5. --int8 (QDQ): flag errors; the CSV model and the Fashion-MNIST model
#     quantised pass onnx.checker and run in ONNX Runtime; on Fashion-MNIST
#     the accuracy drops by at most 0.5 points and the file is < 35% of
#     the float one; the CNN quantised (QDQ around each Conv) agrees with
#     `cgrad predict` on at least 97% of the test images.
# ONNX Runtime is npm's onnxruntime-node (tests/onnx/install_ort.sh).
set -u
build=${1:?usage: test_onnx.sh BUILD_DIR}
build=$(cd "$build" && pwd)
cgrad=$build/cgrad
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
[ -x "$cgrad" ] || { echo "no $cgrad: build first" >&2; exit 1; }
py=/usr/bin/python3 # Debian's, with python3-onnx
"$py" -c "import onnx" || { echo "no python3-onnx for $py (scripts/install-deps.sh)" >&2; exit 1; }

NODE_PATH=$(bash "$src/onnx/install_ort.sh" "$build") || exit 1
export NODE_PATH

# expect_exit CODE NEEDLE ARGS...
expect_exit() {
    local code=$1 needle=$2; shift 2
    "$cgrad" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ $rc -eq "$code" ] || fail "cgrad $*: exit $rc, expected $code: $(cat "$tmp/err")"
    grep -qF -- "$needle" "$tmp/err" || fail "cgrad $*: stderr lacks '$needle': $(cat "$tmp/err")"
}

# to_f32 CSV OUT D: the first D columns of CSV (header skipped) as float32.
to_f32() {
    "$py" - "$@" <<'PY'
import struct, sys
rows = [l.strip().split(",") for l in open(sys.argv[1])][1:]
d = int(sys.argv[3])
with open(sys.argv[2], "wb") as f:
    for r in rows:
        f.write(struct.pack("<%df" % d, *[float(v) if v else float("nan") for v in r[:d]]))
PY
}

# check CKPT INPUT FEATURES F32_INPUT NAMES_JSON [BATCH...]: export, run in
# ONNX Runtime at each batch size, compare with cgrad predict.
check() {
    local ckpt=$1 input=$2 d=$3 f32=$4 names=$5; shift 5
    local onnx=$tmp/$(basename "$(dirname "$ckpt")")_$(basename "$ckpt" .safetensors).onnx
    "$cgrad" export --model "$ckpt" --onnx "$onnx" >"$tmp/out" 2>"$tmp/err" ||
        { fail "export --onnx $ckpt: $(cat "$tmp/err")"; return; }
    grep -q "^wrote $onnx: " "$tmp/out" || fail "export --onnx: stdout $(cat "$tmp/out")"
    "$cgrad" predict --model "$ckpt" --input "$input" --probs >"$tmp/pred" 2>"$tmp/err" ||
        { fail "predict $ckpt: $(cat "$tmp/err")"; return; }
    for b in "$@"; do
        ORT_FEATURES=$d node "$src/onnx/ort_run.js" "$onnx" "$f32" "$b" >"$tmp/ort" 2>"$tmp/err" ||
            { fail "ONNX Runtime on $onnx: $(cat "$tmp/err")"; continue; }
        "$py" "$src/onnx/check.py" "$onnx" "$d" "$tmp/pred" "$tmp/ort" 1e-5 ${names:+"$names"} ||
            fail "$ckpt (batch $b): ONNX Runtime != cgrad predict"
    done
}

# --- 1. errors ---
"$py" "$src/export/synth.py" "$tmp" || { echo "synth.py failed" >&2; exit 1; }
good=$tmp/good.safetensors
expect_exit 2 "--onnx" export --model "$good"
expect_exit 2 "--onnx" export --model "$good" --onnx
expect_exit 2 "$tmp/nosuch.safetensors" export --model "$tmp/nosuch.safetensors" --onnx "$tmp/x.onnx"
expect_exit 1 "$tmp/no/such/dir/m.onnx" export --model "$good" --onnx "$tmp/no/such/dir/m.onnx"
[ ! -e "$tmp/x.onnx" ] || fail "a failed export left $tmp/x.onnx"
[ -z "$(ls "$tmp" | grep '\.tmp\.')" ] || fail "a failed export left a temporary file"
"$cgrad" export --help | grep -q -- "--onnx FILE" || fail "export --help lacks --onnx"

# --- 2. models trained on a CSV ---
"$py" - "$tmp" <<'PY'
import random, sys
random.seed(3)
centres = [(-1, 0, 1, 0), (1, 1, 0, 0), (0, -1, -1, 1)]
for name, n in (("train", 900), ("test", 450)):
    with open(f"{sys.argv[1]}/{name}.csv", "w") as f:
        f.write("a,b,c,d,label\n")
        for i in range(n):
            k = i % 3
            xs = [1000 * (c + 0.6 * random.gauss(0, 1)) + 5000 for c in centres[k]]
            f.write(",".join(f"{x:.2f}" for x in xs) + f",{k}\n")
PY
to_f32 "$tmp/test.csv" "$tmp/test.f32" 4
train() {
    local out=$1; shift
    "$cgrad" train --data "$tmp/train.csv" --epochs 8 --batch 32 --quiet --out "$tmp/$out" "$@" \
        >/dev/null 2>"$tmp/err" || fail "train $*: $(cat "$tmp/err")"
}
train bn --hidden 16,8 --bn --dropout 0.1
train tanh --hidden 12 --activation tanh --lr 0.01
train linear --hidden none --optimizer sgd --lr 0.1
for m in bn tanh linear; do
    check "$tmp/$m/last.safetensors" "$tmp/test.csv" 4 "$tmp/test.f32" "" 0 7
done
# Missing cells (empty in the CSV, NaN in float32) take the training
# values in the graph as in cgrad predict (docs/data.md).
awk -F, 'NR == 1 || NR > 40 { next } { if (NR % 3 == 0) $2 = ""; if (NR % 5 == 0) $4 = ""; print }' OFS=, \
    "$tmp/test.csv" | sed '1i a,b,c,d,label' >"$tmp/gaps.csv"
to_f32 "$tmp/gaps.csv" "$tmp/gaps.f32" 4
check "$tmp/bn/last.safetensors" "$tmp/gaps.csv" 4 "$tmp/gaps.f32" "" 0
"$py" -c "
import onnx, sys
ops = [n.op_type for n in onnx.load(sys.argv[1]).graph.node]
assert ops == ['IsNaN', 'Where', 'Sub', 'Mul', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm', 'Softmax'], ops
" "$tmp/bn_last.onnx" || fail "bn model: batch norm not folded into the dense layers"

# --- 3. synth.py's checkpoints ---
"$py" - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
for name, n in (("inputs", 6), ("plain_inputs", 4)):
    raw = open(f"{d}/{name}.f32", "rb").read()
    v = struct.unpack("<%df" % (len(raw) // 4), raw)
    with open(f"{d}/{name}.csv", "w") as f:
        f.write(",".join(f"x{j}" for j in range(n)) + "\n")
        for i in range(0, len(v), n):
            f.write(",".join("%.9g" % x for x in v[i:i + n]) + "\n")
PY
check "$good" "$tmp/inputs.csv" 6 "$tmp/inputs.f32" '["T-shirt/top", "say \"hi\"\\??=", "café"]' 0 1
check "$tmp/plain.safetensors" "$tmp/plain_inputs.csv" 4 "$tmp/plain_inputs.f32" "" 0

# --- 4. Fashion-MNIST ---
fm=/usr/share/datasets/fashion-mnist
if [ ! -f "$fm/t10k-images-idx3-ubyte.gz" ]; then
    echo "SKIP: Fashion-MNIST end to end ($fm not installed)"
else
    "$cgrad" train --epochs 1 --hidden 64 --bn --subset 5000 --out "$tmp/fm" --quiet \
        >/dev/null 2>"$tmp/err" || fail "training on Fashion-MNIST: $(cat "$tmp/err")"
    check "$tmp/fm/last.safetensors" "$fm/t10k-images-idx3-ubyte.gz" 784 \
        "$fm/t10k-images-idx3-ubyte.gz" \
        '["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]' 0
    "$cgrad" train --arch conv6x3,bn,maxpool2,conv8x3s2,avgpool2s1,bn,conv8x2p1,gap,dropout0.1,dense16 \
        --epochs 1 --subset 3000 --lr 0.003 --out "$tmp/cnn" --quiet >/dev/null 2>"$tmp/err" ||
        fail "training a CNN on Fashion-MNIST: $(cat "$tmp/err")"
    check "$tmp/cnn/last.safetensors" "$fm/t10k-images-idx3-ubyte.gz" 784 \
        "$fm/t10k-images-idx3-ubyte.gz" \
        '["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]' 0 7
    "$py" - "$tmp/cnn_last.onnx" <<'PY' || fail "CNN: ONNX ops"
import onnx, sys
ops = [n.op_type for n in onnx.load(sys.argv[1]).graph.node]
want = ["Reshape", "Conv", "Relu", "MaxPool", "Conv", "Relu", "AveragePool", "Mul", "Add", "Conv",
        "Relu", "GlobalAveragePool", "Flatten", "Gemm", "Relu", "Gemm", "Softmax"]
assert ops[ops.index("Reshape"):] == want, ops
PY
fi

# --- 5. int8 ---
expect_exit 2 "--data" export --model "$good" --onnx "$tmp/q.onnx" --int8
expect_exit 2 "--int8" export --model "$good" --onnx "$tmp/q.onnx" --calibrate 10
expect_exit 2 "--int8" export --model "$good" --onnx "$tmp/q.onnx" --data "$tmp/train.csv"
expect_exit 2 "--calibrate" export --model "$good" --onnx "$tmp/q.onnx" --int8 \
    --data "$tmp/train.csv" --calibrate 0
expect_exit 2 "6" export --model "$good" --onnx "$tmp/q.onnx" --int8 --data "$tmp/train.csv"
# int8_check MODEL.onnx N_CALIBRATE: checker, QDQ ops, metadata.
int8_check() {
    "$py" - "$@" <<'PY'
import onnx, sys
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
ops = [n.op_type for n in m.graph.node]
gemms = ops.count("Gemm") + ops.count("Conv")
assert ops.count("QuantizeLinear") == gemms and ops.count("DequantizeLinear") == 2 * gemms, ops
w = [t for t in m.graph.initializer if t.name.endswith(".weight_q")]
assert len(w) == gemms and all(t.data_type == onnx.TensorProto.INT8 for t in w), w
assert not [t for t in m.graph.initializer if t.name.endswith(".weight")], "float weights left"
meta = {p.key: p.value for p in m.metadata_props}
assert meta.get("int8_calibration_examples") == sys.argv[2], meta
PY
}
# accuracy ORT_OUT LABELS: the fraction of argmaxes equal to the labels
# (IDX labels .gz, or the last column of a CSV).
accuracy() {
    python3 - "$@" <<'PY'
import gzip, sys
got = [int(l.split()[0]) for l in open(sys.argv[1])]
if sys.argv[2].endswith(".gz"):
    y = list(gzip.open(sys.argv[2]).read()[8:])
else:
    y = [int(l.strip().split(",")[-1]) for l in list(open(sys.argv[2]))[1:]]
assert len(got) == len(y), (len(got), len(y))
print(sum(a == b for a, b in zip(got, y)) / len(y))
PY
}
"$cgrad" export --model "$tmp/bn/last.safetensors" --onnx "$tmp/bn8.onnx" --int8 \
    --data "$tmp/train.csv" --calibrate 300 >/dev/null 2>"$tmp/err" || fail "int8 export: $(cat "$tmp/err")"
int8_check "$tmp/bn8.onnx" 300 || fail "int8 CSV model"
ORT_FEATURES=4 node "$src/onnx/ort_run.js" "$tmp/bn8.onnx" "$tmp/test.f32" 7 >"$tmp/bn8.ort" 2>"$tmp/err" ||
    fail "ONNX Runtime on the int8 CSV model: $(cat "$tmp/err")"
if [ -f "$tmp/fm/last.safetensors" ]; then
    t10k=$fm/t10k-images-idx3-ubyte.gz
    "$cgrad" export --model "$tmp/fm/last.safetensors" --onnx "$tmp/fm8.onnx" --int8 \
        --data fashion-mnist --calibrate 1000 >/dev/null 2>"$tmp/err" ||
        fail "int8 export (Fashion-MNIST): $(cat "$tmp/err")"
    int8_check "$tmp/fm8.onnx" 1000 || fail "int8 Fashion-MNIST model"
    for m in fm_last fm8; do
        node "$src/onnx/ort_run.js" "$tmp/$m.onnx" "$t10k" 0 >"$tmp/$m.ort" 2>"$tmp/err" ||
            fail "ONNX Runtime on $m.onnx: $(cat "$tmp/err")"
    done
    f=$(accuracy "$tmp/fm_last.ort" "$fm/t10k-labels-idx1-ubyte.gz")
    q=$(accuracy "$tmp/fm8.ort" "$fm/t10k-labels-idx1-ubyte.gz")
    sf=$(stat -c %s "$tmp/fm_last.onnx") sq=$(stat -c %s "$tmp/fm8.onnx")
    echo "Fashion-MNIST in ONNX Runtime: float accuracy $f ($sf bytes), int8 $q ($sq bytes)"
    python3 -c "import sys; f, q = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not (f > 0.7 and q >= f - 0.005))" "$f" "$q" ||
        fail "int8 accuracy $q, float $f: a drop of more than 0.5 points"
    [ "$sq" -lt $((sf * 35 / 100)) ] || fail "int8 file $sq bytes, float $sf"
fi
# The CNN of section 4 quantised (Conv with int8 filters, a batch norm
# folded into one, the one that cannot fold per channel in float, average
# and global average pooling on the way): it passes the checker, runs in
# ONNX Runtime, and int8 differing from float, its classes agree with
# `cgrad predict` on at least 97% of the test images (measured: 98.8%).
if [ -f "$tmp/cnn/last.safetensors" ]; then
    "$cgrad" export --model "$tmp/cnn/last.safetensors" --onnx "$tmp/cnn8.onnx" --int8 \
        --data fashion-mnist --calibrate 300 >"$tmp/out" 2>"$tmp/err" ||
        fail "int8 export of the CNN: $(cat "$tmp/err")"
    grep -q "^wrote $tmp/cnn8.onnx: 784 inputs, 10 classes, int8" "$tmp/out" || fail "int8 CNN: $(cat "$tmp/out")"
    int8_check "$tmp/cnn8.onnx" 300 || fail "int8 CNN model"
    "$py" -c "
import onnx, sys
ops = [n.op_type for n in onnx.load(sys.argv[1]).graph.node]
assert ops.count('Conv') == 3 and ops.count('Gemm') == 2, ops
" "$tmp/cnn8.onnx" || fail "int8 CNN: not every Conv and Gemm quantised"
    node "$src/onnx/ort_run.js" "$tmp/cnn8.onnx" "$fm/t10k-images-idx3-ubyte.gz" 7 >"$tmp/cnn8.ort" 2>"$tmp/err" ||
        fail "ONNX Runtime on the int8 CNN: $(cat "$tmp/err")"
    "$cgrad" predict --model "$tmp/cnn/last.safetensors" --input "$fm/t10k-images-idx3-ubyte.gz" >"$tmp/cnn.pred" 2>"$tmp/err" ||
        fail "predict with the CNN: $(cat "$tmp/err")"
    python3 - "$tmp/cnn8.ort" "$tmp/cnn.pred" <<'PY' || fail "int8 CNN in ONNX Runtime != cgrad predict"
import sys
names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
got = [names[int(l.split()[0])] for l in open(sys.argv[1])]
want = [l.split("\t")[0] for l in open(sys.argv[2]).read().splitlines()]
assert len(got) == len(want) == 10000, (len(got), len(want))
agree = sum(a == b for a, b in zip(got, want)) / len(got)
print(f"int8 CNN in ONNX Runtime: the class of cgrad predict on {agree:.2%} of the test images")
assert agree >= 0.97, agree
PY
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"
