"""Noncoding variant effects and in silico mutagenesis with a fitted DeepSEA model.

From a VCF (or a table) and a reference genome to DeepSEA's scores per
variant and target: :func:`score_variants` (a DataFrame),
:func:`write_variant_scores` (streamed to TSV or HDF5) and
:class:`EValueTransformer` (e-values against background variants). Also
plain prediction on FASTA sequences or BED regions, and in silico
saturation mutagenesis with its heatmap. Reading VCF and FASTA files needs
pysam (the ``genomics`` extra); plots need matplotlib (the ``plot`` extra).
"""

from ._evalues import EValueTransformer
from ._io import MalformedVariantError, ReadReport, read_variants
from ._mutagenesis import in_silico_mutagenesis, plot_mutagenesis
from ._output import read_variant_scores, write_variant_scores
from ._predict import predict_bed, predict_fasta
from ._scoring import effect_scores, iter_variant_scores, score_variants
from ._windows import variant_windows

__all__ = [
    "EValueTransformer",
    "MalformedVariantError",
    "ReadReport",
    "effect_scores",
    "in_silico_mutagenesis",
    "iter_variant_scores",
    "plot_mutagenesis",
    "predict_bed",
    "predict_fasta",
    "read_variant_scores",
    "read_variants",
    "score_variants",
    "variant_windows",
    "write_variant_scores",
]
