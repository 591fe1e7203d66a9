"""Contribution scores of both alleles of variants: the windows of variant scoring, explained
by :func:`skdeepsea.attribution.attribute`."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._constraints import PathLike, parameter_constraints
from ..attribution import attribute
from ..attribution._api import ATTRIBUTE_CONSTRAINTS
from ..genome import opened_genome
from ._io import READ_CONSTRAINTS, VARIANT_COLUMNS, read_variants
from ._scoring import SCORE_CONSTRAINTS
from ._windows import WINDOW_CONSTRAINTS, variant_windows

# The options attribute_variants passes on to attribute (**options).
_OPTION_CONSTRAINTS = {name: value for name, value in ATTRIBUTE_CONSTRAINTS.items()
                       if name not in ("model", "X")}


@parameter_constraints({"model": SCORE_CONSTRAINTS["model"],
                        "variants": READ_CONSTRAINTS["source"],
                        "genome": [*WINDOW_CONSTRAINTS["genome"], PathLike()],
                        "max_indel_length": WINDOW_CONSTRAINTS["max_indel_length"],
                        **_OPTION_CONSTRAINTS})
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
    genome : skdeepsea.genome.Genome, str or path-like
        The reference genome: open, or a FASTA file opened for the call.
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

    Raises
    ------
    ValueError
        For a parameter or option of the wrong type or value, naming it,
        before anything is read; as :func:`skdeepsea.attribution.attribute`
        for the windows.
    TypeError
        For a keyword argument that is not an option of ``attribute``.
    sklearn.exceptions.NotFittedError
        If ``model`` is not fitted.
    """
    check_is_fitted(model, "model_")
    chunks = list(read_variants(variants))
    if not chunks:  # a file of no variant: nothing to attribute
        return pd.DataFrame(columns=[*VARIANT_COLUMNS, "scored", "reason"]), None, None
    frame = pd.concat(chunks, ignore_index=True)
    length = int(model.sequence_length_)
    with opened_genome(genome) as genome:
        ref_windows, alt_windows, info = variant_windows(
            genome, frame, length, max_indel_length=max_indel_length)
    frame = frame.assign(scored=info["scored"], reason=info["reason"])
    keep = np.flatnonzero(info["scored"])
    if not len(keep):
        return frame, None, None
    ref = attribute(model, [ref_windows[i] for i in keep], **options)
    alt = attribute(model, [alt_windows[i] for i in keep], **options)
    return frame, ref, alt
