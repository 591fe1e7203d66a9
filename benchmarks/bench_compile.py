"""What compilation costs a grid search, with JAX's compilation cache off and on (issue 9).

A ``GridSearchCV`` over a regularization constant (``l2``: ``--values`` values, ``--cv`` folds,
then the refit) of a small network on short sequences, where almost all of a fit's time is
compiling its steps. The same search runs in two fresh processes: with the cache off
(``SKDEEPSEA_CACHE_DIR=""``) and with an empty cache folder. A third process repeats the search
with that (now warm) folder: the next run of the same script. Printed: seconds per search and per
fit, and the ratios.

Run (JAX backend; about 2 minutes on a 2-core CPU)::

    KERAS_BACKEND=jax python benchmarks/bench_compile.py --json /tmp/compile.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SEARCH = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {root!r})
    import numpy as np
    from sklearn.model_selection import GridSearchCV
    from skdeepsea import DeepSEAClassifier, OneHotDNA
    from skdeepsea.metrics import mean_roc_auc_scorer
    from tests.conftest import SMALL, motif_data

    seqs, y = motif_data(n={n}, length=60)
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs))
    grid = {{"l2": list(np.geomspace(1e-7, 1e-4, {values}))}}
    DeepSEAClassifier(**dict(SMALL, epochs=1)).fit(X[:32], y[:32])  # imports, backend start-up
    start = time.perf_counter()
    search = GridSearchCV(DeepSEAClassifier(**dict(SMALL, epochs={epochs})), grid, cv={cv},
                          scoring=mean_roc_auc_scorer).fit(X, y)
    print(json.dumps({{"seconds": time.perf_counter() - start,
                      "fits": {values} * {cv} + 1,
                      "best_score": float(search.best_score_)}}))
""")


def run_search(args, cache_dir):
    """One grid search in a fresh process; returns its JSON report."""
    script = SEARCH.format(root=ROOT, n=args.n, values=args.values, cv=args.cv,
                           epochs=args.epochs)
    env = dict(os.environ, KERAS_BACKEND="jax", SKDEEPSEA_CACHE_DIR=cache_dir)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="sequences (60 bp)")
    parser.add_argument("--values", type=int, default=5, help="l2 values in the grid")
    parser.add_argument("--cv", type=int, default=3, help="folds")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per fit")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        runs = {
            "cache off": run_search(args, ""),
            "cache on, empty": run_search(args, folder),
            "cache on, warm": run_search(args, folder),
        }
    off = runs["cache off"]["seconds"]
    print(f"GridSearchCV: {args.values} l2 values x {args.cv} folds + refit = "
          f"{runs['cache off']['fits']} fits of a small network, {args.epochs} epoch(s) each")
    print(f"{'':18}{'seconds':>9}{'per fit':>9}{'vs off':>8}")
    for name, run in runs.items():
        print(f"{name:18}{run['seconds']:9.1f}{run['seconds'] / run['fits']:9.2f}"
              f"{off / run['seconds']:7.1f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
