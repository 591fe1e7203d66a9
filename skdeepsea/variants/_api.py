"""The two entry points of variant scoring: in this process or on a Dask cluster.

They sit above both ways of running (``_scoring`` and ``_output`` in this
process, ``_distributed`` on a cluster), so that neither imports the other.
"""

import contextlib
import os

import pandas as pd

from .._atomic import atomic_path, check_output_path
from .._constraints import Boolean, Options, PathLike, parameter_constraints
from ._distributed import score_on_cluster, write_on_cluster
from ._io import ReadReport
from ._output import (
    FORMATS,
    SignificanceTable,
    _format_of,
    add_counts,
    file_attributes,
    new_summary,
    open_writer,
    write_empty_tsv_header,
)
from ._scoring import (
    INFO_COLUMNS,
    SCORE_CONSTRAINTS,
    SCORES,
    ModelTargets,
    column_name,
    iter_variant_scores,
    output_scores,
)

# write_variant_scores: a saved model's path too, and the output's parameters; no
# report (the summary counts what was skipped).
WRITE_CONSTRAINTS = {
    **{name: value for name, value in SCORE_CONSTRAINTS.items() if name != "report"},
    "out": [PathLike()],
    "format": [None, Options(str, FORMATS)],
    "progress": [Boolean()],
    "significance_out": [None, PathLike()],
    "model": [*SCORE_CONSTRAINTS["model"], PathLike()],
}


@parameter_constraints(SCORE_CONSTRAINTS)
def score_variants(model, variants, genome, *, targets=None, strand="mean",
                   max_indel_length=100, ref_mismatch="skip", on_malformed="error",
                   chunk_size=2000, batch_size=None, epsilon=None, scores=SCORES,
                   evalues=None, significance=None, report=None, client=None,
                   partition_size=20_000, worker_threads=None, contig_ends="skip",
                   method="auto"):
    """DeepSEA scores of noncoding variants, as a DataFrame.

    Each variant (each ALT allele of a multi-allelic record) is placed in
    DeepSEA's window: ``L = model.sequence_length_`` bases with the
    variant's first base at 0-based index ``L // 2 - 1`` (499 for 1000 bp).
    Indels are built the DeepSEA way (``L + 100`` bases fetched, allele
    substituted, central ``L`` kept); a variant whose ``L + 100`` bases leave
    the contig is not scored, as in DeepSEA. The reference and alternative
    windows and their reverse complements are predicted, and the scores
    computed per strand and averaged as DeepSEA v0.94 does. SNVs reuse their
    reference windows' activations (see ``method``).

    Parameters
    ----------
    model : DeepSEAClassifier
        A fitted classifier of one-hot DNA (e.g. from :func:`skdeepsea.load`).
    variants : str, path-like or pandas.DataFrame
        A VCF (plain, gzip or bgzip), a table with chrom, pos (1-based), ref,
        alt (and optional id) columns, or such a DataFrame.
    genome : Genome, str or path-like
        The reference genome, or its FASTA file. Contig names ``chr1`` and
        ``1`` are matched to each other.
    targets : list of str or int, or None, default=None
        Targets to score (names or indices); None scores all.
    strand : {"mean", "forward", "max"}, default="mean"
        "mean" (DeepSEA): ``diff`` and ``logfc`` computed on the forward and
        on the reverse-complement windows and each averaged over the two,
        ``effect = |mean diff x mean logfc|``, ``ref`` / ``alt`` the
        strand-averaged probabilities; "forward": the forward windows only;
        "max": per variant and target, every score from the strand with the
        larger effect.
    max_indel_length : int, default=100
        Longer alleles (not counting the anchor base) are not scored; their
        ``reason`` says so.
    ref_mismatch : {"skip", "score"}, default="skip"
        A REF that disagrees with the genome is reported (``ref_match``
        False) and not scored, or scored with the file's REF ("score").
    on_malformed : {"error", "skip"}, default="error"
        A malformed line raises an error naming its line number, or is
        skipped and counted in ``report``.
    chunk_size : int, default=2000
        Variants read and scored at a time: memory is bounded by it (the
        windows of 2000 variants, both alleles and strands, are 32 MB of
        uint8, which Keras casts to float one batch at a time).
    batch_size : int or None, default=None
        Sequences per forward pass; None uses the model's ``batch_size``.
    epsilon : float or None, default=None
        None: ``logfc`` unclipped, as DeepSEA; a number in [0, 0.5) clips the
        probabilities to ``[epsilon, 1 - epsilon]`` first (a departure from
        DeepSEA, so that no score is infinite).
    scores : tuple of str, default=("ref", "alt", "diff", "logfc", "abs_diff", "effect")
        Scores to output.
    evalues : EValueTransformer or None, default=None
        If fitted on background scores, adds ``evalue:<target>`` columns.
    significance : VariantSignificance or None, default=None
        DeepSEA's disease step (e.g. ``VariantSignificance.from_deepsea``):
        adds ``evalue:<target>`` columns against its background, then the
        per-variant columns of ``significance.columns`` (conservation scores
        and their e-values, ``funsig``, classifier probabilities). Needs all
        of its targets (``targets=None``, a model of those targets) and
        ``strand="mean"``; not with ``evalues``.
    report : ReadReport or None, default=None
        Receives the count of skipped malformed lines.
    client : str, distributed.Client or None, default=None
        Score on a Dask cluster (a scheduler address or a client): partitions
        of ``partition_size`` lines of the VCF file ``variants`` are scored
        by the workers, which must read ``variants`` and ``genome`` under the
        same paths; the model is sent once to each worker. For outputs larger
        than memory, use :func:`write_variant_scores` with ``client``.
    partition_size : int, default=20_000
        With ``client``: VCF data lines per task.
    worker_threads : int or None, default=None
        With ``client``: the threads each worker computes a partition with
        (NumPy's BLAS and OpenMP and, on the torch backend, PyTorch's CPU
        threads, set inside the task: a Dask worker starts with them at 1).
        None: the worker's share of its machine's cores (the cores it may run
        on divided by the cluster's worker processes on that machine when the
        run starts). JAX's and TensorFlow's CPU threads are fixed when a
        worker starts (the user guide's "Genome-wide scoring on a Dask
        cluster" says how to set them).
    contig_ends : {"skip", "pad"}, default="skip"
        A variant whose ``L + 100`` fetched bases (``pos - 549 .. pos + 550``
        for 1000 bp) leave the contig is not scored ("skip", as DeepSEA; its
        ``reason`` says so), or scored with N past the end ("pad", flagged in
        ``padded``).
    method : {"auto", "naive", "fast", "device"}, default="auto"
        How SNVs are predicted: "naive" runs the network on all four windows;
        "fast" runs each reference window (both strands) once and propagates
        the substitution through the changed receptive field only (equal to
        "naive" to float32 rounding); "device" sends each reference window
        once (uint8, with the ALT base) and makes the alternative and the
        reverse complements inside the compiled step, then runs the four
        windows (any network); "auto" uses "device" when the Keras backend
        computes on a GPU or TPU, else "fast" when the network allows it
        (valid convolutions and poolings, Flatten, dense layers, as
        DeepSEA's) and a cost model says it is faster. Indels always take
        full passes.

    Returns
    -------
    scores : pandas.DataFrame
        One row per ALT allele: chrom, pos, id, ref, alt, line (of the input),
        ref_match (NA when unknown), padded (with ``contig_ends="pad"``: a
        window ran past a contig end and holds N there), scored, reason (why not scored), then one column
        ``"<score>:<target>"`` per score and target (NaN if not scored), and
        with ``significance`` its per-variant columns.

    Raises
    ------
    ValueError
        For a parameter of the wrong type or value, naming it, before
        anything is read; ``worker_threads`` without ``client``, ``evalues``
        with ``significance``, a ``significance`` that does not fit the model
        or ``strand``; a malformed line (``MalformedVariantError``).

    See Also
    --------
    write_variant_scores : The same, streamed to a TSV or HDF5 file.
    """
    options = dict(targets=targets, strand=strand, max_indel_length=max_indel_length,
                   ref_mismatch=ref_mismatch, on_malformed=on_malformed, chunk_size=chunk_size,
                   batch_size=batch_size, epsilon=epsilon, scores=scores,
                   contig_ends=contig_ends, method=method)
    _check_cluster_option(client, worker_threads)
    if client is not None:
        chunks = score_on_cluster(model, variants, genome, client=client, evalues=evalues,
                                  significance=significance, report=report,
                                  partition_size=partition_size, worker_threads=worker_threads,
                                  **options)
    else:
        chunks = list(iter_variant_scores(model, variants, genome, evalues=evalues,
                                          significance=significance, report=report,
                                          **options))
    if not chunks:
        empty = pd.DataFrame(columns=INFO_COLUMNS)
        names = ModelTargets(model, targets).names
        per_variant = significance.columns if significance is not None else []
        return empty.reindex(columns=INFO_COLUMNS + [
            column_name(s, t) for s in output_scores(scores, evalues, significance)
            for t in names] + per_variant)
    return pd.concat(chunks, ignore_index=True)


@parameter_constraints(WRITE_CONSTRAINTS)  # the options of **options too
def write_variant_scores(model, variants, genome, out, *, format=None, progress=False,
                         evalues=None, significance=None, significance_out=None,
                         scores=SCORES, targets=None, client=None, partition_size=20_000,
                         worker_threads=None, **options):
    """Score variants and stream the scores to a TSV, HDF5 or Parquet file.

    Variants are read, scored and written ``chunk_size`` at a time, so memory
    stays bounded whatever the number of variants. The file is written under
    a temporary name (``.tmp-...`` in the same folder) and renamed to ``out``
    only when complete; on an error it is removed.

    With ``client``, the variants are scored on a Dask cluster (the user
    guide's "Genome-wide scoring on a Dask cluster"): the VCF is
    split into partitions of ``partition_size`` lines, workers score them
    into a work folder ``<out>.parts`` beside ``out``, and the partitions are
    assembled into ``out`` in input order. An interrupted run keeps the
    finished partitions; running it again with the same output, inputs and
    options scores only the others.

    Parameters
    ----------
    model : DeepSEAClassifier, str or path-like
        A fitted classifier, or the path of a saved one (each worker of a
        cluster then loads it once from the file).
    variants, genome
        As for :func:`score_variants`. With ``client``, ``variants`` is a VCF
        file, and both are paths the workers can read.
    out : str or path-like
        Output file: HDF5 if it ends in ``.h5``/``.hdf5``, Parquet if it ends
        in ``.parquet``/``.pq``, else TSV (gzip compressed if it ends in
        ``.gz``).
    format : {"tsv", "hdf5", "parquet"} or None, default=None
        Overrides the choice by file name.
    progress : bool, default=False
        Show a tqdm progress bar over the variants.
    evalues : EValueTransformer or None, default=None
        Adds e-values (stored as the score ``evalue``).
    significance : VariantSignificance or None, default=None
        Adds DeepSEA's e-values, functional significance score and variant
        classes (see :func:`score_variants`); the summary then counts the
        variants below DeepSEA's thresholds.
    significance_out : str, path-like or None, default=None
        With ``significance``: also write the scored variants sorted by
        ``funsig`` (ascending; chrom, pos, id, ref, alt, ``funsig`` and the
        classifier probabilities) to this TSV, as DeepSEA's ``.funsig``
        output.
    scores : tuple of str, default=all six
        Scores to write.
    targets : list or None, default=None
        Targets to score; None: all.
    client : str, distributed.Client or None, default=None
        Score on a Dask cluster: a scheduler address (``"tcp://host:8786"``)
        or a connected client. The workers must see ``variants``,
        ``genome``, a ``model`` given as a path, and the folder of ``out``
        under the same paths (a shared file system).
    partition_size : int, default=20_000
        With ``client``: VCF data lines per partition (one task each).
    worker_threads : int or None, default=None
        With ``client``: the threads each worker computes a partition with,
        as for :func:`score_variants`.
    **options
        Further keyword arguments of :func:`score_variants` (``strand``,
        ``max_indel_length``, ``ref_mismatch``, ``on_malformed``,
        ``chunk_size``, ``batch_size``, ``epsilon``, ``contig_ends``,
        ``method``).

    Returns
    -------
    summary : dict
        ``variants`` (ALT alleles read), ``scored``, ``not_scored`` (a dict
        from reason to count), ``padded`` and ``malformed_skipped``; with
        ``client`` also ``partitions`` and ``partitions_reused`` (finished by
        an earlier, interrupted run); with ``significance`` also
        ``funsig_below`` (a dict from DeepSEA's thresholds 0.05 and 0.01 to
        the number of variants whose ``funsig`` is below it) and
        ``functional_significance`` (what the score was computed from).

    Raises
    ------
    ValueError
        For a parameter or option of the wrong type or value, naming it,
        before anything is read or written; ``out`` or ``significance_out``
        over an input; ``significance_out`` without ``significance``. With
        ``client``: the work folder holds partitions of another run (other
        inputs or options); its message names what differs.
    TypeError
        For a keyword argument that is none of the options above.

    Notes
    -----
    The HDF5 file holds ``/variants/<column>`` (chrom, pos, id, ref, alt,
    line, ref_match as 1/0/-1 for unknown, padded, scored, reason) and
    ``/scores/<score>`` of shape ``(n_variants, n_targets)`` (float32), with
    the target names in the file attribute ``target_names``, and
    ``/significance/<column>`` (float64) for the columns of ``significance``
    (listed, in order, by the attribute ``significance_columns``). The Parquet
    file has the columns of :func:`score_variants` (scores as float32), one
    row group per chunk, and the target names, scores, window length and
    strand as JSON under the key ``skdeepsea`` of its metadata; it needs
    pyarrow (the ``parquet`` extra) and is read by ``pandas.read_parquet``,
    polars or DuckDB. Read any format back with :func:`read_variant_scores`.
    """
    inputs = {"variants": variants, "genome": getattr(genome, "path", genome), "model": model}
    check_output_path(out, inputs)
    if significance_out is not None:
        if significance is None:
            raise ValueError("significance_out needs significance: the functional "
                             "significance scores it sorts the variants by.")
        check_output_path(significance_out, dict(inputs, out=out), option="significance_out")
    _check_cluster_option(client, worker_threads)
    if isinstance(model, (str, os.PathLike)):
        from ..pretrained import load_model_file

        model_file, model = os.fspath(model), load_model_file(model)
    else:
        model_file = None
    if client is not None:
        summary = write_on_cluster(model, variants, genome, out, client=client,
                                   model_file=model_file, format=format, progress=progress,
                                   evalues=evalues, significance=significance,
                                   significance_out=significance_out, scores=scores,
                                   targets=targets, partition_size=partition_size,
                                   worker_threads=worker_threads, **options)
    else:
        summary = _write_in_process(model, variants, genome, os.fspath(out), format=format,
                                    progress=progress, evalues=evalues,
                                    significance=significance,
                                    significance_out=significance_out, scores=scores,
                                    targets=targets, options=options)
    if significance is not None:
        summary["functional_significance"] = significance.describe()
    return summary


def _check_cluster_option(client, worker_threads):
    """``worker_threads`` is for a cluster's workers: refused without ``client``."""
    if worker_threads is not None and client is None:
        raise ValueError("worker_threads sets the threads of a Dask cluster's workers; "
                         "it needs client (in this process the backend uses every core).")


def _write_in_process(model, variants, genome, path, *, format, progress, evalues,
                      significance, significance_out, scores, targets, options):
    """:func:`write_variant_scores` in this process, a chunk at a time."""
    from tqdm.auto import tqdm

    fmt = _format_of(path, format)
    names = ModelTargets(model, targets).names
    written_scores = output_scores(scores, evalues, significance)
    per_variant = significance.columns if significance is not None else []
    table = SignificanceTable(per_variant) if significance_out is not None else None
    report = ReadReport()
    summary = new_summary(significance is not None)
    with tqdm(unit=" variants", desc="Scoring variants", disable=not progress) as bar, \
            atomic_path(path) as temporary:
        writer = open_writer(fmt, temporary, path, names, written_scores,
                             file_attributes(model, options, significance), extra=per_variant)
        with contextlib.closing(writer):
            for chunk in iter_variant_scores(model, variants, genome, targets=targets,
                                             scores=scores, evalues=evalues,
                                             significance=significance, report=report,
                                             progress=bar, **options):
                writer.write(chunk, names, written_scores)
                add_counts(summary, chunk)
                if table is not None:
                    table.add(chunk)
            if summary["variants"] == 0 and fmt == "tsv":
                write_empty_tsv_header(writer, names, written_scores, per_variant)
        # Before the scores are committed: an error here leaves neither file.
        if table is not None:
            table.write(significance_out)
    summary["malformed_skipped"] = report.malformed
    return summary
