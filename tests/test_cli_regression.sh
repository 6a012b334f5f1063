#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_regression.sh BUILD_DIR: `cgrad train --task regression` and
# `--task multilabel` on generated CSV files, through eval, predict and
# export (C compiled standalone, and ONNX in ONNX Runtime when npm is
# there): test R2 above a floor, values in the targets' own units
# everywhere, and bad targets refused with exit 2 naming the column.
. "$(dirname "$0")/cli_common.sh" "$@"

# run ARGS...: exit 0, stdout in $tmp/out, stderr in $tmp/err.
run() {
    "$cgrad" "$@" >"$tmp/out" 2>"$tmp/err" || fail "cgrad $*: exit $?: $(tail -3 "$tmp/err")"
}

# Regression: y = 3a - 2b + 2 sin(2c) + d e + noise (sd 0.3), offset 100
# and scaled, so that standardising the target matters; a second target
# vol = a^2. Multi-label: three 0/1 labels of the features.
"$py" - "$tmp" <<'PY'
import math, random, sys
d = sys.argv[1]
random.seed(3)
for name, n in (("train.csv", 1200), ("test.csv", 400)):
    with open(f"{d}/{name}", "w") as f:
        f.write("a,b,c,d,e,price,vol\n")
        for i in range(n):
            x = [random.uniform(-2, 2) for _ in range(5)]
            y = 3 * x[0] - 2 * x[1] + 2 * math.sin(2 * x[2]) + x[3] * x[4] + random.gauss(0, 0.3)
            f.write(",".join(f"{v:.4f}" for v in x) + f",{1000 + 50 * y:.3f},{x[0] ** 2:.4f}\n")
for name, n in (("ml.csv", 1200), ("ml_test.csv", 300)):
    with open(f"{d}/{name}", "w") as f:
        f.write("f1,f2,f3,f4,up,same,big\n")
        for i in range(n):
            x = [random.gauss(0, 1) for _ in range(4)]
            f.write(",".join(f"{v:.4f}" for v in x) +
                    f",{int(x[0] + x[1] > 0)},{int(x[2] * x[3] > 0)},{int(x[0] - x[3] > 0.5)}\n")
PY
[ -s "$tmp/train.csv" ] || { echo "cannot generate CSV data" >&2; exit 1; }
num() { "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
above() { "$py" -c "import sys; sys.exit(not float(sys.argv[1]) > float(sys.argv[2]))" "$1" "$2"; }

# --- regression: train, its JSON and log ---
run train --data "$tmp/train.csv" --test "$tmp/test.csv" --task regression --label price \
    --out "$tmp/r" --json --threads 2
tail -1 "$tmp/out" >"$tmp/r.json"
cp "$tmp/err" "$tmp/r.err"
r2=$(num "$tmp/r.json" test_r2)
rmse=$(num "$tmp/r.json" test_rmse)
above "$r2" 0.9 || fail "regression: test_r2 $r2 is not above 0.9"
# RMSE in the target's units (50 per unit of y): standardised it would be < 1.
above "$rmse" 2 || fail "regression: test_rmse $rmse is not in the target's units"
grep -q '"test_mae"' "$tmp/r.json" || fail "regression JSON lacks test_mae: $(cat "$tmp/r.json")"
grep -q '"val_rmse"' "$tmp/r/metrics.jsonl" || fail "metrics.jsonl lacks val_rmse"
grep -q '"val_r2"' "$tmp/r/metrics.jsonl" || fail "metrics.jsonl lacks val_r2"
grep -q "2 targets\|1 targets" "$tmp/err" || fail "train notes no targets: $(head -3 "$tmp/err")"
grep -q " - val_rmse: " "$tmp/err" || fail "the progress line shows no val_rmse"

# eval: the same figure as train's test_r2, and the residual summary.
run eval --model "$tmp/r/best.safetensors" --json
er2=$(num "$tmp/out" r2)
"$py" -c "import sys; sys.exit(abs(float(sys.argv[1]) - float(sys.argv[2])) > 1e-6)" "$er2" "$r2" ||
    fail "eval r2 $er2 != train's test_r2 $r2"
grep -q '"residual_quantiles"' "$tmp/out" || fail "eval JSON lacks residual_quantiles"
run eval --model "$tmp/r/best.safetensors"
grep -q "^residuals (target - prediction): min" "$tmp/out" || fail "eval: no residual summary: $(cat "$tmp/out")"
grep -q "^price " "$tmp/out" || fail "eval: no row for target price"

# predict: one value per row in the target's units (near 1000, not near 0),
# with or without the target column in the input.
cut -d, -f1-5,7 "$tmp/test.csv" >"$tmp/x.csv"
run predict --model "$tmp/r/best.safetensors" --input "$tmp/x.csv"
cp "$tmp/out" "$tmp/pred"
[ "$(wc -l <"$tmp/pred")" -eq 400 ] || fail "predict: $(wc -l <"$tmp/pred") lines, expected 400"
"$py" - "$tmp/pred" "$tmp/test.csv" <<'PY' || fail "predict: values not in the target's units or not close"
import sys
p = [float(l) for l in open(sys.argv[1])]
y = [float(l.split(",")[5]) for l in open(sys.argv[2]).readlines()[1:]]
mae = sum(abs(a - b) for a, b in zip(p, y)) / len(y)
sys.exit(not (900 < sum(p) / len(p) < 1100 and mae < 40))
PY
run predict --model "$tmp/r/best.safetensors" --input "$tmp/test.csv"
cmp -s "$tmp/out" "$tmp/pred" || fail "predict with the target column differs from without it"

# export --c: compiles standalone and matches cgrad predict.
run export --model "$tmp/r/best.safetensors" --c "$tmp/ex"
cat >"$tmp/main.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "model.h"
int main(void)
{
    char line[4096];
    float x[MODEL_N_INPUTS], y[MODEL_N_CLASSES];
    if (!fgets(line, sizeof line, stdin)) return 1; /* header */
    while (fgets(line, sizeof line, stdin)) {
        char *p = line;
        for (int j = 0; j < MODEL_N_INPUTS; j++) x[j] = strtof(p, &p), p += *p == ',';
        if (model_predict(x, y)) return 1;
        printf("%.7g\n", y[0]);
    }
    return 0;
}
C
if cc -std=c99 -Wall -Wextra -Werror -I"$tmp/ex" "$tmp/main.c" "$tmp/ex/model.c" -lm -o "$tmp/cpred" 2>"$tmp/cc"; then
    "$tmp/cpred" <"$tmp/x.csv" >"$tmp/cout" || fail "exported C program failed"
    "$py" - "$tmp/cout" "$tmp/pred" <<'PY' || fail "exported C != cgrad predict"
import sys
a = [float(l) for l in open(sys.argv[1])]
b = [float(l) for l in open(sys.argv[2])]
sys.exit(len(a) != len(b) or max(abs(x - y) / max(1, abs(y)) for x, y in zip(a, b)) > 1e-5)
PY
else
    fail "exported C does not compile: $(head -5 "$tmp/cc")"
fi

# export --onnx: "predictions" in the target's units, in ONNX Runtime.
run export --model "$tmp/r/best.safetensors" --onnx "$tmp/r.onnx"
if NODE_PATH=$(bash "$here/onnx/install_ort.sh" "$build" 2>/dev/null); then
    "$py" - "$tmp/x.csv" "$tmp/x.f32" <<'PY'
import struct, sys
rows = [l.strip().split(",") for l in open(sys.argv[1])][1:]
with open(sys.argv[2], "wb") as f:
    for r in rows: f.write(struct.pack("<6f", *map(float, r)))
PY
    NODE_PATH=$NODE_PATH ORT_FEATURES=6 node "$here/onnx/ort_run.js" "$tmp/r.onnx" "$tmp/x.f32" 64 \
        >"$tmp/ort" 2>"$tmp/err" || fail "ONNX Runtime: $(cat "$tmp/err")"
    "$py" - "$tmp/ort" "$tmp/pred" <<'PY' || fail "ONNX Runtime != cgrad predict"
import sys
a = [float(l) for l in open(sys.argv[1])]
b = [float(l) for l in open(sys.argv[2])]
sys.exit(len(a) != len(b) or max(abs(x - y) / max(1, abs(y)) for x, y in zip(a, b)) > 1e-5)
PY
else
    echo "note: no ONNX Runtime (npm); the ONNX export was written but not run" >&2
fi

# Two targets and --loss huber: one column per target.
run train --data "$tmp/train.csv" --test "$tmp/test.csv" --task regression --label price,vol \
    --loss huber --epochs 30 --out "$tmp/r2" --json --threads 2
r2=$(num <(tail -1 "$tmp/out") test_r2)
above "$r2" 0.8 || fail "two targets: test_r2 $r2 is not above 0.8"
run predict --model "$tmp/r2/last.safetensors" --input "$tmp/test.csv"
[ "$(head -1 "$tmp/out" | awk -F'\t' '{print NF}')" -eq 2 ] || fail "two targets: $(head -1 "$tmp/out")"
run eval --model "$tmp/r2/last.safetensors"
grep -q "^vol " "$tmp/out" || fail "eval of two targets: no row for vol"

# The default model chooses by validation loss: on this non-linear table
# the MLP is kept (the run above); on a linear one with few noisy rows the
# linear model wins and is the run's checkpoint; a model flag is kept as
# given, with no comparison.
grep -q "^model: the MLP validates better" "$tmp/r.err" || fail "regression: no choice of model noted: $(grep '^model' "$tmp/r.err")"
"$py" - "$tmp" <<'PY'
import random, sys
random.seed(5)
for name, n in (("lin.csv", 160), ("lin_test.csv", 200)):
    with open(f"{sys.argv[1]}/{name}", "w") as f:
        f.write(",".join(f"x{j}" for j in range(8)) + ",y\n")
        for i in range(n):
            x = [random.gauss(0, 1) for _ in range(8)]
            y = sum((j - 3.5) * v for j, v in enumerate(x)) + random.gauss(0, 2)
            f.write(",".join(f"{v:.4f}" for v in x) + f",{y:.4f}\n")
PY
run train --data "$tmp/lin.csv" --test "$tmp/lin_test.csv" --task regression --out "$tmp/lin" --json
grep -q "^model: the linear model validates better" "$tmp/err" ||
    fail "linear table: the linear model did not win: $(grep '^model' "$tmp/err")"
"$py" - "$tmp/lin/best.safetensors" <<'PY' || fail "linear table: the checkpoint is not the linear model"
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    cfg = json.loads(json.loads(f.read(n))["__metadata__"]["config"])
sys.exit(cfg["model"]["hidden"] != [])
PY
tail -1 "$tmp/out" >"$tmp/lin.json"
above "$(num "$tmp/lin.json" test_r2)" 0.8 || fail "linear table: test_r2 $(num "$tmp/lin.json" test_r2)"
run train --data "$tmp/lin.csv" --task regression --hidden 16 --epochs 3
! grep -q "^model:" "$tmp/out" || fail "--hidden given: a model was still chosen: $(grep '^model' "$tmp/out")"
run train --data "$tmp/lin.csv" --task regression --val-split 0 --epochs 2
grep -q "^model: the default MLP, not compared with the linear model (no validation split" "$tmp/out" ||
    fail "--val-split 0: no note that the model was not chosen: $(grep '^model' "$tmp/out")"
# watch shows a regression's R2, not NaN accuracies.
run watch "$tmp/r" --once
head -1 "$tmp/out" | grep -q "train_r2" || fail "watch of a regression: header $(head -1 "$tmp/out")"
! grep -qi "nan" "$tmp/out" || fail "watch of a regression shows nan: $(head -3 "$tmp/out")"

# tune ranks a regression's trials by validation R2; its best command keeps
# --task and --loss.
run tune --data "$tmp/train.csv" --test "$tmp/test.csv" --trials 3 --epochs 3 --out "$tmp/tune" --quiet --json \
    --param lr=loguniform:0.001:0.01 --train-args '--task regression --label price --loss huber --hidden 16'
tail -1 "$tmp/out" >"$tmp/tune.json"
above "$(num "$tmp/tune.json" val_r2)" 0.5 || fail "tune of a regression: val_r2 $(cat "$tmp/tune.json")"
grep -q -- '--task regression --loss huber' "$tmp/tune.json" || fail "tune's best command: $(cat "$tmp/tune.json")"
grep -q '"val_r2"' "$tmp/tune/results.jsonl" || fail "tune results.jsonl lacks val_r2"

# --- multi-label ---
run train --data "$tmp/ml.csv" --test "$tmp/ml_test.csv" --task multilabel --label up,same,big \
    --out "$tmp/m" --json --threads 2
acc=$(num <(tail -1 "$tmp/out") test_accuracy)
above "$acc" 0.9 || fail "multilabel: test_accuracy $acc is not above 0.9"
grep -q '"test_f1"' "$tmp/out" || fail "multilabel JSON lacks test_f1"
run eval --model "$tmp/m/best.safetensors"
grep -q "^same " "$tmp/out" || fail "multilabel eval: no row for label same: $(cat "$tmp/out")"
run predict --model "$tmp/m/best.safetensors" --input "$tmp/ml_test.csv" --probs
head -1 "$tmp/out" | grep -qE '^[01]	[01]	[01]	[0-9.]+	[0-9.]+	[0-9.]+$' ||
    fail "multilabel predict: $(head -1 "$tmp/out")"

# --- bad input: exit 2, one line naming the column ---
printf 'x,y\n1,2.5\n2,3.75\n3,1.25\n4,8.5\n' >"$tmp/float_label.csv"
expect_usage "to predict a number, train with --task regression" train --data "$tmp/float_label.csv"
printf 'x,y\n1,2.5\n2,abc\n3,1.25\n4,8.5\n' >"$tmp/text_target.csv"
expect_usage "target column 'y' is not numeric" train --data "$tmp/text_target.csv" --task regression --label y
printf 'x,y\n1,2.5\n2,NaN\n3,1.25\n4,8.5\n' >"$tmp/nan_target.csv"
expect_usage "target column 'y' has 1 missing values" train --data "$tmp/nan_target.csv" --task regression --label y
printf 'x,y\n1,2.5\n2,\n3,1.25\n4,8.5\n' >"$tmp/empty_target.csv"
expect_usage "target column 'y' has 1 missing values" train --data "$tmp/empty_target.csv" --task regression
printf 'x,y\n1,7\n2,7\n3,7\n4,7\n' >"$tmp/const_target.csv"
expect_usage "target column 'y' is constant" train --data "$tmp/const_target.csv" --task regression --val-split 0
expect_usage "--loss: 'mse' does not fit the task 'classification'" train --data "$tmp/const_target.csv" --loss mse
expect_usage "--loss: 'bce' does not fit the task 'regression'" train --data "$tmp/train.csv" --task regression --loss bce
expect_usage "--loss: 'hinge' is not one of" train --task regression --loss hinge
expect_usage "--task: 'ranking' is not one of" train --task ranking
expect_usage "no column named 'nope'" train --data "$tmp/train.csv" --task regression --label price,nope
expect_usage "multilabel targets are 0 or 1" train --data "$tmp/train.csv" --task multilabel --label price
expect_usage "--task: regression needs a .csv file" train --task regression
expect_usage "--label: the model's target columns" predict --model "$tmp/r/best.safetensors" --input "$tmp/x.csv" --label price

finish
