"""Readers for the DeepSEA training bundle: train.mat (MATLAB v7.3) and valid/test.mat (v5).

Both hold MATLAB arrays of size N x 4 x 1000 (sequences, base order A, G, C, T)
and N x 919 (targets). MATLAB stores arrays column-major, so h5py sees a v7.3
file's arrays with their axes reversed, (1000, 4, N) and (919, N): one sample
is 4000 values spread over the whole file, and only blocks of consecutive
samples read fast. scipy.io.loadmat reads a v5 file whole, axes as in MATLAB.
"""

import os

import h5py
import numpy as np

from ..preprocessing import check_alphabet
from ..exceptions import damaged
from ._stream import channel_reordering, open_hdf5

BUNDLE_ALPHABET = "AGCT"
# Samples per h5py read of train.mat when the file is not chunked.
_MAT73_BLOCK_ROWS = 256
_MAT73_CHUNK_CACHE = 64 * 2**20


def _pair_keys(names, path, x_key, y_key):
    """The sequence and target variable names: ``<split>xdata`` and ``<split>data``."""
    if x_key is None:
        candidates = sorted(name for name in names if name.endswith("xdata"))
        if len(candidates) != 1:
            raise ValueError(
                f"{path}: expected one variable named '<split>xdata' (trainxdata, validxdata or "
                f"testxdata), found {candidates or 'none'} among {sorted(names)}; pass x_key."
            )
        x_key = candidates[0]
    if y_key is None:
        y_key = x_key[: -len("xdata")] + "data"
    for key in (x_key, y_key):
        if key not in names:
            raise KeyError(f"{path} has no variable {key!r}; it has {sorted(names)}.")
    return x_key, y_key


def _check_shapes(path, x_key, x_shape, y_key, y_shape, layout):
    """Check (N, 4, L) and (N, T) given as MATLAB sees them; raise naming file, keys, shapes."""
    if len(x_shape) != 3 or x_shape[1] != 4:
        raise ValueError(
            f"{path}: variable {x_key!r} has shape {x_shape} {layout}, expected a 3-D array "
            "with 4 bases on the second axis."
        )
    if len(y_shape) != 2 or y_shape[0] != x_shape[0]:
        raise ValueError(
            f"{path}: variable {y_key!r} has shape {y_shape} {layout}, expected "
            f"({x_shape[0]}, n_targets) to match the {x_shape[0]} samples of {x_key!r}."
        )


class Mat73Reader:
    """Reads train.mat (HDF5) lazily; pickles as its path and reopens on unpickling."""

    def __init__(self, path, alphabet, x_key=None, y_key=None):
        self.path = os.fspath(path)
        self.alphabet = check_alphabet(alphabet)
        self.keys = (x_key, y_key)
        self._open()

    def _open(self):
        # MATLAB chunks and compresses v7.3 arrays; a chunk cache larger than h5py's 1 MB
        # default keeps a chunk that straddles two consecutive block reads from being
        # decompressed twice.
        self.file = open_hdf5(self.path, rdcc_nbytes=_MAT73_CHUNK_CACHE, rdcc_nslots=10007)
        try:
            names = [name for name in self.file if isinstance(self.file[name], h5py.Dataset)]
            x_key, y_key = _pair_keys(names, self.path, *self.keys)
            self.x, self.y = self.file[x_key], self.file[y_key]
            matlab_x, matlab_y = self.x.shape[::-1], self.y.shape[::-1]
            _check_shapes(self.path, x_key, matlab_x, y_key, matlab_y,
                          f"in MATLAB ({self.x.shape} as h5py reads it)")
        except BaseException:
            self.file.close()
            raise
        self.n_samples, _, self.sequence_length = matlab_x
        self.n_targets = matlab_y[1]
        self.channels = channel_reordering(BUNDLE_ALPHABET, self.alphabet)
        chunks = self.x.chunks
        self.chunk_rows = chunks[-1] if chunks else _MAT73_BLOCK_ROWS

    def __getstate__(self):
        return {"path": self.path, "alphabet": self.alphabet, "keys": self.keys}

    def __setstate__(self, state):
        self.path, self.alphabet, self.keys = state["path"], state["alphabet"], state["keys"]
        self._open()

    def _read(self, dataset, start, stop):
        try:
            return dataset[..., start:stop]
        except OSError as error:  # HDF5 cannot read a chunk: the file ends early or is corrupt
            raise damaged(self.path, f"HDF5, samples {start}:{stop}", error) from error

    def read_x(self, start, stop):
        block = self._read(self.x, start, stop)  # (L, 4, m)
        channels = self.channels if self.channels is not None else slice(None)
        out = block.transpose(2, 0, 1)[..., channels]
        return np.ascontiguousarray(out, dtype=np.uint8)

    def read_y(self, start, stop):
        return np.ascontiguousarray(self._read(self.y, start, stop).T, dtype=np.uint8)

    def close(self):
        self.file.close()


class Mat5Reader:
    """Reads valid.mat / test.mat whole into memory (scipy.io.loadmat cannot read lazily)."""

    def __init__(self, path, alphabet, x_key=None, y_key=None):
        self.path = os.fspath(path)
        self.alphabet = check_alphabet(alphabet)
        self.keys = (x_key, y_key)
        self._open()

    def _open(self):
        from scipy.io import loadmat, whosmat

        try:
            info = {name: shape for name, shape, _ in whosmat(self.path)}
        except OSError as error:  # scipy: "could not read bytes", the file ends early
            raise damaged(self.path, "MATLAB file", error) from error
        except Exception as error:
            raise ValueError(
                f"{self.path} is neither a streaming .h5 file nor a MATLAB file of the DeepSEA "
                f"bundle (scipy.io: {error})."
            ) from error
        try:
            x_key, y_key = _pair_keys(list(info), self.path, *self.keys)
        except (ValueError, KeyError):
            # whosmat lists the variables up to where a truncated file ends: a missing
            # variable after one that does not read back whole means a truncated file.
            if info:
                try:
                    loadmat(self.path, variable_names=[list(info)[-1]])
                except (OSError, ValueError) as error:
                    raise damaged(self.path, "MATLAB file", error) from error
            raise
        _check_shapes(self.path, x_key, tuple(info[x_key]), y_key, tuple(info[y_key]),
                      "(as scipy.io.loadmat reads it)")
        try:
            arrays = loadmat(self.path, variable_names=[x_key, y_key])
        except (OSError, ValueError) as error:
            raise damaged(self.path, "MATLAB file", error) from error
        self.x = arrays[x_key].astype(np.uint8, copy=False)
        self.y = arrays[y_key].astype(np.uint8, copy=False)
        self.n_samples, _, self.sequence_length = self.x.shape
        self.n_targets = self.y.shape[1]
        self.channels = channel_reordering(BUNDLE_ALPHABET, self.alphabet)
        self.chunk_rows = max(self.n_samples, 1)

    def __getstate__(self):
        return {"path": self.path, "alphabet": self.alphabet, "keys": self.keys}

    def __setstate__(self, state):
        self.path, self.alphabet, self.keys = state["path"], state["alphabet"], state["keys"]
        self._open()

    def read_x(self, start, stop):
        block = self.x[start:stop].transpose(0, 2, 1)  # (m, L, 4)
        channels = self.channels if self.channels is not None else slice(None)
        return np.ascontiguousarray(block[..., channels])

    def read_y(self, start, stop):
        return self.y[start:stop].copy()

    def close(self):
        self.x = self.y = None
