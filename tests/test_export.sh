#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_export.sh BUILD_DIR: `cgrad export` writes C that compiles warning-free
# as strict C99 and predicts what the model predicts.
#  1. Flag, checkpoint and output errors: exit 2 (usage or input) / 1 (the
#     output cannot be written) with one line naming the cause.
#  2. Checkpoints written by tests/export/synth.py (pure Python, independent
#     of cgrad): folding, a batch norm after an activation, dropout, every
#     activation, F64 tensors, class names that need escaping, no
#     normaliser; the exported code against a double-precision reference.
#  3. Fashion-MNIST (when installed): a model trained by `cgrad train --bn`
#     for one epoch, exported, run by tests/export/driver.c on the 10,000
#     test images; export_ref (tests/export/ref.c) checks that every class
#     equals the library's and the probabilities agree within 1e-5.
#  4. A CNN (Fashion-MNIST, `cgrad train --arch`): conv with and without
#     bias, a batch norm folded into a conv and one kept per channel, "same"
#     padding at stride 2 (the odd row after), explicit padding, max, average
#     and global average pooling, dropout: the exported code equals the
#     library (export_ref) and `cgrad predict` class by class on the 10,000
#     test images (its ONNX export is tests/test_onnx.sh's).
#  5. --int8 (int8 weights, calibrated uint8 inputs, int32 sums): flag and
#     calibration errors; the models of 3 and 4 exported int8 compile
#     strictly, the generated code holds int8 weights (float only for a
#     batch norm that cannot fold),
#     and int8 differing from float, their classes agree with `cgrad
#     predict` on at least 98% (the MLP) and 97% (the CNN) of the test
#     images, the MLP's accuracy within 1 point of the float export's.
set -u
build=${1:?usage: test_export.sh BUILD_DIR}
build=$(cd "$build" && pwd)
cgrad=$build/cgrad
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
[ -x "$cgrad" ] || { echo "no $cgrad: build first" >&2; exit 1; }
cc=${CC:-cc}
strict=(-std=c99 -O2 -Wall -Wextra -pedantic -Werror)

# expect_exit CODE NEEDLE ARGS...: exit CODE, NEEDLE on the one stderr line,
# nothing on stdout.
expect_exit() {
    local code=$1 needle=$2; shift 2
    "$cgrad" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    [ $rc -eq "$code" ] || fail "cgrad $*: exit $rc, expected $code: $(cat "$tmp/err")"
    grep -qF -- "$needle" "$tmp/err" || fail "cgrad $*: stderr lacks '$needle': $(cat "$tmp/err")"
    [ ! -s "$tmp/out" ] || fail "cgrad $*: wrote to stdout: $(head -c 200 "$tmp/out")"
    [ "$(wc -l <"$tmp/err")" -le 1 ] || fail "cgrad $*: more than one line on stderr"
}

python3 "$src/export/synth.py" "$tmp" || { echo "synth.py failed" >&2; exit 1; }
good=$tmp/good.safetensors

# --- 1. errors ---
expect_exit 2 "--model" export --c "$tmp/x"
expect_exit 2 "--c" export --model "$good"
expect_exit 2 "--bogus" export --model "$good" --c "$tmp/x" --bogus
expect_exit 2 "--prefix" export --model "$good" --c "$tmp/x" --prefix 9lives
expect_exit 2 "--prefix" export --model "$good" --c "$tmp/x" --prefix "a-b"
expect_exit 2 "--model" export --c "$tmp/x" --model
expect_exit 2 "stray" export --model "$good" --c "$tmp/x" stray
# A checkpoint that is missing, damaged, foreign or whose values cannot be
# exported is an input error (2), as in eval and predict: the reader is
# theirs (cg_checkpoint_load).
expect_exit 2 "$tmp/nosuch.safetensors" export --model "$tmp/nosuch.safetensors" --c "$tmp/x"
expect_exit 2 "bn1.running_var" export --model "$tmp/missing_tensor.safetensors" --c "$tmp/x"
expect_exit 2 "dense3.weight" export --model "$tmp/bad_shape.safetensors" --c "$tmp/x"
expect_exit 2 "[4, 5]" export --model "$tmp/bad_shape.safetensors" --c "$tmp/x"
expect_exit 2 "not a cgrad checkpoint" export --model "$tmp/not_cgrad.safetensors" --c "$tmp/x"
expect_exit 2 "format version 99" export --model "$tmp/bad_version.safetensors" --c "$tmp/x"
expect_exit 2 "conv2d" export --model "$tmp/bad_spec.safetensors" --c "$tmp/x"
expect_exit 2 "$tmp/short.safetensors" export --model "$tmp/short.safetensors" --c "$tmp/x"
expect_exit 2 "$tmp/inputs.f32" export --model "$tmp/inputs.f32" --c "$tmp/x"
# Values the C code could not hold: checked before anything is written.
python3 - "$tmp" <<'PY'
import json, struct, sys
tmp = sys.argv[1]
data = open(tmp + "/good.safetensors", "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header, body = json.loads(data[8:8 + n]), bytearray(data[8 + n:])
def variant(name, *edits):  # edits: (tensor, index, value)...
    b = bytearray(body)
    for tensor, index, value in edits:
        t = header[tensor]
        size = 4 if t["dtype"] == "F32" else 8
        off = t["data_offsets"][0] + index * size
        b[off:off + size] = struct.pack("<f" if size == 4 else "<d", value)
    open(tmp + "/" + name, "wb").write(data[:8 + n] + bytes(b))
variant("nan_mean.safetensors", ("input.mean", 2, float("nan")))
variant("negative_var.safetensors", ("bn1.running_var", 3, -1.0))
# Finite floats, but gamma / sqrt(var + eps) is beyond float's range.
variant("huge_gamma.safetensors", ("bn1.gamma", 1, 3e38), ("bn1.running_var", 1, 0.0))
PY
expect_exit 2 "input.mean" export --model "$tmp/nan_mean.safetensors" --c "$tmp/x"
expect_exit 2 "nan_mean.safetensors" export --model "$tmp/nan_mean.safetensors" --c "$tmp/x"
expect_exit 2 "bn1.running_var" export --model "$tmp/negative_var.safetensors" --c "$tmp/x"
expect_exit 2 "dense1 (bn1 folded in)" export --model "$tmp/huge_gamma.safetensors" --c "$tmp/x"
[ ! -e "$tmp/x" ] || fail "a failed export created the output directory"
# Output that cannot be written is a runtime failure (1), naming the path,
# and leaves no partial file.
: >"$tmp/file"
expect_exit 1 "$tmp/file/sub" export --model "$good" --c "$tmp/file/sub"
mkdir -p "$tmp/clash/model.c"
expect_exit 1 "$tmp/clash/model.c" export --model "$good" --c "$tmp/clash"
[ ! -e "$tmp/clash/model.h" ] || fail "a failed export left $tmp/clash/model.h behind"
if [ -d /proc/self ]; then # not writable, even by root
    expect_exit 1 "/proc/self/model.h" export --model "$good" --c /proc/self
fi
"$cgrad" export --help | grep -q -- "--prefix" || fail "export --help"
"$cgrad" help export | grep -q -- "--model" || fail "help export"

# --- 2. synthetic checkpoints against the Python reference ---
# compare EXPECTED GOT TOL: same classes, probabilities within TOL.
compare() {
    python3 - "$@" <<'PY'
import sys
exp = [l.split() for l in open(sys.argv[1])]
got = [l.split() for l in open(sys.argv[2])]
tol = float(sys.argv[3])
assert len(exp) == len(got) and exp, (len(exp), len(got))
worst = 0.0
for i, (e, g) in enumerate(zip(exp, got)):
    assert e[0] == g[0], f"example {i}: class {g[0]}, expected {e[0]}"
    assert len(e) == len(g), f"example {i}: {len(g) - 1} probabilities, expected {len(e) - 1}"
    worst = max([worst] + [abs(float(a) - float(b)) for a, b in zip(e[1:], g[1:])])
assert worst <= tol, f"max |dp| {worst:.3g} > {tol}"
print(f"{len(exp)} examples: classes equal, max |dp| {worst:.3g}")
PY
}

# export_and_build CKPT DIR [PREFIX]: export, compile strictly with each
# compiler at hand, link the driver (prefix model only).
export_and_build() {
    local ckpt=$1 dir=$2 prefix=${3:-model}
    "$cgrad" export --model "$ckpt" --c "$dir" --prefix "$prefix" >"$tmp/out" 2>"$tmp/err" ||
        { fail "export $ckpt: $(cat "$tmp/err")"; return 1; }
    grep -q "wrote $dir/$prefix.h and $dir/$prefix.c" "$tmp/out" || fail "export $ckpt: $(cat "$tmp/out")"
    for c in "$cc" clang; do
        command -v "$c" >/dev/null || continue
        "$c" "${strict[@]}" -c "$dir/$prefix.c" -o "$dir/$prefix.$c.o" 2>"$tmp/cc_err" ||
            { fail "$c: $prefix.c from $ckpt: $(head -c 2000 "$tmp/cc_err")"; return 1; }
    done
    [ "$prefix" = model ] || return 0
    "$cc" "${strict[@]}" -I "$dir" "$src/export/driver.c" "$dir/model.c" -o "$dir/driver" -lm \
        2>"$tmp/cc_err" || { fail "driver with $ckpt: $(head -c 2000 "$tmp/cc_err")"; return 1; }
}

# literals_exact CKPT MODEL_C ARRAY=TENSOR...: the array's literals are the
# tensor's values rounded to float, exactly ("%.9g" round-trips).
literals_exact() {
    python3 - "$@" <<'PY'
import json, re, struct, sys
ckpt, src, pairs = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3:]
data = open(ckpt, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header, body = json.loads(data[8:8 + n]), data[8 + n:]
f32 = lambda v: struct.pack("<f", v)
for pair in pairs:
    array, tensor = pair.split("=")
    t = header[tensor]
    b, e = t["data_offsets"]
    code = "f" if t["dtype"] == "F32" else "d"
    want = [f32(v) for v in struct.unpack("<%d%s" % ((e - b) // struct.calcsize(code), code), body[b:e])]
    m = re.search(r"static const float %s\[\d+\] = \{([^}]*)\}" % array, src)
    assert m, f"no array {array}"
    got = [f32(float(s.strip().rstrip("f"))) for s in m.group(1).split(",")]
    assert got == want, f"{array} != {tensor}"
PY
}

if export_and_build "$good" "$tmp/good"; then
    "$tmp/good/driver" f32 "$tmp/inputs.f32" >"$tmp/good.txt" || fail "driver on good"
    compare "$tmp/expected.txt" "$tmp/good.txt" 1e-5 || fail "good: exported code != reference"
    printf '%s\n' "T-shirt/top" 'say "hi"\??=' "café" >"$tmp/names_expected"
    "$tmp/good/driver" names >"$tmp/names"
    cmp -s "$tmp/names" "$tmp/names_expected" || fail "class names: $(cat "$tmp/names")"
    grep -q "bn1 folded in" "$tmp/good/model.c" || fail "bn1 was not folded into dense1"
    literals_exact "$good" "$tmp/good/model.c" in_mean=input.mean in_inv_std=input.inv_std ||
        fail "good: normaliser constants do not round-trip exactly"
    ! grep -q "bn1.*per-feature" "$tmp/good/model.c" || fail "bn1 kept as a separate layer"
fi
if export_and_build "$tmp/plain.safetensors" "$tmp/plain"; then
    literals_exact "$tmp/plain.safetensors" "$tmp/plain/model.c" w1=dense1.weight b1=dense1.bias ||
        fail "plain: weights do not round-trip exactly"
    "$tmp/plain/driver" f32 "$tmp/plain_inputs.f32" >"$tmp/plain.txt" || fail "driver on plain"
    compare "$tmp/plain_expected.txt" "$tmp/plain.txt" 1e-6 || fail "plain: exported code != reference"
    [ "$("$tmp/plain/driver" names | tr '\n' ' ')" = "0 1 " ] || fail "numbered class names"
fi
# Buffers too big for a thread's stack are static (the header says so).
if export_and_build "$tmp/wide.safetensors" "$tmp/wide"; then
    grep -q "static float a\[40000\]" "$tmp/wide/model.c" || fail "wide: buffers not static"
    grep -q "Not reentrant" "$tmp/wide/model.h" || fail "wide: header does not say not reentrant"
    "$tmp/wide/driver" f32 "$tmp/wide_inputs.f32" >"$tmp/wide.txt" || fail "driver on wide"
    compare "$tmp/wide_expected.txt" "$tmp/wide.txt" 1e-5 || fail "wide: exported code != reference"
fi
grep -q "Reentrant" "$tmp/good/model.h" || fail "good: header does not say reentrant"
# --prefix names the files and every external symbol; the output directory
# is created with its parents.
if export_and_build "$good" "$tmp/deep/er" net && command -v nm >/dev/null; then
    syms=$(nm -g --defined-only "$tmp/deep/er/net.$cc.o" | awk '{print $3}' | sort | tr '\n' ' ')
    [ "$syms" = "net_class_names net_predict " ] || fail "--prefix net: external symbols: $syms"
    grep -q "define NET_N_CLASSES 3" "$tmp/deep/er/net.h" || fail "--prefix net: NET_N_CLASSES"
fi

# int8_agree DRIVER_OUT PREDICT_OUT NAMES LABELS FLOOR: the share of
# classes equal to cgrad predict's is at least FLOOR; prints it and the
# accuracy against LABELS (an IDX labels .gz).
int8_agree() {
    python3 - "$@" <<'PY'
import gzip, sys
names = open(sys.argv[3]).read().splitlines()
got = [int(l.split()[0]) for l in open(sys.argv[1])]
want = [l.split("\t")[0] for l in open(sys.argv[2]).read().splitlines()]
y = gzip.open(sys.argv[4]).read()[8:]
assert len(got) == len(want) == len(y) == 10000, (len(got), len(want), len(y))
agree = sum(names[a] == b for a, b in zip(got, want)) / len(got)
acc = sum(a == b for a, b in zip(got, y)) / len(y)
print(f"int8 C: the class of cgrad predict on {agree:.2%} of the test images, accuracy {acc:.4f}")
assert agree >= float(sys.argv[5]), agree
PY
}

# --- 3. Fashion-MNIST end to end ---
fm=/usr/share/datasets/fashion-mnist
if [ ! -f "$fm/t10k-images-idx3-ubyte.gz" ]; then
    echo "SKIP: Fashion-MNIST end to end ($fm not installed)"
else
    # A quick run trains on fewer examples: the comparison is what matters.
    subset=()
    [ -z "${CG_TEST_QUICK:-}" ] || subset=(--subset 5000)
    "$cgrad" train --epochs 1 --hidden 64 --bn --out "$tmp/fm" --quiet "${subset[@]}" \
        >"$tmp/train_out" 2>"$tmp/err" || fail "training: $(cat "$tmp/err")"
    ckpt=$tmp/fm/last.safetensors
    if [ ! -f "$ckpt" ]; then
        fail "cgrad train --out wrote no $ckpt"
    elif export_and_build "$ckpt" "$tmp/fmc"; then
        grep -q "bn1 folded in" "$tmp/fmc/model.c" || fail "Fashion-MNIST: bn1 not folded"
        [ "$("$tmp/fmc/driver" names | sed -n '1p;10p' | tr '\n' ,)" = "T-shirt/top,Ankle boot," ] ||
            fail "Fashion-MNIST class names: $("$tmp/fmc/driver" names | tr '\n' ,)"
        gunzip -c "$fm/t10k-images-idx3-ubyte.gz" >"$tmp/t10k-images"
        "$tmp/fmc/driver" idx "$tmp/t10k-images" >"$tmp/fm.txt" || fail "driver on Fashion-MNIST"
        "$build/tests/export_ref" "$ckpt" "$tmp/fm.txt" || fail "exported model != library"
    fi
    # --- 4. a CNN ---
    "$cgrad" train --arch conv6x3,bn,maxpool2,conv8x3s2,avgpool2s1,bn,conv8x2p1,relu_placeholder \
        >/dev/null 2>&1 && fail "a bad --arch layer was accepted"
    "$cgrad" train --arch conv6x3,bn,maxpool2,conv8x3s2,avgpool2s1,bn,conv12x2p1,maxpool2,dropout0.1,dense16 \
        --subset 3000 --epochs 1 --lr 0.003 --threads 2 --out "$tmp/cnn" --quiet >"$tmp/train_out" 2>"$tmp/err" ||
        fail "CNN training: $(cat "$tmp/err")"
    cnn=$tmp/cnn/last.safetensors
    if [ -f "$cnn" ] && export_and_build "$cnn" "$tmp/cnnc"; then
        grep -q "conv1 (bn1 folded in)" "$tmp/cnnc/model.c" || fail "CNN: bn1 not folded into conv1"
        grep -q "per-channel scale and shift" "$tmp/cnnc/model.c" || fail "CNN: bn2 not kept per channel"
        grep -q "conv2d(a, 6, 14, 14, w2, b2, 8, 3, 2, 0, 0, 7, 7, b)" "$tmp/cnnc/model.c" ||
            fail "CNN: conv2's stride-2 same padding (0 above, the odd row below)"
        [ -f "$tmp/t10k-images" ] || gunzip -c "$fm/t10k-images-idx3-ubyte.gz" >"$tmp/t10k-images"
        "$tmp/cnnc/driver" idx "$tmp/t10k-images" >"$tmp/cnn.txt" || fail "driver on the CNN"
        "$build/tests/export_ref" "$cnn" "$tmp/cnn.txt" || fail "exported CNN != library"
        "$cgrad" predict --model "$cnn" --input "$tmp/t10k-images" >"$tmp/cnn_predict" 2>"$tmp/err" ||
            fail "predict with the CNN: $(cat "$tmp/err")"
        "$tmp/cnnc/driver" names >"$tmp/cnn_names"
        python3 - "$tmp/cnn.txt" "$tmp/cnn_predict" "$tmp/cnn_names" <<'PY' || fail "exported CNN != cgrad predict"
import sys
names = open(sys.argv[3]).read().splitlines()
got = [names[int(l.split()[0])] for l in open(sys.argv[1])]
want = [l.split("\t")[0] for l in open(sys.argv[2]).read().splitlines()]
assert len(got) == len(want) == 10000, (len(got), len(want))
diff = sum(a != b for a, b in zip(got, want))
assert diff == 0, f"{diff} classes differ"
print("exported CNN: the same class as cgrad predict on all 10000 test images")
PY
    fi
    # --- 5. int8 ---
    labels=$fm/t10k-labels-idx1-ubyte.gz
    expect_exit 2 "--data" export --model "$good" --c "$tmp/q" --int8
    expect_exit 2 "--int8" export --model "$good" --c "$tmp/q" --calibrate 10
    expect_exit 2 "784 features, the model takes 6" export --model "$good" --c "$tmp/q" --int8 \
        --data fashion-mnist --calibrate 10
    [ ! -e "$tmp/q" ] || fail "a failed int8 export created the output directory"
    int8_build() { # CKPT DIR FLOATS: export int8, compile strictly with each compiler, link the driver
        "$cgrad" export --model "$1" --c "$2" --int8 --data fashion-mnist --calibrate 500 \
            >"$tmp/out" 2>"$tmp/err" || { fail "int8 export $1: $(cat "$tmp/err")"; return 1; }
        grep -q "wrote $2/model.h and $2/model.c: 784 inputs, 10 classes, int8" "$tmp/out" ||
            fail "int8 export: $(cat "$tmp/out")"
        for c in "$cc" clang; do
            command -v "$c" >/dev/null || continue
            "$c" "${strict[@]}" -c "$2/model.c" -o "$2/model.$c.o" 2>"$tmp/cc_err" ||
                { fail "$c: int8 model.c from $1: $(head -c 2000 "$tmp/cc_err")"; return 1; }
        done
        "$cc" "${strict[@]}" -I "$2" "$src/export/driver.c" "$2/model.c" -o "$2/driver" -lm \
            2>"$tmp/cc_err" || { fail "int8 driver: $(head -c 2000 "$tmp/cc_err")"; return 1; }
        grep -q "static const signed char w1\[" "$2/model.c" || fail "int8 $2: no int8 weights"
        # FLOATS: weight arrays left float (a batch norm kept as a scale and shift)
        [ "$(grep -c "static const float w[0-9]" "$2/model.c")" = "$3" ] ||
            fail "int8 $2: $(grep -c "static const float w[0-9]" "$2/model.c") float weight arrays, expected $3"
        grep -q "calibration examples" "$2/model.c" || fail "int8 $2: calibration not described"
    }
    [ -f "$tmp/t10k-images" ] || gunzip -c "$fm/t10k-images-idx3-ubyte.gz" >"$tmp/t10k-images"
    if [ -f "$ckpt" ] && int8_build "$ckpt" "$tmp/fm8" 0; then
        "$tmp/fm8/driver" idx "$tmp/t10k-images" >"$tmp/fm8.txt" || fail "driver on the int8 MLP"
        "$cgrad" predict --model "$ckpt" --input "$tmp/t10k-images" >"$tmp/fm_predict" 2>"$tmp/err" ||
            fail "predict: $(cat "$tmp/err")"
        "$tmp/fm8/driver" names >"$tmp/fm_names"
        q=$(int8_agree "$tmp/fm8.txt" "$tmp/fm_predict" "$tmp/fm_names" "$labels" 0.98) ||
            fail "int8 MLP != cgrad predict: $q"
        echo "$q"
        f=$(int8_agree "$tmp/fm.txt" "$tmp/fm_predict" "$tmp/fm_names" "$labels" 1) ||
            fail "float MLP != cgrad predict: $f"
        python3 -c "import sys; f, q = (float(a.split()[-1]) for a in sys.argv[1:]); sys.exit(not q >= f - 0.01)" \
            "$f" "$q" || fail "int8 accuracy ($q) more than 1 point below float ($f)"
    fi
    if [ -f "$cnn" ] && int8_build "$cnn" "$tmp/cnn8" 1; then
        grep -q "conv2d_int8(q, 6, 14, 14, w2, s2, b2, 8, 3, 2, 0, 0, 7, 7, acc, b)" "$tmp/cnn8/model.c" ||
            fail "int8 CNN: conv2 is not int8 with conv2's geometry"
        "$tmp/cnn8/driver" idx "$tmp/t10k-images" >"$tmp/cnn8.txt" || fail "driver on the int8 CNN"
        q=$(int8_agree "$tmp/cnn8.txt" "$tmp/cnn_predict" "$tmp/cnn_names" "$labels" 0.97) ||
            fail "int8 CNN != cgrad predict: $q"
        echo "$q"
    fi
    # A checkpoint of this format cut short: the shared reader's input error.
    if [ -f "$ckpt" ]; then
        head -c 5000 "$ckpt" >"$tmp/fm_cut.safetensors"
        expect_exit 2 "$tmp/fm_cut.safetensors" export --model "$tmp/fm_cut.safetensors" --c "$tmp/y"
        [ ! -e "$tmp/y" ] || fail "a failed export created the output directory"
    fi
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"
