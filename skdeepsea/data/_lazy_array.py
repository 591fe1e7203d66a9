"""Lazy, read-only arrays of samples, read from a file block by block on indexing."""

import numbers

import numpy as np

from ..preprocessing import OneHotArray


class LazyArray:
    """A read-only array of samples that reads from its file only when indexed.

    Indexing along the first (sample) axis returns a NumPy array; nothing is
    held in memory between reads. A contiguous slice is one block read; an
    array of indices is read chunk by chunk (each chunk of the file that holds
    a requested sample is read once), so sorted indices that fall close
    together are cheap and scattered ones are not.

    Parameters
    ----------
    read : callable
        ``read(start, stop)`` returns the samples ``start:stop`` as an ndarray
        of shape ``(stop - start, *shape[1:])`` and dtype ``dtype``.
    shape : tuple of int
        Shape of the whole array; ``shape[0]`` is the number of samples.
    dtype : numpy dtype
        Type of the arrays returned.
    chunk_rows : int, default=1
        Samples per storage chunk: the unit in which indices are grouped.
    alphabet : str or None, default=None
        Base order of the last axis for one-hot DNA; indexing then returns a
        :class:`~skdeepsea.OneHotArray` that carries it.

    Attributes
    ----------
    shape, dtype, ndim, alphabet
        As for a NumPy array; ``alphabet`` is None for targets.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.data import LazyArray
    >>> data = np.arange(12, dtype=np.uint8).reshape(6, 2)
    >>> lazy = LazyArray(lambda start, stop: data[start:stop], data.shape, data.dtype)
    >>> len(lazy), lazy.shape
    (6, (6, 2))
    >>> lazy[1:3]
    array([[2, 3],
           [4, 5]], dtype=uint8)
    >>> lazy[np.array([4, 0])]
    array([[8, 9],
           [0, 1]], dtype=uint8)
    """

    def __init__(self, read, shape, dtype, chunk_rows=1, alphabet=None):
        self._read = read
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.chunk_rows = max(int(chunk_rows), 1)
        self.alphabet = alphabet

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    def __len__(self):
        return self.shape[0]

    def __repr__(self):
        extra = f", alphabet={self.alphabet!r}" if self.alphabet else ""
        return f"LazyArray(shape={self.shape}, dtype={self.dtype.name}{extra})"

    def _wrap(self, array):
        return OneHotArray(array, alphabet=self.alphabet) if self.alphabet else array

    def _read_range(self, start, stop):
        return self._wrap(self._read(start, stop))

    def _read_indices(self, indices):
        """Read sorted, unique, in-range indices one storage chunk at a time."""
        if len(indices) == 0:
            return self._wrap(np.empty((0,) + self.shape[1:], dtype=self.dtype))
        if indices[-1] - indices[0] + 1 == len(indices):
            return self._read_range(int(indices[0]), int(indices[-1]) + 1)
        out = np.empty((len(indices),) + self.shape[1:], dtype=self.dtype)
        chunk = indices // self.chunk_rows
        bounds = np.flatnonzero(np.diff(chunk)) + 1
        for group_start, group_stop in zip(np.r_[0, bounds], np.r_[bounds, len(indices)]):
            group = indices[group_start:group_stop]
            block = self._read(int(group[0]), int(group[-1]) + 1)
            out[group_start:group_stop] = block[group - group[0]]
        return self._wrap(out)

    def _index_array(self, key):
        key = np.asarray(key)
        n = self.shape[0]
        if key.dtype == bool:
            if key.shape != (n,):
                raise IndexError(
                    f"boolean index of shape {key.shape} does not match the {n} samples."
                )
            return np.flatnonzero(key)
        if key.dtype.kind not in "iu" or key.ndim != 1:
            raise IndexError(
                f"samples are indexed by an int, a slice or a 1-D array of ints or bools, got an "
                f"array of dtype {key.dtype} and shape {key.shape}."
            )
        key = key.astype(np.int64)
        bad = (key < -n) | (key >= n)
        if bad.any():
            raise IndexError(f"index {int(key[bad][0])} is out of bounds for {n} samples.")
        return np.where(key < 0, key + n, key)

    def __getitem__(self, key):
        rest = ()
        if isinstance(key, tuple):
            key, rest = (key[0] if key else slice(None)), key[1:]
        n = self.shape[0]
        if isinstance(key, numbers.Integral) and not isinstance(key, (bool, np.bool_)):
            index = int(key)
            if not -n <= index < n:
                raise IndexError(f"index {index} is out of bounds for {n} samples.")
            index %= n
            result = self._read_range(index, index + 1)[0]
            return result[rest] if rest else result
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step == 1:
                result = self._read_range(start, max(start, stop))
            else:
                indices = np.arange(start, stop, step)
                result = self._read_indices(np.sort(indices))
                if step < 0:
                    result = result[::-1]
        else:
            indices = self._index_array(key)
            if len(indices) > 1 and not np.all(indices[1:] > indices[:-1]):
                unique, inverse = np.unique(indices, return_inverse=True)
                result = self._read_indices(unique)[inverse]
            else:
                result = self._read_indices(indices)
        return result[(slice(None),) + rest] if rest else result

    def __array__(self, dtype=None, copy=None):
        # np.asarray reads every sample: fine for a validation set, not for train.mat.
        if copy is False:
            raise ValueError("a LazyArray reads from its file: it cannot be viewed without a copy.")
        array = np.asarray(self[:])
        return array if dtype is None else array.astype(dtype, copy=False)

    def iter_blocks(self, block_size):
        """Read the array in order, one contiguous block at a time.

        Parameters
        ----------
        block_size : int
            Samples per block (the last block may be shorter).

        Yields
        ------
        start : int
            Index of the block's first sample.
        block : ndarray
            The samples ``start:start + block_size``.
        """
        for start in range(0, self.shape[0], block_size):
            yield start, self._read_range(start, min(start + block_size, self.shape[0]))
