"""Core CPU throughput of skdeepsea against plain PyTorch eager, as interleaved repeats.

One run measures, on the Keras backend named by ``KERAS_BACKEND`` (skdeepsea's
choice when unset):

1. **Matmul ceiling.** The machine's float32 matrix-multiply rate (NumPy,
   N x N @ N x N, 2 N^3 FLOP each, best of a few, at the start and the end).
   Divided by DeepSEA's forward FLOPs per sequence (from the layer shapes, 2
   FLOP per multiply-add; 1.099 GFLOP for 1000 bp) it gives the ceiling in
   sequences/s of predict; training counts 3x the forward pass.
2. **Predict, interleaved.** Each repeat times, back to back and alternating
   the order: ``DeepSEAClassifier.predict_proba`` (``strand="forward"``),
   the same network in plain PyTorch eager (``_common.torch_deepsea``,
   ``eval()`` + ``inference_mode``, sigmoid outputs as one NumPy array), and
   the bare ``model_.predict`` under the estimator (the wrapper's overhead is
   ``predict_proba`` against it). Every callable runs once untimed first.
3. **Fit, interleaved.** One ``fit`` of ``--repeats`` + 1 epochs, each
   epoch timed with Keras' epoch callbacks (``_common.EpochClock``); after
   every epoch, one epoch of each of two PyTorch eager references on the same
   sequences runs and is timed, in alternating order: DeepSEA's objective
   written as a PyTorch user writes it (SGD with momentum, BCE, L2 as the
   kernels' weight decay, L1 on the hidden layer's outputs, ``renorm_`` in
   place after each step: the estimator's work per step; see
   :func:`torch_optimizer`), and the unregularized network. The first round
   (trace and compile, PyTorch's first steps) is left out. If the engine no longer trains through
   ``keras.Model.fit`` (no epochs seen), each repeat is a separate fit
   instead, timed as a difference of whole fits (see ``_common.time_fit``).
4. **OneHotDNA**: bases/s encoding random 1000 bp strings to float32 and uint8.

Load from other processes hits both sides of an interleaved pair alike, so
each pair's ratio (skdeepsea seq/s over PyTorch seq/s) is reported as the
**median and spread (min-max) over the repeats**, as are the throughputs. The
targets (issue 9: on the JAX backend, fit and ``predict_proba`` at least 1.2x
plain PyTorch eager in every run; on the torch backend at least 1.0x) are
printed PASS/FAIL on the median, with whether the slowest repeat meets them
too. They are informational: the script never fails on them.

Run from the repository root, once per backend (the backend is fixed when
Keras is imported)::

    KERAS_BACKEND=jax   /work/venv/bin/python benchmarks/bench_core.py --json core-jax.json
    KERAS_BACKEND=torch /work/venv/bin/python benchmarks/bench_core.py --json core-torch.json

``--quick`` is a smoke test (a narrow network, a few sequences, 2 repeats;
under a minute, figures meaningless); ``--help`` lists the sizes.
"""

import argparse
import os
import sys
import time

import numpy as np

# The package under test, from this checkout rather than an installed copy.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import torch  # noqa: E402

import skdeepsea  # noqa: E402, F401  (picks the Keras backend when KERAS_BACKEND is unset)
import keras  # noqa: E402
from skdeepsea import DeepSEAClassifier, OneHotDNA  # noqa: E402

from _common import (  # noqa: E402
    DEEPSEA, SEQUENCE_LENGTH, EpochClock, cpu_model, fmt_spread, forward_macs, n_cores,
    random_onehot, random_targets, run_part, spread, time_fit, torch_deepsea, versions,
    write_json,
)

# Minimum ratios skdeepsea / plain PyTorch eager, per backend. Issue 9 sets JAX
# (1.2x, every run) and torch (1.0x); TensorFlow keeps the earlier project targets.
TARGETS = {
    "jax": {"predict": 1.2, "fit": 1.2},
    "torch": {"predict": 1.0, "fit": 1.0},
    "tensorflow": {"predict": 1.1, "fit": 1.0},
}
WRAPPER_OVERHEAD_MAX_PCT = 5.0
ONEHOT_MIN_BASES_S = 100e6

DEFAULTS = dict(arch=DEEPSEA, n_predict=512, n_fit=256, batch_size=64, repeats=5,
                matmul_size=2048, n_onehot=20000)
QUICK = dict(arch=dict(conv_filters=(16, 24, 48), kernel_size=8, pool_size=4, fc_units=32,
                       dropout=(0.2, 0.2, 0.5)),
             n_predict=128, n_fit=64, batch_size=32, repeats=2, matmul_size=512, n_onehot=2000)


def best_of(fn, repeats):
    """Fastest of `repeats` timed calls of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_matmul(size, repeats=5):
    """float32 GFLOP/s of an N x N @ N x N product through NumPy's BLAS."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b  # warm-up: BLAS threads, first touch of the output
    return 2 * size**3 / best_of(lambda: a @ b, repeats) / 1e9


# ---------------------------------------------------------------------------- plain PyTorch


def torch_predict(model, x, batch_size):
    """Probabilities of x (a channels-first tensor) as one NumPy array, like Keras' predict."""
    model.eval()
    with torch.inference_mode():
        return np.concatenate([torch.sigmoid(model(x[i : i + batch_size])).numpy()
                               for i in range(0, len(x), batch_size)])


def torch_optimizer(model, l2, lr=1e-3, momentum=0.9):
    """SGD with momentum, DeepSEA's L2 as weight decay on the kernels only (not the biases).

    ``weight_decay = 2 * l2`` adds ``2 * l2 * W`` to each kernel's gradient before the
    momentum update: the gradient of ``l2 * sum(W ** 2)``, so with SGD (momentum or not)
    the update is the one of the penalty in the loss, which is how skdeepsea states it.
    """
    kernels = [m.weight for m in model if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]
    ids = {id(w) for w in kernels}
    others = [p for p in model.parameters() if id(p) not in ids]
    return torch.optim.SGD([dict(params=kernels, weight_decay=2 * l2), dict(params=others)],
                           lr=lr, momentum=momentum)


def torch_train_epoch(model, optimizer, x, y, batch_size, l1=1e-8, max_norm=0.9,
                      regularized=True):
    """One pass of SGD steps over (x, y) with DeepSEA's objective, as a PyTorch user writes it.

    BCE; with ``regularized``: L2 as the optimizer's weight decay (:func:`torch_optimizer`),
    ``l1 * mean_batch(sum |h|)`` over the hidden dense layer's outputs, and after each step
    every filter and every dense unit's incoming weights rescaled in place to norm
    <= ``max_norm`` (``renorm_`` over dim 0: PyTorch's kernels are ``(out, in, ...)``),
    skdeepsea's defaults. Without it, BCE alone (an optimizer without weight decay).
    Returns the last loss.
    """
    model.train()
    loss_fn = torch.nn.BCEWithLogitsLoss()
    kernels = [m.weight for m in model if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]
    for i in range(0, len(x), batch_size):
        optimizer.zero_grad(set_to_none=True)
        hidden = model[:-1](x[i : i + batch_size])
        loss = loss_fn(model[-1](hidden), y[i : i + batch_size])
        if regularized:
            loss = loss + l1 * hidden.abs().sum(dim=1).mean()
        loss.backward()
        optimizer.step()
        if regularized:
            with torch.no_grad():
                for w in kernels:
                    w.renorm_(2, 0, max_norm)
    return float(loss.detach())


def channels_first(X):
    return torch.from_numpy(np.ascontiguousarray(X.transpose(0, 2, 1)))


# ---------------------------------------------------------------------------- 2. predict


def bench_predict(cfg, X_pred, X_small, y_small):
    """Interleaved predict_proba / PyTorch / bare model_.predict; seq/s and paired ratios."""
    batch = cfg["batch_size"]
    torch.manual_seed(0)
    tmodel = torch_deepsea(**cfg["arch"])
    x_pred_t = channels_first(X_pred)
    clf = DeepSEAClassifier(**cfg["arch"], batch_size=batch, epochs=1, strand="forward",
                            add_reverse_complement=False, random_state=0)
    clf.fit(X_small, y_small)

    calls = {
        "predict_proba": lambda: clf.predict_proba(X_pred),
        "torch": lambda: torch_predict(tmodel, x_pred_t, batch),
        "model_predict": lambda: clf.model_.predict(X_pred, batch_size=batch, verbose=0),
    }
    for fn in calls.values():  # untimed: compiles the predict step, warms the caches
        fn()
    seconds = {name: [] for name in calls}
    for r in range(cfg["repeats"]):
        # PyTorch in the middle; the two skdeepsea calls swap places every repeat.
        order = ["predict_proba", "torch", "model_predict"]
        if r % 2:
            order.reverse()
        for name in order:
            start = time.perf_counter()
            calls[name]()
            seconds[name].append(time.perf_counter() - start)
    n = len(X_pred)
    out = {name: spread([n / s for s in values]) for name, values in seconds.items()}
    out["ratio"] = spread([t / p for p, t in zip(seconds["predict_proba"], seconds["torch"])])
    out["wrapper_overhead_pct"] = spread(
        [100 * (p / b - 1) for p, b in zip(seconds["predict_proba"], seconds["model_predict"])])
    out["seconds"] = seconds
    return out


# ---------------------------------------------------------------------------- 3. fit


def bench_fit(cfg, X_fit, y_fit):
    """Interleaved skdeepsea fit epochs and PyTorch training epochs; seq/s and paired ratios.

    After every skdeepsea epoch, one epoch of each PyTorch reference (the regularized one,
    DeepSEA's objective as skdeepsea trains it, and the unregularized one), in alternating
    order. Ratios are skdeepsea over each reference, pair by pair.
    """
    batch, repeats, n = cfg["batch_size"], cfg["repeats"], len(X_fit)
    x_t, y_t = channels_first(X_fit.astype(np.float32)), torch.from_numpy(y_fit.astype(np.float32))
    references = {}
    for name, regularized in (("torch", True), ("torch_plain", False)):
        torch.manual_seed(0)
        tmodel = torch_deepsea(**cfg["arch"])
        optimizer = torch_optimizer(tmodel, l2=5e-7 if regularized else 0.0)
        references[name] = (tmodel, optimizer, regularized)

    def torch_epoch(name):
        tmodel, optimizer, regularized = references[name]
        start = time.perf_counter()
        torch_train_epoch(tmodel, optimizer, x_t, y_t, batch, regularized=regularized)
        return time.perf_counter() - start

    def make(epochs):
        return DeepSEAClassifier(**cfg["arch"], batch_size=batch, epochs=epochs,
                                 strand="forward", add_reverse_complement=False,
                                 random_state=0)

    torch_seconds = {name: [] for name in references}

    def between(epoch):
        for name in (list(references) if epoch % 2 else list(references)[::-1]):
            torch_seconds[name].append(torch_epoch(name))

    clock = EpochClock(between=between)
    with clock:
        start = time.perf_counter()
        make(repeats + 1).fit(X_fit, y_fit)
        total = time.perf_counter() - start
    sk_seconds = clock.durations()
    if len(sk_seconds) >= repeats + 1 and len(torch_seconds["torch"]) >= repeats + 1:
        method = "epochs"
        fixed = dict(first_epoch_s=sk_seconds[-(repeats + 1)],
                     before_first_epoch_s=total - sum(sk_seconds)
                     - sum(map(sum, torch_seconds.values())))
        # Pair i: skdeepsea epoch i + 2 and the PyTorch epochs right after it.
        sk_seconds = sk_seconds[-repeats:]
        torch_seconds = {name: s[-repeats:] for name, s in torch_seconds.items()}
        sk_rates = [n / s for s in sk_seconds]
    else:
        # No epoch callbacks: whole fits, each repeat its own (see _common.time_fit).
        method = "difference"
        for name in references:
            torch_epoch(name)  # warm-up
        torch_seconds = {name: [] for name in references}
        sk_rates, fixed = [], {}
        for r in range(repeats):
            sk_rates.append(time_fit(make, X_fit, y_fit, 2, n)[0]["seq_s"])
            between(r)
    out = dict(method=method, skdeepsea=spread(sk_rates), **fixed)
    for name, seconds in torch_seconds.items():
        rates = [n / s for s in seconds]
        out[name] = spread(rates)
        out["ratio" if name == "torch" else f"ratio_{name}"] = spread(
            [s / t for s, t in zip(sk_rates, rates)])
    return out


# ---------------------------------------------------------------------------- 4. OneHotDNA


def random_sequences(n, length, seed=0):
    """n random ACGT strings of one length, made without a Python loop per base."""
    codes = np.frombuffer(b"ACGT", dtype=np.uint8)[
        np.random.default_rng(seed).integers(0, 4, size=(n, length))
    ]
    joined = codes.tobytes().decode("ascii")
    return [joined[i * length : (i + 1) * length] for i in range(n)]


def bench_onehot(n, length=SEQUENCE_LENGTH, repeats=3):
    """Bases/s of OneHotDNA.transform to float32 and to uint8 (input checks included)."""
    seqs = random_sequences(n, length)
    out = {}
    for dtype in ("float32", "uint8"):
        encoder = OneHotDNA(dtype=dtype).fit(seqs[:10])
        out[dtype] = n * length / best_of(lambda: encoder.transform(seqs), repeats)
    return out


# ---------------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: narrow network, tiny sizes, 2 repeats")
    parser.add_argument("--repeats", type=int,
                        help="interleaved repeats of predict and of fit epochs (default 5)")
    parser.add_argument("--n-predict", type=int, help="sequences per predict call (512)")
    parser.add_argument("--n-fit", type=int, help="sequences per training epoch (256)")
    parser.add_argument("--batch-size", type=int, help="fit and predict batch size (64)")
    parser.add_argument("--matmul-size", type=int, help="N of the float32 matmul (2048)")
    parser.add_argument("--n-onehot", type=int, help="sequences to encode (20000)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this file")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else DEFAULTS)
    for key in ("repeats", "n_predict", "n_fit", "batch_size", "matmul_size", "n_onehot"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    if cfg["repeats"] < 1:
        parser.error("--repeats must be at least 1")

    cores = n_cores()
    torch.set_num_threads(cores)  # PyTorch and Keras' torch backend share this pool
    backend = keras.backend.backend()
    t0 = time.perf_counter()
    r = dict(backend=backend, cpu=cpu_model(), cores=cores, versions=versions(),
             args=dict(cfg, quick=args.quick), load_avg_before=os.getloadavg(),
             forward_gflop_per_seq=2 * forward_macs(**cfg["arch"]) / 1e9, parts={}, errors={})
    print(f"backend={backend}  cpu={r['cpu']}  cores={cores}  load={r['load_avg_before']}  "
          f"{'quick ' if args.quick else ''}{cfg}", flush=True)

    rng = np.random.default_rng(0)
    X_pred = random_onehot(cfg["n_predict"], seed=1, dtype=np.float32)
    X_fit = random_onehot(cfg["n_fit"], seed=2, dtype=np.float32)
    y_fit = random_targets(cfg["n_fit"], seed=3).astype(np.float32)
    small = rng.permutation(cfg["n_fit"])[: cfg["batch_size"]]
    parts, errors = r["parts"], r["errors"]

    def part(name, fn):
        print(f"{name} ...", flush=True)
        run_part(name, fn, parts, errors)

    part("matmul_start", lambda: bench_matmul(cfg["matmul_size"]))
    part("predict", lambda: bench_predict(cfg, X_pred, X_fit[small], y_fit[small]))
    part("fit", lambda: bench_fit(cfg, X_fit, y_fit))
    part("onehot", lambda: bench_onehot(cfg["n_onehot"]))
    part("matmul_end", lambda: bench_matmul(cfg["matmul_size"]))

    matmuls = [parts.pop(k) for k in ("matmul_start", "matmul_end") if k in parts]
    r["matmul_gflops"] = max(matmuls) if matmuls else None
    r["load_avg_after"] = os.getloadavg()
    r["total_s"] = time.perf_counter() - t0
    report(r)
    write_json(args.json, r)
    return r


def report(r):
    """Print the table, the ratios and the targets."""
    parts, n = r["parts"], r["args"]["repeats"]
    gflops = r["matmul_gflops"]
    ceiling = None
    print()
    print(f"DeepSEA on the CPU, Keras backend {r['backend']}, {r['cores']} cores ({r['cpu']}); "
          f"median [min, max] of {n} interleaved repeats")
    if gflops:
        ceiling = {"predict": gflops / r["forward_gflop_per_seq"],
                   "train": gflops / (3 * r["forward_gflop_per_seq"])}
        print(f"float32 matmul {gflops:.1f} GFLOP/s; forward {r['forward_gflop_per_seq']:.3f} "
              f"GFLOP/seq -> ceiling {ceiling['predict']:.0f} seq/s predict, "
              f"{ceiling['train']:.0f} seq/s train (3x forward)")
    print(f"\n{'':30s}{'seq/s':>26s}{'of ceiling':>12s}")
    rows = []
    if "predict" in parts:
        p = parts["predict"]
        rows += [("PyTorch eager predict", p["torch"], "predict"),
                 ("skdeepsea predict_proba", p["predict_proba"], "predict"),
                 ("bare model_.predict", p["model_predict"], "predict")]
    if "fit" in parts:
        f = parts["fit"]
        rows += [("PyTorch eager train", f["torch"], "train"),
                 ("  unregularized", f["torch_plain"], "train"),
                 ("skdeepsea fit (per epoch)", f["skdeepsea"], "train")]
    for name, s, kind in rows:
        of = f"{100 * s['median'] / ceiling[kind]:11.0f}%" if ceiling else ""
        print(f"{name:30s}{fmt_spread(s):>26s}{of}")
    if "fit" in parts and parts["fit"]["method"] == "epochs":
        f = parts["fit"]
        print(f"skdeepsea fit, once per fit: {f['before_first_epoch_s']:.1f} s before epoch 1, "
              f"epoch 1 {f['first_epoch_s']:.1f} s (trace/compile + one epoch)")
    elif "fit" in parts:
        print("skdeepsea fit timed as a difference of whole fits (no Keras epoch callbacks seen)")
    if "onehot" in parts:
        o = parts["onehot"]
        print(f"{'OneHotDNA float32 / uint8':30s}{o['float32'] / 1e6:14.0f} / "
              f"{o['uint8'] / 1e6:.0f} M bases/s")

    targets = TARGETS.get(r["backend"], TARGETS["torch"])
    print("\ntargets (informational; PASS on the median, 'every' = also the slowest repeat)")
    for kind in ("predict", "fit"):
        if kind not in parts:
            continue
        ratio, target = parts[kind]["ratio"], targets[kind]
        print(f"  {kind:7s} skdeepsea / PyTorch eager {fmt_spread(ratio, 2, 'x'):>24s}  "
              f"(>= {target}x)  {'PASS' if ratio['median'] >= target else 'FAIL'}"
              f"{', every repeat' if ratio['min'] >= target else ''}")
    if "fit" in parts:
        print(f"  fit     skdeepsea / unregularized PyTorch "
              f"{fmt_spread(parts['fit']['ratio_torch_plain'], 2, 'x'):>16s}  (informational)")
    if "predict" in parts:
        w = parts["predict"]["wrapper_overhead_pct"]
        print(f"  wrapper overhead, predict_proba / model_.predict {fmt_spread(w, 1, '%')}  "
              f"(<= {WRAPPER_OVERHEAD_MAX_PCT}%)  "
              f"{'PASS' if w['median'] <= WRAPPER_OVERHEAD_MAX_PCT else 'FAIL'}")
    if "onehot" in parts:
        slow = min(parts["onehot"].values())
        print(f"  OneHotDNA, slower dtype {slow / 1e6:.0f} M bases/s (>= 100 M)  "
              f"{'PASS' if slow >= ONEHOT_MIN_BASES_S else 'FAIL'}")
    for name, message in r["errors"].items():
        print(f"  error in {name}: {message}")
    print(f"load average before {r['load_avg_before']}, after {r['load_avg_after']}; "
          f"total {r['total_s']:.0f} s")


if __name__ == "__main__":
    main()
