"""Per-target scores, as the DeepSEA paper reports them, a scorer for model selection, and
per-target decision thresholds."""

import functools
import warnings

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from sklearn.preprocessing import label_binarize

from ._constraints import ArrayLike, HasMethods, Options, Satisfies, parameter_constraints

__all__ = ["roc_auc_per_target", "pr_auc_per_target", "mean_roc_auc", "mean_roc_auc_scorer",
           "best_thresholds"]

THRESHOLD_METRICS = ("f1", "youden")

# What the metrics' parameters accept. They run as scorers inside cross-validation: the
# constraints look at the type only; the shapes and values are checked with the data.
_SCORES = {"y_true": [ArrayLike()], "y_score": [ArrayLike()]}
_WEIGHTS = {"sample_weight": [ArrayLike(), None]}


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
    if not np.isfinite(y_score).all():
        i, t = np.argwhere(~np.isfinite(y_score))[0]
        raise ValueError(f"y_score[{i}, {t}] is {y_score[i, t]}; scores must be finite "
                         f"(sample {i}, target {t}).")
    return y_true, y_score


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if sample_weight.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {sample_weight.shape}, expected ({n_samples},): one "
            "weight per sample."
        )
    if not np.isfinite(sample_weight).all() or (sample_weight < 0).any():
        raise ValueError("sample_weight must hold finite, non-negative numbers.")
    return sample_weight


def _per_target(metric, y_true, y_score, sample_weight=None):
    y_true, y_score = _check_scores(y_true, y_score)
    sample_weight = _check_sample_weight(sample_weight, len(y_true))
    # A target is scored when both classes carry weight (every sample weighs 1 by default).
    weighed = slice(None) if sample_weight is None else sample_weight > 0
    scores = np.full(y_true.shape[1], np.nan)
    for t in range(y_true.shape[1]):
        labels = y_true[weighed, t]
        if labels.size and labels.min() != labels.max():
            scores[t] = metric(y_true[:, t], y_score[:, t], sample_weight=sample_weight)
    return scores


@parameter_constraints({**_SCORES, **_WEIGHTS})
def roc_auc_per_target(y_true, y_score, sample_weight=None):
    """ROC AUC of each target (column).

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets) or (n_samples,)
        Binary labels (0/1).
    y_score : array-like of the same shape
        Predicted probabilities or scores.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample (scikit-learn's weighted ROC AUC).

    Returns
    -------
    auc : ndarray of shape (n_targets,)
        NaN for a target whose labels hold one class only (among the samples
        of positive weight).

    Raises
    ------
    ValueError
        ``"roc_auc_per_target: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type; if the shapes of ``y_true`` and ``y_score`` disagree, a score is
        not finite, or a weight is negative or not finite (or not one per sample).

    Examples
    --------
    >>> roc_auc_per_target([[1, 0], [0, 0], [1, 0]], [[0.9, 0.1], [0.2, 0.3], [0.6, 0.2]])
    array([ 1., nan])
    """
    return _per_target(roc_auc_score, y_true, y_score, sample_weight)


@parameter_constraints(_SCORES)
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

    Raises
    ------
    ValueError
        ``"pr_auc_per_target: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type; if the shapes of ``y_true`` and ``y_score`` disagree, a score is
        not finite.

    Examples
    --------
    >>> pr_auc_per_target([[1], [0], [1], [0]], [[0.9], [0.8], [0.7], [0.1]])
    array([0.83333333])
    """
    return _per_target(average_precision_score, y_true, y_score)


@parameter_constraints({**_SCORES, **_WEIGHTS})
def mean_roc_auc(y_true, y_score, sample_weight=None):
    """Mean ROC AUC over the targets that have both classes, the DeepSEA paper's metric.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets) or (n_samples,)
        Binary labels (0/1).
    y_score : array-like of the same shape
        Predicted probabilities or scores.
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in every target's ROC AUC.

    Returns
    -------
    score : float
        NaN, with a warning, when no target has both classes.

    Raises
    ------
    ValueError
        ``"mean_roc_auc: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type; if the shapes of ``y_true`` and ``y_score`` disagree, a score is
        not finite, or a weight is negative or not finite (or not one per sample).

    Examples
    --------
    >>> mean_roc_auc([[1, 0], [0, 1], [1, 1]], [[0.9, 0.25], [0.2, 0.3], [0.6, 0.2]])
    0.75
    """
    aucs = roc_auc_per_target(y_true, y_score, sample_weight)
    if np.isnan(aucs).all():
        warnings.warn("No target has both classes in y_true: the mean ROC AUC is undefined.")
        return float("nan")
    return float(np.nanmean(aucs))


@parameter_constraints({
    "estimator": [HasMethods(("predict_proba",), "a fitted classifier (with predict_proba)")],
    # Whatever the estimator's predict_proba takes (arrays, sequences, lazy data sets).
    "X": [Satisfies(lambda value: value is not None, "the estimator's inputs")],
    "y": [ArrayLike()],
    **_WEIGHTS,
})
def mean_roc_auc_scorer(estimator, X, y, sample_weight=None):
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
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in every target's ROC AUC; the mean over the
        targets is unweighted.

    Returns
    -------
    score : float
        Mean ROC AUC (0.5 when undefined).

    Raises
    ------
    ValueError
        ``"mean_roc_auc_scorer: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type; if the shapes of ``y`` and the probabilities disagree, a score is
        not finite, or a weight is negative or not finite (or not one per sample).

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
    aucs = roc_auc_per_target(y, proba, sample_weight)
    return 0.5 if np.isnan(aucs).all() else float(np.nanmean(aucs))


@parameter_constraints({"metric": [Options(str, THRESHOLD_METRICS)], **_SCORES, **_WEIGHTS})
def best_thresholds(y_true, y_score, *, metric="f1", sample_weight=None):
    """Per-target decision thresholds that maximise F1 or Youden's J on given data.

    For each target, every cut between two consecutive distinct scores is
    tried; the threshold returned is the midpoint of the best cut, so
    ``y_score > threshold`` reproduces it on this data (and the value is not
    sitting on a sample's score).

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets) or (n_samples,)
        Binary labels (0/1), held out from training.
    y_score : array-like of the same shape
        Predicted probabilities.
    metric : {"f1", "youden"}, default="f1"
        ``"f1"``: the F1 score of the positives (rare positives, as most
        DeepSEA targets). ``"youden"``: Youden's J, true positive rate minus
        false positive rate (equivalently, balanced accuracy).
    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample.

    Returns
    -------
    thresholds : ndarray of shape (n_targets,)
        The threshold of each target; NaN for a target whose labels hold one
        class only (nothing to tune on).

    Raises
    ------
    ValueError
        ``"best_thresholds: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value (an unknown ``metric``
        included); if the shapes disagree, a score is not finite, or a
        weight is negative or not finite (or not one per sample).

    Examples
    --------
    >>> from skdeepsea.metrics import best_thresholds
    >>> best_thresholds([[0, 1], [0, 0], [1, 1], [1, 0]],
    ...                 [[0.1, 0.9], [0.3, 0.6], [0.5, 0.8], [0.7, 0.2]])
    array([0.4, 0.7])
    """
    return _per_target(functools.partial(_best_threshold, metric=metric), y_true, y_score,
                       sample_weight)


def _best_threshold(labels, scores, sample_weight, metric):
    """The best cut of one target's scores (roc_curve lists every cut; the highest wins ties)."""
    fpr, tpr, cuts = roc_curve(labels, scores, sample_weight=sample_weight,
                               drop_intermediate=False)
    # cuts[0] is +inf (nothing predicted positive): never the answer.
    fpr, tpr, cuts = fpr[1:], tpr[1:], cuts[1:]
    if metric == "youden":
        values = tpr - fpr
    else:
        weights = np.ones(len(labels)) if sample_weight is None else sample_weight
        positives = weights[labels == 1].sum()
        negatives = weights[labels != 1].sum()
        true_pos, false_pos = tpr * positives, fpr * negatives
        values = 2 * true_pos / (positives + true_pos + false_pos)
    best = int(np.argmax(values))
    # Samples scoring >= cuts[best] are positive: cut halfway to the next lower score.
    if best + 1 < len(cuts):
        lower = cuts[best + 1]
    else:  # every sample positive: halfway to 0, the lowest probability
        lower = 0.0 if cuts[best] > 0 else cuts[best] - 1.0
    return float((cuts[best] + lower) / 2)
