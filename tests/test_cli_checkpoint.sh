#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_checkpoint.sh BUILD_DIR: checkpoints through the command line.
# On Fashion-MNIST, 4 epochs straight and 2 + --resume 2 give bit-identical
# weights, batch-norm statistics and Adam moments, and a resume on the other
# backend or in bf16 goes on close to them; eval and predict read the
# checkpoint (normalisation included); --patience stops early; damaged
# checkpoints and bad inputs are clear errors.
. "$(dirname "$0")/cli_common.sh" "$@"

# The same small model three ways; one thread, so sums run in one order
# (the resumed run too: --threads is not part of the stored configuration).
common=(--subset 6000 --hidden 64 --bn --dropout 0.1 --batch 64 --seed 5 --threads 1 --quiet)
"$cgrad" train "${common[@]}" --epochs 4 --out "$tmp/straight" >/dev/null ||
    fail "train 4 epochs"
"$cgrad" train "${common[@]}" --epochs 2 --lr-decay cosine:4 --out "$tmp/split" >/dev/null ||
    fail "train 2 epochs"
cp "$tmp/split/last.safetensors" "$tmp/after2.safetensors"
cp -r "$tmp/split" "$tmp/split2" # for the resumes on another backend below
"$cgrad" train --resume "$tmp/split/last.safetensors" --epochs 4 --threads 1 >"$tmp/resumed" ||
    fail "resume to 4 epochs"
[ "$(wc -l <"$tmp/split/metrics.jsonl")" -eq 4 ] || fail "resumed run did not append to metrics.jsonl"

if "$py" -c 'import numpy' 2>/dev/null; then
    "$py" - "$here/safetensors_read.py" "$tmp/straight/last.safetensors" "$tmp/split/last.safetensors" \
        "$tmp/after2.safetensors" <<'PY' || fail "resumed weights differ from straight training"
import runpy, sys
read = runpy.run_path(sys.argv[1])["read"]
a, meta_a = read(sys.argv[2])
b, meta_b = read(sys.argv[3])
c, _ = read(sys.argv[4])
assert sorted(a) == sorted(b), "tensor names differ"
for name in ("dense1.weight", "bn1.running_var", "optimizer.m.dense1.weight", "optimizer.v.dense2.bias"):
    assert name in a, f"{name} missing"
bad = [k for k in a if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or a[k].tobytes() != b[k].tobytes()]
assert not bad, f"differ: {bad}"
assert any(a[k].tobytes() != c[k].tobytes() for k in a), "epochs 3-4 changed nothing"
assert meta_a["epoch"] == meta_b["epoch"] == "4" and meta_a["step"] == meta_b["step"]
print(f"{len(a)} tensors bit-identical")
PY
else
    echo "note: numpy missing for /usr/bin/python3; skipping the tensor comparison" >&2
    cmp -s <("$cgrad" eval --model "$tmp/straight/last.safetensors" --json) \
        <("$cgrad" eval --model "$tmp/split/last.safetensors" --json) ||
        fail "straight and resumed checkpoints evaluate differently"
fi

# Resuming to the epochs already done is a usage error.
expect_usage "trained 4 epochs already" train --resume "$tmp/split/last.safetensors" --epochs 4

# Resumed on the other fp32 backend (CG_GEMM=openblas; the same one in a
# build without oneDNN) or in bf16, a run goes on correctly but not bit for
# bit (docs/precision.md): epochs 3-4 continue from epoch 2's loss, not
# from scratch (epoch 1's), and stay close to the straight run (measured:
# train loss within 1e-7 relative on OpenBLAS, 2e-4 in bf16).
resume_elsewhere() { # NAME ENV... -- FLAGS...: resume a copy of split2
    local name=$1; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    cp -r "$tmp/split2" "$tmp/$name"
    env "${envs[@]}" "$cgrad" train --resume "$tmp/$name/last.safetensors" --epochs 4 --threads 1 \
        --quiet "$@" 2>"$tmp/$name.err"
}
near_straight() { # NAME TOLERANCE: epochs 3-4 of NAME against the straight run
    "$py" - "$tmp/straight/metrics.jsonl" "$tmp/$1/metrics.jsonl" "$2" <<'PY' || fail "resumed $1"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
tol = float(sys.argv[3])
assert [r["epoch"] for r in b] == [1, 2, 3, 4], [r["epoch"] for r in b]
assert b[2]["train_loss"] < b[1]["train_loss"] < b[0]["train_loss"], [r["train_loss"] for r in b]
for e in (2, 3):
    assert abs(b[e]["train_loss"] - a[e]["train_loss"]) < tol * a[e]["train_loss"], (e + 1, a[e], b[e])
    assert abs(b[e]["val_accuracy"] - a[e]["val_accuracy"]) < 0.005, (e + 1, a[e], b[e])
PY
}
resume_elsewhere openblas CG_GEMM=openblas -- || fail "resume with CG_GEMM=openblas: $(cat "$tmp/openblas.err")"
near_straight openblas 0.002
if resume_elsewhere bf16 -- --precision bf16; then
    near_straight bf16 0.01
elif grep -q "bf16: " "$tmp/bf16.err"; then
    echo "note: no bf16 here ($(cat "$tmp/bf16.err")); skipping the bf16 resume" >&2
else
    fail "resume in bf16: $(cat "$tmp/bf16.err")"
fi

# eval: tables by default (class names, confusion matrix), JSON on request,
# equal to the test accuracy that train printed.
ck=$tmp/straight/best.safetensors
"$cgrad" eval --model "$ck" >"$tmp/eval" || fail "eval"
grep -q "Ankle boot" "$tmp/eval" || fail "eval lacks class names"
grep -q "confusion matrix" "$tmp/eval" || fail "eval lacks the confusion matrix"
"$cgrad" eval --model "$tmp/straight/last.safetensors" --json >"$tmp/eval.json" || fail "eval --json"
"$py" - "$tmp/eval.json" "$tmp/resumed" <<'PY' || fail "eval --json"
import json, re, sys
e = json.load(open(sys.argv[1]))
acc = float(re.search(r"test accuracy: ([0-9.]+)", open(sys.argv[2]).read()).group(1))
assert abs(e["accuracy"] - acc) < 1e-4, (e["accuracy"], acc)
assert e["examples"] == 10000 and len(e["classes"]) == 10 and len(e["confusion"]) == 10
assert sum(map(sum, e["confusion"])) == 10000
diag = sum(e["confusion"][i][i] for i in range(10))
assert abs(diag / 10000 - e["accuracy"]) < 1e-9
assert all(0 <= c["precision"] <= 1 and 0 <= c["recall"] <= 1 for c in e["classes"])
PY

# A file written by another tool (numpy: F64 tensors, packed without
# alignment, other tensor order) with the same names, shapes and metadata
# loads and evaluates the same.
"$py" - "$here/safetensors_read.py" "$tmp/straight/last.safetensors" "$tmp/numpy.safetensors" <<'PY' ||
import runpy, sys
import numpy as np
io = runpy.run_path(sys.argv[1])
t, meta = io["read"](sys.argv[2])
io["write"](sys.argv[3], {k: t[k].astype(np.float64) for k in reversed(sorted(t))}, meta)
PY
    fail "numpy writer"
"$cgrad" eval --model "$tmp/numpy.safetensors" --json >"$tmp/eval-numpy.json" || fail "eval of the numpy-written file"
cmp -s "$tmp/eval.json" "$tmp/eval-numpy.json" || fail "the numpy-written file evaluates differently"

# predict: IDX images (gzip), one line per example, names and probabilities;
# its classes agree with eval's accuracy on the labels.
images=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
labels=/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz
"$cgrad" predict --model "$ck" --input "$images" >"$tmp/pred" || fail "predict IDX"
[ "$(wc -l <"$tmp/pred")" -eq 10000 ] || fail "predict: $(wc -l <"$tmp/pred") lines, expected 10000"
"$cgrad" predict --model "$ck" --input "$images" --probs | head -n 5 >"$tmp/probs" || fail "predict --probs"
"$py" - "$tmp/pred" "$tmp/probs" "$labels" "$tmp/eval" <<'PY' || fail "predict output"
import gzip, re, sys
names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
assert all(len(r) == 2 and r[0] in names and 0 < float(r[1]) <= 1 for r in rows)
y = gzip.open(sys.argv[3]).read()[8:]
acc = sum(names.index(r[0]) == y[i] for i, r in enumerate(rows)) / len(rows)
want = float(re.search(r"accuracy: ([0-9.]+)", open(sys.argv[4]).read()).group(1))
assert abs(acc - want) < 1e-4, (acc, want)
for l in open(sys.argv[2]):
    f = l.split("\t")
    p = [float(v) for v in f[2:]]
    assert len(p) == 10 and abs(sum(p) - 1) < 1e-4 and abs(max(p) - float(f[1])) < 1e-5
PY

# predict from CSV on stdin: a model trained on a CSV with standardisation
# applies it again (the raw features are in the thousands).
"$py" - "$tmp" <<'PY'
import random, sys
random.seed(2)
centres = [(-1, 0, 1), (1, 1, 0), (0, -1, -1)]
with open(f"{sys.argv[1]}/train.csv", "w") as f, open(f"{sys.argv[1]}/x.csv", "w") as g:
    f.write("a,b,c,label\n")
    for i in range(600):
        k = i % 3
        xs = [1000 * (c + 0.2 * random.gauss(0, 1)) + 5000 for c in centres[k]]
        f.write(",".join(f"{x:.2f}" for x in xs) + f",{k}\n")
        if i < 30: g.write(",".join(f"{x:.2f}" for x in xs) + "\n")
PY
"$cgrad" train --data "$tmp/train.csv" --hidden 16 --epochs 20 --batch 32 --lr 0.01 --quiet \
    --out "$tmp/csv" --patience 3 --json >"$tmp/csv.out" 2>/dev/null || fail "train on CSV"
"$cgrad" predict --model "$tmp/csv/best.safetensors" --input - <"$tmp/x.csv" >"$tmp/csvpred" ||
    fail "predict from stdin"
[ "$(cut -f1 "$tmp/csvpred" | tr '\n' ' ')" = "$(for i in $(seq 0 29); do printf '%d ' $((i % 3)); done)" ] ||
    fail "predict from stdin: classes $(cut -f1 "$tmp/csvpred" | tr '\n' ' ')"
expect_usage "features" predict --model "$tmp/csv/best.safetensors" --input "$images"

# The optimizer flags reach the optimizer (its hyperparameters are saved),
# and --subset trains on that many examples.
"$cgrad" train --data "$tmp/train.csv" --hidden 8 --epochs 1 --optimizer adam --beta1 0.8 \
    --beta2 0.99 --eps 1e-6 --subset 100 --batch 10 --out "$tmp/adam" >"$tmp/adam.out" 2>/dev/null ||
    fail "train with --beta1/--beta2/--eps/--subset"
grep -q "100 training" "$tmp/adam.out" || fail "--subset 100: $(head -n 1 "$tmp/adam.out")"
"$cgrad" train --data "$tmp/train.csv" --hidden 8 --epochs 1 --optimizer nesterov --momentum 0.5 \
    --quiet --out "$tmp/nest" >/dev/null 2>&1 || fail "train with --momentum"
"$py" - "$here/safetensors_read.py" "$tmp/adam/last.safetensors" "$tmp/nest/last.safetensors" <<'PY' ||
import json, runpy, sys
read = runpy.run_path(sys.argv[1])["read"]
adam = json.loads(read(sys.argv[2])[1]["optimizer"])
nest = json.loads(read(sys.argv[3])[1]["optimizer"])
a = adam["config"]
assert a["name"] == "adam" and abs(a["beta1"] - 0.8) < 1e-12, adam
assert abs(a["beta2"] - 0.99) < 1e-12 and abs(a["eps"] - 1e-6) < 1e-18, adam
assert adam["step"] == "10", adam  # 100 examples in batches of 10
assert nest["config"]["name"] == "nesterov" and abs(nest["config"]["momentum"] - 0.5) < 1e-12, nest
PY
    fail "optimizer flags in the checkpoint"

# Damaged or foreign checkpoints are refused with the reason.
head -c 1000 "$ck" >"$tmp/truncated.safetensors"
expect_usage "truncated.safetensors" eval --model "$tmp/truncated.safetensors"
printf 'not a checkpoint at all' >"$tmp/junk.safetensors"
expect_usage "junk.safetensors" predict --model "$tmp/junk.safetensors" --input "$images"
expect_usage "--model" eval
expect_usage "unknown flag" predict --model "$ck" --input "$images" --bogus

finish "checkpoint CLI: all checks passed"
