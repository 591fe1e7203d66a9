"""The 919 DeepSEA targets: their names (``predictor.names``) and classes.

DeepSEA's outputs come in a fixed order (reference sheet, section 4): 125
DNase I hypersensitivity profiles, then 690 transcription factor (TF)
binding profiles, then 104 histone marks. Their names, ``Cell|Feature|
Treatment`` (e.g. ``GM12878|CTCF|None``), are distributed as a
``predictor.names`` file, one name per line.

:func:`target_indices` is the one lookup of targets by name or index that
every function taking ``targets=`` uses.
"""

import csv
import difflib
import numbers
import os
import re
import typing

import numpy as np

from ._constraints import Options, PathLike, Satisfies, TargetKeys, parameter_constraints
from .exceptions import reading_text

__all__ = [
    "CLASS_RANGES",
    "N_TARGETS",
    "TARGET_CLASSES",
    "class_order",
    "feature_class",
    "read_target_names",
    "target_classes",
    "target_indices",
]

N_TARGETS = 919
TARGET_CLASSES = ("DNase", "TF", "histone")
# Half-open 0-based index ranges of each class in the 919 outputs (columns 1-125, 126-815 and
# 816-919 of the training data, counted from 1).
CLASS_RANGES = {"DNase": (0, 125), "TF": (125, 815), "histone": (815, 919)}

# Histone marks and variants: H2AK5ac, H2BK120ac, H3K4me3, H3K27ac, H4K20me1, H2AZ, H2A.Z, H3.3 ...
_HISTONE = re.compile(r"^H(2A|2B|3|4)(\.?[0-9XZ]|K\d+)", re.IGNORECASE)
_DNASE = re.compile(r"^DNase", re.IGNORECASE)
# Feature fields that say nothing about the class (the released file has one "NA|NA|NA" row).
_UNINFORMATIVE = {"", "NA", "NONE"}


def _names_given(value):
    """A collection of names (a list, an array, a pandas Index): sized, iterable, not a str."""
    return (not isinstance(value, (str, bytes)) and hasattr(value, "__len__")
            and hasattr(value, "__iter__"))


#: A sequence of target names (``target_names`` of :func:`target_indices`, ``names`` of
#: :func:`target_classes`).
NAMES_CONSTRAINT = Satisfies(_names_given, "a sequence of target names (str)")


@parameter_constraints({"path": [PathLike()]})
def read_target_names(path):
    """Read a ``predictor.names`` file: one ``Cell|Feature|Treatment`` per line.

    Lines are taken verbatim (a trailing ``\\r`` or newline removed); empty
    lines at the end of the file are ignored.

    Parameters
    ----------
    path : str or path-like
        The names file, e.g. ``predictor.names`` of the DeepSEA package.

    Returns
    -------
    names : ndarray of str
        One name per line, in file order (919 for the DeepSEA file).

    Raises
    ------
    ValueError
        If ``path`` is not a path (naming it); if a line is empty (before
        the end of the file) or does not have exactly three ``|``-separated
        fields with a non-empty Feature, or the file is not UTF-8 text; the
        message names the file and the line number (the byte offset).

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea.targets import read_target_names
    >>> path = os.path.join(tempfile.mkdtemp(), "predictor.names")
    >>> with open(path, "w") as f:
    ...     _ = f.write("8988T|DNase|None\\nGM12878|CTCF|None\\nK562|H3K4me3|None\\n")
    >>> read_target_names(path).tolist()
    ['8988T|DNase|None', 'GM12878|CTCF|None', 'K562|H3K4me3|None']
    """
    path = os.fspath(path)
    names, blank = [], None
    with open(path, newline="", encoding="utf-8") as f, reading_text(path, "target names"):
        reader = csv.reader(f, delimiter="|", quoting=csv.QUOTE_NONE, strict=True)
        for fields in reader:
            line = reader.line_num
            if not fields or fields == [""]:
                blank = blank or line
                continue
            if blank is not None:
                raise ValueError(
                    f"{path}, line {blank}: empty line among the target names; every line "
                    "must hold one Cell|Feature|Treatment name (the line number is the "
                    "output index + 1)."
                )
            if len(fields) != 3 or not fields[1].strip():
                raise ValueError(
                    f"{path}, line {line}: expected a Cell|Feature|Treatment name (three "
                    f"'|'-separated fields, the Feature not empty), got {'|'.join(fields)!r}."
                )
            names.append("|".join(fields))
    if not names:
        raise ValueError(f"{path} holds no target names.")
    return np.array(names)


@parameter_constraints({"name": [str]})
def feature_class(name):
    """The class a target's name suggests: "DNase", "histone" or "TF".

    The Feature field (the second of ``Cell|Feature|Treatment``, or the whole
    name if it has no ``|``) decides: a name starting with "DNase" is DNase, a
    histone mark or variant (H3K4me3, H2AZ, ...) is histone, anything else TF.

    Parameters
    ----------
    name : str
        Target name.

    Returns
    -------
    cls : {"DNase", "TF", "histone"}

    Raises
    ------
    ValueError
        If ``name`` is not a str.

    Examples
    --------
    >>> from skdeepsea.targets import feature_class
    >>> [feature_class(n) for n in ["HeLa-S3|DNase|None", "K562|H3K27ac|None", "K562|GATA-1|None"]]
    ['DNase', 'histone', 'TF']
    """
    return _feature_class(name)


def _feature_class(name):
    """:func:`feature_class` without its check (target_classes calls it once a name)."""
    feature = _feature(name)
    if _DNASE.match(feature):
        return "DNase"
    if _HISTONE.match(feature):
        return "histone"
    return "TF"


def _feature(name):
    fields = str(name).split("|")
    return (fields[1] if len(fields) > 1 else fields[0]).strip()


@parameter_constraints({"names": [NAMES_CONSTRAINT],
                        "by": [Options(str, ("auto", "position", "name"))]})
def target_classes(names, *, by="auto"):
    """The class of each target: "DNase", "TF" or "histone".

    For DeepSEA's 919 outputs the class follows from the position (125
    DNase, 690 TF, 104 histone, in that order); each name is checked against
    its position, so a names file in another order is caught. For any other
    number of targets the class comes from the name (see
    :func:`feature_class`).

    Parameters
    ----------
    names : sequence of str
        Target names, e.g. from :func:`read_target_names` or a fitted
        estimator's ``target_names_``.
    by : {"auto", "position", "name"}, default="auto"
        "position" (919 names only), "name", or "auto": position for 919
        names, name otherwise.

    Returns
    -------
    classes : ndarray of str
        One of ``TARGET_CLASSES`` per target.

    Raises
    ------
    ValueError
        ``"target_classes: <name> must be ..., got <value>."`` for ``names``
        that are not a sequence or a ``by`` not of the options; if
        ``by="position"`` and there are not 919 names, or a name's Feature
        (DNase, a histone mark, a TF) contradicts its position; the message
        names the first such target by index and line of ``predictor.names``.

    Examples
    --------
    >>> from skdeepsea.targets import target_classes
    >>> names = ["c|DNase|None"] * 125 + ["c|CTCF|None"] * 690 + ["c|H3K4me3|None"] * 104
    >>> classes = target_classes(names)
    >>> [int((classes == c).sum()) for c in ("DNase", "TF", "histone")]
    [125, 690, 104]
    >>> target_classes(["GM12878|CTCF|None", "K562|H3K9ac|None"]).tolist()
    ['TF', 'histone']
    """
    names = [str(n) for n in np.asarray(names, dtype=object).ravel()]
    if by == "name" or (by == "auto" and len(names) != N_TARGETS):
        return np.array([_feature_class(n) for n in names], dtype="<U7")
    if len(names) != N_TARGETS:
        raise ValueError(
            f"by='position' needs DeepSEA's {N_TARGETS} targets in their published order; "
            f"got {len(names)} names."
        )
    classes = np.empty(N_TARGETS, dtype="<U7")
    for cls, (start, stop) in CLASS_RANGES.items():
        classes[start:stop] = cls
    for i, (name, cls) in enumerate(zip(names, classes)):
        if _feature(name).upper() in _UNINFORMATIVE:
            continue
        suggested = _feature_class(name)
        if suggested != cls:
            raise ValueError(
                f"Target {i} ({name!r}, line {i + 1} of predictor.names) is named like a "
                f"{suggested} profile but sits among DeepSEA's {cls} outputs (indices "
                f"{CLASS_RANGES[cls][0]}-{CLASS_RANGES[cls][1] - 1}): these names are not in "
                "DeepSEA's order. Pass by='name' to classify by name alone."
            )
    return classes


@parameter_constraints({"classes": [Satisfies(
    lambda value: not isinstance(value, (str, bytes)) and hasattr(value, "__iter__"),
    "an iterable of class names (str or None)")]})
def class_order(classes):
    """The distinct classes among ``classes``, in the order tables and plots show them.

    DNase, TF and histone first (:data:`TARGET_CLASSES`), then any other
    class in alphabetical order; missing values (None, NaN) are left out.

    Parameters
    ----------
    classes : iterable of str or None
        One class per target, e.g. the ``class`` column of an evaluation
        table.

    Returns
    -------
    order : list of str
        Each class present once.

    Raises
    ------
    ValueError
        If ``classes`` is a single str or not iterable.

    Examples
    --------
    >>> from skdeepsea.targets import class_order
    >>> class_order(["histone", "TF", None, "RNA", "TF", "DNase"])
    ['DNase', 'TF', 'histone', 'RNA']
    """
    present = {c for c in classes if isinstance(c, str)}
    return [c for c in TARGET_CLASSES if c in present] + sorted(present - set(TARGET_CLASSES))


class OutputColumns(typing.NamedTuple):
    """Output columns of a fitted network, as ``DeepSEAClassifier.output_columns`` gives them.

    Parameters
    ----------
    indices : ndarray of int
        Columns of the network's output.
    names : list of str
        Their names, all different.
    """

    indices: np.ndarray
    names: list


def unique_target_names(target_names):
    """Target names made unique the way pandas names repeated columns.

    DeepSEA's ``predictor.names`` repeats 54 names (129 targets: one feature
    in one cell profiled by several labs). A name's second occurrence
    becomes ``<name>.1``, its third ``<name>.2``, and so on (skipping any
    suffix that is itself a target's name), so that every output column of
    a target is named once; the first occurrence keeps its name.

    Parameters
    ----------
    target_names : sequence of str
        Target names, in output order.

    Returns
    -------
    names : list of str
        As many names, all different.

    Examples
    --------
    >>> from skdeepsea.targets import unique_target_names
    >>> unique_target_names(["K562|CTCF|None", "HeLa|CTCF|None", "K562|CTCF|None"])
    ['K562|CTCF|None', 'HeLa|CTCF|None', 'K562|CTCF|None.1']
    """
    names = [str(name) for name in target_names]
    taken, unique = set(names), []
    seen = set()
    for name in names:
        candidate, k = name, 0
        while candidate in seen or (k and candidate in taken):
            k += 1
            candidate = f"{name}.{k}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


@parameter_constraints({"target_names": [NAMES_CONSTRAINT], "keys": [None, TargetKeys()],
                        "what": [str]})
def target_indices(target_names, keys=None, *, what="target"):
    """Positions of targets chosen by name or by index.

    Parameters
    ----------
    target_names : sequence of str
        The names of all targets, in output order (a fitted estimator's
        ``target_names_``).
    keys : str, int, sequence of str or int, or None, default=None
        Targets to choose: names, integer indices (negative ones count from
        the end, as in Python), a mix of both, or a single one; None chooses
        all, in order.
    what : str, default="target"
        What the names name, for error messages ("filter" for filters).

    Returns
    -------
    indices : list of int
        One index in ``range(len(target_names))`` per key, in the order of
        ``keys``.

    Raises
    ------
    ValueError
        ``"target_indices: <name> must be ..., got <value>."`` for a
        parameter of the wrong type (a key neither a str nor an integer
        included); if ``keys`` is empty, a name is not among
        ``target_names`` (the message suggests the closest names) or an
        index is out of range.

    Examples
    --------
    >>> from skdeepsea.targets import target_indices
    >>> names = ["K562|CTCF|None", "K562|DNase|None", "HeLa-S3|CTCF|None"]
    >>> target_indices(names, ["HeLa-S3|CTCF|None", 0, -2])
    [2, 0, 1]
    >>> target_indices(names, "K562|DNase|None"), target_indices(names)
    ([1], [0, 1, 2])
    >>> target_indices(names, ["K562|CTCF"])
    Traceback (most recent call last):
    ...
    ValueError: Unknown target 'K562|CTCF'; did you mean 'K562|CTCF|None'?
    """
    names = [str(name) for name in target_names]
    n = len(names)
    if keys is None:
        return list(range(n))
    if isinstance(keys, (str, numbers.Integral)):
        keys = [keys]
    keys = list(keys)
    if not keys:
        raise ValueError(f"No {what}s chosen (an empty list): give at least one name or index, "
                         f"or None for all {n}.")
    first = {}
    for i, name in enumerate(names):
        first.setdefault(name, i)
    indices = []
    for key in keys:
        if isinstance(key, str):
            if key not in first:
                close = difflib.get_close_matches(key, names, n=3, cutoff=0.6)
                hint = (f"did you mean {', '.join(map(repr, close))}?" if close else
                        f"the {n} {what}s are {', '.join(map(repr, names[:5]))}"
                        f"{', ...' if n > 5 else ''}.")
                raise ValueError(f"Unknown {what} {key!r}; {hint}")
            indices.append(first[key])
        else:  # an integer: the constraint took nothing else
            if not -n <= key < n:
                raise ValueError(f"{what.capitalize()} index {key} is out of range: there are "
                                 f"{n} {what}s.")
            indices.append(int(key) % n)
    return indices
