"""Scoring a VCF on a Dask cluster: partitions scored by workers, assembled in input order.

The client reads the VCF once to plan partitions of consecutive data lines
(:func:`plan_partitions`): regions read through the tabix index when the file
is bgzipped and indexed, else byte offsets. Each partition is one task
(:func:`_score_partition`); a worker loads the model file (the user's, or the
fitted model saved in the work folder) once, cached per process, and writes
the partition's scores to ``<out>.parts/part-<k>.parquet`` atomically. The client then copies the partitions in order into the output
and removes the work folder. A rerun finds the finished partitions of an
interrupted run and scores only the others, after checking from
``fingerprint.json`` that they come from the same inputs and options.
"""

import contextlib
import inspect
import json
import os
import pickle
import shutil
import threading
import uuid

import joblib
import numpy as np
import pandas as pd

from .._atomic import TEMPORARY_PREFIX, atomic_open, atomic_path
from .._malloc import dask_task_thresholds
from .._version import __version__
from ._io import ReadReport, VariantPart, _is_bgzip, _is_vcf, _open_binary, read_variant_part
from ._output import (
    SignificanceTable,
    _format_of,
    add_counts,
    file_attributes,
    new_summary,
    open_writer,
    pyarrow_modules,
    write_empty_tsv_header,
)
from ._scoring import SCORES, ModelTargets, iter_variant_scores, output_scores

WORK_SUFFIX = ".parts"
_SUMMARY_KEY = b"skdeepsea-summary"


def plan_partitions(path, partition_size=20_000, chunk_size=None):
    """Split a VCF file into partitions of about ``partition_size`` data lines.

    One pass over the file. Partitions never split the records of one
    position. When the file is bgzipped, indexed (``.tbi`` or ``.csi`` not
    older than the file) and sorted, each partition is a list of regions read
    through the index; otherwise it is read from a byte offset (of the
    decompressed stream for gzip, which a worker reaches by decompressing).

    With ``chunk_size``, a partition starts where a chunk of a single-process
    run starts (a multiple of ``chunk_size`` ALT alleles from the top), so
    that every chunk holds the same variants as there: scores computed
    together in a chunk (the shared reference activations of SNVs) are then
    the same to the last bit. A partition grows to at most twice
    ``partition_size`` looking for such a place; lines that are skipped as
    malformed also shift the chunks (the output is then equal to float
    rounding only).

    Parameters
    ----------
    path : str or path-like
        A VCF file (plain, gzip or bgzip).
    partition_size : int, default=20_000
        Data lines per partition.
    chunk_size : int or None, default=None
        Variants (ALT alleles) per chunk of the scoring.

    Returns
    -------
    parts : list of VariantPart
        In file order; empty for a VCF without records.
    """
    path = os.fspath(path)
    partition_size = int(partition_size)
    if partition_size < 1:
        raise ValueError(f"partition_size must be at least 1, got {partition_size!r}.")
    indexed = _is_bgzip(path) and any(
        os.path.exists(path + ext) and os.path.getmtime(path + ext) >= os.path.getmtime(path)
        for ext in (".tbi", ".csi"))
    parts, regions, seen = [], [], set()
    sorted_file = True
    line = offset = first_line = first_offset = count = alleles = 0
    previous = None
    in_header = True
    with _open_binary(path) as f:
        for text in f:
            line += 1
            size = len(text)
            if in_header and text.startswith(b"#"):
                offset += size
                continue
            in_header = False
            fields = text.split(b"\t", 5)
            try:
                key = (fields[0].decode(), int(fields[1]))
            except (IndexError, ValueError, UnicodeDecodeError):
                key = None  # a blank or malformed line: the index cannot place it
                sorted_file = False
            aligned = chunk_size is None or alleles % chunk_size == 0
            if count >= partition_size and (key is None or key != previous) and \
                    (aligned or count >= 2 * partition_size):
                parts.append(VariantPart(len(parts), first_line, count, first_offset,
                                         tuple(map(tuple, regions))))
                count, regions = 0, []
            if count == 0:
                first_line, first_offset = line, offset
            if key is not None:
                chrom, pos = key
                if previous is not None and chrom == previous[0]:
                    sorted_file &= pos >= previous[1]
                elif chrom in seen:
                    sorted_file = False  # a contig's records are not contiguous
                seen.add(chrom)
                if regions and regions[-1][0] == chrom:
                    regions[-1][2] = pos
                else:
                    regions.append([chrom, pos, pos])
                previous = key
            count += 1
            offset += size
            alleles += fields[4].count(b",") + 1 if len(fields) > 4 else 0
    if count:
        parts.append(VariantPart(len(parts), first_line, count, first_offset,
                                 tuple(map(tuple, regions))))
    if not (indexed and sorted_file):
        parts = [part._replace(regions=None) for part in parts]
    return parts


def _chunk_size(options):
    """The chunk size a run with ``options`` scores by (``iter_variant_scores``'s default)."""
    if "chunk_size" in options:
        return int(options["chunk_size"])
    return inspect.signature(iter_variant_scores).parameters["chunk_size"].default


def partition_path(work, index):
    """The file of partition ``index`` in the work folder ``work``."""
    return os.path.join(work, f"part-{index:06d}.parquet")


# What this worker process has loaded: a file's (path, mtime, size) or a token -> the object.
_LOADED = {}


def _worker_object(reference):
    """A model or e-value transformer on a worker, loaded once per process.

    ``reference`` is a file (a model file, or ``.joblib``) or a pair (token,
    pickled bytes) from :func:`_share`.
    """
    if reference is None:
        return None
    if isinstance(reference, str):
        stat = os.stat(reference)
        key = (reference, stat.st_mtime_ns, stat.st_size)
    else:
        key, blob = reference
    if key not in _LOADED:
        if len(_LOADED) >= 4:
            _LOADED.clear()
        if not isinstance(reference, str):
            _LOADED[key] = pickle.loads(blob)
        elif reference.endswith(".joblib"):
            _LOADED[key] = joblib.load(reference)
        else:
            from ..pretrained import load_model_file

            _LOADED[key] = load_model_file(reference)
    return _LOADED[key]


def _as_is(value):
    return value


def _share(dask_client, obj):
    """A file path as is; an object as (token, future of its pickled bytes).

    The bytes are the result of a task that holds them, so that a worker
    fetches them once and the scheduler can make them again if the workers
    holding them die (scattered data would be lost). Each worker unpickles
    them once: an object unpickled on a worker is never pickled again there.
    """
    if obj is None or isinstance(obj, str):
        return obj
    return uuid.uuid4().hex, dask_client.submit(_as_is, pickle.dumps(obj), pure=False)


# A worker's threads score one partition at a time: the backend uses every core for one
# batch, and a Keras model is not made to be called from several threads at once.
_WORKER_LOCK = threading.Lock()


def check_worker_threads(worker_threads):
    """``worker_threads`` as an int of at least 1, or None."""
    if worker_threads is None:
        return None
    if isinstance(worker_threads, bool) or not isinstance(worker_threads, (int, np.integer)) \
            or worker_threads < 1:
        raise ValueError(f"worker_threads must be a positive int or None, got "
                         f"{worker_threads!r}.")
    return int(worker_threads)


def _job_threads(dask_client, worker_threads):
    """``job["threads"]``: ``worker_threads``, or (None) the number of worker processes
    on each host of the cluster now, from which each task takes its share of its
    host's cores (:func:`_threads_here`)."""
    if worker_threads is not None:
        return worker_threads
    per_host = {}
    for worker in dask_client.scheduler_info(n_workers=-1)["workers"].values():
        per_host[worker["host"]] = per_host.get(worker["host"], 0) + 1
    return {"per_host": per_host}


def _threads_here(threads):
    """The threads this worker's task computes with: ``threads`` (an int), or from
    ``{"per_host": {host: worker processes}}`` its share of the host's cores (the
    cores it may run on divided by the workers on its host; the worker's own
    ``nthreads`` on a host the client did not see)."""
    from ._products import available_cores

    if isinstance(threads, int):
        return threads
    from distributed import get_worker
    from distributed.comm import get_address_host

    worker = get_worker()
    workers = threads["per_host"].get(get_address_host(worker.address))
    if workers is None:
        return max(1, int(worker.state.nthreads))
    return max(1, available_cores() // workers)


@contextlib.contextmanager
def _using_threads(threads):
    """NumPy's BLAS, OpenMP and (torch backend) PyTorch's CPU threads set to ``threads``
    for a task; yields what is set (``blas``, ``openmp``: the libraries' thread counts;
    ``torch``).

    A Dask worker process starts with OMP_NUM_THREADS, MKL_NUM_THREADS and
    OPENBLAS_NUM_THREADS at 1 (``distributed.nanny.pre-spawn-environ``), which
    NumPy's OpenBLAS and PyTorch's intra-op pool read at their start: both are
    set here, at run time. JAX's and TensorFlow's CPU thread pools are sized when
    they start, from the cores, and are not changed here.
    """
    import keras

    from ._products import blas_controller

    torch = None
    if keras.backend.backend() == "torch":
        import torch
    before = torch.get_num_threads() if torch is not None else None
    controller = blas_controller()
    with controller.limit(limits=threads):  # blas and openmp
        if torch is not None:
            # Per calling thread under OpenMP: the task's thread, which runs the model.
            torch.set_num_threads(threads)
        try:
            yield {**{api: sorted({lib.num_threads for lib in controller.lib_controllers
                                   if lib.user_api == api}) for api in ("blas", "openmp")},
                   "torch": torch.get_num_threads() if torch is not None else None}
        finally:
            if torch is not None:
                torch.set_num_threads(before)


def _score_partition(part, *, job, model, evalues, significance=None):
    """Score one partition (runs on a worker).

    ``model``, ``evalues`` and ``significance`` are the objects, or files
    loaded once per worker process. Writes the partition file when ``job["work"]`` is set;
    returns the summary of counts and the chunks (None when written). The returned
    summary's ``threads`` says what the task computed with: ``requested`` (from
    ``job["threads"]``, see :func:`_threads_here`), what :func:`_using_threads` set,
    and ``malloc_thresholds_lifted`` (:func:`skdeepsea._malloc.dask_task_thresholds`).
    """
    with _WORKER_LOCK:
        model, evalues = _worker_object(model), _worker_object(evalues)
        significance = _worker_object(significance)
        threads = _threads_here(job.get("threads", 1))
        with _using_threads(threads) as used, dask_task_thresholds() as malloc:
            summary, chunks = _score_partition_here(part, job, model, evalues, significance)
        summary["threads"] = dict(used, requested=threads, malloc_thresholds_lifted=malloc)
        return summary, chunks


def _score_partition_here(part, job, model, evalues, significance):
    """:func:`_score_partition` with the objects loaded, in the threads set."""
    options = job["options"]
    report = ReadReport()
    variants = read_variant_part(job["variants"], part,
                                 on_malformed=options.get("on_malformed", "error"),
                                 report=report)
    lines = variants.pop("line").to_numpy()
    summary = new_summary(significance is not None)
    chunks = []
    writer = None
    with contextlib.ExitStack() as stack:
        if job["work"] is not None:
            temporary = stack.enter_context(
                atomic_path(partition_path(job["work"], part.index)))
            # float64, as the scoring returns them: the assembled output is then the
            # one a single process writes.
            writer = stack.enter_context(contextlib.closing(open_writer(
                "parquet", temporary, temporary, job["names"], job["written_scores"], {},
                score_type="float64", extra=job["per_variant"])))
        for chunk in iter_variant_scores(model, variants, job["genome"], evalues=evalues,
                                         significance=significance, **options):
            # The rows of a DataFrame are numbered from 1: back to the VCF's lines.
            chunk["line"] = lines[chunk["line"].to_numpy() - 1]
            add_counts(summary, chunk)
            if writer is None:
                chunks.append(chunk)
            else:
                writer.write(chunk, job["names"], job["written_scores"])
        summary["malformed_skipped"] = report.malformed
        summary["malformed_lines"] = report.malformed_lines
        if writer is not None:
            writer.add_metadata({_SUMMARY_KEY: json.dumps(summary)})
    return summary, (chunks if writer is None else None)


def _connect(client):
    if isinstance(client, str):
        from distributed import Client

        return Client(client), True
    return client, False


def _model_identity(model, model_file):
    """What identifies the model in a fingerprint: its file, or a hash of its weights."""
    if model_file is not None:
        return _file_identity(os.path.abspath(model_file))
    return {"weights": joblib.hash([np.asarray(w) for w in model.model_.get_weights()]),
            "alphabet": str(model.alphabet_), "targets": [str(t) for t in model.target_names_]}


def _file_identity(path):
    stat = os.stat(path)
    return {"file": path, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _run_partitions(dask_client, parts, job, model, evalues, significance, bar):
    """Submit one task per partition; yield (part, result) as each completes, in any order.

    On an error (a task's, a ``KilledWorker`` after repeated worker deaths,
    an interrupt) the remaining tasks are cancelled and the error raised.
    """
    from distributed import as_completed

    if not parts:
        return
    shared = [_share(dask_client, obj) for obj in (model, evalues, significance)]
    run = uuid.uuid4().hex[:8]
    futures = dask_client.map(_score_partition, parts, job=job, model=shared[0],
                              evalues=shared[1], significance=shared[2], pure=False,
                              key=[f"skdeepsea-part-{p.index:06d}-{run}" for p in parts])
    part_of = {future.key: part for future, part in zip(futures, parts)}
    try:
        for future in as_completed(futures):
            result = future.result()
            part = part_of[future.key]
            if bar is not None:
                bar.update(part.n_lines)
            yield part, result
    except BaseException:
        dask_client.cancel(futures)
        raise
    finally:
        dask_client.cancel([obj[1] for obj in shared if isinstance(obj, tuple)])


def _check_work_folder(work, fingerprint):
    """Create the work folder, or check that its partitions come from the same run."""
    record = os.path.join(work, "fingerprint.json")
    expected = json.loads(json.dumps(fingerprint))
    if os.path.exists(record):
        with open(record) as f:
            found = json.load(f)
        if found == expected:
            return
        if any(name.startswith("part-") for name in os.listdir(work)):
            differ = sorted(k for k in set(found) | set(expected)
                            if found.get(k) != expected.get(k))
            raise ValueError(
                f"The work folder {work!r} holds partitions of another run (different "
                f"{', '.join(differ)}); remove it to start again, or write to another output."
            )
        shutil.rmtree(work)  # a run that finished no partition: nothing to keep
    os.makedirs(work, exist_ok=True)
    with atomic_open(record, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


def write_on_cluster(model, variants, genome, out, *, client, model_file=None, format=None,
                     progress=False, evalues=None, significance=None, significance_out=None,
                     scores=SCORES, targets=None, partition_size=20_000, worker_threads=None,
                     **options):
    """:func:`write_variant_scores` on a Dask cluster; see it for the parameters."""
    from tqdm.auto import tqdm

    from ..genome import Genome

    pyarrow_modules()  # the partition files are Parquet: fail before any work
    worker_threads = check_worker_threads(worker_threads)
    path = os.path.abspath(os.fspath(out))
    fmt = _format_of(path, format)
    variants = _cluster_vcf(variants)
    genome = os.path.abspath(genome.path if isinstance(genome, Genome) else os.fspath(genome))
    names = ModelTargets(model, targets).names
    written_scores = output_scores(scores, evalues, significance)
    per_variant = significance.columns if significance is not None else []
    if significance is not None:  # before any work, as in this process
        significance.check_targets(names, options.get("strand", "mean"))
    parts = plan_partitions(variants, partition_size, _chunk_size(options))
    job = {"variants": variants, "genome": genome, "work": path + WORK_SUFFIX,
           "names": names, "written_scores": written_scores, "per_variant": per_variant,
           "options": dict(options, targets=targets, scores=tuple(scores))}
    fingerprint = {
        "skdeepsea": __version__, "variants": _file_identity(variants),
        "genome": _file_identity(genome), "model": _model_identity(model, model_file),
        "options": repr(sorted(job["options"].items())),
        "evalues": None if evalues is None else joblib.hash(evalues),
        "significance": None if significance is None else joblib.hash(significance),
        "partitions": [list(p) for p in parts],
    }
    work = job["work"]
    _check_work_folder(work, fingerprint)
    for name in os.listdir(work):  # temporary files of killed tasks
        if name.startswith(TEMPORARY_PREFIX):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(work, name))
    finished = [p for p in parts if os.path.exists(partition_path(work, p.index))]
    todo = [p for p in parts if not os.path.exists(partition_path(work, p.index))]
    # The workers load the model and e-values from files (of this run: the fingerprint
    # matched) once each.
    if model_file is not None:
        model_file = os.path.abspath(model_file)
    else:
        model_file = os.path.join(work, "model.skdeepsea")
        if todo and not os.path.exists(model_file):
            model.save(model_file)
    shared_files = [_shared_file(work, name, obj, todo) for name, obj in
                    (("evalues", evalues), ("significance", significance))]
    dask_client, own_client = _connect(client)
    try:
        job["threads"] = _job_threads(dask_client, worker_threads)
        with tqdm(total=sum(p.n_lines for p in parts), initial=sum(p.n_lines for p in finished),
                  unit=" lines", desc="Scoring variants", disable=not progress) as bar:
            for _ in _run_partitions(dask_client, todo, job, model_file, *shared_files, bar):
                pass
    finally:
        if own_client:
            dask_client.close()
    table = SignificanceTable(per_variant) if significance_out is not None else None
    summary = _assemble(parts, work, path, fmt, names, written_scores,
                        file_attributes(model, options, significance), per_variant, table,
                        significance_out)
    summary.update(partitions=len(parts), partitions_reused=len(finished))
    shutil.rmtree(work)
    return summary


def _shared_file(work, name, obj, todo):
    """``obj`` saved once in the work folder for the workers to load; None for None."""
    if obj is None:
        return None
    path = os.path.join(work, f"{name}.joblib")
    if todo and not os.path.exists(path):
        with atomic_path(path) as temporary:
            joblib.dump(obj, temporary)
    return path


def _assemble(parts, work, path, fmt, names, written_scores, attrs, per_variant=(),
              table=None, table_path=None):
    """Copy the partition files, in order, into the output; return the summed counts.

    With ``table`` (a ``SignificanceTable``), also collect the variants into
    it and write it to ``table_path`` before the output is committed.
    """
    _, pq = pyarrow_modules()
    summary = new_summary(bool(per_variant))
    summary["malformed_skipped"] = 0
    with atomic_path(path) as temporary:
        writer = open_writer(fmt, temporary, path, names, written_scores, attrs,
                             extra=per_variant)
        with contextlib.closing(writer):
            for part in parts:
                with pq.ParquetFile(partition_path(work, part.index)) as source:
                    counts = json.loads(source.metadata.metadata[_SUMMARY_KEY])
                    for group in range(source.num_row_groups):
                        chunk = source.read_row_group(group).to_pandas()
                        writer.write(chunk, names, written_scores)
                        if table is not None:
                            table.add(chunk)
                for key in ("variants", "scored", "padded", "malformed_skipped"):
                    summary[key] += counts[key]
                for reason, count in counts["not_scored"].items():
                    summary["not_scored"][reason] = summary["not_scored"].get(reason, 0) + count
                # JSON made the thresholds strings.
                for threshold, count in counts.get("funsig_below", {}).items():
                    summary["funsig_below"][float(threshold)] += count
            if summary["variants"] == 0 and fmt == "tsv":
                write_empty_tsv_header(writer, names, written_scores, per_variant)
        if table is not None:
            table.write(table_path)
    return summary


def _cluster_vcf(variants):
    """The absolute path of a VCF file to score on a cluster; errors for anything else."""
    if not isinstance(variants, pd.DataFrame):
        path = os.fspath(variants)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Variant file not found: {path!r}.")
        if _is_vcf(path):
            return os.path.abspath(path)
    what = "a DataFrame" if isinstance(variants, pd.DataFrame) else repr(os.fspath(variants))
    raise ValueError(
        f"Scoring on a Dask cluster reads a VCF file (partitions by tabix region or by lines); "
        f"got {what}, which is not one. Write the table as a VCF, or score it without a client."
    )


def score_on_cluster(model, variants, genome, *, client, model_file=None, evalues=None,
                     significance=None, report=None, partition_size=20_000, worker_threads=None,
                     **options):
    """:func:`score_variants` on a Dask cluster: the chunks of every partition, in order.

    Returns
    -------
    chunks : list of pandas.DataFrame
    """
    from ..genome import Genome

    worker_threads = check_worker_threads(worker_threads)
    variants = _cluster_vcf(variants)
    genome = os.path.abspath(genome.path if isinstance(genome, Genome) else os.fspath(genome))
    parts = plan_partitions(variants, partition_size, _chunk_size(options))
    job = {"variants": variants, "genome": genome, "work": None, "options": options}
    dask_client, own_client = _connect(client)
    try:
        job["threads"] = _job_threads(dask_client, worker_threads)
        results = dict(_run_partitions(dask_client, parts, job,
                                       os.path.abspath(model_file) if model_file else model,
                                       evalues, significance, None))
    finally:
        if own_client:
            dask_client.close()
    for part in parts:
        if report is not None:
            _add_malformed(report, results[part][0])
    return [chunk for part in parts for chunk in results[part][1]]


def _add_malformed(report, summary):
    for line in summary["malformed_lines"]:
        report.add(line)
    report.malformed += summary["malformed_skipped"] - len(summary["malformed_lines"])
