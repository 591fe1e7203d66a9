"""The DeepSEA family: each architecture's default sizes and the geometry of its convolutions.

Keras-free and importing only the constraint kinds (``_constraints``), so the
parameter checks (``_validation``), the estimator's parameters
(``_engine.params``) and the network builders (``network``) share one
description of each architecture and one table of what its parameters accept
(:data:`NETWORK_CONSTRAINTS`).

- "deepsea" (Zhou & Troyanskaya 2015): blocks of one convolution, max pooling
  after every block but the last, dropout after each block.
- "beluga" (ExPecto, Zhou et al. 2018): blocks of two convolutions, dropout
  then max pooling after every block but the last, dropout after the last.
- "danq" (Quang & Xie 2016): blocks of one convolution with max pooling and
  dropout, then a bidirectional LSTM and one more dropout.

Every architecture ends with Flatten -> Dense (ReLU, ``fc_units``) -> Dense
output.
"""

from numbers import Integral, Real

from ._constraints import InstanceOf, Interval, Options, Satisfies

# Sizes of each architecture as published; the estimator's size parameters left at None take these.
ARCHITECTURES = {
    "deepsea": {"conv_filters": (320, 480, 960), "kernel_size": 8, "pool_size": 4,
                "fc_units": 925, "dropout": (0.2, 0.2, 0.5), "lstm_units": None},
    "beluga": {"conv_filters": (320, 480, 640), "kernel_size": 8, "pool_size": 4,
               "fc_units": 2003, "dropout": (0.2, 0.2, 0.5), "lstm_units": None},
    "danq": {"conv_filters": (320,), "kernel_size": 26, "pool_size": 13,
             "fc_units": 925, "dropout": (0.2, 0.5), "lstm_units": 320},
}
SIZE_PARAMS = ("conv_filters", "kernel_size", "pool_size", "fc_units", "dropout", "lstm_units")
# The input length each architecture was published with (DanQ: DeepSEA's data).
_SIZE = [Interval(Integral, 1, None), None]  # None: the architecture's published size
# What the network's parameters accept, for the estimator and the builders alike. The rules
# between them (a dropout rate per block, an input long enough) are check_network_params' code.
NETWORK_CONSTRAINTS = {
    "architecture": [Options(str, tuple(ARCHITECTURES))],
    "l2": [Interval(Real, 0, None)],
    "l1_sparsity": [Interval(Real, 0, None)],
    "max_kernel_norm": [Interval(Real, 0, None, closed="right"), None],
    "dropout": [InstanceOf((tuple, list), "a tuple of rates"), None],
    "conv_filters": [Satisfies(lambda value: isinstance(value, (tuple, list)) and len(value) > 0,
                               "a non-empty tuple of integers"), None],
    "kernel_size": _SIZE,
    "pool_size": _SIZE,
    "fc_units": _SIZE,
    "lstm_units": _SIZE,
    "input_channels": [Interval(Integral, 1, None)],
}

PUBLISHED_SEQUENCE_LENGTH = {"deepsea": 1000, "beluga": 2000, "danq": 1000}

_CONVS_PER_BLOCK = {"deepsea": 1, "beluga": 2, "danq": 1}
_POOL_AFTER_LAST = {"deepsea": False, "beluga": False, "danq": True}


def check_architecture(architecture):
    """Raise ValueError unless ``architecture`` names one of ``ARCHITECTURES``."""
    if not isinstance(architecture, str) or architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {tuple(ARCHITECTURES)}, got {architecture!r}."
        )


def resolve_sizes(architecture, sizes):
    """The size parameters with each None replaced by the architecture's default.

    Parameters
    ----------
    architecture : str
        A key of ``ARCHITECTURES``.
    sizes : dict
        Some or all of ``SIZE_PARAMS``; None means "the architecture's default".

    Returns
    -------
    sizes : dict
        Every name of ``SIZE_PARAMS``.

    Examples
    --------
    >>> from skdeepsea._architectures import resolve_sizes
    >>> resolve_sizes("danq", {"conv_filters": (16,), "kernel_size": None})["kernel_size"]
    26
    """
    check_architecture(architecture)
    defaults = ARCHITECTURES[architecture]
    resolved = {name: defaults[name] if sizes.get(name) is None else sizes[name]
                for name in SIZE_PARAMS}
    if sizes.get("dropout") is None and isinstance(resolved["conv_filters"], (tuple, list)):
        resolved["dropout"] = default_dropout(architecture, len(resolved["conv_filters"]))
    return resolved


def dropout_count(architecture, n_blocks):
    """How many dropout rates the architecture takes: one per block, DanQ's LSTM one more."""
    return n_blocks + (architecture == "danq")


def default_dropout(architecture, n_blocks):
    """The published pattern for any number of blocks: 0.2 at every place but the last, 0.5 there.

    Examples
    --------
    >>> from skdeepsea._architectures import default_dropout
    >>> default_dropout("deepsea", 3), default_dropout("danq", 1), default_dropout("beluga", 1)
    ((0.2, 0.2, 0.5), (0.2, 0.5), (0.5,))
    """
    return (0.2,) * (dropout_count(architecture, n_blocks) - 1) + (0.5,)


def feature_length(architecture, sequence_length, n_blocks, kernel_size, pool_size):
    """Positions left after the convolutions and poolings (0 or less: the input is too short).

    Parameters
    ----------
    architecture : str
        A key of ``ARCHITECTURES``.
    sequence_length : int
        Input length in bases.
    n_blocks : int
        Convolution blocks (``len(conv_filters)``).
    kernel_size, pool_size : int
        Convolution width; pooling width and step.

    Returns
    -------
    length : int

    Examples
    --------
    >>> from skdeepsea._architectures import feature_length
    >>> [feature_length(a, n, 3, 8, 4) for a, n in (("deepsea", 1000), ("beluga", 2000))]
    [53, 106]
    >>> feature_length("danq", 1000, 1, 26, 13)
    75
    """
    length = sequence_length
    for block in range(n_blocks):
        length -= _CONVS_PER_BLOCK[architecture] * (kernel_size - 1)
        if block < n_blocks - 1 or _POOL_AFTER_LAST[architecture]:
            length //= pool_size
    return length
