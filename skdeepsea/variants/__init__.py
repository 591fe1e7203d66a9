"""Noncoding variant effects and in silico mutagenesis with a fitted DeepSEA model.

From a VCF (or a table) and a reference genome to DeepSEA's scores per
variant and target: :func:`score_variants` (a DataFrame),
:func:`write_variant_scores` (streamed to TSV, HDF5 or Parquet) and
:class:`EValueTransformer` (e-values against background variants, or against
DeepSEA's published backgrounds with ``EValueTransformer.from_deepsea``), and
DeepSEA's eQTL / GWAS / HGMD classifiers as scikit-learn Pipelines
(:func:`load_deepsea_classifiers`); both
scoring functions run on a Dask cluster with ``client=``. Also plain
prediction on FASTA sequences or BED regions, and in silico saturation
mutagenesis with its heatmap. Reading VCF and FASTA files needs pysam (the
``genomics`` extra); plots need matplotlib (the ``plot`` extra); Parquet
needs pyarrow (``parquet``) and a cluster Dask (``distributed``).
"""

__all__ = [
    "CLASSIFIERS",
    "CONSERVATION_FEATURES",
    "CONSERVATION_IMPUTED",
    "ConservationScores",
    "EValueTransformer",
    "MalformedVariantError",
    "MutagenesisResult",
    "ReadReport",
    "VariantFeatures",
    "VariantSignificance",
    "attribute_variants",
    "deepsea_feature_names",
    "deepsea_target_names",
    "effect_scores",
    "functional_significance",
    "in_silico_mutagenesis",
    "iter_variant_scores",
    "load_deepsea_classifiers",
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
    "attribute_variants": "_attribution",
    "CLASSIFIERS": "_deepsea",
    "CONSERVATION_FEATURES": "_conservation",
    "CONSERVATION_IMPUTED": "_conservation",
    "deepsea_feature_names": "_deepsea",
    "deepsea_target_names": "_deepsea",
    "load_deepsea_classifiers": "_deepsea",
    "ConservationScores": "_conservation",
    "EValueTransformer": "_evalues",
    "VariantFeatures": "_features",
    "VariantSignificance": "_significance",
    "functional_significance": "_significance",
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
