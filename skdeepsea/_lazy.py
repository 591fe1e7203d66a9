"""Lazy arrays: recognising them and reading them in contiguous runs (no Keras here)."""

import math

import numpy as np


def is_dataset(X):
    """Whether X is a data set object (``.X``, ``.Y``, ``.target_names``).

    Parameters
    ----------
    X : object
        Input to ``fit`` or ``predict``.

    Returns
    -------
    answer : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea._lazy import is_dataset
    >>> is_dataset(np.zeros((2, 5, 4)))
    False
    """
    return all(hasattr(X, name) for name in ("X", "Y", "target_names")) and not hasattr(X, "iloc")


def is_lazy(X):
    """Whether X is an array to stream from rather than to load.

    True for ``numpy.memmap``, ``h5py.Dataset`` and any other non-NumPy
    object with ``shape``, a NumPy ``dtype`` and ``__getitem__`` (such as the
    arrays of :func:`skdeepsea.data.open_dataset`), excluding pandas objects
    and array-API arrays (JAX, PyTorch), which are in memory already.

    Parameters
    ----------
    X : object
        Input to ``fit`` or ``predict``.

    Returns
    -------
    answer : bool

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea._lazy import is_lazy
    >>> is_lazy(np.zeros((2, 5, 4)))
    False
    """
    if isinstance(X, np.memmap):
        return True
    if isinstance(X, np.ndarray) or hasattr(X, "iloc") or hasattr(X, "__array_namespace__"):
        return False
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        return False
    return (
        hasattr(X, "shape")
        and hasattr(X, "__getitem__")
        and isinstance(getattr(X, "dtype", None), np.dtype)
    )


def make_blocks(n_samples, block_size):
    """Split ``range(n_samples)`` into contiguous (start, stop) blocks.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    block_size : int
        Samples per block (the last one may be shorter).

    Returns
    -------
    blocks : ndarray of shape (n_blocks, 2)
        Start and stop of each block.

    Examples
    --------
    >>> from skdeepsea._lazy import make_blocks
    >>> make_blocks(5, 2).tolist()
    [[0, 2], [2, 4], [4, 5]]
    """
    starts = np.arange(0, n_samples, block_size)
    return np.stack([starts, np.minimum(starts + block_size, n_samples)], axis=1)


def default_block_size(n_samples):
    """Contiguous samples per read: 512 for large data, fewer for small.

    Small data sets get smaller blocks, so that a validation split by
    blocks stays close to the requested fraction and shuffling has more
    pieces to permute (about 64 blocks at least).

    Parameters
    ----------
    n_samples : int
        Number of samples.

    Returns
    -------
    block_size : int

    Examples
    --------
    >>> from skdeepsea._lazy import default_block_size
    >>> default_block_size(4_400_000), default_block_size(640)
    (512, 10)
    """
    return int(min(512, max(1, math.ceil(n_samples / 64))))


def read_rows(array, start, stop):
    """``array[start:stop]`` as a NumPy array (one contiguous read)."""
    return np.asarray(array[start:stop])


class RowsView:
    """A lazy view of the rows ``blocks`` of an array (validation held out of a lazy X).

    Parameters
    ----------
    array : array-like
        The array (lazy or not).
    blocks : ndarray of shape (n_blocks, 2)
        (start, stop) runs of rows, in order.
    """

    def __init__(self, array, blocks):
        self.array, self.blocks = array, np.asarray(blocks, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.blocks[:, 1] - self.blocks[:, 0])])
        self.shape = (int(self.offsets[-1]),) + tuple(array.shape[1:])
        self.dtype = array.dtype
        self.ndim = len(self.shape)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("RowsView supports contiguous slices only.")
        begin, end, _ = index.indices(len(self))
        parts = []
        k = int(np.searchsorted(self.offsets, begin, side="right")) - 1
        while begin < end:
            start = int(self.blocks[k, 0] + begin - self.offsets[k])
            stop = int(min(self.blocks[k, 1], start + end - begin))
            parts.append(read_rows(self.array, start, stop))
            begin += stop - start
            k += 1
        if not parts:
            return np.empty((0,) + self.shape[1:], dtype=self.dtype)
        return np.concatenate(parts)
