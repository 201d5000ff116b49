#!/usr/bin/env python3
"""Quality benchmark of mlgate's data-poisoning detectors against the anchors.

Generates poisoned variants of scikit-learn's bundled datasets (digits,
breast_cancer, wine, iris; no downloads) and a 200k x 20 make_classification
set, with known poisoned rows, writes each as CSV (+ ground truth), and runs
on the same files:

  mlgate       the plugin's detectors (native `score` example: every kind)
  cleanlab-LR  cleanlab.find_label_issues over 5-fold logistic regression
  IForest      pyod IForest told the true contamination rate
  ECOD         pyod ECOD told the true contamination rate

It prints precision / recall / F1 per (dataset, poisoning type, method), the
mean F1 per type, the false-positive rate on clean data, and the time of the
200k x 20 run. Thresholds are never fitted here: run with a second seed
(`--seed 2`) to check that the figures hold on another draw.

Setup (once):
  python3 -m venv target/venv-data-poisoning
  target/venv-data-poisoning/bin/pip install numpy scikit-learn cleanlab pyod
  CARGO_TARGET_DIR=target/h-poison cargo build --release \
      -p mlgate-plugin-data-poisoning --example score
Run:
  target/venv-data-poisoning/bin/python benches/data-poisoning/bench.py \
      --scorer target/h-poison/release/examples/score [--seed 1] [--skip-large]
"""

import argparse
import os
import subprocess
import sys
import time
import warnings

import numpy as np
from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

warnings.filterwarnings("ignore")

TYPES = ["clean", "flip2", "flip5", "flip10", "targeted", "outlier", "backdoor1", "backdoor3",
         "duplicate", "mix"]


def load_sets(seed, skip_large):
    out = {}
    for name, loader in [("digits", datasets.load_digits), ("breast_cancer", datasets.load_breast_cancer),
                         ("wine", datasets.load_wine), ("iris", datasets.load_iris)]:
        d = loader()
        out[name] = (d.data.astype(float), d.target.astype(int))
    if not skip_large:
        x, y = datasets.make_classification(n_samples=200_000, n_features=20, n_informative=10,
                                            n_redundant=4, n_classes=3, class_sep=1.5, flip_y=0.0,
                                            random_state=1000 + seed)
        out["synth200k"] = (x, y)
    return out


def flip(rng, y, idx, n_classes):
    y = y.copy()
    for i in idx:
        y[i] = rng.choice([c for c in range(n_classes) if c != y[i]])
    return y


def inject(kind, x, y, rng):
    """Returns (x, y, poisoned-row mask) for one poisoning kind."""
    n, d = x.shape
    k = int(y.max()) + 1
    x, y = x.copy(), y.copy()
    bad = np.zeros(n, dtype=bool)

    def pick(frac, pool=None):
        pool = np.arange(n) if pool is None else pool
        m = max(2, int(round(frac * n)))
        return rng.choice(pool[~bad[pool]], size=min(m, int((~bad[pool]).sum())), replace=False)

    def do_flip(frac):
        nonlocal y
        idx = pick(frac)
        y = flip(rng, y, idx, k)
        bad[idx] = True

    def do_targeted(frac):
        # The attacker relabels rows of one class as a chosen other class.
        src, dst = 0, 1
        pool = np.flatnonzero(y == src)
        m = min(int(round(frac * n)), len(pool) // 2)
        idx = rng.choice(pool, size=max(2, m), replace=False)
        y[idx] = dst
        bad[idx] = True

    def do_outlier(frac):
        idx = pick(frac)
        mean, std = x.mean(0), x.std(0) + 1e-9
        lo, hi = x.min(0), x.max(0)
        for j, i in enumerate(idx):
            if j % 2 == 0:  # a few features far out
                feats = rng.choice(d, size=rng.integers(1, 4), replace=False)
                sign = rng.choice([-1, 1], size=len(feats))
                x[i, feats] = mean[feats] + sign * rng.uniform(6, 10, len(feats)) * std[feats]
            else:  # a point anywhere in the (enlarged) bounding box
                span = hi - lo
                x[i] = rng.uniform(lo - 0.25 * span, hi + 0.25 * span)
        bad[idx] = True

    def do_backdoor(frac):
        std = x.std(0)
        cand = np.flatnonzero(std > np.median(std))
        feats = rng.choice(cand, size=2, replace=False)
        target = int(rng.integers(k))
        pool = np.flatnonzero(y != target)
        idx = pick(frac, pool)
        for f in feats:
            x[idx, f] = np.quantile(x[:, f], 0.95)
        y[idx] = target
        bad[idx] = True

    def do_duplicate(frac):
        idx = pick(frac)              # rows overwritten by copies
        src = rng.choice(np.flatnonzero(~bad), size=len(idx), replace=False)
        src = np.setdiff1d(src, idx)[: len(idx)]
        idx = idx[: len(src)]
        for j, (i, s) in enumerate(zip(idx, src)):
            x[i] = x[s]
            if j % 2 == 1:
                x[i] = x[i] + rng.normal(0, 1e-3, d) * (x.std(0) + 1e-9)
            y[i] = rng.choice([c for c in range(k) if c != y[s]])
        bad[idx] = True

    if kind == "clean":
        pass
    elif kind.startswith("flip"):
        do_flip(int(kind[4:]) / 100)
    elif kind == "targeted":
        do_targeted(0.05)
    elif kind == "outlier":
        do_outlier(0.03)
    elif kind.startswith("backdoor"):
        do_backdoor(int(kind[8:]) / 100)
    elif kind == "duplicate":
        do_duplicate(0.03)
    elif kind == "mix":
        do_flip(0.03)
        do_outlier(0.01)
        do_backdoor(0.01)
        do_duplicate(0.01)
    return x, y, bad


def write_csv(path, x, y):
    header = ",".join([f"f{j}" for j in range(x.shape[1])] + ["label"])
    data = np.column_stack([x, y])
    fmt = ["%.6g"] * x.shape[1] + ["%d"]
    np.savetxt(path, data, delimiter=",", header=header, comments="", fmt=fmt)


def run_mlgate(scorer, path, n):
    t = time.perf_counter()
    out = subprocess.run([scorer, path], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - t
    flagged = np.zeros(n, dtype=bool)
    for line in out.stdout.splitlines()[1:]:
        flagged[int(line.split(",")[0])] = True
    return flagged, elapsed


def run_sandbox(mlgate, path):
    """Wall seconds of the gate end to end through the runner (Wasm sandbox).

    The first call also compiles the component (cached on disk after), so
    a warm-up run is made and not counted."""
    cmd = [mlgate, "check", "data-poisoning", "--input", f"dataset={path}", "--format", "json"]
    if not getattr(run_sandbox, "warm", False):
        subprocess.run(cmd, capture_output=True)
        run_sandbox.warm = True
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True)
    return time.perf_counter() - t


def run_cleanlab(x, y):
    from cleanlab.filter import find_label_issues
    t = time.perf_counter()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    probs = cross_val_predict(model, x, y, cv=5, method="predict_proba")
    issues = find_label_issues(y, probs)
    return issues, time.perf_counter() - t


def run_pyod(cls, x, contamination):
    t = time.perf_counter()
    kwargs = {"contamination": min(max(contamination, 1e-3), 0.5)}
    if cls.__name__ == "IForest":
        kwargs["random_state"] = 0
    model = cls(**kwargs)
    model.fit(StandardScaler().fit_transform(x))
    return model.labels_.astype(bool), time.perf_counter() - t


def prf(pred, truth):
    tp = int((pred & truth).sum())
    fp = int((pred & ~truth).sum())
    fn = int((~pred & truth).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scorer", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="target/bench-data-poisoning")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--types", default=",".join(TYPES))
    ap.add_argument("--before", metavar="SCORER",
                    help="an earlier build of the `score` example, run on the same files as "
                         "`mlgate-before` (a before/after table from one run)")
    ap.add_argument("--mlgate-only", action="store_true",
                    help="skip the anchors (quick before/after of mlgate itself)")
    ap.add_argument("--sandbox", metavar="MLGATE",
                    help="also time `MLGATE check data-poisoning --format json` (the gate in the "
                         "Wasm sandbox, end to end) on the 200k set")
    ap.add_argument("--large-types", default="clean,flip5,outlier,mix",
                    help="types run on the 200k set (cleanlab-LR takes minutes there)")
    args = ap.parse_args()
    from pyod.models.ecod import ECOD
    from pyod.models.iforest import IForest

    os.makedirs(args.out, exist_ok=True)
    methods = ["mlgate"] if args.mlgate_only else ["mlgate", "cleanlab-LR", "IForest", "ECOD"]
    if args.before:
        methods.insert(1, "mlgate-before")
    f1 = {}      # (type, method) -> [F1 per dataset]
    clean_fp = {m: [] for m in methods}
    times = {}
    print(f"seed {args.seed}")
    print(f"{'dataset':<14}{'type':<11}" + "".join(f"{m:>22}" for m in methods))
    for name, (x0, y0) in load_sets(args.seed, args.skip_large).items():
        kinds = args.types.split(",")
        if name == "synth200k":
            kinds = [k for k in kinds if k in args.large_types.split(",")]
        for kind in kinds:
            # One stream per (seed, dataset, type): a draw does not depend on
            # which other types run (`--types` subsets reproduce the full run).
            rng = np.random.default_rng([args.seed, sum(map(ord, name)), TYPES.index(kind)])
            x, y, bad = inject(kind, x0, y0, rng)
            path = os.path.join(args.out, f"{name}-{kind}-s{args.seed}.csv")
            write_csv(path, x, y)
            np.savetxt(path + ".truth", np.flatnonzero(bad), fmt="%d")
            preds = {}
            preds["mlgate"], t_ml = run_mlgate(args.scorer, path, len(y))
            if args.before:
                preds["mlgate-before"], _ = run_mlgate(args.before, path, len(y))
            if name == "synth200k":
                times.setdefault("mlgate native", []).append(t_ml)
                if args.sandbox:
                    times.setdefault("mlgate sandbox", []).append(run_sandbox(args.sandbox, path))
            if not args.mlgate_only:
                preds["cleanlab-LR"], t_cl = run_cleanlab(x, y)
                frac = bad.mean() if bad.any() else 0.01
                preds["IForest"], _ = run_pyod(IForest, x, frac)
                preds["ECOD"], _ = run_pyod(ECOD, x, frac)
                if name == "synth200k":
                    times.setdefault("cleanlab-LR", []).append(t_cl)
            cells = []
            for m in methods:
                if kind == "clean":
                    fp = preds[m].mean()
                    if m in clean_fp and m not in ("IForest", "ECOD"):
                        clean_fp[m].append(fp)
                    cells.append(f"FP {100 * fp:5.2f}%" if m not in ("IForest", "ECOD") else "(told rate)")
                else:
                    p, r, f = prf(preds[m], bad)
                    f1.setdefault((kind, m), []).append(f)
                    cells.append(f"P{p:.2f} R{r:.2f} F1 {f:.2f}")
            print(f"{name:<14}{kind:<11}" + "".join(f"{c:>22}" for c in cells), flush=True)
    print("\nmean F1 per type (all datasets)")
    print(f"{'type':<11}" + "".join(f"{m:>15}" for m in methods) + f"{'best anchor':>13}")
    for kind in [t for t in args.types.split(",") if t != "clean"]:
        if (kind, methods[0]) not in f1:
            continue
        row = [np.mean(f1[(kind, m)]) for m in methods]
        anchors = [v for m, v in zip(methods, row) if not m.startswith("mlgate")]
        best = f"{max(anchors):>13.3f}" if anchors else ""
        print(f"{kind:<11}" + "".join(f"{v:>15.3f}" for v in row) + best)
    for m in ("mlgate", "mlgate-before", "cleanlab-LR"):
        if clean_fp.get(m):
            print(f"clean-data FP rate {m}: mean {100 * np.mean(clean_fp[m]):.2f}%, "
                  f"max {100 * np.max(clean_fp[m]):.2f}%")
    for m, ts in times.items():
        print(f"200k x 20 time {m}: median {np.median(ts):.2f} s over {len(ts)} runs")
    if "mlgate sandbox" in times and "cleanlab-LR" in times:
        ratio = np.median(times["cleanlab-LR"]) / np.median(times["mlgate sandbox"])
        print(f"cleanlab-LR / mlgate sandbox time: {ratio:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
