"""The published weights files this package knows, and the checks any weights file must pass."""

import hashlib
import os
from collections.abc import Mapping

import numpy as np

from .._constraints import PathLike, Satisfies, parameter_constraints

# The published files this package accepts without verify=False. A value of None is not known
# (no public source gives it) and is not checked; each entry has at least one published hash.
# "strand" is what load_deepsea's strand=None gives for the file: how its source predicts.
KNOWN_FILES = {
    "deepsea_predict.pth": {
        "description": "Kipoi DeepSEA/predict: PyTorch conversion of DeepSEA v0.94, strands averaged",
        "source": "https://zenodo.org/record/1466993/files/deepsea_predict.pth",
        "size": None,
        "md5": "89e640bf6bdbe1ff165f484d9796efc7",  # Kipoi models, DeepSEA/predict/model.yaml
        "sha256": None,
        "format": "pth",
        "strand": "mean",
    },
    "deepsea_variant_effects.pth": {
        "description": "Kipoi DeepSEA/variantEffects: the same weights, strands not averaged",
        "source": "https://zenodo.org/record/1466993/files/deepsea_variant_effects.pth",
        "size": None,
        "md5": "35956ab9c28960b5a3693f470fe980c1",  # Kipoi models, DeepSEA/variantEffects/model.yaml
        "sha256": None,
        "format": "pth",
        "strand": "forward",
    },
    "deepsea.cpu": {
        "description": "DeepSEA v0.94b package: the original Torch7 model (DeepSEA-v0.94b/deepsea.cpu)",
        "source": "deepsea.v0.94b.tar.gz from the DeepSEA website, member DeepSEA-v0.94b/deepsea.cpu",
        "size": None,
        "md5": None,
        # As recorded by the MultiMolecule project's fixture generator for that file.
        "sha256": "2af6abe4f422839c56ddbb9f9b14771a62ec49378903035c4212acdd1a370129",
        "format": "t7",
        "strand": "mean",
    },
    "deepsea.beluga.pth": {
        "description": "Beluga (ExPecto's DeepSEA, 2,000 bp, 2,002 profiles): ExPecto's resources, "
                       "Kipoi DeepSEA/beluga",
        "source": "https://zenodo.org/record/3402406/files/deepsea.beluga.pth",
        "size": None,
        "md5": "62360f2db4ac96554d28d058b50ab654",  # Kipoi models, DeepSEA/beluga/model.yaml
        "sha256": None,
        "format": "pth",
        "strand": "mean",
    },
}


def _file_hashes(path):
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


@parameter_constraints({
    "path": [PathLike()],
    "known": [None, Satisfies(lambda value: isinstance(value, Mapping)
                              and all(isinstance(entry, Mapping) for entry in value.values()),
                              "a dict of file name to a dict of its size, md5 and sha256")],
})
def verify_weights(path, known=None):
    """Check a weights file against the published files by size and checksums.

    The file matches an entry of ``KNOWN_FILES`` when its size (where known)
    and every known checksum (md5, sha256) agree. A file named like a known
    file must match that entry; a file of another name may match any entry
    (a renamed copy).

    Parameters
    ----------
    path : str or path-like
        The weights file.
    known : dict or None, default=None
        The table to check against; None uses ``KNOWN_FILES``.

    Returns
    -------
    name : str
        The key of the matching entry.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If ``path`` or ``known`` is not of its kind (naming it); if the file
        matches no entry: the message gives its size and checksums and how
        to import a file of your own (``verify=False``).

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea.pretrained import verify_weights
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.pth")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"weights")
    >>> table = {"weights.pth": {"size": 7, "md5": "63f4f1e9b725370f459720575cd5f953",
    ...                          "sha256": None}}
    >>> verify_weights(path, known=table)
    'weights.pth'
    """
    known = KNOWN_FILES if known is None else known
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    size = os.path.getsize(path)
    md5, sha256 = _file_hashes(path)

    def matches(entry):
        return (
            (entry.get("size") is None or entry["size"] == size)
            and (entry.get("md5") is None or entry["md5"] == md5)
            and (entry.get("sha256") is None or entry["sha256"] == sha256)
            and any(entry.get(k) is not None for k in ("size", "md5", "sha256"))
        )

    base = os.path.basename(path)
    if base in known:
        if matches(known[base]):
            return base
        candidates = [base]
    else:
        for name, entry in known.items():
            if matches(entry):
                return name
        candidates = list(known)
    expected = "; ".join(
        f"{name}: " + ", ".join(
            f"{k} {known[name][k]}" for k in ("size", "md5", "sha256")
            if known[name].get(k) is not None
        )
        for name in candidates
    )
    raise ValueError(
        f"{path} (size {size} bytes, md5 {md5}, sha256 {sha256}) is not a published DeepSEA "
        f"weights file this version knows ({expected}). If it is damaged, download it again; "
        "if it is a conversion of your own, import it with load_deepsea(..., verify=False) "
        "(skdeepsea import-weights --no-verify)."
    )


def check_finite(path, where, array):
    """Refuse weights holding NaN or inf (a damaged or diverged file), naming the array.

    Parameters
    ----------
    path : str
        The weights file, for the message.
    where : str
        The array's name in the file (a state dict key, ``layer_0/param_0``, a module).
    array : ndarray
        The values.

    Returns
    -------
    array : ndarray
        ``array``, unchanged.
    """
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{path}: {where} holds {int(bad.sum())} NaN or infinite value(s) (the first, "
            f"{array[first]}, at index {first}); a network with them predicts NaN. Download "
            "the file again, or check the conversion that wrote it."
        )
    return array
