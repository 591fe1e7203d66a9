"""Helpers shared by the benchmark scripts (not a benchmark itself).

Everything here uses only skdeepsea's public estimator API and public Keras
classes, so the scripts keep working while the training engine changes:

- :func:`forward_macs`: DeepSEA's multiply-adds per sequence from the layer
  shapes (any width), for FLOP rates;
- :func:`torch_deepsea`: the same network in plain ``torch.nn`` (the
  reference the issues compare against);
- :func:`random_onehot`, :func:`random_targets`: seeded synthetic data;
- :class:`EpochClock` and :func:`time_fit`: the steady-state training rate of
  ``DeepSEAClassifier.fit``, compilation excluded;
- :func:`run_part`: runs one measurement, printing an error line instead of
  stopping the script when it fails;
- small summaries (:func:`spread`), machine facts and :func:`write_json`.
"""

import contextlib
import os
import platform
import statistics
import sys
import time
import traceback

import numpy as np

# DeepSEA's released architecture.
SEQUENCE_LENGTH = 1000
N_OUTPUTS = 919
DEEPSEA = dict(conv_filters=(320, 480, 960), kernel_size=8, pool_size=4, fc_units=925,
               dropout=(0.2, 0.2, 0.5))


# ---------------------------------------------------------------------------- machine


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


def versions():
    """Versions of Python and of the libraries that are imported (none is imported here)."""
    out = {"python": platform.python_version()}
    for name in ("numpy", "keras", "jax", "torch", "tensorflow", "skdeepsea"):
        module = sys.modules.get(name)
        if module is not None:
            out[name] = getattr(module, "__version__", "?")
    return out


# ---------------------------------------------------------------------------- network size


def forward_macs(conv_filters=DEEPSEA["conv_filters"], kernel_size=DEEPSEA["kernel_size"],
                 pool_size=DEEPSEA["pool_size"], fc_units=DEEPSEA["fc_units"],
                 n_outputs=N_OUTPUTS, length=SEQUENCE_LENGTH, channels=4, **_):
    """Multiply-adds of one forward pass: every convolution and dense layer.

    Valid convolutions of stride 1, max pooling after every convolution but
    the last. Bias adds, ReLU, pooling and the sigmoid are left out (under
    0.1% for DeepSEA). The full network: 549.6 M, i.e. 1.099 GFLOP.
    """
    macs = 0
    for i, filters in enumerate(conv_filters):
        length = length - kernel_size + 1
        macs += length * filters * kernel_size * channels
        channels = filters
        if i < len(conv_filters) - 1:
            length //= pool_size
    flat = length * channels  # 53 x 960 = 50,880 for DeepSEA
    macs += flat * fc_units + fc_units * n_outputs
    return macs


def train_flops(arch, length=SEQUENCE_LENGTH):
    """FLOPs of one training sequence: 3 x the forward pass (forward, two backward
    products), 2 FLOP per multiply-add."""
    return 3 * 2 * forward_macs(**arch, length=length)


def torch_deepsea(conv_filters=DEEPSEA["conv_filters"], kernel_size=DEEPSEA["kernel_size"],
                  pool_size=DEEPSEA["pool_size"], fc_units=DEEPSEA["fc_units"],
                  dropout=DEEPSEA["dropout"], n_outputs=N_OUTPUTS, length=SEQUENCE_LENGTH):
    """DeepSEA in plain torch.nn, channels-first input (N, 4, L), returning logits.

    Conv1d 4->320 k8, ReLU, MaxPool 4, Dropout .2, Conv1d 320->480 k8, ReLU,
    MaxPool 4, Dropout .2, Conv1d 480->960 k8, ReLU, Dropout .5, Flatten,
    Linear 50880->925, ReLU, Linear 925->919. The sigmoid is left to the
    caller: ``torch.sigmoid`` for predictions, ``BCEWithLogitsLoss`` for
    training (plain ``BCELoss`` is refused under CUDA autocast).
    """
    import torch

    nn = torch.nn
    layers, channels = [], 4
    for i, filters in enumerate(conv_filters):
        layers += [nn.Conv1d(channels, filters, kernel_size), nn.ReLU()]
        length = length - kernel_size + 1
        if i < len(conv_filters) - 1:
            layers.append(nn.MaxPool1d(pool_size, pool_size))
            length //= pool_size
        layers.append(nn.Dropout(dropout[i]))
        channels = filters
    layers += [nn.Flatten(), nn.Linear(length * channels, fc_units), nn.ReLU(),
               nn.Linear(fc_units, n_outputs)]
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------- data


def random_onehot(n, length=SEQUENCE_LENGTH, seed=0, dtype=np.uint8):
    """n random one-hot sequences, shape (n, length, 4)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, length, 4), dtype=dtype)
    X[np.arange(n)[:, None], np.arange(length)[None, :], rng.integers(0, 4, (n, length))] = 1
    return X


def random_targets(n, n_targets=N_OUTPUTS, seed=1, rate=0.05):
    """0/1 uint8 targets, about `rate` of them ones."""
    return (np.random.default_rng(seed).random((n, n_targets)) < rate).astype(np.uint8)


# ---------------------------------------------------------------------------- fit timing


class EpochClock:
    """Wall-clock start and end of every Keras training epoch while active.

    Wraps ``keras.callbacks.CallbackList.on_epoch_begin`` / ``on_epoch_end``,
    which every ``keras.Model.fit`` calls, whatever code calls ``fit`` and
    whatever callbacks it passes; the estimator itself runs unchanged. At an
    epoch's end the logs are read as Python floats first, which waits for the
    epoch's last step (JAX and the GPU run asynchronously), so each interval
    holds exactly its epoch's work. ``between(epoch)``, if given, runs after
    each epoch's end is recorded and before the next epoch's start: the work
    it does is in no epoch's interval (bench_core.py runs its PyTorch
    reference there, to interleave the two).

    If the engine trains without ``keras.Model.fit``, nothing is recorded:
    :func:`time_fit` then falls back to timing whole fits.
    """

    def __init__(self, between=None):
        self.between = between
        self.begins, self.ends = [], []

    def __enter__(self):
        import keras

        cls = keras.callbacks.CallbackList
        self._cls = cls
        self._saved = {name: cls.__dict__.get(name) for name in ("on_epoch_begin", "on_epoch_end")}
        begin, end, clock = cls.on_epoch_begin, cls.on_epoch_end, self

        def on_epoch_begin(self_, epoch, logs=None):
            clock.begins.append(time.perf_counter())
            return begin(self_, epoch, logs)

        def on_epoch_end(self_, epoch, logs=None):
            for value in (logs or {}).values():
                with contextlib.suppress(TypeError, ValueError):
                    float(value)  # waits for the device
            clock.ends.append(time.perf_counter())
            result = end(self_, epoch, logs)
            if clock.between is not None:
                clock.between(epoch)
            return result

        cls.on_epoch_begin, cls.on_epoch_end = on_epoch_begin, on_epoch_end
        return self

    def __exit__(self, *exc):
        for name, original in self._saved.items():
            if original is None:
                delattr(self._cls, name)
            else:
                setattr(self._cls, name, original)
        return False

    def durations(self):
        """Seconds of each complete epoch, in order."""
        return [e - b for b, e in zip(self.begins, self.ends)]


def time_fit(make_estimator, X, y, epochs, samples_per_epoch):
    """Steady-state training rate of ``make_estimator(epochs).fit(X, y)``.

    Every fit builds a new network and traces / compiles its train step in
    its first epoch, so epoch 1 is left out: the rate is the samples of
    epochs 2..``epochs`` over their summed durations (:class:`EpochClock`).
    If no epochs were seen (an engine that does not train through
    ``keras.Model.fit``), it is taken from two whole fits instead:
    ``(epochs - 1) * samples_per_epoch / (T(epochs) - T(1))``.

    Returns (dict of figures, the fitted estimator of ``epochs`` epochs).
    """
    if epochs < 2:
        raise ValueError("epochs must be at least 2: the first one holds the compilation")
    with EpochClock() as clock:
        clf = make_estimator(epochs)
        start = time.perf_counter()
        clf.fit(X, y)
        total = time.perf_counter() - start
    durations = clock.durations()
    if len(durations) >= epochs:
        steady = durations[-(epochs - 1):]
        return dict(seq_s=samples_per_epoch * len(steady) / sum(steady), method="epochs",
                    epoch_s=durations, first_epoch_s=durations[-epochs],
                    fixed_s=total - sum(durations), total_s=total), clf
    start = time.perf_counter()
    make_estimator(1).fit(X, y)
    one = time.perf_counter() - start
    return dict(seq_s=samples_per_epoch * (epochs - 1) / (total - one), method="difference",
                total_s=total, one_epoch_total_s=one), clf


# ---------------------------------------------------------------------------- reporting


def spread(values):
    """Median, min and max of a list of numbers (NaN-free)."""
    return dict(median=statistics.median(values), min=min(values), max=max(values),
                values=list(values))


def fmt_spread(s, digits=1, suffix=""):
    """'median [min, max]' of a :func:`spread`."""
    return (f"{s['median']:.{digits}f}{suffix} [{s['min']:.{digits}f}, "
            f"{s['max']:.{digits}f}]")


def write_json(path, results):
    """Write a script's figures to ``path`` (``--json``), if given, and say so."""
    import json

    if path:
        with open(path, "w") as f:
            json.dump(results, f, indent=1)
        print(f"wrote {path}")


def run_part(name, fn, results, errors):
    """results[name] = fn(); on an exception print one error line and go on."""
    start = time.perf_counter()
    try:
        results[name] = fn()
    except Exception as exc:  # noqa: BLE001 - a benchmark part must not stop the others
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        errors[name] = message
        print(f"ERROR in {name}: {message}", flush=True)
        if os.environ.get("BENCH_TRACEBACK"):
            traceback.print_exc()
        return None
    print(f"  [{name}: {time.perf_counter() - start:.1f} s]", flush=True)
    return results[name]
