"""The one atomic writer: every file skdeepsea writes appears whole or not at all.

A file is written under a temporary name beside its destination (same
directory, so the final rename never crosses file systems), flushed to disk,
and renamed over the destination with ``os.replace``. A process killed at any
moment leaves the previous file or the new one, never a partial file; an
exception removes the temporary file and leaves the destination untouched.
Temporary names start with ``.tmp-<pid>@<host>-`` (the writing process and its
machine): the next write to the same destination removes those of processes
of this machine that no longer run, so a killed run leaves nothing behind for
long (files of other machines, on a shared file system, are left alone).

Several files that belong together (a data set's splits, a report folder) are
written with :func:`atomic_files`: staged in a work folder, then committed
together; a run killed before the commit leaves the old files, one killed
during it is completed by the next run (:func:`recover_folder`).
"""

import contextlib
import json
import os
import re
import shutil
import socket
import tempfile

TEMPORARY_PREFIX = ".tmp-"
_COMMIT_RECORD = ".commit"


_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def temporary_prefix(pid=None):
    """The start of the temporary names of a process of this machine.

    Parameters
    ----------
    pid : int or None, default=None
        Process id; None: this process.

    Returns
    -------
    prefix : str
        ``.tmp-<pid>@<host>-``.
    """
    return f"{TEMPORARY_PREFIX}{os.getpid() if pid is None else pid}@{_HOST}-"


def _same_file(a, b):
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def check_output_path(out, inputs, option="out", folder=False):
    """Refuse an output path that is one of the input files, or of the wrong kind.

    Every writer whose inputs are files calls it before any work (the
    commands inherit it), so no output replaces an input.

    Parameters
    ----------
    out : str or path-like
        The output file, or a folder.
    inputs : dict of str to path or None
        The inputs by parameter (or option) name; None, or anything that is
        not a path (an object given instead of a file), is skipped. For a
        folder output, inputs inside it under a name the writer writes are
        not caught here; check those names one by one.
    option : str, default="out"
        How to name the output in the message.
    folder : bool, default=False
        The output is a folder (else a file): an existing path of the other
        kind is refused now, before any work.

    Raises
    ------
    ValueError
        Naming both parameters and the file.
    IsADirectoryError, NotADirectoryError
        If the output exists as a folder where a file is written, or the
        reverse.

    Examples
    --------
    >>> from skdeepsea._atomic import check_output_path
    >>> check_output_path("scores.tsv", {"variants": "variants.vcf"})
    >>> check_output_path("v.vcf", {"variants": "v.vcf"})
    Traceback (most recent call last):
    ...
    ValueError: out v.vcf is the input file of variants: writing it would replace the input.
    """
    out = os.fspath(out)
    if not folder and os.path.isdir(out):
        raise IsADirectoryError(f"{option} {out} is a folder; give the path of a file.")
    if folder and os.path.exists(out) and not os.path.isdir(out):
        raise NotADirectoryError(f"{option} {out} is a file; give the path of a folder.")
    for name, path in inputs.items():
        if isinstance(path, (str, os.PathLike)) and _same_file(out, os.fspath(path)):
            raise ValueError(
                f"{option} {out} is the input file of {name}: writing it would replace the "
                "input."
            )


def _owner_is_gone(name):
    """Whether a temporary name belongs to a process of this machine that no longer runs."""
    pid, _, rest = name[len(TEMPORARY_PREFIX):].partition("@")
    if not pid.isdigit() or not rest.startswith(_HOST + "-"):
        return False  # another machine's, or not ours: leave it
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def _remove_leftovers(directory, basename):
    """Remove the temporary files of killed writers of ``basename`` in ``directory``."""
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if (name.startswith(TEMPORARY_PREFIX) and name.endswith("-" + basename)
                and _owner_is_gone(name)):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))


def _umask():
    # Linux reports it without changing it; setting and restoring it (the fallback) would
    # give files other threads create meanwhile no umask at all.
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
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
    if os.path.isdir(path):  # the rename would fail only after all the work
        raise IsADirectoryError(f"{path} is a folder; give the path of a file.")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    _remove_leftovers(directory, os.path.basename(path))
    fd, temporary = tempfile.mkstemp(
        prefix=temporary_prefix(), suffix="-" + os.path.basename(path), dir=directory
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


def _fsync_tree(folder):
    for root, _, names in os.walk(folder):
        for name in names:
            with open(os.path.join(root, name), "rb+") as f:
                os.fsync(f.fileno())


def _roll_forward(work, folder):
    """Finish a commit whose record is written: delete the stale names, move the files in."""
    with open(os.path.join(work, _COMMIT_RECORD)) as f:
        record = json.load(f)
    for relative in record["remove"]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(folder, relative))
    for relative in record["files"]:  # in order: the last one marks the set complete
        source = os.path.join(work, relative)
        if os.path.exists(source):  # moved already by an interrupted commit
            target = os.path.join(folder, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(source, target)
    shutil.rmtree(work, ignore_errors=True)


def recover_folder(folder):
    """Clean up after runs killed while writing a file set into ``folder``.

    A work folder whose commit had begun is completed (its files moved in);
    any other work folder of a process that no longer runs is deleted.

    Parameters
    ----------
    folder : str or path-like
        Output folder of :func:`atomic_files`.

    Returns
    -------
    recovered : list of str
        The work folders handled.
    """
    folder = os.fspath(folder)
    handled = []
    if not os.path.isdir(folder):
        return handled
    for name in sorted(os.listdir(folder)):
        work = os.path.join(folder, name)
        if not (name.startswith(TEMPORARY_PREFIX) and os.path.isdir(work)
                and _owner_is_gone(name)):
            continue
        if os.path.exists(os.path.join(work, _COMMIT_RECORD)):
            _roll_forward(work, folder)
        else:
            shutil.rmtree(work, ignore_errors=True)
        handled.append(work)
    return handled


@contextlib.contextmanager
def atomic_files(folder, *, last=None, remove=()):
    """Yield a work folder; commit all files written there into ``folder`` together.

    The files are staged in a ``.tmp-<pid>-`` work folder inside ``folder``.
    On success a commit record (the list of files) is written atomically,
    then the names in ``remove`` are deleted from ``folder`` and the files
    moved in (``last`` after all others). Before that record exists, a
    failure or a kill leaves ``folder`` as it was; after it, the next call
    (or :func:`recover_folder`) completes the commit. Leftovers of killed runs
    are handled first.

    Parameters
    ----------
    folder : str or path-like
        Destination folder, created when missing.
    last : str or None, default=None
        File (relative path) moved in after all the others, e.g. ``index.html``.
    remove : iterable of str, default=()
        Relative paths in ``folder`` that belong to the set but are not
        written this time (a split no longer held out): deleted, so that no
        old file stays beside the new ones.

    Yields
    ------
    work : str
        The folder to write the files into (subfolders allowed).

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea._atomic import atomic_files
    >>> folder = tempfile.mkdtemp()
    >>> with atomic_files(folder) as work:
    ...     for name in ("a.txt", "b.txt"):
    ...         _ = open(os.path.join(work, name), "w").write(name)
    >>> sorted(os.listdir(folder))
    ['a.txt', 'b.txt']
    """
    folder = os.path.abspath(os.fspath(folder))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise NotADirectoryError(f"{folder} exists and is not a folder.")
    created = not os.path.exists(folder)
    os.makedirs(folder, exist_ok=True)
    recover_folder(folder)
    work = tempfile.mkdtemp(prefix=temporary_prefix(), dir=folder)
    try:
        os.chmod(work, 0o777 & ~_umask())
        yield work
        files = sorted(
            os.path.relpath(os.path.join(root, name), work)
            for root, _, names in os.walk(work) for name in names
        )
        if last is not None and last in files:
            files.remove(last)
            files.append(last)
        _fsync_tree(work)
        written = set(files)
        record = {"files": files, "remove": [r for r in remove if r not in written]}
        with atomic_open(os.path.join(work, _COMMIT_RECORD), "w") as f:
            json.dump(record, f)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if created:  # leave no empty folder where there was none
            with contextlib.suppress(OSError):
                os.rmdir(folder)
        raise
    _roll_forward(work, folder)
