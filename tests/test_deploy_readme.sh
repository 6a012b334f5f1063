#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_deploy_readme.sh BUILD_DIR: the README's "Deploy" examples work as
# written. Each block marked <!-- test: NAME --> is taken from README.md
# and run in a fresh directory, with the build installed into a temporary
# prefix (its bin on PATH, its cgrad.pc on PKG_CONFIG_PATH) as a user's
# `make install` would be:
#   deploy-train    trains run/last.safetensors (CG_TEST_QUICK: on a
#                   5,000-example subset, appended to the command)
#   deploy-lib-*    predict.c built with pkg-config, its classes == cgrad predict's
#   deploy-c-sh     cgrad export --c, the C compiles
#   deploy-onnx-*   cgrad export --onnx, predict.js in ONNX Runtime, its
#                   classes == cgrad predict's. `npm install` is answered
#                   from the copy tests/onnx/install_ort.sh keeps.
set -u
build=${1:?usage: test_deploy_readme.sh BUILD_DIR}
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
fm=/usr/share/datasets/fashion-mnist
if [ ! -f "$fm/t10k-images-idx3-ubyte.gz" ]; then
    echo "SKIP: the Deploy examples use Fashion-MNIST ($fm not installed)"
    exit 0
fi

# Blocks by name: tmp/blocks/NAME.
mkdir -p "$tmp/blocks"
python3 - "$src/README.md" "$tmp/blocks" <<'PY' || { echo "cannot read the README's blocks" >&2; exit 1; }
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
found = re.findall(r"<!-- test: ([\w-]+) -->\n```\w*\n(.*?)```", text, flags=re.S)
names = [n for n, _ in found]
want = ["deploy-train", "deploy-lib-c", "deploy-lib-sh", "deploy-c-sh", "deploy-onnx-sh", "deploy-onnx-js"]
assert names == want, f"README blocks {names}, expected {want}"
for name, body in found:
    open(f"{sys.argv[2]}/{name}", "w", encoding="utf-8").write(body)
PY

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { echo "cmake --install failed: $(tail -5 "$tmp/install.log")" >&2; exit 1; }
libdir=$(dirname "$(find "$prefix" -name libcgrad.a | head -1)")
export PATH=$prefix/bin:$PATH PKG_CONFIG_PATH=$libdir/pkgconfig LD_LIBRARY_PATH=$libdir
# A sanitizer build's library needs its runtime in the program: cc learns
# the flag from CFLAGS... which the README's cc line does not read; a
# wrapper adds it.
if grep -q "^CG_SANITIZE:BOOL=ON" "$build/CMakeCache.txt"; then
    mkdir -p "$tmp/bin"
    printf '#!/bin/sh\nexec %s -fsanitize=address,undefined "$@"\n' "$(command -v "${CC:-cc}")" >"$tmp/bin/cc"
    chmod +x "$tmp/bin/cc"
    export PATH=$tmp/bin:$PATH
fi
w=$tmp/work
mkdir -p "$w"
cd "$w" || exit 1

train=$(cat "$tmp/blocks/deploy-train")
[ -z "${CG_TEST_QUICK:-}" ] || train=$(sed 's/ --out run/ --out run --subset 5000/' <<<"$train")
bash -e -c "$train" >"$tmp/train.out" 2>&1 || { echo "FAIL: deploy-train: $(tail -5 "$tmp/train.out")" >&2; exit 1; }
[ -f run/last.safetensors ] || { echo "FAIL: deploy-train wrote no run/last.safetensors" >&2; exit 1; }
cgrad predict --model run/last.safetensors --input "$fm/t10k-images-idx3-ubyte.gz" | cut -f1 >"$tmp/want" ||
    fail "cgrad predict"
head -3 "$tmp/want" >"$tmp/want3"

# The library.
cp "$tmp/blocks/deploy-lib-c" predict.c
bash -e -c "$(cat "$tmp/blocks/deploy-lib-sh")" >"$tmp/lib.out" 2>"$tmp/lib.err" ||
    fail "deploy-lib-sh: $(head -c 2000 "$tmp/lib.err")"
cmp -s "$tmp/lib.out" "$tmp/want3" || fail "predict.c says $(tr '\n' , <"$tmp/lib.out"), cgrad predict $(tr '\n' , <"$tmp/want3")"
# ... and on the whole test set.
if [ -x ./predict ]; then
    ./predict run/last.safetensors "$fm/t10k-images-idx3-ubyte.gz" >"$tmp/lib_all" 2>&1 ||
        fail "predict.c on the test set: $(head -c 300 "$tmp/lib_all")"
    cmp -s "$tmp/lib_all" "$tmp/want" || fail "predict.c != cgrad predict on the test set"
    ldd ./predict | grep -q "libcgrad.so.* => $libdir/" || fail "predict.c is not linked with the installed libcgrad.so"
fi

# Generated C.
bash -e -c "$(cat "$tmp/blocks/deploy-c-sh")" >"$tmp/c.out" 2>&1 || fail "deploy-c-sh: $(head -c 2000 "$tmp/c.out")"
[ -f model.o ] && [ -f deploy/model.h ] || fail "deploy-c-sh made no deploy/model.h and model.o"

# ONNX.
if ort=$(bash "$src/tests/onnx/install_ort.sh" "$build"); then
    cp "$tmp/blocks/deploy-onnx-js" predict.js
    npm() {
        [ "$*" = "install --ignore-scripts onnxruntime-node" ] || { echo "npm $*: unexpected" >&2; return 1; }
        ln -s "$ORT_MODULES" node_modules
    }
    export -f npm
    ORT_MODULES=$ort bash -e -c "$(cat "$tmp/blocks/deploy-onnx-sh")" >"$tmp/onnx.out" 2>"$tmp/onnx.err" ||
        fail "deploy-onnx-sh: $(head -c 2000 "$tmp/onnx.err")"
    names=("T-shirt/top" "Trouser" "Pullover" "Dress" "Coat" "Sandal" "Shirt" "Sneaker" "Bag" "Ankle boot")
    got=$(grep -v '^wrote ' "$tmp/onnx.out" | while read -r i; do echo "${names[$i]:-?$i}"; done)
    [ "$got" = "$(cat "$tmp/want3")" ] ||
        fail "predict.js says $(tr '\n' , <<<"$got"), cgrad predict $(tr '\n' , <"$tmp/want3")"
else
    fail "no ONNX Runtime"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
echo "ok"
