"""The exceptions skdeepsea raises for bad input of its own kinds.

Bad values and bad data raise :class:`ValueError` (or one of its subclasses
here), missing files :class:`FileNotFoundError`, unknown names (a contig, a
target) :class:`KeyError`; every message names what is wrong and where (the
parameter, the sample, the file and line). The ``skdeepsea`` command prints
these as one line.
"""

import contextlib
import os
import re
import sys
import warnings

__all__ = ["DamagedFileError"]


class DamagedFileError(ValueError):
    """A file that exists but is damaged or truncated; the message names the file.

    Raised when a ``.skdeepsea`` model, a training checkpoint, an HDF5 data
    file, a MATLAB file or a gzip-compressed VCF ends early or fails its
    checksum, instead of the reader's own error (or a silently short result).

    Examples
    --------
    >>> from skdeepsea.exceptions import DamagedFileError
    >>> issubclass(DamagedFileError, ValueError)
    True
    """


def damaged(path, kind, error):
    """A :class:`DamagedFileError` naming ``path``, its kind and the reader's complaint.

    Parameters
    ----------
    path : str or path-like
        The file.
    kind : str
        What it was read as ("zip archive", "HDF5", "gzip stream", ...).
    error : BaseException or str
        What the reader said.

    Returns
    -------
    error : DamagedFileError
        To raise.

    Examples
    --------
    >>> from skdeepsea.exceptions import damaged
    >>> damaged("m.skdeepsea", "zip archive", "Bad CRC-32")
    DamagedFileError('m.skdeepsea is damaged or truncated (zip archive: Bad CRC-32).')
    """
    detail = " ".join(str(error).split()) or type(error).__name__
    return DamagedFileError(f"{path} is damaged or truncated ({kind}: {detail}).")


@contextlib.contextmanager
def reading_text(path, what):
    """Read a text file inside this block: a byte that is not UTF-8 becomes one clear error.

    Parameters
    ----------
    path : str or path-like
        The file being read.
    what : str
        What the file should hold ("target names", ...).

    Raises
    ------
    ValueError
        Instead of :class:`UnicodeDecodeError` (whose message names neither
        the file nor what it should be): the file, the byte and its offset.

    Examples
    --------
    >>> from skdeepsea.exceptions import reading_text
    >>> with reading_text("names.txt", "target names"):
    ...     _ = b"\\x89PNG".decode("utf-8")
    Traceback (most recent call last):
    ...
    ValueError: names.txt is not a text file of target names: byte 0x89 at offset 0 is not UTF-8 (a binary file?).
    """
    try:
        yield
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path} is not a text file of {what}: byte {error.object[error.start]:#04x} at "
            f"offset {error.start} is not UTF-8 (a binary file?)."
        ) from None


_SEQUENCE_ERROR = re.compile(r"^sequence (\d+) has (.*) at position (\d+)\.$", re.DOTALL)


def located_sequence_error(error, where):
    """OneHotDNA's "sequence i has ... at position p" told where the sequence came from.

    Parameters
    ----------
    error : ValueError
        Raised by :class:`skdeepsea.OneHotDNA` for a batch of sequences.
    where : callable
        ``where(i, position)`` returns the place of position ``position``
        (0-based) of sequence ``i`` of the batch, e.g. ``"genome.fa: chr1:51"``
        or ``"reads.fa, record 'r7', position 50"``.

    Returns
    -------
    located : ValueError or None
        The error with the place in front of what is wrong; None when the
        message names no position.

    Examples
    --------
    >>> from skdeepsea.exceptions import located_sequence_error
    >>> error = ValueError("sequence 1 has an invalid character '-' at position 7.")
    >>> located_sequence_error(error, lambda i, p: f"g.fa: chr2:{100 + p + 1}")
    ValueError("g.fa: chr2:108 has an invalid character '-'.")
    """
    found = _SEQUENCE_ERROR.match(str(error))
    if found is None:
        return None
    return ValueError(f"{where(int(found[1]), int(found[3]))} has {found[2]}.")


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message, category=UserWarning):
    """``warnings.warn`` pointing at the first frame outside skdeepsea: the user's line.

    pandas' ``find_stack_level``: however deep in the package the warning is
    raised (behind ``@parameter_constraints``' wrapper, say), it names the
    caller's file and line.

    Parameters
    ----------
    message : str
        The warning.
    category : type, default=UserWarning
        The warning's class.
    """
    frame, level = sys._getframe(), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
