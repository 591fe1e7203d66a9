"""Training data at DeepSEA scale: the DeepSEA bundle, the streaming file, genome + peaks.

The contract every reader here keeps, and that ``DeepSEAClassifier.fit``
streams from: :func:`open_dataset` returns a :class:`Dataset` whose ``X`` and
``Y`` are :class:`LazyArray` objects of shape ``(n, L, 4)`` and ``(n, T)``,
dtype uint8, read from the file only when indexed (an int, a slice, or an
array of indices), in the base order asked for.

Three kinds of file open this way:

- ``train.mat`` of the DeepSEA bundle (MATLAB v7.3 = HDF5, read lazily with
  h5py; one sample is scattered over the whole file, so only blocks of
  consecutive samples read fast: random access is slow);
- ``valid.mat`` / ``test.mat`` (MATLAB v5, read whole by scipy.io.loadmat);
- the streaming file written by :func:`write_dataset`, :func:`convert_bundle`
  (``skdeepsea convert-bundle``) and :func:`build_dataset`
  (``skdeepsea build-dataset``): samples one after another, chunked, bit-packed.
  This is the one to train from.
"""

import os
from numbers import Integral

import numpy as np

from .._atomic import atomic_files, check_output_path
from .._constraints import (
    ArrayLike,
    Boolean,
    Interval,
    Options,
    PathLike,
    Satisfies,
    parameter_constraints,
)
from ..preprocessing import ALPHABET_CONSTRAINT, DEFAULT_ALPHABET, check_alphabet
from ._arrays import ArrayDataset, open_arrays
from ._build import build_dataset, label_bins, profile_name, read_peak_table, read_peaks
from ._dataset import _BUNDLE_SPLITS, Dataset, open_dataset
from ._lazy_array import LazyArray
from ._matfile import BUNDLE_ALPHABET
from ._stream import DEFAULT_CHUNK_ROWS, StreamWriter, channel_reordering

__all__ = [
    "ArrayDataset",
    "BUNDLE_ALPHABET",
    "Dataset",
    "LazyArray",
    "build_dataset",
    "convert_bundle",
    "label_bins",
    "open_arrays",
    "open_dataset",
    "profile_name",
    "read_peak_table",
    "read_peaks",
    "write_dataset",
]

def _names(value):
    """Target names: a list, tuple or array of them (sized, iterable, not a str)."""
    return (not isinstance(value, (str, bytes, os.PathLike)) and hasattr(value, "__len__")
            and hasattr(value, "__iter__"))


_POSITIVE = [Interval(Integral, 1, None)]
_TARGET_NAMES = Satisfies(_names, "a list of target names")
# The writing options write_dataset and convert_bundle share.
_WRITE_CONSTRAINTS = {
    "packed": [Boolean()],
    "chunk_rows": _POSITIVE,
    "compression": [None, Options(str, ("lzf", "gzip"))],
    "block_size": _POSITIVE,
    "progress": [Boolean()],
}


@parameter_constraints({
    "path": [PathLike()],
    "X": [ArrayLike()],
    "Y": [ArrayLike()],
    "target_names": [None, _TARGET_NAMES],
    "alphabet": [None, ALPHABET_CONSTRAINT],
    **_WRITE_CONSTRAINTS,
})
def write_dataset(path, X, Y, *, target_names=None, alphabet=None, packed=True,
                  chunk_rows=DEFAULT_CHUNK_ROWS, compression=None, block_size=8192,
                  progress=False):
    """Write one-hot sequences and targets to a streaming file.

    The file stores the samples one after another in HDF5 chunks of
    ``chunk_rows`` samples, by default bit-packed (one bit per 0/1 value), so
    that reading consecutive samples costs one small read and one
    ``np.unpackbits``. It is written to a temporary name beside ``path`` and
    renamed when complete.

    Parameters
    ----------
    path : str or path-like
        Destination file (conventionally ``.h5``).
    X : array-like of shape (n_samples, sequence_length, 4)
        One-hot sequences: an array, a :class:`~skdeepsea.OneHotArray`, or a
        lazy array such as ``open_dataset(...).X`` (read ``block_size``
        samples at a time).
    Y : array-like of shape (n_samples, n_targets)
        0/1 targets (a 1-D array is one target).
    target_names : list of str or None, default=None
        One name per target, stored in the file.
    alphabet : str or None, default=None
        Base order in which to store the channels; None keeps the order of
        ``X`` (``X.alphabet``, else "ATGC"). Readers permute on demand, but
        storing the order you train in saves that copy.
    packed : bool, default=True
        Bit-pack X and Y (8 times smaller than uint8). Needs 0/1 values.
    chunk_rows : int, default=1024
        Samples per HDF5 chunk.
    compression : {None, "lzf", "gzip"}, default=None
        HDF5 compression on top of packing (smaller, slower to read).
    block_size : int, default=8192
        Samples read from ``X`` and ``Y`` at a time.
    progress : bool, default=False
        Show a tqdm progress bar.

    Raises
    ------
    ValueError
        ``"write_dataset: <name> must be ..., got <value>."`` for a parameter
        of the wrong type or value, before anything is written; if the
        shapes disagree, the number of target names is not that of the
        targets, or a value is not an integer from 0 to 255 (not 0 or 1 when
        ``packed``; the message names the sample).
    """
    from tqdm.auto import tqdm

    if not hasattr(X, "shape"):
        X = np.asarray(X)
    if not hasattr(Y, "shape"):
        Y = np.asarray(Y)
    source_alphabet = check_alphabet(getattr(X, "alphabet", None) or DEFAULT_ALPHABET)
    alphabet = alphabet.upper() if alphabet is not None else source_alphabet
    channels = channel_reordering(source_alphabet, alphabet)
    if len(Y.shape) == 1:
        Y = np.asarray(Y).reshape(-1, 1)
    x_shape, y_shape = tuple(X.shape), tuple(Y.shape)
    if len(x_shape) != 3 or x_shape[2] != 4:
        raise ValueError(f"X must have shape (n_samples, sequence_length, 4), got {x_shape}.")
    if len(y_shape) != 2 or y_shape[0] != x_shape[0]:
        raise ValueError(
            f"Y must have shape ({x_shape[0]}, n_targets) to match X, got {y_shape}."
        )
    n_samples = x_shape[0]
    with StreamWriter(path, n_samples, x_shape[1], y_shape[1], alphabet=alphabet,
                      target_names=target_names, packed=packed, chunk_rows=chunk_rows,
                      compression=compression) as writer, \
            tqdm(total=n_samples, unit=" samples", disable=not progress,
                 desc=os.path.basename(os.fspath(path))) as bar:
        for start in range(0, n_samples, block_size):
            stop = min(start + block_size, n_samples)
            block = np.asarray(X[start:stop])
            if channels is not None:
                block = block[..., channels]
            writer.write(start, block, np.asarray(Y[start:stop]))
            bar.update(stop - start)


@parameter_constraints({
    "source": [PathLike()],
    "output": [PathLike()],
    "alphabet": [ALPHABET_CONSTRAINT],
    "target_names": [None, PathLike(), _TARGET_NAMES],
    **_WRITE_CONSTRAINTS,
})
def convert_bundle(source, output, *, alphabet=DEFAULT_ALPHABET, target_names=None,
                   packed=True, chunk_rows=DEFAULT_CHUNK_ROWS, compression=None,
                   block_size=8192, progress=False):
    """Convert the DeepSEA bundle (or one of its files) into streaming files.

    Parameters
    ----------
    source : str or path-like
        ``train.mat``, ``valid.mat`` or ``test.mat``, or a folder holding
        them (the unpacked ``deepsea_train_bundle.v0.9``).
    output : str or path-like
        The streaming file for one source file; for a folder, a folder that
        receives ``train.h5``, ``valid.h5`` and ``test.h5`` (created if
        needed), committed together (:func:`skdeepsea._atomic.atomic_files`):
        a conversion that fails or is killed leaves the previous files.
    alphabet : str, default="ATGC"
        Base order to store (the estimator's default, so that training needs
        no channel permutation).
    target_names : list of str, str, path-like or None, default=None
        Names of the targets, or a ``predictor.names`` file holding them.
    packed, chunk_rows, compression, block_size, progress
        As for :func:`write_dataset`.

    Returns
    -------
    written : list of str
        The streaming files written.

    Raises
    ------
    ValueError
        ``"convert_bundle: <name> must be ..., got <value>."`` for a
        parameter of the wrong type or value, before anything is read or
        written; ``output`` naming an input file; a names file that is not
        one, or target names not as many as the targets; what
        :func:`open_dataset` and :func:`write_dataset` raise for the data.
    FileNotFoundError
        If ``source`` does not exist or a folder holds none of the bundle's
        files.
    """
    source = os.fspath(source)
    output = os.fspath(output)
    inputs = {"source": source, "target_names": target_names}
    if os.path.isdir(source):
        check_output_path(output, {}, option="output", folder=True)
        for split in _BUNDLE_SPLITS:
            check_output_path(os.path.join(output, f"{split}.h5"), inputs,
                              option=f"output {split}.h5")
    else:
        check_output_path(output, inputs, option="output")
    if isinstance(target_names, (str, os.PathLike)):
        from ..targets import read_target_names

        target_names = read_target_names(target_names).tolist()
    options = dict(alphabet=alphabet, target_names=target_names, packed=packed,
                   chunk_rows=chunk_rows, compression=compression, block_size=block_size,
                   progress=progress)
    if not os.path.isdir(source):
        _convert_file(source, output, **options)
        return [output]
    splits = [split for split in _BUNDLE_SPLITS
              if os.path.exists(os.path.join(source, f"{split}.mat"))]
    if not splits:
        raise FileNotFoundError(f"{source} holds none of train.mat, valid.mat, test.mat.")
    # The files are committed together: a conversion that fails or is killed leaves the
    # previous ones, never a new train.h5 beside an old valid.h5.
    with atomic_files(output, remove=[f"{split}.h5" for split in _BUNDLE_SPLITS]) as work:
        for split in splits:
            _convert_file(os.path.join(source, f"{split}.mat"),
                          os.path.join(work, f"{split}.h5"), **options)
    return [os.path.join(output, f"{split}.h5") for split in splits]


def _convert_file(mat_path, out_path, *, alphabet, target_names, **options):
    with open_dataset(mat_path, alphabet=alphabet) as data:
        if target_names is not None and len(target_names) != data.n_targets:
            raise ValueError(
                f"{len(target_names)} target names given, but {mat_path} has "
                f"{data.n_targets} targets."
            )
        write_dataset(out_path, data.X, data.Y, target_names=target_names, **options)
