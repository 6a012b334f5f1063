# SPDX-License-Identifier: MIT
"""bench/regression/compare.py CGRAD: default-flag test R2 of `cgrad train
--task regression` next to scikit-learn's and PyTorch's, on small tables.

For each data set and each of SPLITS random 75/25 splits, the same
train/test CSV files go to
  - `cgrad train --task regression` with only --data/--test/--label (the
    default: the linear model and the MLP 256-256 ReLU trained on the same
    rows, the lower validation loss kept; Adam, epochs/batch/patience from
    the data), and with --hidden none (a linear model alone);
  - scikit-learn's Ridge() and MLPRegressor() with their defaults, each
    behind a StandardScaler of the features (cgrad standardises tables by
    default); the target is given as it is, as their defaults take it;
  - PyTorch: the network, initialisation, optimizer, learning rate and
    cosine schedule, batch size, epochs, validation fraction and patience
    that cgrad's run resolved (read back from its checkpoint), with the
    features and the target standardised on the training rows as cgrad
    does, the best validation-loss epoch restored when it stops early.
Prints a Markdown table of test R2 (mean over the splits). Not a test.
MLPRegressor is seeded with the split's number (random_state=s; its other settings
are the defaults), so that a run repeats."""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SPLITS = int(os.environ.get("SPLITS", "3"))
THREADS = os.environ.get("THREADS", "2")


def data_sets():
    yield "diabetes", *datasets.load_diabetes(return_X_y=True)
    yield "friedman1", *datasets.make_friedman1(n_samples=2000, n_features=10, noise=1.0,
                                                random_state=0)
    x, y = datasets.make_regression(n_samples=2000, n_features=20, n_informative=10, noise=20.0,
                                    random_state=0)
    yield "linear + noise", x, 3 * y + 500
    yield "friedman3", *datasets.make_friedman3(n_samples=2000, noise=0.1, random_state=0)


def write_csv(path, x, y):
    cols = ",".join(f"f{j}" for j in range(x.shape[1]))
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", fmt="%.9g",
               header=cols + ",target", comments="")


def checkpoint_config(path):
    """The resolved run configuration a cgrad checkpoint stores."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(json.loads(f.read(n))["__metadata__"]["config"])


def cgrad_r2(cgrad, train, test, out, extra):
    r = subprocess.run([cgrad, "train", "--data", train, "--test", test, "--task", "regression",
                        "--label", "target", "--json", "--quiet", "--threads", THREADS,
                        "--out", out, *extra], check=True, capture_output=True, text=True).stdout
    r = json.loads(r.strip().splitlines()[-1])
    return r["test_r2"], r["epochs"], checkpoint_config(f"{out}/last.safetensors")


def sk_r2(model, xtr, ytr, xte, yte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = make_pipeline(StandardScaler(), model).fit(xtr, ytr)
    return r2_score(yte, m.predict(xte))


def torch_r2(cfg, xtr, ytr, xte, yte, seed):
    """cgrad's resolved run, in PyTorch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    hidden, lr = cfg["model"]["hidden"], cfg["optim"]["lr"]
    loop = cfg["loop"]
    epochs, batch, patience = loop["epochs"], loop["batch"], loop["patience"]
    n = len(xtr)
    n_val = int(math.floor(loop["val_split"] * n + 0.5))
    order = rng.permutation(n)
    tr, va = order[:n - n_val], order[n - n_val:]
    xm, xs = xtr[tr].mean(0), xtr[tr].std(0)
    xs[xs == 0] = 1
    ym, ys = ytr[tr].mean(), ytr[tr].std()
    f = lambda a: torch.tensor((a - xm) / xs, dtype=torch.float32)
    xt, xv, xe = f(xtr[tr]), f(xtr[va]), f(xte)
    yt = torch.tensor((ytr[tr] - ym) / ys, dtype=torch.float32)[:, None]
    yv = torch.tensor((ytr[va] - ym) / ys, dtype=torch.float32)[:, None]
    layers, width = [], xt.shape[1]
    for h in hidden:  # He normal for ReLU layers, as cgrad; Xavier uniform for the output
        lin = torch.nn.Linear(width, h)
        torch.nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        torch.nn.init.zeros_(lin.bias)
        layers += [lin, torch.nn.ReLU()]
        width = h
    out = torch.nn.Linear(width, 1)
    torch.nn.init.xavier_uniform_(out.weight)
    torch.nn.init.zeros_(out.bias)
    model = torch.nn.Sequential(*layers, out)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    best, best_state, since = float("inf"), None, 0
    for e in range(epochs):
        for g in opt.param_groups:  # cosine from lr to 0 over the run, by epoch
            g["lr"] = lr * 0.5 * (1 + math.cos(math.pi * e / epochs))
        model.train()
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        if n_val:
            model.eval()
            with torch.no_grad():
                v = torch.nn.functional.mse_loss(model(xv), yv).item()
            if v <= best:
                best, since = v, 0
                best_state = {k: t.clone() for k, t in model.state_dict().items()}
            else:
                since += 1
                if patience and since >= patience:
                    break
    if patience and best_state is not None:  # cgrad restores the best epoch with early stopping
        model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        p = model(xe).numpy()[:, 0] * ys + ym
    return r2_score(yte, p)


def main():
    cgrad = sys.argv[1]
    torch.set_num_threads(1)  # a small network: more threads only wait on each other
    print("| data | rows x features | cgrad --hidden none | Ridge | cgrad default | MLPRegressor | "
          "PyTorch, cgrad's run | cgrad's model, epochs (per split) |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, x, y in data_sets():
            r2 = np.zeros((SPLITS, 5))
            epochs = []
            t0 = time.time()
            for s in range(SPLITS):
                xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=s)
                tr, te = f"{tmp}/train.csv", f"{tmp}/test.csv"
                write_csv(tr, xtr, ytr)
                write_csv(te, xte, yte)
                r2[s, 0], _, _ = cgrad_r2(cgrad, tr, te, f"{tmp}/lin{s}", ["--hidden", "none"])
                r2[s, 1] = sk_r2(Ridge(), xtr, ytr, xte, yte)
                r2[s, 2], e, cfg = cgrad_r2(cgrad, tr, te, f"{tmp}/mlp{s}", [])
                r2[s, 3] = sk_r2(MLPRegressor(random_state=s), xtr, ytr, xte, yte)
                r2[s, 4] = torch_r2(cfg, xtr, ytr, xte, yte, s)
                h = cfg["model"]["hidden"]
                epochs.append(f"{'-'.join(map(str, h)) if h else 'linear'} {e}")
            m = r2.mean(axis=0)
            print(f"| {name} | {x.shape[0]} x {x.shape[1]} | {m[0]:.4f} | {m[1]:.4f} | {m[2]:.4f} | "
                  f"{m[3]:.4f} | {m[4]:.4f} | {', '.join(str(e) for e in epochs)} |", flush=True)
            print(f"  ({name}: {time.time() - t0:.0f} s; per split cgrad default "
                  f"{', '.join(f'{v:.4f}' for v in r2[:, 2])}, PyTorch "
                  f"{', '.join(f'{v:.4f}' for v in r2[:, 4])})", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
