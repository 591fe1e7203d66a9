"""Checks shared by several modules: hyperparameters, label and score arrays, motif matrices,
columns of tables read back, a Dask client.

Parameter checks go through :func:`skdeepsea._constraints.validate_params`
(one wording). Imports nothing of the package at module level but
``_constraints``, so any module may use it.
"""

import numbers

import numpy as np

from ._constraints import HasMethods, Interval, Satisfies, validate_params

# A Dask scheduler address, a client (duck-typed: distributed stays optional) or None.
CLIENT = [
    Satisfies(lambda value: isinstance(value, str) and value.strip() != "",
              "a Dask scheduler address (a str)"),
    HasMethods(("submit", "map", "cancel"), "a distributed.Client"),
    None,
]


def check_number(name, value, *, low=None, high=None, integer=False, strict=False, allow_none=False):
    """Raise ValueError unless value is a number in [low, high] ((low, high] if strict).

    A shorthand for one :class:`~skdeepsea._constraints.Interval` (NaN and
    bools refused), with the wording of
    :func:`~skdeepsea._constraints.validate_params`.
    """
    interval = Interval(numbers.Integral if integer else numbers.Real, low, high,
                        closed="right" if strict else "both")
    validate_params({name: [interval, None] if allow_none else [interval]}, {name: value})


# The network sizes that check_network_params' rules read.
NETWORK_RULE_PARAMS = ("conv_filters", "kernel_size", "pool_size", "dropout", "lstm_units")


def check_network_params(*, sequence_length, conv_filters, kernel_size, pool_size, dropout,
                         architecture="deepsea", lstm_units=None):
    """Raise ValueError naming the first broken rule between network hyperparameters.

    Each parameter alone is checked by its caller's constraint table
    (:data:`skdeepsea._architectures.NETWORK_CONSTRAINTS`); these are the
    rules a table cannot state: each block's filters, one dropout rate per
    block, ``lstm_units`` for DanQ only, and (``sequence_length`` an integer,
    not None) an input long enough for the blocks. The sizes are those of
    ``architecture`` (see ``skdeepsea._architectures``).
    """
    from ._architectures import dropout_count, feature_length

    for i, filters in enumerate(conv_filters):
        check_number(f"conv_filters[{i}]", filters, low=1, integer=True)
    if architecture != "danq" and lstm_units is not None:
        raise ValueError(f"lstm_units is for architecture='danq' only; {architecture!r} has no "
                         f"LSTM (leave lstm_units=None), got {lstm_units!r}.")
    n_rates = dropout_count(architecture, len(conv_filters))
    if len(dropout) != n_rates:
        what = "one per convolution block" + (", then one after the LSTM"
                                              if architecture == "danq" else "")
        raise ValueError(f"dropout must be a tuple of {n_rates} rates ({what}), got {dropout!r}.")
    for i, rate in enumerate(dropout):
        check_number(f"dropout[{i}]", rate, low=0, high=0.999)
    if sequence_length is None:
        return
    out = feature_length(architecture, sequence_length, len(conv_filters), kernel_size, pool_size)
    if out < 1:
        raise ValueError(
            f"sequence_length={sequence_length} is too short for {architecture}'s "
            f"{len(conv_filters)} convolution blocks of width {kernel_size} with pooling "
            f"{pool_size}: nothing is left after the last one."
        )


def check_binary_scores(y_true, y_score):
    """0/1 labels and scores as 2-D arrays of one ``(n_samples, n_targets)`` shape.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets) or (n_samples,)
        Labels, 0 or 1.
    y_score : array-like of the same shape
        Scores or probabilities.

    Returns
    -------
    y_true, y_score : ndarray of shape (n_samples, n_targets)
        ``y_score`` as float64.

    Raises
    ------
    ValueError
        If the shapes differ or a label is not 0 or 1.
    """
    from .metrics import _check_scores

    y_true, y_score = _check_scores(y_true, y_score)
    if y_true.size and not np.isin(y_true, (0, 1)).all():
        i, t = np.argwhere(~np.isin(y_true, (0, 1)))[0]
        raise ValueError(f"y_true must hold 0/1 labels only; y_true[{i}, {t}] is "
                         f"{y_true[i, t].item()!r} (sample {i}, target {t}).")
    return y_true, y_score


def check_pfm(motif):
    """A position frequency matrix with columns A, C, G, T, from a matrix or a consensus.

    Parameters
    ----------
    motif : str or array-like of shape (width, 4)
        A matrix, or a consensus of the bases A, C, G, T (any case), read as
        one base per position with frequency 1.

    Returns
    -------
    pfm : ndarray of shape (width, 4)
        As float64.

    Raises
    ------
    ValueError
        If the matrix is empty or not 4 columns wide, or the consensus holds
        another character.

    Examples
    --------
    >>> from skdeepsea._validation import check_pfm
    >>> check_pfm("Gat").tolist()
    [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
    """
    if isinstance(motif, str):
        if not motif or set(motif.upper()) - set("ACGT"):
            raise ValueError(f"A consensus must be a non-empty string of A, C, G, T, got {motif!r}.")
        return np.eye(4)[["ACGT".index(base) for base in motif.upper()]]
    pfm = np.asarray(motif, dtype=np.float64)
    if pfm.ndim != 2 or pfm.shape[1] != 4 or len(pfm) == 0:
        raise ValueError(f"A PFM must have shape (width, 4) with columns A, C, G, T, got {pfm.shape}.")
    return pfm


def check_columns(columns, required, where, what):
    """Raise ValueError unless ``columns`` holds every name of ``required``.

    For tables read back (a Parquet or TSV file the package did not write):
    one error naming the file and the missing columns, not a KeyError.

    Parameters
    ----------
    columns : iterable of str
        The columns found.
    required : iterable of str
        The columns needed.
    where : str
        The file (or table) that was read.
    what : str
        What it should be ("a variant score file written by skdeepsea").

    Examples
    --------
    >>> from skdeepsea._validation import check_columns
    >>> check_columns(["a", "b"], ["a", "c"], "t.parquet", "a score file")
    Traceback (most recent call last):
    ...
    ValueError: t.parquet is not a score file: it lacks the column(s) 'c'.
    """
    found = {str(column) for column in columns}
    missing = [name for name in required if name not in found]
    if missing:
        listed = ", ".join(map(repr, missing[:5])) + (", ..." if len(missing) > 5 else "")
        raise ValueError(f"{where} is not {what}: it lacks the column(s) {listed}.")


def check_client(client):
    """Raise ValueError unless ``client`` is a Dask scheduler address, a client or None.

    Parameters
    ----------
    client : object
        What was given as ``client``: a ``str`` (a scheduler address), an
        object with a client's ``submit``, ``map`` and ``cancel`` methods
        (``distributed.Client``), or None.

    Examples
    --------
    >>> from skdeepsea._validation import check_client
    >>> check_client(None), check_client("tcp://scheduler:8786")
    (None, None)
    >>> check_client(42)
    Traceback (most recent call last):
    ...
    ValueError: client must be a Dask scheduler address (a str), a distributed.Client or None, got 42.
    """
    validate_params({"client": CLIENT}, {"client": client})
