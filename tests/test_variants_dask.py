"""Genome-wide variant scoring on a Dask cluster, partitions of a VCF, and Parquet output."""

import gzip
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pysam = pytest.importorskip("pysam")
pytest.importorskip("pyarrow")
distributed = pytest.importorskip("distributed")

from skdeepsea import DeepSEAClassifier, OneHotDNA  # noqa: E402
from skdeepsea.cli import main  # noqa: E402
from skdeepsea.variants import (  # noqa: E402
    MalformedVariantError,
    read_variant_scores,
    read_variants,
    score_variants,
    write_variant_scores,
)
from skdeepsea.variants._distributed import WORK_SUFFIX, partition_path, plan_partitions  # noqa: E402
from skdeepsea.variants._io import read_variant_part  # noqa: E402

from .conftest import motif_data  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
L = 30
TINY = dict(conv_filters=(4,), dropout=(0.1,), kernel_size=5, pool_size=2, fc_units=4,
            optimizer="adam", learning_rate=0.02, batch_size=32, epochs=1, random_state=0)
CONTIGS = {"chr1": 300, "chr2": 200}
PART = 7  # VCF data lines per partition
CHUNK = 5  # variants per chunk: partitions of 45 records, starting where chunks start


def _records(rng):
    """45 sorted records: SNVs, multi-allelic sites, indels, a wrong REF, contig ends."""
    genome = {c: "".join(rng.choice(list("ACGT"), n)) for c, n in CONTIGS.items()}
    rows = []
    for chrom, n in (("chr1", 28), ("chr2", 17)):
        for pos in np.sort(rng.choice(np.arange(1, CONTIGS[chrom] - 3), n, replace=False)):
            ref = genome[chrom][pos - 1]
            other = [b for b in "ACGT" if b != ref]
            kind = pos % 5
            if kind == 0:
                ref, alt = genome[chrom][pos - 1:pos + 2], ref            # deletion
            elif kind == 1:
                alt = f"{other[0]},{other[1]}"                            # two ALT alleles
            elif kind == 2 and chrom == "chr2":
                ref, alt = other[2], other[0]                             # REF not the genome's
            else:
                alt = other[0]
            rows.append(f"{chrom}\t{pos}\tv{chrom}_{pos}\t{ref}\t{alt}\t.\t.\t.")
    return genome, rows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    genome, rows = _records(np.random.default_rng(3))
    with open(folder / "genome.fa", "w") as f:
        for name, seq in genome.items():
            f.write(f">{name}\n{seq}\n")
    header = ["##fileformat=VCFv4.2"] + [f"##contig=<ID={c},length={n}>"
                                         for c, n in CONTIGS.items()]
    header.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO")
    plain = folder / "variants.vcf"
    plain.write_text("\n".join(header + rows) + "\n")
    with open(plain, "rb") as src, gzip.open(folder / "variants.gzip.vcf.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    pysam.tabix_compress(str(plain), str(folder / "variants.vcf.gz"))
    pysam.tabix_index(str(folder / "variants.vcf.gz"), preset="vcf")
    seqs, y = motif_data(n=64, length=L, seed=1)
    model = DeepSEAClassifier(**TINY).fit(OneHotDNA().fit_transform(seqs), y)
    model.save(folder / "model.skdeepsea")
    return {"folder": folder, "genome": str(folder / "genome.fa"), "vcf": str(plain),
            "gzip": str(folder / "variants.gzip.vcf.gz"),
            "bgzip": str(folder / "variants.vcf.gz"), "model": model,
            "model_file": str(folder / "model.skdeepsea")}


# -- partitions of a VCF (no cluster) ----------------------------------------------------

@settings(max_examples=15, deadline=None)
@given(size=st.integers(1, 50), kind=st.sampled_from(["vcf", "gzip", "bgzip"]),
       chunk=st.one_of(st.none(), st.integers(1, 12)))
def test_partitions_read_back_the_whole_file_in_order(files, size, kind, chunk):
    path = files[kind]
    parts = plan_partitions(path, size, chunk)
    whole = pd.concat(list(read_variants(path)), ignore_index=True)
    assert sum(p.n_lines for p in parts) == 45
    if chunk is not None:
        # Each partition starts a chunk of a single-process run, unless the one before it
        # grew to twice the size looking for such a start.
        for before, part in zip(parts, parts[1:]):
            alleles_before = int((whole["line"] < part.first_line).sum())
            assert alleles_before % chunk == 0 or before.n_lines >= 2 * size
    assert all((p.regions is not None) == (kind == "bgzip") for p in parts)
    # A position's records stay together: tabix regions would otherwise read them twice.
    for a, b in zip(parts, parts[1:]):
        assert a.regions is None or a.regions[-1][:2] != b.regions[0][:2] or \
            a.regions[-1][2] < b.regions[0][1]
    read = pd.concat([read_variant_part(path, p) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(read, whole)


def test_a_partition_names_the_file_and_line_of_a_malformed_record(files, tmp_path):
    lines = Path(files["vcf"]).read_text().splitlines()
    lines[20] = lines[20].split("\t")[0] + "\tnot-a-position\t.\tA\tC\t.\t.\t."
    path = tmp_path / "broken.vcf"
    path.write_text("\n".join(lines) + "\n")
    parts = plan_partitions(path, PART)
    broken = next(p for p in parts if p.first_line <= 21 < p.first_line + p.n_lines)
    assert broken.index > 0
    with pytest.raises(MalformedVariantError, match=r"broken\.vcf, line 21\b"):
        read_variant_part(path, broken)
    assert 21 not in read_variant_part(path, broken, on_malformed="skip")["line"].tolist()


def test_work_folder_of_another_run_is_kept_only_when_it_holds_partitions(tmp_path):
    from skdeepsea.variants._distributed import _check_work_folder

    work = str(tmp_path / "out.tsv.parts")
    _check_work_folder(work, {"options": "a", "variants": 1})
    _check_work_folder(work, {"options": "a", "variants": 1})  # the same run: kept
    _check_work_folder(work, {"options": "b", "variants": 1})  # nothing finished: replaced
    Path(partition_path(work, 0)).touch()
    with pytest.raises(ValueError, match=r"another run \(different options\)"):
        _check_work_folder(work, {"options": "c", "variants": 1})
    assert os.path.exists(partition_path(work, 0))


def test_a_cluster_run_reads_vcf_files_only(files, tmp_path):
    table = pd.DataFrame({"chrom": ["chr1"], "pos": [50], "ref": ["A"], "alt": ["C"]})
    with pytest.raises(ValueError, match="reads a VCF file.*a DataFrame"):
        write_variant_scores(files["model"], table, files["genome"], tmp_path / "o.tsv",
                             client="tcp://127.0.0.1:9")  # refused before connecting
    with pytest.raises(FileNotFoundError, match="none.vcf"):
        score_variants(files["model"], tmp_path / "none.vcf", files["genome"],
                       client="tcp://127.0.0.1:9")


# -- Parquet output (no cluster) ---------------------------------------------------------

def test_parquet_output_streams_row_groups_and_reads_back(files, tmp_path):
    model = files["model"]
    expected = score_variants(model, files["vcf"], files["genome"], chunk_size=20)
    out = tmp_path / "effects.parquet"
    summary = write_variant_scores(model, files["vcf"], files["genome"], out, chunk_size=20)
    assert summary["variants"] == len(expected) > 40
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(out)
    assert meta.num_row_groups == -(-len(expected) // 20)  # one per chunk
    assert meta.schema_arrow.field("diff:target_0").type == "float"  # float32, as in HDF5
    plain = pd.read_parquet(out)
    assert list(plain.columns) == list(expected.columns)
    back = read_variant_scores(out)
    info = ["chrom", "pos", "id", "ref", "alt", "line", "ref_match", "padded", "scored",
            "reason"]
    pd.testing.assert_frame_equal(back[info], expected[info], check_dtype=False)
    scores = expected.columns[len(info):]
    np.testing.assert_allclose(back[scores], expected[scores], rtol=1e-6, atol=1e-7)
    # The format by name, or by --format whatever the suffix.
    write_variant_scores(model, files["vcf"], files["genome"], tmp_path / "x.out",
                         format="parquet")
    assert pq.ParquetFile(tmp_path / "x.out").metadata.num_rows == len(expected)
    assert sorted(os.listdir(tmp_path)) == ["effects.parquet", "x.out"]  # no temporaries


# -- on a cluster ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client():
    import keras

    env = {"KERAS_BACKEND": keras.backend.backend(), "PYTHONPATH": ROOT,
           "OMP_NUM_THREADS": "1", "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.4",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    # allowed_failures=1: a task survives one worker death, the second is an error
    # (Dask's default allows three).
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, worker_dashboard_address=None, env=env,
        scheduler_kwargs={"allowed_failures": 1},
    ) as cluster, distributed.Client(cluster) as client:
        yield client


class ExitWorker(distributed.WorkerPlugin):
    """A worker plugin: the worker process exits when it starts partition ``index``, once.

    Once: the worker that creates ``marker``.
    """

    def __init__(self, index, marker):
        self.tag, self.marker = f"-part-{index:06d}-", marker

    def transition(self, key, start, finish, **kwargs):
        if finish != "executing" or self.tag not in str(key):
            return
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        os._exit(1)


def test_cluster_output_equals_a_single_process_run(files, client, tmp_path):
    import keras

    model = files["model"]
    local = tmp_path / "local.tsv"
    # method="fast" scores the SNVs of a chunk together: partitions start where chunks do.
    write_variant_scores(model, files["vcf"], files["genome"], local, chunk_size=CHUNK,
                         method="fast")
    # Regions through the tabix index, the model sent to the workers, a Client object.
    out = tmp_path / "cluster.tsv"
    summary = write_variant_scores(model, files["bgzip"], files["genome"], out,
                                   chunk_size=CHUNK, method="fast", client=client,
                                   partition_size=PART)
    assert Path(out).read_text() == Path(local).read_text()
    assert summary["partitions"] == len(plan_partitions(files["bgzip"], PART, CHUNK)) > 2
    assert summary["partitions_reused"] == 0
    assert not os.path.exists(str(out) + WORK_SUFFIX)
    workers = client.run(lambda: __import__("keras").backend.backend())
    assert set(workers.values()) == {keras.backend.backend()}
    # The command: byte offsets of a gzip file, the model loaded by each worker from its file,
    # a scheduler address.
    status = main(["variant-effects", "--model", files["model_file"], "--vcf", files["gzip"],
                   "--genome", files["genome"], "--out", str(tmp_path / "cli.parquet"),
                   "--chunk-size", str(CHUNK), "--scheduler", client.scheduler.address,
                   "--partition-size", str(PART), "--no-progress"])
    assert status == 0
    write_variant_scores(model, files["vcf"], files["genome"], tmp_path / "local.parquet",
                         chunk_size=CHUNK)
    pd.testing.assert_frame_equal(read_variant_scores(tmp_path / "cli.parquet"),
                                  read_variant_scores(tmp_path / "local.parquet"))
    frame = score_variants(model, files["vcf"], files["genome"], client=client,
                           partition_size=PART)
    pd.testing.assert_frame_equal(frame, score_variants(model, files["vcf"], files["genome"]))


def test_worker_threads_are_set_inside_the_task(files, client):
    """A worker starts with its BLAS and OpenMP threads at 1 and glibc's malloc
    trimming at 64 KiB (the nanny's pre-spawn-environ); a partition runs with
    ``worker_threads`` threads (and PyTorch's, on torch), or by default with the
    worker's share of its machine's cores (two workers here), and glibc's usual
    thresholds; the worker's own settings are put back after it."""
    import keras

    from skdeepsea._malloc import glibc
    from skdeepsea.variants._distributed import _job_threads, _run_partitions
    from skdeepsea.variants._products import available_cores

    def trimmed_by_dask():
        return os.environ.get("MALLOC_TRIM_THRESHOLD_") is not None and glibc() is not None

    def blas_threads():
        from threadpoolctl import threadpool_info

        return sorted({lib["num_threads"] for lib in threadpool_info()
                       if lib["user_api"] == "blas"})

    parts = plan_partitions(files["vcf"], 100)
    assert len(parts) == 1
    share = {max(1, cores // 2) for cores in client.run(available_cores).values()}
    before = client.run(blas_threads)
    for worker_threads, expected in ((2, {2}), (None, share)):
        job = {"variants": files["vcf"], "genome": files["genome"], "work": None,
               "options": {"chunk_size": CHUNK},
               "threads": _job_threads(client, worker_threads)}
        [(_, (summary, chunks))] = list(_run_partitions(client, parts, job,
                                                        files["model_file"], None, None, None))
        used = summary["threads"]
        assert used["requested"] in expected
        assert used["blas"] == [used["requested"]]
        assert used["openmp"] in ([], [used["requested"]])
        torch_backend = keras.backend.backend() == "torch"
        assert used["torch"] == (used["requested"] if torch_backend else None)
        assert {used["malloc_thresholds_lifted"]} == set(client.run(trimmed_by_dask).values())
        assert sum(len(chunk) for chunk in chunks) == summary["variants"] > 0
    assert client.run(blas_threads) == before
    # Through the API: the scores are those of one process.
    frame = score_variants(files["model"], files["vcf"], files["genome"], client=client,
                           partition_size=PART, chunk_size=CHUNK, worker_threads=2)
    pd.testing.assert_frame_equal(frame, score_variants(files["model"], files["vcf"],
                                                        files["genome"], chunk_size=CHUNK))


def test_worker_threads_needs_a_cluster_and_a_positive_count(files, tmp_path):
    with pytest.raises(ValueError, match="worker_threads .*needs client"):
        write_variant_scores(files["model"], files["vcf"], files["genome"],
                             tmp_path / "out.tsv", worker_threads=2)
    with pytest.raises(ValueError, match="worker_threads .*needs client"):
        score_variants(files["model"], files["vcf"], files["genome"], worker_threads=2)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="worker_threads must be a positive int"):
            write_variant_scores(files["model"], files["vcf"], files["genome"],
                                 tmp_path / "out.tsv", client="tcp://127.0.0.1:1",
                                 worker_threads=bad)
    assert main(["variant-effects", "--model", files["model_file"], "--vcf", files["vcf"],
                 "--genome", files["genome"], "--out", str(tmp_path / "out.tsv"),
                 "--worker-threads", "2", "--no-progress"]) != 0
    assert not (tmp_path / "out.tsv").exists()


def test_a_killed_worker_is_survived(files, client, tmp_path):
    model = files["model"]
    marker = tmp_path / "exited"
    client.register_plugin(ExitWorker(2, str(marker)), name="exit-once")
    try:
        out = tmp_path / "cluster.h5"
        write_variant_scores(files["model_file"], files["vcf"], files["genome"], out,
                             client=client, partition_size=PART, chunk_size=CHUNK)
    finally:
        client.unregister_worker_plugin("exit-once")
    assert marker.exists()  # a worker process did exit while scoring partition 2
    write_variant_scores(model, files["vcf"], files["genome"], tmp_path / "local.h5",
                         chunk_size=CHUNK)
    pd.testing.assert_frame_equal(read_variant_scores(out),
                                  read_variant_scores(tmp_path / "local.h5"))


def test_a_rerun_scores_only_the_unfinished_partitions(files, client, tmp_path):
    model = files["model"]
    out = tmp_path / "cluster.tsv"
    work = str(out) + WORK_SUFFIX

    def allow_failures(n):
        client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler,
                                                               "allowed_failures", n))

    options = {"client": client, "partition_size": PART, "chunk_size": CHUNK}
    last = len(plan_partitions(files["vcf"], PART, CHUNK)) - 1
    # No second chance: the death of the worker scoring the last partition stops the run.
    allow_failures(0)
    client.register_plugin(ExitWorker(last, str(tmp_path / "exited")), name="exit-on-last")
    try:
        with pytest.raises(distributed.KilledWorker):
            write_variant_scores(model, files["vcf"], files["genome"], out, **options)
    finally:
        client.unregister_worker_plugin("exit-on-last")
        allow_failures(1)
    assert not out.exists()
    finished = [i for i in range(last + 1) if os.path.exists(partition_path(work, i))]
    assert 0 < len(finished) < last + 1 and last not in finished
    with pytest.raises(ValueError, match="another run .*options"):
        write_variant_scores(model, files["vcf"], files["genome"], out, **options,
                             max_indel_length=1)
    summary = write_variant_scores(model, files["vcf"], files["genome"], out, **options)
    assert summary["partitions_reused"] == len(finished)
    write_variant_scores(model, files["vcf"], files["genome"], tmp_path / "local.tsv",
                         chunk_size=CHUNK)
    assert out.read_text() == (tmp_path / "local.tsv").read_text()
    assert not os.path.exists(work)


def test_significance_on_a_cluster_equals_a_single_process_run(files, client, tmp_path):
    from sklearn.linear_model import LogisticRegression

    from skdeepsea.variants import EValueTransformer, VariantSignificance

    model = files["model"]
    background = score_variants(model, files["vcf"], files["genome"], scores=("effect",))
    rng = np.random.default_rng(0)
    n_features = 2 * len(model.target_names_) + 4
    classifier = LogisticRegression().fit(rng.normal(size=(20, n_features)), np.arange(20) % 2)
    significance = VariantSignificance(EValueTransformer().fit(background),
                                       classifiers={"mine": classifier})
    paths = {where: (tmp_path / f"{where}.parquet", tmp_path / f"{where}.funsig.tsv")
             for where in ("local", "cluster")}
    summaries = {
        where: write_variant_scores(model, files["bgzip"], files["genome"], out,
                                    significance=significance, significance_out=ranked,
                                    chunk_size=CHUNK, method="fast",
                                    **({"client": client, "partition_size": PART}
                                       if where == "cluster" else {}))
        for where, (out, ranked) in paths.items()}
    local, cluster = (read_variant_scores(paths[w][0]) for w in ("local", "cluster"))
    pd.testing.assert_frame_equal(cluster, local)
    assert {"funsig", "mine_probability"} <= set(local.columns)
    assert Path(paths["cluster"][1]).read_text() == Path(paths["local"][1]).read_text()
    assert summaries["cluster"]["funsig_below"] == summaries["local"]["funsig_below"]
    assert summaries["cluster"]["partitions"] > 2


class SlowPartitions(distributed.WorkerPlugin):
    """A worker plugin: every partition but the first waits ``seconds`` before it starts."""

    name = "skdeepsea-slow-partitions"

    def __init__(self, seconds):
        self.seconds = seconds

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and "-part-" in str(key) and "-part-000000-" not in str(key):
            import time

            time.sleep(self.seconds)


def test_a_killed_driver_leaves_no_output_and_a_rerun_resumes(files, client, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "scores.parquet"
    work = Path(str(out) + WORK_SUFFIX)
    script = (
        "from skdeepsea.variants import write_variant_scores\n"
        f"write_variant_scores({files['model_file']!r}, {files['bgzip']!r}, "
        f"{files['genome']!r}, {str(out)!r}, client={client.scheduler.address!r}, "
        f"partition_size={PART}, chunk_size={CHUNK}, method='fast')\n")
    client.register_plugin(SlowPartitions(3))
    try:
        driver = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                                  stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 240
            while not list(work.glob("part-*.parquet")):
                assert driver.poll() is None, "the driver ended before a partition was written"
                assert time.monotonic() < deadline, "no partition written in time"
                time.sleep(0.2)
            os.kill(driver.pid, signal.SIGKILL)
        finally:
            driver.kill()
            driver.wait(30)
    finally:
        client.unregister_worker_plugin(SlowPartitions.name)
    assert not out.exists()  # nothing that looks complete
    finished = len(list(work.glob("part-*.parquet")))
    summary = write_variant_scores(files["model_file"], files["bgzip"], files["genome"], out,
                                   client=client, partition_size=PART, chunk_size=CHUNK,
                                   method="fast")
    # Tasks already running when the driver died may still finish their partitions.
    assert 1 <= finished <= summary["partitions_reused"] < summary["partitions"]
    local = tmp_path / "local.parquet"
    write_variant_scores(files["model"], files["vcf"], files["genome"], local,
                         chunk_size=CHUNK, method="fast")
    pd.testing.assert_frame_equal(read_variant_scores(out), read_variant_scores(local))
    assert not work.exists()
