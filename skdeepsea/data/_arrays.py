"""Sequences and labels kept as plain arrays: ``X`` and ``Y`` in a ``.npz`` or HDF5 file.

The small files people make themselves (``np.savez(path, X=..., Y=...)``, or
an HDF5 file with datasets ``X`` and ``Y``) open through :func:`open_arrays`
with the same attributes as a :class:`~skdeepsea.data.Dataset`, so that code
reading test sets does not care which kind of file it was given.
"""

import os
import zipfile
import zlib
from numbers import Integral

import h5py
import numpy as np

from .._constraints import Interval, PathLike, parameter_constraints
from ..preprocessing import (
    ALPHABET_CONSTRAINT,
    DEFAULT_ALPHABET,
    OneHotDNA,
    channel_order,
    check_alphabet,
)
from ._lazy_array import LazyArray
from ..exceptions import damaged
from ._stream import open_hdf5

# Samples read at a time when indices are grouped (arrays held in memory have no chunks).
_IN_MEMORY_CHUNK_ROWS = 1024


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


class ArrayDataset:
    """One-hot sequences and optional labels from a ``.npz`` or HDF5 file of arrays.

    Made by :func:`open_arrays`; not meant to be built directly. Close it (or
    use it as a context manager) to release an HDF5 file.

    Attributes
    ----------
    X : LazyArray of shape (n_samples, sequence_length, 4)
        One-hot sequences, channels in ``alphabet`` order, read (and, for
        strings, encoded) only when indexed; indexing returns a
        :class:`~skdeepsea.OneHotArray`. Stored one-hot arrays keep their
        dtype; stored strings come out as uint8.
    Y : ndarray, LazyArray or None
        The labels as stored (``(n_samples,)`` or ``(n_samples, n_targets)``),
        None when the file has no ``Y``; lazy for an HDF5 file.
    target_names : list of str or None
        The file's ``target_names``, if any.
    alphabet : str
        Base order of the channels of ``X``.
    stored_alphabet : str or None
        Base order of the stored one-hot arrays (their ``alphabet``, else
        "ATGC"); None for stored strings.
    path : str
        The file.
    format : {"npz", "hdf5"}
        What the file is.
    """

    def __init__(self, path, format, X, Y, target_names, stored_alphabet, alphabet,
                 sequence_length, chunk_rows, close=None):
        self.path = path
        self.format = format
        self.alphabet = alphabet
        self.target_names = target_names
        self._close = close
        if X.dtype.kind in "USO":
            self.stored_alphabet = None
            self.X = self._encoded_strings(X, sequence_length, chunk_rows)
        else:
            self.stored_alphabet = check_alphabet(stored_alphabet or DEFAULT_ALPHABET)
            self.X = self._reordered_one_hot(X, chunk_rows)
        if Y is not None and len(Y) != len(X):
            raise ValueError(f"{path}: X has {len(X)} samples but Y has {len(Y)}.")
        if Y is not None and not isinstance(Y, np.ndarray):
            stored_Y = Y
            Y = LazyArray(lambda start, stop: stored_Y[start:stop], Y.shape, Y.dtype, chunk_rows)
        self.Y = Y

    def _reordered_one_hot(self, X, chunk_rows):
        if len(X.shape) != 3 or X.shape[2] != 4:
            raise ValueError(
                f"{self.path}: X must be one-hot sequences of shape (n, L, 4) or strings, got "
                f"shape {X.shape}."
            )
        channels = channel_order(self.stored_alphabet, self.alphabet)
        return LazyArray(lambda start, stop: np.asarray(X[start:stop])[..., channels],
                         X.shape, X.dtype, chunk_rows, alphabet=self.alphabet)

    def _encoded_strings(self, X, sequence_length, chunk_rows):
        encoder = OneHotDNA(alphabet=self.alphabet, sequence_length=sequence_length,
                            dtype="uint8")
        length = sequence_length if sequence_length is not None else (
            len(_text(X[0])) if len(X) else 0
        )

        def read(start, stop):
            sequences = [_text(s) for s in X[start:stop]]
            if sequence_length is None:
                for index, sequence in enumerate(sequences, start=start):
                    if len(sequence) != length:
                        raise ValueError(
                            f"{self.path}: sequence {index} has {len(sequence)} bp but sequence 0 "
                            f"has {length}; pass sequence_length to bring them to one length."
                        )
            return np.asarray(encoder.fit_transform(sequences))

        return LazyArray(read, (len(X), length, 4), np.uint8, chunk_rows, alphabet=self.alphabet)

    @property
    def sequence_length(self):
        """Length of every sequence."""
        return self.X.shape[1]

    @property
    def n_targets(self):
        """Number of targets (columns of ``Y``; 1 for a 1-D ``Y``), or None without ``Y``."""
        if self.Y is None:
            return None
        return self.Y.shape[1] if len(self.Y.shape) == 2 else 1

    def __len__(self):
        return len(self.X)

    def __repr__(self):
        return (
            f"ArrayDataset({self.path!r}, format={self.format!r}, n_samples={len(self)}, "
            f"sequence_length={self.sequence_length}, n_targets={self.n_targets}, "
            f"alphabet={self.alphabet!r})"
        )

    def close(self):
        """Release the file (a no-op for ``.npz``, read whole on opening)."""
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _open_npz(path, alphabet, sequence_length):
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            zip_start = f.read(4) == b"PK\x03\x04"
        if zip_start:
            raise damaged(path, ".npz archive", "its end (the zip directory) is missing")
        raise ValueError(f"{path} is not an .npz archive (as numpy.savez writes).")
    try:
        return _read_npz(path, alphabet, sequence_length)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise damaged(path, ".npz archive", error) from error


def _read_npz(path, alphabet, sequence_length):
    with np.load(path, allow_pickle=False) as data:
        if "X" not in data:
            raise ValueError(f"{path} has no array 'X' (it has {sorted(data.files)}).")
        X = data["X"]
        Y = data["Y"] if "Y" in data else None
        names = [str(n) for n in data["target_names"]] if "target_names" in data else None
        stored = str(data["alphabet"]) if "alphabet" in data else None
    return ArrayDataset(path, "npz", X, Y, names, stored, alphabet, sequence_length,
                        _IN_MEMORY_CHUNK_ROWS)


def _open_hdf5(file, path, alphabet, sequence_length):
    X, Y = file["X"], file.get("Y")
    names = [_text(n) for n in file["target_names"][()]] if "target_names" in file else None
    stored = file.attrs.get("alphabet", X.attrs.get("alphabet"))
    return ArrayDataset(path, "hdf5", X, Y, names, None if stored is None else _text(stored),
                        alphabet, sequence_length, X.chunks[0] if X.chunks else 1, file.close)


@parameter_constraints({"path": [PathLike()], "alphabet": [ALPHABET_CONSTRAINT],
                        "sequence_length": [Interval(Integral, 1, None), None]})
def open_arrays(path, alphabet=DEFAULT_ALPHABET, *, sequence_length=None):
    """Open sequences and labels stored as arrays ``X`` and ``Y``, or any data file.

    A ``.npz`` file (``np.savez``) or an HDF5 file with a dataset ``X``:
    one-hot sequences of shape (n, L, 4) or DNA strings, with optional ``Y``
    (labels), ``target_names`` and ``alphabet`` (the base order of a stored
    one-hot ``X``, an array in ``.npz``, an attribute of the HDF5 file or of
    its ``X``; default "ATGC"). Any other file goes to :func:`open_dataset`
    (the DeepSEA bundle's ``.mat`` files, streaming ``.h5`` files), whose
    data set has the same attributes.

    Parameters
    ----------
    path : str or path-like
        The file.
    alphabet : str, default="ATGC"
        Base order of the channels of ``X`` as read: stored one-hot arrays
        are reordered, stored strings encoded in this order.
    sequence_length : int or None, default=None
        Length to bring stored strings to (centre-cropped or N-padded as
        :class:`~skdeepsea.OneHotDNA` does); None: they must all have the
        same length. Not used for one-hot arrays.

    Returns
    -------
    dataset : ArrayDataset or Dataset
        With ``X`` (lazy one-hot, in ``alphabet`` order), ``Y`` (or None),
        ``target_names``, ``alphabet`` and ``path``; close it when done (or
        use it in a ``with`` block).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        ``"open_arrays: <name> must be ..., got <value>."`` for a parameter
        of the wrong type or value, before the file is opened; if ``X`` is
        missing or neither one-hot nor strings, or ``X`` and ``Y`` disagree
        in length; the message names the file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skdeepsea.data import open_arrays
    >>> path = os.path.join(tempfile.mkdtemp(), "test.npz")
    >>> np.savez(path, X=np.array(["ACGT", "GGTA"]), Y=np.array([1, 0]))
    >>> with open_arrays(path, alphabet="ACGT") as data:
    ...     print(data.X.shape, data.Y, data.target_names)
    ...     print(data.X[0])
    (2, 4, 4) [1 0] None
    [[1 0 0 0]
     [0 1 0 0]
     [0 0 1 0]
     [0 0 0 1]]
    """
    path = os.fspath(path)
    alphabet = alphabet.upper()
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such data file: {path}")
    if path.endswith(".npz"):
        return _open_npz(path, alphabet, sequence_length)
    if h5py.is_hdf5(path):
        file = open_hdf5(path)
        try:
            if "X" in file and isinstance(file["X"], h5py.Dataset):
                return _open_hdf5(file, path, alphabet, sequence_length)
        except BaseException:
            file.close()
            raise
        file.close()
    from ._dataset import open_dataset

    return open_dataset(path, alphabet)
