"""Variant score files: the TSV, HDF5 and Parquet writers, and their reader."""

import gzip
import json
import os

import numpy as np
import pandas as pd

from .._constraints import PathLike, parameter_constraints
from .._validation import check_columns
from ..exceptions import damaged
from ._scoring import INFO_COLUMNS, SCORES, column_name

FORMATS = ("tsv", "hdf5", "parquet")


def _format_of(path, format):
    """``format`` (checked by write_variant_scores' constraints), else the one of the name."""
    if format is not None:
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
    """Resizable datasets: /variants/<column>, /scores/<score> of shape (n, T) and
    /significance/<column> (the per-variant columns of ``significance``)."""

    def __init__(self, path, names, scores, attrs, extra=()):
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
        self.info = {column: self.file.create_dataset(
            f"variants/{column}", shape=(0,), maxshape=(None,),
            dtype=types.get(column, string), chunks=(4096,)) for column in INFO_COLUMNS}
        T = max(len(names), 1)
        # Chunks of about 1 MB (h5py's advice): a chunk is written whole, so a short
        # last chunk of 4 MB chunks cost more than the scores in it.
        self.datasets = {score: self.file.create_dataset(
            f"scores/{score}", shape=(0, len(names)), maxshape=(None, len(names)),
            dtype=np.float32, chunks=(max(1, min(4096, 2**18 // T)), T)) for score in scores}
        self.columns = {score: [column_name(score, t) for t in names] for score in scores}
        self.extra = {column: self.file.create_dataset(
            f"significance/{column}", shape=(0,), maxshape=(None,), dtype=np.float64,
            chunks=(4096,)) for column in extra}

    def write(self, frame, names, scores):
        k = len(frame)
        start, self.n = self.n, self.n + k
        for column, dataset in self.info.items():
            data = frame[column]
            if column == "ref_match":
                data = np.where(data.isna(), -1, data.fillna(False).astype(int)).astype(np.int8)
            elif column in _STRING_COLUMNS:
                data = data.astype(str).to_numpy(dtype=object)
            else:
                data = data.to_numpy()
            dataset.resize((self.n,))
            dataset[start:self.n] = data
        for score, dataset in self.datasets.items():
            dataset.resize((self.n, len(names)))
            dataset[start:self.n] = frame[self.columns[score]].to_numpy(dtype=np.float32)
        for column, dataset in self.extra.items():
            dataset.resize((self.n,))
            dataset[start:self.n] = frame[column].to_numpy(dtype=np.float64)

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

    def __init__(self, path, names, scores, attrs, score_type="float32", extra=()):
        pa, pq = pyarrow_modules()
        fields = [pa.field(c, getattr(pa, _ARROW_TYPES.get(c, "string"))())
                  for c in INFO_COLUMNS]
        fields += [pa.field(column_name(s, t), getattr(pa, score_type)())
                   for s in scores for t in names]
        fields += [pa.field(column, pa.float64()) for column in extra]
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


def open_writer(fmt, temporary, path, names, scores, attrs, score_type="float32", extra=()):
    """A writer of chunks of variant scores in format ``fmt``, with ``write`` and ``close``.

    ``extra`` names the per-variant float columns after the scores (those of
    a ``VariantSignificance``), kept as float64.
    """
    if fmt == "hdf5":
        return _HDF5Writer(temporary, names, scores, attrs, extra)
    if fmt == "parquet":
        return _ParquetWriter(temporary, names, scores, attrs, score_type, extra)
    return _TSVWriter(temporary, compress=path.lower().endswith(".gz"))


FUNSIG_THRESHOLDS = (0.05, 0.01)
"""DeepSEA's summary counts the variants whose functional significance is below these."""


def new_summary(significance=False):
    """The counts :func:`write_variant_scores` returns, all zero.

    With ``significance``, also ``funsig_below`` (threshold to count).
    """
    summary = {"variants": 0, "scored": 0, "not_scored": {}, "padded": 0}
    if significance:
        summary["funsig_below"] = {t: 0 for t in FUNSIG_THRESHOLDS}
    return summary


def add_counts(summary, chunk):
    """Count one chunk of scores into ``summary`` (of :func:`new_summary`)."""
    summary["variants"] += len(chunk)
    summary["scored"] += int(chunk["scored"].sum())
    summary["padded"] += int(chunk["padded"].sum())
    if "funsig_below" in summary:
        funsig = chunk["funsig"].to_numpy()
        for threshold in summary["funsig_below"]:
            summary["funsig_below"][threshold] += int(np.sum(funsig < threshold))
    not_scored = summary["not_scored"]
    for reason, count in chunk.loc[~chunk["scored"].astype(bool), "reason"].value_counts().items():
        not_scored[reason] = not_scored.get(reason, 0) + int(count)


class SignificanceTable:
    """The variants sorted by functional significance, as DeepSEA's ``.funsig`` output.

    Collects the scored variants' chrom, pos, id, ref, alt, ``funsig`` and
    classifier probabilities chunk by chunk (a few numbers per variant) and
    writes them sorted by ``funsig``, ascending, as a TSV.

    Parameters
    ----------
    columns : list of str
        The per-variant columns of the ``VariantSignificance``.
    """

    INFO = ["chrom", "pos", "id", "ref", "alt"]

    def __init__(self, columns):
        self.columns = ["funsig"] + [c for c in columns if c.endswith("_probability")]
        self.parts = []

    def add(self, chunk):
        """Keep the scored variants of one chunk of scores."""
        self.parts.append(chunk.loc[chunk["scored"].astype(bool), self.INFO + self.columns])

    def write(self, path):
        """Write the table, sorted by ``funsig`` (stable), through the atomic writer."""
        from .._atomic import atomic_path

        frame = (pd.concat(self.parts, ignore_index=True) if self.parts
                 else pd.DataFrame(columns=self.INFO + self.columns))
        frame = frame.sort_values("funsig", kind="stable", na_position="last")
        with atomic_path(os.fspath(path)) as temporary:
            frame.to_csv(temporary, sep="\t", index=False, na_rep="NA", float_format="%.4e")


def write_empty_tsv_header(writer, names, scores, extra=()):
    """The header line of a TSV of no variants."""
    writer.file.write("\t".join(INFO_COLUMNS + [column_name(s, t) for s in scores
                                                for t in names] + list(extra)) + "\n")


def file_attributes(model, options, significance=None):
    """What HDF5 and Parquet files record of the run beside the scores."""
    attrs = {"sequence_length": int(model.sequence_length_),
             "strand": options.get("strand", "mean")}
    if significance is not None:
        attrs["functional_significance"] = significance.describe()
        attrs["significance_columns"] = json.dumps(significance.columns)
    return attrs


_WRITTEN_BY_US = "a variant score file written by skdeepsea"


@parameter_constraints({"path": [PathLike()]})
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

    Raises
    ------
    ValueError
        If ``path`` is not a path; if the file lacks the columns (or HDF5
        datasets) the package writes, naming them; ``DamagedFileError`` (a
        ``ValueError``) if it cannot be read as its format.
    """
    path = os.fspath(path)
    fmt = _format_of(path, None)
    if fmt == "parquet":
        import pyarrow

        try:
            frame = pd.read_parquet(path)
        except (pyarrow.ArrowException, OSError) as error:
            raise damaged(path, "Parquet", error) from error
        check_columns(frame.columns, INFO_COLUMNS, path, _WRITTEN_BY_US)
        frame["ref_match"] = frame["ref_match"].astype("boolean")
        scores = frame.columns[len(INFO_COLUMNS):]
        frame[scores] = frame[scores].astype(np.float64)
        return frame
    if fmt == "tsv":
        frame = pd.read_csv(path, sep="\t", dtype={"chrom": str, "id": str, "ref": str,
                                                   "alt": str, "reason": str},
                            keep_default_na=False, na_values=["NA"])
        check_columns(frame.columns, INFO_COLUMNS, path, _WRITTEN_BY_US)
        frame["reason"] = frame["reason"].fillna("")
        frame["ref_match"] = frame["ref_match"].map(
            {True: True, False: False, "True": True, "False": False}).astype("boolean")
        return frame
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise damaged(path, "HDF5", error) from error
    with handle as f:
        check_columns([f"variants/{c}" for c in f.get("variants", {})] + list(f.attrs),
                      [f"variants/{c}" for c in INFO_COLUMNS] + ["target_names"], path,
                      _WRITTEN_BY_US)
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
        significance = f.get("significance", {})
        # In the order they were written (HDF5 lists a group's members by name).
        for column in json.loads(f.attrs.get("significance_columns", "[]")):
            columns[column] = significance[column][()]
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1)
