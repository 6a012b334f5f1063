#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora in fuzz/corpus/<target>/: small valid files and a
few malformed ones, so the fuzzer starts from inputs that reach deep into
each loader. Deterministic (gzip mtime 0); rerun after changing a seed:
    python3 fuzz/make_corpus.py"""
import gzip
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


# --- IDX: a 4-byte big-endian length of the images file, the images file,
# then the labels file (see fuzz_idx.c). ---
def idx_images(n, r, c, magic=0x00000803):
    px = bytes((7 * i + 3) & 255 for i in range(n * r * c))
    return struct.pack(">IIII", magic, n, r, c) + px


def idx_labels(labels, magic=0x00000801):
    return struct.pack(">II", magic, len(labels)) + bytes(labels)


def idx_pair(images, labels):
    return struct.pack(">I", len(images)) + images + labels


img3 = idx_images(3, 2, 2)
lab3 = idx_labels([0, 2, 1])
put("idx", "valid_plain", idx_pair(img3, lab3))
put("idx", "valid_gzip_images", idx_pair(gz(img3), lab3))
put("idx", "valid_gzip_both", idx_pair(gz(img3), gz(lab3)))
put("idx", "count_mismatch", idx_pair(img3, idx_labels([1, 1])))
put("idx", "bad_type", idx_pair(idx_images(1, 2, 2, 0x00000d03), lab3))
put("idx", "bad_dims", idx_pair(idx_images(1, 2, 2, 0x00000802), lab3))
put("idx", "truncated", idx_pair(img3[:-1], lab3))
put("idx", "extra_byte", idx_pair(img3 + b"\0", lab3))
put("idx", "huge_header", idx_pair(struct.pack(">IIII", 0x803, 0xFFFFFFFF, 28, 28), lab3))
put("idx", "gzip_cut", idx_pair(gz(img3)[:-6], lab3))


# --- NPY ---
def npy(descr, shape, payload, major=1, fortran=False):
    shp = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shp)
    pre = 10 if major == 1 else 12
    pad = (64 - (pre + len(d) + 1) % 64) % 64
    h = (d + " " * pad + "\n").encode()
    ln = struct.pack("<H", len(h)) if major == 1 else struct.pack("<I", len(h))
    return b"\x93NUMPY" + bytes([major, 0]) + ln + h + payload


f4 = struct.pack("<9f", 1.5, -2, 0, 3, 4, 1, 5.25, 6, 2)
put("npy", "f4_3x3", npy("<f4", (3, 3), f4))
put("npy", "f8_2x3", npy("<f8", (2, 3), struct.pack("<6d", 0.5, 1, 1, -1, 2, 0)))
put("npy", "u1_4x3", npy("|u1", (4, 3), bytes([0, 255, 1, 9, 8, 0, 1, 2, 3, 4, 5, 1])))
put("npy", "f4_2x2", npy("<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4)))
put("npy", "v2_f4_3x3", npy("<f4", (3, 3), f4, major=2))
put("npy", "fortran", npy("<f4", (3, 3), f4, fortran=True))
put("npy", "bad_dtype", npy(">i8", (3, 3), f4))
put("npy", "one_dim", npy("<f4", (9,), f4))
put("npy", "truncated", npy("<f4", (3, 3), f4[:-3]))
put("npy", "extra", npy("<f4", (3, 3), f4 + b"\0"))
put("npy", "bad_label", npy("<f4", (1, 2), struct.pack("<2f", 1, -0.5)))
put("npy", "nan", npy("<f4", (1, 2), struct.pack("<2f", float("nan"), 1)))
put("npy", "huge_shape", npy("<f8", (2 ** 40, 2 ** 30), b""))

# --- CSV ---
put("csv", "header", "a,b,label\n1,2,0\n3.5,-4,1\n1e3,0,2\n")
put("csv", "no_header", "1,2,3\n4,5,6\n")
put("csv", "two_cols", "x,y\n1,2\n3,4\n")
put("csv", "quoted", '"a","b ""q""",label\n"1",  2 ,"0"\r\n"3",4,1\r\n')
put("csv", "bom_blank_cr", "\xef\xbb\xbfa,label\r\r1,0\r  \r2,1\r")
put("csv", "multiline_quote", 'a,"b\nc",label\n1,2,0\n')
put("csv", "ragged", "a,b,label\n1,2,0\n3,1\n")
put("csv", "nan", "a,label\nnan,0\n")
put("csv", "empty_cell", "a,b,label\n1,,0\n")
put("csv", "bad_label", "a,label\n1,-1\n2,0.5\n")
put("csv", "unterminated", 'a,label\n"1,0\n')


# --- safetensors ---
def st(tensors, meta=None, pad=True, data_extra=b""):
    header, data = {}, b""
    if meta is not None:
        header["__metadata__"] = meta
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data + data_extra


put("safetensors", "valid_f32", st(
    [("w", "F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
     ("b", "F32", [2], struct.pack("<2f", 0.5, -1))],
    meta={"format": "cgrad", "epoch": "3"}))
put("safetensors", "valid_types", st(
    [("d", "F64", [1], struct.pack("<d", 2.5)),
     ("h", "F16", [2], struct.pack("<2H", 0x3c00, 0xc000)),
     ("bf", "BF16", [1], struct.pack("<H", 0x3f80)),
     ("i", "I32", [1], struct.pack("<i", -3)),
     ("l", "I64", [1], struct.pack("<q", 7)),
     ("u", "U8", [2], b"\x01\xff"),
     ("s", "I8", [1], b"\xfe"),
     ("scalar", "F32", [], struct.pack("<f", 9)),
     ("empty", "F32", [0, 3], b"")]))
put("safetensors", "no_tensors", st([], meta={}))
def raw_st(header, data):
    return struct.pack("<Q", len(header)) + header + data


put("safetensors", "bad_offsets", raw_st(
    b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', b"\0" * 8))
put("safetensors", "overlap", raw_st(
    b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
    b'"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 8))
put("safetensors", "bad_len", struct.pack("<Q", 2 ** 40) + b"{}")
put("safetensors", "not_json", struct.pack("<Q", 8) + b"{\"a\":[1,")


# --- model spec (a checkpoint's "model" metadata, see cg_model_spec) ---
def dense(name, units, **kw):
    return dict(type="dense", name=name, units=units, bias=True, **kw)


def spec(layers, n_inputs=4, n_classes=3, seed="42"):
    return json.dumps(dict(n_inputs=n_inputs, n_classes=n_classes, seed=seed, layers=layers))


out3 = dense("dense3", 3, output=True)
put("model_spec", "softmax", spec([dense("dense1", 3, output=True)]))
put("model_spec", "mlp", spec([dense("dense1", 8), dict(type="activation", name="relu1",
                                                         activation="relu"),
                               dense("dense2", 8), dict(type="activation", name="tanh2",
                                                        activation="tanh"), out3]))
put("model_spec", "bn_dropout", spec([
    dict(dense("dense1", 5), bias=False),
    dict(type="batch_norm", name="bn1", momentum=0.1, eps=1e-5),
    dict(type="activation", name="sigmoid1", activation="sigmoid"),
    dict(type="dropout", name="dropout1", rate=0.25), out3]))
put("model_spec", "seed_number", spec([dense("dense1", 3, output=True)], seed=7))
put("model_spec", "seed_huge", spec([dense("dense1", 3, output=True)], seed=1e30))
put("model_spec", "wrong_output", spec([dense("dense1", 4, output=True)]))
put("model_spec", "huge_units", spec([dense("dense1", 2 ** 24), out3], n_inputs=2 ** 30))
put("model_spec", "unknown_layer", spec([dict(type="conv", name="c"), out3]))
put("model_spec", "not_object", "[1, 2]")

# --- run configuration (a checkpoint's "config" metadata) and optimizer
# settings ("optimizer" metadata): both targets' inputs in one corpus ---
cfg = {"model": {"hidden": [16, 8], "activation": "relu", "batch_norm": True, "dropout": 0.1},
       "optim": {"name": "adamw", "lr": 0.001, "momentum": None, "beta1": 0.9, "beta2": 0.999,
                 "eps": 1e-08, "weight_decay": 0.01, "decoupled": True, "clip_norm": 1,
                 "clip_value": 0},
       "schedule": {"kind": "cosine", "params": [10, 0], "warmup": 5, "start_epoch": 0},
       "loop": {"epochs": 10, "batch": 128, "val_split": 0.1, "patience": 3, "seed": "42",
                "subset": 0, "sync_bn": False, "precision": "bf16"},
       "data": {"source": "train.csv", "test": "", "label": "y", "standardize": None}}
put("run_config", "full", json.dumps(cfg))
put("run_config", "defaults", json.dumps({k: {} for k in cfg}))
put("run_config", "empty", "{}")
put("run_config", "sgd_step", json.dumps({
    "optim": {"name": "momentum", "lr": 0.1, "momentum": 0.9},
    "schedule": {"kind": "step", "params": [3, 0.5], "warmup": 0, "start_epoch": 4}}))
put("run_config", "unused_hyper", json.dumps({"optim": {"name": "sgd", "beta1": 0.9}}))
put("run_config", "unknown_key", json.dumps({"loop": {"epochz": 3}}))
put("run_config", "wrong_type", json.dumps({"model": {"hidden": "256"}}))
put("run_config", "many_hidden", json.dumps({"model": {"hidden": list(range(1, 80))}}))
put("run_config", "optimizer", json.dumps({
    "config": cfg["optim"], "schedule": cfg["schedule"], "epoch": 2, "step": "17"}))
put("run_config", "optimizer_rms", json.dumps({
    "config": {"name": "rmsprop", "lr": 0.01}, "schedule": {"kind": "none"},
    "epoch": 0, "step": "0"}))
