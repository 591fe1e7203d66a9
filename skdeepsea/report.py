"""Evaluation reports: per-target accuracy as the DeepSEA paper reports it, plots and an HTML page.

:func:`evaluation_table` scores every target (ROC AUC and PR AUC, with its
positives and negatives and its class: DNase, TF or histone);
:func:`class_summary` gives the medians per class, the numbers of the
DeepSEA paper's table (:data:`PUBLISHED_MEDIANS`). The plots draw ROC and PR
curves, the distribution of AUCs per class and a target-by-target comparison
of two models. :func:`write_report` puts it all in a folder: TSV tables, PNG
figures and an ``index.html`` page that shows them; ``skdeepsea evaluate``
does it from the command line.

The figures are drawn by :mod:`skdeepsea.plotting` (re-exported here):
matplotlib (the ``plot`` extra) is needed for them only, and is imported when
first used.
"""

import html
import os
import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd

from ._atomic import atomic_files
from ._constraints import (
    ArrayLike,
    Boolean,
    HasMethods,
    InstanceOf,
    Interval,
    PathLike,
    Satisfies,
    TargetKeys,
    parameter_constraints,
)
from ._validation import check_binary_scores
from .metrics import pr_auc_per_target, roc_auc_per_target
from .motifs import FilterMotifs
from .plotting._figure import NAME_PAIR
from .plotting.auc import TABLE, plot_auc_distribution, plot_model_comparison
from .plotting.curves import plot_pr_curves, plot_roc_curves
from .targets import NAMES_CONSTRAINT, _names_given, class_order, target_indices

__all__ = [
    "DEFAULT_MIN_POSITIVES",
    "PUBLISHED_MEDIANS",
    "class_summary",
    "default_curve_targets",
    "evaluation_table",
    "plot_auc_distribution",
    "plot_model_comparison",
    "plot_pr_curves",
    "plot_roc_curves",
    "predict_proba_batches",
    "target_classes_or_none",
    "write_report",
]

# Selene's evaluation default (report_gt_feature_n_positives=10): with fewer positives an AUC
# swings by tenths from one sample to another.
DEFAULT_MIN_POSITIVES = 10

#: Median test-set AUCs of DeepSEA per class (Zhou & Troyanskaya 2015; PR AUCs recomputed from
#: DanQ's per-target table): see the reference sheet, section 5.
PUBLISHED_MEDIANS = pd.DataFrame(
    {"median_roc_auc": [0.923, 0.958, 0.856], "median_pr_auc": [0.448, 0.304, 0.338]},
    index=pd.Index(["DNase", "TF", "histone"], name="class"),
)

_COLUMNS = ["target", "class", "positives", "negatives", "roc_auc", "pr_auc", "status"]

# What the report's parameters accept; the shapes, labels and lengths are checked with the data.
_POSITIVE = [Interval(Integral, 1, None)]
_TABLE_CONSTRAINTS = {
    "y_true": [ArrayLike()],
    "y_score": [ArrayLike()],
    "target_names": [NAMES_CONSTRAINT, None],
    "target_classes": [Satisfies(_names_given, "a sequence of target classes (str or None)"),
                       None],
    "min_positives": _POSITIVE,
    "progress": [Boolean()],
}


# ---------------------------------------------------------------------------------------- tables


@parameter_constraints({"target_names": [NAMES_CONSTRAINT]})
def target_classes_or_none(target_names):
    """The class (DNase, TF, histone) of each target where the names tell it, else None.

    DeepSEA's 919 outputs get their class from their position (see
    :func:`skdeepsea.targets.target_classes`); other targets only when every
    name has the ``Cell|Feature|Treatment`` form of DeepSEA's names. Names
    such as ``"target_0"`` or ``"GATA1"`` say nothing about the class.

    Parameters
    ----------
    target_names : sequence of str
        The targets' names.

    Returns
    -------
    classes : list of str, or None
        None when the classes are unknown.

    Raises
    ------
    ValueError
        ``"target_classes_or_none: target_names must be ..., got <value>."``
        if ``target_names`` is not a sequence (a single str, say).

    Examples
    --------
    >>> from skdeepsea.report import target_classes_or_none
    >>> target_classes_or_none(["GM12878|CTCF|None", "K562|H3K4me3|None"])
    ['TF', 'histone']
    >>> target_classes_or_none(["target_0", "target_1"]) is None
    True
    """
    from .targets import N_TARGETS, target_classes

    names = [str(n) for n in target_names]
    deepsea_form = all(n.count("|") == 2 for n in names)
    if len(names) != N_TARGETS and not deepsea_form:
        return None
    try:
        return target_classes(names).tolist()
    except ValueError as e:
        if not deepsea_form:
            return None
        warnings.warn(f"{e} Classifying the targets by name instead.", stacklevel=2)
        return target_classes(names, by="name").tolist()


@parameter_constraints(_TABLE_CONSTRAINTS)
def evaluation_table(y_true, y_score, target_names=None, target_classes=None, *,
                     min_positives=DEFAULT_MIN_POSITIVES, progress=False):
    """Per-target ROC AUC and PR AUC with the counts behind them.

    A target with fewer than ``min_positives`` positives (or no negatives)
    gets NaN AUCs and a ``status`` saying why: its AUC would be noise, and
    it is left out of :func:`class_summary`'s medians.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_targets)
        0/1 labels.
    y_score : array-like of the same shape
        Predicted probabilities.
    target_names : sequence of str, default=None
        One name per target; None: ``"target_0"``, ...
    target_classes : sequence of str or None, default=None
        The class of each target ("DNase", "TF", "histone"; see
        :func:`target_classes_or_none`); None leaves the column empty.
    min_positives : int, default=10
        Fewest positives for a target to be scored (Selene's default; the
        DeepSEA paper does not state its rule).
    progress : bool, default=False
        Show a tqdm progress bar over the targets (919 targets of the
        DeepSEA test set take minutes).

    Returns
    -------
    table : pandas.DataFrame
        One row per target, columns ``target``, ``class``, ``positives``,
        ``negatives``, ``roc_auc``, ``pr_auc`` and ``status`` ("ok",
        "too few positives" or "no negatives"). ``table.attrs`` records
        ``min_positives``.

    Raises
    ------
    ValueError
        ``"evaluation_table: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value; if the shapes of ``y_true``
        and ``y_score`` disagree, a label is not 0 or 1, a score is not
        finite, or there are not one name and one class per target.

    Examples
    --------
    >>> from skdeepsea.report import evaluation_table
    >>> y = [[1, 0], [0, 0], [1, 1], [0, 0]]
    >>> p = [[0.9, 0.2], [0.1, 0.1], [0.8, 0.3], [0.3, 0.4]]
    >>> evaluation_table(y, p, ["a", "b"], min_positives=2)
      target class  positives  negatives  roc_auc  pr_auc             status
    0      a  None          2          2      1.0     1.0                 ok
    1      b  None          1          3      NaN     NaN  too few positives
    """
    y_true, y_score = check_binary_scores(y_true, y_score)
    n_targets = y_true.shape[1]
    names = ([f"target_{i}" for i in range(n_targets)] if target_names is None
             else [str(n) for n in target_names])
    if len(names) != n_targets:
        raise ValueError(f"{len(names)} target names for {n_targets} targets.")
    classes = [None] * n_targets if target_classes is None else list(target_classes)
    if len(classes) != n_targets:
        raise ValueError(f"{len(classes)} target classes for {n_targets} targets.")

    positives = y_true.sum(axis=0).astype(np.int64)
    negatives = len(y_true) - positives
    status = np.where(positives < min_positives, "too few positives",
                      np.where(negatives == 0, "no negatives", "ok")).astype(object)
    scored = np.flatnonzero(status == "ok")
    roc = np.full(n_targets, np.nan)
    pr = np.full(n_targets, np.nan)
    from tqdm.auto import tqdm

    with tqdm(total=scored.size, desc="scoring", unit="target", disable=not progress) as bar:
        for chunk in np.array_split(scored, max(1, -(-scored.size // 32))):
            if chunk.size:
                roc[chunk] = roc_auc_per_target(y_true[:, chunk], y_score[:, chunk])
                pr[chunk] = pr_auc_per_target(y_true[:, chunk], y_score[:, chunk])
                bar.update(chunk.size)
    table = pd.DataFrame({
        "target": names, "class": pd.Series(classes, dtype=object), "positives": positives,
        "negatives": negatives, "roc_auc": roc, "pr_auc": pr, "status": status,
    }, columns=_COLUMNS)
    table.attrs["min_positives"] = int(min_positives)
    return table


@parameter_constraints({"table": [TABLE]})
def class_summary(table):
    """Median ROC AUC and PR AUC per class, as the DeepSEA paper's table.

    Only targets with ``status == "ok"`` enter the medians.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`evaluation_table`.

    Returns
    -------
    summary : pandas.DataFrame
        Indexed by class (DNase, TF, histone, any other, then "all"), with
        columns ``targets``, ``scored``, ``median_roc_auc``,
        ``median_pr_auc``. Without classes, the "all" row only.

    Raises
    ------
    ValueError
        ``"class_summary: table must be ..., got <value>."`` if ``table`` is
        not a table of :func:`evaluation_table`.

    Examples
    --------
    >>> from skdeepsea.report import class_summary, evaluation_table
    >>> y = [[1, 1, 0], [0, 1, 1], [1, 0, 1], [0, 0, 0]]
    >>> p = [[0.9, 0.6, 0.2], [0.2, 0.7, 0.9], [0.6, 0.4, 0.7], [0.1, 0.5, 0.1]]
    >>> table = evaluation_table(y, p, ["a", "b", "c"], ["TF", "TF", "DNase"], min_positives=2)
    >>> class_summary(table).reset_index()
       class  targets  scored  median_roc_auc  median_pr_auc
    0  DNase        1       1             1.0            1.0
    1     TF        2       2             1.0            1.0
    2    all        3       3             1.0            1.0
    """
    ok = table["status"] == "ok"
    classes = table["class"]
    rows = {}
    for name in class_order(classes) + ["all"]:
        member = np.ones(len(table), bool) if name == "all" else (classes == name).to_numpy()
        chosen = table[member & ok.to_numpy()]
        rows[name] = {
            "targets": int(member.sum()),
            "scored": len(chosen),
            "median_roc_auc": float(chosen["roc_auc"].median()) if len(chosen) else np.nan,
            "median_pr_auc": float(chosen["pr_auc"].median()) if len(chosen) else np.nan,
        }
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "class"
    return summary


@parameter_constraints({"table": [TABLE], "n": _POSITIVE})
def default_curve_targets(table, n=5):
    """Targets spread over the range of ROC AUC: best, worst and quantiles between.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`evaluation_table`.
    n : int, default=5
        How many targets (fewer if fewer are scored).

    Returns
    -------
    indices : list of int
        Row indices of ``table``, best first.

    Raises
    ------
    ValueError
        ``"default_curve_targets: <parameter> must be ..., got <value>."``
        for a parameter of the wrong type or value.
    """
    ok = table.index[table["status"] == "ok"]
    if len(ok) == 0:
        return []
    ranked = ok[np.argsort(-table.loc[ok, "roc_auc"].to_numpy(), kind="stable")]
    picks = np.unique(np.round(np.linspace(0, len(ranked) - 1, min(n, len(ranked)))).astype(int))
    return [int(ranked[i]) for i in picks]


# ---------------------------------------------------------------------------------- prediction


@parameter_constraints({
    "estimator": [HasMethods(("predict_proba",), "a fitted classifier (with predict_proba)")],
    # Whatever the estimator reads (arrays, lazy arrays, data sets): its own checks.
    "X": [Satisfies(lambda value: value is not None, "the estimator's inputs")],
    "batch_size": _POSITIVE,
    "progress": [Boolean()],
})
def predict_proba_batches(estimator, X, *, batch_size=1024, progress=True):
    """Predicted probabilities of one-hot sequences, read and predicted a batch at a time.

    ``X`` may be a lazy array (an h5py dataset, ``open_dataset(...).X``) far
    larger than memory: a :class:`~skdeepsea.DeepSEAClassifier` reads it
    batch by batch through the package's one inference function.

    Parameters
    ----------
    estimator : fitted classifier
        A ``DeepSEAClassifier``, or any classifier with ``predict_proba``
        (which then gets ``X`` whole).
    X : array-like of shape (n_samples, ...)
        Inputs.
    batch_size : int, default=1024
        Samples per forward pass.
    progress : bool, default=True
        Show a tqdm progress bar.

    Returns
    -------
    proba : ndarray of shape (n_samples, n_outputs)
        The probabilities; for binary labels the positive class only.

    Raises
    ------
    ValueError
        ``"predict_proba_batches: <parameter> must be ..., got <value>."``
        for a parameter of the wrong type or value; the estimator's own
        errors for inputs it cannot read.
    """
    if hasattr(estimator, "forward"):  # a DeepSEAClassifier: its one inference path
        return estimator.forward(X, batch_size=batch_size, progress=progress)
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float32)
    return proba[:, 1:] if getattr(estimator, "target_type_", None) == "binary" else proba


# ---------------------------------------------------------------------------------------- report


# Every file a report may hold: those a new report does not write are removed with the
# commit, so that no file of an older report (a comparison, logos) stays beside the new page.
_REPORT_FILES = (
    "evaluation.tsv", "summary.tsv", "evaluation_other.tsv", "filters.meme", "index.html",
    *(f"figures/{name}.png" for name in (
        "roc_curves", "pr_curves", "roc_auc_distribution", "pr_auc_distribution",
        "comparison_roc_auc", "comparison_pr_auc", "filter_logos")),
)


def _save_figure(figure, folder, name):
    os.makedirs(os.path.join(folder, "figures"), exist_ok=True)
    relative = f"figures/{name}.png"
    figure.savefig(os.path.join(folder, relative), dpi=110)
    return relative


def _table_html(frame, float_format="{:.3f}".format, index=True):
    return frame.to_html(float_format=float_format, na_rep="", index=index, border=0,
                         classes="data", escape=True)


_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table.data { border-collapse: collapse; font-size: 0.85em; }
table.data th, table.data td { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em;
  text-align: right; }
figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.85em; color: #555; }
.note { color: #555; font-size: 0.9em; }
"""


@parameter_constraints({
    "directory": [PathLike()],
    **_TABLE_CONSTRAINTS,
    "curve_targets": [TargetKeys(), None],
    "other_score": [ArrayLike(), None],
    "labels": [NAME_PAIR],
    "motifs": [InstanceOf(FilterMotifs, "a FilterMotifs"), None],
    "title": [str],
    "details": [InstanceOf(Mapping, "a dict"), None],
})
def write_report(directory, y_true, y_score, target_names=None, target_classes=None, *,
                 min_positives=DEFAULT_MIN_POSITIVES, curve_targets=None, other_score=None,
                 labels=("model", "other"), motifs=None, title="skdeepsea evaluation",
                 details=None, progress=False):
    """Write an evaluation report: TSV tables, PNG figures and an HTML page.

    The folder gets ``evaluation.tsv`` (:func:`evaluation_table`),
    ``summary.tsv`` (:func:`class_summary`), ``figures/*.png`` and
    ``index.html``, which shows the summary (beside the DeepSEA paper's
    medians when the targets have classes), the figures and the whole table.
    With ``other_score`` a second model's table (``evaluation_other.tsv``)
    and a comparison scatter are added; with ``motifs`` the logos of the
    most informative first-layer filters and ``filters.meme``. Everything is
    written to a temporary folder first: if anything fails, nothing is left
    behind (see the notes).

    Parameters
    ----------
    directory : str or path-like
        Output folder (created; files already there are replaced).
    y_true : array-like of shape (n_samples, n_targets)
        0/1 labels.
    y_score : array-like of the same shape
        The model's probabilities.
    target_names, target_classes : sequence of str, default=None
        As for :func:`evaluation_table`.
    min_positives : int, default=10
        Fewest positives for a target to be scored.
    curve_targets : list of int or str, default=None
        Targets whose ROC and PR curves are drawn; None: five spread over the
        range of ROC AUC (:func:`default_curve_targets`), none when no
        target is scored.
    other_score : array-like of the same shape, default=None
        A second model's probabilities for the same samples.
    labels : tuple of str, default=("model", "other")
        Names of the model and of the other model.
    motifs : skdeepsea.motifs.FilterMotifs, default=None
        First-layer filter matrices to show as logos and write as MEME.
    title : str, default="skdeepsea evaluation"
        Title of the page.
    details : dict of str to str, default=None
        Lines shown at the top of the page (model file, data file, ...).
    progress : bool, default=False
        Show tqdm progress bars while scoring the targets.

    Returns
    -------
    table : pandas.DataFrame
        The per-target table.

    Raises
    ------
    ValueError
        ``"write_report: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value; if the shapes of ``y_true``,
        ``y_score`` and ``other_score`` disagree, a label is not 0 or 1, a
        score is not finite, there are not one name and one class per
        target, or a target of ``curve_targets`` is unknown. Nothing is
        written then.

    Notes
    -----
    The files are committed together (:func:`skdeepsea._atomic.atomic_files`):
    staged in a work folder inside ``directory`` and moved in, ``index.html``
    last, once all are written; files of an older report that this one does
    not write are removed. A run that fails or is killed before the commit
    leaves the previous report; the next run completes an interrupted commit
    or deletes the leftovers.
    """
    table = evaluation_table(y_true, y_score, target_names, target_classes,
                             min_positives=min_positives, progress=progress)
    summary = class_summary(table)
    other = None
    if other_score is not None:
        other = evaluation_table(y_true, other_score, target_names, target_classes,
                                 min_positives=min_positives, progress=progress)
    y_true, y_score = check_binary_scores(y_true, y_score)
    names = table["target"].tolist()
    # Chosen targets are looked up before anything is written (an unknown one is named);
    # without a scored target there is no curve to draw.
    curves = (default_curve_targets(table) if curve_targets is None
              else target_indices(names, curve_targets))

    with atomic_files(directory, last="index.html", remove=_REPORT_FILES) as folder:
        table.to_csv(os.path.join(folder, "evaluation.tsv"), sep="\t", index=False,
                     float_format="%.6g")
        summary.to_csv(os.path.join(folder, "summary.tsv"), sep="\t", float_format="%.6g")
        figures = []

        def add(figure, name, caption):
            figures.append((_save_figure(figure, folder, name), caption))

        if curves:
            add(plot_roc_curves(y_true, y_score, curves, names), "roc_curves",
                "ROC curves of chosen targets")
            add(plot_pr_curves(y_true, y_score, curves, names), "pr_curves",
                "Precision-recall curves of the same targets")
        add(plot_auc_distribution(table, "roc_auc"), "roc_auc_distribution",
            "ROC AUC of every scored target, per class")
        add(plot_auc_distribution(table, "pr_auc"), "pr_auc_distribution",
            "PR AUC of every scored target, per class")
        if other is not None:
            other.to_csv(os.path.join(folder, "evaluation_other.tsv"), sep="\t", index=False,
                         float_format="%.6g")
            for metric in ("roc_auc", "pr_auc"):
                add(plot_model_comparison(table, other, metric, labels=labels),
                    f"comparison_{metric}",
                    f"{labels[1]} against {labels[0]}, target by target")
        motif_section = ""
        if motifs is not None:
            from .motifs import write_meme
            from .plotting.logos import plot_filter_logos

            n_written = write_meme(motifs, os.path.join(folder, "filters.meme"))
            logo = _save_figure(plot_filter_logos(motifs), folder, "filter_logos")
            motif_section = (
                "<h2>What the first-layer filters learned</h2>\n"
                f"<p class=\"note\">Each filter's windows reaching {motifs.threshold:g} "
                "of its maximum over these sequences, counted into a position frequency matrix; "
                f"the most informative filters are drawn. All {n_written} filters with sites are "
                "in <a href=\"filters.meme\">filters.meme</a> (MEME format, for TOMTOM).</p>\n"
                f"<figure><img src=\"{logo}\" alt=\"sequence logos of the filters\"></figure>\n"
            )

        page = _page(title, details, table, summary, other, labels, figures, motif_section)
        with open(os.path.join(folder, "index.html"), "w", encoding="utf-8") as f:
            f.write(page)
    return table


def _page(title, details, table, summary, other, labels, figures, motif_section):
    esc = html.escape
    parts = [
        "<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
        f"<title>{esc(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if details:
        parts.append("<ul>" + "".join(
            f"<li>{esc(str(k))}: {esc(str(v))}</li>" for k, v in details.items()) + "</ul>")
    counts = table["status"].value_counts()
    parts.append(
        f"<p>{len(table)} targets; {counts.get('ok', 0)} scored. Targets with fewer than "
        f"{table.attrs['min_positives']} positives ({counts.get('too few positives', 0)}) or no "
        f"negatives ({counts.get('no negatives', 0)}) are listed without AUCs and left out of the "
        "medians.</p>"
    )
    shown = summary.rename(columns={"median_roc_auc": "median ROC AUC",
                                    "median_pr_auc": "median PR AUC"})
    published = PUBLISHED_MEDIANS.reindex(shown.index)
    if published.notna().any().any():
        shown["DeepSEA paper ROC AUC"] = published["median_roc_auc"]
        shown["DeepSEA paper PR AUC"] = published["median_pr_auc"]
    if other is not None:
        other_summary = class_summary(other)
        shown[f"{labels[1]} median ROC AUC"] = other_summary["median_roc_auc"]
        shown[f"{labels[1]} median PR AUC"] = other_summary["median_pr_auc"]
    parts += ["<h2>Median AUC per class</h2>", _table_html(shown)]
    parts.append("<h2>Figures</h2>")
    for src, caption in figures:
        parts.append(f"<figure><img src=\"{esc(src)}\" alt=\"{esc(caption)}\">"
                     f"<figcaption>{esc(caption)}</figcaption></figure>")
    parts.append(motif_section)
    parts += [
        "<h2>Every target</h2>",
        "<p class=\"note\">Also in <a href=\"evaluation.tsv\">evaluation.tsv</a>.</p>",
        _table_html(table, index=False), "</body>", "</html>", "",
    ]
    return "\n".join(parts)
