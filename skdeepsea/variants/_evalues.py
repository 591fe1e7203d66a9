"""E-values of variant effects against a background set of variants."""

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted


def _effect_matrix(X, where):
    """(values (n, T), target names or None) from a scores DataFrame or an array."""
    if isinstance(X, pd.DataFrame):
        columns = [c for c in X.columns if str(c).startswith("effect:")]
        if not columns:
            raise ValueError(
                f"{where}: the DataFrame has no 'effect:<target>' columns; pass the output of "
                "score_variants (with the 'effect' score) or an array of effect scores."
            )
        return X[columns].to_numpy(dtype=np.float64), [c[len("effect:"):] for c in columns]
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
    target_names_ : ndarray of str
        Target names (from the ``effect:<target>`` columns, or
        ``"target_0"``, ... for an array).
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
        values, names = _effect_matrix(X, "EValueTransformer.fit")
        self.background_ = [np.sort(column[~np.isnan(column)]) for column in values.T]
        too_few = [j for j, b in enumerate(self.background_) if len(b) < self.min_background]
        self.target_names_ = np.array(
            names if names is not None else [f"target_{j}" for j in range(values.shape[1])]
        )
        if too_few:
            raise ValueError(
                f"Target {self.target_names_[too_few[0]]!r} has {len(self.background_[too_few[0]])}"
                f" scored background variant(s), fewer than min_background={self.min_background}."
            )
        self.n_features_in_ = values.shape[1]
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
            The fraction of background effects larger than each effect,
            ``zero_evalue`` where there is none (NaN where the effect is NaN). A DataFrame gives a DataFrame of
            ``evalue:<target>`` columns with its index.
        """
        check_is_fitted(self, "background_")
        values, names = _effect_matrix(X, "EValueTransformer.transform")
        names = names if names is not None else targets
        if names is None:
            if values.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {values.shape[1]} target(s), but the background has "
                                 f"{self.n_features_in_}.")
            columns = range(self.n_features_in_)
        else:
            known = list(self.target_names_)
            missing = [t for t in names if t not in known]
            if missing:
                raise ValueError(f"Target(s) {missing} have no background scores.")
            if len(names) != values.shape[1]:
                raise ValueError(f"{len(names)} target name(s) for {values.shape[1]} column(s).")
            columns = [known.index(t) for t in names]
        out = np.full(values.shape, np.nan)
        for j, column in enumerate(columns):
            background = self.background_[column]
            finite = ~np.isnan(values[:, j])
            at_most = np.searchsorted(background, values[finite, j], side="right")
            out[finite, j] = 1.0 - at_most / len(background)
        out[out == 0] = self.zero_evalue
        if isinstance(X, pd.DataFrame):
            return pd.DataFrame(out, index=X.index, columns=[f"evalue:{t}" for t in names])
        return out
