"""DeepSEA training and prediction speed on one GPU: plain PyTorch vs skdeepsea (issue 9).

One run, one device, prints sequences/s of:

1. **The card's bf16 rate**: a large ``torch`` bf16 matrix product
   (8192^3 by default; 2 N^3 FLOP each), the denominator of every
   "% of bf16 matmul" figure.
2. **Plain PyTorch** (the full DeepSEA network written in ``torch.nn``, see
   ``_common.torch_deepsea``; SGD with momentum, ``BCEWithLogitsLoss``; data
   already on the device; default PyTorch settings): training in eager fp32
   and eager bf16 autocast at batch 256, unregularized and with DeepSEA's
   objective written as a PyTorch user writes it (``bench_core``'s reference:
   L2 as the kernels' weight decay, L1 on the hidden outputs, ``renorm_``
   after each step), eager bf16 at batch 1024, and
   ``torch.compile`` bf16 at batch 256; prediction (sigmoid outputs left on
   the device) in eager fp32, eager bf16 and compiled bf16 at the predict
   batch (1024).
3. **skdeepsea on the current Keras backend** (``KERAS_BACKEND`` from the
   environment): ``DeepSEAClassifier.fit`` on in-memory uint8 X in fp32 at
   batch 256 and with ``mixed_precision="bfloat16"`` at batch 256 and 1024;
   ``fit`` streamed from a uint8 ``.npy`` memmap (bf16, batch 256); on JAX,
   ``fit`` with ``data_parallel=True`` over all the machine's devices (bf16,
   batch 256; issue 23);
   ``predict_proba`` in fp32 and bf16 on one strand (``strand="forward"``)
   and bf16 strand-averaged. Fits use the estimator's defaults otherwise:
   SGD, the regularizers, reverse-complement augmentation (so an epoch is 2 x
   ``--n-fit`` sequences).

4. **Variant scoring** (issue 10): ``write_variant_scores`` end to end (a
   VCF of random SNVs of a random genome on disk to an HDF5 file) with
   ``method="device"`` (each reference window sent once as uint8, the
   alternative and both reverse complements made in the compiled step; what
   ``"auto"`` picks on a GPU) and ``method="naive"`` (the four windows made
   on the host), in variants/s, against the four-pass bound: the bare
   ``model_.predict`` on ``4 x n`` one-hot windows on the same device in the
   same run, same batch (untrained full-size network, fp32).

and then the ratios that issue 9 sets targets for: streamed / in-memory fit
(>= 0.9), averaged / one-strand predict (>= 0.5), skdeepsea / plain PyTorch
eager at the same precision and batch for fit and predict (>= 1.0, a target for
the torch backend; printed for every backend), and the training FLOP rate of
bf16 at batch 1024 as a fraction of the measured bf16 matmul rate (>= 0.4).
Training FLOPs are counted from the layer shapes: 3 x the forward pass, 2 FLOP
per multiply-add (1.099 GFLOP forward, 3.297 GFLOP trained, per 1000 bp
sequence).

Timing: plain PyTorch is timed over windows of steps after warm-up steps (the
compilation of ``torch.compile`` among them), ``torch.cuda.synchronize()``
around each window, median of ``--repeats`` windows. skdeepsea's ``fit`` is
timed per epoch from Keras' epoch callbacks (``_common.EpochClock``), the
first epoch (trace and compile) left out; ``predict_proba`` after one
untimed call, median of ``--repeats`` calls (it returns host arrays, so each
call is complete when it returns). Synthetic random one-hot data, fixed
seeds. Every part is independent: one that fails (say ``torch.compile``
unavailable) prints an ERROR line and the others still run; the JSON file is
rewritten after every part, so a run cut short keeps what it measured.

Run from the repository root, once per Keras backend (on an H200, with
``--n-fit 16384 --n-predict 32768``: 172 s on JAX, 131 s on torch; figures in
RESULTS.md)::

    KERAS_BACKEND=jax   python benchmarks/bench_gpu.py --json gpu-jax.json
    KERAS_BACKEND=torch python benchmarks/bench_gpu.py --json gpu-torch.json

``--quick`` shrinks everything (a narrow network, a few hundred sequences) so
that the whole script runs on a CPU in about a minute, as a smoke test; its
figures mean nothing. ``--parts`` runs a subset (``--help`` lists them).
JAX is capped to 45% of the GPU's memory (``XLA_PYTHON_CLIENT_MEM_FRACTION``,
unless set) and TensorFlow allocates as it goes, so that PyTorch and the
Keras backend share the card in one process.
"""

import os

# Before any framework is imported: leave room on the card for both PyTorch
# and the Keras backend (JAX would take 75% of it up front, TensorFlow all).
os.environ.setdefault("XLA_PYTHON_CLIENT_MEM_FRACTION", "0.45")
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

import torch  # noqa: E402

import skdeepsea  # noqa: E402, F401  (picks the Keras backend when KERAS_BACKEND is unset)
import keras  # noqa: E402
from skdeepsea import DeepSEAClassifier  # noqa: E402

from _common import (  # noqa: E402
    DEEPSEA, SEQUENCE_LENGTH, cpu_model, forward_macs, n_cores, random_onehot, random_targets, run_part,
    time_fit, torch_deepsea, train_flops, versions,
)

# Sizes of a real run and of --quick (a smoke test on a CPU).
CONFIGS = {
    "full": dict(arch=DEEPSEA, length=SEQUENCE_LENGTH, n_fit=32768, n_predict=65536, epochs=3,
                 matmul_size=8192, window_samples=25600, warmup_steps=5, repeats=3,
                 batch=256, large_batch=1024, predict_batch=1024, n_variants=10000,
                 contig_length=2_000_000),
    # A narrow network on 200 bp with small batches: every code path, in seconds.
    "quick": dict(arch=dict(conv_filters=(16, 24, 48), kernel_size=8, pool_size=4, fc_units=32,
                            dropout=(0.2, 0.2, 0.5)),
                  length=200, n_fit=256, n_predict=512, epochs=2, matmul_size=512,
                  window_samples=256, warmup_steps=2, repeats=2,
                  batch=32, large_batch=64, predict_batch=64, n_variants=200,
                  contig_length=20_000),
}
PARTS = ("matmul", "torch", "fit", "predict", "variants")
TARGETS = {"streamed_vs_memory": 0.9, "averaged_vs_one_strand": 0.5, "vs_torch_eager": 1.0,
           "bf16_fraction_of_matmul": 0.4}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def keras_device():
    """Where the Keras backend computes, in words."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        d = jax.devices()[0]
        return f"jax {d.platform}: {getattr(d, 'device_kind', d)}"
    if backend == "torch":
        return "torch " + ("cuda: " + torch.cuda.get_device_name() if torch.cuda.is_available()
                           else "cpu")
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return "tensorflow " + (", ".join(g.name for g in gpus) if gpus else "cpu")
    return backend


# ---------------------------------------------------------------------------- 1. matmul


def bf16_matmul_tflops(device, size, iters=10):
    """TFLOP/s of a size^3 bf16 product, mean of `iters` after 3 warm-ups."""
    g = torch.Generator(device=device).manual_seed(0)
    a = torch.randn(size, size, device=device, dtype=torch.bfloat16, generator=g)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16, generator=g)
    for _ in range(3):
        a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(iters):
        a @ b
    sync(device)
    return 2 * size**3 * iters / (time.perf_counter() - start) / 1e12


# ---------------------------------------------------------------------------- 2. plain PyTorch


class TorchBench:
    """Plain PyTorch DeepSEA training and prediction, data already on the device."""

    def __init__(self, device, cfg):
        self.device, self.cfg = device, cfg

    def _pool(self, batch, seed):
        """4 batches of random one-hot x (channels first, float32) and 0/1 y, on the device."""
        x = random_onehot(4 * batch, self.cfg["length"], seed=seed,
                          dtype=np.float32).transpose(0, 2, 1)
        y = random_targets(4 * batch, seed=seed + 1).astype(np.float32)
        x = torch.from_numpy(np.ascontiguousarray(x)).to(self.device)
        y = torch.from_numpy(y).to(self.device)
        return list(zip(x.split(batch), y.split(batch)))

    def _autocast(self, precision):
        if precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _windows(self, step, n_steps, batch):
        """seq/s of `repeats` timed windows of n_steps steps, after warm-up steps."""
        for i in range(self.cfg["warmup_steps"]):
            step(i)
        sync(self.device)
        rates = []
        for _ in range(self.cfg["repeats"]):
            start = time.perf_counter()
            for i in range(n_steps):
                step(i)
            sync(self.device)
            rates.append(n_steps * batch / (time.perf_counter() - start))
        return dict(seq_s=statistics.median(rates), windows_seq_s=rates, batch=batch,
                    steps_per_window=n_steps)

    def train(self, precision, batch, compiled=False, regularized=False):
        """seq/s of training; ``regularized``: DeepSEA's objective as skdeepsea trains it,
        written the way a PyTorch user writes it (L2 as the kernels' weight decay, L1 on the
        hidden layer's outputs, max norm in place after each step; bench_core's reference)."""
        from bench_core import torch_optimizer

        torch.manual_seed(0)
        model = torch_deepsea(**self.cfg["arch"], length=self.cfg["length"])
        model = model.to(self.device).train()
        forward = torch.compile(model) if compiled else model
        optimizer = torch_optimizer(model, l2=5e-7 if regularized else 0.0)
        kernels = [m.weight for m in model if isinstance(m, (torch.nn.Conv1d, torch.nn.Linear))]
        loss_fn = torch.nn.BCEWithLogitsLoss()
        pool = self._pool(batch, seed=10)

        def step(i):
            x, y = pool[i % len(pool)]
            optimizer.zero_grad(set_to_none=True)
            with self._autocast(precision):
                if regularized:
                    hidden = model[:-1](x)
                    logits = model[-1](hidden)
                else:
                    logits = forward(x)
            loss = loss_fn(logits.float(), y)
            if regularized:
                loss = loss + 1e-8 * hidden.float().abs().sum(dim=1).mean()
            loss.backward()
            optimizer.step()
            if regularized:
                with torch.no_grad():
                    for w in kernels:
                        w.renorm_(2, 0, 0.9)

        n_steps = max(2, self.cfg["window_samples"] // batch)
        try:
            return self._windows(step, n_steps, batch)
        finally:
            del model, forward, optimizer, pool
            self._free()

    def predict(self, precision, batch, compiled=False):
        torch.manual_seed(0)
        model = torch_deepsea(**self.cfg["arch"], length=self.cfg["length"])
        model = model.to(self.device).eval()
        forward = torch.compile(model) if compiled else model
        pool = self._pool(batch, seed=20)

        def step(i):
            with torch.inference_mode(), self._autocast(precision):
                torch.sigmoid(forward(pool[i % len(pool)][0]))

        n_steps = max(2, self.cfg["n_predict"] // batch)
        try:
            return self._windows(step, n_steps, batch)
        finally:
            del model, forward, pool
            self._free()

    def _free(self):
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


# ---------------------------------------------------------------------------- 3. skdeepsea


class SkdeepseaBench:
    """DeepSEAClassifier fit and predict_proba through the public API only."""

    def __init__(self, cfg, folder):
        self.cfg = cfg
        n = cfg["n_fit"]
        self.X, self.Y = random_onehot(n, cfg["length"], seed=30), random_targets(n, seed=31)
        self.X_predict = random_onehot(cfg["n_predict"], cfg["length"], seed=32)
        np.save(os.path.join(folder, "x.npy"), self.X)
        np.save(os.path.join(folder, "y.npy"), self.Y)
        self.X_mm = np.load(os.path.join(folder, "x.npy"), mmap_mode="r")
        self.Y_mm = np.load(os.path.join(folder, "y.npy"), mmap_mode="r")
        self.fitted = {}  # precision -> a fitted estimator, for the predict parts

    def params(self, precision, batch):
        return dict(self.cfg["arch"], batch_size=batch, optimizer="sgd", random_state=0,
                    mixed_precision="bfloat16" if precision == "bf16" else None, verbose=0)

    def fit(self, precision, batch, streamed=False, data_parallel=False):
        params = dict(self.params(precision, batch), data_parallel=data_parallel)
        X, Y = (self.X_mm, self.Y_mm) if streamed else (self.X, self.Y)
        figures, clf = time_fit(lambda epochs: DeepSEAClassifier(**params, epochs=epochs), X, Y,
                                self.cfg["epochs"], samples_per_epoch=2 * len(X))
        figures["batch"] = batch
        if data_parallel:
            figures["devices"] = [str(d) for d in keras.distribution.list_devices()]
            return figures
        self.fitted.setdefault(precision, clf)
        return figures

    def predict(self, precision, strand):
        clf = self.fitted.get(precision)
        if clf is None:  # its fit part failed or was not run: a short fit of its own
            batch = self.cfg["predict_batch"]
            clf = DeepSEAClassifier(**self.params(precision, batch), epochs=1)
            n = 2 * batch
            clf.fit(self.X[:n], self.Y[:n])
            self.fitted[precision] = clf
        clf.set_params(strand=strand, batch_size=self.cfg["predict_batch"])
        clf.predict_proba(self.X_predict)  # untimed: traces / compiles the predict step
        seconds = []
        for _ in range(self.cfg["repeats"]):
            start = time.perf_counter()
            clf.predict_proba(self.X_predict)
            seconds.append(time.perf_counter() - start)
        n = len(self.X_predict)
        return dict(seq_s=n / statistics.median(seconds), calls_s=seconds,
                    batch=self.cfg["predict_batch"])


# ---------------------------------------------------------------------------- 4. variants


def variant_scoring(cfg, folder):
    """Variants/s of ``write_variant_scores`` (VCF on disk to HDF5), methods "device" and
    "naive", against the four-pass bound (bare ``model_.predict`` on 4 x n windows)."""
    from bench_variants import full_size_model, make_inputs

    from skdeepsea.variants import read_variant_scores, write_variant_scores
    from skdeepsea._backend import keras_on_accelerator

    n, length, batch = cfg["n_variants"], cfg["length"], cfg["predict_batch"]
    make_inputs(folder, [n], seed=40, contig_length=cfg["contig_length"])
    genome = os.path.join(folder, "genome.fa")
    vcf = os.path.join(folder, f"variants_{n}.vcf")
    model = full_size_model(length, batch, **cfg["arch"])
    X = random_onehot(4 * n, length, seed=41, dtype=np.float32)
    outputs = {m: os.path.join(folder, f"scores_{m}.h5") for m in ("device", "naive")}

    def score(method):
        write_variant_scores(model, vcf, genome, outputs[method], method=method,
                             chunk_size=min(n, 20000))

    model.model_.predict(X[:batch], batch_size=batch, verbose=0)  # untimed: compiles
    for method in outputs:
        score(method)
    seconds = {"bound": [], "device": [], "naive": []}
    for _ in range(cfg["repeats"]):  # interleaved
        start = time.perf_counter()
        model.model_.predict(X, batch_size=batch, verbose=0)
        seconds["bound"].append(time.perf_counter() - start)
        for method in outputs:
            start = time.perf_counter()
            score(method)
            seconds[method].append(time.perf_counter() - start)
    device, naive = (read_variant_scores(outputs[m]) for m in outputs)
    columns = [c for c in device.columns
               if ":" in c and c.split(":")[0] in ("ref", "alt", "diff")]
    rate = {k: n / statistics.median(v) for k, v in seconds.items()}
    return dict(n_variants=n, batch=batch, bound_variants_s=rate["bound"],
                device_variants_s=rate["device"], naive_variants_s=rate["naive"],
                device_vs_bound=rate["device"] / rate["bound"],
                naive_vs_bound=rate["naive"] / rate["bound"],
                auto_method="device" if keras_on_accelerator() else "fast or naive (CPU)",
                max_abs_difference=float(np.nanmax(np.abs(device[columns].to_numpy()
                                                          - naive[columns].to_numpy()))),
                seconds=seconds)


def report_variants(r):
    v = r["parts"].get("variants")
    if v is None:
        return
    print(f"\nvariant scoring, VCF to HDF5, {v['n_variants']} SNVs, batch {v['batch']} "
          f"(auto picks {v['auto_method']}):")
    print(f"  four-pass bound (model_.predict on 4 x n) {v['bound_variants_s']:10.0f} variants/s")
    for method in ("device", "naive"):
        print(f"  method={method!r:9s} {v[method + '_variants_s']:24.0f} variants/s  "
              f"{v[method + '_vs_bound']:.2f}x the bound")
    print(f"  max |device - naive| of ref/alt/diff: {v['max_abs_difference']:.1e}")


# ---------------------------------------------------------------------------- report


ROWS = [
    # (key, label, kind): kind is train or predict (for the FLOP count); {b}, {B}, {P}: the
    # batch, large batch and predict batch (256, 1024, 1024 in a full run)
    ("torch_train_fp32_b256", "PyTorch eager fp32 train, batch {b}", "train"),
    ("torch_train_bf16_b256", "PyTorch eager bf16 train, batch {b}", "train"),
    ("torch_train_bf16_b1024", "PyTorch eager bf16 train, batch {B}", "train"),
    ("torch_train_reg_fp32_b256", "PyTorch eager fp32 train, regularized, b{b}", "train"),
    ("torch_train_reg_bf16_b256", "PyTorch eager bf16 train, regularized, b{b}", "train"),
    ("torch_compile_train_bf16_b256", "PyTorch compile bf16 train, batch {b}", "train"),
    ("fit_fp32_b256", "skdeepsea fit fp32, batch {b}", "train"),
    ("fit_bf16_b256", "skdeepsea fit bf16, batch {b}", "train"),
    ("fit_bf16_b1024", "skdeepsea fit bf16, batch {B}", "train"),
    ("fit_bf16_b256_memmap", "skdeepsea fit bf16, batch {b}, memmap", "train"),
    ("fit_bf16_b256_data_parallel", "skdeepsea fit bf16, b{b}, all devices", "train"),
    ("torch_predict_fp32", "PyTorch eager fp32 predict, batch {P}", "predict"),
    ("torch_predict_bf16", "PyTorch eager bf16 predict, batch {P}", "predict"),
    ("torch_compile_predict_bf16", "PyTorch compile bf16 predict, batch {P}", "predict"),
    ("predict_fp32", "skdeepsea predict_proba fp32, 1 strand", "predict"),
    ("predict_bf16", "skdeepsea predict_proba bf16, 1 strand", "predict"),
    ("predict_bf16_averaged", "skdeepsea predict_proba bf16, averaged", "predict"),
]

RATIOS = [
    # (name, numerator, denominator, target)
    ("streamed / in-memory fit, bf16 b{b}", "fit_bf16_b256_memmap", "fit_bf16_b256",
     "streamed_vs_memory"),
    # data_parallel=True over every device of the machine (JAX): on one GPU, the cost of the
    # distribution path itself; on several, the scaling.
    ("data-parallel / one-device fit, bf16 b{b}", "fit_bf16_b256_data_parallel",
     "fit_bf16_b256", None),
    ("averaged / one-strand predict, bf16", "predict_bf16_averaged", "predict_bf16",
     "averaged_vs_one_strand"),
    # skdeepsea's fit trains DeepSEA's regularized objective: the regularized reference is
    # the one with a target, the unregularized one is printed beside it.
    ("fit / regularized PyTorch eager, fp32 b{b}", "fit_fp32_b256", "torch_train_reg_fp32_b256",
     "vs_torch_eager"),
    ("fit / regularized PyTorch eager, bf16 b{b}", "fit_bf16_b256", "torch_train_reg_bf16_b256",
     "vs_torch_eager"),
    ("fit / PyTorch eager, fp32 b{b}", "fit_fp32_b256", "torch_train_fp32_b256", None),
    ("fit / PyTorch eager, bf16 b{b}", "fit_bf16_b256", "torch_train_bf16_b256", None),
    ("fit / PyTorch eager, bf16 b{B}", "fit_bf16_b1024", "torch_train_bf16_b1024",
     "vs_torch_eager"),
    ("predict / PyTorch eager, fp32", "predict_fp32", "torch_predict_fp32", "vs_torch_eager"),
    ("predict / PyTorch eager, bf16", "predict_bf16", "torch_predict_bf16", "vs_torch_eager"),
    ("fit / PyTorch compile, bf16 b{b}", "fit_bf16_b256", "torch_compile_train_bf16_b256", None),
    ("PyTorch compile / eager, bf16 b{b}", "torch_compile_train_bf16_b256",
     "torch_train_bf16_b256", None),
]


def _label(text, args):
    return text.format(b=args["batch"], B=args["large_batch"], P=args["predict_batch"])


def summarize(r):
    """Add the FLOP rates and the ratios to the results."""
    parts, tf = r["parts"], r["matmul_bf16_tflops"]
    flops = {"train": train_flops(r["arch"], r["length"]),
             "predict": 2 * forward_macs(**r["arch"], length=r["length"])}
    for key, _, kind in ROWS:
        if key in parts and parts[key]:
            parts[key]["tflops"] = parts[key]["seq_s"] * flops[kind] / 1e12
            if tf:
                parts[key]["fraction_of_bf16_matmul"] = parts[key]["tflops"] / tf
    ratios = {}
    for name, num, den, target in RATIOS:
        if parts.get(num) and parts.get(den):
            ratios[_label(name, r["args"])] = dict(
                value=parts[num]["seq_s"] / parts[den]["seq_s"], target=target)
    big = parts.get("fit_bf16_b1024")
    if big and tf:
        ratios[_label("bf16 b{B} training / bf16 matmul rate", r["args"])] = dict(
            value=big["fraction_of_bf16_matmul"], target="bf16_fraction_of_matmul")
    r["ratios"] = ratios


def report(r):
    parts = r["parts"]
    print()
    print(f"DeepSEA on {r['device']}; Keras backend {r['backend']} on {r['keras_device']}")
    tf = r["matmul_bf16_tflops"]
    print(f"bf16 matmul {r['args']['matmul_size']}^3: "
          + (f"{tf:.1f} TFLOP/s" if tf else "not measured")
          + f"; training {train_flops(r['arch'], r['length']) / 1e9:.4g} GFLOP/seq, "
          f"forward {2 * forward_macs(**r['arch'], length=r['length']) / 1e9:.4g} GFLOP/seq "
          f"({r['length']} bp)")
    print(f"\n{'':42s}{'seq/s':>10s}{'TFLOP/s':>9s}{'of matmul':>11s}")
    for key, label, _ in ROWS:
        label = _label(label, r["args"])
        p = parts.get(key)
        if p is None:
            print(f"{label:42s}{'-' if key not in r['errors'] else 'ERROR':>10s}")
            continue
        frac = p.get("fraction_of_bf16_matmul")
        note = ""
        if p.get("method") == "difference":
            note = "  (whole-fit difference)"
        print(f"{label:42s}{p['seq_s']:10.0f}{p['tflops']:9.3g}"
              f"{'' if frac is None else f'{100 * frac:10.1f}%'}{note}")
    print("\nratios (targets from issue 9; the 1.0x against PyTorch applies to the torch backend)")
    for name, v in r["ratios"].items():
        target = TARGETS.get(v["target"])
        verdict = "" if target is None else (
            f"(>= {target})  " + ("PASS" if v["value"] >= target else "FAIL"))
        print(f"  {name:42s}{v['value']:7.2f}x  {verdict}")
    for name, message in r["errors"].items():
        print(f"  error in {name}: {message}")
    print(f"total {r['total_s']:.0f} s")


# ---------------------------------------------------------------------------- main


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and a narrow network: a smoke test (CPU, ~1 minute)")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="which groups to run (default: all)")
    parser.add_argument("--n-fit", type=int, help="sequences to fit on (x2 with reverse "
                        "complements); default 32768 (quick: 1024)")
    parser.add_argument("--n-predict", type=int, help="sequences per predict call; "
                        "default 65536 (quick: 2048)")
    parser.add_argument("--epochs", type=int, help="epochs per fit, >= 2, the first untimed; "
                        "default 3 (quick: 2)")
    parser.add_argument("--repeats", type=int, help="timed windows / calls; default 3")
    parser.add_argument("--matmul-size", type=int, help="N of the N^3 bf16 product; default 8192")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this file")
    args = parser.parse_args(argv)
    cfg = dict(CONFIGS["quick" if args.quick else "full"])
    for key in ("n_fit", "n_predict", "epochs", "repeats", "matmul_size"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    if cfg["epochs"] < 2:
        parser.error("--epochs must be at least 2")

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.type == "cpu":
        torch.set_num_threads(n_cores())
    device_name = (torch.cuda.get_device_name() if device.type == "cuda"
                   else f"cpu: {cpu_model()} ({n_cores()} cores)")
    r = dict(device=device_name, backend=keras.backend.backend(), keras_device=keras_device(),
             arch=cfg["arch"], length=cfg["length"],
             args=dict(cfg, quick=args.quick, parts=args.parts),
             versions=versions(), parts={}, errors={}, matmul_bf16_tflops=None,
             torch_flags=dict(cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                              matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
                              cudnn_benchmark=torch.backends.cudnn.benchmark))
    print(f"device {device_name}; Keras backend {r['backend']} on {r['keras_device']}; "
          f"{'quick (smoke test) ' if args.quick else ''}sizes {cfg}", flush=True)
    if device.type == "cuda" and "cpu" in r["keras_device"]:
        print("WARNING: PyTorch sees a GPU but the Keras backend runs on the CPU", flush=True)
    t0 = time.perf_counter()

    def save():
        r["total_s"] = time.perf_counter() - t0
        if args.json:
            with open(args.json, "w") as f:
                json.dump(r, f, indent=1)

    parts, errors = r["parts"], r["errors"]

    def part(name, fn):
        print(f"{name} ...", flush=True)
        run_part(name, fn, parts, errors)
        save()

    if "matmul" in args.parts:
        part("matmul_bf16", lambda: bf16_matmul_tflops(device, cfg["matmul_size"]))
        r["matmul_bf16_tflops"] = parts.pop("matmul_bf16", None)

    if "torch" in args.parts:
        tb = TorchBench(device, cfg)
        part("torch_train_fp32_b256", lambda: tb.train("fp32", cfg["batch"]))
        part("torch_train_bf16_b256", lambda: tb.train("bf16", cfg["batch"]))
        part("torch_train_reg_fp32_b256",
             lambda: tb.train("fp32", cfg["batch"], regularized=True))
        part("torch_train_reg_bf16_b256",
             lambda: tb.train("bf16", cfg["batch"], regularized=True))
        part("torch_train_bf16_b1024", lambda: tb.train("bf16", cfg["large_batch"]))
        part("torch_compile_train_bf16_b256", lambda: tb.train("bf16", cfg["batch"], True))
        part("torch_predict_fp32", lambda: tb.predict("fp32", cfg["predict_batch"]))
        part("torch_predict_bf16", lambda: tb.predict("bf16", cfg["predict_batch"]))
        part("torch_compile_predict_bf16", lambda: tb.predict("bf16", cfg["predict_batch"], True))
        if device.type == "cuda":
            torch.cuda.empty_cache()

    with tempfile.TemporaryDirectory() as folder:
        sk = None
        if "fit" in args.parts or "predict" in args.parts:
            sk = SkdeepseaBench(cfg, folder)
        if "fit" in args.parts:
            part("fit_fp32_b256", lambda: sk.fit("fp32", cfg["batch"]))
            part("fit_bf16_b256", lambda: sk.fit("bf16", cfg["batch"]))
            part("fit_bf16_b1024", lambda: sk.fit("bf16", cfg["large_batch"]))
            part("fit_bf16_b256_memmap", lambda: sk.fit("bf16", cfg["batch"], streamed=True))
            if keras.backend.backend() == "jax":  # Keras' distribution API: JAX only
                part("fit_bf16_b256_data_parallel",
                     lambda: sk.fit("bf16", cfg["batch"], data_parallel=True))
        if "predict" in args.parts:
            part("predict_fp32", lambda: sk.predict("fp32", "forward"))
            part("predict_bf16", lambda: sk.predict("bf16", "forward"))
            part("predict_bf16_averaged", lambda: sk.predict("bf16", "mean"))
        del sk  # closes nothing itself; the memmaps go with it before the folder does
        if "variants" in args.parts:
            part("variants", lambda: variant_scoring(cfg, folder))

    summarize(r)
    save()
    report(r)
    report_variants(r)
    return r


if __name__ == "__main__":
    main()
