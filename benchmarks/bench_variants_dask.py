"""What scoring on a Dask cluster adds around the scoring: planning, partition reads, cluster runs.

One run measures, on the backend named by ``KERAS_BACKEND``:

1. **Planning.** ``plan_partitions`` on a VCF of ``--n-lines`` random SNV
   records (plain and bgzipped with a tabix index): lines/s of the client's
   one pass over the file.
2. **Partition reads.** Reading every partition with ``read_variant_part``
   (tabix regions of the bgzipped file; byte offsets of the plain one)
   against ``read_variants`` of the whole file, as a ratio (1.0: no cost for
   reading in partitions).
3. **Cluster run.** ``write_variant_scores`` of ``--n-variants`` of those
   records with a small 1000 bp network (``--network full-size``: DeepSEA's),
   in this process and on a ``LocalCluster`` of each size in ``--workers``
   (default 1 worker; each with ``--threads-per-worker`` Dask threads,
   default the cores divided by the workers), as variants/s and their ratio
   (best times, and the median of paired ratios of interleaved runs); the
   outputs are compared (they must be equal). The workers compute with
   ``worker_threads=--worker-threads`` (default: their share of the cores);
   their CPU seconds over the warm runs divided by the wall time give the
   cores they used. With ``--workers 1 2`` the second cluster's speed-up
   over the first is reported: on a machine with at least twice one
   worker's cores that is the scaling to two machines' worth of cores; on a
   machine with fewer free cores than workers it measures the overhead, not
   the speed-up.

Run from the repository root::

    KERAS_BACKEND=jax /work/venv/bin/python benchmarks/bench_variants_dask.py --json /tmp/dask.json
    # one worker on all the cores against one process, cluster runs only:
    KERAS_BACKEND=jax python benchmarks/bench_variants_dask.py --no-reading --workers 1
    # one worker against two, each with 8 cores of its own (a machine of 16 or more):
    python benchmarks/bench_variants_dask.py --no-reading --workers 1 2 --threads-per-worker 8 \
        --worker-threads 8 --pin-workers
    # the same scaled to a 2-core machine: workers of one core each
    python benchmarks/bench_variants_dask.py --no-reading --workers 1 2 --threads-per-worker 1 \
        --worker-threads 1 --pin-workers
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # bench_variants' models


def make_inputs(folder, n_lines, contig_length, seed=0):
    """A random genome of two contigs and a sorted VCF of SNVs on it (plain and bgzip + tabix)."""
    import pysam

    rng = np.random.default_rng(seed)
    contigs = {"chr1": contig_length, "chr2": contig_length // 2}
    genome = {c: rng.choice(np.array(list("ACGT")), n) for c, n in contigs.items()}
    with open(os.path.join(folder, "genome.fa"), "w") as f:
        for name, seq in genome.items():
            f.write(f">{name}\n")
            text = "".join(seq)
            f.writelines(text[i:i + 60] + "\n" for i in range(0, len(text), 60))
    vcf = os.path.join(folder, "variants.vcf")
    share = {"chr1": n_lines * 2 // 3, "chr2": n_lines - n_lines * 2 // 3}
    with open(vcf, "w") as f:
        f.write("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chrom, n in share.items():
            for pos in np.sort(rng.integers(600, contigs[chrom] - 600, n)):
                ref = genome[chrom][pos - 1]
                alt = "C" if ref != "C" else "G"
                f.write(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\t.\n")
    pysam.tabix_compress(vcf, vcf + ".gz", force=True)
    pysam.tabix_index(vcf + ".gz", preset="vcf", force=True)
    return os.path.join(folder, "genome.fa"), vcf, vcf + ".gz"


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def measure_reading(vcf, bgzip, n_lines, partition_size, repeats):
    import pandas as pd

    from skdeepsea.variants import read_variants
    from skdeepsea.variants._distributed import plan_partitions
    from skdeepsea.variants._io import read_variant_part

    results = {}
    for name, path in (("plain", vcf), ("bgzip_tabix", bgzip)):
        plan_s = best_time(lambda path=path: plan_partitions(path, partition_size), repeats)
        parts = plan_partitions(path, partition_size)
        whole_s = best_time(lambda path=path: pd.concat(list(read_variants(path))), repeats)
        parts_s = best_time(lambda path=path, parts=parts: [read_variant_part(path, p)
                                                            for p in parts], repeats)
        results[name] = {
            "partitions": len(parts), "by_region": parts[0].regions is not None,
            "plan_lines_per_s": n_lines / plan_s, "read_whole_s": whole_s,
            "read_partitions_s": parts_s, "partition_read_ratio": parts_s / whole_s,
        }
    return results


def _worker_cpu_seconds():
    """CPU seconds of this worker process (all its threads), for the cores it used."""
    return time.process_time()


def _pin_to(dask_worker, cores_of):
    """Run this worker on its own cores only: one machine's worth of a shared host."""
    os.sched_setaffinity(0, cores_of[dask_worker.address])
    return sorted(os.sched_getaffinity(0))


def pin_workers(client, cores_per_worker):
    """Give each worker of ``client`` ``cores_per_worker`` cores of its own, disjoint.

    Called before the first task: XLA sizes its thread pools from the process's
    CPU affinity when JAX starts, so a pinned JAX worker computes like one on a
    machine of that many cores (thread settings alone do not bound XLA).
    """
    addresses = sorted(client.scheduler_info()["workers"])
    cores = sorted(os.sched_getaffinity(0))
    if len(addresses) * cores_per_worker > len(cores):
        raise SystemExit(f"--pin-workers: {len(addresses)} workers x {cores_per_worker} cores "
                         f"need {len(addresses) * cores_per_worker}; this process may use "
                         f"{len(cores)}")
    cores_of = {address: set(cores[i * cores_per_worker:(i + 1) * cores_per_worker])
                for i, address in enumerate(addresses)}
    return client.run(_pin_to, cores_of=cores_of)


def measure_cluster(genome, vcf, n_variants, workers, partition_size, chunk_size, folder,
                    threads_per_worker=None, worker_threads=None, repeats=3, network="small",
                    pinned=False):
    """Variants/s of one process and of a LocalCluster of each size in ``workers``.

    Per cluster size: a first run (the workers import Keras, load the model and
    compile), then ``repeats`` warm runs, each next to a run in this process
    (interleaved, so the load of a shared machine hits both alike). The
    workers' CPU seconds over the warm runs (``client.run(time.process_time)``)
    divided by the wall time give the cores they used. ``pinned``: each worker
    runs on its own ``threads_per_worker`` cores (:func:`pin_workers`).
    """
    import keras
    from distributed import Client, LocalCluster

    from skdeepsea import DeepSEAClassifier, OneHotDNA
    from skdeepsea.variants import read_variant_scores, write_variant_scores

    subset = os.path.join(folder, "subset.vcf")
    with open(vcf) as src, open(subset, "w") as dst:
        kept = 0
        for line in src:
            if line.startswith("#") or kept < n_variants:
                dst.write(line)
                kept += not line.startswith("#")
    rng = np.random.default_rng(1)
    if network == "full-size":
        from bench_variants import full_size_model

        model = full_size_model(batch_size=64)
    else:
        seqs = ["".join(rng.choice(list("ACGT"), 1000)) for _ in range(64)]
        model = DeepSEAClassifier(conv_filters=(32, 48, 96), dropout=(0.2, 0.2, 0.5),
                                  kernel_size=8, pool_size=4, fc_units=64, epochs=1,
                                  batch_size=32, random_state=0).fit(
            OneHotDNA().fit_transform(seqs), rng.integers(0, 2, (64, 8)))
    model_file = os.path.join(folder, "model.skdeepsea")
    model.save(model_file)
    local_out = os.path.join(folder, "local.parquet")
    write_variant_scores(model, subset, genome, local_out, chunk_size=chunk_size)  # compiles
    cores = len(os.sched_getaffinity(0))
    # No OMP_NUM_THREADS here: the nanny sets it (and MKL's, OpenBLAS') to 1 in every
    # worker itself (distributed.nanny.pre-spawn-environ), and in this process's
    # os.environ too, which is put back after the cluster starts.
    env = {"KERAS_BACKEND": keras.backend.backend(), "PYTHONPATH": os.pathsep.join(sys.path),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    results = {"variants": n_variants, "network": network, "cores": cores,
               "worker_threads": worker_threads, "clusters": []}
    for n_workers in workers:
        threads = threads_per_worker or max(1, cores // n_workers)
        saved = dict(os.environ)
        with LocalCluster(n_workers=n_workers, threads_per_worker=threads, processes=True,
                          host="127.0.0.1", dashboard_address=None, env=env) as cluster, \
                Client(cluster) as client:
            os.environ.clear()
            os.environ.update(saved)
            affinity = pin_workers(client, threads) if pinned else None
            cluster_out = os.path.join(folder, f"cluster_{n_workers}.parquet")

            # Only when given: the script then also runs on the code before the option.
            threads_option = {} if worker_threads is None else {"worker_threads": worker_threads}

            def on_cluster():
                write_variant_scores(model_file, subset, genome, cluster_out, client=client,
                                     partition_size=partition_size, chunk_size=chunk_size,
                                     **threads_option)

            def on_local():
                write_variant_scores(model, subset, genome, local_out, chunk_size=chunk_size)

            first_s = best_time(on_cluster, 1)  # workers import Keras, load the model, compile
            local_s, cluster_s = [], []
            cpu_before = sum(client.run(_worker_cpu_seconds).values())
            cluster_wall = 0.0
            local_cpu = 0.0
            for _ in range(repeats):
                start_cpu = time.process_time()
                local_s.append(best_time(on_local, 1))
                local_cpu += time.process_time() - start_cpu
                cluster_s.append(best_time(on_cluster, 1))
                cluster_wall += cluster_s[-1]
            cpu_after = sum(client.run(_worker_cpu_seconds).values())
        equal = read_variant_scores(local_out).equals(read_variant_scores(cluster_out))
        ratios = [local / on for local, on in zip(local_s, cluster_s)]
        results["clusters"].append({
            "workers": n_workers, "threads_per_worker": threads, "worker_cores": affinity,
            "local_variants_per_s": n_variants / min(local_s),
            "cluster_first_run_variants_per_s": n_variants / first_s,
            "cluster_warm_variants_per_s": n_variants / min(cluster_s),
            "ratio_best": min(local_s) / min(cluster_s),
            "ratio_paired_median": float(np.median(ratios)), "paired_ratios": ratios,
            # Includes the workers' idle time between runs (the local runs): a lower bound.
            "worker_cores_used": (cpu_after - cpu_before) / cluster_wall,
            "local_cores_used": local_cpu / sum(local_s),
            "local_s": local_s, "cluster_s": cluster_s, "outputs_equal": bool(equal)})
    if len(results["clusters"]) > 1:
        one = results["clusters"][0]
        for other in results["clusters"][1:]:
            other["speedup_over_first"] = (other["cluster_warm_variants_per_s"]
                                           / one["cluster_warm_variants_per_s"])
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-lines", type=int, default=200_000)
    parser.add_argument("--partition-size", type=int, default=20_000)
    parser.add_argument("--n-variants", type=int, default=4000)
    parser.add_argument("--cluster-partition-size", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="cluster sizes to run, one LocalCluster each (default: 1); "
                             "'1 2' also reports the second's speed-up over the first")
    parser.add_argument("--threads-per-worker", type=int,
                        help="Dask threads of each worker (default: the cores / workers)")
    parser.add_argument("--worker-threads", type=int,
                        help="write_variant_scores' worker_threads (default: None, each "
                             "worker's share of the cores)")
    parser.add_argument("--network", choices=["small", "full-size"], default="small",
                        help="32/48/96 filters and 8 targets, or the full-size DeepSEA "
                             "network (919 targets, untrained)")
    parser.add_argument("--pin-workers", action="store_true",
                        help="run each worker on its own --threads-per-worker cores (CPU "
                             "affinity), as on machines of that many cores")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-cluster", action="store_true")
    parser.add_argument("--no-reading", action="store_true", help="skip parts 1 and 2")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        genome, vcf, bgzip = make_inputs(folder, args.n_lines, max(10 * args.n_lines, 100_000))
        results = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
        if not args.no_reading:
            results["reading"] = measure_reading(vcf, bgzip, args.n_lines, args.partition_size,
                                                 args.repeats)
        if not args.no_cluster:
            import keras

            results["backend"] = keras.backend.backend()
            results["cluster"] = measure_cluster(
                genome, vcf, args.n_variants, args.workers, args.cluster_partition_size,
                args.chunk_size, folder, threads_per_worker=args.threads_per_worker,
                worker_threads=args.worker_threads, repeats=args.repeats,
                network=args.network, pinned=args.pin_workers)
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
