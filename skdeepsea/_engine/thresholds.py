"""The decision thresholds of ``DeepSEAClassifier.predict``: checked against the fitted targets, and tuned."""


import numpy as np

from ..exceptions import warn
from .params import check_threshold


def decision_thresholds(threshold, target_type, n_targets):
    """``threshold`` as one number per output column, or a ValueError.

    Parameters
    ----------
    threshold : float or array-like of float
        The estimator's ``threshold``.
    target_type : {"multilabel-indicator", "binary", "multiclass"}
        The fitted ``target_type_``.
    n_targets : int
        The fitted number of targets (``len(target_names_)``).

    Returns
    -------
    thresholds : ndarray of shape (n_outputs,)
        One per target (multilabel), one (binary), or ``[0.5]`` (multiclass).
    """
    values = check_threshold(threshold)
    if target_type == "multiclass":
        if values.shape != () or values != 0.5:
            raise ValueError(
                f"threshold={threshold!r}, but this DeepSEAClassifier is multiclass: "
                "it predicts the most probable class; leave threshold at 0.5."
            )
        return values[None]
    n_outputs = n_targets if target_type == "multilabel-indicator" else 1
    if values.ndim == 0:
        return np.full(n_outputs, float(values))
    if values.shape != (n_outputs,):
        raise ValueError(
            f"threshold has {values.size} values, but this DeepSEAClassifier has "
            f"{n_outputs} target(s): give one number, or one per target."
        )
    return values


def tuned_thresholds(y, predict_proba, current, *, target_type, classes, target_names, metric,
                     sample_weight):
    """The ``threshold`` that :func:`skdeepsea.metrics.best_thresholds` finds; one-class targets keep theirs.

    Parameters
    ----------
    y : array-like
        Held-out labels (binary labels or a 0/1 matrix).
    predict_proba : callable
        Returns ``predict_proba`` of the held-out sequences; called once the
        model is known to be tunable.
    current : ndarray
        :func:`decision_thresholds` now.
    target_type, classes, target_names
        The fitted attributes of those names.
    metric : {"f1", "youden"}
        What to maximise.
    sample_weight : array-like or None
        Weight of each sample.

    Returns
    -------
    threshold : float or list of float
        A float for a binary model, a list for a multilabel one.
    """
    from sklearn.preprocessing import label_binarize

    from ..metrics import best_thresholds

    if target_type == "multiclass":
        raise ValueError("tune_thresholds needs a binary or multilabel DeepSEAClassifier; "
                         "this one is multiclass.")
    y, proba = np.asarray(y), predict_proba()
    if target_type == "binary":
        y = label_binarize(y, classes=classes)
        proba = proba[:, 1:]
    best = best_thresholds(y, proba, metric=metric, sample_weight=sample_weight)
    untuned = np.isnan(best)
    if untuned.any():
        names = target_names[untuned] if len(best) > 1 else ["the positive class"]
        warn(
            f"{int(untuned.sum())} target(s) have one class only in y and keep their "
            f"threshold: {', '.join(map(str, names[:5]))}{', ...' if untuned.sum() > 5 else ''}."
        )
    chosen = np.where(untuned, current, best)
    return float(chosen[0]) if target_type == "binary" else chosen.tolist()
