"""ROC and precision-recall curves of chosen targets."""

from .._validation import check_binary_scores
from ..targets import target_indices
from ._figure import figure_and_axes

__all__ = ["plot_pr_curves", "plot_roc_curves"]


def _curves(kind, y_true, y_score, targets, target_names, ax):
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    from ..metrics import pr_auc_per_target

    y_true, y_score = check_binary_scores(y_true, y_score)
    names = ([f"target_{i}" for i in range(y_true.shape[1])] if target_names is None
             else [str(n) for n in target_names])
    indices = target_indices(names, targets)
    figure, ax = figure_and_axes(ax, (5, 4.5))
    for i in indices:
        labels = y_true[:, i]
        if labels.min() == labels.max():
            ax.plot([], [], label=f"{names[i]} (one class only)")
            continue
        if kind == "roc":
            fpr, tpr, _ = roc_curve(labels, y_score[:, i])
            ax.plot(fpr, tpr, label=f"{names[i]} (AUC {auc(fpr, tpr):.3f})")
        else:
            precision, recall, _ = precision_recall_curve(labels, y_score[:, i])
            score = pr_auc_per_target(labels, y_score[:, i])[0]
            ax.step(recall, precision, where="post", label=f"{names[i]} (AUC {score:.3f})")
    if kind == "roc":
        ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1)
        ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curves")
    else:
        ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curves")
    ax.set(xlim=(0, 1), ylim=(0, 1.02))
    if indices:
        ax.legend(fontsize=7, loc="lower right" if kind == "roc" else "upper right")
    return figure


def plot_roc_curves(y_true, y_score, targets, target_names=None, *, ax=None):
    """ROC curves of chosen targets, with their AUC in the legend.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets)
        0/1 labels.
    y_score : array-like of the same shape
        Predicted probabilities.
    targets : list of int or str
        Targets to draw, by index or by name.
    target_names : sequence of str, default=None
        Names of the columns; None: ``"target_0"``, ...
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new Figure.

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    return _curves("roc", y_true, y_score, targets, target_names, ax)


def plot_pr_curves(y_true, y_score, targets, target_names=None, *, ax=None):
    """Precision-recall curves of chosen targets, with their PR AUC in the legend.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets)
        0/1 labels.
    y_score : array-like of the same shape
        Predicted probabilities.
    targets : list of int or str
        Targets to draw, by index or by name.
    target_names : sequence of str, default=None
        Names of the columns; None: ``"target_0"``, ...
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new Figure.

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    return _curves("pr", y_true, y_score, targets, target_names, ax)
