"""Time the evaluation table and the filter-to-PFM extraction at DeepSEA's sizes.

- ``evaluation_table`` on random labels and scores of shape (n, 919): the per-target ROC AUC and
  PR AUC (scikit-learn, one sort per target and metric) that ``skdeepsea evaluate`` computes;
- ``filter_motifs`` of the full-size network's first layer (320 filters of width 8) over random
  1000 bp sequences: two passes of the convolution and the site counting.

Run from the repository root, e.g.
``KERAS_BACKEND=jax /work/venv/bin/python benchmarks/bench_report.py --n-table 100000``.
"""

import argparse
import json
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-table", type=int, default=100_000, help="samples for the table")
    parser.add_argument("--n-motifs", type=int, default=2000, help="sequences for filter_motifs")
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    import keras

    from skdeepsea import OneHotDNA
    from skdeepsea.motifs import filter_motifs
    from skdeepsea.network import build_deepsea
    from skdeepsea.report import evaluation_table

    rng = np.random.default_rng(0)
    y = (rng.random((args.n_table, 919), dtype=np.float32) < 0.02).astype(np.uint8)
    score = rng.random((args.n_table, 919), dtype=np.float32) * 0.5 + y * 0.3
    start = time.perf_counter()
    table = evaluation_table(y, score)
    table_s = time.perf_counter() - start

    model = build_deepsea(1000, 919, seed=0)
    X = OneHotDNA().fit_transform(
        ["".join(s) for s in rng.choice(list("ACGT"), (args.n_motifs, 1000))])
    start = time.perf_counter()
    motifs = filter_motifs(model, X)
    motifs_s = time.perf_counter() - start

    results = {
        "backend": keras.backend.backend(),
        "table_samples": args.n_table,
        "table_targets_scored": int((table["status"] == "ok").sum()),
        "table_seconds": round(table_s, 2),
        "motif_sequences": args.n_motifs,
        "motif_sites": int(motifs.n_sites.sum()),
        "motif_seconds": round(motifs_s, 2),
        "motif_sequences_per_second": round(args.n_motifs / motifs_s, 1),
    }
    for key, value in results.items():
        print(f"{key:28s} {value}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
