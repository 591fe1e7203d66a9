"""Per-target scores, as the DeepSEA paper reports them, and a scorer for model selection."""

import warnings

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import label_binarize

__all__ = ["roc_auc_per_target", "pr_auc_per_target", "mean_roc_auc", "mean_roc_auc_scorer"]


def _check_scores(y_true, y_score):
    """Labels and scores as 2-D arrays of the same (n_samples, n_targets) shape."""
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    if y_score.ndim == 1:
        y_score = y_score[:, None]
    if y_true.shape != y_score.shape:
        raise ValueError(
            f"y_true has shape {y_true.shape} but y_score has shape {y_score.shape}; "
            "they must match (n_samples, n_targets)."
        )
    return y_true, y_score


def _per_target(metric, y_true, y_score):
    y_true, y_score = _check_scores(y_true, y_score)
    scores = np.full(y_true.shape[1], np.nan)
    for t in range(y_true.shape[1]):
        labels = y_true[:, t]
        if labels.min() != labels.max():
            scores[t] = metric(labels, y_score[:, t])
    return scores


def roc_auc_per_target(y_true, y_score):
    """ROC AUC of each target (column).

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets) or (n_samples,)
        Binary labels (0/1).
    y_score : array-like of the same shape
        Predicted probabilities or scores.

    Returns
    -------
    auc : ndarray of shape (n_targets,)
        NaN for a target whose labels hold one class only.

    Examples
    --------
    >>> roc_auc_per_target([[1, 0], [0, 0], [1, 0]], [[0.9, 0.1], [0.2, 0.3], [0.6, 0.2]])
    array([ 1., nan])
    """
    return _per_target(roc_auc_score, y_true, y_score)


def pr_auc_per_target(y_true, y_score):
    """Area under the precision-recall curve (average precision) of each target.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets) or (n_samples,)
        Binary labels (0/1).
    y_score : array-like of the same shape
        Predicted probabilities or scores.

    Returns
    -------
    auc : ndarray of shape (n_targets,)
        NaN for a target whose labels hold one class only.

    Examples
    --------
    >>> pr_auc_per_target([[1], [0], [1], [0]], [[0.9], [0.8], [0.7], [0.1]])
    array([0.83333333])
    """
    return _per_target(average_precision_score, y_true, y_score)


def mean_roc_auc(y_true, y_score):
    """Mean ROC AUC over the targets that have both classes, the DeepSEA paper's metric.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets) or (n_samples,)
        Binary labels (0/1).
    y_score : array-like of the same shape
        Predicted probabilities or scores.

    Returns
    -------
    score : float
        NaN, with a warning, when no target has both classes.

    Examples
    --------
    >>> mean_roc_auc([[1, 0], [0, 1], [1, 1]], [[0.9, 0.25], [0.2, 0.3], [0.6, 0.2]])
    0.75
    """
    aucs = roc_auc_per_target(y_true, y_score)
    if np.isnan(aucs).all():
        warnings.warn("No target has both classes in y_true: the mean ROC AUC is undefined.")
        return float("nan")
    return float(np.nanmean(aucs))


def mean_roc_auc_scorer(estimator, X, y):
    """Scorer for ``GridSearchCV(scoring=...)``: mean per-target ROC AUC.

    Works for multilabel, binary and multiclass (one-vs-rest) targets of any
    fitted classifier with ``predict_proba`` and ``classes_``, a Pipeline
    included. Unlike ``scoring="roc_auc"`` it stays finite when a fold has
    targets without positives: those targets are left out, and a fold where
    no target has both classes scores 0.5 (chance).

    Parameters
    ----------
    estimator : fitted classifier
        Has ``predict_proba`` and ``classes_``.
    X : array-like
        Inputs.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        True labels.

    Returns
    -------
    score : float
        Mean ROC AUC (0.5 when undefined).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    >>> mean_roc_auc_scorer(LogisticRegression().fit(X, y), X, y)
    1.0
    """
    proba = estimator.predict_proba(X)
    y = np.asarray(y)
    if y.ndim == 1:
        classes = np.asarray(estimator.classes_)
        y = label_binarize(y, classes=classes)
        if len(classes) == 2:
            proba = proba[:, 1:]
    aucs = roc_auc_per_target(y, proba)
    return 0.5 if np.isnan(aucs).all() else float(np.nanmean(aucs))
