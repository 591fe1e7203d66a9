"""Checks of the sequences given to ``fit`` and ``predict``: shape, type, length, base order."""

import numpy as np

from .lazy import is_dataset, is_lazy
from ..preprocessing import DEFAULT_ALPHABET, OneHotDNA, _record_sequence, check_alphabet


def streamed(X):
    """Whether X is read batch by batch from storage: lazy arrays, except memmaps not (n, L, C)."""
    return is_lazy(X) and not (isinstance(X, np.ndarray) and X.ndim != 3)


def unpack_dataset(X, y, where):
    """Split a data set object into (X, y, alphabet, target names); other X pass through.

    Parameters
    ----------
    X : array-like or data set
        Input; a data set has ``.X``, ``.Y``, ``.target_names`` (and ``.alphabet``).
    y : array-like or None
        Targets given beside ``X``.
    where : str
        How to name ``X`` in errors.

    Returns
    -------
    X, y, alphabet, names
    """
    if not is_dataset(X):
        return X, y, None, None
    if y is not None:
        raise ValueError(
            f"{where} is a data set that holds its own targets ({where}.Y); pass no y with it."
        )
    names = None if X.target_names is None else list(X.target_names)
    return X.X, X.Y, getattr(X, "alphabet", None), names


def compact(X):
    """One-hot data (only 0 and 1) as uint8, anything else as float32.

    uint8 batches are a quarter of float32 on their way to the device; the
    network casts them to its compute type there.
    """
    if X.dtype == np.uint8:
        return X
    as_bytes = X.astype(np.uint8)
    if np.array_equal(as_bytes, X):
        return as_bytes
    return X.astype(np.float32, copy=False)


def check_X(X, channels, *, sequence_length=None, n_features=None, alphabet=None):
    """Validate sequences in memory or lazy; return them ready for batching and their alphabet.

    Parameters
    ----------
    X : array-like of shape (n, L, C) or (n, L*C), or a lazy (n, L, C) array
        Inputs.
    channels : int
        Values per position (4 for one-hot DNA).
    sequence_length, n_features : int or None
        The length and flattened size seen in fit (None when fitting).
    alphabet : str or None
        Base order declared beside X (a data set's); else ``X.alphabet``.

    Returns
    -------
    X : ndarray (uint8 or float32) of shape (n, L, C), or the lazy array
    input_alphabet : str or None
        The base order X declares.
    """
    input_alphabet = alphabet or declared_alphabet(X, channels)
    X = _check_lazy(X, channels) if streamed(X) else _check_in_memory(X, channels, n_features,
                                                                        sequence_length)
    if sequence_length is not None and X.shape[1] != sequence_length:
        raise ValueError(
            f"X has sequences of length {X.shape[1]}, but this DeepSEAClassifier was fitted "
            f"on length {sequence_length}."
        )
    return X, input_alphabet


def declared_alphabet(X, channels=4):
    """The base order ``X`` declares: its ``alphabet``, or its column names.

    A flattened DataFrame of :class:`skdeepsea.OneHotDNA` names its columns
    ``pos0_A``, ``pos0_T``, ...: the first position's names give the order.

    Parameters
    ----------
    X : object
        Inputs as given.
    channels : int, default=4
        Values per position (column names are read for one-hot DNA only).

    Returns
    -------
    alphabet : str or None
        None when ``X`` declares none.
    """
    alphabet = getattr(X, "alphabet", None)
    columns = getattr(X, "columns", None)
    if alphabet is not None or columns is None or channels != 4 or len(columns) < 4:
        return alphabet
    first = [str(name) for name in columns[:4]]
    if not all(name.startswith("pos0_") and len(name) == 6 for name in first):
        return None
    return "".join(name[-1] for name in first)


def _check_lazy(X, channels):
    shape = tuple(X.shape)
    if len(shape) != 3 or shape[2] != channels:
        raise ValueError(
            f"A lazy X ({type(X).__name__}) must have shape (n, L, {channels}); got "
            f"{shape}. Flattened (n, L*{channels}) input must be in memory."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must hold numbers (float, uint8 or bool), got dtype {X.dtype}.")
    if shape[0] == 0:
        raise ValueError(f"X has 0 samples (shape {shape}); at least 1 is required.")
    return X


def _check_in_memory(X, channels, n_features, sequence_length):
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError("DeepSEAClassifier does not accept sparse input; pass a dense array.")
    if not hasattr(X, "dtype") or X.dtype.kind in "OUS":
        X = np.asarray(X, dtype=object)
        if X.size and isinstance(X.flat[0], (str, bytes)):
            raise TypeError(
                "DeepSEAClassifier takes one-hot arrays (n, L, 4) or (n, L*4), not strings: "
                "encode them with skdeepsea.OneHotDNA, e.g. make_pipeline(OneHotDNA(), "
                "DeepSEAClassifier())."
            )
        X = X.astype(np.float64)
    X = np.asarray(X)
    if X.dtype.kind == "c":
        raise ValueError("Complex data not supported; X must hold real numbers.")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must hold numbers (float, uint8 or bool), got dtype {X.dtype}.")
    if X.ndim == 2:
        if X.shape[1] == 0:
            raise ValueError(
                f"X has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        if n_features is not None and X.shape[1] != n_features:
            codes = (" It looks like bases written as integer codes (label encoding): encode "
                     "the sequences with skdeepsea.OneHotDNA instead."
                     if X.shape[1] * channels == n_features else "")
            raise ValueError(
                f"X has {X.shape[1]} features, but DeepSEAClassifier is expecting "
                f"{n_features} features as input (sequences of length "
                f"{sequence_length} with {channels} channels, flattened).{codes}"
            )
        if X.shape[1] % channels:
            raise ValueError(
                f"A 2-D X must be flattened sequences of shape (n, L*{channels}); it has "
                f"{X.shape[1]} feature(s), which is not a multiple of {channels}."
            )
        X = X.reshape(X.shape[0], X.shape[1] // channels, channels)
    elif X.ndim != 3 or X.shape[2] != channels:
        raise ValueError(
            f"X must have shape (n, L, {channels}) or (n, L*{channels}); got an array of "
            f"shape {X.shape}."
            + (" Reshape your data: X.reshape(1, -1) for one sample." if X.ndim == 1 else "")
        )
    if X.shape[0] == 0:
        raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is required.")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        i, position, channel = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(
            f"X[{i}] holds {X[i, position, channel]} at position {position} (channel "
            f"{channel}); one-hot values must be finite (no NaN or inf)."
        )
    if channels == 4:
        _refuse_label_encoded(X)
    return compact(X)


def _refuse_label_encoded(X):
    """Refuse bases written as integer codes (0..3): one-hot DNA holds values in [0, 1]."""
    # max() first: one pass without a boolean copy of X, which at DeepSEA scale is GBs.
    if X.size == 0 or X.max() <= 1:
        return
    i, position, channel = np.argwhere(X > 1)[0]
    value = X[i, position, channel]
    codes = X.dtype.kind in "iu" or bool(np.all(X == np.round(X)))
    hint = (" It looks like bases written as integer codes (label encoding, 0..3): encode "
            "the sequences with skdeepsea.OneHotDNA instead." if codes else "")
    raise ValueError(
        f"X[{i}] holds {value} at position {position} (channel {channel}); one-hot DNA holds "
        f"values from 0 to 1.{hint}"
    )


def fit_alphabet(alphabet, input_alphabet, channels):
    """The base order a fit uses: the parameter, else the data's, else ATGC (None off DNA)."""
    if channels != 4:
        return None
    chosen = check_alphabet(alphabet or input_alphabet or DEFAULT_ALPHABET)
    if input_alphabet and alphabet and check_alphabet(input_alphabet) != chosen:
        raise ValueError(f"X is encoded in alphabet {input_alphabet!r} but alphabet={alphabet!r}.")
    return chosen


def check_predict_alphabet(fitted_alphabet, input_alphabet):
    """Refuse data declaring another base order than the one seen in fit."""
    if fitted_alphabet and input_alphabet and check_alphabet(input_alphabet) != fitted_alphabet:
        raise ValueError(
            f"X is encoded in alphabet {input_alphabet!r}, but this DeepSEAClassifier was "
            f"fitted on alphabet {fitted_alphabet!r}."
        )


def encode_records(X, alphabet, channels):
    """Sequence records (Biopython, pysam) one-hot encoded in ``alphabet``; other X unchanged.

    Records name their contents (DNA), so the estimator encodes them as
    ``OneHotDNA(alphabet=alphabet)`` would, N as zeros; plain strings are
    still refused by ``check_X``: their encoding options belong to an explicit
    ``OneHotDNA`` step.

    Parameters
    ----------
    X : array-like, iterable or data set
        Inputs as given to ``fit`` or ``predict``.
    alphabet : str or None
        Base order to encode in (the fitted one, or the ``alphabet``
        parameter); None: ATGC.
    channels : int
        Values per position; records are encoded only for one-hot DNA (4).

    Returns
    -------
    X : OneHotArray of shape (n, L, 4), uint8, or X itself
    """
    if channels != 4 or is_dataset(X) or is_lazy(X) or isinstance(X, (str, bytes)):
        return X
    if not hasattr(X, "__len__") and hasattr(X, "__iter__"):
        X = list(X)  # a generator, Bio.SeqIO.parse, an open pysam.FastxFile: read once
    if isinstance(X, (list, tuple)):
        first = X[0] if len(X) else None
    elif hasattr(X, "iloc") or (isinstance(X, np.ndarray) and X.dtype == object):
        values = np.asarray(X, dtype=object)  # a pandas Series or column of records
        first = values.flat[0] if values.size else None
    else:
        return X
    if _record_sequence(first) is None:
        return X
    encoder = OneHotDNA(alphabet=alphabet or DEFAULT_ALPHABET, dtype="uint8")
    return encoder.fit_transform(X)
