"""Per-base contribution scores: which bases drove a prediction.

Three methods, for any network a fitted :class:`~skdeepsea.DeepSEAClassifier`
holds (or any single-input, single-output Keras functional model), on every
Keras backend:

- ``"gradient_x_input"``: the gradient of the chosen output at the sequence,
  times the sequence.
- ``"integrated_gradients"`` (Sundararajan et al., 2017): the gradient averaged
  along the straight path from a reference to the sequence (Gauss-Legendre
  quadrature), times the difference.
- ``"deep_lift_shap"``: DeepLIFT's rescale rule (Shrikumar et al., 2017)
  against dinucleotide-shuffled references, averaged over the references,
  as tangermeme's ``deep_lift_shap`` and shap's ``DeepExplainer`` compute it.

All three are one computation: *multipliers* ``m`` (a gradient, a path-averaged
gradient, or DeepLIFT's multipliers) and a reference ``r`` give each base the
contribution ``x * (m - sum_c r_c m_c)`` at its position, averaged over the
references. Summed over a sequence this is ``sum m * (x - r)``, which for
integrated gradients and DeepLIFT equals the output difference from the
references (completeness; :attr:`Attributions.deltas` reports how far off).

DeepLIFT re-runs the network's own layers with each nonlinear layer wrapped in
the rule :data:`DEEPLIFT_RULES` gives its class (a value that is the layer's
output, a gradient that is DeepLIFT's multiplier, written with
``keras.ops.stop_gradient``); add a rule there for a layer of your own.
:func:`skdeepsea.variants.attribute_variants` explains both alleles of variants
(importable from here until 0.3, with a ``FutureWarning``). ``METHODS`` is the former name of
:data:`ATTRIBUTION_METHODS`.
"""

from ._api import ATTRIBUTION_METHODS, Attributions, attribute
from ._deeplift import DEEPLIFT_RULES, activation_rule, max_pooling_rule, rescale_rule
from ._io import read_attributions, write_attributions
from ._references import dinucleotide_shuffle

__all__ = [
    "ATTRIBUTION_METHODS",
    "Attributions",
    "DEEPLIFT_RULES",
    "METHODS",
    "activation_rule",
    "attribute",
    "dinucleotide_shuffle",
    "max_pooling_rule",
    "read_attributions",
    "rescale_rule",
    "write_attributions",
]

METHODS = ATTRIBUTION_METHODS


def __getattr__(name):
    # attribute_variants moved to skdeepsea.variants in 0.2 (variants import this package); the
    # former import path works, with a warning, until 0.3.
    if name == "attribute_variants":
        import warnings

        from ..variants._attribution import attribute_variants

        warnings.warn("skdeepsea.attribution.attribute_variants moved to "
                      "skdeepsea.variants.attribute_variants; the former path goes in 0.3.",
                      FutureWarning, stacklevel=2)
        return attribute_variants
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
