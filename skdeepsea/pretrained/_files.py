"""What a model file holds, told from its content (its name only where the format has no mark)."""

import os
import zipfile

from .._constraints import PathLike, parameter_constraints

TORCH7_SUFFIXES = (".t7", ".cpu", ".th", ".net")
PTH_SUFFIXES = (".pth", ".pt")


@parameter_constraints({"path": [PathLike()]})
def model_file_kind(path):
    """What a model file holds, told from its content (its name only for Torch7).

    Parameters
    ----------
    path : str or path-like
        An existing file.

    Returns
    -------
    kind : {"skdeepsea", "pth", "danq", "torch7", "unknown"}
        "skdeepsea": a zip archive other than PyTorch's (a ``.skdeepsea``
        file, whatever its name; a damaged one too); "pth": a PyTorch file
        (PyTorch's zip archive, or its older pickle format); "danq": an HDF5
        file (DanQ's Keras 0.2 weights); for none of these, the name:
        "pth" for ``.pth``, ``.pt``, "torch7" for ``.t7``, ``.cpu``, ``.th``,
        ``.net`` (Torch7's format has no signature), "unknown" otherwise.

    Raises
    ------
    ValueError
        If ``path`` is not a path (naming it).
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea.pretrained import model_file_kind
    >>> path = os.path.join(tempfile.mkdtemp(), "model.hdf5")
    >>> with open(path, "w") as f:
    ...     _ = f.write("text")
    >>> model_file_kind(path)
    'unknown'
    """
    import h5py

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a model file.")
    with open(path, "rb") as f:
        start = f.read(4)
    if start == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return "skdeepsea"  # damaged: DeepSEAClassifier.load says so, naming the file
        torch = any(name == "data.pkl" or name.endswith("/data.pkl") for name in names)
        return "pth" if torch and "estimator.json" not in names else "skdeepsea"
    if start[:1] == b"\x80":  # a pickle: PyTorch's format before its zip archives
        return "pth"
    if h5py.is_hdf5(path):
        return "danq"
    name = os.path.basename(path).lower()
    if name.endswith(PTH_SUFFIXES):  # not PyTorch's either: torch.load says what is wrong
        return "pth"
    if name.endswith(TORCH7_SUFFIXES):
        return "torch7"
    return "unknown"


@parameter_constraints({"path": [PathLike()]})
def is_danq_file(path):
    """Whether ``path`` holds DanQ's Keras 0.2 weights (read by :func:`load_danq`).

    Parameters
    ----------
    path : str or path-like
        An existing file.

    Returns
    -------
    danq : bool
        True for an HDF5 file (:func:`model_file_kind` "danq"), whatever its
        name.

    Raises
    ------
    ValueError
        If ``path`` is not a path (naming it).
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a folder.
    """
    return model_file_kind(path) == "danq"


def refuse_model_file(path, kind, weights):
    """Refuse a ``.skdeepsea`` model handed to a weights importer, saying what reads it.

    Parameters
    ----------
    path : str
        The file.
    kind : str
        Its :func:`model_file_kind`.
    weights : str
        What the importer reads, for the message ("published weights").
    """
    if kind == "skdeepsea":
        raise ValueError(f"{path} is a skdeepsea model file (a zip archive), not {weights}: "
                         "load it with skdeepsea.load.")


def deepsea_format(path):
    """"pth" or "t7" for load_deepsea, told from the content; other files refused by kind.

    Parameters
    ----------
    path : str
        An existing file.

    Returns
    -------
    format : {"pth", "t7"}
        A PyTorch state dict or a Torch7 file.
    """
    kind = model_file_kind(path)
    if kind in ("pth", "torch7"):
        return "pth" if kind == "pth" else "t7"
    refuse_model_file(path, kind, "published weights")
    if kind == "danq":
        raise ValueError(f"{path} is an HDF5 file: DanQ's weights are read by load_danq "
                         "(skdeepsea.load and import-weights choose it themselves).")
    raise ValueError(
        f"{path}: cannot tell the weights format from the content or the name; expected a "
        f"PyTorch state dict ({', '.join(PTH_SUFFIXES)}) or a Torch7 file "
        f"({', '.join(TORCH7_SUFFIXES)})."
    )
