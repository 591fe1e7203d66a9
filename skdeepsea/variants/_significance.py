"""From chromatin effects to disease: DeepSEA's functional significance score and classifiers.

DeepSEA v0.94's last step (``3_h5ToOutput.py``, ``evoevalues.production.py``)
turns each variant's chromatin effects into e-values against a background of
1000 Genomes SNPs, adds the e-values of four conservation scores, combines
them into the functional significance score, and feeds
``|[logfc, diff, conservation]|`` to three logistic regressions (eQTL, GWAS
and HGMD variants). :class:`VariantSignificance` does the same per chunk of
variant scores; :func:`functional_significance` is the formula.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._constraints import (
    ArrayLike,
    Boolean,
    HasMethods,
    InstanceOf,
    PathLike,
    parameter_constraints,
    validate_params,
)
from ..targets import unique_target_names
from ._conservation import CONSERVATION_FEATURES, CONSERVATION_IMPUTED, ConservationScores

SIGNIFICANCE_SCORES = ("logfc", "diff", "effect")
"""The scores the significance step reads: DeepSEA's features and its effect."""


@parameter_constraints({"chromatin_evalues": [ArrayLike()],
                        "conservation_evalues": [ArrayLike(), None]})
def functional_significance(chromatin_evalues, conservation_evalues=None):
    """DeepSEA's functional significance score from e-values.

    As ``3_h5ToOutput.py`` computes it: the geometric mean of a variant's
    chromatin e-values times the geometric mean of its conservation
    e-values, ``exp(mean_t log e_t + mean_k log c_k)``; without conservation
    e-values, ``exp(mean_t log e_t)``. DeepSEA's README describes the score
    as a "product of the minimum e-values"; its code, reproduced here,
    computes geometric means.

    Parameters
    ----------
    chromatin_evalues : array-like of shape (n_variants, n_targets)
        E-values of the variants' chromatin effects (all of DeepSEA's 919
        targets for DeepSEA's score).
    conservation_evalues : array-like of shape (n_variants, n_features) or None
        E-values of the conservation scores (DeepSEA's four), or None.

    Returns
    -------
    score : ndarray of shape (n_variants,)
        Small for variants whose effects are unusual; NaN for a row with a
        NaN e-value (an unscored variant).

    Raises
    ------
    ValueError
        For e-values that are not an array-like, not 2-D, or of different
        numbers of rows, naming the parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.variants import functional_significance
    >>> functional_significance(np.array([[0.01, 1.0], [1.0, 1.0]]))
    array([0.1, 1. ])
    >>> functional_significance(np.array([[0.01, 1.0]]), np.array([[0.1, 0.1, 1.0, 1.0]]))
    array([0.03162278])
    """
    chromatin = _evalue_matrix("chromatin_evalues", chromatin_evalues)
    log_score = np.mean(np.log(chromatin), axis=1)
    if conservation_evalues is not None:
        conservation = _evalue_matrix("conservation_evalues", conservation_evalues)
        if len(conservation) != len(chromatin):
            raise ValueError(f"functional_significance: conservation_evalues has "
                             f"{len(conservation)} row(s) for the {len(chromatin)} variant(s) "
                             "of chromatin_evalues.")
        log_score = log_score + np.mean(np.log(conservation), axis=1)
    return np.exp(log_score)


def _evalue_matrix(name, values):
    """E-values as a float64 array of shape (n_variants, n), or a ValueError naming them."""
    try:
        matrix = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"functional_significance: {name} must hold numbers ({error}).") \
            from None
    if matrix.ndim != 2:
        raise ValueError(f"functional_significance: {name} must have shape (n_variants, n), "
                         f"got {matrix.shape}.")
    return matrix


def feature_matrix(logfc, diff, conservation):
    """DeepSEA's classifier features ``|[logfc, diff, conservation]|`` as one float64 array."""
    return np.abs(np.hstack([np.asarray(logfc, dtype=np.float64),
                             np.asarray(diff, dtype=np.float64),
                             np.asarray(conservation, dtype=np.float64)]))


def imputed_conservation(conservation, chrom, pos, check_contigs=True):
    """Conservation scores at variant positions with DeepSEA's imputation.

    ``check_contigs`` is :meth:`ConservationScores.at`'s.

    Returns
    -------
    values : ndarray of shape (n, 4)
        The scores found, DeepSEA's defaults (``0.115, -0.033, 1.909,
        -0.200``) where a file has none, or all defaults without files.
    found : ndarray of bool, shape (n, 4)
        Where a score was read from a file.
    """
    n = len(chrom)
    if conservation is None:
        return (np.tile(np.asarray(CONSERVATION_IMPUTED, dtype=np.float64), (n, 1)),
                np.zeros((n, len(CONSERVATION_FEATURES)), dtype=bool))
    values = conservation.at(chrom, pos, check_contigs=check_contigs)
    return ConservationScores.impute(values), ~np.isnan(values)


def classifier_probability(classifier, features):
    """``predict_proba(features)[:, 1]`` on the finite rows; NaN on the others.

    An unscored variant has NaN features, and a probability of exactly 0 or
    1 an infinite ``logfc``; scikit-learn's estimators refuse both.
    """
    out = np.full(len(features), np.nan)
    finite = np.isfinite(features).all(axis=1)
    if finite.any():
        out[finite] = classifier.predict_proba(features[finite])[:, 1]
    return out


def check_model_targets(names, expected, what):
    """Refuse a model whose targets are not ``expected``, in order; name the first mismatch."""
    names = [str(n) for n in names]
    expected = [str(n) for n in expected]
    if names == expected:
        return
    if len(names) != len(expected):
        raise ValueError(
            f"{what} needs a model of the {len(expected)} targets it was made for, in their "
            f"order; the model has {len(names)} target(s) ({names[:3]}...). Score with all "
            "targets (targets=None) of a model of those targets, e.g. DeepSEA's published "
            "weights loaded with their predictor.names.")
    i = next(i for i, (a, b) in enumerate(zip(names, expected)) if a != b)
    raise ValueError(
        f"{what} needs the model's targets in its order; target {i} of the model is "
        f"{names[i]!r}, where it expects {expected[i]!r}. Load the model with the names file "
        "of its targets (DeepSEA's predictor.names), or use a background fitted on this "
        "model's scores.")


class VariantSignificance:
    """DeepSEA's disease step for variant scores: e-values, significance, variant classes.

    Given to :func:`score_variants` or :func:`write_variant_scores` as
    ``significance=``, it adds to each scored variant:

    - ``evalue:<target>``: ``1 - ECDF(|diff x logfc|)`` against the
      background of ``evalues`` (the score ``evalue``);
    - ``conservation:<feature>`` and ``conservation_evalue:<feature>``
      (with ``conservation``): phastCons, phyloP, GERP neutral rate and
      GERP RS at the variant's position, imputed with DeepSEA's defaults
      where the files have none, and their e-values; a variant that none of
      the files covers gets e-values of 1, as in DeepSEA;
    - ``funsig``: the functional significance score
      (:func:`functional_significance`), from the chromatin e-values alone
      when no conservation files are given (DeepSEA does the same when it
      cannot read them);
    - ``<name>_probability`` for each classifier (DeepSEA's: ``eqtl``,
      ``gwas``, ``hgmd``): ``predict_proba`` of the classifier on
      ``|[logfc, diff, conservation]|`` (:class:`VariantFeatures`' columns,
      the conservation scores imputed with DeepSEA's defaults when no files
      are given).

    Parameters
    ----------
    evalues : EValueTransformer
        Fitted on the background's effects, with the model's target names
        (e.g. ``EValueTransformer.from_deepsea(folder)``).
    conservation : ConservationScores or None, default=None
        The conservation score files.
    conservation_evalues : EValueTransformer or None, default=None
        The backgrounds of the four conservation scores (DeepSEA's:
        ``EValueTransformer.from_deepsea(folder, background="conservation")``);
        needed with ``conservation``.
    classifiers : dict of str to estimator or None, default=None
        Fitted classifiers of the feature matrix (with ``predict_proba``;
        class 1 the positive one), e.g. :func:`load_deepsea_classifiers` or
        your own pipeline trained on :class:`VariantFeatures`.

    Attributes
    ----------
    target_names : list of str
        The targets it was made for, in order: variants must be scored with
        all of them, by a model of those targets.
    columns : list of str
        The per-variant columns it adds after the scores.

    See Also
    --------
    VariantSignificance.from_deepsea : DeepSEA v0.94's published resources.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.variants import EValueTransformer, VariantSignificance
    >>> background = EValueTransformer().fit(np.array([[0.0, 0.0], [0.1, 0.2], [0.3, 0.4]]))
    >>> significance = VariantSignificance(background)
    >>> significance.columns
    ['funsig']
    """

    _parameter_constraints = {
        "evalues": [HasMethods(("transform",), "a fitted EValueTransformer")],
        "conservation": [None, InstanceOf(ConservationScores, "a ConservationScores")],
        "conservation_evalues": [None, HasMethods(("transform",), "a fitted EValueTransformer")],
        "classifiers": [None, InstanceOf(Mapping, "a dict of name to classifier")],
    }

    def __init__(self, evalues, conservation=None, conservation_evalues=None,
                 classifiers=None):
        validate_params(self._parameter_constraints,
                        dict(evalues=evalues, conservation=conservation,
                             conservation_evalues=conservation_evalues, classifiers=classifiers),
                        "VariantSignificance")
        check_is_fitted(evalues, "background_")
        if conservation is not None:
            if conservation_evalues is None:
                raise ValueError("conservation needs conservation_evalues: the backgrounds of "
                                 f"its {len(CONSERVATION_FEATURES)} scores (DeepSEA's: "
                                 "EValueTransformer.from_deepsea(folder, "
                                 "background='conservation')).")
            check_is_fitted(conservation_evalues, "background_")
            if conservation_evalues.n_features_in_ != len(CONSERVATION_FEATURES):
                raise ValueError(
                    f"conservation_evalues has {conservation_evalues.n_features_in_} "
                    f"background(s); the conservation scores are {len(CONSERVATION_FEATURES)} "
                    f"({', '.join(CONSERVATION_FEATURES)}).")
        classifiers = dict(classifiers or {})
        for name, classifier in classifiers.items():
            if not hasattr(classifier, "predict_proba"):
                raise ValueError(f"Classifier {name!r} has no predict_proba.")
        self.evalues = evalues
        self.conservation = conservation
        self.conservation_evalues = conservation_evalues
        self.classifiers = classifiers
        self.target_names = unique_target_names(evalues.target_names_)
        # Until a chunk has found its contigs in the conservation files: none found in any
        # file is a naming mistake (ConservationScores.at); later chunks may lack them.
        self._check_contigs = True
        self.columns = (
            ([f"conservation:{k}" for k in CONSERVATION_FEATURES]
             + [f"conservation_evalue:{k}" for k in CONSERVATION_FEATURES]
             if conservation is not None else [])
            + ["funsig"] + [f"{name}_probability" for name in classifiers])

    @classmethod
    def from_deepsea(cls, folder, *, background="1000g", conservation=None,
                     classifiers=True):
        """DeepSEA v0.94's backgrounds and variant classifiers from its package folder.

        Parameters
        ----------
        folder : str or path-like
            The DeepSEA v0.94 package (its ``resources/`` and ``logistic/``
            folders).
        background : {"1000g", "1000g-af", "1000g-af0.1"}, default="1000g"
            The chromatin background (see :meth:`EValueTransformer.from_deepsea`).
        conservation : ConservationScores or None, default=None
            Conservation score files; None computes the functional
            significance from the chromatin e-values alone and gives the
            classifiers DeepSEA's imputed conservation values.
        classifiers : bool, default=True
            Add DeepSEA's eQTL, GWAS and HGMD probabilities.

        Returns
        -------
        significance : VariantSignificance
        """
        from ._deepsea import load_deepsea_classifiers
        from ._evalues import EValueTransformer

        # background: read_background names the published ones.
        validate_params({"folder": [PathLike()],
                         "conservation": cls._parameter_constraints["conservation"],
                         "classifiers": [Boolean()]},
                        dict(folder=folder, conservation=conservation, classifiers=classifiers),
                        "VariantSignificance.from_deepsea")
        return cls(
            EValueTransformer.from_deepsea(folder, background=background),
            conservation=conservation,
            conservation_evalues=(EValueTransformer.from_deepsea(
                folder, background="conservation") if conservation is not None else None),
            classifiers=load_deepsea_classifiers(folder) if classifiers else None,
        )

    @property
    def uses_conservation(self):
        """Whether the functional significance includes conservation e-values."""
        return self.conservation is not None

    def describe(self):
        """One line on what the functional significance score is computed from."""
        if self.uses_conservation:
            return "chromatin and conservation e-values"
        return "chromatin e-values only (no conservation files)"

    def check_targets(self, names, strand):
        """Refuse scores it cannot use: other targets or order, or one strand only."""
        if strand != "mean":
            raise ValueError(
                f"significance needs strand='mean' (DeepSEA's backgrounds and classifiers "
                f"were made from strand-averaged scores), got strand={strand!r}.")
        check_model_targets(names, self.target_names, "significance")

    def annotate(self, variants, logfc, diff, effect):
        """The e-values and per-variant columns of one chunk of scores.

        Parameters
        ----------
        variants : pandas.DataFrame
            The chunk's variants (chrom, pos).
        logfc, diff, effect : ndarray of shape (n, n_targets)
            Their strand-averaged scores, in ``target_names`` order (NaN for
            unscored variants).

        Returns
        -------
        evalues : ndarray of shape (n, n_targets)
        columns : pandas.DataFrame
            The columns of ``columns``, indexed as ``variants``.
        """
        chromatin = self.evalues.transform(effect)
        out = {}
        values, found = imputed_conservation(self.conservation, variants["chrom"].to_numpy(),
                                             variants["pos"].to_numpy(), self._check_contigs)
        self._check_contigs = self._check_contigs and not len(variants)
        conservation_evalues = None
        if self.uses_conservation:
            conservation_evalues = self.conservation_evalues.transform(values)
            # As DeepSEA: a variant none of the files covers has no conservation evidence.
            conservation_evalues[~found.any(axis=1)] = 1.0
            for j, name in enumerate(CONSERVATION_FEATURES):
                out[f"conservation:{name}"] = values[:, j]
            for j, name in enumerate(CONSERVATION_FEATURES):
                out[f"conservation_evalue:{name}"] = conservation_evalues[:, j]
        out["funsig"] = functional_significance(chromatin, conservation_evalues)
        if self.classifiers:
            features = feature_matrix(logfc, diff, values)
            for name, classifier in self.classifiers.items():
                out[f"{name}_probability"] = classifier_probability(classifier, features)
        return chromatin, pd.DataFrame(out, index=variants.index, columns=self.columns)
