"""The gallery's scraper for figures made without pyplot.

skdeepsea's plots that make their own figure (``plot_filter_logos``, ``plot_roc_curves`` without
``ax``, ...) return a ``matplotlib.figure.Figure`` that pyplot does not know, so sphinx-gallery's
matplotlib scraper, which saves pyplot's figures, misses them. This one saves every such Figure
that an example's variables hold, once.
"""

import weakref

from sphinx_gallery.scrapers import figure_rst

_saved = weakref.WeakSet()


def figure_scraper(block, block_vars, gallery_conf, **kwargs):
    """Save the pyplot-less Figures of the example's variables not saved yet.

    It must run before sphinx-gallery's matplotlib scraper (see ``image_scrapers`` in conf.py).

    Parameters
    ----------
    block : tuple
        The code block that ran.
    block_vars : dict
        Its variables (``example_globals``) and the iterator of image paths.
    gallery_conf : dict
        sphinx-gallery's configuration.
    **kwargs
        Unused (sphinx-gallery's scraper signature).

    Returns
    -------
    rst : str
        The images' reStructuredText.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    # pyplot's figures are the matplotlib scraper's (it runs next, saves and closes them); once
    # closed they would look like pyplot-less ones in the variables of later blocks.
    _saved.update(plt.figure(number) for number in plt.get_fignums())
    figures = [
        value
        for value in block_vars["example_globals"].values()
        if isinstance(value, Figure) and value.canvas.manager is None and value not in _saved
    ]
    paths = []
    for figure, path in zip(figures, block_vars["image_path_iterator"]):
        figure.savefig(path)
        _saved.add(figure)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
