#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check.py MODEL.onnx FEATURES CGRAD_PRED ORT_OUT TOL [NAMES_JSON]: the
exported model passes onnx.checker (full check, with shape inference), has
the interface cgrad promises (opset 13..17, input [batch, FEATURES] float,
output "probabilities" [batch, C], class names in metadata_props), and
ONNX Runtime's probabilities (ORT_OUT: argmax then probabilities per line)
equal `cgrad predict --probs` (CGRAD_PRED: class or name, its probability,
then every probability) within TOL, with the same class everywhere.
Runs under Debian's /usr/bin/python3 with python3-onnx."""
import json
import sys

import onnx

path, features, pred, ort, tol = sys.argv[1:6]
names_want = json.loads(sys.argv[6]) if len(sys.argv) > 6 else None
m = onnx.load(path)
onnx.checker.check_model(m, full_check=True)
ops = {o.domain: o.version for o in m.opset_import}
assert 13 <= ops.get("", 0) <= 17, f"opset {ops}"
assert [i.name for i in m.graph.input] == ["input"], m.graph.input


def dims(vi):
    t = vi.type.tensor_type
    assert t.elem_type == onnx.TensorProto.FLOAT, vi
    return [d.dim_param or d.dim_value for d in t.shape.dim]


assert dims(m.graph.input[0]) == ["batch", int(features)], dims(m.graph.input[0])
assert [o.name for o in m.graph.output] == ["probabilities"], m.graph.output
out_dims = dims(m.graph.output[0])
assert out_dims[0] == "batch", out_dims
classes = out_dims[1]
ops_used = {n.op_type for n in m.graph.node}
assert not ops_used & {"Dropout", "BatchNormalization"}, ops_used
meta = {p.key: p.value for p in m.metadata_props}
names = json.loads(meta["class_names"]) if "class_names" in meta else None
assert names == names_want, f"class_names {names!r}, expected {names_want!r}"
assert json.loads(meta["cgrad_model_spec"])["n_classes"] == classes

def escaped(name):
    """A class name as `cgrad predict` prints it (C-style escapes)."""
    out = []
    for ch in name:
        o = ord(ch)
        out.append({"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(
            ch, f"\\x{o:02x}" if o < 0x20 or o == 0x7F else ch))
    return "".join(out)


printed = [escaped(n) for n in names] if names else None
exp = [l.rstrip("\n").split("\t") for l in open(pred, encoding="utf-8")]
got = [l.split() for l in open(ort)]
assert len(exp) == len(got) and exp, (len(exp), len(got))
worst = 0.0
for i, (e, g) in enumerate(zip(exp, got)):
    want = printed.index(e[0]) if names else int(e[0])
    assert want == int(g[0]), f"example {i}: ONNX Runtime says class {g[0]}, cgrad {e[0]}"
    pe, pg = [float(v) for v in e[2:]], [float(v) for v in g[1:]]
    assert len(pe) == len(pg) == classes, (len(pe), len(pg), classes)
    worst = max([worst] + [abs(a - b) for a, b in zip(pe, pg)])
assert worst <= float(tol), f"max |dp| {worst:.3g} > {tol}"
print(f"{path}: onnx.checker ok; {len(exp)} examples, classes equal, max |dp| {worst:.2g}")
