#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test_safetensors_py.sh BUILD_DIR: safetensors files cross between cgrad
# and numpy (tests/safetensors_read.py, no safetensors package). (1) numpy
# reads the st_roundtrip.safetensors that test_safetensors writes and checks
# names, dtypes, shapes, values and metadata; (2) numpy writes F64, F16,
# I32, I64 and U8 tensors at unaligned offsets, and test_safetensors
# --check-py reads them. Skipped (exit 0) when /usr/bin/python3 lacks numpy.
set -u
build="${1:?usage: test_safetensors_py.sh BUILD_DIR}"
py=/usr/bin/python3
if ! "$py" -c 'import numpy' 2>/dev/null; then
    echo "skipped: $py cannot import numpy"
    exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
bin="$build/tests/test_safetensors"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

# Its own run, in its own directory, so ctest -j cannot race on the file.
"$bin" > log 2>&1 || { cat log >&2; echo "test_safetensors failed" >&2; exit 1; }

PYTHONPATH="$here" "$py" - <<'PY' || { echo "numpy side failed" >&2; exit 1; }
import json, struct, sys
import numpy as np
from safetensors_read import read, write

raw = open("st_roundtrip.safetensors", "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert (8 + n) % 8 == 0, "data section not 8-byte aligned"
names = [k for k in json.loads(raw[8:8 + n]) if k != "__metadata__"]
assert names == ["dense1.weight", "dense1.bias", "scalar", "empty", "f32"], names

t, meta = read("st_roundtrip.safetensors")
want = {
    "dense1.weight": np.arange(6).reshape(2, 3) * 0.25 - 0.5,
    "dense1.bias": np.array([1.0, 2.0, 3.0]),
    "scalar": np.array(3.5),
    "empty": np.zeros((0, 4)),
    "f32": np.array([1.5, -0.125, 65504.0, 2.0 ** -20]).reshape(1, 2, 2),
}
for k, w in want.items():
    assert t[k].shape == w.shape, (k, t[k].shape, w.shape)
    assert np.array_equal(t[k].astype(np.float64), w), (k, t[k], w)
assert t["f32"].dtype == np.float32
assert meta == {"format": "cgrad-checkpoint-1",
                "model": '{"layers": ["dense", 3], "q": "\\""}',
                "optimizer": "sgd \u00e9t\u00e9"}, meta

write("py.safetensors", {
    "u8": np.array([3, 250, 0], np.uint8),
    "f64": np.array([[0.1, -2.5], [1e10, 3.0]]),
    "f16": np.array([1.0, -0.5, 65504.0], np.float16),
    "i32": np.array([-7, 0, 123456], np.int32),
    "i64": np.array(-9, np.int64),
}, {"source": "numpy"})
r, m = read("py.safetensors")
assert r["f64"][1, 0] == 1e10 and m == {"source": "numpy"}
print("numpy read cgrad's file and wrote py.safetensors")
PY

"$bin" --check-py py.safetensors || { echo "cgrad could not read numpy's file" >&2; exit 1; }
echo "cgrad read numpy's file"
