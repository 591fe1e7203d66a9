"""E-values of variant effects against a background set of variants."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._constraints import ArrayLike, Interval, PathLike, validate_params
from ..targets import unique_target_names


def _effect_matrix(X, where):
    """(values (n, T), target names or None) from a scores DataFrame or an array."""
    if isinstance(X, pd.DataFrame):
        # By position: DeepSEA repeats some target names, so column names need not be unique.
        columns = [j for j, c in enumerate(X.columns) if str(c).startswith("effect:")]
        if not columns:
            raise ValueError(
                f"{where}: the DataFrame has no 'effect:<target>' columns; pass the output of "
                "score_variants (with the 'effect' score) or an array of effect scores."
            )
        return (X.iloc[:, columns].to_numpy(dtype=np.float64),
                [str(X.columns[j])[len("effect:"):] for j in columns])
    values = np.asarray(X, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ValueError(f"{where}: expected effect scores of shape (n, n_targets), got "
                         f"shape {values.shape}.")
    return values, None


class EValueTransformer(TransformerMixin, BaseEstimator):
    """E-values of variant effects: ``1 - ECDF(|diff x logfc|)`` over a background.

    DeepSEA ranks each variant's effect ``|diff x logfc|`` on a target
    against the effects of a background set of variants (common SNPs of the
    1000 Genomes project): the e-value is the fraction of background
    variants with a larger effect on that target, so small e-values mark
    unusual effects. An effect beyond every background one gets
    ``zero_evalue`` (DeepSEA's 1e-6) rather than 0.

    Fit it on your own background variants, or import one of DeepSEA's
    published backgrounds with :meth:`from_deepsea`.

    Parameters
    ----------
    min_background : int, default=1
        Fewest scored background variants a target needs.
    zero_evalue : float, default=1e-6
        The e-value reported instead of 0, as DeepSEA v0.94 does (0 keeps 0).

    Attributes
    ----------
    background_ : list of ndarray
        The sorted background effects of each target (NaN dropped).
    background_cdf_ : list of ndarray
        Per target, the ECDF after ``k`` background effects, for ``k`` from
        0 to ``len(background_[j])``: ``k / n`` for a fit; the published
        ECDF's values for :meth:`from_deepsea`.
    side_ : {"right", "left"}
        How an effect equal to a background one counts: ``"right"`` (a fit)
        counts it as not larger; an imported background keeps its own side.
        An effect's e-value is ``1 - background_cdf_[j][searchsorted(
        background_[j], effect, side_)]``.
    target_names_ : ndarray of str
        Target names (from the ``effect:<target>`` columns, or
        ``"target_0"``, ... for an array), unique as in the scores' columns:
        a repeated name's later occurrences get ``.1``, ``.2``, ...
        (:func:`skdeepsea.targets.unique_target_names`).
    n_features_in_ : int
        Number of targets.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.variants import EValueTransformer
    >>> background = np.array([[0.1], [0.2], [0.3], [0.4]])
    >>> EValueTransformer().fit(background).transform(np.array([[0.25], [1.0], [0.0]]))
    array([[5.e-01],
           [1.e-06],
           [1.e+00]])
    """

    _parameter_constraints = {
        "min_background": [Interval(Integral, 0, None)],
        "zero_evalue": [Interval(Real, 0, 1)],
    }

    def __init__(self, min_background=1, zero_evalue=1e-6):
        self.min_background = min_background
        self.zero_evalue = zero_evalue

    def fit(self, X, y=None):
        """Store the background effects.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_variants, n_targets)
            The output of :func:`score_variants` for the background variants
            (its ``effect:<target>`` columns are used; unscored rows are
            NaN and ignored), or their effect scores.
        y : None
            Ignored.

        Returns
        -------
        self : EValueTransformer
        """
        validate_params(self._parameter_constraints, self.get_params(), "EValueTransformer")
        values, names = _effect_matrix(X, "EValueTransformer.fit")
        background = [np.sort(column[~np.isnan(column)]) for column in values.T]
        names = names if names is not None else [f"target_{j}" for j in range(values.shape[1])]
        too_few = [j for j, b in enumerate(background) if len(b) < self.min_background]
        if too_few:
            raise ValueError(
                f"Target {names[too_few[0]]!r} has {len(background[too_few[0]])}"
                f" scored background variant(s), fewer than min_background={self.min_background}."
            )
        cdf = [np.arange(len(b) + 1) / len(b) if len(b) else np.array([np.nan]) for b in background]
        return self._set_background(names, background, cdf, "right")

    @classmethod
    def from_deepsea(cls, folder, background="1000g"):
        """DeepSEA v0.94's published background, as a fitted transformer.

        Reads the statsmodels ECDFs of DeepSEA's package folder (old joblib
        pickles, read by a restricted unpickler: neither statsmodels nor
        joblib is needed, and a pickle naming any other class is refused
        before anything of it runs). The e-values are DeepSEA's: ``1 -
        ECDF(t)`` exactly as statsmodels computes it (``1 - y[searchsorted(x,
        t, side) - 1]`` with the file's ``x``, ``y`` and ``side``), 0 replaced
        by ``zero_evalue``; NaN stays NaN (statsmodels gives 0 there), and so
        does the one other departure: ``t = -inf`` with ``side="left"`` gives
        1 (statsmodels' index -1 wraps around to the last value).

        Parameters
        ----------
        folder : str or path-like
            DeepSEA v0.94's package folder (a public copy: github
            henneberger/DeepSEA), holding ``resources/predictor.names`` and
            ``resources/ecdfs/``.
        background : {"1000g", "1000g-af", "1000g-af0.1", "conservation"}, \
                default="1000g"
            ``"1000g"``: ``ecdf_difflogdiff.rescaled.pkl``, the background of
            DeepSEA's e-values (``|diff x logfc|`` of 1000 Genomes SNPs, one
            ECDF per target); ``"1000g-af"`` and ``"1000g-af0.1"``: the
            ``.af.pkl`` and ``.af0dot1.pkl`` files beside it.
            ``"conservation"``: entries 0, 3, 6 and 7 of ``allevos_ecdf.pkl``,
            the distributions of the raw (signed) conservation scores
            phastCons, phyloP, GERP neutral rate and GERP RS, as
            ``evoevalues.production.py`` uses them.

        Returns
        -------
        evalues : EValueTransformer
            Fitted; ``target_names_`` are the 919 targets of
            ``resources/predictor.names``, made unique as the score columns
            are (or
            :data:`~skdeepsea.variants.CONSERVATION_FEATURES`).

        Raises
        ------
        FileNotFoundError
            If a file is missing (the message names it and the layout).
        ValueError
            If the names file lists another number of targets than the
            file has ECDFs; :class:`~skdeepsea.exceptions.DamagedFileError`
            if a file is damaged or the pickle names any class but
            statsmodels' ECDF, joblib's NDArrayWrapper and numpy's ndarray.

        Examples
        --------
        >>> ev = EValueTransformer.from_deepsea("DeepSEA-v0.94")  # doctest: +SKIP
        >>> ev.transform(effects)  # (n, 919): |diff x logfc| per target  # doctest: +SKIP
        """
        from ._deepsea import read_background

        # background: read_background names the published ones.
        validate_params({"folder": [PathLike()]}, {"folder": folder},
                        "EValueTransformer.from_deepsea")
        names, data, cdf, side = read_background(folder, background)
        return cls()._set_background(names, data, cdf, side)

    def _set_background(self, names, background, cdf, side):
        self.background_ = background
        self.background_cdf_ = cdf
        self.side_ = side
        self.target_names_ = np.array(unique_target_names(names))
        self.n_features_in_ = len(background)
        return self

    def transform(self, X, targets=None):
        """E-values of effect scores.

        Parameters
        ----------
        X : pandas.DataFrame or array-like of shape (n_variants, n_targets)
            Scores from :func:`score_variants` (matched to the background by
            target name), or effect scores in the order of ``targets``.
        targets : list of str or None, default=None
            For an array: the target of each column (a subset of
            ``target_names_``); None means all, in order.

        Returns
        -------
        evalues : pandas.DataFrame or ndarray of shape (n_variants, n_targets)
            ``1 - ECDF(effect)`` per target (see ``side_``): for a fit, the
            fraction of background effects larger than each effect;
            ``zero_evalue`` where it is 0 (NaN where the effect is NaN). A
            DataFrame gives a DataFrame of ``evalue:<target>`` columns with
            its index.
        """
        check_is_fitted(self, "background_")
        validate_params({**self._parameter_constraints, "targets": [None, ArrayLike()]},
                        {**self.get_params(), "targets": targets}, "EValueTransformer.transform")
        values, names = _effect_matrix(X, "EValueTransformer.transform")
        names = names if names is not None else targets
        if names is None:
            if values.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {values.shape[1]} target(s), but the background has "
                                 f"{self.n_features_in_}.")
            columns = range(self.n_features_in_)
        else:
            known = {t: j for j, t in enumerate(self.target_names_.tolist())}
            missing = [t for t in names if t not in known]
            if missing:
                raise ValueError(f"Target(s) {missing} have no background scores.")
            if len(names) != values.shape[1]:
                raise ValueError(f"{len(names)} target name(s) for {values.shape[1]} column(s).")
            columns = [known[t] for t in names]
        effects = np.ascontiguousarray(values.T)  # a target's effects contiguous: faster searches
        cdf = np.empty(effects.shape)
        for j, column in enumerate(columns):
            rank = np.searchsorted(self.background_[column], effects[j], side=self.side_)
            cdf[j] = self.background_cdf_[column][rank]
        out = np.subtract(1.0, cdf.T, order="C")
        out[out == 0] = self.zero_evalue
        out[np.isnan(values)] = np.nan
        if isinstance(X, pd.DataFrame):
            return pd.DataFrame(out, index=X.index, columns=[f"evalue:{t}" for t in names])
        return out
