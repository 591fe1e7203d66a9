"""Scoring variants with a fitted DeepSEAClassifier: windows -> network -> effect scores."""

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ..preprocessing import OneHotDNA, reverse_complement
from ..targets import target_indices
from ._io import ReadReport, read_variants
from ._windows import variant_windows

SCORES = ("ref", "alt", "diff", "logfc", "abs_diff", "effect")
STRANDS = ("mean", "forward", "max")
INFO_COLUMNS = ["chrom", "pos", "id", "ref", "alt", "line", "ref_match", "padded", "scored",
                "reason"]


def column_name(score, target):
    """The output column of one score for one target, e.g. ``"diff:CTCF"``."""
    return f"{score}:{target}"


class ModelTargets:
    """The network outputs a fitted classifier exposes, and their names.

    Parameters
    ----------
    model : DeepSEAClassifier
        A fitted classifier of one-hot DNA.
    targets : str, int, list of str or int, or None, default=None
        Targets chosen by name or index (:func:`skdeepsea.targets.target_indices`);
        None: all.
    """

    def __init__(self, model, targets=None):
        check_is_fitted(model, "model_")
        if getattr(model, "input_channels", 4) != 4:
            raise ValueError("Variant scoring needs a model of one-hot DNA (input_channels=4).")
        n_outputs = int(model.model_.outputs[0].shape[-1])
        names = [str(n) for n in model.target_names_]
        if model.target_type_ == "binary":
            names = names[1:]  # the single sigmoid output is the second class
        if len(names) != n_outputs:
            names = [f"target_{i}" for i in range(n_outputs)]
        self.indices = np.array(target_indices(names, targets), dtype=int)
        self.names = [names[i] for i in self.indices]
        self.sequence_length = int(model.sequence_length_)
        self.alphabet = model.alphabet_
        self.model = model


def network_predict(model, X, batch_size):
    """The network's outputs for one-hot sequences, one strand, no averaging.

    ``X`` may be uint8: it travels as such and is cast on the device, so a
    chunk of windows never exists as float32 (identical outputs, a quarter of
    the memory).
    """
    from .._engine.inference import predict_batches

    return predict_batches(model.model_, X, batch_size=batch_size).astype(np.float64)


def effect_scores(p_ref, p_alt, epsilon=1e-6):
    """DeepSEA's scores from the reference and alternative probabilities.

    Parameters
    ----------
    p_ref, p_alt : ndarray
        Probabilities, of one shape.
    epsilon : float, default=1e-6
        Probabilities are clipped to ``[epsilon, 1 - epsilon]`` before the log
        odds, so that no score is infinite.

    Returns
    -------
    scores : dict of str to ndarray
        ``ref``, ``alt``, ``diff`` = alt - ref, ``logfc`` = log2 odds(alt) -
        log2 odds(ref), ``abs_diff`` and ``effect`` = ``|diff * logfc|``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.variants import effect_scores
    >>> s = effect_scores(np.array([0.5]), np.array([0.8]))
    >>> round(float(s["diff"][0]), 3), round(float(s["logfc"][0]), 3)
    (0.3, 2.0)
    """
    p_ref = np.asarray(p_ref, dtype=np.float64)
    p_alt = np.asarray(p_alt, dtype=np.float64)
    ref_clip = np.clip(p_ref, epsilon, 1 - epsilon)
    alt_clip = np.clip(p_alt, epsilon, 1 - epsilon)
    diff = p_alt - p_ref
    logfc = (np.log2(alt_clip) - np.log2(1 - alt_clip)) - (np.log2(ref_clip) - np.log2(1 - ref_clip))
    return {"ref": p_ref, "alt": p_alt, "diff": diff, "logfc": logfc, "abs_diff": np.abs(diff),
            "effect": np.abs(diff * logfc)}


def strand_scores(fwd_ref, fwd_alt, rc_ref=None, rc_alt=None, strand="mean", epsilon=1e-6):
    """Combine the two strands' probabilities into one set of scores.

    Parameters
    ----------
    fwd_ref, fwd_alt : ndarray of shape (n, T)
        Probabilities of the forward windows.
    rc_ref, rc_alt : ndarray of shape (n, T) or None
        Probabilities of their reverse complements (unused for "forward").
    strand : {"mean", "forward", "max"}, default="mean"
        "mean" averages the probabilities of the two strands, as DeepSEA
        does, and scores the averages; "forward" scores the forward windows
        only; "max" takes, for each variant and target, all scores from the
        strand with the larger ``effect``.
    epsilon : float, default=1e-6
        See :func:`effect_scores`.

    Returns
    -------
    scores : dict of str to ndarray of shape (n, T)
    """
    if strand not in STRANDS:
        raise ValueError(f"strand must be one of {STRANDS}, got {strand!r}.")
    if strand == "forward":
        return effect_scores(fwd_ref, fwd_alt, epsilon)
    if strand == "mean":
        return effect_scores((fwd_ref + rc_ref) / 2, (fwd_alt + rc_alt) / 2, epsilon)
    forward = effect_scores(fwd_ref, fwd_alt, epsilon)
    reverse = effect_scores(rc_ref, rc_alt, epsilon)
    take_reverse = reverse["effect"] > forward["effect"]
    return {k: np.where(take_reverse, reverse[k], forward[k]) for k in SCORES}


def score_chunk(targets, genome, variants, *, strand="mean", max_indel_length=100,
                ref_mismatch="skip", epsilon=1e-6, batch_size=None, scores=SCORES,
                evalues=None):
    """Score one chunk of variants; return the output DataFrame for it."""
    L = targets.sequence_length
    ref_windows, alt_windows, info = variant_windows(
        genome, variants, L, max_indel_length=max_indel_length, ref_mismatch=ref_mismatch
    )
    out = variants.reset_index(drop=True).copy()
    out["ref_match"] = pd.array(
        np.where(info["ref_match"] < 0, None, info["ref_match"] == 1), dtype="boolean"
    )
    out["padded"] = info["padded"]
    out["scored"] = info["scored"]
    out["reason"] = info["reason"]
    keep = np.flatnonzero(info["scored"])
    n, T = len(out), len(targets.indices)
    # "effect" is always computed: e-values rank it even when it is not written.
    values = {s: np.full((n, T), np.nan) for s in set(scores) | {"effect"}}
    if keep.size:
        # uint8 into the network: a quarter of the memory of float32.
        encoder = OneHotDNA(alphabet=targets.alphabet, dtype="uint8").fit(["A"])
        forward = np.asarray(encoder.transform([ref_windows[i] for i in keep] +
                                               [alt_windows[i] for i in keep]))
        if strand != "forward":
            forward = np.concatenate(
                [forward, np.asarray(reverse_complement(forward, alphabet=targets.alphabet))])
        proba = network_predict(targets.model, forward,
                                batch_size or targets.model.batch_size)[:, targets.indices]
        k = keep.size
        parts = [proba[j * k:(j + 1) * k] for j in range(len(proba) // k)]
        computed = strand_scores(*parts, strand=strand, epsilon=epsilon)
        for s in values:
            values[s][keep] = computed[s]
    columns = {column_name(s, t): values[s][:, j]
               for s in scores for j, t in enumerate(targets.names)}
    if evalues is not None:
        ev = evalues.transform(values["effect"], targets=targets.names)
        columns.update({column_name("evalue", t): ev[:, j] for j, t in enumerate(targets.names)})
    return pd.concat([out, pd.DataFrame(columns, index=out.index)], axis=1)


def iter_variant_scores(model, variants, genome, *, targets=None, strand="mean",
                        max_indel_length=100, ref_mismatch="skip", on_malformed="error",
                        chunk_size=2000, batch_size=None, epsilon=1e-6, scores=SCORES,
                        evalues=None, report=None, progress=None):
    """Score variants chunk by chunk; see :func:`score_variants` for the parameters.

    Yields
    ------
    chunk : pandas.DataFrame
        The scores of up to ``chunk_size`` variants (ALT alleles).
    """
    from ..genome import Genome

    if ref_mismatch not in ("skip", "score"):
        raise ValueError(f"ref_mismatch must be 'skip' or 'score', got {ref_mismatch!r}.")
    if strand not in STRANDS:
        raise ValueError(f"strand must be one of {STRANDS}, got {strand!r}.")
    unknown = [s for s in scores if s not in SCORES]
    if unknown:
        raise ValueError(f"Unknown score(s) {unknown}; choose from {SCORES}.")
    if int(max_indel_length) < 0:
        raise ValueError(f"max_indel_length must be >= 0, got {max_indel_length!r}.")
    model_targets = ModelTargets(model, targets)
    own_genome = not isinstance(genome, Genome)
    genome = Genome(genome) if own_genome else genome
    try:
        for chunk in read_variants(variants, chunk_size=chunk_size, on_malformed=on_malformed,
                                   report=report if report is not None else ReadReport()):
            scored = score_chunk(
                model_targets, genome, chunk, strand=strand, max_indel_length=max_indel_length,
                ref_mismatch=ref_mismatch, epsilon=epsilon, batch_size=batch_size,
                scores=tuple(scores), evalues=evalues,
            )
            if progress is not None:
                progress.update(len(scored))
            yield scored
    finally:
        if own_genome:
            genome.close()


def score_variants(model, variants, genome, *, targets=None, strand="mean",
                   max_indel_length=100, ref_mismatch="skip", on_malformed="error",
                   chunk_size=2000, batch_size=None, epsilon=1e-6, scores=SCORES,
                   evalues=None, report=None):
    """DeepSEA scores of noncoding variants, as a DataFrame.

    Each variant (each ALT allele of a multi-allelic record) is placed in
    DeepSEA's window: ``L = model.sequence_length_`` bases with the
    variant's first base at 0-based index ``L // 2 - 1`` (499 for 1000 bp).
    Indels are built the DeepSEA way (``L + 100`` bases fetched, allele
    substituted, central ``L`` kept). The reference and alternative windows
    and their reverse complements go through the network in one batch.

    Parameters
    ----------
    model : DeepSEAClassifier
        A fitted classifier of one-hot DNA (e.g. from :func:`skdeepsea.load`).
    variants : str, path-like or pandas.DataFrame
        A VCF (plain, gzip or bgzip), a table with chrom, pos (1-based), ref,
        alt (and optional id) columns, or such a DataFrame.
    genome : Genome, str or path-like
        The reference genome, or its FASTA file. Contig names ``chr1`` and
        ``1`` are matched to each other.
    targets : list of str or int, or None, default=None
        Targets to score (names or indices); None scores all.
    strand : {"mean", "forward", "max"}, default="mean"
        "mean": probabilities of the forward and reverse-complement windows
        averaged (DeepSEA), then scored; "forward": the forward window only;
        "max": per variant and target, the strand with the larger effect.
    max_indel_length : int, default=100
        Longer alleles (not counting the anchor base) are not scored; their
        ``reason`` says so.
    ref_mismatch : {"skip", "score"}, default="skip"
        A REF that disagrees with the genome is reported (``ref_match``
        False) and not scored, or scored with the file's REF ("score").
    on_malformed : {"error", "skip"}, default="error"
        A malformed line raises an error naming its line number, or is
        skipped and counted in ``report``.
    chunk_size : int, default=2000
        Variants read and scored at a time: memory is bounded by it (the
        windows of 2000 variants, both alleles and strands, are 32 MB of
        uint8, which Keras casts to float one batch at a time).
    batch_size : int or None, default=None
        Sequences per forward pass; None uses the model's ``batch_size``.
    epsilon : float, default=1e-6
        Probabilities are clipped to ``[epsilon, 1 - epsilon]`` in ``logfc``.
    scores : tuple of str, default=("ref", "alt", "diff", "logfc", "abs_diff", "effect")
        Scores to output.
    evalues : EValueTransformer or None, default=None
        If fitted on background scores, adds ``evalue:<target>`` columns.
    report : ReadReport or None, default=None
        Receives the count of skipped malformed lines.

    Returns
    -------
    scores : pandas.DataFrame
        One row per ALT allele: chrom, pos, id, ref, alt, line (of the input),
        ref_match (NA when unknown), padded (a window ran past a contig end
        and holds N there), scored, reason (why not scored), then one column
        ``"<score>:<target>"`` per score and target (NaN if not scored).

    See Also
    --------
    write_variant_scores : The same, streamed to a TSV or HDF5 file.
    """
    chunks = list(iter_variant_scores(
        model, variants, genome, targets=targets, strand=strand,
        max_indel_length=max_indel_length, ref_mismatch=ref_mismatch, on_malformed=on_malformed,
        chunk_size=chunk_size, batch_size=batch_size, epsilon=epsilon, scores=scores,
        evalues=evalues, report=report,
    ))
    if not chunks:
        empty = pd.DataFrame(columns=INFO_COLUMNS)
        names = ModelTargets(model, targets).names
        extra = list(scores) + (["evalue"] if evalues is not None else [])
        return empty.reindex(columns=INFO_COLUMNS + [column_name(s, t) for s in extra
                                                     for t in names])
    return pd.concat(chunks, ignore_index=True)
