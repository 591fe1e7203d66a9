"""Streaming benchmark: reading training batches from disk, no model.

Measures what the input pipeline of an out-of-core fit costs, for files of
DeepSEA's shape (1000 bp, 919 targets by default):

1. **Streaming file** (``skdeepsea.data.write_dataset``, bit-packed): read
   consecutive blocks of ``--block`` samples with ``open_dataset(...).X[a:b]``
   and ``.Y[a:b]`` (h5py read + ``np.unpackbits``), shuffle each block, and cut
   it into batches of ``--batch-size`` (a gather per batch), as uint8 and again
   cast to float32 (what a Keras model is fed). Samples/s, best of
   ``--passes`` passes over the file.
2. **Peak memory independent of the data set size.** Each size in ``--sizes``
   (default 20,000 and 200,000 samples) is streamed in its own subprocess,
   which reports its peak resident set size (VmHWM) after its imports and,
   peak reset, over the streaming passes. The target: the two peaks within 200 MB of each other.
3. **train.mat layout, for comparison** (``--mat73``): the same samples in
   the bundle's HDF5 layout, ``(1000, 4, N)`` as h5py sees it, read in blocks
   and one sample at a time at random, to show why the user guide says to
   convert it. The file here is contiguous and uncompressed (the best case);
   the real train.mat, written by MATLAB, is chunked and compressed.

Files go to ``--workdir`` (default: a temporary folder, deleted at the end).
Run from the repository root::

    /work/venv/bin/python benchmarks/bench_streaming.py --json /tmp/streaming.json
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

# The package under test, from this checkout rather than an installed copy.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

from skdeepsea.data import open_dataset  # noqa: E402
from skdeepsea.data._stream import StreamWriter  # noqa: E402

TARGET_RATE = 20_000
TARGET_RSS_MB = 200


def random_block(rng, n, length, n_targets):
    """Random one-hot sequences (about 1% N) and sparse 0/1 targets."""
    codes = rng.integers(0, 4, size=(n, length), dtype=np.uint8)
    codes[rng.random((n, length)) < 0.01] = 4
    X = np.eye(5, 4, dtype=np.uint8)[codes]
    Y = (rng.random((n, n_targets)) < 0.05).astype(np.uint8)
    return X, Y


def write_stream(path, n, length, n_targets, seed=0, block=8192, compression=None):
    rng = np.random.default_rng(seed)
    with StreamWriter(path, n, length, n_targets, compression=compression) as writer:
        for start in range(0, n, block):
            X, Y = random_block(rng, min(block, n - start), length, n_targets)
            writer.write(start, X, Y)


def write_mat73(path, n, length, n_targets, seed=0, block=8192):
    import h5py

    rng = np.random.default_rng(seed)
    with h5py.File(path, "w", userblock_size=512) as f:
        x = f.create_dataset("trainxdata", (length, 4, n), dtype=np.uint8)
        y = f.create_dataset("traindata", (n_targets, n), dtype=np.uint8)
        for start in range(0, n, block):
            X, Y = random_block(rng, min(block, n - start), length, n_targets)
            x[:, :, start:start + len(X)] = X[..., [0, 2, 1, 3]].transpose(1, 2, 0)
            y[:, start:start + len(X)] = Y.T


def _status_mb(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb():
    """Peak resident set size of this process (VmHWM). Unlike ru_maxrss, it does not
    inherit the parent's peak across fork + exec."""
    return _status_mb("VmHWM")


def reset_peak_rss():
    """Start a new peak from the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def stream_pass(data, batch_size, block, rng, as_float):
    """One pass: contiguous blocks, shuffled within, cut into batches. Returns samples/s."""
    n = len(data)
    start_time = time.perf_counter()
    seen = 0
    for start in range(0, n, block):
        X = data.X[start:start + block]
        Y = data.Y[start:start + block]
        order = rng.permutation(len(X))
        for b in range(0, len(X), batch_size):
            rows = order[b:b + batch_size]
            xb, yb = X[rows], Y[rows]
            if as_float:
                xb, yb = xb.astype(np.float32), yb.astype(np.float32)
            seen += len(xb)
    assert seen == n
    return n / (time.perf_counter() - start_time)


def child(args):
    """Stream one file in this process; print a JSON line."""
    result = {"path": args.child, "rss_imports_mb": peak_rss_mb()}
    result["peak_reset"] = reset_peak_rss()
    rng = np.random.default_rng(0)
    with open_dataset(args.child) as data:
        result["n"] = len(data)
        result["format"] = data.format
        if data.format == "stream":
            for as_float in (False, True):
                rates = [stream_pass(data, args.batch_size, args.block, rng, as_float)
                         for _ in range(args.passes)]
                result["float32" if as_float else "uint8"] = max(rates)
        else:
            start = time.perf_counter()
            for b in range(0, len(data), args.block):
                data.X[b:b + args.block], data.Y[b:b + args.block]
            result["mat73_blocks"] = len(data) / (time.perf_counter() - start)
            picks = rng.integers(0, len(data), size=200)
            start = time.perf_counter()
            for i in picks:
                data.X[int(i)], data.Y[int(i)]
            result["mat73_random"] = len(picks) / (time.perf_counter() - start)
    result["rss_peak_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run_child(path, args):
    command = [sys.executable, os.path.abspath(__file__), "--child", path,
               "--batch-size", str(args.batch_size), "--block", str(args.block),
               "--passes", str(args.passes)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=919)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--block", type=int, default=8192, help="samples per contiguous read")
    parser.add_argument("--passes", type=int, default=2, help="passes per measurement (best kept)")
    parser.add_argument("--mat73", type=int, default=20_000,
                        help="samples of the train.mat-layout comparison (0: skip)")
    parser.add_argument("--compression", choices=["lzf", "gzip"],
                        help="HDF5 compression of the streaming files (default: none)")
    parser.add_argument("--workdir", help="folder for the files (default: temporary)")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-streaming-")
    os.makedirs(workdir, exist_ok=True)
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                           "numpy": np.__version__, "load_before": os.getloadavg()},
               "args": {k: v for k, v in vars(args).items() if k != "child"}, "runs": []}
    try:
        for n in args.sizes:
            path = os.path.join(workdir, f"stream-{n}.h5")
            start = time.perf_counter()
            write_stream(path, n, args.length, args.targets, compression=args.compression)
            write_s = time.perf_counter() - start
            run = run_child(path, args)
            run.update(write_s=write_s, file_mb=os.path.getsize(path) / 2**20)
            results["runs"].append(run)
            print(f"stream n={n:>8}: {run['uint8']:>9,.0f} samples/s uint8, "
                  f"{run['float32']:>9,.0f} float32; peak RSS {run['rss_peak_mb']:.0f} MB "
                  f"(imports alone {run['rss_imports_mb']:.0f} MB); file {run['file_mb']:.0f} MB "
                  f"written in {write_s:.1f} s", flush=True)
            os.remove(path)
        if args.mat73:
            path = os.path.join(workdir, "train.mat")
            write_mat73(path, args.mat73, args.length, args.targets)
            run = run_child(path, args)
            results["mat73"] = run
            print(f"train.mat layout n={args.mat73}: {run['mat73_blocks']:,.0f} samples/s in "
                  f"blocks of {args.block}, {run['mat73_random']:,.0f} samples/s one at a time "
                  "at random", flush=True)
            os.remove(path)
    finally:
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["load_after"] = os.getloadavg()

    runs = results["runs"]
    slowest = min(min(r["uint8"], r["float32"]) for r in runs)
    spread = max(r["rss_peak_mb"] for r in runs) - min(r["rss_peak_mb"] for r in runs)
    print(f"\nload average before {results['machine']['load_before'][0]:.1f}, "
          f"after {results['machine']['load_after'][0]:.1f}")
    print(f"streaming >= {TARGET_RATE:,} samples/s: slowest {slowest:,.0f} "
          f"{'PASS' if slowest >= TARGET_RATE else 'FAIL'}")
    print(f"peak RSS spread across sizes <= {TARGET_RSS_MB} MB: {spread:.0f} MB "
          f"{'PASS' if spread <= TARGET_RSS_MB else 'FAIL'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
