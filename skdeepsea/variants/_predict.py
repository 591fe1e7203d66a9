"""Plain prediction on the sequences of a FASTA file or the regions of a BED file."""

import os

import numpy as np
import pandas as pd

from .._constraints import InstanceOf, PathLike, parameter_constraints
from ..exceptions import located_sequence_error
from ..genome import opened_genome
from ..preprocessing import one_hot
from ._scoring import SCORE_CONSTRAINTS, ModelTargets

_PREDICT_CONSTRAINTS = {name: SCORE_CONSTRAINTS[name]
                        for name in ("targets", "chunk_size", "model")}


def _predict_frame(model, sequences, index, targets, chunk_size, where):
    """``where(i, position)`` names the place of a sequence's position, for errors."""
    info = ModelTargets(model, targets)
    parts = []
    for start in range(0, len(sequences), chunk_size):
        try:
            X = one_hot(sequences[start:start + chunk_size], info.alphabet, info.sequence_length)
        except ValueError as error:
            located = located_sequence_error(error, lambda i, p: where(start + i, p))
            if located is None:
                raise
            raise located from error
        parts.append(model.forward(X, targets=info.indices))
    values = np.concatenate(parts) if parts else np.empty((0, len(info.names)))
    return pd.DataFrame(values, index=index, columns=info.names)


@parameter_constraints({**_PREDICT_CONSTRAINTS, "path": [PathLike()]})
def predict_fasta(model, path, *, targets=None, chunk_size=10_000):
    """Predict each sequence of a FASTA file.

    Sequences of another length than the model's are centre-cropped or
    padded with N (as :class:`skdeepsea.OneHotDNA` with ``sequence_length``
    does); strands are combined as the model's ``strand`` says.

    Parameters
    ----------
    model : DeepSEAClassifier
        A fitted classifier of one-hot DNA.
    path : str or path-like
        FASTA file (plain or gzip), read with pysam.
    targets : list of str or int, or None, default=None
        Targets to predict; None: all.
    chunk_size : int, default=10_000
        Sequences encoded at a time.

    Returns
    -------
    proba : pandas.DataFrame
        One row per record, indexed by its name; one column per target.

    Raises
    ------
    ValueError
        For a parameter of the wrong type or value, naming it, before the
        file is read; for a character of a sequence that is not a base,
        naming the record and position.
    FileNotFoundError
        If ``path`` does not exist.
    """
    from ..genome import read_fasta

    path = os.fspath(path)
    names, sequences = read_fasta(path)
    return _predict_frame(model, sequences, pd.Index(names, name="name"), targets, chunk_size,
                          lambda i, p: f"{path}, record {names[i]!r}, position {p + 1} (1-based)")


@parameter_constraints({**_PREDICT_CONSTRAINTS,
                        "regions": [PathLike(), InstanceOf(pd.DataFrame, "a pandas.DataFrame")],
                        "genome": SCORE_CONSTRAINTS["genome"]})
def predict_bed(model, regions, genome, *, targets=None, chunk_size=10_000):
    """Predict a window centred on each region of a BED file.

    The window of region ``[start, end)`` is the model's ``sequence_length_``
    bases starting at ``(start + end) // 2 - sequence_length_ // 2``, padded
    with N past the contig's ends.

    Parameters
    ----------
    model : DeepSEAClassifier
        A fitted classifier of one-hot DNA.
    regions : str, path-like or pandas.DataFrame
        A BED file (read with :func:`skdeepsea.data.read_peaks`), or a
        DataFrame with chrom, start and end (0-based, half-open).
    genome : Genome, str or path-like
        The reference genome or its FASTA file.
    targets : list of str or int, or None, default=None
        Targets to predict; None: all.
    chunk_size : int, default=10_000
        Regions encoded at a time.

    Returns
    -------
    proba : pandas.DataFrame
        The columns of the regions (for a file: chrom, start, end, line),
        then one column per target.

    Raises
    ------
    ValueError
        For a parameter of the wrong type or value, naming it, before
        anything is read; regions without chrom, start and end.
    KeyError
        For a region on a contig the genome lacks, naming its line.
    """
    from ..data import read_peaks

    bed = regions if isinstance(regions, pd.DataFrame) else read_peaks(regions)
    missing = {"chrom", "start", "end"} - set(bed.columns)
    if missing:
        raise ValueError(f"The regions lack column(s) {sorted(missing)}.")
    L = ModelTargets(model, targets).sequence_length
    with opened_genome(genome) as genome:
        sequences, places = [], []
        lines = bed["line"] if "line" in bed else range(1, len(bed) + 1)
        for chrom, start, end, line in zip(bed["chrom"], bed["start"], bed["end"], lines):
            first = (int(start) + int(end)) // 2 - L // 2
            try:
                sequences.append(genome.fetch(chrom, first, first + L))
            except KeyError as error:
                where = os.fspath(regions) if not isinstance(regions, pd.DataFrame) else "regions"
                raise KeyError(f"{where}, {'line' if where != 'regions' else 'row'} {line}: "
                               f"{error.args[0]}") from None
            places.append((genome.resolve(chrom), first))
        genome_path = genome.path
    proba = _predict_frame(
        model, sequences, bed.index, targets, chunk_size,
        lambda i, p: f"{genome_path}: {places[i][0]}:{places[i][1] + p + 1} (1-based)")
    return pd.concat([bed.reset_index(drop=True), proba.reset_index(drop=True)], axis=1)
