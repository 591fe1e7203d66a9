"""Variant-scoring and in silico mutagenesis benchmark of skdeepsea.

One run measures, on the backend named by ``KERAS_BACKEND``:

1. **Variant throughput.** ``write_variant_scores`` (VCF -> windows -> network
   -> HDF5) on ``--n-variants`` random SNVs of a random genome, with a small
   1000 bp network, against the four-pass bound: the bare ``model_.predict`` on
   ``4 x n`` one-hot sequences (ref and alt, both strands), measured in the
   same run with the same batch size. The ratio (achieved / bound) above 1 is
   what reusing the reference windows' activations for the ALT alleles
   (``method="fast"``, the default's choice for DeepSEA's network) gains,
   net of reading, windowing, encoding and writing. The same ratio is
   measured with the full-size DeepSEA network on ``--n-full-size``
   variants, with ``method="naive"`` (four full passes) beside it.
2. **Peak memory.** The same pipeline on 10,000 and on 100,000 variants, each
   in its own subprocess (peak RSS, ``VmHWM`` of /proc/self/status), and the
   RSS before scoring (imports, model, compiled predict). Streaming keeps
   memory bounded by ``--chunk-size``, so the two peaks should be about equal.
3. **DeepSEA's disease step.** The same full-size run with ``significance=``
   (e-values against 919 backgrounds of 15,789 points, the functional
   significance score, three logistic regressions on 1,842 features: DeepSEA's
   published files with ``--deepsea-resources``, else random numbers of their
   sizes) against the run without it, interleaved: the ratio is the time
   without over the time with (1.0: free; the goal is at least 0.95).
4. **Mutagenesis.** ``in_silico_mutagenesis`` of ``--ism-positions`` positions
   (default: all 1000, 3,000 mutants) of a 1000 bp sequence, forward strand,
   with the full-size DeepSEA network (untrained weights: the cost does not
   depend on them), a small 32/48/96-filter network and a tiny 8/8/8 one:
   ``method="fast"`` against ``method="naive"``, their largest difference,
   and the method ``"auto"`` picks. The naive rate of the full-size network
   is measured on ``--ism-naive-positions`` positions: its cost per mutant
   (one full pass) does not depend on how many there are. The fast method
   runs twice: with its differences in one thread per core (the default)
   and in one thread, for the threads' same-run speed-up; each method's
   cores used are its CPU time / wall time (medians).

Timings are the best of ``--repeats`` (the usual estimate of undisturbed speed
on a shared machine), with the bound and the pipeline interleaved; the ratios
are also given from CPU time (``time.process_time``, all threads; medians),
which the other processes of a shared machine disturb far less than wall
time.

Run from the repository root::

    KERAS_BACKEND=jax /work/venv/bin/python benchmarks/bench_variants.py --json /tmp/variants.json
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

SMALL_NETWORK = dict(conv_filters=(16, 16, 32), dropout=(0.1, 0.1, 0.1), kernel_size=8,
                     pool_size=4, fc_units=32)
ISM_SMALL_NETWORK = dict(conv_filters=(32, 48, 96), dropout=(0.1, 0.1, 0.1), kernel_size=8,
                         pool_size=4, fc_units=64)
ISM_TINY_NETWORK = dict(conv_filters=(8, 8, 8), dropout=(0.1, 0.1, 0.1), kernel_size=8,
                        pool_size=4, fc_units=16)


def make_inputs(folder, sizes, seed=0, contig_length=2_000_000):
    """A 2-contig random genome and, per size, a VCF of that many random SNVs on it."""
    rng = np.random.default_rng(seed)
    genome = os.path.join(folder, "genome.fa")
    contigs = {}
    with open(genome, "w") as f:
        for name in ("chr1", "chr2"):
            seq = rng.choice(np.frombuffer(b"ACGT", dtype=np.uint8), contig_length).tobytes()
            contigs[name] = seq
            f.write(f">{name}\n")
            for i in range(0, contig_length, 80):
                f.write(seq[i:i + 80].decode() + "\n")
    for n_variants in sizes:
        with open(os.path.join(folder, f"variants_{n_variants}.vcf"), "w") as f:
            f.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
            chroms = rng.choice(["chr1", "chr2"], n_variants)
            positions = np.sort(rng.integers(1, contig_length + 1, n_variants))
            for chrom, pos in zip(chroms, positions):
                ref = chr(contigs[chrom][pos - 1])
                alt = "ACGT"[("ACGT".index(ref) + 1 + int(rng.integers(3))) % 4]
                f.write(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n")


def small_model(n_targets=20, seed=0):
    from skdeepsea import DeepSEAClassifier

    rng = np.random.default_rng(seed)
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (16, 1000))]
    y = rng.integers(0, 2, (16, n_targets))
    y[0], y[1] = 0, 1
    return DeepSEAClassifier(**SMALL_NETWORK, epochs=1, batch_size=128,
                             random_state=0).fit(X, y)


def full_size_model(length=1000, batch_size=64, **geometry):
    """A DeepSEAClassifier with the released architecture (or ``geometry``) on ``length``
    bp, 919 targets, untrained weights (the cost does not depend on them)."""
    from skdeepsea import DeepSEAClassifier
    from skdeepsea.network import build_deepsea

    model = DeepSEAClassifier(batch_size=batch_size)
    model.model_ = build_deepsea(length, 919, seed=0, **geometry)
    model.target_type_ = "multilabel-indicator"
    model.target_names_ = np.array([f"target_{i}" for i in range(919)])
    model.classes_ = np.arange(919)
    model.sequence_length_ = length
    model.n_features_in_ = 4 * length
    model.alphabet_ = "ATGC"
    return model


def _memory_mb(field):
    """VmRSS (now) or VmHWM (peak) of this process, from /proc (Linux), in MB.

    getrusage's ru_maxrss is kept across fork and exec on Linux, so a child
    would report its parent's peak; VmHWM belongs to the process image.
    """
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(n_variants, chunk_size, folder):
    """Score n variants to HDF5; print RSS (MB) before scoring and the peak RSS."""
    from skdeepsea.variants import write_variant_scores

    model = small_model()
    model.model_.predict(np.zeros((4, 1000, 4), np.float32), verbose=0)
    before = _memory_mb("VmRSS")  # imports, model, compiled predict
    genome = os.path.join(folder, "genome.fa")
    vcf = os.path.join(folder, f"variants_{n_variants}.vcf")
    out = os.path.join(folder, f"out_{n_variants}.h5")
    start = time.perf_counter()
    summary = write_variant_scores(model, vcf, genome, out, chunk_size=chunk_size)
    seconds = time.perf_counter() - start
    peak = _memory_mb("VmHWM")
    print(json.dumps({"n": n_variants, "scored": summary["scored"], "seconds": seconds,
                      "before_mb": before, "peak_mb": peak}))


def throughput(n_variants, chunk_size, repeats, folder):
    from skdeepsea.variants import write_variant_scores

    model = small_model()
    genome, vcf = os.path.join(folder, "genome.fa"), os.path.join(folder,
                                                                    f"variants_{n_variants}.vcf")
    rng = np.random.default_rng(1)
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (4 * n_variants, 1000))]
    model.model_.predict(X[:256], batch_size=model.batch_size, verbose=0)  # compile
    write_variant_scores(model, vcf, genome, os.path.join(folder, "warm.h5"),
                         chunk_size=chunk_size)
    bound, pipeline = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        model.model_.predict(X, batch_size=model.batch_size, verbose=0)
        bound.append(time.perf_counter() - start)
        start = time.perf_counter()
        write_variant_scores(model, vcf, genome, os.path.join(folder, "out.h5"),
                             chunk_size=chunk_size)
        pipeline.append(time.perf_counter() - start)
    return {"n_variants": n_variants, "bound_variants_per_s": n_variants / min(bound),
            "variants_per_s": n_variants / min(pipeline),
            "ratio": min(bound) / min(pipeline), "bound_s": bound, "pipeline_s": pipeline}


def full_size_throughput(n_variants, repeats, folder):
    """The same ratio with the full-size DeepSEA network (untrained weights), for the
    default method (auto: fast) and for four full passes (naive); max |difference|."""
    from skdeepsea.variants import read_variant_scores, write_variant_scores

    model = full_size_model()
    genome = os.path.join(folder, "genome.fa")
    vcf = os.path.join(folder, f"variants_{n_variants}.vcf")
    rng = np.random.default_rng(1)
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (4 * n_variants, 1000))]
    model.model_.predict(X, batch_size=model.batch_size, verbose=0)  # compile
    outputs = {m: os.path.join(folder, f"out_{m}.h5") for m in ("auto", "naive")}
    for method, out in outputs.items():
        write_variant_scores(model, vcf, genome, out, method=method)  # compile
    times = {"bound": [], "auto": [], "naive": []}
    cpu = {"bound": [], "auto": [], "naive": []}
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.model_.predict(X, batch_size=model.batch_size, verbose=0)
        times["bound"].append(time.perf_counter() - start)
        cpu["bound"].append(time.process_time() - start_cpu)
        for method, out in outputs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            write_variant_scores(model, vcf, genome, out, method=method)
            times[method].append(time.perf_counter() - start)
            cpu[method].append(time.process_time() - start_cpu)
    fast, naive = (read_variant_scores(outputs[m]) for m in ("auto", "naive"))
    scores = [c for c in fast.columns if ":" in c and c.split(":")[0] in ("ref", "alt", "diff")]
    return {"n_variants": n_variants, "bound_variants_per_s": n_variants / min(times["bound"]),
            "variants_per_s": n_variants / min(times["auto"]),
            "naive_variants_per_s": n_variants / min(times["naive"]),
            "ratio": min(times["bound"]) / min(times["auto"]),
            "naive_ratio": min(times["bound"]) / min(times["naive"]),
            "max_abs_difference": float(np.nanmax(np.abs(fast[scores].to_numpy()
                                                         - naive[scores].to_numpy()))),
            # CPU seconds (all threads) are far steadier than wall time on a shared
            # machine: a fair measure of the work each way costs.
            "cpu_ratio": float(np.median(cpu["bound"]) / np.median(cpu["auto"])),
            "cpu_naive_ratio": float(np.median(cpu["bound"]) / np.median(cpu["naive"])),
            "paired_ratio": float(np.median(np.array(times["bound"]) / np.array(times["auto"]))),
            "seconds": times, "cpu_seconds": cpu}


def deepsea_sized_significance(model, folder=None, seed=0):
    """DeepSEA's disease step for ``model``: from DeepSEA's folder (its targets given to the
    model), or of DeepSEA's sizes (919 backgrounds of 15,789 points, three classifiers of
    1,842 coefficients; random numbers: the cost does not depend on them)."""
    from skdeepsea.variants import EValueTransformer, VariantSignificance, deepsea_target_names

    if folder is not None:
        model.target_names_ = np.array(deepsea_target_names(folder))
        return VariantSignificance.from_deepsea(folder)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(seed)
    names = [str(t) for t in model.target_names_]
    evalues = EValueTransformer().fit(rng.exponential(0.01, (15_788, len(names))))
    classifiers = {}
    for name in ("eqtl", "gwas", "hgmd"):
        scaler = StandardScaler().fit(rng.normal(size=(10, 2 * len(names) + 4)))
        logistic = LogisticRegression().fit(scaler.transform(rng.normal(
            size=(10, 2 * len(names) + 4))), np.arange(10) % 2)
        classifiers[name] = make_pipeline(scaler, logistic)
    return VariantSignificance(evalues, classifiers=classifiers)


def significance_cost(n_variants, repeats, folder, resources=None):
    """What DeepSEA's disease step (e-values, funsig, three classifiers) adds to
    ``write_variant_scores`` with the full-size network: the ratio of the run without it to
    the run with it, interleaved (1.0: free)."""
    from skdeepsea.variants import write_variant_scores

    model = full_size_model()
    significance = deepsea_sized_significance(model, resources)
    genome = os.path.join(folder, "genome.fa")
    vcf = os.path.join(folder, f"variants_{n_variants}.vcf")
    out = os.path.join(folder, "significance.h5")
    runs = {"plain": {}, "significance": {"significance": significance}}
    for options in runs.values():
        write_variant_scores(model, vcf, genome, out, **options)  # compile
    times = {name: [] for name in runs}
    cpu = {name: [] for name in runs}
    for _ in range(repeats):
        for name, options in runs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            write_variant_scores(model, vcf, genome, out, **options)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return {"n_variants": n_variants, "published_resources": resources is not None,
            "ratio": min(times["plain"]) / min(times["significance"]),
            "paired_ratio": float(np.median(np.array(times["plain"])
                                            / np.array(times["significance"]))),
            "cpu_ratio": float(np.median(cpu["plain"]) / np.median(cpu["significance"])),
            "seconds": times, "cpu_seconds": cpu}


def mutagenesis(positions, naive_positions, repeats, geometry=None):
    """Mutants per second, fast and naive, on a 1000 bp sequence (forward strand).

    ``fast`` propagates the differences in one thread per core (the default);
    ``fast_1`` in one thread (as before that), for the same-run speed-up of the
    threads. Each method's cores used: its CPU time / wall time (medians).
    """
    from skdeepsea.variants import _mutagenesis, in_silico_mutagenesis
    from skdeepsea.variants._products import available_cores
    from skdeepsea.variants._substitutions import substitution_network

    model = full_size_model(**(geometry or {}))
    sequence = "".join(np.random.default_rng(2).choice(list("ACGT"), 1000))
    start = 500 - positions // 2
    naive_start = 500 - naive_positions // 2
    window = {"fast": (start, start + positions), "fast_1": (start, start + positions),
              "naive": (naive_start, naive_start + naive_positions)}
    methods = ("naive", "fast", "fast_1")
    times = {m: [] for m in methods}
    cpu = {m: [] for m in methods}
    results = {}

    def run(method, first, last):
        if method == "fast_1":  # one thread for the differences
            _mutagenesis.available_cores = lambda: 1
        try:
            return in_silico_mutagenesis(model, sequence, start=first, end=last,
                                         method=method.split("_")[0], strand="forward")
        finally:
            _mutagenesis.available_cores = available_cores

    for method in methods:  # compile each once
        run(method, start, start + 2)
    for _ in range(repeats):
        for method in methods:
            t, t_cpu = time.perf_counter(), time.process_time()
            results[method] = run(method, *window[method])
            times[method].append(time.perf_counter() - t)
            cpu[method].append(time.process_time() - t_cpu)
    # The naive mutants are a subset of the fast ones when it ran on fewer positions.
    offset = window["naive"][0] - window["fast"][0]
    fast_part = results["fast"].proba[offset:offset + naive_positions]
    difference = float(np.abs(results["naive"].proba - fast_part).max())
    network = substitution_network(model.model_, 1000)
    rate = {m: (3 * naive_positions if m == "naive" else 3 * positions) / min(times[m])
            for m in methods}
    cores = {m: float(np.median(np.array(cpu[m]) / np.array(times[m]))) for m in methods}
    return {"positions": positions, "mutants": 3 * positions,
            "naive_mutants": 3 * naive_positions, "threads": available_cores(),
            "naive_mutants_per_s": rate["naive"], "fast_mutants_per_s": rate["fast"],
            "fast_one_thread_mutants_per_s": rate["fast_1"],
            "speedup": rate["fast"] / rate["naive"],
            "one_thread_speedup": rate["fast_1"] / rate["naive"],
            "threads_speedup_paired": float(np.median(np.array(times["fast_1"])
                                                      / np.array(times["fast"]))),
            "cpu_speedup": float((3 * positions / np.median(cpu["fast"]))
                                 / (3 * naive_positions / np.median(cpu["naive"]))),
            "cpu_per_wall": cores["fast"], "one_thread_cpu_per_wall": cores["fast_1"],
            "naive_cpu_per_wall": cores["naive"],
            "fast_equals_one_thread": bool(np.array_equal(results["fast"].proba,
                                                          results["fast_1"].proba)),
            "auto_method": "fast" if network.faster(np.arange(1000)) else "naive",
            "max_abs_difference": difference, "seconds": times, "cpu_seconds": cpu}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-variants", type=int, default=5000)
    parser.add_argument("--memory-sizes", type=int, nargs="*", default=[10_000, 100_000])
    # 256: the 512 reference windows and 1,024 windows of four passes fill whole batches of
    # 64, so no method computes padding rows (200 variants made the fast path pad 400
    # reference windows to 448, 12%, the bound none).
    parser.add_argument("--n-full-size", type=int, default=256,
                        help="variants for the ratio with the full-size network (0: skip)")
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--ism-positions", type=int, default=1000)
    parser.add_argument("--ism-naive-positions", type=int, default=100,
                        help="positions for the naive rate of the full-size network")
    parser.add_argument("--only", nargs="*",
                        choices=["throughput", "full-size", "significance", "memory", "ism",
                                 "ism-small", "ism-tiny"],
                        help="run only these parts (default: all)")
    parser.add_argument("--deepsea-resources", metavar="FOLDER",
                        help="DeepSEA v0.94's folder for the significance part (default: "
                             "random numbers of DeepSEA's sizes)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.memory_child:
        memory_child(args.memory_child, args.chunk_size, args.folder)
        return 0

    import keras

    results = {"backend": keras.backend.backend(), "load_before": os.getloadavg()[0],
               "cores": len(os.sched_getaffinity(0))}
    with tempfile.TemporaryDirectory() as folder:
        make_inputs(folder, sorted(set(args.memory_sizes) | {args.n_variants, args.n_full_size}
                                   - {0}))
        print(f"backend {results['backend']}, {results['cores']} cores, load "
              f"{results['load_before']:.1f}", flush=True)

        parts = set(args.only or ["throughput", "full-size", "significance", "memory", "ism",
                                  "ism-small", "ism-tiny"])
        if "throughput" in parts:
            t = throughput(args.n_variants, args.chunk_size, args.repeats, folder)
            results["throughput"] = t
            print(f"variant scoring: {t['variants_per_s']:.0f} variants/s; bound (4 forward "
                  f"passes per variant, bare model_.predict) {t['bound_variants_per_s']:.0f} "
                  f"variants/s; ratio {t['ratio']:.2f}", flush=True)

        if args.n_full_size and "full-size" in parts:
            f = full_size_throughput(args.n_full_size, args.repeats, folder)
            results["full_size_throughput"] = f
            print(f"variant scoring, full-size DeepSEA: {f['variants_per_s']:.1f} variants/s "
                  f"(naive method {f['naive_variants_per_s']:.1f}); bound (4 passes) "
                  f"{f['bound_variants_per_s']:.1f} variants/s; ratio {f['ratio']:.2f} (naive "
                  f"{f['naive_ratio']:.2f}), median of paired ratios {f['paired_ratio']:.2f}; "
                  f"CPU-time ratio (medians) {f['cpu_ratio']:.2f} (naive "
                  f"{f['cpu_naive_ratio']:.2f}); max |difference| {f['max_abs_difference']:.1e}",
                  flush=True)

        if args.n_full_size and "significance" in parts:
            c = significance_cost(args.n_full_size, args.repeats, folder, args.deepsea_resources)
            results["significance"] = c
            print(f"DeepSEA's disease step (e-values, funsig, 3 classifiers), full-size network: "
                  f"time without / with {c['ratio']:.3f} (best of {args.repeats}), paired "
                  f"{c['paired_ratio']:.3f}, CPU time {c['cpu_ratio']:.3f}", flush=True)

        results["memory"] = []
        for n in args.memory_sizes if "memory" in parts else []:
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--memory-child", str(n),
                 "--chunk-size", str(args.chunk_size), "--folder", folder],
                check=True, capture_output=True, text=True,
            )
            m = json.loads(out.stdout.strip().splitlines()[-1])
            results["memory"].append(m)
            print(f"memory: {n} variants -> peak RSS {m['peak_mb']:.0f} MB (before scoring: "
                  f"{m['before_mb']:.0f} MB), {m['n'] / m['seconds']:.0f} variants/s",
                  flush=True)

        for part, name, geometry, naive_positions in (
                ("ism", "full-size DeepSEA", None, args.ism_naive_positions),
                ("ism-small", "32/48/96 filters", ISM_SMALL_NETWORK, args.ism_positions),
                ("ism-tiny", "8/8/8 filters", ISM_TINY_NETWORK, args.ism_positions)):
            if part not in parts:
                continue
            ism = mutagenesis(args.ism_positions, min(naive_positions, args.ism_positions),
                              args.repeats, geometry)
            results[{"ism": "mutagenesis", "ism-small": "mutagenesis_small",
                     "ism-tiny": "mutagenesis_tiny"}[part]] = ism
            print(f"mutagenesis ({name}, {ism['mutants']} mutants; naive on "
                  f"{ism['naive_mutants']}): naive {ism['naive_mutants_per_s']:.1f}/s, fast "
                  f"{ism['fast_mutants_per_s']:.1f}/s, speed-up {ism['speedup']:.2f}x (CPU time "
                  f"{ism['cpu_speedup']:.2f}x); CPU/wall fast {ism['cpu_per_wall']:.2f} "
                  f"(naive {ism['naive_cpu_per_wall']:.2f}); fast in one thread "
                  f"{ism['fast_one_thread_mutants_per_s']:.1f}/s (speed-up "
                  f"{ism['one_thread_speedup']:.2f}x, CPU/wall "
                  f"{ism['one_thread_cpu_per_wall']:.2f}; {ism['threads']} threads / one: "
                  f"{ism['threads_speedup_paired']:.2f}x paired, same result: "
                  f"{ism['fast_equals_one_thread']}), auto picks {ism['auto_method']}, "
                  f"max |difference| {ism['max_abs_difference']:.1e}", flush=True)
    results["load_after"] = os.getloadavg()[0]
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
