# SPDX-License-Identifier: MIT
"""bench/defaults/compare.py CGRAD: default-flag accuracy of cgrad next to
scikit-learn's default models, on tables of different shapes.

For each data set and each of SPLITS stratified 75/25 splits, the same
train/test CSV files go to `cgrad train` (flags: only --data/--test, and
--hidden none for the linear model) and to scikit-learn's
LogisticRegression() and MLPClassifier() with their defaults, each behind
a StandardScaler (cgrad standardises tables by default; without it
scikit-learn's solvers do not converge on unscaled columns). Prints a
Markdown table of mean test accuracy. Not a test: it takes minutes.
MLPClassifier is seeded with the split's number (random_state=s; its other settings
are the defaults), so that a run repeats."""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SPLITS = int(os.environ.get("SPLITS", "3"))
FASHION = "/usr/share/datasets/fashion-mnist"


def fashion_subset(n):
    """The first n Fashion-MNIST training images as a 784-column table."""
    with gzip.open(f"{FASHION}/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:n]
    with gzip.open(f"{FASHION}/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    return x.astype(np.float64), y.astype(int)


def data_sets():
    yield "iris", *datasets.load_iris(return_X_y=True)
    yield "wine", *datasets.load_wine(return_X_y=True)
    yield "breast cancer", *datasets.load_breast_cancer(return_X_y=True)
    yield "digits", *datasets.load_digits(return_X_y=True)
    x, y = datasets.make_classification(n_samples=20000, n_features=40, n_informative=12,
                                        n_redundant=8, n_classes=4, class_sep=0.8,
                                        random_state=0)
    yield "synthetic 4-class", x, y
    x, y = datasets.make_classification(n_samples=10000, n_features=100, n_informative=30,
                                        n_classes=50, n_clusters_per_class=1, class_sep=1.5,
                                        random_state=0)
    yield "synthetic 50-class", x, y
    if os.path.isdir(FASHION):
        yield "fashion-mnist 5k", *fashion_subset(5000)


def write_csv(path, x, y):
    cols = ",".join(f"f{j}" for j in range(x.shape[1]))
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", fmt="%.9g",
               header=cols + ",label", comments="")


def cgrad_acc(cgrad, train, test, extra):
    out = subprocess.run([cgrad, "train", "--data", train, "--test", test, "--json", "--quiet",
                          *extra], check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return r["test_accuracy"], r.get("epochs", float("nan"))


def sk_acc(model, xtr, ytr, xte, yte):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = make_pipeline(StandardScaler(), model).fit(xtr, ytr)
    return m.score(xte, yte)


def main():
    cgrad = sys.argv[1]
    print(f"| data | rows x features, classes | cgrad --hidden none | LogisticRegression | "
          f"cgrad default | MLPClassifier | cgrad epochs |")
    print("|---|---|---|---|---|---|---|")
    worst = [0.0, 0.0]
    with tempfile.TemporaryDirectory() as tmp:
        for name, x, y in data_sets():
            acc = np.zeros((SPLITS, 4))
            epochs = []
            t0 = time.time()
            for s in range(SPLITS):
                xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, stratify=y,
                                                      random_state=s)
                tr, te = f"{tmp}/train.csv", f"{tmp}/test.csv"
                write_csv(tr, xtr, ytr)
                write_csv(te, xte, yte)
                acc[s, 0], _ = cgrad_acc(cgrad, tr, te, ["--hidden", "none"])
                acc[s, 1] = sk_acc(LogisticRegression(), xtr, ytr, xte, yte)
                acc[s, 2], e = cgrad_acc(cgrad, tr, te, [])
                acc[s, 3] = sk_acc(MLPClassifier(random_state=s), xtr, ytr, xte, yte)
                epochs.append(e)
            m = acc.mean(axis=0)
            worst[0] = min(worst[0], m[0] - m[1])
            worst[1] = min(worst[1], m[2] - m[3])
            print(f"| {name} | {x.shape[0]} x {x.shape[1]}, {len(set(y))} | {m[0]:.4f} | "
                  f"{m[1]:.4f} | {m[2]:.4f} | {m[3]:.4f} | {', '.join(str(e) for e in epochs)} |",
                  flush=True)
            print(f"  ({name}: {time.time() - t0:.0f} s)", file=sys.stderr)
    print(f"\nworst difference (cgrad - scikit-learn), mean over {SPLITS} splits: linear "
          f"{100 * worst[0]:+.1f} points, MLP {100 * worst[1]:+.1f} points")


if __name__ == "__main__":
    main()
