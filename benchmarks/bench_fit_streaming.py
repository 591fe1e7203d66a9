"""Fit from disk against fit from memory, on the same samples, in the same run.

``DeepSEAClassifier.fit`` trains on in-memory arrays through Keras' own array
pipeline, and on lazy inputs (an ``h5py.Dataset``, a ``numpy.memmap``, a data
set of :func:`skdeepsea.data.open_dataset`) through skdeepsea's streaming
``PyDataset``: contiguous block reads, a seeded shuffle buffer, reverse
complements and float conversion per batch, the next buffer read in a
background thread. This script times both on the same random one-hot samples
and targets and prints each disk-backed fit's time as a ratio to the
in-memory fit (the issue's target: within 10%, i.e. ratio <= 1.10).

Inputs, each holding the same ``--n`` samples of ``--length`` bp and
``--targets`` 0/1 targets:

- ``memory``: a uint8 NumPy array (the classifier converts it to float32 and
  appends the reverse complements, as it always does in memory);
- ``hdf5``: an ``h5py.Dataset`` of uint8, chunked by 256 samples;
- ``memmap``: a ``.npy`` file opened with ``mmap_mode="r"``;
- ``stream``: skdeepsea's streaming file (``skdeepsea.data.write_dataset``,
  bit-packed), read through ``open_dataset`` (skipped when skdeepsea.data is
  not installed).

The fits alternate (memory, hdf5, memmap, stream, memory, ...) ``--repeats``
times with the same ``random_state``; each kind's best (shortest) time is
reported, the usual estimate of undisturbed speed on a shared machine, and
the median ratio of each repeat's pair. Every fit builds and compiles a new
network, in every kind alike; one untimed fit first pays the process's
one-time imports and compilation. The files are freshly written and so in the
page cache: this measures the pipeline, not the disk.

The network is DeepSEA's structure at a reduced width by default (``--width
small``: 32/48/96 filters, 64 hidden units), where input handling weighs
relatively more than with the full 52 M-parameter network (``--width full``),
so the comparison is stricter.

Run from the repository root::

    KERAS_BACKEND=jax /work/venv/bin/python benchmarks/bench_fit_streaming.py
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import h5py  # noqa: E402
import keras  # noqa: E402

from skdeepsea import DeepSEAClassifier  # noqa: E402

WIDTHS = {
    "small": dict(conv_filters=(32, 48, 96), fc_units=64),
    "full": dict(conv_filters=(320, 480, 960), fc_units=925),
}


def make_data(n, length, n_targets, seed=0):
    """Random one-hot uint8 sequences and sparse 0/1 targets."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, length, 4), dtype=np.uint8)
    X[np.arange(n)[:, None], np.arange(length)[None, :], rng.integers(0, 4, (n, length))] = 1
    Y = (rng.random((n, n_targets)) < 0.05).astype(np.uint8)
    return X, Y


def write_inputs(folder, X, Y):
    """Write the disk-backed copies; return {kind: (fit argument, y argument, closer)}."""
    inputs = {"memory": (X, Y, None)}
    path = os.path.join(folder, "data.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=(256,) + X.shape[1:])
        f.create_dataset("y", data=Y, chunks=(256, Y.shape[1]))
    h5 = h5py.File(path, "r")
    inputs["hdf5"] = (h5["x"], h5["y"], h5.close)
    np.save(os.path.join(folder, "x.npy"), X)
    np.save(os.path.join(folder, "y.npy"), Y)
    inputs["memmap"] = (np.load(os.path.join(folder, "x.npy"), mmap_mode="r"),
                        np.load(os.path.join(folder, "y.npy"), mmap_mode="r"), None)
    try:
        from skdeepsea import data
    except ImportError:
        return inputs
    stream_path = os.path.join(folder, "data.stream.h5")
    data.write_dataset(stream_path, X, Y, alphabet="ATGC")
    dataset = data.open_dataset(stream_path, alphabet="ATGC")
    inputs["stream"] = (dataset, None, dataset.close)
    return inputs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=2048, help="samples")
    parser.add_argument("--length", type=int, default=1000, help="sequence length (bp)")
    parser.add_argument("--targets", type=int, default=919, help="targets per sample")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--width", choices=sorted(WIDTHS), default="small")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    X, Y = make_data(args.n, args.length, args.targets)
    params = dict(WIDTHS[args.width], epochs=args.epochs, batch_size=args.batch_size,
                  random_state=0, optimizer="sgd")
    print(f"backend {keras.backend.backend()}, {args.n} samples x {args.length} bp x "
          f"{args.targets} targets, {args.epochs} epochs (+ reverse complements), batch "
          f"{args.batch_size}, width {args.width}, {args.repeats} repeats", flush=True)
    times = {}
    with tempfile.TemporaryDirectory() as folder:
        inputs = write_inputs(folder, X, Y)
        # Untimed: the first fit of a process pays one-time imports and compilation.
        DeepSEAClassifier(**dict(params, epochs=1)).fit(X[:256], Y[:256])
        for repeat in range(args.repeats):
            for kind, (X_fit, y_fit, _) in inputs.items():
                clf = DeepSEAClassifier(**params)
                start = time.perf_counter()
                clf.fit(X_fit, y_fit)
                elapsed = time.perf_counter() - start
                times.setdefault(kind, []).append(elapsed)
                print(f"  repeat {repeat + 1} {kind:7s} {elapsed:7.2f} s "
                      f"({clf.n_steps_} steps, final loss {clf.history_['loss'][-1]:.4f})",
                      flush=True)
        for _, _, close in inputs.values():
            if close is not None:
                close()

    samples = 2 * args.n * args.epochs
    best_memory = min(times["memory"])
    results = {"backend": keras.backend.backend(), "args": vars(args),
               "machine": platform.processor() or platform.machine(),
               "load_average": os.getloadavg(), "times_s": times, "kinds": {}}
    print(f"\n{'input':8s} {'best s':>8s} {'samples/s':>10s} {'best/memory':>12s} "
          f"{'median ratio':>13s}")
    for kind, values in times.items():
        ratios = [t / m for t, m in zip(values, times["memory"])]
        best_ratio = min(values) / best_memory
        results["kinds"][kind] = dict(best_s=min(values), samples_per_s=samples / min(values),
                                      best_ratio=best_ratio, median_ratio=statistics.median(ratios))
        verdict = "" if kind == "memory" else ("  PASS" if best_ratio <= 1.10 else "  FAIL")
        print(f"{kind:8s} {min(values):8.2f} {samples / min(values):10.0f} {best_ratio:12.3f} "
              f"{statistics.median(ratios):13.3f}{verdict}")
    print(f"load average at the end: {os.getloadavg()}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
