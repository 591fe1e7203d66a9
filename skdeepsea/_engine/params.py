"""Every parameter of the estimator checked before any work, each error naming its parameter."""

import os
from numbers import Integral, Real

import numpy as np

from .._architectures import NETWORK_CONSTRAINTS, SIZE_PARAMS, resolve_sizes
from .._constraints import (
    ArrayLike,
    Boolean,
    Interval,
    Options,
    PathLike,
    SeedLike,
    validate_params,
)
from .._strands import DEPRECATED, PREDICTION_STRANDS, renamed_strand
from .._validation import NETWORK_RULE_PARAMS, check_network_params
from ..preprocessing import ALPHABET_CONSTRAINT

# Keras-free here (the model builder imports them), so that the estimator's
# constraint table does not import Keras with the estimator.
MIXED_PRECISION = {"bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
DEFAULT_LEARNING_RATE = {"sgd": 0.1, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.001}
OPTIMIZERS = tuple(DEFAULT_LEARNING_RATE)

_POSITIVE = Interval(Integral, 1, None)
# DeepSEAClassifier._parameter_constraints: what each constructor parameter accepts.
# The rules between parameters (a dropout rate per block, the LSTM of DanQ only, ...)
# are check_params' code.
PARAMETER_CONSTRAINTS = {
    **{name: spec for name, spec in NETWORK_CONSTRAINTS.items() if name != "input_channels"},
    "optimizer": [Options(str, OPTIMIZERS)],
    "learning_rate": [Interval(Real, 0, None, closed="right"), None],
    "momentum": [Interval(Real, 0, 1)],
    "learning_rate_decay": [Interval(Real, 0, None)],
    "batch_size": [_POSITIVE],
    "epochs": [_POSITIVE],
    "steps_per_epoch": [_POSITIVE, None],
    "early_stopping": [Boolean()],
    "validation_fraction": [Interval(Real, 0, 0.9, closed="right")],
    "n_iter_no_change": [_POSITIVE],
    "class_weight": [None, Options(str, ("balanced",)), dict],
    "strand": [Options(str, PREDICTION_STRANDS)],
    "average_strands": [Boolean(), Options(str, (DEPRECATED,))],
    "add_reverse_complement": [Boolean()],
    "alphabet": [ALPHABET_CONSTRAINT, None],
    "input_channels": NETWORK_CONSTRAINTS["input_channels"],
    "shuffle_buffer": [_POSITIVE],
    "mixed_precision": [None, Options(str, tuple(MIXED_PRECISION))],
    "data_parallel": [Boolean()],
    "checkpoint_dir": [PathLike(), None],
    "checkpoint_every": [_POSITIVE],
    "warm_start": [Boolean()],
    "random_state": [SeedLike(generator=False)],  # sklearn's check_random_state
    "verbose": [Interval(Integral, 0, 2)],
    "threshold": [Interval(Real, 0, 1), ArrayLike()],  # an array's values: check_threshold
}


def resolve_params(params):
    """The parameters with each size left at None set to the architecture's default.

    The estimator stores its constructor parameters unchanged (scikit-learn's
    ``get_params`` / ``clone``); ``conv_filters=None`` and the like mean "as
    published for ``architecture``" and are resolved here, at fit time.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params()``).

    Returns
    -------
    params : dict
        A copy, every size set.

    Raises
    ------
    ValueError
        If ``architecture`` is not one of the family, or the deprecated
        ``average_strands`` is given but not a bool.
    """
    sizes = resolve_sizes(params["architecture"], {name: params[name] for name in SIZE_PARAMS})
    resolved = {**params, **sizes}
    if "average_strands" in resolved:  # the 0.1 spelling, translated once
        validate_params(PARAMETER_CONSTRAINTS, {"average_strands": resolved["average_strands"]},
                        "DeepSEAClassifier")
        resolved["strand"] = renamed_strand(resolved["strand"], "average_strands",
                                            resolved.pop("average_strands"), "DeepSEAClassifier")
    return resolved


def check_params(params):
    """Raise ValueError naming the first invalid parameter.

    Each parameter is checked against :data:`PARAMETER_CONSTRAINTS`, then the
    rules between parameters.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params()``, or those of
        :func:`resolve_params`).

    Raises
    ------
    ValueError
        Naming the parameter.
    NotADirectoryError
        If ``checkpoint_dir`` is an existing file.
    """
    validate_params(PARAMETER_CONSTRAINTS, params, "DeepSEAClassifier")
    check_geometry(params, None)
    checkpoint_dir = params["checkpoint_dir"]
    if checkpoint_dir is not None and os.path.exists(checkpoint_dir) \
            and not os.path.isdir(checkpoint_dir):
        raise NotADirectoryError(
            f"checkpoint_dir {os.fspath(checkpoint_dir)} is a file; give the path of a folder "
            "(created when missing)."
        )
    if params["input_channels"] != 4 and (params["strand"] != "forward"
                                          or params["add_reverse_complement"]):
        raise ValueError(
            f"input_channels={params['input_channels']}: only one-hot DNA (4 channels) has a "
            "reverse complement; set strand='forward' and add_reverse_complement=False."
        )
    check_threshold(params["threshold"])


def check_threshold(threshold):
    """``threshold`` as an array of numbers in [0, 1], or a ValueError naming it."""
    try:
        values = np.asarray(threshold, dtype=np.float64)
    except (TypeError, ValueError):
        values = None
    if (values is None or values.ndim > 1 or values.size == 0
            or isinstance(threshold, (bool, np.bool_, str))):
        raise ValueError(
            f"threshold must be a number or a 1-D array-like of numbers, got {threshold!r}."
        )
    if not (np.isfinite(values).all() and ((values >= 0) & (values <= 1)).all()):
        raise ValueError(f"threshold must hold numbers from 0 to 1, got {threshold!r}.")
    return values


# What a fitted network holds and a warm start keeps: these cannot change between fits.
WARM_START_FIXED = ("architecture", *SIZE_PARAMS, "max_kernel_norm", "mixed_precision",
                    "input_channels")
# What a kept optimizer state holds (its class, rate, schedule and momentum).
WARM_START_OPTIMIZER = ("optimizer", "learning_rate", "momentum", "learning_rate_decay")


def _plain(value):
    return tuple(value) if isinstance(value, (tuple, list)) else value


def network_record(params):
    """The parameters a fitted network was built with, as a warm start compares them.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params()``) at the fit (or load,
        or import) that made the network.

    Returns
    -------
    record : dict
        ``WARM_START_FIXED`` and ``WARM_START_OPTIMIZER``, sizes resolved.
    """
    resolved = resolve_params(params)
    return {name: _plain(resolved[name]) for name in WARM_START_FIXED + WARM_START_OPTIMIZER}


def check_warm_start(record, params, keeps_optimizer):
    """Refuse a warm start whose parameters differ from those the fitted network holds.

    Parameters
    ----------
    record : dict
        :func:`network_record` of the fitted network.
    params : dict
        The estimator's parameters now, sizes resolved.
    keeps_optimizer : bool
        The network continues with its optimizer state (its optimizer
        parameters then cannot change either).

    Raises
    ------
    ValueError
        Naming the first changed parameter, its two values and
        ``warm_start=False``.
    """
    names = WARM_START_FIXED + (WARM_START_OPTIMIZER if keeps_optimizer else ())
    for name in names:
        if _plain(params[name]) != record[name]:
            held = "its optimizer state" if name in WARM_START_OPTIMIZER else "the network"
            raise ValueError(
                f"warm_start=True continues the fitted network, but {name}={params[name]!r} "
                f"differs from the {record[name]!r} it was fitted with, which {held} keeps. "
                f"Set warm_start=False to train a new network with {name}={params[name]!r}, "
                f"or set {name} back to continue."
            )


def check_geometry(params, sequence_length):
    """Raise ValueError when a rule between the network's sizes fails.

    With an integer ``sequence_length``, also when the sequences are too short
    for the network; None checks the sizes alone.
    """
    resolved = resolve_params(params)
    check_network_params(sequence_length=sequence_length, architecture=resolved["architecture"],
                         **{name: resolved[name] for name in NETWORK_RULE_PARAMS})


def check_distribution(params):
    """The devices of data-parallel training (None without, or with one), checked against the batch.

    In a multi-process JAX job (:func:`skdeepsea.distributed.initialize`) the
    devices are those of every process, and ``data_parallel`` is required.
    """
    import keras

    from .processes import process_count

    processes = process_count()
    if not params["data_parallel"]:
        if processes > 1:
            raise ValueError(
                f"This process is one of the {processes} processes of a multi-process JAX job: "
                "train with data_parallel=True (each process then feeds its share of every "
                "batch), or start one process alone."
            )
        return None
    if keras.backend.backend() != "jax":
        raise ValueError(
            "data_parallel=True uses Keras' distribution API, which needs the JAX backend; "
            f"the current backend is {keras.backend.backend()!r} (set KERAS_BACKEND=jax)."
        )
    devices = keras.distribution.list_devices()
    if len(devices) == 1:
        # One device: the plain path. Keras' DataParallel over one device places the
        # initial weights off its mesh and the step's outputs on it, so the step is
        # compiled twice more (once in the second epoch) for the same computation.
        return None
    if params["batch_size"] % len(devices):
        over = (f"{len(devices)} devices" if processes == 1 else
                f"{len(devices)} devices ({processes} processes of {len(devices) // processes})")
        raise ValueError(
            f"data_parallel=True splits each batch over {over}: batch_size="
            f"{params['batch_size']} must be a multiple of {len(devices)}."
        )
    return devices
