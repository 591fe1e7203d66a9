"""Contribution scores in NPZ and HDF5 files, written atomically, read back with their shapes
checked."""

import os

import numpy as np

from .._constraints import InstanceOf, Options, PathLike, parameter_constraints
from .._strands import FORMER_STRANDS, PREDICTION_STRANDS
from ._api import ATTRIBUTION_METHODS, OUTPUTS, Attributions

_ARRAYS = ("scores", "sequences", "outputs", "reference_outputs")
_ATTRS = ("method", "output", "strand", "alphabet", "hypothetical")


@parameter_constraints({"attributions": [InstanceOf(Attributions, "an Attributions")],
                        "path": [PathLike()], "format": [None, Options(str, ("npz", "hdf5"))]})
def write_attributions(attributions, path, *, format=None):
    """Write contribution scores to an NPZ or HDF5 file, atomically.

    Parameters
    ----------
    attributions : Attributions
        The scores.
    path : str or path-like
        Destination; ``.npz``, ``.h5`` or ``.hdf5``.
    format : {"npz", "hdf5"}, default=None
        Override the format the suffix implies (:func:`read_attributions`
        tells the format from the content, whatever the name).

    Returns
    -------
    path : str
        The file written.

    Raises
    ------
    ValueError
        If ``attributions`` is not an :class:`Attributions`, ``path`` not a
        path, or the format neither "npz" nor "hdf5", nor given and implied
        by the suffix; nothing is written.
    """
    from .._atomic import atomic_open, atomic_path

    path = os.fspath(path)
    format = format or _attribution_format_of(path)
    arrays, attrs = _to_arrays(attributions)
    if format == "npz":
        with atomic_open(path, "wb") as f:
            np.savez_compressed(f, **arrays, **{k: np.asarray(v) for k, v in attrs.items()})
    else:
        import h5py

        with atomic_path(path) as temporary, h5py.File(temporary, "w") as f:
            for name, array in arrays.items():
                f.create_dataset(name, data=array, compression="gzip")
            for name, value in attrs.items():
                f.attrs[name] = value
    return path


@parameter_constraints({"path": [PathLike()]})
def read_attributions(path):
    """Read contribution scores written by :func:`write_attributions`.

    Files written before ``strands`` was renamed ``strand`` load too (their
    "both" is "mean").

    Parameters
    ----------
    path : str or path-like
        An NPZ or HDF5 file.

    Returns
    -------
    attributions : Attributions
        The scores, with the options they were computed with.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` is not a path; if the file is neither NPZ nor HDF5 (told
        by its content, not its name), lacks a field, or holds scores, sequences, outputs and targets
        of shapes that do not agree; the message names the file.
    skdeepsea.exceptions.DamagedFileError
        If the file is damaged or truncated.
    """
    import zipfile

    import h5py

    from ..exceptions import damaged

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file of contribution scores: {path}")
    with open(path, "rb") as f:
        start = f.read(4)
    try:
        if start == b"PK\x03\x04":
            with np.load(path, allow_pickle=False) as f:
                values = {k: f[k] for k in f.files}
        elif h5py.is_hdf5(path):
            with h5py.File(path, "r") as f:
                values = {k: f[k][()] for k in f}
                values.update({k: f.attrs[k] for k in f.attrs})
        else:
            raise ValueError(f"{path} is not a file of contribution scores: neither an NPZ "
                             "(zip) nor an HDF5 file.")
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise damaged(path, "NPZ" if start == b"PK\x03\x04" else "HDF5", error) from error
    if "strands" in values and "strand" not in values:
        former = _text(values.pop("strands"))
        values["strand"] = FORMER_STRANDS.get(former, former)
    return _from_arrays(values, path)


def _text(value):
    """A scalar attribute as read back (a numpy scalar, bytes from HDF5) as a Python value."""
    value = np.asarray(value).item()
    return value.decode() if isinstance(value, bytes) else value


def _to_arrays(attributions):
    arrays = {k: getattr(attributions, k) for k in _ARRAYS
              if getattr(attributions, k) is not None}
    arrays["targets"] = np.asarray(attributions.targets, dtype=str).astype("S")
    return arrays, {k: getattr(attributions, k) for k in _ATTRS}


def _from_arrays(values, path):
    missing = [k for k in ("scores", "sequences", "outputs", "targets", *_ATTRS)
               if k not in values]
    if missing:
        raise ValueError(f"{path} is not a file of contribution scores: no "
                         f"{', '.join(missing)}.")
    _check_agreement(values, path)
    fields = {k: np.asarray(values[k]) for k in ("scores", "sequences", "outputs")}
    fields["reference_outputs"] = values.get("reference_outputs")
    fields["targets"] = [t.decode() if isinstance(t, bytes) else str(t)
                         for t in np.asarray(values["targets"]).tolist()]
    fields.update({k: _text(values[k]) for k in _ATTRS})
    fields["hypothetical"] = bool(fields["hypothetical"])
    return Attributions(**fields)


def _check_agreement(values, path):
    """Scores, sequences, outputs and targets of one (n, K, L, C) geometry, or a ValueError."""
    scores = np.asarray(values["scores"])
    if scores.ndim != 4:
        raise ValueError(f"{path}: scores must have shape (n_sequences, n_targets, length, "
                         f"n_channels), got {scores.shape}.")
    n, k, length, channels = scores.shape
    n_targets = np.asarray(values["targets"]).size
    expected = {"sequences": (n, length, channels), "outputs": (n, k),
                "reference_outputs": (n, k)}
    for name, shape in expected.items():
        if values.get(name) is not None and np.shape(values[name]) != shape:
            raise ValueError(f"{path}: {name} has shape {np.shape(values[name])}, but scores "
                             f"{scores.shape} make it {shape}: the file's arrays disagree.")
    if n_targets != k:
        raise ValueError(f"{path}: {n_targets} target name(s) for the {k} target(s) of "
                         f"scores {scores.shape}: the file's arrays disagree.")
    for name, choices in (("method", ATTRIBUTION_METHODS), ("output", OUTPUTS),
                          ("strand", PREDICTION_STRANDS)):
        value = _text(values[name])
        if value not in choices:
            raise ValueError(f"{path}: {name} is {value!r}, not one of {', '.join(choices)}.")


def _attribution_format_of(path):
    lower = path.lower()
    if lower.endswith(".npz"):
        return "npz"
    if lower.endswith((".h5", ".hdf5")):
        return "hdf5"
    raise ValueError(f"Cannot tell the format of {path!r}: use a .npz, .h5 or .hdf5 name.")
