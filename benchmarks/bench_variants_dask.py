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
   records with a small 1000 bp network, in this process and on a
   ``LocalCluster`` of ``--workers`` single-threaded worker processes, as
   variants/s and their ratio; the outputs are compared (they must be equal).
   On a machine with fewer free cores than workers the ratio measures the
   overhead, not the speed-up.

Run from the repository root::

    KERAS_BACKEND=jax /work/venv/bin/python benchmarks/bench_variants_dask.py --json /tmp/dask.json
"""

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def measure_cluster(genome, vcf, n_variants, workers, partition_size, chunk_size, folder):
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
    seqs = ["".join(rng.choice(list("ACGT"), 1000)) for _ in range(64)]
    model = DeepSEAClassifier(conv_filters=(32, 48, 96), dropout=(0.2, 0.2, 0.5), kernel_size=8,
                              pool_size=4, fc_units=64, epochs=1, batch_size=32,
                              random_state=0).fit(OneHotDNA().fit_transform(seqs),
                                                  rng.integers(0, 2, (64, 8)))
    model_file = os.path.join(folder, "model.skdeepsea")
    model.save(model_file)
    local_out = os.path.join(folder, "local.parquet")
    write_variant_scores(model, subset, genome, local_out, chunk_size=chunk_size)  # compiles
    local_s = best_time(lambda: write_variant_scores(model, subset, genome, local_out,
                                                     chunk_size=chunk_size), 1)
    env = {"KERAS_BACKEND": keras.backend.backend(), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, env=env) as cluster, Client(cluster) as client:
        cluster_out = os.path.join(folder, "cluster.parquet")
        def on_cluster():
            write_variant_scores(model_file, subset, genome, cluster_out, client=client,
                                 partition_size=partition_size, chunk_size=chunk_size)

        first_s = best_time(on_cluster, 1)  # workers import Keras, load the model, compile
        warm_s = best_time(on_cluster, 1)
    equal = read_variant_scores(local_out).equals(read_variant_scores(cluster_out))
    return {"variants": n_variants, "workers": workers, "local_variants_per_s": n_variants / local_s,
            "cluster_first_run_variants_per_s": n_variants / first_s,
            "cluster_warm_variants_per_s": n_variants / warm_s,
            "warm_ratio_cluster_to_local": local_s / warm_s, "outputs_equal": bool(equal)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-lines", type=int, default=200_000)
    parser.add_argument("--partition-size", type=int, default=20_000)
    parser.add_argument("--n-variants", type=int, default=4000)
    parser.add_argument("--cluster-partition-size", type=int, default=1000)
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-cluster", action="store_true")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        genome, vcf, bgzip = make_inputs(folder, args.n_lines, max(10 * args.n_lines, 100_000))
        results = {"cpus": os.cpu_count(), "load_average": os.getloadavg(),
                   "reading": measure_reading(vcf, bgzip, args.n_lines, args.partition_size,
                                              args.repeats)}
        if not args.no_cluster:
            import keras

            results["backend"] = keras.backend.backend()
            results["cluster"] = measure_cluster(genome, vcf, args.n_variants, args.workers,
                                                 args.cluster_partition_size,
                                                 args.chunk_size, folder)
    print(json.dumps(results, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
