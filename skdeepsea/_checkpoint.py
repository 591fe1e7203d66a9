"""Training checkpoints: one ``checkpoint.npz`` per directory, replaced atomically.

A checkpoint holds every variable of the model (weights and the dropout
layers' random-generator states), every variable of the optimizer (its step
counter and momenta), the best weights seen so far by validation, and a JSON
record of where training stands (global step, epoch, shuffle seed, history,
early-stopping counters) and of what it was training (a fingerprint of the
data and parameters, so a directory is never resumed by another fit).

The file is written with :func:`skdeepsea._atomic.atomic_open`: a process
killed at any moment leaves either the previous checkpoint or the new one,
never a partial file.
"""

import json
import os
import zipfile
import zlib

import numpy as np

from ._atomic import atomic_open
from .exceptions import damaged

CHECKPOINT_NAME = "checkpoint.npz"
FORMAT_VERSION = 1


def checkpoint_path(directory):
    """Path of the checkpoint file in ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Checkpoint directory.

    Returns
    -------
    path : str
        ``directory/checkpoint.npz``.

    Examples
    --------
    >>> from skdeepsea._checkpoint import checkpoint_path
    >>> checkpoint_path("run1").endswith("checkpoint.npz")
    True
    """
    return os.path.join(os.fspath(directory), CHECKPOINT_NAME)


def write_checkpoint(directory, meta, groups):
    """Write a checkpoint atomically.

    Parameters
    ----------
    directory : str or path-like
        Checkpoint directory, created when missing.
    meta : dict
        JSON-serialisable training state.
    groups : dict of str to list of ndarray
        Named lists of arrays (e.g. ``"model"``, ``"optimizer"``, ``"best"``).
    """
    record = dict(meta, format_version=FORMAT_VERSION,
                  groups={name: len(arrays) for name, arrays in groups.items()})
    arrays = {"meta": np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)}
    for name, values in groups.items():
        for i, value in enumerate(values):
            arrays[f"{name}_{i}"] = np.asarray(value)
    with atomic_open(checkpoint_path(directory)) as f:
        np.savez(f, **arrays)


def read_checkpoint(directory):
    """Read the checkpoint of ``directory``.

    Parameters
    ----------
    directory : str or path-like
        Checkpoint directory.

    Returns
    -------
    checkpoint : tuple (meta, groups) or None
        The training state and the named lists of arrays, or None when the
        directory holds no checkpoint.

    Raises
    ------
    skdeepsea.exceptions.DamagedFileError
        If the file is damaged or truncated.
    ValueError
        If the file is not a checkpoint of this format, or holds NaN or
        infinite values (a diverged training is not resumed).
    """
    path = checkpoint_path(directory)
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            groups = {
                name: [data[f"{name}_{i}"] for i in range(count)]
                for name, count in meta["groups"].items()
            }
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:
        raise damaged(path, "training checkpoint", e) from e
    except (OSError, ValueError, KeyError) as e:
        with open(path, "rb") as f:
            is_zip = f.read(4) == b"PK\x03\x04"
        if is_zip:  # an .npz archive that ends early or whose contents do not read back
            raise damaged(path, "training checkpoint", e) from e
        raise ValueError(f"{path} is not a skdeepsea training checkpoint: {e}") from e
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path} has checkpoint format version {meta.get('format_version')!r}; this "
            f"skdeepsea reads version {FORMAT_VERSION}."
        )
    for name, values in groups.items():
        for i, value in enumerate(values):
            if value.dtype.kind == "f" and not np.isfinite(value).all():
                raise ValueError(
                    f"{path}: {name} variable {i} holds NaN or infinite values (the training "
                    "diverged before this checkpoint); it cannot be resumed. Delete it to start "
                    "over, with a lower learning_rate."
                )
    return meta, groups


def variable_values(variables):
    """The values of Keras variables as NumPy arrays.

    Parameters
    ----------
    variables : list of keras.Variable
        Variables.

    Returns
    -------
    values : list of ndarray
        One array per variable, in order.
    """
    import keras

    return [keras.ops.convert_to_numpy(v.value) for v in variables]


def assign_values(variables, values, what):
    """Assign saved arrays to Keras variables, checking that they match.

    Parameters
    ----------
    variables : list of keras.Variable
        Variables to restore.
    values : list of ndarray
        Saved values, in the same order.
    what : str
        Name of the group, for error messages.

    Raises
    ------
    ValueError
        If the counts or shapes differ.
    """
    if len(variables) != len(values):
        raise ValueError(
            f"The checkpoint holds {len(values)} {what} variables, the model has "
            f"{len(variables)}: it was written by another network."
        )
    for variable, value in zip(variables, values):
        if tuple(variable.shape) != tuple(value.shape):
            raise ValueError(
                f"Checkpoint {what} variable {variable.path!r} has shape {value.shape}, the "
                f"model's has {tuple(variable.shape)}: it was written by another network."
            )
        variable.assign(value.astype(variable.dtype, copy=False))
