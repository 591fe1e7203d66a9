"""Streaming variant scores to TSV, HDF5 or Parquet, atomically."""

import contextlib
import gzip
import json
import os

import numpy as np
import pandas as pd

from .._atomic import atomic_path
from ._io import ReadReport
from ._scoring import INFO_COLUMNS, SCORES, ModelTargets, column_name, iter_variant_scores

FORMATS = ("tsv", "hdf5", "parquet")


def _format_of(path, format):
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
        return format
    lower = path.lower()
    if lower.endswith((".h5", ".hdf5", ".hdf")):
        return "hdf5"
    return "parquet" if lower.endswith((".parquet", ".pq")) else "tsv"


class _TSVWriter:
    def __init__(self, path, compress):
        self.file = (gzip.open if compress else open)(path, "wt", newline="")
        self.header = True

    def write(self, frame, names, scores):
        frame.to_csv(self.file, sep="\t", index=False, header=self.header, na_rep="NA",
                     float_format="%.6g")
        self.header = False

    def close(self):
        self.file.close()


_STRING_COLUMNS = ("chrom", "id", "ref", "alt", "reason")


class _HDF5Writer:
    """Resizable datasets: /variants/<column> and /scores/<score> of shape (n, T)."""

    def __init__(self, path, names, scores, attrs):
        import h5py

        self.file = h5py.File(path, "w")
        self.n = 0
        self.names, self.scores = names, scores
        for key, value in attrs.items():
            self.file.attrs[key] = value
        self.file.attrs["target_names"] = np.array(names, dtype=h5py.string_dtype())
        string = h5py.string_dtype()
        types = {"pos": np.int64, "line": np.int64, "ref_match": np.int8, "padded": bool,
                 "scored": bool}
        for column in INFO_COLUMNS:
            self.file.create_dataset(f"variants/{column}", shape=(0,), maxshape=(None,),
                                     dtype=types.get(column, string), chunks=(4096,))
        T = max(len(names), 1)
        for score in scores:
            self.file.create_dataset(f"scores/{score}", shape=(0, len(names)),
                                     maxshape=(None, len(names)), dtype=np.float32,
                                     chunks=(max(1, min(4096, 2**20 // T)), T))

    def write(self, frame, names, scores):
        k = len(frame)
        start, self.n = self.n, self.n + k
        for column in INFO_COLUMNS:
            data = frame[column]
            if column == "ref_match":
                data = np.where(data.isna(), -1, data.fillna(False).astype(int)).astype(np.int8)
            elif column in _STRING_COLUMNS:
                data = data.astype(str).to_numpy(dtype=object)
            else:
                data = data.to_numpy()
            dataset = self.file[f"variants/{column}"]
            dataset.resize((self.n,))
            dataset[start:self.n] = data
        for score in scores:
            dataset = self.file[f"scores/{score}"]
            dataset.resize((self.n, len(names)))
            dataset[start:self.n] = frame[[column_name(score, t) for t in names]].to_numpy(
                dtype=np.float32)

    def close(self):
        self.file.close()


_ARROW_TYPES = {"pos": "int64", "line": "int64", "ref_match": "bool_", "padded": "bool_",
                "scored": "bool_"}
PARQUET_METADATA_KEY = b"skdeepsea"


def pyarrow_modules():
    """``pyarrow`` and ``pyarrow.parquet``, or an ImportError saying which extra has them."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as error:
        raise ImportError("Parquet files (and scoring on a Dask cluster) need pyarrow: "
                          "pip install 'skdeepsea[parquet]'.") from error
    return pyarrow, pyarrow.parquet


class _ParquetWriter:
    """One Parquet row group per chunk; the attributes as JSON in the file's metadata."""

    def __init__(self, path, names, scores, attrs, score_type="float32"):
        pa, pq = pyarrow_modules()
        fields = [pa.field(c, getattr(pa, _ARROW_TYPES.get(c, "string"))())
                  for c in INFO_COLUMNS]
        fields += [pa.field(column_name(s, t), getattr(pa, score_type)())
                   for s in scores for t in names]
        attrs = dict(attrs, target_names=list(names), scores=list(scores))
        self.schema = pa.schema(fields, metadata={
            PARQUET_METADATA_KEY: json.dumps(attrs).encode()})
        self.file = pq.ParquetWriter(path, self.schema)

    def write(self, frame, names, scores):
        import pyarrow as pa

        self.file.write_table(pa.Table.from_pandas(frame, schema=self.schema,
                                                   preserve_index=False))

    def add_metadata(self, metadata):
        self.file.add_key_value_metadata(metadata)

    def close(self):
        self.file.close()


def open_writer(fmt, temporary, path, names, scores, attrs, score_type="float32"):
    """A writer of chunks of variant scores in format ``fmt``, with ``write`` and ``close``."""
    if fmt == "hdf5":
        return _HDF5Writer(temporary, names, scores, attrs)
    if fmt == "parquet":
        return _ParquetWriter(temporary, names, scores, attrs, score_type)
    return _TSVWriter(temporary, compress=path.lower().endswith(".gz"))


def new_summary():
    """The counts :func:`write_variant_scores` returns, all zero."""
    return {"variants": 0, "scored": 0, "not_scored": {}, "padded": 0}


def add_counts(summary, chunk):
    """Count one chunk of scores into ``summary`` (of :func:`new_summary`)."""
    summary["variants"] += len(chunk)
    summary["scored"] += int(chunk["scored"].sum())
    summary["padded"] += int(chunk["padded"].sum())
    not_scored = summary["not_scored"]
    for reason, count in chunk.loc[~chunk["scored"].astype(bool), "reason"].value_counts().items():
        not_scored[reason] = not_scored.get(reason, 0) + int(count)


def write_empty_tsv_header(writer, names, scores):
    """The header line of a TSV of no variants."""
    writer.file.write("\t".join(INFO_COLUMNS + [column_name(s, t) for s in scores
                                                for t in names]) + "\n")


def write_variant_scores(model, variants, genome, out, *, format=None, progress=False,
                         evalues=None, scores=SCORES, targets=None, client=None,
                         partition_size=20_000, **options):
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
        an earlier, interrupted run).

    Raises
    ------
    ValueError
        With ``client``: the work folder holds partitions of another run
        (other inputs or options); its message names what differs.

    Notes
    -----
    The HDF5 file holds ``/variants/<column>`` (chrom, pos, id, ref, alt,
    line, ref_match as 1/0/-1 for unknown, padded, scored, reason) and
    ``/scores/<score>`` of shape ``(n_variants, n_targets)`` (float32), with
    the target names in the file attribute ``target_names``. The Parquet
    file has the columns of :func:`score_variants` (scores as float32), one
    row group per chunk, and the target names, scores, window length and
    strand as JSON under the key ``skdeepsea`` of its metadata; it needs
    pyarrow (the ``parquet`` extra) and is read by ``pandas.read_parquet``,
    polars or DuckDB. Read any format back with :func:`read_variant_scores`.
    """
    from tqdm.auto import tqdm

    if isinstance(model, (str, os.PathLike)):
        from ..pretrained import load_model_file

        model_file, model = os.fspath(model), load_model_file(model)
    else:
        model_file = None
    if client is not None:
        from ._distributed import write_on_cluster

        return write_on_cluster(model, variants, genome, out, client=client,
                                model_file=model_file, format=format, progress=progress,
                                evalues=evalues, scores=scores, targets=targets,
                                partition_size=partition_size, **options)
    path = os.fspath(out)
    fmt = _format_of(path, format)
    names = ModelTargets(model, targets).names
    written_scores = tuple(scores) + (("evalue",) if evalues is not None else ())
    report = ReadReport()
    summary = new_summary()
    with tqdm(unit=" variants", desc="Scoring variants", disable=not progress) as bar, \
            atomic_path(path) as temporary:
        writer = open_writer(fmt, temporary, path, names, written_scores,
                             file_attributes(model, options))
        with contextlib.closing(writer):
            for chunk in iter_variant_scores(model, variants, genome, targets=targets,
                                             scores=scores, evalues=evalues, report=report,
                                             progress=bar, **options):
                writer.write(chunk, names, written_scores)
                add_counts(summary, chunk)
            if summary["variants"] == 0 and fmt == "tsv":
                write_empty_tsv_header(writer, names, written_scores)
    summary["malformed_skipped"] = report.malformed
    return summary


def file_attributes(model, options):
    """What HDF5 and Parquet files record of the run beside the scores."""
    return {"sequence_length": int(model.sequence_length_),
            "strand": options.get("strand", "mean")}


def read_variant_scores(path):
    """Read a file written by :func:`write_variant_scores` into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        A TSV (optionally gzip compressed), HDF5 or Parquet file of variant
        scores.

    Returns
    -------
    scores : pandas.DataFrame
        The columns of :func:`score_variants` (scores as float64).
    """
    path = os.fspath(path)
    fmt = _format_of(path, None)
    if fmt == "parquet":
        frame = pd.read_parquet(path)
        frame["ref_match"] = frame["ref_match"].astype("boolean")
        scores = frame.columns[len(INFO_COLUMNS):]
        frame[scores] = frame[scores].astype(np.float64)
        return frame
    if fmt == "tsv":
        frame = pd.read_csv(path, sep="\t", dtype={"chrom": str, "id": str, "ref": str,
                                                   "alt": str, "reason": str},
                            keep_default_na=False, na_values=["NA"])
        frame["reason"] = frame["reason"].fillna("")
        frame["ref_match"] = frame["ref_match"].map(
            {True: True, False: False, "True": True, "False": False}).astype("boolean")
        return frame
    import h5py

    with h5py.File(path, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in f.attrs["target_names"]]
        data = {}
        for column in INFO_COLUMNS:
            values = f[f"variants/{column}"][()]
            if column in _STRING_COLUMNS:
                values = [v.decode() if isinstance(v, bytes) else v for v in values]
            data[column] = values
        frame = pd.DataFrame(data)
        frame["ref_match"] = pd.array(
            [None if v < 0 else bool(v) for v in frame["ref_match"]], dtype="boolean")
        score_names = [s for s in SCORES + ("evalue",) if f"scores/{s}" in f]
        columns = {column_name(s, t): f[f"scores/{s}"][:, j].astype(np.float64)
                   for s in score_names for j, t in enumerate(names)}
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
