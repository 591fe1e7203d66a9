"""The streaming file: samples one after another in chunked HDF5, optionally bit-packed.

Layout (format version 1)::

    attributes  format = "skdeepsea-stream", format_version = 1,
                alphabet (base order of the stored channels), sequence_length,
                n_targets, packed (bool)
    x           packed: uint8 (n, ceil(4 L / 8)), np.packbits of each sample's
                (L, 4) one-hot flattened; else uint8 (n, L, 4)
    y           packed: uint8 (n, ceil(T / 8)), np.packbits of each target row;
                else uint8 (n, T)
    target_names   (optional) UTF-8 strings, one per target
    chromosomes, chrom_index, start   (optional) where each sample's window
                starts: chromosomes[chrom_index[i]], 0-based start[i]

Both x and y are chunked along the sample axis only, so reading a block of
consecutive samples touches a few whole chunks and nothing else. Bit-packing
stores the 0/1 one-hot matrix at one bit per value (500 bytes for a 1000 bp
sample, 8 times less than uint8) and unpacks with one np.unpackbits call.
"""

import contextlib
import os

import h5py
import numpy as np

from .._atomic import atomic_path
from ..exceptions import damaged
from ..preprocessing import DEFAULT_ALPHABET, channel_order, check_alphabet

FORMAT = "skdeepsea-stream"
FORMAT_VERSION = 1
DEFAULT_CHUNK_ROWS = 1024


def open_hdf5(path, **options):
    """Open an HDF5 file for reading; a damaged or truncated one is named as such.

    Parameters
    ----------
    path : str
        The file (its HDF5 signature already seen, e.g. by ``h5py.is_hdf5``).
    **options
        Passed to ``h5py.File``.

    Returns
    -------
    file : h5py.File

    Raises
    ------
    skdeepsea.exceptions.DamagedFileError
        If HDF5 cannot open it (a truncated file, a corrupt superblock).
    """
    try:
        return h5py.File(path, "r", **options)
    except OSError as error:
        if isinstance(error, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise damaged(path, "HDF5", error) from error


def is_stream_file(h5file):
    """True when an open h5py.File is a streaming file."""
    return h5file.attrs.get("format") in (FORMAT, FORMAT.encode())


def channel_reordering(stored, wanted):
    """``channel_order(stored, wanted)``, or None when the orders agree (nothing to copy)."""
    return None if stored == wanted else channel_order(stored, wanted)


class StreamReader:
    """Reads a streaming file; pickles as its path and reopens on unpickling."""

    def __init__(self, path, alphabet):
        self.path = os.fspath(path)
        self.alphabet = check_alphabet(alphabet)
        self._open()

    def _open(self):
        self.file = open_hdf5(self.path)
        try:
            self._check()
        except BaseException:
            self.file.close()
            raise

    def _check(self):
        attrs = self.file.attrs
        if not is_stream_file(self.file):
            raise ValueError(f"{self.path} is not a skdeepsea streaming file.")
        version = int(attrs.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{self.path} has streaming format version {version}; this skdeepsea reads "
                f"versions up to {FORMAT_VERSION}: upgrade skdeepsea."
            )
        for key in ("x", "y"):
            if key not in self.file:
                raise ValueError(f"{self.path} has no dataset {key!r}: the file is incomplete.")
        self.packed = bool(attrs["packed"])
        self.sequence_length = int(attrs["sequence_length"])
        self.n_targets = int(attrs["n_targets"])
        self.stored_alphabet = check_alphabet(_text(attrs["alphabet"]))
        self.channels = channel_reordering(self.stored_alphabet, self.alphabet)
        self.x = self.file["x"]
        self.y = self.file["y"]
        self.n_samples = self.x.shape[0]
        if self.y.shape[0] != self.n_samples:
            raise ValueError(
                f"{self.path}: dataset 'x' has {self.n_samples} samples but 'y' has "
                f"{self.y.shape[0]}."
            )
        # The attributes say how to read the data: they must describe it, or samples would
        # be cut or padded silently.
        length, n_targets = self.sequence_length, self.n_targets
        x_row = (-(-4 * length // 8),) if self.packed else (length, 4)
        y_row = (-(-n_targets // 8),) if self.packed else (n_targets,)
        for key, dataset, row, what in (("x", self.x, x_row, f"sequence_length={length}"),
                                        ("y", self.y, y_row, f"n_targets={n_targets}")):
            if tuple(dataset.shape[1:]) != row:
                raise ValueError(
                    f"{self.path}: dataset {key!r} has rows of shape {tuple(dataset.shape[1:])}, "
                    f"but the file's attributes ({what}, packed={self.packed}) give {row}: the "
                    "file is inconsistent."
                )
        self.chunk_rows = self.x.chunks[0] if self.x.chunks else DEFAULT_CHUNK_ROWS

    def __getstate__(self):
        return {"path": self.path, "alphabet": self.alphabet}

    def __setstate__(self, state):
        self.path, self.alphabet = state["path"], state["alphabet"]
        self._open()

    def _read(self, dataset, start, stop):
        try:
            return dataset[start:stop]
        except OSError as error:  # HDF5 cannot read a chunk: the file ends early or is corrupt
            raise damaged(self.path, f"HDF5, samples {start}:{stop}", error) from error

    def read_x(self, start, stop):
        raw = self._read(self.x, start, stop)
        if self.packed:
            length = self.sequence_length
            raw = np.unpackbits(raw, axis=1, count=4 * length).reshape(len(raw), length, 4)
        if self.channels is not None:
            raw = raw[..., self.channels]
        return raw

    def read_y(self, start, stop):
        raw = self._read(self.y, start, stop)
        if self.packed:
            raw = np.unpackbits(raw, axis=1, count=self.n_targets)
        return raw

    def target_names(self):
        if "target_names" not in self.file:
            return None
        return [_text(name) for name in self.file["target_names"][()]]

    def intervals(self):
        if "start" not in self.file:
            return None
        import pandas as pd

        chromosomes = np.array([_text(c) for c in self.file["chromosomes"][()]], dtype=object)
        start = self.file["start"][()]
        return pd.DataFrame({
            "chrom": chromosomes[self.file["chrom_index"][()]],
            "start": start,
            "end": start + self.sequence_length,
        })

    def close(self):
        self.file.close()


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class StreamWriter:
    """Write a streaming file block by block; it appears under its name only when complete.

    A context manager: leaving the ``with`` block renames the file into place,
    leaving it on an exception deletes it.

    Parameters
    ----------
    path : str or path-like
        Destination. The data go to a temporary file beside it
        (:func:`skdeepsea._atomic.atomic_path`).
    n_samples, sequence_length, n_targets : int
        Size of the data set.
    alphabet : str, default="ATGC"
        Base order of the channels of the blocks given to :meth:`write`.
    target_names : list of str or None, default=None
        One name per target.
    packed : bool, default=True
        Store one bit per value (requires 0/1 data).
    chunk_rows : int, default=1024
        Samples per HDF5 chunk.
    compression : {None, "lzf", "gzip"}, default=None
        HDF5 compression filter (checked by :func:`write_dataset`, whose
        option it is).
    """

    def __init__(self, path, n_samples, sequence_length, n_targets, alphabet=DEFAULT_ALPHABET,
                 target_names=None, packed=True, chunk_rows=DEFAULT_CHUNK_ROWS,
                 compression=None):
        self.path = os.fspath(path)
        self.alphabet = check_alphabet(alphabet)
        self.packed = bool(packed)
        self.n_samples = int(n_samples)
        self.sequence_length = int(sequence_length)
        self.n_targets = int(n_targets)
        if target_names is not None:
            target_names = [str(name) for name in target_names]
            if len(target_names) != self.n_targets:
                raise ValueError(
                    f"{len(target_names)} target names given for {self.n_targets} targets."
                )
        # Unwound at once if the file cannot be set up; else kept until __exit__.
        with contextlib.ExitStack() as stack:
            temporary = stack.enter_context(atomic_path(self.path))
            self.file = h5py.File(temporary, "w")
            stack.callback(self.file.close)  # before the rename or removal
            self._create(target_names, max(1, min(int(chunk_rows), self.n_samples)), compression)
            self._finish = stack.pop_all()

    def _create(self, target_names, chunk_rows, compression):
        f = self.file
        f.attrs["format"] = FORMAT
        f.attrs["format_version"] = FORMAT_VERSION
        f.attrs["alphabet"] = self.alphabet
        f.attrs["sequence_length"] = self.sequence_length
        f.attrs["n_targets"] = self.n_targets
        f.attrs["packed"] = self.packed
        n, length, n_targets = self.n_samples, self.sequence_length, self.n_targets
        if self.packed:
            x_shape, y_shape = (n, -(-4 * length // 8)), (n, -(-n_targets // 8))
        else:
            x_shape, y_shape = (n, length, 4), (n, n_targets)
        for name, shape in (("x", x_shape), ("y", y_shape)):
            # HDF5 cannot chunk an empty dataset.
            chunks = {"chunks": (chunk_rows,) + shape[1:], "compression": compression} if n else {}
            f.create_dataset(name, shape, dtype=np.uint8, **chunks)
        if target_names is not None:
            f.create_dataset("target_names", data=target_names,
                             dtype=h5py.string_dtype("utf-8"))

    def write(self, start, X, Y):
        """Write samples ``start:start + len(X)``.

        Parameters
        ----------
        start : int
            Index of the first sample of the block.
        X : array-like of shape (m, sequence_length, 4)
            One-hot sequences, channels in ``alphabet`` order.
        Y : array-like of shape (m, n_targets)
            0/1 targets.
        """
        X = np.asarray(X)
        Y = np.asarray(Y)
        stop = start + len(X)
        expected_x = (len(X), self.sequence_length, 4)
        if X.shape != expected_x or Y.shape != (len(X), self.n_targets):
            raise ValueError(
                f"block at sample {start}: expected X of shape {expected_x} and Y of shape "
                f"{(len(X), self.n_targets)}, got {X.shape} and {Y.shape}."
            )
        if stop > self.n_samples:
            raise ValueError(f"block {start}:{stop} runs past the {self.n_samples} samples.")
        for name, values in (("X", X), ("Y", Y)):
            # A 0.5 label or a -1 would be stored as 0 or 255 by the cast to uint8.
            with np.errstate(invalid="ignore"):  # NaN is caught by the comparison below
                stored = values.astype(np.uint8)
            if values.dtype != np.uint8 and not np.array_equal(stored, values):
                rows = ~np.equal(stored, values).reshape(len(values), -1).all(axis=1)
                i = int(np.flatnonzero(rows)[0])
                bad = np.asarray(values[i]).ravel()[
                    ~np.equal(stored[i], values[i]).ravel()][0]
                raise ValueError(
                    f"sample {start + i} has {name} value {bad.item()!r}; a streaming file stores "
                    "integers from 0 to 255 (0/1 when packed)."
                )
        X = X.astype(np.uint8, copy=False)
        Y = Y.astype(np.uint8, copy=False)
        if self.packed:
            for name, values in (("X", X), ("Y", Y)):
                if values.size and values.max() > 1:
                    i = int(np.flatnonzero((values > 1).reshape(len(values), -1).any(axis=1))[0])
                    raise ValueError(
                        f"sample {start + i} has {name} values other than 0 and 1, which a "
                        "packed file cannot store; use packed=False."
                    )
            X = np.packbits(X.reshape(len(X), -1), axis=1)
            Y = np.packbits(Y, axis=1)
        self.file["x"][start:stop] = X
        self.file["y"][start:stop] = Y

    def write_intervals(self, chromosomes, chrom_index, start):
        """Store where each sample's window starts (0-based)."""
        f = self.file
        f.create_dataset("chromosomes", data=[str(c) for c in chromosomes],
                         dtype=h5py.string_dtype("utf-8"))
        f.create_dataset("chrom_index", data=np.asarray(chrom_index, dtype=np.int32))
        f.create_dataset("start", data=np.asarray(start, dtype=np.int64))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return self._finish.__exit__(exc_type, exc, tb)
