"""The data set contract: :func:`open_dataset` and the :class:`Dataset` it returns."""

import os

import h5py
import numpy as np

from .._constraints import PathLike, parameter_constraints
from ..preprocessing import ALPHABET_CONSTRAINT, DEFAULT_ALPHABET
from ._lazy_array import LazyArray
from ._matfile import Mat5Reader, Mat73Reader
from ._stream import StreamReader, is_stream_file, open_hdf5

_BUNDLE_SPLITS = ("train", "valid", "test")


class Dataset:
    """One-hot sequences and their targets, read lazily from a file.

    Made by :func:`open_dataset`; not meant to be built directly. Close it
    (or use it as a context manager) to release the file.

    Attributes
    ----------
    X : LazyArray of shape (n_samples, sequence_length, 4), dtype uint8
        One-hot sequences, channels in ``alphabet`` order; indexing returns a
        :class:`~skdeepsea.OneHotArray`.
    Y : LazyArray of shape (n_samples, n_targets), dtype uint8
        0/1 targets.
    target_names : list of str or None
        One name per target, when the file has them (the DeepSEA bundle has
        none: see :func:`skdeepsea.targets.read_target_names`).
    alphabet : str
        Base order of the channels of ``X``.
    path : str
        The file.
    format : {"stream", "mat-v7.3", "mat-v5"}
        What the file is.
    """

    def __init__(self, reader, path, format, target_names=None, intervals=None):
        self._reader = reader
        self.path = path
        self.format = format
        self.alphabet = reader.alphabet
        self.X = LazyArray(reader.read_x, (reader.n_samples, reader.sequence_length, 4),
                           np.uint8, reader.chunk_rows, alphabet=reader.alphabet)
        self.Y = LazyArray(reader.read_y, (reader.n_samples, reader.n_targets), np.uint8,
                           reader.chunk_rows)
        self.target_names = target_names
        self._intervals = intervals

    @property
    def sequence_length(self):
        """Length of every sequence."""
        return self.X.shape[1]

    @property
    def n_targets(self):
        """Number of targets."""
        return self.Y.shape[1]

    @property
    def intervals(self):
        """Where each sample's window lies, as a DataFrame (chrom, start, end), or None.

        Files from :func:`build_dataset` have them; the DeepSEA bundle does not.
        """
        return self._intervals() if callable(self._intervals) else self._intervals

    def __len__(self):
        return len(self.X)

    def __repr__(self):
        return (
            f"Dataset({self.path!r}, format={self.format!r}, n_samples={len(self)}, "
            f"sequence_length={self.sequence_length}, n_targets={self.n_targets}, "
            f"alphabet={self.alphabet!r})"
        )

    def close(self):
        """Release the file."""
        self._reader.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


@parameter_constraints({"path": [PathLike()], "alphabet": [ALPHABET_CONSTRAINT],
                        "x_key": [None, str], "y_key": [None, str]})
def open_dataset(path, alphabet=DEFAULT_ALPHABET, *, x_key=None, y_key=None):
    """Open a training data file for lazy reading.

    Parameters
    ----------
    path : str or path-like
        A streaming file (from :func:`write_dataset`, ``skdeepsea
        convert-bundle`` or ``skdeepsea build-dataset``), the DeepSEA bundle's
        ``train.mat`` (MATLAB v7.3, HDF5) or its ``valid.mat`` / ``test.mat``
        (MATLAB v5).
    alphabet : str, default="ATGC"
        Base order of the channels of ``X`` (the bundle's own order is
        "AGCT"; the channels are permuted on reading).
    x_key, y_key : str or None, default=None
        Variable names in a MATLAB file; by default the one named
        ``<split>xdata`` and its ``<split>data``.

    Returns
    -------
    dataset : Dataset
        With ``X`` (n, L, 4) and ``Y`` (n, T), both lazy uint8 arrays.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    ValueError
        ``"open_dataset: <name> must be ..., got <value>."`` for a parameter
        of the wrong type or value, before the file is opened.
    ValueError, KeyError
        If the file is of none of these kinds, or a variable is missing or
        has the wrong shape; the message names the file, variable and shape.

    Notes
    -----
    Contiguous slices (``X[i:j]``) are fast for every kind of file. Reading
    scattered samples is fast for a streaming file and slow for ``train.mat``,
    where each sample is spread over the whole file (h5py reads 4000 separate
    values for it); ``valid.mat`` and ``test.mat`` are loaded into memory whole
    (test.mat takes 1.8 GB). Convert the bundle once with ``skdeepsea
    convert-bundle`` and train from the streaming files.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skdeepsea import OneHotDNA
    >>> from skdeepsea.data import open_dataset, write_dataset
    >>> X = OneHotDNA(dtype="uint8").fit_transform(["ACGTAC", "GGTTAN"])
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny.h5")
    >>> write_dataset(path, X, np.array([[1, 0], [0, 1]]), target_names=["a", "b"])
    >>> with open_dataset(path, alphabet="ACGT") as data:
    ...     print(data.X.shape, data.Y.shape, data.target_names)
    ...     print(data.X[0][:2])
    ...     print(data.Y[1:])
    (2, 6, 4) (2, 2) ['a', 'b']
    [[1 0 0 0]
     [0 1 0 0]]
    [[0 1]]
    """
    path = os.fspath(path)
    alphabet = alphabet.upper()
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such data file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{path} is a folder; open one of its files (train.mat, valid.mat, test.mat or a "
            "streaming .h5 file)."
        )
    if h5py.is_hdf5(path):
        with open_hdf5(path) as f:
            stream = is_stream_file(f)
        if stream:
            if x_key is not None or y_key is not None:
                raise ValueError(f"{path} is a streaming file: x_key and y_key do not apply.")
            reader = StreamReader(path, alphabet)
            return Dataset(reader, path, "stream", reader.target_names(), reader.intervals)
        return Dataset(Mat73Reader(path, alphabet, x_key, y_key), path, "mat-v7.3")
    return Dataset(Mat5Reader(path, alphabet, x_key, y_key), path, "mat-v5")
