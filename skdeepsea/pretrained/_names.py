"""The target names of an imported network: given, read from a file, or found beside the weights."""

import os

import numpy as np

from ..exceptions import reading_text, warn
from ..targets import read_target_names

NAMES_FILE = "predictor.names"
KIPOI_NAMES_FILE = "predictor_names.txt"  # Kipoi's Beluga names, one per line


def _read_names(path):
    """A names file: ``predictor.names`` (Cell|Feature|Treatment, checked), or one name a line.

    Kipoi's Beluga names (``predictor_names.txt``) join the fields with
    underscores; a file whose first line has no ``|`` is read line by line.
    """
    with open(path, encoding="utf-8") as f, reading_text(path, "target names"):
        first = f.readline()
    if "|" in first:
        return read_target_names(path)
    with open(path, encoding="utf-8") as f, reading_text(path, "target names"):
        names = [line.rstrip("\r\n") for line in f]
    while names and not names[-1]:
        names.pop()
    for number, name in enumerate(names, start=1):
        if not name:
            raise ValueError(f"{os.fspath(path)}, line {number}: empty line among the target names.")
    return np.array(names)


def _resolve_names(target_names, path, n_outputs):
    """The names of the ``n_outputs`` outputs of the network in ``path``, as an importer was given them.

    A file or path-like is read, a sequence taken as the names; None looks for
    ``predictor.names`` (or ``predictor_names.txt``) beside ``path`` and else
    names the outputs ``target_0``, ... with a warning (at the importer's caller).
    """
    if target_names is None:
        folder = os.path.dirname(os.path.abspath(path))
        beside = [os.path.join(folder, name) for name in (NAMES_FILE, KIPOI_NAMES_FILE)]
        beside = [name for name in beside if os.path.isfile(name)]
        if beside:
            target_names = beside[0]
        else:
            warn(
                f"No target names given and no {NAMES_FILE} (or {KIPOI_NAMES_FILE}) beside "
                f"{path}: the outputs are named "
                "target_0, target_1, ... Pass target_names= (the predictor.names file) to name "
                "them."
            )
            return np.array([f"target_{i}" for i in range(n_outputs)])
    if isinstance(target_names, (str, os.PathLike)):
        names = _read_names(target_names)
        source = os.fspath(target_names)
    else:
        names = np.array([str(n) for n in target_names])
        source = "target_names"
    if len(names) != n_outputs:
        raise ValueError(
            f"{source} has {len(names)} names but the network in {path} has {n_outputs} outputs."
        )
    return names
