"""DeepSEA's variant windows: the reference and alternative sequences around a variant."""

import re
from numbers import Integral

import numpy as np
import pandas as pd

from .._constraints import HasMethods, InstanceOf, Interval, Options, parameter_constraints

_ALLELE = re.compile(r"^[ACGTN]+$")
CONTIG_ENDS = ("skip", "pad")
_VARIANT_COLUMNS = ("chrom", "pos", "ref", "alt")
# What variant_windows accepts; variant scoring reuses the options.
WINDOW_CONSTRAINTS = {
    "max_indel_length": [Interval(Integral, 0, None)],
    "ref_mismatch": [Options(str, ("skip", "score"))],
    "contig_ends": [Options(str, CONTIG_ENDS)],
    "sequence_length": [Interval(Integral, 1, None)],
    "genome": [HasMethods(("fetch", "resolve"), "a Genome")],
    "variants": [InstanceOf(pd.DataFrame, "a pandas.DataFrame")],  # its columns: in code
}


def allele_flank(max_indel_length):
    """Bases fetched beyond the window on each side: 50 for DeepSEA's indels of up to 100 bp."""
    return (max_indel_length + 1) // 2


def variant_index(sequence_length):
    """Index of an SNV (an indel's first base) in its window: 499 of 1000, as in DeepSEA."""
    return sequence_length // 2 - 1


@parameter_constraints(WINDOW_CONSTRAINTS)
def variant_windows(genome, variants, sequence_length, *, max_indel_length=100,
                    ref_mismatch="skip", contig_ends="skip"):
    """Reference and alternative windows of the variants, as DeepSEA builds them.

    DeepSEA (v0.94) fetches ``sequence_length + 100`` bases with the variant's
    first base at index ``sequence_length // 2 - 1 + 50`` (549 for 1000 bp),
    replaces ``len(REF)`` bases there by ALT, and keeps the central
    ``sequence_length`` bases of each sequence ``s``:
    ``s[(len(s) - L) // 2 : (len(s) - L) // 2 + L]``. An SNV thus sits at
    index 499 of a 1000 bp window; an indel's alt window shifts by half its
    length change.

    Parameters
    ----------
    genome : Genome
        The reference genome.
    variants : pandas.DataFrame
        Columns chrom, pos (1-based), ref and alt.
    sequence_length : int
        Window length ``L``.
    max_indel_length : int, default=100
        Longest allele scored, not counting the first (anchor) base: longer
        variants are reported with a reason and not scored.
    ref_mismatch : {"skip", "score"}, default="skip"
        A REF that disagrees with the genome is reported and not scored
        ("skip"), or scored with the REF as written in the variant file
        ("score").
    contig_ends : {"skip", "pad"}, default="skip"
        A variant whose fetched bases (``sequence_length + 2 * flank``,
        ``pos - 549 .. pos + 550`` for DeepSEA) reach past either end of its
        contig is not scored ("skip", as DeepSEA drops it), or its windows
        hold N there ("pad").

    Returns
    -------
    ref_windows, alt_windows : list of str
        Windows of length ``L`` for the variants to score ("" for the others).
    info : dict of str to ndarray
        ``ref_match`` (1 match, 0 mismatch, -1 unknown), ``padded`` (with
        ``contig_ends="pad"``: a window reaches past the contig's ends and
        holds N there), ``scored``
        and ``reason`` (why a variant is not scored, or "").

    Raises
    ------
    ValueError
        For a parameter of the wrong type or value (naming it), or variants
        without the columns chrom, pos, ref and alt.
    """
    missing = [column for column in _VARIANT_COLUMNS if column not in variants.columns]
    if missing:
        raise ValueError(f"variant_windows: variants lacks the column(s) "
                         f"{', '.join(map(repr, missing))}; it needs chrom, pos (1-based), ref "
                         "and alt.")
    n = len(variants)
    flank = allele_flank(max_indel_length)
    centre = variant_index(sequence_length) + flank  # the variant's first base in the fetched bases
    total = sequence_length + 2 * flank
    ref_windows, alt_windows = [""] * n, [""] * n
    ref_match = np.full(n, -1, dtype=np.int8)
    padded = np.zeros(n, dtype=bool)
    scored = np.zeros(n, dtype=bool)
    reasons = [""] * n
    rows = zip(variants["chrom"], variants["pos"], variants["ref"], variants["alt"])
    for i, (chrom, pos, ref, alt) in enumerate(rows):
        if not _ALLELE.match(ref) or not _ALLELE.match(alt):
            bad = alt if _ALLELE.match(ref) else ref
            kind = "symbolic or missing" if bad[:1] in "<*." or "[" in bad or "]" in bad else \
                "not a DNA"
            reasons[i] = f"allele {bad!r} is {kind} sequence"
            continue
        if max(len(ref), len(alt)) - 1 > max_indel_length:
            reasons[i] = (f"indel longer than max_indel_length={max_indel_length} "
                          f"(REF {len(ref)} bp, ALT {len(alt)} bp)")
            continue
        try:
            name = genome.resolve(chrom)
        except KeyError:
            reasons[i] = f"contig {chrom!r} not in the genome"
            continue
        length = genome.contigs[name]
        start = int(pos) - 1
        if start >= length:
            reasons[i] = f"position {pos} is past the end of {name} ({length} bp)"
            continue
        if contig_ends == "skip" and (start - centre < 0 or start - centre + total > length):
            # One reason per contig, so that a summary counts them together.
            reasons[i] = f"{total} bp window leaves contig {name} (contig_ends='skip')"
            continue
        genome_ref = genome.fetch(name, start, start + len(ref))
        ref_match[i] = genome_ref == ref
        if not ref_match[i]:
            if ref_mismatch == "skip":
                reasons[i] = f"REF {ref!r} does not match the genome ({genome_ref!r})"
                continue
        else:
            ref = genome_ref
        left = genome.fetch(name, start - centre, start)
        right_end = max(start - centre + total, start + len(ref))
        right = genome.fetch(name, start + len(ref), right_end)
        ref_full = left + ref + right
        alt_full = left + alt + right
        ref_crop = (len(ref_full) - sequence_length) // 2
        alt_crop = (len(alt_full) - sequence_length) // 2
        ref_windows[i] = ref_full[ref_crop:ref_crop + sequence_length]
        alt_windows[i] = alt_full[alt_crop:alt_crop + sequence_length]
        # Genome coordinates the windows span: left of the allele they start at
        # (start - centre + crop); right of it they end past the ALT / REF.
        first = start - centre + min(ref_crop, alt_crop)
        last_ref = start + len(ref) + (ref_crop + sequence_length - centre - len(ref))
        last_alt = start + len(ref) + (alt_crop + sequence_length - centre - len(alt))
        padded[i] = first < 0 or max(last_ref, last_alt) > length
        scored[i] = True
    info = {"ref_match": ref_match, "padded": padded, "scored": scored,
            "reason": np.array(reasons, dtype=object)}
    return ref_windows, alt_windows, info
