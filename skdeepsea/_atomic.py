"""The one atomic writer: every file skdeepsea writes appears whole or not at all.

A file is written under a temporary name beside its destination (same
directory, so the final rename never crosses file systems), flushed to disk,
and renamed over the destination with ``os.replace``. A process killed at any
moment leaves the previous file or the new one, never a partial file; an
exception removes the temporary file and leaves the destination untouched.
Temporary names start with ``.tmp-`` so that they are easy to recognise.
"""

import contextlib
import os
import tempfile

TEMPORARY_PREFIX = ".tmp-"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path to write; rename it to ``path`` when the block succeeds.

    For writers that open the file themselves (h5py, zipfile, pysam, Keras).

    Parameters
    ----------
    path : str or path-like
        Destination file. Its directory is created when missing.

    Yields
    ------
    temporary : str
        An empty file beside ``path``, with the same name ending.

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea._atomic import atomic_path
    >>> folder = tempfile.mkdtemp()
    >>> with atomic_path(os.path.join(folder, "a.txt")) as tmp:
    ...     _ = open(tmp, "w").write("done")
    >>> os.listdir(folder)
    ['a.txt']
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(
        prefix=TEMPORARY_PREFIX, suffix="-" + os.path.basename(path), dir=directory
    )
    os.close(fd)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the user's default
        yield temporary
        with open(temporary, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def atomic_open(path, mode="wb", **kwargs):
    """Open a temporary file for writing; rename it to ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    mode : {"wb", "w"}, default="wb"
        Binary or text mode.
    **kwargs
        Passed to :func:`open` (``encoding``, ``newline``).

    Yields
    ------
    file : file object
        Open for writing; closed before the rename.

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea._atomic import atomic_open
    >>> path = os.path.join(tempfile.mkdtemp(), "b.txt")
    >>> with atomic_open(path, "w") as f:
    ...     _ = f.write("done")
    >>> open(path).read()
    'done'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}.")
    with atomic_path(path) as temporary:
        with open(temporary, mode, **kwargs) as f:
            yield f
            f.flush()
