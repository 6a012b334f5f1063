#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_cli_train.sh BUILD_DIR: `cgrad train` flag errors, a short run on a
# generated CSV with --json and --out.
. "$(dirname "$0")/cli_common.sh" "$@"

# Three gaussian blobs in 4 features, scaled into the thousands (so only a
# standardised run trains well), written as train and test CSVs.
blobs_csv "$tmp" 0.25 600 300 1000 5000

d="$tmp/train.csv"
expect_usage "frobnicate" frobnicate
expect_usage "--bogus" train --bogus
expect_usage "--epochs" train --data "$d" --epochs 0
expect_usage "--epochs" train --data "$d" --epochs 3x
expect_usage "--lr" train --data "$d" --lr abc
expect_usage "--lr" train --data "$d" --lr -1
expect_usage "--batch" train --data "$d" --batch 0
expect_usage "--hidden" train --data "$d" --hidden 12,x
expect_usage "--lr-decay" train --data "$d" --lr-decay exp:
expect_usage "--weight-decay" train --data "$d" --weight-decay -1
expect_usage "--clip-norm" train --data "$d" --clip-norm x
expect_usage "--dropout" train --data "$d" --dropout 1
expect_usage "--hidden" train --data "$d" --hidden 12,,4
expect_usage "--val-split" train --data "$d" --val-split 1
expect_usage "--activation" train --data "$d" --activation softplus
expect_usage "--optimizer" train --data "$d" --optimizer adagradx
expect_usage "--epochs" train --data "$d" --epochs
expect_usage "$tmp/missing.csv" train --data "$tmp/missing.csv"
# A flag the chosen optimizer (or model) would not use is refused.
expect_usage "--beta1: optimizer sgd has no beta1" train --data "$d" --optimizer sgd --beta1 0.8
expect_usage "its beta is beta1" train --data "$d" --momentum 0.5
expect_usage "--beta2: optimizer rmsprop" train --data "$d" --optimizer rmsprop --beta2 0.9
expect_usage "its beta is momentum" train --data "$d" --optimizer nesterov --beta1 0.5
expect_usage "--eps: optimizer momentum" train --data "$d" --optimizer momentum --eps 1e-6
expect_usage "--sync-bn" train --data "$d" --sync-bn
expect_usage "--precision: 'fp16' is not one of" train --data "$d" --precision fp16
# bf16 where it cannot run (forced off here; or a build without oneDNN):
# the error says what is missing.
CG_DISABLE_BF16=1 expect_usage "--precision: bf16: " train --data "$d" --precision bf16
# --arch: the bad layer is named; it replaces --hidden, --bn and --dropout;
# conv and pools need images, which a CSV does not have.
expect_usage "--arch: layer 2 'maxpol2' is not a layer" train --data "$d" --arch conv8x3,maxpol2
expect_usage "--arch: layer 1 'conv8x' is not convFxK" train --data "$d" --arch conv8x
expect_usage "--arch: layer 3 'dropout2'" train --data "$d" --arch dense8,bn,dropout2
expect_usage "--arch and --hidden cannot be given together" train --data "$d" --arch dense8 --hidden 8
expect_usage "--bn: with an architecture, put bn layers in it" train --data "$d" --arch dense8 --bn
expect_usage "--dropout: with an architecture" train --data "$d" --arch dense8 --dropout 0.2
expect_usage "--arch: conv and pooling layers need images" train --data "$d" --test "$tmp/test.csv" \
    --arch conv8x3,dense8
expect_usage "--activation: the architecture has no conv or dense" train --data "$d" --arch dropout0.1 \
    --activation tanh
[ ! -e "$tmp/never" ] || fail "a usage error created files"
expect_usage "--epochs" train --data "$d" --epochs 0 --out "$tmp/never"
[ ! -e "$tmp/never" ] || fail "a usage error created the --out directory"

"$cgrad" --version | grep -q "cgrad " || fail "--version"
"$cgrad" train --help | grep -q -- "--hidden" || fail "train --help"

# A short run: JSON on the last stdout line, metrics.jsonl per epoch.
"$cgrad" train --data "$d" --test "$tmp/test.csv" --hidden 16 --epochs 10 --batch 32 \
    --seed 3 --json --out "$tmp/run/x" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] || fail "training run: exit $rc: $(cat "$tmp/err")"
tail -n 1 "$tmp/out" >"$tmp/last.json"
python3 - "$tmp/last.json" "$tmp/run/x/metrics.jsonl" <<'PY' || fail "JSON checks"
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("test_accuracy", "test_loss", "epochs", "train_seconds", "examples_per_second"):
    assert k in r, f"missing key {k}: {r}"
assert r["test_accuracy"] >= 0.9, r
assert r["epochs"] == 10, r
lines = open(sys.argv[2]).read().splitlines()
assert len(lines) == 10, lines
for i, line in enumerate(lines, 1):
    e = json.loads(line)
    assert e["epoch"] == i, e
    for k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds"):
        assert k in e, (k, e)
PY
grep -q "test accuracy" "$tmp/err" || fail "no test accuracy line on stderr (--json)"

# Standardisation (on by default for CSV) is what lets plain SGD train on
# features in the thousands.
acc_of() { tail -n 1 "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["test_accuracy"])'; }
"$cgrad" train --data "$d" --test "$tmp/test.csv" --hidden 16 --epochs 10 --batch 32 --seed 3 \
    --optimizer sgd --json --quiet >"$tmp/std" 2>"$tmp/err" || fail "sgd run: $(cat "$tmp/err")"
"$cgrad" train --data "$d" --test "$tmp/test.csv" --hidden 16 --epochs 10 --batch 32 --seed 3 \
    --optimizer sgd --no-standardize --json --quiet >"$tmp/raw" 2>"$tmp/err"
python3 -c "import sys; s, r = float(sys.argv[1]), float(sys.argv[2]); assert s >= 0.9 and r < s - 0.2, (s, r)" \
    "$(acc_of "$tmp/std")" "$(acc_of "$tmp/raw" 2>/dev/null || echo 0)" || fail "standardisation check"

# CSV without --test: a note, still exit 0; --no-standardize is accepted.
"$cgrad" train --data "$d" --hidden none --epochs 1 --quiet --no-standardize >"$tmp/out" 2>"$tmp/err" ||
    fail "run without --test: $(cat "$tmp/err")"

# --label by name and by index picks the same column; an unknown one is a
# usage error. --bn and --dropout train end to end.
for lab in label 4; do
    "$cgrad" train --data "$d" --test "$tmp/test.csv" --label "$lab" --hidden 16 --bn \
        --dropout 0.1 --epochs 20 --lr 0.01 --batch 32 --seed 3 --quiet --json >"$tmp/lab" 2>"$tmp/err" ||
        fail "--label $lab: $(cat "$tmp/err")"
    python3 -c 'import json,sys; a=json.loads(open(sys.argv[1]).read().splitlines()[-1])["test_accuracy"]; sys.exit(0 if a >= 0.9 else 1)' \
        "$tmp/lab" || fail "--label $lab --bn --dropout: accuracy below 0.9"
done
# A dense-only --arch is an MLP: it trains on flat rows, with its bn and
# dropout layers where the list puts them.
"$cgrad" train --data "$d" --test "$tmp/test.csv" --arch dense16,bn,dropout0.1,dense8 --epochs 20 \
    --lr 0.01 --batch 32 --seed 3 --json >"$tmp/arch" 2>"$tmp/err" || fail "--arch dense: $(cat "$tmp/err")"
python3 -c 'import json,sys; a=json.loads(open(sys.argv[1]).read().splitlines()[-1])["test_accuracy"]; sys.exit(0 if a >= 0.9 else 1)' \
    "$tmp/arch" || fail "--arch dense16,bn,dropout0.1,dense8: accuracy below 0.9"
grep -q "bn1 (BatchNorm) *(None, 16)" "$tmp/err" || fail "--arch: no summary row for bn1: $(cat "$tmp/err")"
grep -q "dense3 (Dense, logits) *(None, 3)" "$tmp/err" || fail "--arch: no output layer row"
# 4-D .npy images [N, C, H, W] keep their shape (labels in NAME.labels.npy):
# a CNN learns which quadrant of which channel is lit; predict takes a 4-D
# array; a missing labels file and --label are errors naming the cause.
python3 - "$tmp" <<'PY' || fail "cannot write 4-D .npy files"
import random, struct, sys
def save(path, descr, shape, data, fmt):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, ", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(data), fmt), *data))
random.seed(1)
for name, n in (("img", 300), ("img_test", 90)):
    xs, ys = [], []
    for i in range(n):
        k = i % 3
        img = [[[random.random() * 0.3 for _ in range(6)] for _ in range(6)] for _ in range(2)]
        r0, c0 = [(0, 0), (0, 3), (3, 0)][k]
        for r in range(r0, r0 + 3):
            for c in range(c0, c0 + 3):
                img[k % 2][r][c] += 1.0
        xs += [v for ch in img for row in ch for v in row]
        ys.append(k)
    save(f"{sys.argv[1]}/{name}.npy", "<f4", (n, 2, 6, 6), xs, "f")
    save(f"{sys.argv[1]}/{name}.labels.npy", "<i8", (n,), ys, "q")
save(f"{sys.argv[1]}/nolabels.npy", "<f4", (3, 2, 6, 6), [0.0] * 216, "f")
PY
"$cgrad" train --data "$tmp/img.npy" --test "$tmp/img_test.npy" --arch conv8x3,maxpool2,dense16 --epochs 10 \
    --batch 32 --lr 0.01 --seed 3 --out "$tmp/img" --json >"$tmp/img.out" 2>"$tmp/err" ||
    fail "4-D .npy: $(cat "$tmp/err")"
grep -q "x (Input) *(None, 2, 6, 6)" "$tmp/err" || fail "4-D .npy: the input shape is not 2x6x6"
grep -q "90 test examples, 72 features" "$tmp/err" || fail "4-D .npy: not its own test set"
python3 -c 'import json,sys; a=json.loads(open(sys.argv[1]).read().splitlines()[-1])["test_accuracy"]; sys.exit(0 if a >= 0.9 else 1)' \
    "$tmp/img.out" || fail "4-D .npy: accuracy below 0.9"
[ "$("$cgrad" predict --model "$tmp/img/last.safetensors" --input "$tmp/img_test.npy" | cut -f1 | head -3 |
    tr '\n' ,)" = "0,1,2," ] || fail "4-D .npy: predict"
expect_usage "nolabels.labels.npy': cannot open" train --data "$tmp/nolabels.npy" --arch conv4x3
expect_usage "a 4-D array of images has no label column" train --data "$tmp/img.npy" --label 3 --arch conv4x3

# A beta of 0 is taken as given, not as "the default" (the checkpoint's
# optimizer record says which).
"$cgrad" train --data "$d" --hidden 8 --epochs 1 --beta1 0 --beta2 0.5 --out "$tmp/b0" \
    --quiet >"$tmp/out" 2>"$tmp/err" || fail "--beta1 0: $(cat "$tmp/err")"
tr -d '\000' <"$tmp/b0/last.safetensors" | head -c 20000 | grep -q 'beta1\\":0,\\"beta2\\":0.5' ||
    fail "--beta1 0 --beta2 0.5: not in the checkpoint's optimizer record"
"$cgrad" train --data "$d" --label nosuch --epochs 1 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "--label nosuch: exit $rc, expected 2"
grep -q "nosuch" "$tmp/err" || fail "--label nosuch: stderr lacks the name: $(cat "$tmp/err")"

finish
