"""Reference genomes: windows of an indexed FASTA file, padded with N past the ends.

The file is read with pysam (htslib), which reads plain and bgzip-compressed
FASTA through the same ``.fai`` index (plus ``.gzi`` for bgzip) and builds a
missing index itself. pysam is in the ``genomics`` extra.
"""

import contextlib
import os
import re

from ._constraints import PathLike, parameter_constraints

__all__ = ["Genome", "read_fasta"]

_CHR_PREFIX = re.compile(r"^chr", re.IGNORECASE)


def _canonical_contig(name):
    """A key under which "chr1" and "1", "chrM" and "MT", "chrX" and "X" meet."""
    key = _CHR_PREFIX.sub("", name).upper()
    return "MT" if key == "M" else key


def contig_aliases(names):
    """The contig names of a file grouped by :func:`_canonical_contig` key."""
    aliases = {}
    for name in names:
        aliases.setdefault(_canonical_contig(name), []).append(name)
    return aliases


def contig_matches(chrom, contigs, aliases):
    """The names in ``contigs`` that ``chrom`` means: itself, else its aliases (0, 1 or more)."""
    return [chrom] if chrom in contigs else aliases.get(_canonical_contig(chrom), [])


@parameter_constraints({"path": [PathLike()]})
def read_fasta(path):
    """The records of a FASTA file (plain or gzip), upper-cased.

    Parameters
    ----------
    path : str or path-like
        FASTA file, read with pysam.

    Returns
    -------
    names : list of str
        The record names, in file order.
    sequences : list of str
        Their sequences, upper-cased.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If ``path`` is not a path (naming it), or the file holds no records.
    """
    import pysam

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"FASTA file not found: {path!r}.")
    names, sequences = [], []
    with pysam.FastxFile(path) as records:
        for record in records:
            names.append(record.name)
            sequences.append(record.sequence.upper())
    if not sequences:
        raise ValueError(f"{path!r} holds no FASTA records.")
    return names, sequences


class Genome:
    """A reference genome in an indexed FASTA file.

    Coordinates are 0-based and half-open, as in BED and Python slices.
    Contig names are matched across the two common conventions: ``"chr1"``
    finds a contig named ``"1"`` and the reverse, and ``"chrM"``/``"MT"``
    find each other, whenever exactly one contig matches.

    Parameters
    ----------
    path : str or path-like
        FASTA file, plain or compressed with bgzip (not plain gzip). A missing
        ``.fai`` index (and ``.gzi`` for bgzip) is built next to it, which
        needs write access to its folder.

    Attributes
    ----------
    path : str
        The FASTA file.
    contigs : dict of str to int
        Length of each contig, in file order.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "genome.fa")
    >>> with open(path, "w") as f:
    ...     _ = f.write(">chr1\\nACGTacgtAC\\n>chrM\\nGGCC\\n")
    >>> with Genome(path) as genome:
    ...     print(genome.contigs)
    ...     print(genome.resolve("1"), genome.resolve("MT"))
    ...     print(genome.fetch("1", -2, 4), genome.fetch("chr1", 8, 12))
    {'chr1': 10, 'chrM': 4}
    chr1 chrM
    NNACGT ACNN
    """

    def __init__(self, path):
        try:
            import pysam
        except ImportError as error:  # pragma: no cover - depends on the installation
            raise ImportError(
                "Reading genomes needs pysam: pip install 'skdeepsea[genomics]'."
            ) from error
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"Genome FASTA file not found: {self.path!r}.")
        previous = pysam.set_verbosity(0)  # htslib's own message would be a second line
        try:
            self._fasta = pysam.FastaFile(self.path)
        except (OSError, ValueError) as error:
            hint = ""
            with open(self.path, "rb") as f:
                magic = f.read(4)
            if magic[:2] == b"\x1f\x8b" and not magic[3] & 4:
                hint = (" It is gzip-compressed without bgzip's blocks: recompress it with "
                        "`bgzip` (or decompress it) so that it can be indexed.")
            raise ValueError(
                f"Cannot open {self.path!r} as an indexed FASTA file: {error}.{hint}"
            ) from error
        finally:
            pysam.set_verbosity(previous)
        self.contigs = dict(zip(self._fasta.references, self._fasta.lengths))
        self._aliases = contig_aliases(self.contigs)

    def resolve(self, chrom):
        """The file's name for a contig, matching "chr1" to "1" and "chrM" to "MT".

        Parameters
        ----------
        chrom : str
            Contig name, in either convention.

        Returns
        -------
        name : str
            The name as written in the FASTA file.

        Raises
        ------
        KeyError
            If no contig, or more than one, matches ``chrom``.
        """
        chrom = str(chrom)
        matches = contig_matches(chrom, self.contigs, self._aliases)
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise KeyError(
                f"Contig {chrom!r} is ambiguous in {self.path!r}: it matches {matches}."
            )
        shown = list(self.contigs)[:5]
        more = ", ..." if len(self.contigs) > 5 else ""
        raise KeyError(
            f"Contig {chrom!r} is not in {self.path!r} (contigs: "
            f"{', '.join(shown)}{more})."
        )

    def __contains__(self, chrom):
        try:
            self.resolve(chrom)
        except KeyError:
            return False
        return True

    def fetch(self, chrom, start, end):
        """The uppercase sequence of ``chrom`` from ``start`` to ``end``.

        Parameters
        ----------
        chrom : str
            Contig name, in either naming convention (see :meth:`resolve`).
        start, end : int
            0-based, half-open coordinates. They may reach past the contig
            (``start < 0`` or ``end`` beyond its length): those positions
            come back as ``"N"``, so the result always has ``end - start``
            letters.

        Returns
        -------
        sequence : str
            Uppercase sequence of length ``end - start``.
        """
        name = self.resolve(chrom)
        start, end = int(start), int(end)
        if end < start:
            raise ValueError(f"fetch({chrom!r}, {start}, {end}): end is before start.")
        length = self.contigs[name]
        inside_start, inside_end = max(start, 0), min(end, length)
        if inside_end <= inside_start:
            return "N" * (end - start)
        sequence = self._fasta.fetch(name, inside_start, inside_end).upper()
        return "N" * (inside_start - start) + sequence + "N" * (end - inside_end)

    def close(self):
        """Close the FASTA file."""
        self._fasta.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __repr__(self):
        return f"Genome({self.path!r}, {len(self.contigs)} contigs)"


@contextlib.contextmanager
def opened_genome(genome):
    """``genome`` itself, or a :class:`Genome` of a path, opened for the block and closed after.

    Every function that takes a genome as an open :class:`Genome` or as a
    FASTA path opens it here; a genome the caller opened stays open.
    """
    if isinstance(genome, (str, os.PathLike)):
        with Genome(genome) as opened:
            yield opened
    else:
        yield genome
