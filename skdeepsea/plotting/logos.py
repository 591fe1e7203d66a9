"""Sequence logos of position frequency matrices, one or a grid of first-layer filters."""

from numbers import Integral

import numpy as np

from .._constraints import (
    ArrayLike,
    Boolean,
    InstanceOf,
    Interval,
    TargetKeys,
    parameter_constraints,
)
from .._validation import check_pfm
from ..targets import target_indices
from ._figure import AXES, holding, new_figure

__all__ = ["plot_filter_logos", "plot_logo"]

_COLUMNS = ["A", "C", "G", "T"]
#: A matrix, or a consensus string (:func:`skdeepsea._validation.check_pfm` reads both).
PFM = [InstanceOf(str, "a consensus (str)"), ArrayLike()]


FILTER_MOTIFS = holding(("information_content", "frequencies", "consensus", "n_sites", "names"),
                        "a FilterMotifs (of skdeepsea.motifs.filter_motifs)")


def _logomaker():
    try:
        import logomaker
    except ImportError as e:
        raise ImportError(
            "Sequence logos need matplotlib and logomaker: pip install 'skdeepsea[plot]'."
        ) from e
    return logomaker


@parameter_constraints({"pfm": PFM, "ax": [AXES, None], "title": [str, None],
                        "information": [Boolean()]})
def plot_logo(pfm, *, ax=None, title=None, information=True):
    """Draw a sequence logo of one PFM with logomaker.

    Parameters
    ----------
    pfm : array-like of shape (width, 4) or str
        Frequencies with columns A, C, G, T (e.g. a row of
        :meth:`skdeepsea.motifs.FilterMotifs.frequencies`), or a consensus
        string ("GATAAG"), read as one base per position.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new Figure.
    title : str, default=None
        Title of the axes.
    information : bool, default=True
        Letter heights in bits (information content); False: probabilities.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        ``"plot_logo: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type; if the matrix is empty or not 4 columns
        wide, or the consensus holds another character than A, C, G, T.
    """
    import pandas as pd

    logomaker = _logomaker()
    pfm = check_pfm(pfm)
    if ax is None:
        ax = new_figure((max(2.0, 0.4 * len(pfm)), 1.6)).subplots()
    frame = pd.DataFrame(pfm, columns=_COLUMNS)
    if information:
        frame = logomaker.transform_matrix(frame, from_type="probability", to_type="information")
    logomaker.Logo(frame, ax=ax, color_scheme="classic")
    ax.set_ylim(0, 2 if information else 1)
    ax.set_ylabel("bits" if information else "probability")
    ax.set_xticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


@parameter_constraints({"motifs": [FILTER_MOTIFS], "filters": [TargetKeys(), None],
                        "n_top": [Interval(Integral, 1, None)],
                        "n_columns": [Interval(Integral, 1, None)],
                        "min_sites": [Interval(Integral, 0, None)]})
def plot_filter_logos(motifs, filters=None, *, n_top=12, n_columns=4, min_sites=10):
    """Sequence logos of several filters in one Figure.

    Parameters
    ----------
    motifs : skdeepsea.motifs.FilterMotifs
        The filters' matrices.
    filters : list of int or str, default=None
        Filters to draw (indices or names); None draws the ``n_top`` with
        the most information among those with at least ``min_sites`` sites.
    n_top : int, default=12
        How many filters to draw when ``filters`` is None.
    n_columns : int, default=4
        Logos per row.
    min_sites : int, default=10
        Fewest sites of a filter drawn when ``filters`` is None.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        ``"plot_filter_logos: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value; if a filter in ``filters`` is
        unknown, or ``filters`` is empty.
    """
    _logomaker()
    bits = motifs.information_content()
    if filters is None:
        eligible = np.flatnonzero(motifs.n_sites >= min_sites)
        indices = eligible[np.argsort(-bits[eligible], kind="stable")][:n_top].tolist()
    else:
        indices = target_indices(motifs.names, filters, what="filter")
    pfms, consensus = motifs.frequencies(), motifs.consensus()
    rows = max(1, -(-len(indices) // n_columns))
    figure = new_figure((3.2 * n_columns, 1.7 * rows))
    axes = np.atleast_1d(figure.subplots(rows, n_columns, squeeze=False).ravel())
    for ax, i in zip(axes, indices):
        plot_logo(pfms[i], ax=ax, title=(
            f"{motifs.names[i]}  {consensus[i]}\n{motifs.n_sites[i]} sites, {bits[i]:.1f} bits"
        ))
    for ax in axes[len(indices):]:
        ax.set_axis_off()
    if not indices:
        axes[0].text(0.5, 0.5, f"No filter has {min_sites} or more sites.", ha="center",
                     va="center", transform=axes[0].transAxes)
    return figure
