# SPDX-License-Identifier: MIT
"""torch_bench.py: the configurations of bench/configs.h in PyTorch (CPU),
same architecture, initialisation (He normal before ReLU, Xavier uniform on
the logits layer, zero biases; batch norm momentum 0.1, eps 1e-5),
optimizer, batch and step counts, random data held in memory.

    /usr/bin/python3 bench/torch_bench.py CONFIG THREADS [bf16]

bf16: the forward and loss under torch.autocast("cpu", dtype=torch.bfloat16)
(mixed precision: bf16 matrix products, fp32 weights and optimizer).

Prints one line like bench_train: "CONFIG ex_per_s=... us_per_step=...
rss_kib=...", each figure the median of 3 timed repetitions after a warm-up.
BENCH_SCALE (default 1) scales the step counts.
"""
import os
import resource
import sys
import time

import torch

# name: (dims, batch norm, optimizer, lr, batch, steps) -- as configs.h
CONFIGS = {
    "A": ([784, 512, 512, 10], False, "adam", 1e-3, 128, 200),
    "B": ([784, 512, 512, 10], True, "adam", 1e-3, 128, 200),
    "C": ([784, 64, 10], False, "sgd", 0.1, 32, 3000),
    "D": ([784, 10], False, "sgd", 0.1, 256, 3000),
    "E": ([784, 2048, 2048, 10], False, "adam", 1e-3, 512, 12),
}
POOL = 4096
REPS = 3


def build(dims, bn):
    layers = []
    for i in range(1, len(dims) - 1):
        lin = torch.nn.Linear(dims[i - 1], dims[i], bias=not bn)
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        if lin.bias is not None:
            torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if bn:
            layers.append(torch.nn.BatchNorm1d(dims[i], eps=1e-5, momentum=0.1))
        layers.append(torch.nn.ReLU())
    out = torch.nn.Linear(dims[-2], dims[-1])
    torch.nn.init.xavier_uniform_(out.weight)
    torch.nn.init.zeros_(out.bias)
    layers.append(out)
    return torch.nn.Sequential(*layers)


def median_time(fn, calls):
    times = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - t0) / calls)
    return sorted(times)[REPS // 2]


def report(name, batch, s):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{name} ex_per_s={batch / s:.0f} us_per_step={1e6 * s:.2f} rss_kib={rss}")


def main():
    name, threads = sys.argv[1], int(sys.argv[2])
    bf16 = len(sys.argv) > 3 and sys.argv[3] == "bf16"
    torch.set_num_threads(threads)
    scale = float(os.environ.get("BENCH_SCALE", "1") or 1)
    torch.manual_seed(42)
    x = torch.rand(POOL, 784)
    y = torch.randint(0, 10, (POOL,))
    state = {"step": 0}

    def batch_of(b):
        start = (state["step"] * b) % (POOL - b + 1)
        state["step"] += 1
        return x[start:start + b], y[start:start + b]

    if name.startswith("infer"):
        dims, bn, _, _, _, _ = CONFIGS["A"]
        batch = 1 if name == "infer1" else 1000
        calls = max(1, int((5000 if batch == 1 else 50) * scale))
        model = build(dims, bn).eval()

        def call():
            xb, _ = batch_of(batch)
            with torch.inference_mode():
                torch.softmax(model(xb), dim=1)

        for _ in range(calls // 5 + 2):
            call()
        report(name, batch, median_time(call, calls))
        return

    dims, bn, opt, lr, batch, steps = CONFIGS[name]
    steps = max(1, int(steps * scale))
    model = build(dims, bn).train()
    if opt == "adam":
        optim = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    else:
        optim = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        xb, yb = batch_of(batch)
        optim.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(xb), yb)
        loss.backward()
        optim.step()

    for _ in range(steps // 5 + 2):
        step()
    report(name, batch, median_time(step, steps))


if __name__ == "__main__":
    main()
