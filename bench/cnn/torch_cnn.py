# SPDX-License-Identifier: MIT
"""torch_cnn.py: the PyTorch twin of cnn_bench.c -- issue 23's CNN
(conv32x3 -> maxpool2 -> conv64x3 -> maxpool2 -> dense128 -> dense10, ReLU,
"same" padding, 28x28x1 inputs), batch 128, Adam (lr 1e-3), random data
held in memory, He-normal weights, zero biases.

    /usr/bin/python3 bench/cnn/torch_cnn.py THREADS [STEPS]
    /usr/bin/python3 bench/cnn/torch_cnn.py latency THREADS [REPS]

Prints "torch threads=T ms_per_step=... ex_per_s=..." (median of STEPS
timed steps, default 30, after 3 warm-up steps; a step is forward, backward
and the optimizer update, as in cnn_bench.c). With "latency": "torch_latency
threads=T us_per_image=..." (median of REPS, default 300, forward passes of
one image in eval mode under torch.no_grad, after 20 warm-up passes; the
softmax included, as cg_predict's), the twin of cnn_latency.c.
"""
import sys
import time

import torch


def make_model():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))
    for m in model.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    return model


def latency(threads, reps):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = make_model().eval()
    x = torch.rand(1, 1, 28, 28)
    times = []
    with torch.no_grad():
        for s in range(-20, reps):
            t0 = time.perf_counter()
            torch.softmax(model(x), dim=1)
            if s >= 0:
                times.append(time.perf_counter() - t0)
    times.sort()
    print(f"torch_latency threads={threads} us_per_image={1e6 * times[len(times) // 2]:.1f}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "latency":
        latency(int(sys.argv[2]) if len(sys.argv) > 2 else 1,
                int(sys.argv[3]) if len(sys.argv) > 3 else 300)
        return
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = make_model()
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
