"""A DeepSEA training set from a reference genome and one BED file of peaks per profile.

The recipe of DeepSEA (Zhou & Troyanskaya 2015, Methods): the genome is cut
into 200 bp bins; each bin is the centre of a 1000 bp input sequence; target
t of a bin is 1 when more than half of the bin lies inside peaks of profile t;
only bins with at least one target at 1 (DeepSEA: at least one TF target) are
kept; whole chromosomes are held out for validation and testing.
"""

import os
import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np

from .._atomic import atomic_files, check_output_path
from .._constraints import (
    Boolean,
    InstanceOf,
    Interval,
    Options,
    PathLike,
    Satisfies,
    SeedLike,
    parameter_constraints,
)
from ..exceptions import located_sequence_error, reading_text
from ..genome import Genome, opened_genome
from ..preprocessing import ALPHABET_CONSTRAINT, DEFAULT_ALPHABET, one_hot
from ._stream import DEFAULT_CHUNK_ROWS, StreamWriter

_BED_SUFFIXES = (".gz", ".bgz", ".bed", ".narrowpeak", ".broadpeak", ".txt")
_SPLITS = ("train", "valid", "test")
_POSITIVE = [Interval(Integral, 1, None)]


def _is_path(value):
    return PathLike().accepts(value)


def _collection(value):
    """A list, tuple, array or the like: sized and iterable, not a str nor a path."""
    return (not isinstance(value, (str, bytes, os.PathLike)) and hasattr(value, "__len__")
            and hasattr(value, "__iter__"))


def _peak_files(value):
    if isinstance(value, Mapping):
        return all(_is_path(path) for path in value.values())
    return (_collection(value) and not hasattr(value, "items")  # a DataFrame is neither
            and all(_is_path(path) for path in value))


def _chromosomes(value):
    return _collection(value) and all(
        isinstance(chrom, str) or (isinstance(chrom, Integral) and not isinstance(chrom, bool))
        for chrom in value)


#: ``peaks`` of :func:`build_dataset`: BED files, as a list or by profile name.
PEAKS_CONSTRAINT = Satisfies(_peak_files, "a list of BED file paths or a mapping of profile "
                                          "name to BED file path")


@parameter_constraints({"path": [PathLike()]})
def profile_name(path):
    """A profile's name from its BED file's name: the file name without BED/peak/gz suffixes.

    Examples
    --------
    >>> from skdeepsea.data import profile_name
    >>> profile_name("peaks/K562|CTCF|None.narrowPeak.gz")
    'K562|CTCF|None'
    """
    name = os.path.basename(os.fspath(path))
    while True:
        suffix = next((s for s in _BED_SUFFIXES if name.lower().endswith(s)), None)
        if suffix is None or len(name) == len(suffix):
            return name
        name = name[: -len(suffix)]


@parameter_constraints({"path": [PathLike()]})
def read_peak_table(path):
    """Read a table of profiles: one line per profile, its name and its BED file.

    The ``--peak-table`` of ``skdeepsea build-dataset``: two tab-separated
    columns without a header, ``#`` comments allowed; relative BED paths are
    read from the table's folder.

    Parameters
    ----------
    path : str or path-like
        The table.

    Returns
    -------
    profiles : dict of str to str
        BED path of each profile name, in the table's order (what
        :func:`build_dataset` takes as ``peaks``).

    Raises
    ------
    ValueError
        If ``path`` is not a path (naming it); if the file is not a table of
        two tab-separated columns, or a name is empty or repeated (the file
        and line named).
    FileNotFoundError
        If the table or a BED file does not exist (naming the table and the
        profile).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    profiles, first_line = {}, {}
    with open(path, encoding="utf-8") as f, reading_text(path, "profiles"):
        for number, line in enumerate(f, start=1):
            line = line.split("#", 1)[0].rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < 2:
                raise ValueError(f"{path}, line {number}: expected two tab-separated columns, "
                                 f"name and BED path, got {line!r}.")
            name, bed = fields[0], fields[1]
            if not name.strip():
                raise ValueError(f"{path}, line {number}: the profile's name is empty.")
            if name in first_line:
                raise ValueError(f"{path}, line {number}: profile {name!r} again (first on line "
                                 f"{first_line[name]}); each profile needs a name of its own.")
            bed_path = os.path.join(folder, bed)
            if not os.path.isfile(bed_path):
                raise FileNotFoundError(f"{path}, profile {name!r} (line {number}): no such BED "
                                        f"file: {bed_path}")
            first_line[name], profiles[name] = number, bed_path
    if not profiles:
        raise ValueError(f"{path} lists no profiles: expected two tab-separated columns, name "
                         "and BED path.")
    return profiles


@parameter_constraints({"path": [PathLike()]})
def read_peaks(path):
    """Read the intervals of a BED file (plain or gzip): its first three columns.

    ``track`` and ``browser`` lines, ``#`` comments and blank lines are
    skipped; further columns (narrowPeak, broadPeak) are ignored.

    Parameters
    ----------
    path : str or path-like
        BED file, 0-based half-open coordinates.

    Returns
    -------
    peaks : pandas.DataFrame
        Columns ``chrom`` (str), ``start``, ``end`` (int64) and ``line``
        (the line number in the file, from 1).

    Raises
    ------
    ValueError
        If ``path`` is not a path (naming it); naming the file and line of
        the first line that has fewer than three columns, a non-integer
        coordinate, a negative start or an end before its start.
    FileNotFoundError
        If the file does not exist.
    """
    import pandas as pd

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such BED file: {path}")
    try:
        table = pd.read_csv(
            path, sep="\t", header=None, usecols=[0, 1, 2], names=["chrom", "start", "end"],
            dtype=str, skip_blank_lines=False, keep_default_na=False, quoting=3,
        )
    except pd.errors.EmptyDataError:
        table = pd.DataFrame({"chrom": [], "start": [], "end": []}, dtype=str)
    except (pd.errors.ParserError, ValueError) as error:
        raise _bed_line_error(path) or ValueError(
            f"{path}: not a tab-separated BED file ({' '.join(str(error).split())})."
        ) from None
    table["line"] = np.arange(1, len(table) + 1)
    chrom = table["chrom"].str.strip()
    header = (chrom == "") | chrom.str.startswith(("#", "track", "browser"))
    table = table[~header]
    starts = pd.to_numeric(table["start"], errors="coerce")
    ends = pd.to_numeric(table["end"], errors="coerce")
    bad = starts.isna() | ends.isna() | (starts % 1 != 0) | (ends % 1 != 0)
    if bad.any():
        row = table[bad].iloc[0]
        raise ValueError(
            f"{path}, line {row['line']}: expected a BED line 'chrom<TAB>start<TAB>end' with "
            f"integer coordinates, got {row['chrom']!r}, {row['start']!r}, {row['end']!r}."
        )
    peaks = pd.DataFrame({
        "chrom": table["chrom"].astype(str).to_numpy(),
        "start": starts.to_numpy(np.int64),
        "end": ends.to_numpy(np.int64),
        "line": table["line"].to_numpy(),
    })
    wrong = (peaks["start"] < 0) | (peaks["end"] < peaks["start"])
    if wrong.any():
        row = peaks[wrong].iloc[0]
        raise ValueError(
            f"{path}, line {row['line']}: peak {row['chrom']}:{row['start']}-{row['end']} has "
            "a negative start or ends before it starts."
        )
    return peaks


def _bed_line_error(path):
    """A ValueError naming the first line with fewer than three tab-separated columns."""
    import gzip

    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    with opener(path, "rt", errors="replace") as f:
        for number, line in enumerate(f, start=1):
            text = line.rstrip("\r\n")
            if not text.strip() or text.lstrip().startswith(("#", "track", "browser")):
                continue
            if len(text.split("\t")) < 3:
                spaces = " (columns separated by spaces: BED needs tabs)" if len(
                    text.split()) >= 3 else ""
                return ValueError(
                    f"{path}, line {number}: expected a BED line 'chrom<TAB>start<TAB>end'"
                    f"{spaces}, got {text[:80]!r}."
                )
    return None


@parameter_constraints({
    "peaks": [Satisfies(lambda value: hasattr(value, "columns")
                        and {"chrom", "start", "end"} <= set(value.columns),
                        "a pandas.DataFrame with columns chrom, start and end")],
    "bin_size": _POSITIVE,
})
def label_bins(peaks, bin_size=200):
    """The bins that more than half lie inside the peaks.

    Overlapping and touching peaks are merged first (with bioframe), so a bin
    covered by several peaks counts each of its bases once.

    Parameters
    ----------
    peaks : pandas.DataFrame
        Columns ``chrom``, ``start``, ``end`` (0-based, half-open).
    bin_size : int, default=200
        Bin ``i`` of a chromosome covers ``[i * bin_size, (i + 1) * bin_size)``.

    Returns
    -------
    bins : dict of str to ndarray of int64
        For each chromosome, the sorted indices of its positive bins.

    Raises
    ------
    ValueError
        If ``peaks`` is not a table with columns chrom, start and end, or
        ``bin_size`` is not a positive integer (naming it).

    Examples
    --------
    >>> import pandas as pd
    >>> from skdeepsea.data import label_bins
    >>> peaks = pd.DataFrame({"chrom": ["chr1", "chr1"], "start": [100, 450], "end": [301, 600]})
    >>> {chrom: bins.tolist() for chrom, bins in label_bins(peaks).items()}  # bin 0: exactly half
    {'chr1': [1, 2]}
    """
    import bioframe

    peaks = peaks[peaks["end"] > peaks["start"]]
    if len(peaks) == 0:
        return {}
    with warnings.catch_warnings():
        # bioframe 0.8 calls pandas APIs that pandas 3.1 deprecates for pandas 4.
        warnings.filterwarnings("ignore", module="bioframe")
        merged = bioframe.merge(peaks[["chrom", "start", "end"]])
    result = {}
    for chrom, group in merged.groupby("chrom", sort=False):
        start = group["start"].to_numpy(np.int64)
        end = group["end"].to_numpy(np.int64)
        first, last = start // bin_size, (end - 1) // bin_size
        counts = last - first + 1
        owner = np.repeat(np.arange(len(start)), counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        bins = np.repeat(first, counts) + within
        overlap = (np.minimum(end[owner], (bins + 1) * bin_size)
                   - np.maximum(start[owner], bins * bin_size))
        # Disjoint peaks can share a bin: add up each bin's covered bases.
        order = np.argsort(bins, kind="stable")
        bins, overlap = bins[order], overlap[order]
        first_of_bin = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
        covered = np.add.reduceat(overlap, first_of_bin) if len(bins) else overlap
        positive = bins[first_of_bin][2 * covered > bin_size]
        if positive.size:
            result[str(chrom)] = positive
    return result


def _as_profiles(peaks):
    """(name, path) pairs from a mapping name -> path or a sequence of paths (checked)."""
    if isinstance(peaks, Mapping):
        profiles = [(str(name), os.fspath(path)) for name, path in peaks.items()]
    else:
        profiles = [(profile_name(path), os.fspath(path)) for path in peaks]
    if not profiles:
        raise ValueError("No peak files given: at least one profile is needed.")
    for name, path in profiles:
        if not name.strip():
            raise ValueError(f"The profile of {path} has an empty name; give each profile a "
                             "name (peaks as a mapping name -> BED file).")
    names = [name for name, _ in profiles]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"Profile names must be unique; repeated: {duplicates}.")
    return profiles


@parameter_constraints({
    "genome": [PathLike(), InstanceOf(Genome, "a skdeepsea.genome.Genome")],
    "peaks": [PEAKS_CONSTRAINT],
    "output": [PathLike()],
    "bin_size": _POSITIVE,
    "sequence_length": _POSITIVE,
    "valid_chromosomes": [Satisfies(_chromosomes, "a list of chromosome names")],
    "test_chromosomes": [Satisfies(_chromosomes, "a list of chromosome names")],
    "keep": [Options(str, ("any", "tf"))],
    "tf_targets": [None, Satisfies(lambda value: _collection(value)
                                   and all(isinstance(name, str) for name in value),
                                   "a list of profile names")],
    "alphabet": [ALPHABET_CONSTRAINT],
    "shuffle": [Boolean()],
    "random_state": [SeedLike()],
    "packed": [Boolean()],
    "chunk_rows": _POSITIVE,
    "progress": [Boolean()],
})
def build_dataset(genome, peaks, output, *, bin_size=200, sequence_length=1000,
                  valid_chromosomes=("chr7",), test_chromosomes=("chr8", "chr9"),
                  keep="any", tf_targets=None, alphabet=DEFAULT_ALPHABET, shuffle=True,
                  random_state=0, packed=True, chunk_rows=DEFAULT_CHUNK_ROWS, progress=True):
    """Build DeepSEA-style training, validation and test sets from a genome and peaks.

    The genome is cut into ``bin_size`` bins; each bin is the centre of a
    ``sequence_length`` window (N past the ends of a chromosome). Target t of
    a bin is 1 when more than half of the bin lies inside peaks of profile t
    (exactly half is 0). Bins with no target at 1 are dropped. Bins on
    ``valid_chromosomes`` and ``test_chromosomes`` go to the validation and
    test files, all others to the training file, whose samples are shuffled
    (so that reading it in order gives a random order of the genome).

    Parameters
    ----------
    genome : str, path-like or skdeepsea.genome.Genome
        Indexed FASTA file of the reference genome.
    peaks : mapping of str to path, or sequence of paths
        One BED file per chromatin profile (target); names come from the
        mapping's keys or from the file names (see :func:`profile_name`).
        Contig names are matched to the genome's ("chr1" or "1").
    output : str or path-like
        Folder (created if needed) that receives ``train.h5``, ``valid.h5``
        and ``test.h5``: streaming files (see :func:`open_dataset`) with the
        target names and each sample's window (``Dataset.intervals``). The
        files are committed together (:func:`skdeepsea._atomic.atomic_files`):
        a build that fails or is killed leaves the previous files; a split
        not built this time is removed; leftovers of a killed build are
        cleaned up by the next one.
    bin_size : int, default=200
        Bin width in bp.
    sequence_length : int, default=1000
        Window width in bp; ``sequence_length - bin_size`` must be even.
    valid_chromosomes, test_chromosomes : sequence of str, default=("chr7",) and ("chr8", "chr9")
        Chromosomes held out (DeepSEA: chr8 and chr9 for testing; its
        validation set was 4,000 bins of chr7).
    keep : {"any", "tf"}, default="any"
        Keep bins with at least one target at 1, or (as DeepSEA did) with at
        least one TF target at 1.
    tf_targets : sequence of str or None, default=None
        Names of the TF profiles for ``keep="tf"``; None takes the profiles
        whose name's Feature is neither DNase nor a histone mark (see
        :func:`skdeepsea.targets.feature_class`).
    alphabet : str, default="ATGC"
        Base order stored in the files.
    shuffle : bool, default=True
        Shuffle the training samples.
    random_state : int, numpy.random.Generator, RandomState or None, default=0
        Seed of the shuffle (as ``numpy.random.default_rng`` takes it).
    packed : bool, default=True
        Bit-pack the files.
    chunk_rows : int, default=1024
        Samples per HDF5 chunk.
    progress : bool, default=True
        Show tqdm progress bars (peaks read, samples written).

    Returns
    -------
    summary : dict
        ``paths`` (split -> file), ``n_samples`` (split -> count) and
        ``target_names``.

    Raises
    ------
    ValueError
        ``"build_dataset: <name> must be ..., got <value>."`` for a parameter
        of the wrong type or value, before anything is read or written;
        ``bin_size`` and ``sequence_length`` that do not centre the window on
        the bin, no profile or profiles of one name, a BED line that is not
        one (file and line named), a held-out chromosome in both splits, or
        no TF profile for ``keep="tf"``.
    KeyError
        A peak on a contig the genome lacks (file, line and contig named),
        or a held-out chromosome not in the genome.
    FileNotFoundError
        If the genome or a BED file does not exist.
    """
    from tqdm.auto import tqdm

    alphabet = alphabet.upper()
    if sequence_length < bin_size or (sequence_length - bin_size) % 2:
        raise ValueError(
            f"need 1 <= bin_size <= sequence_length with an even difference (the window is "
            f"centred on the bin), got bin_size={bin_size}, sequence_length={sequence_length}."
        )
    profiles = _as_profiles(peaks)
    names = [name for name, _ in profiles]
    check_output_path(output, {}, option="output", folder=True)
    inputs = {"genome": getattr(genome, "path", genome),
              **{f"peaks ({name})": path for name, path in profiles}}
    for split in _SPLITS:
        check_output_path(os.path.join(output, f"{split}.h5"), inputs, option=f"output {split}.h5")
    with opened_genome(genome) as genome:
        held_out = {}
        for split, chroms in (("valid", valid_chromosomes), ("test", test_chromosomes)):
            for chrom in chroms:
                contig = genome.resolve(chrom)
                if contig in held_out:
                    raise ValueError(f"chromosome {chrom!r} is held out for both "
                                     f"{held_out[contig]} and {split}.")
                held_out[contig] = split
        is_tf = _tf_mask(names, keep, tf_targets)

        # Positive bins of each profile, as global bin ids: contig offset + bin index.
        contigs = list(genome.contigs)
        n_bins = np.array([genome.contigs[c] // bin_size for c in contigs], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(n_bins)])
        contig_index = {c: i for i, c in enumerate(contigs)}
        positives = []
        for name, path in tqdm(profiles, desc="peaks", unit=" files", disable=not progress):
            table = read_peaks(path)
            table["chrom"] = _resolve_contigs(genome, table, path)
            ids = []
            for chrom, bins in label_bins(table, bin_size).items():
                i = contig_index[chrom]
                ids.append(offsets[i] + bins[bins < n_bins[i]])  # whole bins only
            positives.append(np.concatenate(ids) if ids else np.empty(0, np.int64))

        kept = np.unique(np.concatenate([p for p, tf in zip(positives, is_tf) if tf] or
                                        [np.empty(0, np.int64)]))
        Y_packed = np.zeros((len(kept), -(-len(names) // 8)), dtype=np.uint8)
        for t, ids in enumerate(positives):
            rows = np.searchsorted(kept, ids)
            inside = rows < len(kept)
            inside[inside] &= kept[rows[inside]] == ids[inside]
            Y_packed[rows[inside], t // 8] |= np.uint8(128 >> (t % 8))

        sample_contig = np.searchsorted(offsets, kept, side="right") - 1
        sample_bin = kept - offsets[sample_contig]
        split_of_contig = np.array([held_out.get(c, "train") for c in contigs] or ["train"])
        sample_split = split_of_contig[sample_contig] if len(kept) else np.array([], dtype=str)

        rng = np.random.default_rng(random_state)
        summary = {"paths": {}, "n_samples": {}, "target_names": names}
        splits = [split for split in _SPLITS
                  if split == "train" or any(s == split for s in held_out.values())]
        # The splits are committed together: a failed or killed build leaves the previous
        # files, never a new train.h5 beside an old valid.h5 (and removes splits not rebuilt).
        with atomic_files(output, remove=[f"{split}.h5" for split in _SPLITS]) as work:
            for split in splits:
                rows = np.flatnonzero(sample_split == split)
                if split == "train" and shuffle:
                    rows = rng.permutation(rows)
                _write_split(os.path.join(work, f"{split}.h5"), genome, contigs,
                             sample_contig[rows], sample_bin[rows], Y_packed[rows], names,
                             bin_size, sequence_length, alphabet, packed, chunk_rows, progress,
                             split)
                summary["paths"][split] = os.path.join(os.fspath(output), f"{split}.h5")
                summary["n_samples"][split] = len(rows)
        return summary


def _tf_mask(names, keep, tf_targets):
    if keep == "any":
        return [True] * len(names)
    if tf_targets is None:
        from ..targets import feature_class

        mask = [feature_class(name) == "TF" for name in names]
    else:
        unknown = sorted(set(map(str, tf_targets)) - set(names))
        if unknown:
            raise ValueError(f"tf_targets names profiles that are not given: {unknown}.")
        mask = [name in set(map(str, tf_targets)) for name in names]
    if not any(mask):
        raise ValueError(
            "keep='tf' needs at least one TF profile, and none of the profiles is one "
            f"({names[:5]}{'...' if len(names) > 5 else ''}); pass tf_targets."
        )
    return mask


def _resolve_contigs(genome, table, path):
    resolved = {}
    for chrom in table["chrom"].unique():
        try:
            resolved[chrom] = genome.resolve(chrom)
        except KeyError as error:
            line = int(table.loc[table["chrom"] == chrom, "line"].iloc[0])
            raise KeyError(f"{path}, line {line}: peak on contig {chrom!r}, which the genome "
                           f"lacks: {error.args[0]}") from None
    return table["chrom"].map(resolved)


def _write_split(path, genome, contigs, contig_idx, bins, Y_packed, names, bin_size,
                 sequence_length, alphabet, packed, chunk_rows, progress, split,
                 block_size=4096):
    from tqdm.auto import tqdm

    starts = bins * bin_size - (sequence_length - bin_size) // 2
    with StreamWriter(path, len(bins), sequence_length, len(names), alphabet=alphabet,
                      target_names=names, packed=packed, chunk_rows=chunk_rows) as writer, \
            tqdm(total=len(bins), desc=split, unit=" samples", disable=not progress) as bar:
        writer.write_intervals(contigs, contig_idx, starts)
        for block_start in range(0, len(bins), block_size):
            block = slice(block_start, min(block_start + block_size, len(bins)))
            sequences = [genome.fetch(contigs[c], s, s + sequence_length)
                         for c, s in zip(contig_idx[block].tolist(), starts[block].tolist())]
            try:
                X = one_hot(sequences, alphabet, dtype="uint8")
            except ValueError as error:
                located = located_sequence_error(error, lambda i, position: (
                    f"{genome.path}: {contigs[contig_idx[block_start + i]]}:"
                    f"{starts[block_start + i] + position + 1} (1-based)"))
                if located is None:
                    raise
                raise located from error
            Y = np.unpackbits(Y_packed[block], axis=1, count=len(names))
            writer.write(block_start, X, Y)
            bar.update(len(sequences))
