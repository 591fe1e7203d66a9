"""Heatmaps of in silico mutagenesis: one target's scores, bases by positions."""

import numpy as np

from .._constraints import InstanceOf, Satisfies, parameter_constraints
from ..targets import target_indices
from ._figure import AXES, ONE_TARGET, holding, pyplot

__all__ = ["plot_mutagenesis"]


def _colormap(value):
    """A colour map matplotlib knows by name, or a Colormap (without matplotlib: left to it)."""
    try:
        import matplotlib
    except ImportError:  # pyplot() names the missing extra
        return isinstance(value, str)
    from matplotlib.colors import Colormap

    return value in matplotlib.colormaps if isinstance(value, str) else \
        isinstance(value, Colormap)


@parameter_constraints({
    "result": [holding(("score", "SCORES", "target_names", "positions", "bases", "sequence"),
                       "a MutagenesisResult (of skdeepsea.variants.in_silico_mutagenesis)")],
    "target": [ONE_TARGET],
    "score": [InstanceOf(str, "a score name (str)")],  # one of result.SCORES, in the body
    "ax": [AXES, None],
    "cmap": [Satisfies(_colormap, "a matplotlib colour map (its name or a Colormap)")],
})
def plot_mutagenesis(result, target=0, *, score="diff", ax=None, cmap="RdBu_r"):
    """Heatmap of one target's mutagenesis scores: bases x positions.

    Parameters
    ----------
    result : skdeepsea.variants.MutagenesisResult
        From :func:`skdeepsea.variants.in_silico_mutagenesis`.
    target : str or int, default=0
        Target name or index in ``result.target_names``.
    score : str, default="diff"
        Score to show (see :meth:`MutagenesisResult.score`).
    ax : matplotlib Axes or None, default=None
        Where to draw; None makes a new pyplot figure (shown by notebooks).
    cmap : str or matplotlib Colormap, default="RdBu_r"
        Colour map, centred on zero for signed scores.

    Returns
    -------
    ax : matplotlib Axes
        The heatmap, with the reference base of each position outlined.

    Raises
    ------
    ValueError
        ``"plot_mutagenesis: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value; if ``target`` is unknown.
    """
    if score not in result.SCORES:
        raise ValueError(f"plot_mutagenesis: score must be one of {tuple(result.SCORES)}, "
                         f"got {score!r}.")
    plt = pyplot()
    from matplotlib.patches import Rectangle

    index = target_indices(result.target_names, target)[0]
    values = result.score(score)[:, :, index].T  # (4, n_positions)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, len(result.positions) / 12), 2.2))
    limit = float(np.nanmax(np.abs(values))) or 1.0
    signed = score in ("diff", "logfc")
    image = ax.imshow(values, aspect="auto", cmap=cmap if signed else "viridis",
                      vmin=-limit if signed else 0, vmax=limit, interpolation="nearest",
                      extent=(result.positions[0] - 0.5, result.positions[-1] + 0.5, 3.5, -0.5))
    bases = result.bases
    for p in result.positions:
        if result.sequence[p] in bases:
            row = bases.index(result.sequence[p])
            ax.add_patch(Rectangle((p - 0.5, row - 0.5), 1, 1, fill=False, lw=0.5,
                                   edgecolor="black"))
    ax.set_yticks(range(4), list(bases))
    ax.set_xlabel("position")
    ax.set_title(f"{result.target_names[index]}: {score}")
    ax.figure.colorbar(image, ax=ax, label=score)
    return ax
