"""Sequence logos of per-base contribution scores: a sequence, or a variant's two alleles."""

from numbers import Integral

import numpy as np

from .._constraints import ArrayLike, Interval, parameter_constraints
from ..preprocessing import ALPHABET_CONSTRAINT, DEFAULT_ALPHABET
from ..targets import target_indices
from ._figure import AXES, NAME_PAIR, ONE_TARGET, holding, new_figure
from .logos import _logomaker

__all__ = ["plot_attribution_logo", "plot_variant_attributions"]


ATTRIBUTIONS = holding(("scores", "targets", "sequences", "hypothetical"),
                       "an Attributions (of skdeepsea.attribution.attribute)")
_INDEX = Interval(Integral, 0, None)


def _region(length, start, end):
    start = 0 if start is None else int(start)
    end = length if end is None else int(end)
    if not 0 <= start < end <= length:
        raise ValueError(f"start={start}, end={end} must satisfy 0 <= start < end <= {length}.")
    return start, end


def _scores_of(attributions, sequence, target):
    """One sequence's (length, channels) scores of one target, present bases only."""
    k = target_indices(attributions.targets, target)[0]
    if not 0 <= sequence < len(attributions.scores):
        raise ValueError(f"sequence {sequence} is out of range: there are "
                         f"{len(attributions.scores)} sequences.")
    scores = attributions.scores[sequence, k]
    if attributions.hypothetical:
        scores = scores * attributions.sequences[sequence]
    return scores, attributions.targets[k]


@parameter_constraints({
    "scores": [ArrayLike()], "alphabet": [ALPHABET_CONSTRAINT], "start": [_INDEX, None],
    "end": [Interval(Integral, 1, None), None], "ax": [AXES, None], "title": [str, None],
    "positions_offset": [Interval(Integral, None, None)],
})
def plot_attribution_logo(scores, alphabet=DEFAULT_ALPHABET, *, start=None, end=None, ax=None,
                          title=None, positions_offset=0):
    """Draw contribution scores as a sequence logo (letters above or below zero).

    Parameters
    ----------
    scores : array-like of shape (length, n_channels)
        One sequence's scores, channels in ``alphabet`` order (e.g.
        ``attributions.scores[i, k]`` of :func:`skdeepsea.attribution.attribute`).
        Each letter's height is its score; negative scores hang below zero.
    alphabet : str, default="ATGC"
        Base order of the channels.
    start, end : int or None, default=None
        Draw positions ``start`` to ``end - 1`` only; None: all.
    ax : matplotlib Axes, default=None
        Where to draw; None makes a new Figure.
    title : str, default=None
        Title of the axes.
    positions_offset : int, default=0
        Added to the positions on the x axis (e.g. a genomic start).

    Returns
    -------
    figure : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        ``"plot_attribution_logo: <parameter> must be ..., got <value>."``
        for a parameter of the wrong type or value; if ``scores`` is not
        two-dimensional with one column per base of ``alphabet``, or the
        region is empty or out of range.
    """
    import pandas as pd

    logomaker = _logomaker()
    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or scores.shape[1] != len(alphabet):
        raise ValueError(f"scores must have shape (length, {len(alphabet)}) for alphabet "
                         f"{alphabet!r}, got {scores.shape}.")
    start, end = _region(len(scores), start, end)
    if ax is None:
        ax = new_figure((max(3.0, 0.18 * (end - start)), 1.8)).subplots()
    frame = pd.DataFrame(scores[start:end], columns=list(alphabet),
                         index=np.arange(start, end) + positions_offset)
    logomaker.Logo(frame, ax=ax, color_scheme="classic", flip_below=False)
    ax.axhline(0, color="0.5", linewidth=0.5)
    ax.set_xlim(start + positions_offset - 0.5, end + positions_offset - 0.5)
    ax.set_ylabel("contribution")
    if title:
        ax.set_title(title, fontsize=9)
    return ax.figure


@parameter_constraints({
    "ref": [ATTRIBUTIONS], "alt": [ATTRIBUTIONS], "index": [_INDEX], "target": [ONE_TARGET],
    "position": [_INDEX, None], "flank": [_INDEX], "titles": [NAME_PAIR],
})
def plot_variant_attributions(ref, alt, index=0, *, target=0, position=None, flank=20,
                              titles=("reference", "alternative")):
    """The contribution logos of a variant's reference and alternative windows, stacked.

    Both panels share the y axis, so the heights compare; the variant's
    position is shaded.

    Parameters
    ----------
    ref, alt : skdeepsea.attribution.Attributions
        Scores of the reference and alternative windows (e.g. from
        :func:`skdeepsea.variants.attribute_variants`).
    index : int, default=0
        Which variant (row of ``ref`` and ``alt``).
    target : str or int, default=0
        Target name or index in ``ref.targets``.
    position : int or None, default=None
        Index of the variant in the window; None: ``length // 2 - 1``, where
        variant scoring puts it.
    flank : int, default=20
        Bases drawn on each side of the variant.
    titles : tuple of str, default=("reference", "alternative")
        Titles of the two panels (the target name is appended).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Two axes, reference on top.

    Raises
    ------
    ValueError
        ``"plot_variant_attributions: <parameter> must be ..., got <value>."``
        for a parameter of the wrong type or value; if ``index`` or
        ``position`` is out of range, or ``target`` is unknown.
    """
    ref_scores, name = _scores_of(ref, index, target)
    alt_scores, _ = _scores_of(alt, index, target)
    length = len(ref_scores)
    position = length // 2 - 1 if position is None else int(position)
    if position >= length:
        raise ValueError(f"position {position} is out of range: the windows have {length} "
                         "positions.")
    start, end = max(0, position - flank), min(length, position + flank + 1)
    figure = new_figure((max(4.0, 0.2 * (end - start)), 3.6))
    axes = figure.subplots(2, 1, sharex=True, sharey=True)
    for ax, scores, title in zip(axes, (ref_scores, alt_scores), titles):
        plot_attribution_logo(scores, ref.alphabet, start=start, end=end, ax=ax,
                              title=f"{title}: {name}")
        ax.axvspan(position - 0.5, position + 0.5, color="0.85", zorder=-1)
    axes[1].set_xlabel("position in window")
    return figure
