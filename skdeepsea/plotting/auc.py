"""Per-target AUCs of an evaluation table: their distribution per class, and two models compared."""

import numpy as np

from .._constraints import Options, Satisfies, parameter_constraints
from ..targets import class_order
from ._figure import AXES, NAME_PAIR, figure_and_axes

__all__ = ["plot_auc_distribution", "plot_model_comparison"]

_METRIC_LABELS = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC"}
# The columns of an evaluation table that the report and its plots read.
TABLE_COLUMNS = ("target", "class", "roc_auc", "pr_auc", "status")
#: A table of :func:`skdeepsea.report.evaluation_table` (duck-typed: a DataFrame with its
#: columns; the plots import nothing of the report).
TABLE = Satisfies(lambda value: hasattr(value, "columns") and hasattr(value, "index")
                  and all(name in value.columns for name in TABLE_COLUMNS),
                  "a table of skdeepsea.report.evaluation_table (a pandas.DataFrame with "
                  f"columns {', '.join(TABLE_COLUMNS)})")
_METRIC = [Options(str, tuple(_METRIC_LABELS))]


def _scored(table):
    return table[table["status"] == "ok"]


@parameter_constraints({"table": [TABLE], "metric": _METRIC, "ax": [AXES, None]})
def plot_auc_distribution(table, metric="roc_auc", *, ax=None):
    """Distribution of a per-target AUC within each class (box plot and points).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`skdeepsea.report.evaluation_table`; only scored targets
        are drawn.
    metric : {"roc_auc", "pr_auc"}, default="roc_auc"
        Which AUC.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new Figure.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        ``"plot_auc_distribution: <parameter> must be ..., got <value>."``
        for a parameter of the wrong type or value.
    """
    label = _METRIC_LABELS[metric]
    scored = _scored(table)
    if scored["class"].notna().any():
        groups = [(c, scored[scored["class"] == c]) for c in class_order(table["class"])]
    else:
        groups = [("all targets", scored)]
    figure, ax = figure_and_axes(ax, (1.6 + 1.4 * len(groups), 4))
    rng = np.random.default_rng(0)
    values = [g[metric].to_numpy() for _, g in groups]
    positions = np.arange(1, len(groups) + 1)
    nonempty = [i for i, v in enumerate(values) if len(v)]
    if nonempty:
        ax.boxplot([values[i] for i in nonempty], positions=positions[nonempty], widths=0.5,
                   showfliers=False, medianprops={"color": "black"})
    for x, v in zip(positions, values):
        ax.scatter(x + rng.uniform(-0.15, 0.15, len(v)), v, s=6, alpha=0.5, color="tab:blue")
    ax.set_xticks(positions, [f"{name}\n(n={len(v)})" for (name, _), v in zip(groups, values)])
    ax.set(ylabel=label, title=f"{label} per target", xlim=(0.4, len(groups) + 0.6))
    if metric == "roc_auc":
        ax.axhline(0.5, color="0.6", linestyle="--", linewidth=1)
        lowest = min([0.5] + [float(v.min()) for v in values if len(v)])
        ax.set_ylim(lowest - 0.02, 1.01)
    else:
        ax.set_ylim(0, 1.01)
    return figure


@parameter_constraints({"table": [TABLE], "other": [TABLE], "metric": _METRIC,
                        "labels": [NAME_PAIR], "ax": [AXES, None]})
def plot_model_comparison(table, other, metric="roc_auc", *, labels=("model", "other"),
                          ax=None):
    """Target-by-target comparison of two models: a scatter of their AUCs.

    Targets are matched by name; only those scored in both tables are drawn.

    Parameters
    ----------
    table, other : pandas.DataFrame
        From :func:`skdeepsea.report.evaluation_table`, for the first (x
        axis) and second (y axis) model.
    metric : {"roc_auc", "pr_auc"}, default="roc_auc"
        Which AUC.
    labels : tuple of str, default=("model", "other")
        Names of the two models.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new Figure.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The title says on how many targets the second model scores higher.

    Raises
    ------
    ValueError
        ``"plot_model_comparison: <parameter> must be ..., got <value>."``
        for a parameter of the wrong type or value.
    """
    name = _METRIC_LABELS[metric]
    merged = _scored(table).merge(_scored(other)[["target", metric]], on="target",
                                  suffixes=("", "_other"))
    figure, ax = figure_and_axes(ax, (5, 5))
    x, y = merged[metric].to_numpy(), merged[f"{metric}_other"].to_numpy()
    if merged["class"].notna().any():
        for cls in class_order(table["class"]):
            chosen = (merged["class"] == cls).to_numpy()
            ax.scatter(x[chosen], y[chosen], s=8, alpha=0.6, label=f"{cls} ({chosen.sum()})")
        ax.legend(fontsize=8, loc="lower right")
    else:
        ax.scatter(x, y, s=8, alpha=0.6)
    low = float(np.nanmin(np.concatenate([x, y, [0.5 if metric == "roc_auc" else 0.0]])))
    ax.plot([low, 1], [low, 1], color="0.6", linestyle="--", linewidth=1)
    ax.set(xlabel=f"{labels[0]} {name}", ylabel=f"{labels[1]} {name}",
           xlim=(low - 0.01, 1.01), ylim=(low - 0.01, 1.01), aspect="equal")
    ax.set_title(f"{labels[1]} higher on {int((y > x).sum())} of {len(merged)} targets",
                 fontsize=10)
    return figure
