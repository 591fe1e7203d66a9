"""Datasets for DeepSEA models: synthetic chromatin data and the motifs behind it."""

from ._motifs import load_motifs
from ._synthetic import make_chromatin_dataset

__all__ = ["load_motifs", "make_chromatin_dataset"]
