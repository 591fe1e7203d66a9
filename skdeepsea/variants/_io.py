"""Reading variants: VCF files (through pysam) and tables, one row per ALT allele."""

import gzip
import os
import threading
import zlib
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd

from .._constraints import InstanceOf, Interval, Options, PathLike, parameter_constraints
from ..exceptions import damaged

VARIANT_COLUMNS = ["chrom", "pos", "id", "ref", "alt", "line"]

_MALFORMED_MODES = ("error", "skip")
_COLUMN_ALIASES = {
    "chrom": ("chrom", "#chrom", "chr", "chromosome", "contig", "seqname"),
    "pos": ("pos", "position", "start", "pos1"),
    "id": ("id", "name", "variant_id", "rsid"),
    "ref": ("ref", "reference"),
    "alt": ("alt", "alts", "alternative"),
}


class MalformedVariantError(ValueError):
    """A variant line or row that cannot be read; the message names the file and line."""


class ReadReport:
    """Counts of what a variant reader skipped.

    Attributes
    ----------
    malformed : int
        Lines (or rows) that could not be read and were skipped.
    malformed_lines : list of int
        The first 100 of their 1-based line numbers.
    """

    def __init__(self):
        self.malformed = 0
        self.malformed_lines = []

    def add(self, line):
        self.malformed += 1
        if len(self.malformed_lines) < 100:
            self.malformed_lines.append(line)

    def __repr__(self):
        return f"ReadReport(malformed={self.malformed})"


def _open_text(path):
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rt", errors="replace") if gzipped else open(path, errors="replace")


def _is_vcf(path):
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        with gzip.open(path, "rb") as f:
            magic = f.read(16)
        return magic.startswith((b"##fileformat=VCF", b"BCF"))
    with open(path, "rb") as f:
        return f.read(16).startswith(b"##fileformat=VCF")


class _LineReader:
    """The text of given lines of a file, asked for in increasing order (for messages)."""

    def __init__(self, path):
        self.path, self.file, self.number = path, None, 0

    def line(self, number):
        if self.file is None:
            self.file = _open_text(self.path)
        text = ""
        while self.number < number:
            text = self.file.readline()
            self.number += 1
            if not text:
                break
        return text.rstrip("\r\n")

    def close(self):
        if self.file is not None:
            self.file.close()


def _header_lines(path):
    with _open_text(path) as f:
        count = 0
        for line in f:
            if not line.startswith("#"):
                break
            count += 1
    return count


class _GzipPipe:
    """Decompress a plain (not bgzip) gzip file into a pipe that htslib reads.

    htslib only seeks in bgzip files, and pysam seeks when it opens one, so a
    plain gzip VCF is streamed to it through a pipe by a thread. Only whole
    lines go through: a file that ends early (truncated) stops after its last
    whole line, and :attr:`error` says so, so that no cut line is read as a
    record and no shorter file passes for a whole one.
    """

    def __init__(self, path):
        self.read_fd, write_fd = os.pipe()
        self.error = None

        def feed():
            try:
                with gzip.open(path, "rb") as src, os.fdopen(write_fd, "wb") as dst:
                    pending = b""
                    try:
                        while True:
                            block = src.read(1 << 16)
                            if not block:
                                break
                            block = pending + block
                            cut = block.rfind(b"\n") + 1
                            dst.write(block[:cut])
                            pending = block[cut:]
                    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
                        self.error = error
                        return
                    dst.write(pending)
            except (BrokenPipeError, OSError):
                pass  # the reader stopped early

        self.thread = threading.Thread(target=feed, daemon=True)
        self.thread.start()

    def check(self, path):
        """Raise DamagedFileError if decompression failed (once the feeder has stopped)."""
        if not self.thread.is_alive() and self.error is not None:
            raise damaged(path, "gzip stream", self.error)


def _is_bgzip(path):
    with open(path, "rb") as f:
        header = f.read(4)
    return header[:2] == b"\x1f\x8b" and bool(header[3] & 4)


class VariantPart(NamedTuple):
    """One partition of a variant file: consecutive data lines, read on their own.

    Attributes
    ----------
    index : int
        Its rank in the file (0-based).
    first_line : int
        1-based line number of its first data line.
    n_lines : int
        Its data lines.
    offset : int
        Byte offset of its first line in the (decompressed) file.
    regions : tuple of (str, int, int) or None
        For a bgzipped, tabix-indexed file: (contig, first POS, last POS) of
        its records, read through the index; None: read from ``offset``.
    """

    index: int
    first_line: int
    n_lines: int
    offset: int
    regions: tuple | None = None


def _part_lines(path, part):
    """The raw data lines (bytes) of one partition."""
    if part.regions is not None:
        import pysam

        index = next(i for i in (path + ".tbi", path + ".csi") if os.path.exists(i))
        with pysam.TabixFile(path, index=index, encoding="utf-8") as tabix:
            for contig, first, last in part.regions:
                # tabix returns records overlapping the region: keep those starting in it.
                for text in tabix.fetch(contig, first - 1, last):
                    if first <= int(text.split("\t", 2)[1]) <= last:
                        yield text.encode() + b"\n"
        return
    # A gzip stream seeks forward by decompressing, at zlib's speed.
    with _open_binary(path) as f:
        f.seek(part.offset)
        for _ in range(part.n_lines):
            yield f.readline()


class _PartPipe(_GzipPipe):
    """The header and one partition's lines, fed to htslib through a pipe by a thread.

    A read that fails (a damaged stream, an index that does not fit) sets
    :attr:`error`, which ``check`` raises: a partition is never silently short.
    """

    def __init__(self, path, part):
        self.read_fd, write_fd = os.pipe()
        self.error = None

        def feed():
            try:
                with _open_binary(path) as src, os.fdopen(write_fd, "wb") as dst:
                    for text in src:
                        if not text.startswith(b"#"):
                            break
                        dst.write(text)
                    dst.writelines(_part_lines(path, part))
            except BrokenPipeError:
                pass  # the reader stopped early
            except (OSError, EOFError, ValueError, zlib.error) as error:
                self.error = error

        self.thread = threading.Thread(target=feed, daemon=True)
        self.thread.start()

    def check(self, path):
        """Raise DamagedFileError if reading the partition failed (once the feeder has stopped)."""
        if not self.thread.is_alive() and self.error is not None:
            raise damaged(path, "partition of lines", self.error)


def _open_binary(path):
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")


def _iter_vcf_rows(path, on_malformed, report, part=None):
    import pysam

    previous = pysam.set_verbosity(0)  # htslib's own warnings would interleave with ours
    gzipped = False
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    if part is not None:
        source = _PartPipe(path, part)
    else:
        source = _GzipPipe(path) if gzipped and not _is_bgzip(path) else None
    try:
        try:
            vcf = pysam.VariantFile(source.read_fd if source else path)
        except (OSError, ValueError) as error:
            raise MalformedVariantError(f"{path}: not a readable VCF file ({error}).") from error
        line = _header_lines(path) if part is None else part.first_line - 1
        records = iter(vcf)
        lines = _LineReader(path)
        try:
            while True:
                line += 1
                try:
                    record = next(records)
                except StopIteration:
                    if source:
                        source.thread.join()
                        source.check(path)
                    break
                except (OSError, ValueError) as error:
                    if source:
                        source.check(path)
                    text = lines.line(line)
                    if not text.strip():
                        continue  # a blank line, e.g. at the end of the file
                    if on_malformed == "skip":
                        report.add(line)
                        continue
                    raise MalformedVariantError(
                        f"{path}, line {line}: malformed VCF record ({error}): "
                        f"{text[:200]!r}. Pass on_malformed='skip' to skip such lines and "
                        "count them."
                    ) from error
                if record.pos < 1:
                    if on_malformed == "skip":
                        report.add(line)
                        continue
                    raise MalformedVariantError(
                        f"{path}, line {line}: POS {record.pos} is not a 1-based position "
                        f"(positions start at 1): {lines.line(line)[:200]!r}. Pass "
                        "on_malformed='skip' to skip such lines and count them."
                    )
                alts = record.alts or (".",)
                for alt in alts:
                    yield (record.chrom, record.pos, record.id or ".", record.ref.upper(),
                           alt.upper(), line)
        finally:
            vcf.close()
            lines.close()
    finally:
        pysam.set_verbosity(previous)


def _standard_columns(frame, where):
    lower = {str(c).lower(): c for c in frame.columns}
    mapping = {}
    for name, aliases in _COLUMN_ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is None and name != "id":
            raise ValueError(
                f"{where} has no {name!r} column (columns: {list(frame.columns)}); variant "
                "tables need chrom, pos (1-based), ref and alt, and optionally id."
            )
        if found is not None:
            mapping[found] = name
    return mapping


def _iter_table_rows(frame, first_line, where, on_malformed, report, mapping):
    frame = frame.rename(columns=mapping)
    ids = frame["id"] if "id" in frame else pd.Series(".", index=frame.index)
    for k, (chrom, pos, id_, ref, alt) in enumerate(
        zip(frame["chrom"], frame["pos"], ids, frame["ref"], frame["alt"])
    ):
        line = first_line + k
        problem = None
        try:
            pos_int = int(pos)
            if pos_int != pos and not isinstance(pos, str):
                raise ValueError
            if pos_int < 1:
                problem = f"pos {pos!r} is not a 1-based position"
        except (TypeError, ValueError):
            problem = f"pos {pos!r} is not an integer"
        if problem is None:
            for field, value in (("chrom", chrom), ("ref", ref), ("alt", alt)):
                if not isinstance(value, str) or not value.strip():
                    problem = f"{field} is missing"
                    break
        if problem:
            if on_malformed == "skip":
                report.add(line)
                continue
            raise MalformedVariantError(
                f"{where}, {'line' if first_line > 1 else 'row'} {line}: {problem}. Pass "
                "on_malformed='skip' to skip such rows and count them."
            )
        id_ = "." if id_ is None or (isinstance(id_, float) and np.isnan(id_)) else str(id_)
        for allele in str(alt).split(","):
            yield (str(chrom), pos_int, id_, ref.strip().upper(), allele.strip().upper(), line)


def _iter_rows(source, on_malformed, report):
    if isinstance(source, pd.DataFrame):
        mapping = _standard_columns(source, "The variant DataFrame")
        yield from _iter_table_rows(source, 1, "The variant DataFrame", on_malformed, report,
                                    mapping)
        return
    path = os.fspath(source)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Variant file not found: {path!r}.")
    if _is_vcf(path):
        yield from _iter_vcf_rows(path, on_malformed, report)
        return
    separator = "," if path.lower().removesuffix(".gz").endswith(".csv") else "\t"
    line, mapping, reader = 2, None, None  # line 1 is the header
    while True:
        try:
            if reader is None:
                reader = pd.read_csv(path, sep=separator, dtype=str, chunksize=10_000,
                                     keep_default_na=False, na_values=[""])
            frame = next(reader, None)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise damaged(path, "gzip stream", error) from error
        if frame is None:
            break
        if mapping is None:
            mapping = _standard_columns(frame, path)
        yield from _iter_table_rows(frame, line, path, on_malformed, report, mapping)
        line += len(frame)


# What read_variants accepts; variant scoring reuses them (its ``variants`` is ``source``).
READ_CONSTRAINTS = {
    "chunk_size": [Interval(Integral, 1, None)],
    "on_malformed": [Options(str, _MALFORMED_MODES)],
    "report": [None, InstanceOf(ReadReport, "a ReadReport")],
    "source": [PathLike(), InstanceOf(pd.DataFrame, "a pandas.DataFrame")],
}


@parameter_constraints(READ_CONSTRAINTS)
def read_variants(source, *, chunk_size=10_000, on_malformed="error", report=None):
    """Read variants in chunks, one row per ALT allele.

    Parameters
    ----------
    source : str, path-like or pandas.DataFrame
        A VCF file (plain, gzip or bgzip; recognised by its
        ``##fileformat=VCF`` header, whatever its name), a tab-separated table
        (comma-separated if named ``.csv``) with a header, or a DataFrame.
        Tables need the columns chrom, pos (1-based), ref and alt, and may
        have id; an alt of ``"G,T"`` is split in two rows.
    chunk_size : int, default=10_000
        Rows per chunk.
    on_malformed : {"error", "skip"}, default="error"
        A line that cannot be read raises :class:`MalformedVariantError`
        naming its line number, or with "skip" is skipped and counted in
        ``report``.
    report : ReadReport or None, default=None
        Collects the count of skipped lines.

    Yields
    ------
    chunk : pandas.DataFrame
        Columns chrom, pos, id, ref, alt (uppercase) and line (the 1-based
        line of the VCF or table, or the row of a DataFrame).

    Raises
    ------
    ValueError
        For a parameter of the wrong type or value, naming it (when called,
        before anything is read).
    FileNotFoundError
        If ``source`` is a path that does not exist (when iterated).
    MalformedVariantError
        For a line that cannot be read, with ``on_malformed="error"``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"chrom": ["1"], "pos": [5], "ref": ["A"], "alt": ["C,g"]})
    >>> next(read_variants(table))[["chrom", "pos", "id", "ref", "alt"]]
      chrom  pos id ref alt
    0     1    5  .   A   C
    1     1    5  .   A   G
    """
    report = ReadReport() if report is None else report
    rows = []
    for row in _iter_rows(source, on_malformed, report):
        rows.append(row)
        if len(rows) == chunk_size:
            yield _frame(rows)
            rows = []
    if rows:
        yield _frame(rows)


def read_variant_part(path, part, *, on_malformed="error", report=None):
    """The variants of one partition of a VCF file, as :func:`read_variants` reads them.

    Parameters
    ----------
    path : str or path-like
        A VCF file (plain, gzip or bgzip).
    part : VariantPart
        Which lines (from ``skdeepsea.variants._distributed.plan_partitions``).
    on_malformed : {"error", "skip"}, default="error"
        As for :func:`read_variants`; messages name the line in ``path``.
    report : ReadReport or None, default=None
        Collects the count of skipped lines.

    Returns
    -------
    variants : pandas.DataFrame
        The columns of :func:`read_variants`, ``line`` numbered in ``path``.
    """
    if on_malformed not in _MALFORMED_MODES:
        raise ValueError(f"on_malformed must be one of {_MALFORMED_MODES}, got {on_malformed!r}.")
    report = ReadReport() if report is None else report
    return _frame(list(_iter_vcf_rows(os.fspath(path), on_malformed, report, part)))


def _frame(rows):
    frame = pd.DataFrame(rows, columns=VARIANT_COLUMNS)
    frame["pos"] = frame["pos"].astype(np.int64)
    frame["line"] = frame["line"].astype(np.int64)
    return frame
