"""Record statsmodels' e-values of DeepSEA v0.94's published ECDFs, for the golden test.

Run in an environment with statsmodels and joblib (not skdeepsea's), on DeepSEA's package folder:

    python tests/data/record_deepsea_ecdf_golden.py DeepSEA-v0.94 tests/data/deepsea_ecdf_golden.npz

It loads each ECDF file as DeepSEA does (``joblib.load``) and records, per background, points at
an ECDF's data (ties), between two consecutive data points, below and above them all, with
statsmodels' ``1 - ECDF(t)``: every target of the main background, 60 of the others, the four
conservation entries (0, 3, 6, 7). Recorded with statsmodels 0.15.0, joblib 1.6.0, NumPy 2.4.6.
"""
import sys
import warnings

import joblib
import numpy as np


def main(folder, out):
    """Record the values of the ECDFs under ``folder`` into the NPZ file ``out``."""
    rng = np.random.default_rng(19)
    warnings.simplefilter("ignore")
    files = {"1000g": ("ecdf_difflogdiff.rescaled.pkl", None, 1),
             "1000g-af": ("ecdf_difflogdiff.rescaled.af.pkl", 60, 2),
             "1000g-af0.1": ("ecdf_difflogdiff.rescaled.af0dot1.pkl", 60, 2),
             "conservation": ("allevos_ecdf.pkl", None, 12)}
    record = {}
    for background, (name, n_targets, per_target) in files.items():
        ecdfs = joblib.load(f"{folder}/resources/ecdfs/{name}")
        if background == "conservation":
            ecdfs, targets = [ecdfs[i] for i in (0, 3, 6, 7)], np.arange(4)
        else:
            targets = np.arange(len(ecdfs)) if n_targets is None else np.sort(
                rng.choice(len(ecdfs), n_targets, replace=False))
        rows_t, rows_j = [], []
        for j in targets:
            x = ecdfs[j].x[1:]
            for k in range(per_target):
                kind = (j + k) % 4
                i = rng.integers(len(x) - 1)
                t = {0: x[i], 1: (x[i] + x[i + 1]) / 2,  # at a data point, between two,
                     2: x[0] - rng.random(), 3: x[-1] + rng.random()}[kind]  # below, above all
                rows_t.append(t)
                rows_j.append(j)
        t = np.array(rows_t)
        j = np.array(rows_j, dtype=np.int16)
        value = np.array([1 - ecdfs[jj](tt) for jj, tt in zip(j, t)])
        record.update({f"{background}:target": j, f"{background}:t": t,
                       f"{background}:evalue": value})
        print(background, len(t), "zero e-values", int((value == 0).sum()))
    np.savez_compressed(out, **record)


if __name__ == "__main__":  # a script: pytest's collection must not run it
    main(sys.argv[1], sys.argv[2])
