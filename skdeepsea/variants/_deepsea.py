"""DeepSEA v0.94's published backgrounds and variant classifiers, read from its package folder.

The DeepSEA v0.94 package (a public copy: github henneberger/DeepSEA) ships what its last step,
``3_h5ToOutput.py``, needs besides the network:

- ``resources/predictor.names``: the 919 targets, the order of every column below;
- ``resources/ecdfs/ecdf_difflogdiff.rescaled.pkl`` (and ``.af.pkl``, ``.af0dot1.pkl``): one
  statsmodels ``ECDF`` per target of ``|diff x logfc|`` over 1000 Genomes SNPs, and
  ``resources/ecdfs/allevos_ecdf.pkl``: ECDFs of the conservation scores. Python 2 joblib
  pickles whose arrays lie in ``<name>.pkl_NN.npy`` files beside them;
- ``logistic/final_{eqtl,gwas,hgmd}.model.txt`` (intercept, then one coefficient per feature)
  with ``_scaler.mean.txt`` / ``_scaler.std.txt``: three logistic regressions on the
  standardised ``|[logfc (919), diff (919), conservation (4)]|``.

The pickles are read by a restricted unpickler that builds nothing but placeholders of the three
classes these files name; any other global is refused before anything runs. Neither statsmodels
nor joblib is needed.
"""

import pickle
from pathlib import Path

import numpy as np

from .._constraints import PathLike, Satisfies, parameter_constraints
from ..exceptions import DamagedFileError, damaged
from ..targets import read_target_names, unique_target_names
from ._conservation import CONSERVATION_FEATURES

__all__ = [
    "CLASSIFIERS",
    "deepsea_feature_names",
    "deepsea_target_names",
    "load_deepsea_classifiers",
]

#: DeepSEA's variant classifiers, as ``logistic/final_<name>.model.txt`` names them.
CLASSIFIERS = ("eqtl", "gwas", "hgmd")

# The ECDF file of each background, and the entries used (None: all, one per target).
# ``evoevalues.production.py`` evaluates allevos_ecdf.pkl's entries 0, 3, 6 and 7 on its
# columns phastCons, phyloP, GERP neutral rate and GERP RS, in that order.
BACKGROUNDS = {
    "1000g": ("ecdf_difflogdiff.rescaled.pkl", None),
    "1000g-af": ("ecdf_difflogdiff.rescaled.af.pkl", None),
    "1000g-af0.1": ("ecdf_difflogdiff.rescaled.af0dot1.pkl", None),
    "conservation": ("allevos_ecdf.pkl", (0, 3, 6, 7)),
}

_NAMES = Path("resources", "predictor.names")
_ECDFS = Path("resources", "ecdfs")
_LOGISTIC = Path("logistic")
_LAYOUT = (
    "expected DeepSEA v0.94's package folder (github henneberger/DeepSEA) holding "
    "resources/predictor.names, resources/ecdfs/<name>.pkl with its <name>.pkl_NN.npy arrays, and "
    "logistic/final_<eqtl|gwas|hgmd>.model.txt, _scaler.mean.txt and _scaler.std.txt"
)


_FOLDER = {"folder": [PathLike()]}


def _is_name_list(value):
    """A sequence (list, tuple, 1-D array, pandas.Index) of str."""
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        return False
    try:
        return np.ndim(value) == 1 and all(isinstance(name, str) for name in value)
    except (TypeError, ValueError):
        return False


def _resource(folder, relative):
    """``folder / relative``, or a FileNotFoundError naming the missing file and the layout."""
    folder = Path(folder)
    path = folder / relative
    if not path.is_file():
        where = "no such folder" if not folder.is_dir() else f"no {relative.as_posix()}"
        raise FileNotFoundError(f"{folder}: {where}; {_LAYOUT}.")
    return path


@parameter_constraints(_FOLDER)
def deepsea_target_names(folder):
    """The 919 target names of DeepSEA's package folder, in its order.

    Parameters
    ----------
    folder : str or path-like
        DeepSEA v0.94's package folder (holding ``resources/predictor.names``).

    Returns
    -------
    names : ndarray of str
        ``Cell|Feature|Treatment`` per target, the column order of DeepSEA's
        ECDFs and classifiers.

    Raises
    ------
    FileNotFoundError
        If the folder has no ``resources/predictor.names``.
    ValueError
        If ``folder`` is not a path.

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea.variants import deepsea_target_names
    >>> folder = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(folder, "resources"))
    >>> with open(os.path.join(folder, "resources", "predictor.names"), "w") as f:
    ...     _ = f.write("8988T|DNase|None\\nGM12878|CTCF|None\\n")
    >>> deepsea_target_names(folder).tolist()
    ['8988T|DNase|None', 'GM12878|CTCF|None']
    """
    return read_target_names(_resource(folder, _NAMES))


@parameter_constraints({"target_names": [Satisfies(_is_name_list, "a list of str")]})
def deepsea_feature_names(target_names):
    """The names of DeepSEA's classifier features, in its column order.

    ``abs_logfc:<target>`` for every target, then ``abs_diff:<target>``,
    then ``abs_conservation:<score>`` for the four scores of
    :data:`CONSERVATION_FEATURES`: the ``|[logfc, diff, conservation]|``
    that ``3_h5ToOutput.py`` standardises. DeepSEA's ``predictor.names``
    repeats 54 names (129 targets: profiles of one feature in one cell from
    several labs); a repeated target is named as the score columns name it
    (:func:`skdeepsea.targets.unique_target_names`): ``<target>.1``,
    ``<target>.2``, ... after its first occurrence.

    Parameters
    ----------
    target_names : sequence of str
        The targets, in order (DeepSEA's: :func:`deepsea_target_names`).

    Returns
    -------
    names : ndarray of object
        ``2 * len(target_names) + 4`` unique names.

    Raises
    ------
    ValueError
        If ``target_names`` is not a sequence of str (a single str, say).

    Examples
    --------
    >>> from skdeepsea.variants import deepsea_feature_names
    >>> deepsea_feature_names(["K562|CTCF|None", "K562|CTCF|None"]).tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    ['abs_logfc:K562|CTCF|None', 'abs_logfc:K562|CTCF|None.1', 'abs_diff:K562|CTCF|None',
     'abs_diff:K562|CTCF|None.1', 'abs_conservation:phastCons', 'abs_conservation:phyloP',
     'abs_conservation:GERP_neutral', 'abs_conservation:GERP_RS']
    """
    targets = unique_target_names(target_names)
    return np.array([f"abs_logfc:{t}" for t in targets] + [f"abs_diff:{t}" for t in targets]
                    + [f"abs_conservation:{k}" for k in CONSERVATION_FEATURES], dtype=object)


# ---------------------------------------------------------------------------- the ECDF pickles


class _NdarrayClass:
    """Stands for ``numpy.ndarray``, which the pickles name as NDArrayWrapper's subclass."""


class _Stored:
    """An object of the pickle kept as the state its BUILD gives it (nothing of it runs)."""

    __slots__ = ("state",)

    def __setstate__(self, state):
        self.state = state


class _ECDF(_Stored):
    """Stands for ``statsmodels.distributions.empirical_distribution.ECDF``."""

    __slots__ = ()


class _ArrayFile(_Stored):
    """Stands for ``joblib.numpy_pickle.NDArrayWrapper``: an array kept in a ``.npy`` file."""

    __slots__ = ()


_ALLOWED = {
    ("statsmodels.distributions.empirical_distribution", "ECDF"): _ECDF,
    ("joblib.numpy_pickle", "NDArrayWrapper"): _ArrayFile,
    ("numpy", "ndarray"): _NdarrayClass,
}


class _ECDFUnpickler(pickle.Unpickler):
    """Unpickles DeepSEA's ECDF files into placeholders; any other global is refused."""

    def __init__(self, file, path):
        # Python 2's str (SHORT_BINSTRING) as text: the files hold ASCII keys and file names.
        super().__init__(file, encoding="latin1")
        self.path = path

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        raise DamagedFileError(
            f"{self.path}: refused: the pickle names the global '{module} {name}', not one of the "
            "classes of DeepSEA's ECDF files (statsmodels ECDF, joblib NDArrayWrapper, numpy "
            "ndarray); nothing of it was run."
        )

    def persistent_load(self, pid):
        raise DamagedFileError(f"{self.path}: refused: the pickle holds a persistent reference, "
                               "which DeepSEA's ECDF files do not.")


def _array(path, wrapper, where):
    """The float64 vector of an NDArrayWrapper's ``.npy`` file beside ``path``."""
    state = wrapper.state if isinstance(wrapper, _ArrayFile) else None
    if (not isinstance(state, dict) or state.get("subclass") is not _NdarrayClass
            or not isinstance(state.get("filename"), str)
            or not set(state) <= {"subclass", "filename", "allow_mmap"}):
        raise DamagedFileError(f"{path}: {where} is not a joblib NDArrayWrapper of a numpy "
                               "ndarray in a .npy file.")
    name = state["filename"]
    if name in ("", ".", "..") or Path(name).name != name or "\\" in name:
        raise DamagedFileError(f"{path}: {where} names the array file {name!r}, which is not a "
                               "file beside it.")
    npy = path.parent / name
    try:
        values = np.load(npy, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"{npy}: no such file; {path} keeps {where} in it.") from None
    except (OSError, ValueError, EOFError) as error:
        raise damaged(npy, "NumPy .npy array", error) from None
    if values.ndim != 1 or values.dtype.kind not in "fiu":
        raise DamagedFileError(f"{npy}: {where} must be a vector of numbers, got "
                               f"{values.dtype} of shape {values.shape}.")
    return values.astype(np.float64, copy=False)


def _ecdf(path, index, ecdf):
    """(sorted data, y, side) of one unpickled ECDF, checked."""
    where = f"ECDF {index}"
    state = ecdf.state if isinstance(ecdf, _ECDF) else None
    if not isinstance(state, dict) or set(state) != {"x", "y", "side", "n"}:
        raise DamagedFileError(f"{path}: {where} is not a statsmodels ECDF (its state must be "
                               "x, y, side and n).")
    x = _array(path, state["x"], f"{where}'s x")
    y = _array(path, state["y"], f"{where}'s y")
    side, n = state["side"], state["n"]
    if side not in ("left", "right"):
        raise DamagedFileError(f"{path}: {where} has side {side!r}; expected 'left' or 'right'.")
    if not isinstance(n, int) or n < 1 or len(x) != n or len(y) != n:
        raise DamagedFileError(f"{path}: {where} has n={n!r} with {len(x)} x and {len(y)} y "
                               "values; all three must agree.")
    if x[0] != -np.inf or (n > 1 and x[1] == -np.inf) or not np.all(x[1:] >= x[:-1]):  # and NaN
        raise DamagedFileError(f"{path}: {where}'s x must be -inf, then ascending data (no "
                               "-inf, no NaN).")
    if y[0] != 0 or not np.all(y[1:] >= y[:-1]) or y[-1] > 1:
        raise DamagedFileError(f"{path}: {where}'s y must start at 0 and ascend to at most 1 "
                               "(no NaN).")
    return x[1:], y, side


def read_ecdfs(path):
    """The ECDFs of one of DeepSEA's joblib pickles, as (sorted data, y, side) each.

    Statsmodels' ECDF at ``t`` is ``y[searchsorted(x, t, side) - 1]`` with
    ``x = r_[-inf, data]``; ``y[k]`` is then the ECDF after ``k`` data
    points (DeepSEA's "rescaled" files keep quantiles of a larger sample, so
    ``y`` is not ``k / n``).

    Parameters
    ----------
    path : path-like
        The ``.pkl`` file; its ``.npy`` arrays lie beside it.

    Returns
    -------
    ecdfs : list of tuple of (ndarray, ndarray, str)
        Per ECDF: the data without the leading ``-inf``, ``y`` (one longer)
        and ``side``.

    Raises
    ------
    DamagedFileError
        If the pickle is damaged, names any global but the three classes
        these files hold (refused before anything runs), or its arrays are
        damaged or inconsistent.
    FileNotFoundError
        If an array file is missing.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            loaded = _ECDFUnpickler(f, path).load()
    except DamagedFileError:
        raise
    except Exception as error:  # a parser of untrusted bytes: any failure is a damaged file
        raise damaged(path, "joblib pickle of statsmodels ECDFs", error) from None
    if not isinstance(loaded, list) or not loaded:
        raise DamagedFileError(f"{path}: expected a list of statsmodels ECDFs, got "
                               f"{type(loaded).__name__}.")
    return [_ecdf(path, i, ecdf) for i, ecdf in enumerate(loaded)]


def read_background(folder, background):
    """One of DeepSEA's published backgrounds: names, data, y and side of its ECDFs.

    Parameters
    ----------
    folder : path-like
        DeepSEA v0.94's package folder.
    background : {"1000g", "1000g-af", "1000g-af0.1", "conservation"}
        See :meth:`EValueTransformer.from_deepsea`.

    Returns
    -------
    names : ndarray of str
        The targets (``resources/predictor.names``), or
        :data:`CONSERVATION_FEATURES`.
    data, y : list of ndarray
        Per name, the ECDF's sorted data and its values (one longer).
    side : {"left", "right"}
        The side of every ECDF of the file.
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"background={background!r}: expected one of "
                         f"{', '.join(map(repr, BACKGROUNDS))}.")
    filename, entries = BACKGROUNDS[background]
    path = _resource(folder, _ECDFS / filename)
    ecdfs = read_ecdfs(path)
    if entries is None:
        names = deepsea_target_names(folder)
        if len(names) != len(ecdfs):
            raise ValueError(f"{path} holds {len(ecdfs)} ECDFs but {Path(folder) / _NAMES} names "
                             f"{len(names)} targets; they must be one per target.")
    else:
        if len(ecdfs) <= max(entries):
            raise DamagedFileError(f"{path} holds {len(ecdfs)} ECDFs; DeepSEA uses its entries "
                                   f"{', '.join(map(str, entries))}.")
        names, ecdfs = np.array(CONSERVATION_FEATURES), [ecdfs[i] for i in entries]
    sides = {side for _, _, side in ecdfs}
    if len(sides) > 1:
        raise DamagedFileError(f"{path}: its ECDFs mix the sides 'left' and 'right'.")
    return names, [d for d, _, _ in ecdfs], [y for _, y, _ in ecdfs], sides.pop()


# ---------------------------------------------------------------------------- the classifiers


def _numbers(folder, relative, expected, what):
    """The numbers of a one-number-per-line text file, checked: as many as expected, finite."""
    path = _resource(folder, relative)
    try:
        values = np.loadtxt(path, dtype=np.float64, ndmin=1)
    except ValueError as error:
        raise damaged(path, "a column of numbers", error) from None
    if values.ndim != 1 or len(values) != expected:
        raise ValueError(f"{path} holds {values.size} numbers; expected {expected} ({what}).")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise ValueError(f"{path}: number {bad[0] + 1} is {values[bad[0]]}; all must be finite.")
    return values


def _pipeline(folder, name, feature_names):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    n = len(feature_names)  # the names, for messages
    t = (n - len(CONSERVATION_FEATURES)) // 2
    features = f"{t} logfc, {t} diff and {len(CONSERVATION_FEATURES)} conservation features"
    model = _numbers(folder, _LOGISTIC / f"final_{name}.model.txt", n + 1,
                     f"the intercept, then one coefficient per feature: {features}")
    mean = _numbers(folder, _LOGISTIC / f"final_{name}_scaler.mean.txt", n, features)
    std = _numbers(folder, _LOGISTIC / f"final_{name}_scaler.std.txt", n, features)
    if np.any(std <= 0):
        j = int(np.flatnonzero(std <= 0)[0])
        raise ValueError(
            f"{Path(folder) / _LOGISTIC / f'final_{name}_scaler.std.txt'}: the standard deviation "
            f"of feature {j + 1} ({feature_names[j]}) is {std[j]}; DeepSEA divides by it, so "
            "its probabilities would be infinite or NaN.")
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_, scaler.var_ = mean, std, std**2
    scaler.n_features_in_, scaler.n_samples_seen_ = n, 0
    logistic = LogisticRegression()
    logistic.coef_, logistic.intercept_ = model[None, 1:], model[:1]
    logistic.classes_, logistic.n_features_in_ = np.array([0, 1]), n
    return Pipeline([("scaler", scaler), ("logistic", logistic)])


@parameter_constraints(_FOLDER)
def load_deepsea_classifiers(folder):
    """DeepSEA's eQTL, GWAS and HGMD variant classifiers as fitted scikit-learn Pipelines.

    Each is ``Pipeline([("scaler", StandardScaler()), ("logistic",
    LogisticRegression())])`` with the scaler's ``mean_`` and ``scale_``
    from ``logistic/final_<name>_scaler.mean.txt`` / ``.std.txt`` and the
    regression's ``intercept_`` and ``coef_`` from
    ``logistic/final_<name>.model.txt`` (the intercept, then one coefficient
    per feature). ``predict_proba(F)[:, 1]`` is DeepSEA v0.94's probability
    (``3_h5ToOutput.py``): ``1 / (1 + exp(-(((|F| - mean) / std) . coef +
    intercept)))``.

    Parameters
    ----------
    folder : str or path-like
        DeepSEA v0.94's package folder: ``resources/predictor.names`` and
        ``logistic/``.

    Returns
    -------
    classifiers : dict of str to sklearn.pipeline.Pipeline
        ``"eqtl"``, ``"gwas"`` and ``"hgmd"`` (:data:`CLASSIFIERS`). Their
        input is the feature matrix of shape ``(n_variants, 2 * n_targets +
        4)``, already absolute: ``|logfc|`` for the targets in DeepSEA's
        order, ``|diff|`` likewise, then ``|conservation|`` in the order of
        :data:`CONSERVATION_FEATURES` (DeepSEA takes the absolute value
        itself; the pipelines do not): the columns named by
        :func:`deepsea_feature_names`, which :class:`VariantFeatures`
        computes. The columns are taken by position (the pipelines have no
        ``feature_names_in_``), so they must come in DeepSEA's target order.
        The files do not say how many variants trained them:
        ``n_samples_seen_`` is 0.

    Raises
    ------
    FileNotFoundError
        If a file is missing (the message names it and the folder layout).
    ValueError
        If ``folder`` is not a path; if a file holds another count of numbers
        than the targets of ``predictor.names`` need, a number that is not
        finite, or a standard deviation of 0 or less (DeepSEA would divide by
        it).

    See Also
    --------
    deepsea_feature_names : The column names of the features.
    EValueTransformer.from_deepsea : DeepSEA's e-value backgrounds.

    Examples
    --------
    Files in DeepSEA's layout for one target (2 + 4 features):

    >>> import os, tempfile
    >>> import numpy as np
    >>> from skdeepsea.variants import load_deepsea_classifiers
    >>> folder = tempfile.mkdtemp()
    >>> for sub in ("resources", "logistic"):
    ...     os.makedirs(os.path.join(folder, sub))
    >>> with open(os.path.join(folder, "resources", "predictor.names"), "w") as f:
    ...     _ = f.write("K562|CTCF|None\\n")
    >>> for name in ("eqtl", "gwas", "hgmd"):
    ...     path = os.path.join(folder, "logistic", f"final_{name}")
    ...     np.savetxt(path + ".model.txt", [0.5, 1.0, -1.0, 0.0, 0.0, 0.0, 2.0])
    ...     np.savetxt(path + "_scaler.mean.txt", np.zeros(6))
    ...     np.savetxt(path + "_scaler.std.txt", np.ones(6))
    >>> classifiers = load_deepsea_classifiers(folder)
    >>> F = np.array([[0.0, 2.0, 0.0, 0.0, 0.0, 1.0]])  # |logfc|, |diff|, |conservation| x 4
    >>> classifiers["eqtl"].predict_proba(F)[:, 1].round(4)  # 1 / (1 + exp(-(0.5 - 2 + 2)))
    array([0.6225])
    """
    feature_names = deepsea_feature_names(deepsea_target_names(folder))
    return {name: _pipeline(folder, name, feature_names) for name in CLASSIFIERS}
