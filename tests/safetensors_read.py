# SPDX-License-Identifier: MIT
"""safetensors_read.py: a minimal safetensors reader and writer in numpy (no
safetensors package needed), to check cgrad's files from Python:

    from safetensors_read import read, write
    tensors, metadata = read("model.safetensors")   # dict name -> ndarray
    write("out.safetensors", {"w": np.ones((2, 3), np.float32)}, {"k": "v"})
"""
import json, struct
import numpy as np

DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8", "U8": "u1", "I8": "i1"}

def read(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        if e["dtype"] == "BF16":  # numpy has no bfloat16: widen the bits to float32
            a = (np.frombuffer(data[b:end], "<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(data[b:end], DTYPES[e["dtype"]])
        out[name] = a.reshape(e["shape"])
    return out, meta

def write(path, tensors, metadata=None):
    """Tensors packed back to back (no alignment), header unpadded."""
    names = {np.dtype(v).str: k for k, v in DTYPES.items()}
    header, blobs, off = {"__metadata__": metadata} if metadata else {}, [], 0
    for name, a in tensors.items():
        b = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": names[a.dtype.str], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
