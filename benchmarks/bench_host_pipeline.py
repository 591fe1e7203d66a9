"""Host input pipeline of DeepSEAClassifier.fit: uint8 memmap vs in-memory, near-free network.

On a GPU the network is so fast that the host's input pipeline (reading,
shuffling, reverse complements, casting, transfer) sets the training speed;
on this CPU the full network hides it. This script makes the network nearly
free (one convolution of 4 filters, a dense layer of 4 units: about 0.15 M
multiply-adds per sequence against DeepSEA's 550 M), so that a fit costs
little beyond its input pipeline, and compares:

- ``memory``: ``fit(X, Y)`` with uint8 NumPy arrays in memory;
- ``memmap``: ``fit`` on the same samples saved as ``.npy`` files and opened
  with ``np.load(..., mmap_mode="r")``, which ``fit`` streams from disk.

Both use the estimator's defaults otherwise (reverse-complement augmentation
on, so an epoch is 2 x ``--n`` samples; SGD; ``random_state=0``). Each fit's
rate is taken over epochs 2.. (the first holds the trace / compile), timed
with Keras' epoch callbacks (``_common.time_fit``). The fits alternate,
memory then memmap, then memmap then memory, ``--repeats`` times in one
process, so load from other processes hits both alike; the result is the
median and spread (min-max) of each repeat's ratio memmap / memory.
Issue 9's target: a median of at least 0.9. The files are freshly written and
so in the page cache: this measures the pipeline, not the disk.

Run from the repository root, once per backend (about 2 minutes each on this
2-core machine, an estimate)::

    KERAS_BACKEND=jax   /work/venv/bin/python benchmarks/bench_host_pipeline.py --json host-jax.json
    KERAS_BACKEND=torch /work/venv/bin/python benchmarks/bench_host_pipeline.py --json host-torch.json

``--quick`` is a smoke test (1,024 samples, 2 repeats; seconds, figures
meaningless).
"""

import argparse
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import skdeepsea  # noqa: E402, F401  (picks the Keras backend when KERAS_BACKEND is unset)
import keras  # noqa: E402
from skdeepsea import DeepSEAClassifier  # noqa: E402

from _common import (  # noqa: E402
    N_OUTPUTS, SEQUENCE_LENGTH, cpu_model, fmt_spread, forward_macs, n_cores, random_onehot,
    random_targets, spread, time_fit, versions, write_json,
)

# One convolution (no pooling after the last one), 4 hidden units: nearly free.
TINY = dict(conv_filters=(4,), kernel_size=8, pool_size=4, fc_units=4, dropout=(0.2,))
TARGET = 0.9
DEFAULTS = dict(n=16384, batch_size=256, epochs=3, repeats=5)
QUICK = dict(n=1024, batch_size=256, epochs=2, repeats=2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: tiny sizes")
    parser.add_argument("--n", type=int, help="samples (16384; x2 per epoch with reverse "
                        "complements)")
    parser.add_argument("--batch-size", type=int, help="batch size (256)")
    parser.add_argument("--epochs", type=int, help="epochs per fit, >= 2, the first untimed (3)")
    parser.add_argument("--repeats", type=int, help="interleaved pairs of fits (5)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this file")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else DEFAULTS)
    for key in cfg:
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    if cfg["epochs"] < 2:
        parser.error("--epochs must be at least 2")

    backend = keras.backend.backend()
    X, Y = random_onehot(cfg["n"], seed=0), random_targets(cfg["n"], seed=1)
    params = dict(TINY, batch_size=cfg["batch_size"], optimizer="sgd", random_state=0)
    r = dict(backend=backend, cpu=cpu_model(), cores=n_cores(), versions=versions(),
             args=dict(cfg, quick=args.quick), network=TINY,
             forward_macs_per_seq=forward_macs(**TINY), load_avg_before=os.getloadavg())
    print(f"backend {backend}, {cfg['n']} samples x {SEQUENCE_LENGTH} bp x {N_OUTPUTS} "
          f"targets (uint8), batch {cfg['batch_size']}, {cfg['epochs']} epochs per fit "
          f"(+ reverse complements), {cfg['repeats']} repeats; network {TINY} "
          f"({r['forward_macs_per_seq'] / 1e6:.2f} M multiply-adds/seq); load "
          f"{r['load_avg_before']}", flush=True)

    t0 = time.perf_counter()
    rates = {"memory": [], "memmap": []}
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "x.npy"), X)
        np.save(os.path.join(folder, "y.npy"), Y)
        inputs = {
            "memory": (X, Y),
            "memmap": (np.load(os.path.join(folder, "x.npy"), mmap_mode="r"),
                       np.load(os.path.join(folder, "y.npy"), mmap_mode="r")),
        }
        # Untimed: the first fit of a process pays one-time imports.
        small = 2 * cfg["batch_size"]
        DeepSEAClassifier(**params, epochs=1).fit(X[:small], Y[:small])
        for repeat in range(cfg["repeats"]):
            order = ["memory", "memmap"] if repeat % 2 == 0 else ["memmap", "memory"]
            for kind in order:
                X_fit, Y_fit = inputs[kind]
                figures, _ = time_fit(lambda epochs: DeepSEAClassifier(**params, epochs=epochs),
                                      X_fit, Y_fit, cfg["epochs"], samples_per_epoch=2 * len(X))
                rates[kind].append(figures["seq_s"])
                runs.append(dict(figures, kind=kind, repeat=repeat))
                print(f"  repeat {repeat + 1} {kind:6s} {figures['seq_s']:9.0f} samples/s "
                      f"(total {figures['total_s']:.1f} s, timed by {figures['method']})",
                      flush=True)
        del inputs

    ratios = [mm / mem for mm, mem in zip(rates["memmap"], rates["memory"])]
    r.update(runs=runs, memory=spread(rates["memory"]), memmap=spread(rates["memmap"]),
             ratio=spread(ratios), load_avg_after=os.getloadavg(),
             total_s=time.perf_counter() - t0)
    print(f"\nsamples/s, median [min, max] of {cfg['repeats']} interleaved repeats")
    print(f"  memory {fmt_spread(r['memory'], 0)}")
    print(f"  memmap {fmt_spread(r['memmap'], 0)}")
    verdict = "PASS" if r["ratio"]["median"] >= TARGET else "FAIL"
    print(f"memmap / memory {fmt_spread(r['ratio'], 2, 'x')}  (median >= {TARGET})  {verdict}"
          f"{', every repeat' if r['ratio']['min'] >= TARGET else ''}")
    print(f"load average after {r['load_avg_after']}; total {r['total_s']:.0f} s")
    write_json(args.json, r)
    return r


if __name__ == "__main__":
    main()
