# SPDX-License-Identifier: MIT
"""compare.py FILE: PyTorch's conv2d, avg_pool2d (count_include_pad=True),
max_pool2d, BatchNorm2d (training, momentum 0.1) and their gradients on
the inputs ref.c wrote, against ref.c's results; the cases mirror ref.c's.
A "same" padding (None here) is TensorFlow's rule, built with F.pad: total
(out - 1) s + d (k - 1) + 1 - in, half before, the odd one after."""
import sys

import numpy as np
import torch
import torch.nn.functional as F

# N C H W K kh kw sh sw ph pw dh dw G | avg k s p | max kh kw sh sw ph pw
CASES = [
    (2, 4, 7, 6, 6, 2, 3, 1, 1, None, None, 1, 2, 2, 3, 2, 1, 3, 2, 2, 1, 1, 1),
    (2, 3, 9, 8, 3, 3, 3, 2, 2, 1, 1, 1, 1, 3, 2, 2, 0, 2, 2, 2, 2, 0, 0),
    (3, 2, 8, 7, 4, 3, 3, 2, 2, None, None, 1, 1, 1, 2, 1, 1, 3, 3, 1, 1, 1, 1),
    (2, 2, 10, 9, 3, 5, 3, 1, 2, 2, 0, 2, 1, 1, 4, 3, 2, 2, 2, 2, 2, 0, 0),
]


def same_pad(size, k, s, d):
    out = (size + s - 1) // s
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def main():
    data = np.fromfile(sys.argv[1], dtype=np.float64)
    pos = 0

    def take(shape):
        nonlocal pos
        n = int(np.prod(shape))
        a = data[pos:pos + n].reshape(shape)
        pos += n
        return a

    worst = 0.0
    for i, (N, C, H, W, K, kh, kw, sh, sw, ph, pw, dh, dw, G,
            ak, ast, app, mkh, mkw, msh, msw, mph, mpw) in enumerate(CASES):
        x = torch.tensor(take((N, C, H, W)), requires_grad=True)
        w = torch.tensor(take((K, C // G, kh, kw)), requires_grad=True)
        b = torch.tensor(take((K,)), requires_grad=True)
        xin = x
        if ph is None:
            t, bo = same_pad(H, kh, sh, dh)
            le, ri = same_pad(W, kw, sw, dw)
            xin, ph, pw = F.pad(x, (le, ri, t, bo)), 0, 0
        y = F.conv2d(xin, w, b, stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=G)
        ap = F.avg_pool2d(y, ak, ast, app)
        mp = F.max_pool2d(y, (mkh, mkw), (msh, msw), (mph, mpw))
        bnm = torch.nn.BatchNorm2d(K, eps=1e-5, momentum=0.1).double()
        bn = bnm(y)
        cost = (ap ** 2).sum() + (mp ** 2).sum() + (bn ** 2).sum() + (y ** 2).mean(dim=(2, 3)).sum()
        cost.backward()
        for name, t in [("y", y), ("avg", ap), ("max", mp), ("bn", bn),
                        ("running_mean", bnm.running_mean), ("running_var", bnm.running_var),
                        ("dx", x.grad), ("dw", w.grad), ("db", b.grad)]:
            want = t.detach().numpy()
            got = take(want.shape)
            err = float(np.abs(got - want).max() / max(1.0, float(np.abs(want).max())))
            worst = max(worst, err)
            if err > 1e-10:
                print(f"case {i} {name}: relative difference {err:.3g}")
                return 1
    if pos != data.size:
        print(f"read {pos} of {data.size} values: the cases differ from ref.c's")
        return 1
    print(f"{len(CASES)} cases agree with PyTorch {torch.__version__} (worst {worst:.2g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
