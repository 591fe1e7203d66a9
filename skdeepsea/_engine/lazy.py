"""Lazy inputs of the estimator: recognising them and reading them in contiguous blocks (no Keras)."""

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
    >>> from skdeepsea._engine.lazy import is_dataset
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
    >>> from skdeepsea._engine.lazy import is_lazy
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
    >>> from skdeepsea._engine.lazy import make_blocks
    >>> make_blocks(5, 2).tolist()
    [[0, 2], [2, 4], [4, 5]]
    """
    starts = np.arange(0, n_samples, block_size)
    return np.stack([starts, np.minimum(starts + block_size, n_samples)], axis=1)


def default_block_size(n_samples, chunk_rows=None):
    """Contiguous samples per read: 512 for large data, fewer for small.

    Small data sets get smaller blocks, so that a validation split by
    blocks stays close to the requested fraction and shuffling has more
    pieces to permute (about 64 blocks at least). A file stored in chunks of
    ``chunk_rows`` samples is read in whole chunks (a multiple of them), so
    that no chunk is read twice in a pass.

    Parameters
    ----------
    n_samples : int
        Number of samples.
    chunk_rows : int or None, default=None
        Samples per storage chunk of the file, when known.

    Returns
    -------
    block_size : int

    Examples
    --------
    >>> from skdeepsea._engine.lazy import default_block_size
    >>> default_block_size(4_400_000), default_block_size(640)
    (512, 10)
    >>> default_block_size(4_400_000, chunk_rows=1024)
    1024
    """
    size = int(min(512, max(1, math.ceil(n_samples / 64))))
    if chunk_rows and 1 < chunk_rows <= 8192 and n_samples >= 64 * chunk_rows:
        size = max(1, round(size / chunk_rows)) * int(chunk_rows)
    return size


def chunk_rows(array):
    """Samples per storage chunk of a lazy array (h5py ``chunks``, ``chunk_rows``), or None.

    Parameters
    ----------
    array : array-like
        A lazy array.

    Returns
    -------
    rows : int or None
    """
    rows = getattr(array, "chunk_rows", None)
    if rows is None and getattr(array, "chunks", None):
        rows = array.chunks[0]
    return int(rows) if isinstance(rows, (int, np.integer)) else None


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
