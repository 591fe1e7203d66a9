"""ROC and precision-recall curves of chosen targets."""

from .._constraints import ArrayLike, TargetKeys, parameter_constraints
from .._validation import check_binary_scores
from ..targets import NAMES_CONSTRAINT, target_indices
from ._figure import AXES, figure_and_axes

__all__ = ["plot_pr_curves", "plot_roc_curves"]


# What plot_roc_curves and plot_pr_curves accept; the shapes, labels and targets are
# checked against the data.
_CURVES_CONSTRAINTS = {"y_true": [ArrayLike()], "y_score": [ArrayLike()],
                       "targets": [TargetKeys()], "target_names": [NAMES_CONSTRAINT, None],
                       "ax": [AXES, None]}


def _curves(kind, y_true, y_score, targets, target_names, ax):
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    from ..metrics import pr_auc_per_target

    y_true, y_score = check_binary_scores(y_true, y_score)
    names = ([f"target_{i}" for i in range(y_true.shape[1])] if target_names is None
             else [str(n) for n in target_names])
    if len(names) != y_true.shape[1]:
        raise ValueError(f"{len(names)} target names for {y_true.shape[1]} targets.")
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


@parameter_constraints(_CURVES_CONSTRAINTS)
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

    Raises
    ------
    ValueError
        ``"plot_roc_curves: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type; if the shapes of ``y_true`` and ``y_score``
        disagree, a label is not 0 or 1, a score is not finite, the number of
        ``target_names`` is not that of the columns, or a target is unknown.
    """
    return _curves("roc", y_true, y_score, targets, target_names, ax)


@parameter_constraints(_CURVES_CONSTRAINTS)
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

    Raises
    ------
    ValueError
        ``"plot_pr_curves: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type; if the shapes of ``y_true`` and ``y_score``
        disagree, a label is not 0 or 1, a score is not finite, the number of
        ``target_names`` is not that of the columns, or a target is unknown.
    """
    return _curves("pr", y_true, y_score, targets, target_names, ax)
