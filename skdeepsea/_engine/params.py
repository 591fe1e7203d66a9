"""Every parameter of the estimator checked before any work, each error naming its parameter."""

import os

import numpy as np

from .._architectures import SIZE_PARAMS, resolve_sizes
from .._validation import check_network_params, check_number
from .model import DEFAULT_LEARNING_RATE, MIXED_PRECISION

OPTIMIZERS = tuple(DEFAULT_LEARNING_RATE)
NETWORK_PARAMS = ("architecture", *SIZE_PARAMS, "l2", "l1_sparsity", "max_kernel_norm")


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
        If ``architecture`` is not one of the family.
    """
    sizes = resolve_sizes(params["architecture"], {name: params[name] for name in SIZE_PARAMS})
    return {**params, **sizes}


def _network_params(params):
    resolved = resolve_params(params)
    return {name: resolved[name] for name in NETWORK_PARAMS}


def check_params(params):
    """Raise ValueError naming the first invalid parameter.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params()``).

    Raises
    ------
    ValueError
        Naming the parameter.
    NotADirectoryError
        If ``checkpoint_dir`` is an existing file.
    """
    check_network_params(sequence_length=None, **_network_params(params))
    if params["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {params['optimizer']!r}.")
    for name, low, high, integer, strict, allow_none in (
        ("learning_rate", 0, None, False, True, True),
        ("momentum", 0, 1, False, False, False),
        ("batch_size", 1, None, True, False, False),
        ("epochs", 1, None, True, False, False),
        ("validation_fraction", 0, 0.9, False, True, False),
        ("n_iter_no_change", 1, None, True, False, False),
        ("verbose", 0, 2, True, False, False),
        ("input_channels", 1, None, True, False, False),
        ("learning_rate_decay", 0, None, False, False, False),
        ("steps_per_epoch", 1, None, True, False, True),
        ("shuffle_buffer", 1, None, True, False, False),
        ("checkpoint_every", 1, None, True, False, False),
    ):
        check_number(name, params[name], low=low, high=high, integer=integer, strict=strict,
                     allow_none=allow_none)
    if params["mixed_precision"] is not None and params["mixed_precision"] not in MIXED_PRECISION:
        raise ValueError(
            f"mixed_precision must be None, 'bfloat16' or 'float16', got "
            f"{params['mixed_precision']!r}."
        )
    for name in ("data_parallel", "warm_start", "early_stopping", "average_strands",
                 "add_reverse_complement"):
        if not isinstance(params[name], (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {params[name]!r}.")
    checkpoint_dir = params["checkpoint_dir"]
    if checkpoint_dir is not None and not isinstance(checkpoint_dir, (str, os.PathLike)):
        raise ValueError(
            f"checkpoint_dir must be a directory path or None, got {checkpoint_dir!r}."
        )
    if checkpoint_dir is not None and os.path.exists(checkpoint_dir) \
            and not os.path.isdir(checkpoint_dir):
        raise NotADirectoryError(
            f"checkpoint_dir {os.fspath(checkpoint_dir)} is a file; give the path of a folder "
            "(created when missing)."
        )
    if params["input_channels"] != 4 and (params["average_strands"]
                                          or params["add_reverse_complement"]):
        raise ValueError(
            f"input_channels={params['input_channels']}: only one-hot DNA (4 channels) has a "
            "reverse complement; set average_strands=False and add_reverse_complement=False."
        )
    class_weight = params["class_weight"]
    if not (class_weight is None or class_weight == "balanced" or isinstance(class_weight, dict)):
        raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {class_weight!r}.")
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
    """Raise ValueError when the sequences are too short for the network."""
    check_network_params(sequence_length=sequence_length, **_network_params(params))


def check_distribution(params):
    """The devices of data-parallel training (None without), checked against the batch size.

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
    if params["batch_size"] % len(devices):
        over = (f"{len(devices)} devices" if processes == 1 else
                f"{len(devices)} devices ({processes} processes of {len(devices) // processes})")
        raise ValueError(
            f"data_parallel=True splits each batch over {over}: batch_size="
            f"{params['batch_size']} must be a multiple of {len(devices)}."
        )
    return devices
