# SPDX-License-Identifier: MIT
"""torch_cnn.py: the PyTorch twin of cnn_bench.c -- issue 23's CNN
(conv32x3 -> maxpool2 -> conv64x3 -> maxpool2 -> dense128 -> dense10, ReLU,
"same" padding, 28x28x1 inputs), batch 128, Adam (lr 1e-3), random data
held in memory, He-normal weights, zero biases.

    /usr/bin/python3 bench/cnn/torch_cnn.py THREADS [STEPS]

Prints "torch threads=T ms_per_step=... ex_per_s=..." (median of STEPS
timed steps, default 30, after 3 warm-up steps; a step is forward, backward
and the optimizer update, as in cnn_bench.c).
"""
import sys
import time

import torch


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(128, 1, 28, 28)
    y = torch.randint(0, 10, (128,))
    times = []
    for s in range(-3, steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if s >= 0:
            times.append(time.perf_counter() - t0)
    times.sort()
    med = times[len(times) // 2]
    print(f"torch threads={threads} ms_per_step={1e3 * med:.2f} ex_per_s={128 / med:.0f}")


if __name__ == "__main__":
    main()
