"""Streaming variant scores to TSV or HDF5, atomically."""

import contextlib
import gzip
import os

import numpy as np
import pandas as pd

from .._atomic import atomic_path
from ._io import ReadReport
from ._scoring import INFO_COLUMNS, SCORES, ModelTargets, column_name, iter_variant_scores

FORMATS = ("tsv", "hdf5")


def _format_of(path, format):
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {format!r}.")
        return format
    lower = path.lower()
    return "hdf5" if lower.endswith((".h5", ".hdf5", ".hdf")) else "tsv"


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


def write_variant_scores(model, variants, genome, out, *, format=None, progress=False,
                         evalues=None, scores=SCORES, targets=None, **options):
    """Score variants and stream the scores to a TSV or HDF5 file.

    Variants are read, scored and written ``chunk_size`` at a time, so memory
    stays bounded whatever the number of variants. The file is written under
    a temporary name (``.tmp-...`` in the same folder) and renamed to ``out``
    only when complete; on an error it is removed.

    Parameters
    ----------
    model, variants, genome
        As for :func:`score_variants`.
    out : str or path-like
        Output file: HDF5 if it ends in ``.h5``/``.hdf5``, else TSV (gzip
        compressed if it ends in ``.gz``).
    format : {"tsv", "hdf5"} or None, default=None
        Overrides the choice by file name.
    progress : bool, default=False
        Show a tqdm progress bar over the variants.
    evalues : EValueTransformer or None, default=None
        Adds e-values (stored as the score ``evalue``).
    scores : tuple of str, default=all six
        Scores to write.
    targets : list or None, default=None
        Targets to score; None: all.
    **options
        Further keyword arguments of :func:`score_variants` (``strand``,
        ``max_indel_length``, ``ref_mismatch``, ``on_malformed``,
        ``chunk_size``, ``batch_size``, ``epsilon``).

    Returns
    -------
    summary : dict
        ``variants`` (ALT alleles read), ``scored``, ``not_scored`` (a dict
        from reason to count), ``padded`` and ``malformed_skipped``.

    Notes
    -----
    The HDF5 file holds ``/variants/<column>`` (chrom, pos, id, ref, alt,
    line, ref_match as 1/0/-1 for unknown, padded, scored, reason) and
    ``/scores/<score>`` of shape ``(n_variants, n_targets)`` (float32), with
    the target names in the file attribute ``target_names``. Read either
    format back with :func:`read_variant_scores`.
    """
    from tqdm.auto import tqdm

    path = os.fspath(out)
    fmt = _format_of(path, format)
    names = ModelTargets(model, targets).names
    written_scores = tuple(scores) + (("evalue",) if evalues is not None else ())
    report = ReadReport()
    summary = {"variants": 0, "scored": 0, "not_scored": {}, "padded": 0}
    with tqdm(unit=" variants", desc="Scoring variants", disable=not progress) as bar, \
            atomic_path(path) as temporary:
        if fmt == "hdf5":
            attrs = {"sequence_length": model.sequence_length_,
                     "strand": options.get("strand", "mean")}
            writer = _HDF5Writer(temporary, names, written_scores, attrs)
        else:
            writer = _TSVWriter(temporary, compress=path.lower().endswith(".gz"))
        with contextlib.closing(writer):
            for chunk in iter_variant_scores(model, variants, genome, targets=targets,
                                             scores=scores, evalues=evalues, report=report,
                                             progress=bar, **options):
                writer.write(chunk, names, written_scores)
                summary["variants"] += len(chunk)
                summary["scored"] += int(chunk["scored"].sum())
                summary["padded"] += int(chunk["padded"].sum())
                not_scored = summary["not_scored"]
                for reason, count in chunk.loc[~chunk["scored"], "reason"].value_counts().items():
                    not_scored[reason] = not_scored.get(reason, 0) + int(count)
            if summary["variants"] == 0 and fmt == "tsv":
                writer.file.write("\t".join(INFO_COLUMNS + [column_name(s, t)
                                                            for s in written_scores
                                                            for t in names]) + "\n")
    summary["malformed_skipped"] = report.malformed
    return summary


def read_variant_scores(path):
    """Read a file written by :func:`write_variant_scores` into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        A TSV (optionally gzip compressed) or HDF5 file of variant scores.

    Returns
    -------
    scores : pandas.DataFrame
        The columns of :func:`score_variants`.
    """
    path = os.fspath(path)
    if _format_of(path, None) == "tsv":
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
