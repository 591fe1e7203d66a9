"""Evolutionary conservation scores at variant positions: DeepSEA's four conservation features.

DeepSEA v0.94 reads, at each variant's position, phastCons and phyloP
(primates without human) and GERP's neutral rate and RS score
(``retrieve_gerpneutral.production.sh``), and replaces the scores a position
lacks by :data:`CONSERVATION_IMPUTED` (``evoevalues.production.py``).
:class:`ConservationScores` reads them from the files users have: bigWig
(UCSC's phastCons and phyloP, Ensembl's GERP), read with pyBigWig, or
bgzip-compressed, tabix-indexed TSVs of chrom, pos and value columns
(DeepSEA's own files), read with pysam. Both are in the ``genomics`` extra.
"""

import os
import threading
from collections.abc import Mapping
from importlib import import_module

import numpy as np

from .._constraints import Boolean, InstanceOf, validate_params
from ..genome import contig_aliases, contig_matches

__all__ = ["CONSERVATION_FEATURES", "CONSERVATION_IMPUTED", "ConservationScores"]

#: DeepSEA's conservation features, in the order of its feature matrix and of
#: the columns :meth:`ConservationScores.at` returns.
CONSERVATION_FEATURES = ("phastCons", "phyloP", "GERP_neutral", "GERP_RS")

#: The value DeepSEA gives each feature where a position has no score
#: (``evoevalues.production.py`` and ``3_h5ToOutput.py``).
CONSERVATION_IMPUTED = (0.115, -0.033, 1.909, -0.200)

# DeepSEA's files below its package folder (3_h5ToOutput.py, retrieve_gerpneutral.production.sh):
# GERP's file has the neutral rate in column 3 and the RS score in column 4.
_DEEPSEA_FILES = {
    "phastCons": ("phastCons/primates_nohuman.tsv.gz", 3),
    "phyloP": ("phyloP/primates_nohuman.tsv.gz", 3),
    "GERP_neutral": ("Gerp/gerp_scores.tsv.gz", 3),
    "GERP_RS": ("Gerp/gerp_scores.tsv.gz", 4),
}

_BIGWIG_MAGIC = (b"\x26\xfc\x8f\x88", b"\x88\x8f\xfc\x26")  # 0x888FFC26, either byte order
_MISSING_TEXT = "NA"  # DeepSEA reads its TSVs with comment='N': a value "NA" is no score
_BIGWIG_GAP = 20_000  # positions this close share one pyBigWig values() call
_BIGWIG_SPAN = 1_000_000  # ... whose array stays under 8 MB
_TABIX_SKIP = 256  # lines read past without a position asked for before fetching anew


def _file_kind(path):
    """``"bigwig"`` or ``"tabix"`` from the file's first bytes; an error for anything else."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Conservation score file not found: {path!r}.")
    with open(path, "rb") as f:
        head = f.read(18)
    if head[:4] in _BIGWIG_MAGIC:
        return "bigwig"
    if head[:3] == b"\x1f\x8b\x08":
        if head[3] & 4 and head[12:14] == b"BC":
            if not (os.path.exists(path + ".tbi") or os.path.exists(path + ".csi")):
                raise FileNotFoundError(
                    f"{path!r} has no tabix index ({path}.tbi or .csi): make one with "
                    f"`tabix -s1 -b2 -e2 {path}`."
                )
            return "tabix"
        raise ValueError(
            f"{path!r} is gzip-compressed without bgzip's blocks: recompress it with `bgzip` "
            f"and index it with `tabix -s1 -b2 -e2`."
        )
    raise ValueError(
        f"{path!r} is neither a bigWig file nor a bgzip-compressed, tabix-indexed TSV."
    )


class _Source:
    """One file and the features read from it (GERP's two columns come from one file)."""

    def __init__(self, path, kind):
        self.path = path
        self.kind = kind
        self.columns = {}  # feature index -> 1-based column (None for a bigWig)
        self._handle = None
        self._pid = None

    def open(self):
        """The file's handle, opened in this process; sets ``contigs`` and their aliases."""
        if self._handle is not None and self._pid == os.getpid():
            return self._handle
        self._handle = None  # a forked process does not share its parent's handle
        if self.kind == "bigwig":
            pyBigWig = _import("pyBigWig", "bigWig")
            handle = pyBigWig.open(self.path)
            if handle is None:
                raise ValueError(f"Cannot open {self.path!r} as a bigWig file.")
            self.contigs = handle.chroms()
        else:
            pysam = _import("pysam", "tabix-indexed")
            try:
                handle = pysam.TabixFile(self.path)
            except OSError as error:
                raise ValueError(
                    f"Cannot open {self.path!r} as a tabix-indexed file: {error}."
                ) from error
            self.contigs = dict.fromkeys(handle.contigs)
        self._aliases = contig_aliases(self.contigs)
        self._handle, self._pid = handle, os.getpid()
        return handle

    def contig(self, chrom):
        """The file's name for ``chrom`` ("chr1" matching "1"), or None when it has none."""
        matches = contig_matches(chrom, self.contigs, self._aliases)
        if len(matches) > 1:
            raise KeyError(f"Contig {chrom!r} is ambiguous in {self.path!r}: it matches {matches}.")
        return matches[0] if matches else None

    def read(self, name, positions, out):
        """Scores at sorted, distinct 1-based ``positions`` of contig ``name`` into ``out``.

        ``out`` has a row per position and a column per feature; rows without a
        score keep their NaN.
        """
        handle = self.open()
        if self.kind == "bigwig":
            self._read_bigwig(handle, name, positions, out)
        else:
            self._read_tabix(handle, name, positions, out)

    def _read_bigwig(self, handle, name, positions, out):
        # One values() call per run of nearby positions: each call decompresses its blocks
        # anew (about as long as filling _BIGWIG_GAP bases), so near positions share one.
        (feature,) = self.columns
        rows = np.flatnonzero((positions >= 1) & (positions <= self.contigs[name]))
        first = 0  # past the contig's end: no score (pyBigWig would raise)
        for k in range(1, len(rows) + 1):
            if (
                k < len(rows)
                and positions[rows[k]] - positions[rows[k - 1]] <= _BIGWIG_GAP
                and positions[rows[k]] - positions[rows[first]] <= _BIGWIG_SPAN
            ):
                continue
            run = rows[first:k]
            start, end = int(positions[run[0]]) - 1, int(positions[run[-1]])
            span = np.asarray(handle.values(name, start, end, numpy=True), dtype=np.float64)
            out[run, feature] = span[positions[run] - 1 - start]
            first = k

    def _read_tabix(self, handle, name, positions, out):
        # Stream the lines from a position on while the next positions come soon; a fetch
        # costs a block's decompression (some hundred lines' reading), so a long stretch of
        # lines without a position asked for ends the stream and the next position is fetched.
        i, count = int(np.searchsorted(positions, 1)), len(positions)
        positions = positions.tolist()  # Python ints: NumPy scalars would double the cost per line
        while i < count:
            skipped = 0
            for line in handle.fetch(name, positions[i] - 1):  # lines at or after it
                fields = line.split("\t", 2)
                pos = self._position(fields, name)
                while i < count and positions[i] < pos:
                    i, skipped = i + 1, 0
                if i == count:
                    break
                if positions[i] == pos:  # the first line at a position counts
                    fields = line.split("\t")
                    for feature, column in self.columns.items():
                        out[i, feature] = self._number(fields, column, f"{name}:{pos}")
                    i, skipped = i + 1, 0
                else:
                    skipped += 1
                    if skipped > _TABIX_SKIP:
                        break
            else:
                return  # the contig's last line read: the positions after it have no score

    def _position(self, fields, name):
        try:
            return int(fields[1])
        except (IndexError, ValueError):
            shown = fields[1] if len(fields) > 1 else "nothing"
            raise ValueError(
                f"{self.path!r} at contig {name}: column 2 holds {shown!r}, not a 1-based "
                f"position (the lines are chrom, pos, value...)."
            ) from None

    def _number(self, fields, column, where):
        if column > len(fields):
            raise ValueError(
                f"{self.path!r} at {where}: column {column} asked for, but the line has "
                f"{len(fields)} columns."
            )
        text = fields[column - 1].strip()
        if text == _MISSING_TEXT:
            return np.nan
        try:
            return float(text)
        except ValueError:
            raise ValueError(
                f"{self.path!r} at {where}: column {column} holds {text!r}, not a number."
            ) from None

    def check_first_line(self):
        """Read the file's first line, so a wrong column fails when the scores are opened."""
        handle = self.open()
        if self.kind == "tabix":
            for name in handle.contigs:
                line = next(handle.fetch(name), None)
                if line is not None:
                    fields = line.split("\t")
                    pos = self._position(fields, name)
                    for column in self.columns.values():
                        self._number(fields, column, f"{name}:{pos}, its first line")
                    return

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_handle"] = state["_pid"] = None
        return state


def _import(module, kind):
    try:
        return import_module(module)
    except ImportError as error:
        raise ImportError(
            f"Reading {kind} conservation scores needs {module}: pip install 'skdeepsea[genomics]'."
        ) from error


class ConservationScores:
    """DeepSEA's conservation features at variant positions, from bigWig or tabix-indexed files.

    The four features are :data:`CONSERVATION_FEATURES`: phastCons and phyloP
    (DeepSEA used primates without human), GERP's neutral rate and GERP's RS
    score. Each is read at the variant's position (its first base, 1-based as
    in a VCF), from a bigWig file (read with pyBigWig) or a bgzip-compressed,
    tabix-indexed TSV (read with pysam; DeepSEA's own files are TSVs of chrom,
    pos and the value, GERP's with the neutral rate in column 3 and the RS
    score in column 4). The kind of file is told from its first bytes, not its
    name. Any subset of the features may be given; the others are missing for
    every variant (and imputed by :meth:`impute`).

    Parameters
    ----------
    sources : mapping of str to path or (path, int)
        Feature name (one of :data:`CONSERVATION_FEATURES`) to its file. A
        TSV's value is read from column 3 unless given as ``(path, column)``
        (1-based), e.g. ``{"GERP_neutral": ("gerp_scores.tsv.gz", 3),
        "GERP_RS": ("gerp_scores.tsv.gz", 4)}``; a file shared by features is
        opened once. A bigWig has one value per base and takes no column.
        A TSV's lines are chrom, 1-based pos and values, tab-separated,
        sorted, compressed with ``bgzip`` and indexed with
        ``tabix -s1 -b2 -e2 file.tsv.gz`` (``.tbi`` or ``.csi`` beside it).

    Attributes
    ----------
    paths : dict of str to str
        The file of each given feature, in :data:`CONSERVATION_FEATURES` order.

    Raises
    ------
    KeyError
        For a feature name not in :data:`CONSERVATION_FEATURES`.
    FileNotFoundError
        For a file that does not exist, or a TSV without its tabix index.
    ValueError
        For a file that is neither a bigWig nor bgzip-compressed, a column
        given for a bigWig or not a positive integer, or a TSV whose first
        line lacks the column or holds no number there.

    See Also
    --------
    ConservationScores.from_deepsea : DeepSEA's own files.

    Notes
    -----
    Contig names match as in :meth:`skdeepsea.genome.Genome.resolve`:
    ``chr1`` finds ``1``, ``chrM`` finds ``MT``, and the reverse. A position
    has no score when its contig is not in the file (DeepSEA's tabix query
    found nothing there either), when it lies outside the contig (before base
    1, or past the contig's end in a bigWig) or between the file's scores;
    and when the file's value there is NaN (bigWig) or ``NA`` or ``nan``
    (TSV; DeepSEA read ``NA`` as missing). Where a TSV has several lines at
    a position, the first counts. If none of the contigs asked for in one
    call of :meth:`at` is in a file, :meth:`at` raises :class:`KeyError`
    naming the file and the contigs: that is almost always a naming mistake
    (RefSeq accessions against ``chr1``, another assembly).

    Files open on first use, in each process: the object pickles without its
    file handles (for Dask workers) and reopens them where it is unpickled.
    Reads are serialised by a lock, so threads may share one object.

    Examples
    --------
    >>> import os, tempfile, pyBigWig
    >>> from skdeepsea.variants import ConservationScores
    >>> path = os.path.join(tempfile.mkdtemp(), "phyloP.bw")
    >>> with pyBigWig.open(path, "w") as bw:
    ...     bw.addHeader([("chr1", 1000)])
    ...     bw.addEntries(["chr1", "chr1"], [9, 10], ends=[10, 11], values=[2.5, -1.0])
    >>> with ConservationScores({"phyloP": path}) as scores:
    ...     values = scores.at(["1", "chr1", "chr1"], [10, 11, 12])
    >>> values
    array([[ nan,  2.5,  nan,  nan],
           [ nan, -1. ,  nan,  nan],
           [ nan,  nan,  nan,  nan]])
    >>> ConservationScores.impute(values)[:, :2]
    array([[ 0.115,  2.5  ],
           [ 0.115, -1.   ],
           [ 0.115, -0.033]])
    """

    _parameter_constraints = {
        "sources": [InstanceOf(Mapping, "a dict of feature name to a path or (path, column)")],
    }

    def __init__(self, sources):
        validate_params(self._parameter_constraints, {"sources": sources}, "ConservationScores")
        unknown = [name for name in sources if name not in CONSERVATION_FEATURES]
        if unknown:
            raise KeyError(
                f"Unknown conservation feature {unknown[0]!r}: the features are "
                f"{', '.join(CONSERVATION_FEATURES)}."
            )
        self._sources = {}
        self.paths = {}
        for feature in CONSERVATION_FEATURES:
            if feature not in sources:
                continue
            spec = sources[feature]
            path, column = spec if isinstance(spec, tuple) else (spec, None)
            path = os.fspath(path)
            if path not in self._sources:
                self._sources[path] = _Source(path, _file_kind(path))
            source = self._sources[path]
            if source.kind == "bigwig" and column is not None:
                raise ValueError(
                    f"{feature}: {path!r} is a bigWig file, which has one value per base; "
                    f"give the path alone, without column {column!r}."
                )
            if source.kind == "tabix":
                column = 3 if column is None else column
                whole = isinstance(column, (int, np.integer)) and not isinstance(column, bool)
                if not whole or column < 1:
                    raise ValueError(
                        f"{feature}: the column of {path!r} must be a positive integer "
                        f"(1-based), not {column!r}."
                    )
                column = int(column)
            source.columns[CONSERVATION_FEATURES.index(feature)] = column
            self.paths[feature] = path
        for source in self._sources.values():
            source.check_first_line()
        self._lock = threading.Lock()

    @classmethod
    def from_deepsea(cls, folder):
        """DeepSEA v0.94's conservation files: the four features from its ``resources`` folder.

        Parameters
        ----------
        folder : path-like
            DeepSEA's package folder (holding ``resources/``), or the
            ``resources`` folder itself, where DeepSEA's ``evo_scores.tar.gz``
            was extracted: ``phastCons/primates_nohuman.tsv.gz``,
            ``phyloP/primates_nohuman.tsv.gz`` and ``Gerp/gerp_scores.tsv.gz``
            (neutral rate in column 3, RS score in column 4), each with its
            ``.tbi`` index.

        Returns
        -------
        scores : ConservationScores
            All four features.

        Raises
        ------
        FileNotFoundError
            If a file or its index is missing.

        Examples
        --------
        >>> from skdeepsea.variants import ConservationScores
        >>> ConservationScores.from_deepsea("no-such-folder")
        Traceback (most recent call last):
        ...
        FileNotFoundError: Conservation score file not found: 'no-such-folder/phastCons/primates_nohuman.tsv.gz'.
        """
        folder = os.fspath(folder)
        resources = os.path.join(folder, "resources")
        base = resources if os.path.isdir(resources) else folder
        return cls(
            {
                feature: (os.path.join(base, *relative.split("/")), column)
                for feature, (relative, column) in _DEEPSEA_FILES.items()
            }
        )

    def at(self, chrom, pos=None, *, check_contigs=True):
        """The scores at variant positions, NaN where a position has none.

        Parameters
        ----------
        chrom : array-like of str, or DataFrame
            Each variant's contig, in either naming convention ("chr1" or
            "1"); or a DataFrame with ``chrom`` and ``pos`` columns (as
            :func:`read_variants` gives), with ``pos`` left out.
        pos : array-like of int, optional
            Each variant's 1-based position (VCF's POS: its first base).
        check_contigs : bool, default=True
            Raise :class:`KeyError` when none of the contigs asked for is in
            one of the files (a naming mistake). Callers that read a genome's
            variants in chunks may turn it off after the first chunk, since a
            chunk may hold only contigs a file lacks (``chrM``, say).

        Returns
        -------
        values : ndarray of shape (n_variants, 4), float64
            The columns are :data:`CONSERVATION_FEATURES`; NaN where the
            position has no score or the feature has no file. Whether each
            feature was found is ``~np.isnan(values)``.

        Raises
        ------
        KeyError
            If none of the contigs is in a file (with ``check_contigs``), or a
            contig matches several of a file's contigs.
        ValueError
            If ``chrom`` and ``pos`` differ in length, a position is not an
            integer, or a TSV line lacks its column or holds no number there.
        """
        validate_params({"check_contigs": [Boolean()]}, {"check_contigs": check_contigs},
                        "ConservationScores.at")
        if pos is None:
            chrom, pos = chrom["chrom"], chrom["pos"]
        chrom = np.asarray(chrom, dtype=object).astype(str)
        pos = np.asarray(pos)
        if pos.dtype.kind not in "iu" and not np.all(np.mod(pos.astype(float), 1) == 0):
            raise ValueError("Positions must be whole numbers (1-based); some are not.")
        pos = pos.astype(np.int64)
        if chrom.shape != pos.shape or chrom.ndim != 1:
            raise ValueError(
                f"chrom and pos must be 1-D and of one length, not {chrom.shape} and {pos.shape}."
            )
        values = np.full((len(pos), len(CONSERVATION_FEATURES)), np.nan)
        if not len(pos):
            return values
        contigs, contig_of = np.unique(chrom, return_inverse=True)
        contigs = contigs.tolist()
        with self._lock:
            for source in self._sources.values():
                source.open()
                names = [source.contig(c) for c in contigs]
                if check_contigs and all(name is None for name in names):
                    shown = ", ".join(list(source.contigs)[:5])
                    shown += ", ..." if len(source.contigs) > 5 else ""
                    raise KeyError(
                        f"None of the variants' contigs ({', '.join(contigs[:5])}"
                        f"{', ...' if len(contigs) > 5 else ''}) is in {source.path!r} "
                        f"(contigs: {shown})."
                    )
                for index, name in enumerate(names):
                    if name is None:
                        continue
                    rows = np.flatnonzero(contig_of == index)
                    unique, back = np.unique(pos[rows], return_inverse=True)
                    found = np.full((len(unique), len(CONSERVATION_FEATURES)), np.nan)
                    source.read(name, unique, found)
                    for feature in source.columns:
                        values[rows, feature] = found[back, feature]
        return values

    @staticmethod
    def impute(values, fill=CONSERVATION_IMPUTED):
        """The scores with each missing one replaced by its feature's imputed value.

        Parameters
        ----------
        values : array-like of shape (n_variants, 4)
            As :meth:`at` returns, NaN where missing.
        fill : sequence of 4 floats, default=CONSERVATION_IMPUTED
            Per feature, the value of a missing score: DeepSEA's
            ``0.115, -0.033, 1.909, -0.200`` by default.

        Returns
        -------
        imputed : ndarray of shape (n_variants, 4), float64
            A new array.

        Notes
        -----
        DeepSEA imputes a variant's missing features whether it found some of
        them or none: that is its classifiers' input. Its functional
        significance score treats a variant with none found differently (all
        four conservation e-values 1): tell those apart with
        ``np.isnan(values).all(axis=1)`` before imputing.
        """
        values = np.array(values, dtype=np.float64)
        fill = np.asarray(fill, dtype=np.float64)
        if values.ndim != 2 or values.shape[1] != len(CONSERVATION_FEATURES) or fill.shape != (4,):
            raise ValueError(
                f"impute takes values of shape (n, 4) and 4 fill values, not {values.shape} "
                f"and {fill.shape}."
            )
        return np.where(np.isnan(values), fill, values)

    def close(self):
        """Close the files (they reopen if the object is used again)."""
        for source in self._sources.values():
            source.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __getstate__(self):
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self):
        given = ", ".join(f"{feature}={path!r}" for feature, path in self.paths.items())
        return f"ConservationScores({given})"
