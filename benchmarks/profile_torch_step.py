"""Where a torch-backend training step spends its time, beside plain PyTorch's (issue 22).

Profiles (``torch.profiler``, CPU and, on a GPU, CUDA activity) the second epoch of
``DeepSEAClassifier.fit`` on the torch backend (full-size network, SGD, the regularizers,
reverse complements) and the same number of steps of ``bench_core``'s regularized PyTorch
reference on the same device, and prints for each the wall time per step and the operators
that take the most host time and the most device time. Not a benchmark with a target: it
says where the torch backend's extra time goes.

Run from the repository root::

    KERAS_BACKEND=torch python benchmarks/profile_torch_step.py [--batch 256] [--steps 20]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile  # noqa: E402

import keras  # noqa: E402
from _common import random_onehot, random_targets, torch_deepsea  # noqa: E402
from bench_core import torch_optimizer, torch_train_epoch  # noqa: E402
from skdeepsea import DeepSEAClassifier  # noqa: E402


def table(prof, sort, n):
    return prof.key_averages().table(sort_by=sort, row_limit=n, max_name_column_width=60)


def activities(cuda):
    return [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])


def profile_fit(X, Y, batch, cuda):
    """Profile fit's second epoch (the first traces and warms up)."""
    prof = profile(activities=activities(cuda))
    clock = {}

    class Profiled(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                prof.__enter__()
                clock["start"] = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                float(logs["loss"])  # waits for the epoch's last step
                if cuda:
                    torch.cuda.synchronize()
                clock["seconds"] = time.perf_counter() - clock["start"]
                prof.__exit__(None, None, None)

    saved = keras.callbacks.CallbackList.__init__

    def with_profiler(self, callbacks=None, **kwargs):  # the estimator passes its own list
        saved(self, (list(callbacks) if callbacks else []) + [Profiled()], **kwargs)

    keras.callbacks.CallbackList.__init__ = with_profiler
    try:
        DeepSEAClassifier(batch_size=batch, epochs=2, optimizer="sgd", random_state=0,
                          verbose=0).fit(X, Y)
    finally:
        keras.callbacks.CallbackList.__init__ = saved
    return prof, clock["seconds"]


def profile_reference(X, Y, batch, device, cuda):
    torch.manual_seed(0)
    model = torch_deepsea().to(device)
    optimizer = torch_optimizer(model, l2=5e-7)
    x = torch.from_numpy(np.ascontiguousarray(X.transpose(0, 2, 1), dtype=np.float32)).to(device)
    y = torch.from_numpy(Y.astype(np.float32)).to(device)
    torch_train_epoch(model, optimizer, x[: 2 * batch], y[: 2 * batch], batch)  # warm-up
    if cuda:
        torch.cuda.synchronize()
    with profile(activities=activities(cuda)) as prof:
        start = time.perf_counter()
        torch_train_epoch(model, optimizer, x, y, batch)
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return prof, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20, help="steps of each profiled epoch")
    parser.add_argument("--rows", type=int, default=18, help="operators listed per table")
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    # fit adds the reverse complements: n sequences make 2 n samples, steps of `batch`.
    n = args.steps * args.batch // 2
    X = random_onehot(n, 1000, seed=1)
    Y = random_targets(n, seed=2)
    fit_prof, fit_s = profile_fit(X, Y, args.batch, cuda)
    ref_prof, ref_s = profile_reference(np.concatenate([X, X[:, ::-1, ::-1]]),
                                        np.concatenate([Y, Y]), args.batch, device, cuda)
    print(f"device {torch.cuda.get_device_name() if cuda else 'cpu'}, batch {args.batch}, "
          f"{args.steps} steps: fit {1000 * fit_s / args.steps:.1f} ms/step, "
          f"reference {1000 * ref_s / args.steps:.1f} ms/step")
    for name, prof in (("torch backend fit", fit_prof), ("PyTorch reference", ref_prof)):
        print(f"\n=== {name}: by host time (self CPU)")
        print(table(prof, "self_cpu_time_total", args.rows))
        if cuda:
            print(f"=== {name}: by device time")
            print(table(prof, "self_cuda_time_total", args.rows))


if __name__ == "__main__":
    main()
