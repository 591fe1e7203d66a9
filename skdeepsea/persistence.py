"""The ``.skdeepsea`` file: a fitted DeepSEAClassifier in one zip archive.

Layout (format version 1)::

    model.keras      the Keras 3 archive of the network (weights as HDF5,
                     architecture as JSON): backend-neutral, loaded with
                     Keras' safe mode
    estimator.json   {"format": "skdeepsea", "format_version": 1,
                      "skdeepsea_version", "keras_version", "backend",
                      "params": the constructor parameters (a
                                RandomState random_state is stored as null),
                      "fitted": classes_ (with their dtype), target_names_,
                                target_type_, alphabet_, sequence_length_,
                                history_, n_steps_, n_iter_: every field
                                of ``_engine.fitted.FittedState``}

The archive is written to a temporary file beside the destination and renamed
over it only when complete (:mod:`skdeepsea._atomic`), so an interrupted save
never leaves a file that looks whole.
"""

import io
import json
import os
import zipfile
import zlib

import numpy as np

from ._atomic import atomic_path
from ._engine.archive import model_from_bytes, model_to_bytes
from ._engine.fitted import FittedState
from .exceptions import damaged

# What a damaged or truncated zip archive raises while it is read.
_DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, OSError)

FORMAT_VERSION = 1


def _without_optimizer(model):
    """An uncompiled view of the model's layers: Keras saves no optimizer for it."""
    import keras

    if getattr(model, "optimizer", None) is None:
        return model
    return keras.Model(model.input, model.output, name=model.name)


def _to_json(value):
    if isinstance(value, os.PathLike):  # checkpoint_dir given as a pathlib.Path
        return os.fspath(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.ndarray):  # threshold, one per target
        return value.tolist()
    if isinstance(value, dict):
        return {"__dict_items__": [[k, v] for k, v in value.items()]}
    return value


def _from_json(value):
    if isinstance(value, dict) and "__dict_items__" in value:
        return {k: v for k, v in value["__dict_items__"]}
    if isinstance(value, list):  # sequence parameters (conv_filters, dropout) are tuples
        return tuple(value)
    return value


def save_estimator(estimator, path, include_optimizer=False):
    """Write a fitted estimator to ``path`` atomically.

    Parameters
    ----------
    estimator : DeepSEAClassifier
        Fitted estimator.
    path : str or path-like
        Destination file.
    include_optimizer : bool, default=False
        Keep the optimizer state, for continued training.
    """
    import keras

    from ._version import __version__

    params = estimator.get_params()
    if not isinstance(params["random_state"], (int, type(None))):
        params["random_state"] = None  # a RandomState instance is not data
    meta = {
        "format": "skdeepsea",
        "format_version": FORMAT_VERSION,
        "skdeepsea_version": __version__,
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "params": {k: _to_json(v) for k, v in params.items()},
        "fitted": FittedState.of(estimator).to_json(),
    }
    with atomic_path(path) as temporary, zipfile.ZipFile(temporary, "w") as archive:
        archive.writestr("estimator.json", json.dumps(meta, indent=1))
        model = estimator.model_ if include_optimizer else _without_optimizer(estimator.model_)
        archive.writestr("model.keras", model_to_bytes(model))


def read_estimator(path):
    """Read the parts of an estimator written by :func:`save_estimator`.

    ``DeepSEAClassifier.load`` makes the estimator of them.

    Parameters
    ----------
    path : str or path-like
        File to read.

    Returns
    -------
    params : dict
        The constructor parameters.
    network : keras.Model
        The network.
    fitted : skdeepsea._engine.fitted.FittedState
        The other fitted attributes.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    skdeepsea.exceptions.DamagedFileError
        If the archive is damaged or truncated (a failed checksum, a missing
        end); the message names the file.
    ValueError
        If the file is not a ``.skdeepsea`` model or of another format version.

    See Also
    --------
    skdeepsea.pretrained.load_model_file : Reads the published DeepSEA weights as well.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a model file.")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        with open(path, "rb") as f:
            zip_start = f.read(4) == b"PK\x03\x04"
        if zip_start:  # a zip archive whose end (the central directory) is missing
            raise damaged(path, "zip archive", e) from e
        raise ValueError(f"{path} is not a skdeepsea model file (not a zip archive).") from e
    with archive:
        names = set(archive.namelist())
        if not {"estimator.json", "model.keras"} <= names:
            raise ValueError(
                f"{path} is not a skdeepsea model file: it lacks estimator.json or model.keras."
            )
        try:
            meta = json.loads(archive.read("estimator.json"))
            model_bytes = archive.read("model.keras")
        except _DAMAGED_ZIP as e:
            raise damaged(path, "zip archive", e) from e
        except ValueError as e:  # JSON that does not parse
            raise damaged(path, "estimator.json", e) from e
    if not isinstance(meta, dict) or meta.get("format") != "skdeepsea" or \
            meta.get("format_version") != FORMAT_VERSION:
        found = meta if isinstance(meta, dict) else {}
        raise ValueError(
            f"{path} has format {found.get('format')!r} version {found.get('format_version')!r}; "
            f"this skdeepsea reads format 'skdeepsea' version {FORMAT_VERSION}."
        )
    if not zipfile.is_zipfile(io.BytesIO(model_bytes)):
        raise damaged(path, "model.keras", "not a Keras archive")
    params = {k: _from_json(v) for k, v in meta["params"].items()}
    fitted = FittedState.from_json(meta["fitted"])
    try:
        network = model_from_bytes(model_bytes)
    except (ValueError, TypeError, KeyError, AttributeError, OSError) as e:
        # Keras' own errors for an archive it cannot rebuild (an unknown class is a TypeError).
        raise ValueError(
            f"{path}: its network (model.keras) cannot be loaded: {' '.join(str(e).split())}"
        ) from e
    return params, network, fitted
