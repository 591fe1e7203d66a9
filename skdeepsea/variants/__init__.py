"""Noncoding variant effects and in silico mutagenesis with a fitted DeepSEA model.

From a VCF (or a table) and a reference genome to DeepSEA's scores per
variant and target: :func:`score_variants` (a DataFrame),
:func:`write_variant_scores` (streamed to TSV, HDF5 or Parquet) and
:class:`EValueTransformer` (e-values against background variants); both
scoring functions run on a Dask cluster with ``client=``. Also plain
prediction on FASTA sequences or BED regions, and in silico saturation
mutagenesis with its heatmap. Reading VCF and FASTA files needs pysam (the
``genomics`` extra); plots need matplotlib (the ``plot`` extra); Parquet
needs pyarrow (``parquet``) and a cluster Dask (``distributed``).
"""

__all__ = [
    "ConservationScores",
    "EValueTransformer",
    "MalformedVariantError",
    "MutagenesisResult",
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

# Submodules are imported when a name is first used, so that ``import skdeepsea.variants``
# does not import pandas and pysam.
_HOMES = {
    "ConservationScores": "_conservation",
    "EValueTransformer": "_evalues",
    "MalformedVariantError": "_io",
    "ReadReport": "_io",
    "read_variants": "_io",
    "in_silico_mutagenesis": "_mutagenesis",
    "plot_mutagenesis": "_mutagenesis",
    "MutagenesisResult": "_mutagenesis",
    "read_variant_scores": "_output",
    "write_variant_scores": "_api",
    "predict_bed": "_predict",
    "predict_fasta": "_predict",
    "effect_scores": "_scoring",
    "iter_variant_scores": "_scoring",
    "score_variants": "_api",
    "variant_windows": "_windows",
}


def __getattr__(name):
    if name in _HOMES:
        from importlib import import_module

        return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
