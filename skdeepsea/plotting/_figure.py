"""Making figures: matplotlib imported on first use, with one message when it is missing."""

_MISSING = "Plots need matplotlib: pip install 'skdeepsea[plot]'."


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
