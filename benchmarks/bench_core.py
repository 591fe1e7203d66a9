"""Core throughput benchmark of skdeepsea on the current Keras backend.

One run measures, on the backend named by ``KERAS_BACKEND`` (the default of
``skdeepsea`` when unset):

1. **Matmul ceiling.** The machine's float32 matrix-multiply rate (NumPy,
   ``N x N @ N x N``, best of a few, 2 N^3 FLOP each). Dividing it by
   DeepSEA's forward FLOPs per sequence (counted exactly from the layer shapes,
   2 FLOP per multiply-add of the convolutions and dense layers) gives the
   ceiling in sequences/s for predict; training costs about 3x the forward
   pass (forward + two backward products), so its ceiling is a third of that.
2. **PyTorch eager reference.** The same network written in plain ``torch.nn``
   (channels-first ``Conv1d``), ``torch.set_num_threads(<cores>)``. Predict:
   ``eval()`` + ``torch.inference_mode()`` over the data in batches. Train:
   SGD (momentum 0.9) + BCE steps. No regularization: it is the plain
   reference the project compares against (deepsea-reference.md, section 7).
3. **skdeepsea.** ``DeepSEAClassifier(average_strands=False)`` fitted once on
   one batch (so ``model_`` exists and the predict function is compiled), then
   ``predict_proba`` throughput; ``fit`` throughput (one epoch's cost, see
   :func:`bench_skdeepsea_fit`); and the wrapper's overhead, ``predict_proba``
   against the bare ``model_.predict`` on the same array.
4. **OneHotDNA.** Bases/s encoding random 1000 bp strings to float32 and uint8.

Other processes' load distorts timings on a small machine, so: predict
timings of PyTorch, ``predict_proba`` and ``model_.predict`` are interleaved
(one of each per repeat) and each throughput is its best (fastest) repeat, the
usual estimate of undisturbed speed; the wrapper overhead, a difference of a
few percent, is the median over repeats of the ratio of the two calls made
side by side, and is also measured directly (``predict_proba`` with a stub
network). The PyTorch training epoch runs before and after the skdeepsea fit,
the matmul at the start and the end (best kept). The targets printed as
PASS/FAIL are informational: the script never fails on them.

Run from the repository root, once per backend::

    KERAS_BACKEND=jax /work/venv/bin/python benchmarks/bench_core.py --json jax.json
"""

import argparse
import contextlib
import copy
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

# The package under test, from this checkout rather than an installed copy.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import keras  # noqa: E402
import torch  # noqa: E402

import skdeepsea  # noqa: E402
from skdeepsea import DeepSEAClassifier, OneHotDNA  # noqa: E402

# DeepSEA's released architecture (deepsea-reference.md, section 1).
SEQUENCE_LENGTH = 1000
N_OUTPUTS = 919
CONV_FILTERS = (320, 480, 960)
KERNEL_SIZE = 8
POOL_SIZE = 4
FC_UNITS = 925
DROPOUT = (0.2, 0.2, 0.5)

# Informational targets: minimums, except the wrapper overhead (a maximum).
TARGETS = {
    "predict_ratio": 1.1,
    "fit_ratio": 1.0,
    "wrapper_overhead_pct": 5.0,
    "onehot_bases_per_s": 100e6,
}


def n_cores():
    """CPUs this process may run on (the affinity mask, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def deepsea_forward_flops(length=SEQUENCE_LENGTH):
    """Forward FLOPs of one sequence: 2 x the multiply-adds of every conv and dense layer.

    Bias adds, ReLU, pooling and sigmoid are left out (under 0.1% of the total).
    """
    macs = 0
    channels = 4
    for i, filters in enumerate(CONV_FILTERS):
        length = length - KERNEL_SIZE + 1  # valid convolution, stride 1
        macs += length * filters * KERNEL_SIZE * channels
        channels = filters
        if i < len(CONV_FILTERS) - 1:
            length //= POOL_SIZE
    flat = length * channels  # 53 x 960 = 50,880
    macs += flat * FC_UNITS + FC_UNITS * N_OUTPUTS
    return 2 * macs


def best_of(fn, repeats):
    """Fastest of `repeats` timed calls of fn(), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# ---------------------------------------------------------------------------- 1. matmul


def bench_matmul(size, repeats):
    """float32 GFLOP/s of an N x N @ N x N product through NumPy's BLAS."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    a @ b  # warm-up: BLAS thread start-up and first-touch of the output
    seconds = best_of(lambda: a @ b, repeats)
    return 2 * size**3 / seconds / 1e9


# ---------------------------------------------------------------------------- 2. PyTorch


def torch_deepsea():
    """DeepSEA in plain torch.nn, channels-first input (N, 4, L); same sizes as build_deepsea."""
    nn = torch.nn
    length = SEQUENCE_LENGTH
    layers = []
    channels = 4
    for i, filters in enumerate(CONV_FILTERS):
        layers += [nn.Conv1d(channels, filters, KERNEL_SIZE), nn.ReLU()]
        length = length - KERNEL_SIZE + 1
        if i < len(CONV_FILTERS) - 1:
            layers.append(nn.MaxPool1d(POOL_SIZE, POOL_SIZE))
            length //= POOL_SIZE
        layers.append(nn.Dropout(DROPOUT[i]))
        channels = filters
    layers += [
        nn.Flatten(),
        nn.Linear(length * channels, FC_UNITS),
        nn.ReLU(),
        nn.Linear(FC_UNITS, N_OUTPUTS),
        nn.Sigmoid(),
    ]
    return nn.Sequential(*layers)


def torch_predict(model, x, batch_size):
    """Probabilities of x (a channels-first tensor) as one NumPy array, like Keras' predict."""
    model.eval()
    with torch.inference_mode():
        return np.concatenate(
            [model(x[i : i + batch_size]).numpy() for i in range(0, len(x), batch_size)]
        )


def torch_train_epoch(model, optimizer, x, y, batch_size):
    """One pass of SGD steps over (x, y)."""
    model.train()
    loss_fn = torch.nn.BCELoss()
    for i in range(0, len(x), batch_size):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[i : i + batch_size]), y[i : i + batch_size])
        loss.backward()
        optimizer.step()
    return float(loss.detach())


# ---------------------------------------------------------------------------- 3. skdeepsea


class _NoNetwork:
    """Stands in for model_ to time predict_proba without the network."""

    def __init__(self, n_outputs):
        self.n_outputs = n_outputs

    def predict(self, X, batch_size=None, verbose=0):
        return np.zeros((len(X), self.n_outputs), dtype=np.float32)


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock start and end of every epoch of a Keras fit."""

    def __init__(self):
        super().__init__()
        self.begins, self.ends = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.begins.append(time.perf_counter())

    def on_epoch_end(self, epoch, logs=None):
        # Reading the loss waits for the epoch's last step (JAX dispatches
        # asynchronously), so the epoch's work is inside its interval.
        float((logs or {}).get("loss", 0.0))
        self.ends.append(time.perf_counter())


@contextlib.contextmanager
def timed_keras_fits():
    """Within the block, every keras.Model.fit also gets an EpochTimer callback.

    DeepSEAClassifier.fit takes no callbacks, so this wraps Keras' fit for the
    benchmark's duration (and restores it after); the estimator itself runs
    unchanged.
    """
    timer = EpochTimer()
    had_own = "fit" in vars(keras.Model)
    original = keras.Model.fit

    def fit(self, *args, callbacks=None, **kwargs):
        return original(self, *args, callbacks=[*(callbacks or []), timer], **kwargs)

    keras.Model.fit = fit
    try:
        yield timer
    finally:
        if had_own:
            keras.Model.fit = original
        else:
            del keras.Model.fit


def bench_skdeepsea_fit(X, y, batch_size, epochs):
    """Training sequences/s of DeepSEAClassifier.fit in the steady state.

    Every ``fit`` builds a new network and so traces and compiles a new train
    function during its first epoch; a warm-up fit cannot remove that from
    the next fit. So one fit of ``epochs`` (>= 2) epochs is timed per epoch
    with a Keras callback, and the steady-state rate is taken over epochs 2..
    (from the start of epoch 2 to the end of the last, which is robust to
    where exactly asynchronous work crosses an epoch boundary). Timing two
    fits of different lengths and subtracting was tried first: under load
    from other processes the difference of two noisy totals, each holding a
    compile of several seconds, came out negative. Returns (sequences/s,
    seconds from the call to the first epoch: input checks, network build,
    Keras compile; seconds of the first epoch: trace/compile + one epoch).
    """
    clf = DeepSEAClassifier(
        batch_size=batch_size,
        epochs=epochs,
        average_strands=False,
        add_reverse_complement=False,
        random_state=0,
    )
    with timed_keras_fits() as timer:
        start = time.perf_counter()
        clf.fit(X, y)
    epoch_seconds = (timer.ends[-1] - timer.begins[1]) / (epochs - 1)
    return len(X) / epoch_seconds, timer.begins[0] - start, timer.ends[0] - timer.begins[0]


# ---------------------------------------------------------------------------- 4. OneHotDNA


def random_sequences(n, length, seed=0):
    """n random ACGT strings of one length, made without a Python loop per base."""
    codes = np.frombuffer(b"ACGT", dtype=np.uint8)[
        np.random.default_rng(seed).integers(0, 4, size=(n, length))
    ]
    joined = codes.tobytes().decode("ascii")
    return [joined[i * length : (i + 1) * length] for i in range(n)]


def bench_onehot(n, length, dtype, repeats):
    """Bases/s of OneHotDNA.transform (input checks included, fit excluded: it is done once)."""
    seqs = random_sequences(n, length)
    encoder = OneHotDNA(dtype=dtype).fit(seqs[:10])
    return n * length / best_of(lambda: encoder.transform(seqs), repeats)


# ---------------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-predict", type=int, default=512, help="sequences per predict call")
    parser.add_argument("--n-fit", type=int, default=256, help="sequences per training epoch")
    parser.add_argument("--batch-size", type=int, default=64, help="fit and predict batch size")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of each predict")
    parser.add_argument("--fit-epochs", type=int, default=3,
                        help="epochs of the timed skdeepsea fit (>= 2; epoch 1 holds the compile)")
    parser.add_argument("--matmul-size", type=int, default=2048)
    parser.add_argument("--n-onehot", type=int, default=20000, help="sequences to encode")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    if args.fit_epochs < 2:
        parser.error("--fit-epochs must be at least 2")

    cores = n_cores()
    # Both PyTorch and Keras' torch backend use this pool; TF and XLA size theirs
    # to the cores on their own.
    torch.set_num_threads(cores)
    backend = keras.backend.backend()
    load_before = os.getloadavg()
    t_script = time.perf_counter()
    results = {
        "backend": backend,
        "cpu": cpu_model(),
        "cores": cores,
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "keras": keras.__version__,
            "torch": torch.__version__,
            "skdeepsea": skdeepsea.__version__,
            backend: _backend_version(backend),
        },
        "args": vars(args),
    }
    print(f"backend={backend}  cpu={results['cpu']}  cores={cores}  load={load_before}")
    sys.stdout.flush()

    # 1. Ceiling: measured here and again at the end (best kept), as it is a
    # property of the machine and other load only lowers it.
    flops = deepsea_forward_flops()
    gflops_start = bench_matmul(args.matmul_size, repeats=5)
    results["forward_gflop_per_seq"] = flops / 1e9
    print(f"matmul {gflops_start:.1f} GFLOP/s; forward {flops / 1e9:.3f} GFLOP/seq")
    sys.stdout.flush()

    # Data: random one-hot sequences and random 0/1 targets; speed does not
    # depend on the values.
    rng = np.random.default_rng(0)
    eye = np.eye(4, dtype=np.float32)
    X_pred = eye[rng.integers(0, 4, size=(args.n_predict, SEQUENCE_LENGTH))]
    X_fit = eye[rng.integers(0, 4, size=(args.n_fit, SEQUENCE_LENGTH))]
    y_fit = (rng.random((args.n_fit, N_OUTPUTS)) < 0.05).astype(np.float32)
    # PyTorch's Conv1d wants channels first; converted once, outside the timing.
    x_pred_t = torch.from_numpy(np.ascontiguousarray(X_pred.transpose(0, 2, 1)))
    x_fit_t = torch.from_numpy(np.ascontiguousarray(X_fit.transpose(0, 2, 1)))
    y_fit_t = torch.from_numpy(y_fit)

    # 2 + 3a. Predict: PyTorch, predict_proba and bare model_.predict, interleaved.
    torch.manual_seed(0)
    tmodel = torch_deepsea()
    torch_predict(tmodel, x_pred_t[: args.batch_size], args.batch_size)  # warm-up
    clf = DeepSEAClassifier(
        batch_size=args.batch_size, epochs=1, average_strands=False,
        add_reverse_complement=False, random_state=0,
    ).fit(X_fit[: args.batch_size], y_fit[: args.batch_size])
    # Warm-up with a full batch: compiles the predict function that both
    # predict_proba and model_.predict then reuse (same batch shape).
    clf.predict_proba(X_pred[: args.batch_size])
    clf.model_.predict_on_batch(X_pred[: args.batch_size])

    def bare():
        return clf.model_.predict(X_pred, batch_size=args.batch_size, verbose=0)

    def proba():
        return clf.predict_proba(X_pred)

    def torch_pred():
        return torch_predict(tmodel, x_pred_t, args.batch_size)

    def on_batch():
        # The same compiled forward pass without Keras' predict loop and its
        # data pipeline (tf.data on TensorFlow): shows what that loop costs.
        return np.concatenate([
            clf.model_.predict_on_batch(X_pred[i : i + args.batch_size])
            for i in range(0, len(X_pred), args.batch_size)
        ])

    times = {"torch": [], "proba": [], "bare": [], "on_batch": []}
    for r in range(args.repeats):
        # Alternate the order of the skdeepsea calls so none always follows
        # the PyTorch run (cache, thread-pool hand-over effects).
        order = [("torch", torch_pred), ("proba", proba), ("bare", bare), ("on_batch", on_batch)]
        if r % 2:
            order[1:] = order[:0:-1]
        for name, fn in order:
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    results["predict_seconds"] = times
    results["torch_predict_seq_s"] = args.n_predict / min(times["torch"])
    results["skdeepsea_predict_seq_s"] = args.n_predict / min(times["proba"])
    results["bare_predict_seq_s"] = args.n_predict / min(times["bare"])
    results["on_batch_predict_seq_s"] = args.n_predict / min(times["on_batch"])
    # Ratios of the calls made next to each other (same repeat), median over
    # repeats: load that drifts during the run cancels within a repeat, which
    # the best of each, taken from different repeats, does not do. The
    # overhead is a difference of a few percent, so it uses these.
    results["wrapper_overhead_pct"] = 100 * (
        statistics.median(p / b for p, b in zip(times["proba"], times["bare"])) - 1
    )
    results["wrapper_overhead_best_pct"] = 100 * (min(times["proba"]) / min(times["bare"]) - 1)
    results["predict_ratio_paired"] = statistics.median(
        t / p for t, p in zip(times["torch"], times["proba"])
    )
    # The timed overhead is a small difference of two large noisy times, so
    # also measure the wrapper's own work directly: predict_proba on a copy
    # whose network is a stub returning zeros (everything but the network),
    # and the input check alone (asarray, float32, isfinite).
    stub = copy.copy(clf)
    stub.model_ = _NoNetwork(N_OUTPUTS)
    results["wrapper_only_ms"] = 1e3 * best_of(lambda: stub.predict_proba(X_pred), 5)
    results["wrapper_only_pct"] = 100 * results["wrapper_only_ms"] / 1e3 / min(times["bare"])
    results["check_X_ms"] = 1e3 * best_of(lambda: clf._check_X(X_pred, fitting=False), 5)
    print(f"predict done ({time.perf_counter() - t_script:.0f} s)")
    sys.stdout.flush()

    # 2b + 3b. Training: one PyTorch epoch before and one after the skdeepsea
    # fit (best kept), so load that comes and goes during the fit does not
    # favour one side.
    optimizer = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    torch_train_epoch(tmodel, optimizer, x_fit_t[: args.batch_size], y_fit_t[: args.batch_size],
                      args.batch_size)  # warm-up step: allocates the momentum buffers

    def torch_train():
        return torch_train_epoch(tmodel, optimizer, x_fit_t, y_fit_t, args.batch_size)

    torch_train_seconds = [best_of(torch_train, 1)]
    fit_seq_s, setup, first_epoch = bench_skdeepsea_fit(
        X_fit, y_fit, args.batch_size, args.fit_epochs
    )
    torch_train_seconds.append(best_of(torch_train, 1))
    results["torch_train_seconds"] = torch_train_seconds
    results["torch_train_seq_s"] = args.n_fit / min(torch_train_seconds)
    results["skdeepsea_fit_seq_s"] = fit_seq_s
    results["skdeepsea_fit_setup_s"] = setup
    results["skdeepsea_fit_first_epoch_s"] = first_epoch
    print(f"training done ({time.perf_counter() - t_script:.0f} s)")
    sys.stdout.flush()

    # 4. OneHotDNA.
    results["onehot_float32_bases_s"] = bench_onehot(args.n_onehot, SEQUENCE_LENGTH, "float32", 3)
    results["onehot_uint8_bases_s"] = bench_onehot(args.n_onehot, SEQUENCE_LENGTH, "uint8", 3)

    gflops = max(gflops_start, bench_matmul(args.matmul_size, repeats=5))
    results["matmul_gflops"] = gflops
    results["ceiling_predict_seq_s"] = gflops * 1e9 / flops
    results["ceiling_train_seq_s"] = gflops * 1e9 / (3 * flops)

    # Ratios and targets.
    results["predict_ratio"] = results["skdeepsea_predict_seq_s"] / results["torch_predict_seq_s"]
    results["fit_ratio"] = results["skdeepsea_fit_seq_s"] / results["torch_train_seq_s"]
    results["load_avg_before"] = load_before
    results["load_avg_after"] = os.getloadavg()
    results["total_seconds"] = time.perf_counter() - t_script
    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
        print(f"wrote {args.json}")
    return results


def _backend_version(backend):
    if backend == "jax":
        import jax

        return jax.__version__
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.__version__
    return torch.__version__


def report(r):
    """Print the table, the ratios and the targets."""
    pc, tc = r["ceiling_predict_seq_s"], r["ceiling_train_seq_s"]

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    print()
    print(f"DeepSEA throughput, Keras backend {r['backend']}, {r['cores']} cores ({r['cpu']})")
    print(f"float32 matmul: {r['matmul_gflops']:.1f} GFLOP/s; DeepSEA forward "
          f"{r['forward_gflop_per_seq']:.3f} GFLOP/seq -> ceiling {pc:.0f} seq/s predict, "
          f"{tc:.0f} seq/s train (3x forward)")
    print()
    print(f"{'':32s}{'seq/s':>10s}{'of ceiling':>12s}")
    rows = [
        ("PyTorch eager predict", r["torch_predict_seq_s"], pc),
        ("skdeepsea predict_proba", r["skdeepsea_predict_seq_s"], pc),
        ("bare model_.predict", r["bare_predict_seq_s"], pc),
        ("model_.predict_on_batch loop", r["on_batch_predict_seq_s"], pc),
        ("PyTorch eager train", r["torch_train_seq_s"], tc),
        ("skdeepsea fit (per epoch)", r["skdeepsea_fit_seq_s"], tc),
    ]
    for name, value, ceiling in rows:
        print(f"{name:32s}{value:10.1f}{100 * value / ceiling:11.0f}%")
    print(f"skdeepsea fit, once per fit: {r['skdeepsea_fit_setup_s']:.1f} s before epoch 1 "
          f"(checks, build, compile), epoch 1 {r['skdeepsea_fit_first_epoch_s']:.1f} s "
          "(trace + one epoch)")
    print(f"{'OneHotDNA float32':32s}{r['onehot_float32_bases_s'] / 1e6:10.0f} M bases/s")
    print(f"{'OneHotDNA uint8':32s}{r['onehot_uint8_bases_s'] / 1e6:10.0f} M bases/s")
    print()
    print("targets (informational):")
    print(f"  predict_proba / PyTorch predict  {r['predict_ratio']:6.2f}x  (>= 1.1x)  "
          f"{verdict(r['predict_ratio'] >= TARGETS['predict_ratio'])}"
          f"   [paired median {r['predict_ratio_paired']:.2f}x]")
    print(f"  fit / PyTorch train              {r['fit_ratio']:6.2f}x  (>= 1.0x)  "
          f"{verdict(r['fit_ratio'] >= TARGETS['fit_ratio'])}")
    print(f"  wrapper overhead                 {r['wrapper_overhead_pct']:+6.1f}%  (<= 5%)    "
          f"{verdict(r['wrapper_overhead_pct'] <= TARGETS['wrapper_overhead_pct'])}"
          f"   [paired median; best/best {r['wrapper_overhead_best_pct']:+.1f}%]")
    print(f"    wrapper's own work, measured alone: {r['wrapper_only_ms']:.2f} ms per call "
          f"= {r['wrapper_only_pct']:.3f}% of model_.predict (_check_X {r['check_X_ms']:.2f} ms)")
    onehot = min(r["onehot_float32_bases_s"], r["onehot_uint8_bases_s"])
    print(f"  OneHotDNA (slower dtype)         {onehot / 1e6:6.0f} M bases/s (>= 100 M)  "
          f"{verdict(onehot >= TARGETS['onehot_bases_per_s'])}")
    print(f"load average before {r['load_avg_before']}, after {r['load_avg_after']}; "
          f"total {r['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
