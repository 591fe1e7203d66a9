"""DeepSEA's variant features as a scikit-learn transformer, for classifiers of variants."""

import os
import threading
import weakref

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._constraints import Boolean, validate_params
from ._api import WRITE_CONSTRAINTS
from ._scoring import INFO_COLUMNS, ModelTargets, column_name
from ._deepsea import deepsea_feature_names
from ._significance import VariantSignificance, feature_matrix, imputed_conservation

_KEY_COLUMNS = ["chrom", "pos", "ref", "alt"]

# Scores of variants, per fitted model (weakly: they go with it) and per (genome, method):
# every clone of a VariantFeatures made by GridSearchCV or cross_val_score shares them.
_SCORE_CACHE = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()
# Models given as files, loaded once per file version.
_LOADED_MODELS = {}


class VariantFeatures(TransformerMixin, BaseEstimator):
    """Variants to DeepSEA's classifier features ``|[logfc, diff, conservation]|``.

    DeepSEA's variant classifiers (eQTL, GWAS and HGMD variants) are
    logistic regressions on the absolute strand-averaged ``logfc`` and
    ``diff`` of every target and four conservation scores at the variant.
    This transformer computes that matrix from variants with a fitted model
    and a genome, so that a scikit-learn classifier of your own labelled
    variants is a Pipeline: ``make_pipeline(VariantFeatures(model, genome),
    StandardScaler(), LogisticRegression())``, tuned with ``GridSearchCV``.

    Each variant is scored once per model, genome and ``method``: the
    scores are kept in memory with the model (``cache=True``), and every
    clone that a grid search or cross-validation makes of this transformer
    shares them, so a grid of 20 settings scores the variants once, not 20
    times. The model is not cloned either (it is fitted; the transformer
    fits nothing), whatever scikit-learn clones.

    Parameters
    ----------
    model : DeepSEAClassifier, str or path-like
        A fitted classifier of one-hot DNA, or the file of one
        (:func:`skdeepsea.load`).
    genome : Genome, str or path-like
        The reference genome (FASTA).
    conservation : ConservationScores or None, default=None
        Conservation score files. None gives every variant DeepSEA's imputed
        values (``0.115, -0.033, 1.909, -0.200``), as DeepSEA does without
        them: the four columns are then constant.
    batch_size : int or None, default=None
        Sequences per forward pass (None: the model's).
    method : {"auto", "naive", "fast", "device"}, default="auto"
        How SNVs are scored (see :func:`score_variants`).
    cache : bool, default=True
        Keep each variant's scores with the model for later calls.

    Attributes
    ----------
    target_names_ : ndarray of str
        The model's targets.
    feature_names_out_ : ndarray of str
        ``abs_logfc:<target>`` for each target, ``abs_diff:<target>``, then
        ``abs_conservation:<feature>`` for phastCons, phyloP, GERP_neutral
        and GERP_RS (:func:`deepsea_feature_names`: a repeated target name
        gets ``.1``, ``.2``, ... as pandas names repeated columns).
    n_features_out_ : int
        ``2 * n_targets + 4`` (1,842 for DeepSEA's 919 targets).

    See Also
    --------
    load_deepsea_classifiers : DeepSEA's three classifiers of this matrix.
    VariantSignificance : The same features and classifiers inside variant scoring.

    Notes
    -----
    ``transform`` takes a DataFrame of variants (chrom, pos (1-based), ref,
    alt: one ALT allele a row; a row per sample, as cross-validation splits
    them), the output of :func:`score_variants` (its ``logfc:<target>`` and
    ``diff:<target>`` columns are used, nothing is scored), or a VCF file
    (one row per ALT allele). A variant that cannot be scored (REF not
    matching the genome, a window past a contig's end) gives a row of NaN:
    ``HistGradientBoostingClassifier`` takes it, a logistic regression does
    not, so drop such variants first (``score_variants``' ``scored``
    column says which). The cache is per process: with ``n_jobs`` in
    ``GridSearchCV``, each worker process scores the variants once; or call
    ``fit_transform`` once and tune the classifier on the matrix.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skdeepsea.variants import VariantFeatures
    >>> pipe = make_pipeline(VariantFeatures("model.skdeepsea", "hg19.fa"), StandardScaler(),
    ...                      LogisticRegression(max_iter=1000))
    >>> search = GridSearchCV(pipe, {"logisticregression__C": [0.01, 0.1, 1.0]},
    ...                       scoring="roc_auc")
    >>> search.fit(variants, labels)  # doctest: +SKIP
    """

    # As score_variants' (a saved model's path too), and the conservation of VariantSignificance.
    _parameter_constraints = {
        **{name: WRITE_CONSTRAINTS[name] for name in ("model", "genome", "batch_size", "method")},
        "conservation": VariantSignificance._parameter_constraints["conservation"],
        "cache": [Boolean()],
    }

    def __init__(self, model, genome, *, conservation=None, batch_size=None, method="auto",
                 cache=True):
        self.model = model
        self.genome = genome
        self.conservation = conservation
        self.batch_size = batch_size
        self.method = method
        self.cache = cache

    def __sklearn_clone__(self):
        # The model is fitted and the transformer fits nothing: a clone shares the
        # model (and so its cached scores) instead of an unfitted copy of it.
        return type(self)(**self.get_params(deep=False))

    def _fitted_model(self):
        if not isinstance(self.model, (str, os.PathLike)):
            return self.model
        path = os.path.abspath(os.fspath(self.model))
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size)
        with _CACHE_LOCK:
            if key not in _LOADED_MODELS:
                from ..pretrained import load_model_file

                _LOADED_MODELS.clear()
                _LOADED_MODELS[key] = load_model_file(path)
            return _LOADED_MODELS[key]

    def fit(self, X=None, y=None):
        """Check the parameters and record the model's targets; nothing is trained.

        Parameters
        ----------
        X : object, default=None
            Ignored: the features need no fitting.
        y : object, default=None
            Ignored.

        Returns
        -------
        self : VariantFeatures
        """
        validate_params(self._parameter_constraints, self.get_params(deep=False),
                        "VariantFeatures")
        names = ModelTargets(self._fitted_model()).names
        self.target_names_ = np.array(names, dtype=object)
        self.feature_names_out_ = deepsea_feature_names(names)
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def get_feature_names_out(self, input_features=None):
        """The names of the output columns (see ``feature_names_out_``).

        Parameters
        ----------
        input_features : object, default=None
            Ignored: the names come from the model's targets.

        Returns
        -------
        names : ndarray of str
        """
        check_is_fitted(self, "feature_names_out_")
        return self.feature_names_out_.copy()

    def transform(self, X):
        """The feature matrix of variants.

        Parameters
        ----------
        X : pandas.DataFrame, str or path-like
            Variants (chrom, pos, ref, alt; one ALT allele a row), the output
            of :func:`score_variants`, or a VCF file.

        Returns
        -------
        features : ndarray of shape (n_variants, 2 * n_targets + 4)
            ``|[logfc, diff, conservation]|``, float64; NaN rows for
            variants that could not be scored.
        """
        check_is_fitted(self, "feature_names_out_")
        names = list(self.target_names_)
        if isinstance(X, pd.DataFrame) and column_name("logfc", names[0]) in X.columns:
            variants = X
            logfc, diff = (_score_block(X, score, names) for score in ("logfc", "diff"))
        else:
            variants = _variant_table(X)
            logfc, diff = self._scores(variants, names)
        conservation, _ = imputed_conservation(self.conservation, variants["chrom"].to_numpy(),
                                               variants["pos"].to_numpy())
        return feature_matrix(logfc, diff, conservation)

    def _scores(self, variants, names):
        """The (logfc, diff) rows of each variant: from the cache, the others scored once."""
        model = self._fitted_model()
        keys = list(zip(variants["chrom"].astype(str), variants["pos"].astype(int),
                        variants["ref"].str.upper(), variants["alt"].str.upper()))
        store = {}
        if self.cache:
            genome = os.path.abspath(getattr(self.genome, "path", None) or
                                     os.fspath(self.genome))
            with _CACHE_LOCK:
                store = _SCORE_CACHE.setdefault(model, {}).setdefault(
                    (genome, self.method), {})
        missing = list(dict.fromkeys(k for k in keys if k not in store))
        if missing:
            store.update(self._score(model, missing, names))
        rows = [store[k] for k in keys]
        if not self.cache:
            store.clear()
        T = len(names)
        block = np.array(rows, dtype=np.float64).reshape(len(keys), 2 * T)
        return block[:, :T], block[:, T:]

    def _score(self, model, keys, names):
        from ._api import score_variants

        table = pd.DataFrame(keys, columns=_KEY_COLUMNS)
        scores = score_variants(model, table, self.genome, scores=("logfc", "diff"),
                                batch_size=self.batch_size, method=self.method)
        # One row per key (each has one ALT allele), in order.
        block = np.hstack([_score_block(scores, "logfc", names),
                           _score_block(scores, "diff", names)])
        return dict(zip(keys, block))

    @staticmethod
    def cache_info(model):
        """How many variants the cache holds for a model, per (genome, method).

        Parameters
        ----------
        model : DeepSEAClassifier
            The fitted model (the object given as ``model``, or loaded from
            its file).

        Returns
        -------
        counts : dict of (str, str) to int
        """
        with _CACHE_LOCK:
            return {key: len(store) for key, store in _SCORE_CACHE.get(model, {}).items()}

    @staticmethod
    def cache_clear():
        """Forget every cached score (and every model loaded from a file)."""
        with _CACHE_LOCK:
            _SCORE_CACHE.clear()
            _LOADED_MODELS.clear()


def _score_block(scores, score, names):
    """The ``<score>:<target>`` columns of a scores DataFrame, float64, in ``names`` order."""
    columns = [column_name(score, t) for t in names]
    absent = [c for c in columns if c not in scores.columns]
    if absent:
        raise ValueError(f"The scores have no column {absent[0]!r}: pass score_variants' "
                         "output with the 'logfc' and 'diff' scores of every target of the "
                         "model, or variants to score.")
    return scores[columns].to_numpy(dtype=np.float64)


def _variant_table(X):
    """A DataFrame of variants (one ALT allele a row, as given) from X; a file is read whole."""
    from ._io import read_variants

    if isinstance(X, (str, os.PathLike)):
        chunks = list(read_variants(X))
        return (pd.concat(chunks, ignore_index=True) if chunks
                else pd.DataFrame(columns=INFO_COLUMNS))
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"VariantFeatures takes a DataFrame of variants (chrom, pos, ref, alt), the output "
            f"of score_variants or a VCF file; got {type(X).__name__}.")
    table = pd.concat(list(read_variants(X.reset_index(drop=True))), ignore_index=True) \
        if len(X) else pd.DataFrame(columns=INFO_COLUMNS)
    if len(table) != len(X):
        lines = table["line"].to_numpy()
        row = int(lines[np.flatnonzero(np.diff(lines) == 0)[0]]) - 1
        raise ValueError(
            f"Row {row} of the variants has {X.iloc[row]['alt']!r} as ALT: VariantFeatures "
            "needs one ALT allele a row (one label each); split multi-allelic variants first.")
    return table
