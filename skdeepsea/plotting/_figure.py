"""Making figures: matplotlib imported on first use, with one message when it is missing.

Also the constraints the plotting functions share (:mod:`skdeepsea._constraints`).
"""

from .._constraints import HasMethods, Satisfies, TargetKeys

_MISSING = "Plots need matplotlib: pip install 'skdeepsea[plot]'."


#: ``ax`` of a plotting function: matplotlib Axes (duck-typed: matplotlib is imported late).
AXES = HasMethods(("plot", "set", "set_title"), "a matplotlib Axes")
#: A pair of names: the two models of a comparison, the two panels of a variant.
NAME_PAIR = Satisfies(lambda value: isinstance(value, (tuple, list)) and len(value) == 2
                      and all(isinstance(name, str) for name in value), "a pair of names (str)")
#: One target, by name or index (a list would choose several).
ONE_TARGET = Satisfies(TargetKeys._key, "a target name (str) or index (int)")


def holding(attributes, what):
    """An object with these attributes, described as ``what``: an analysis' result, duck-typed
    (the analyses import plotting, so plotting imports none of them)."""
    return Satisfies(lambda value: all(hasattr(value, name) for name in attributes), what)


def new_figure(figsize):
    """A constrained-layout ``matplotlib.figure.Figure`` made without pyplot.

    No GUI backend and no global state are involved, so figures can be made
    in worker processes and saved to files safely.

    Parameters
    ----------
    figsize : tuple of float
        Width and height in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return Figure(figsize=figsize, layout="constrained")


def figure_and_axes(ax, figsize):
    """The axes to draw on and their figure: ``ax``'s, or a new figure's single axes.

    Parameters
    ----------
    ax : matplotlib Axes or None
        Axes given by the caller.
    figsize : tuple of float
        Size of the new figure when ``ax`` is None.

    Returns
    -------
    figure : matplotlib.figure.Figure
    ax : matplotlib Axes
    """
    if ax is not None:
        return ax.figure, ax
    figure = new_figure(figsize)
    return figure, figure.subplots()


def pyplot():
    """``matplotlib.pyplot``, for the figures meant to show in notebooks as they are drawn."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(_MISSING) from e
    return plt
