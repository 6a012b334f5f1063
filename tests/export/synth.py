#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""synth.py OUTDIR: small cgrad checkpoints for test_export.sh, written
without cgrad (pure Python, no numpy), so that the exporter is checked
against an independent reading of the format.

good.safetensors: 6 inputs (standardized, scale 0.5) -> dense1 (no bias)
-> bn1 -> relu -> dropout -> dense2 -> tanh -> bn2 (after an activation:
kept as a scale and shift) -> bn3 (folded into that) -> dense3 -> sigmoid
-> dense4 (output, 3 classes). Some tensors are F64 (st_read converts).
Class names need escaping in C. inputs.f32 holds N raw examples (float32,
row-major); expected.txt one line per example: the class, then the
probabilities, computed here in double from the float32 weights.
plain.safetensors: no normalizer metadata, no class names, 4 -> 2 classes;
plain_inputs.f32 / plain_expected.txt likewise. wide.safetensors: 40,000
inputs, so the exported code keeps its buffers static; wide_* likewise.
Broken variants: missing_tensor, bad_shape, not_cgrad, bad_version,
bad_spec, short (a truncated file)."""
import json
import math
import random
import struct
import sys

out = sys.argv[1]
rnd = random.Random(7)


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def rand_vec(n, lo=-1.0, hi=1.0):
    return [f32(rnd.uniform(lo, hi)) for _ in range(n)]


def write_st(path, tensors, meta):
    """tensors: list of (name, dtype, shape, flat values)."""
    header, blobs, off = {}, [], 0
    for name, dtype, shape, vals in tensors:
        fmt = "<%d%s" % (len(vals), "f" if dtype == "F32" else "d")
        blob = struct.pack(fmt, *vals)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    if meta is not None:
        header["__metadata__"] = meta
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def dense(x, w, b, n_out):
    y = list(b) if b else [0.0] * n_out
    for i, xi in enumerate(x):
        for j in range(n_out):
            y[j] += xi * w[i * n_out + j]
    return y


def bn(x, p, eps):
    g, be, m, v = p
    return [(xj - m[j]) / math.sqrt(v[j] + f32(eps)) * g[j] + be[j] for j, xj in enumerate(x)]


def softmax(z):
    mx = max(z)
    e = [math.exp(v - mx) for v in z]
    s = sum(e)
    return [v / s for v in e]


def sigmoid(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def write_expected(path_in, path_out, xs, forward):
    with open(path_in, "wb") as f:
        for x in xs:
            f.write(struct.pack("<%df" % len(x), *x))
    with open(path_out, "w") as f:
        for x in xs:
            p = softmax(forward(x))
            f.write("%d %s\n" % (p.index(max(p)), " ".join("%.12g" % v for v in p)))


# --- good.safetensors ---
D, H1, H2, C, N = 6, 5, 4, 3, 200
mean, inv_std = rand_vec(D, 0, 50), rand_vec(D, 0.02, 0.2)
w1 = rand_vec(D * H1)
bn1 = [rand_vec(H1, 0.5, 2), rand_vec(H1), rand_vec(H1, -3, 3), rand_vec(H1, 0.1, 9)]
w2, b2 = rand_vec(H1 * H2), rand_vec(H2)
bn2 = [rand_vec(H2, 0.5, 2), rand_vec(H2), rand_vec(H2, -0.5, 0.5), rand_vec(H2, 0.01, 1)]
bn3 = [rand_vec(H2, 0.5, 2), rand_vec(H2), rand_vec(H2, -0.5, 0.5), rand_vec(H2, 0.1, 2)]
w3, b3 = rand_vec(H2 * H2, -2, 2), rand_vec(H2)
w4, b4 = rand_vec(H2 * C, -3, 3), rand_vec(C)
names = ["T-shirt/top", 'say "hi"\\??=', "caf\u00e9"]
eps = 1e-5
# Layer names as cgrad gives them (activations are numbered together):
# the library names the layers of a model it loads, the spec's are not read.
spec = {"n_inputs": D, "n_classes": C, "seed": "42", "layers": [
    {"type": "dense", "name": "dense1", "units": H1, "bias": False},
    {"type": "batch_norm", "name": "bn1", "momentum": 0.1, "eps": eps},
    {"type": "activation", "name": "relu1", "activation": "relu"},
    {"type": "dropout", "name": "dropout1", "rate": 0.5},
    {"type": "dense", "name": "dense2", "units": H2, "bias": True},
    {"type": "activation", "name": "tanh2", "activation": "tanh"},
    {"type": "batch_norm", "name": "bn2", "momentum": 0.1, "eps": eps},
    {"type": "batch_norm", "name": "bn3", "momentum": 0.1, "eps": 1e-3},
    {"type": "dense", "name": "dense3", "units": H2, "bias": True},
    {"type": "activation", "name": "linear3", "activation": "linear"},
    {"type": "activation", "name": "sigmoid4", "activation": "sigmoid"},
    {"type": "dense", "name": "dense4", "units": C, "bias": True, "output": True}]}
scale = f32(0.5)
meta = {"format": "cgrad", "format_version": "1", "model": json.dumps(spec),
        "normalizer": json.dumps({"d": D, "scale": scale, "standardized": True}),
        "class_names": json.dumps(names), "epoch": "3", "optimizer": "{}"}
bn_parts = ["gamma", "beta", "running_mean", "running_var"]
tensors = [("input.mean", "F32", [D], mean), ("input.inv_std", "F64", [D], inv_std),
           ("dense1.weight", "F32", [D, H1], w1),
           ("dense2.weight", "F64", [H1, H2], w2), ("dense2.bias", "F32", [H2], b2),
           ("dense3.weight", "F32", [H2, H2], w3), ("dense3.bias", "F32", [H2], b3),
           ("dense4.weight", "F32", [H2, C], w4), ("dense4.bias", "F64", [C], b4),
           ("optimizer.m.dense1.weight", "F32", [D, H1], [0.0] * (D * H1))]
for name, p, n in (("bn1", bn1, H1), ("bn2", bn2, H2), ("bn3", bn3, H2)):
    tensors += [("%s.%s" % (name, k), "F32", [n], v) for k, v in zip(bn_parts, p)]


def forward(x):
    h = [(x[j] * scale - mean[j]) * inv_std[j] for j in range(D)]
    h = [max(v, 0.0) for v in bn(dense(h, w1, None, H1), bn1, eps)]
    h = [math.tanh(v) for v in dense(h, w2, b2, H2)]
    h = bn(bn(h, bn2, eps), bn3, 1e-3)
    h = [sigmoid(v) for v in dense(h, w3, b3, H2)]
    return dense(h, w4, b4, C)


write_st(out + "/good.safetensors", tensors, meta)
xs = [rand_vec(D, 0, 255) for _ in range(N)]
write_expected(out + "/inputs.f32", out + "/expected.txt", xs, forward)

# --- plain.safetensors: no normalizer, no class names ---
pw, pb = rand_vec(4 * 2, -2, 2), rand_vec(2)
# Literals that need care: whole numbers ("1f" is no C literal), -0, a
# subnormal.
pw[:3], pb[0] = [1.0, -0.0, f32(1e-40)], -2.0
pspec = {"n_inputs": 4, "n_classes": 2, "seed": "1", "layers": [
    {"type": "dense", "name": "dense1", "units": 2, "bias": True, "output": True}]}
write_st(out + "/plain.safetensors",
         [("dense1.weight", "F32", [4, 2], pw), ("dense1.bias", "F32", [2], pb)],
         {"format": "cgrad", "format_version": "1", "model": json.dumps(pspec)})
write_expected(out + "/plain_inputs.f32", out + "/plain_expected.txt",
               [rand_vec(4, -3, 3) for _ in range(50)], lambda x: dense(x, pw, pb, 2))

# --- wide.safetensors: activations too big for the stack (static buffers) ---
WD = 40000
ww, wb = rand_vec(WD * 2, -0.01, 0.01), rand_vec(2)
wspec = {"n_inputs": WD, "n_classes": 2, "seed": "1", "layers": [
    {"type": "dense", "name": "dense1", "units": 2, "bias": True, "output": True}]}
write_st(out + "/wide.safetensors",
         [("dense1.weight", "F32", [WD, 2], ww), ("dense1.bias", "F32", [2], wb)],
         {"format": "cgrad", "format_version": "1", "model": json.dumps(wspec)})
write_expected(out + "/wide_inputs.f32", out + "/wide_expected.txt",
               [rand_vec(WD, -1, 1) for _ in range(3)], lambda x: dense(x, ww, wb, 2))

# --- broken variants of good ---
write_st(out + "/missing_tensor.safetensors", [t for t in tensors if t[0] != "bn1.running_var"], meta)
write_st(out + "/bad_shape.safetensors",
         [(n, d, [H2, H2 + 1] if n == "dense3.weight" else s,
           v + [0.0] * H2 if n == "dense3.weight" else v) for n, d, s, v in tensors], meta)
write_st(out + "/not_cgrad.safetensors", tensors, {k: v for k, v in meta.items() if k != "format"})
write_st(out + "/bad_version.safetensors", tensors, dict(meta, format_version="99"))
bad = json.loads(meta["model"])
bad["layers"][4]["type"] = "conv2d"
write_st(out + "/bad_spec.safetensors", tensors, dict(meta, model=json.dumps(bad)))
with open(out + "/good.safetensors", "rb") as f:
    data = f.read()
with open(out + "/short.safetensors", "wb") as f:
    f.write(data[: len(data) - 10])
