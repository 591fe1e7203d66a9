"""Contribution scores of both alleles of variants: the windows of variant scoring, explained
by :func:`skdeepsea.attribution.attribute`."""

import numpy as np
import pandas as pd

from ..attribution import attribute
from ._io import read_variants
from ._windows import variant_windows


def attribute_variants(model, variants, genome, *, max_indel_length=100, **options):
    """Contribution scores of the reference and alternative windows of variants.

    Windows are built as variant scoring builds them
    (:func:`skdeepsea.variants.variant_windows`: the variant's first base at
    index ``L // 2 - 1``); variants that cannot be scored (a REF that
    disagrees with the genome, a long indel) are left out and listed.

    Parameters
    ----------
    model : DeepSEAClassifier
        A fitted classifier of one-hot DNA.
    variants : str, path-like or pandas.DataFrame
        A VCF or a table with chrom, pos, ref and alt (see
        :func:`skdeepsea.variants.read_variants`).
    genome : skdeepsea.genome.Genome
        The reference genome.
    max_indel_length : int, default=100
        Longest allele scored.
    **options
        Passed to :func:`skdeepsea.attribution.attribute` (``targets``,
        ``method``, ``strand``, ...).

    Returns
    -------
    variants : pandas.DataFrame
        Every variant read, with ``scored`` and ``reason`` columns.
    ref, alt : skdeepsea.attribution.Attributions or None
        Scores of the reference and alternative windows of the scored
        variants, in order; None when no variant could be scored.
    """
    frame = pd.concat(list(read_variants(variants)), ignore_index=True)
    length = int(model.sequence_length_)
    ref_windows, alt_windows, info = variant_windows(
        genome, frame, length, max_indel_length=max_indel_length)
    frame = frame.assign(scored=info["scored"], reason=info["reason"])
    keep = np.flatnonzero(info["scored"])
    if not len(keep):
        return frame, None, None
    ref = attribute(model, [ref_windows[i] for i in keep], **options)
    alt = attribute(model, [alt_windows[i] for i in keep], **options)
    return frame, ref, alt
