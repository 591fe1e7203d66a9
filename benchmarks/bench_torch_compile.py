"""``torch.compile`` of the torch backend's steps (Keras' ``jit_compile=True``) against eager.

Issue 22 asks whether compiling the torch backend's training and prediction steps pays,
with its first-call cost. On the torch backend Keras runs eagerly unless a model is
compiled with ``jit_compile=True``, which wraps its train and predict steps in
``torch.compile``. One process, ``KERAS_BACKEND=torch``, on whatever device Keras
places the network (a CPU here; a GPU where one is lent):

1. **Predict.** Two copies of one seeded DeepSEA network, one compiled with
   ``jit_compile=True``; the first call of each is timed apart (compilation), then
   ``--repeats`` interleaved ``predict`` calls of ``--n-predict`` sequences each,
   alternating the order. Their outputs are compared.
2. **Fit.** ``DeepSEAClassifier.fit`` twice, eagerly and with its training model
   compiled with ``jit_compile=True`` (the estimator has no option for it: the script
   sets it where the estimator compiles, ``_engine.model.compile_for_training``), each
   epoch timed with ``_common.EpochClock``. The first epoch holds the compilation.

Ratios are compiled over eager; above 1.0 compilation pays. Run from the repository
root::

    KERAS_BACKEND=torch python benchmarks/bench_torch_compile.py --json compile-torch.json

``--quick`` runs a narrow network on a few sequences (a smoke test; figures meaningless).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import skdeepsea  # noqa: E402, F401
import keras  # noqa: E402
from skdeepsea import DeepSEAClassifier  # noqa: E402
from skdeepsea._engine import model as engine_model  # noqa: E402
from skdeepsea.network import build_deepsea  # noqa: E402

from _common import (  # noqa: E402
    DEEPSEA, EpochClock, cpu_model, fmt_spread, n_cores, random_onehot, random_targets, spread,
    versions, write_json,
)

DEFAULTS = dict(arch=DEEPSEA, n_predict=512, n_fit=256, batch_size=64, repeats=5, epochs=4)
QUICK = dict(arch=dict(conv_filters=(16, 24, 48), kernel_size=8, pool_size=4, fc_units=32,
                       dropout=(0.2, 0.2, 0.5)),
             n_predict=128, n_fit=64, batch_size=32, repeats=2, epochs=2)


def bench_predict(cfg, X):
    """First-call seconds, seq/s and paired ratios of eager and compiled ``predict``."""
    models, first = {}, {}
    for compiled in (False, True):
        model = build_deepsea(X.shape[1], 919, seed=0, **cfg["arch"])
        model.compile(loss="binary_crossentropy", jit_compile=compiled)
        start = time.perf_counter()
        model.predict(X[: cfg["batch_size"]], batch_size=cfg["batch_size"], verbose=0)
        first[compiled] = time.perf_counter() - start
        models[compiled] = model
    seconds, outputs = {False: [], True: []}, {}
    for r in range(cfg["repeats"]):
        for compiled in ((False, True) if r % 2 else (True, False)):
            start = time.perf_counter()
            outputs[compiled] = models[compiled].predict(X, batch_size=cfg["batch_size"],
                                                         verbose=0)
            seconds[compiled].append(time.perf_counter() - start)
    n = len(X)
    return dict(first_call_s={"eager": first[False], "compiled": first[True]},
                eager=spread([n / s for s in seconds[False]]),
                compiled=spread([n / s for s in seconds[True]]),
                ratio=spread([e / c for e, c in zip(seconds[False], seconds[True])]),
                max_abs_difference=float(np.abs(outputs[True] - outputs[False]).max()))


def bench_fit(cfg, X, y, compiled):
    """Epoch seconds of one estimator fit, its training model compiled or not."""
    original = engine_model.compile_for_training

    def compile_for_training(network, train_model, *args):
        original(network, train_model, *args)
        train_model.jit_compile = compiled

    engine_model.compile_for_training = compile_for_training
    try:
        clf = DeepSEAClassifier(**cfg["arch"], batch_size=cfg["batch_size"],
                                epochs=cfg["epochs"], strand="forward",
                                add_reverse_complement=False, random_state=0)
        with EpochClock() as clock:
            clf.fit(X, y)
    finally:
        engine_model.compile_for_training = original
    return clock.durations()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: narrow network")
    parser.add_argument("--repeats", type=int, help="interleaved predict calls (5)")
    parser.add_argument("--epochs", type=int, help="epochs of each fit (4)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if keras.backend.backend() != "torch":
        parser.error("run with KERAS_BACKEND=torch: jit_compile means torch.compile there")
    cfg = dict(QUICK if args.quick else DEFAULTS)
    for key in ("repeats", "epochs"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    if cfg["epochs"] < 2:
        parser.error("--epochs must be at least 2 (the first holds the compilation)")
    import torch

    torch.set_num_threads(n_cores())
    r = dict(cpu=cpu_model(), cores=n_cores(), versions=versions(),
             device=str(keras.ops.convert_to_tensor(np.zeros(1)).device),
             args=dict(cfg, quick=args.quick), load_avg_before=os.getloadavg())
    X_pred = random_onehot(cfg["n_predict"], seed=1, dtype=np.float32)
    X_fit = random_onehot(cfg["n_fit"], seed=2, dtype=np.float32)
    y_fit = random_targets(cfg["n_fit"], seed=3).astype(np.float32)
    print(f"device {r['device']}, {r['cores']} cores ({r['cpu']}), {cfg}", flush=True)
    r["predict"] = bench_predict(cfg, X_pred)
    r["fit_epoch_s"] = {"eager": bench_fit(cfg, X_fit, y_fit, False),
                        "compiled": bench_fit(cfg, X_fit, y_fit, True)}
    r["load_avg_after"] = os.getloadavg()
    report(r)
    write_json(args.json, r)
    return r


def report(r):
    p, fit = r["predict"], r["fit_epoch_s"]
    n_fit = r["args"]["n_fit"]
    print(f"\npredict, {r['args']['repeats']} interleaved calls of {r['args']['n_predict']} "
          "(seq/s, median [min, max]):")
    for name in ("eager", "compiled"):
        print(f"  {name:8s} {fmt_spread(p[name]):>24s}, first call "
              f"{p['first_call_s'][name]:.1f} s")
    print(f"  compiled / eager {fmt_spread(p['ratio'], 2, 'x')}; outputs differ by at most "
          f"{p['max_abs_difference']:.2g}")
    rates = {name: [n_fit / s for s in seconds[1:]] for name, seconds in fit.items()}
    print(f"fit, epochs of {n_fit} sequences (the first holds the compilation):")
    for name, seconds in fit.items():
        later = ", ".join(f"{s:.2f}" for s in seconds[1:])
        print(f"  {name:8s} first epoch {seconds[0]:.1f} s, then "
              f"{np.median(rates[name]):.1f} seq/s (epochs {later} s)")
    print(f"  compiled / eager, epochs after the first: "
          f"{np.median(rates['compiled']) / np.median(rates['eager']):.2f}x")
    print(f"load average before {r['load_avg_before']}, after {r['load_avg_after']}")


if __name__ == "__main__":
    main()
