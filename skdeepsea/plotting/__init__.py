"""Every figure skdeepsea draws, in one place.

One module per kind of figure: :mod:`~skdeepsea.plotting.curves` (ROC and
precision-recall curves), :mod:`~skdeepsea.plotting.auc` (per-target AUCs
per class, two models compared), :mod:`~skdeepsea.plotting.logos` (sequence
logos of PFMs and first-layer filters),
:mod:`~skdeepsea.plotting.mutagenesis` (in silico mutagenesis heatmaps) and
:mod:`~skdeepsea.plotting.attribution` (logos of per-base contribution scores).
The functions take arrays, tables and result objects, and import nothing of
the analyses that make them, so :mod:`skdeepsea.report`,
:mod:`skdeepsea.motifs` and :mod:`skdeepsea.variants` re-export them under
their old names.

matplotlib (and logomaker for logos), the ``plot`` extra, is imported when a
function is first called: importing this package costs nothing. Figures are
``matplotlib.figure.Figure`` objects made without pyplot, except the
mutagenesis heatmap, which returns pyplot axes so that a notebook shows it.
"""

from .attribution import plot_attribution_logo, plot_variant_attributions
from .auc import plot_auc_distribution, plot_model_comparison
from .curves import plot_pr_curves, plot_roc_curves
from .logos import plot_filter_logos, plot_logo
from .mutagenesis import plot_mutagenesis

__all__ = [
    "plot_attribution_logo",
    "plot_auc_distribution",
    "plot_filter_logos",
    "plot_logo",
    "plot_model_comparison",
    "plot_mutagenesis",
    "plot_pr_curves",
    "plot_roc_curves",
    "plot_variant_attributions",
]
