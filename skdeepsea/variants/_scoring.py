"""Scoring variants with a fitted DeepSEAClassifier: windows -> network -> effect scores."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from .._backend import keras_on_accelerator
from .._constraints import (
    ArrayLike,
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    PathLike,
    Satisfies,
    TargetKeys,
    parameter_constraints,
)
from .._strands import STRANDS, check_strand
from .._validation import CLIENT
from ..exceptions import located_sequence_error
from ..genome import Genome, opened_genome
from ..preprocessing import complement_channels, one_hot, reverse_complement
from ._evalues import EValueTransformer
from ._io import READ_CONSTRAINTS, ReadReport, read_variants
from ._significance import SIGNIFICANCE_SCORES, VariantSignificance
from ._strategy import METHODS, choose_method
from ._windows import WINDOW_CONSTRAINTS, variant_index, variant_windows

SCORES = ("ref", "alt", "diff", "logfc", "abs_diff", "effect")
INFO_COLUMNS = ["chrom", "pos", "id", "ref", "alt", "line", "ref_match", "padded", "scored",
                "reason"]

_POSITIVE = Interval(Integral, 1, None)
# What each parameter of score_variants accepts, in the order checked: the options
# first, then the inputs. iter_variant_scores takes all but the cluster's (client,
# partition_size, worker_threads). The rules between parameters (worker_threads needs
# client, significance needs strand="mean", ...) are code.
SCORE_CONSTRAINTS = {
    "client": CLIENT,
    "targets": [None, TargetKeys()],
    "strand": [Options(str, STRANDS)],
    "max_indel_length": WINDOW_CONSTRAINTS["max_indel_length"],
    "ref_mismatch": WINDOW_CONSTRAINTS["ref_mismatch"],
    "on_malformed": READ_CONSTRAINTS["on_malformed"],
    "chunk_size": [_POSITIVE],
    "batch_size": [_POSITIVE, None],
    "epsilon": [Interval(Real, 0, 0.5, closed="left"), None],
    "scores": [Satisfies(lambda value: isinstance(value, (list, tuple)) and len(value) > 0
                         and all(isinstance(name, str) and name in SCORES for name in value),
                         f"a tuple of score names from {SCORES}")],
    "evalues": [None, InstanceOf(EValueTransformer, "an EValueTransformer")],
    "significance": [None, InstanceOf(VariantSignificance, "a VariantSignificance")],
    "report": READ_CONSTRAINTS["report"],
    "partition_size": [_POSITIVE],
    "worker_threads": [Satisfies(_POSITIVE.accepts, "a positive int"), None],
    "contig_ends": WINDOW_CONSTRAINTS["contig_ends"],
    "method": [Options(str, METHODS)],
    # What ModelTargets and the scoring use of a fitted classifier.
    "model": [HasMethods(("predict_proba", "output_columns", "forward"),
                         "a fitted DeepSEAClassifier")],
    "variants": READ_CONSTRAINTS["source"],
    "genome": [InstanceOf(Genome, "a Genome"), PathLike()],
}
_CLUSTER_OPTIONS = ("client", "partition_size", "worker_threads")
# iter_variant_scores: all but the cluster's, and the progress bar of write_variant_scores.
ITER_CONSTRAINTS = {
    **{name: value for name, value in SCORE_CONSTRAINTS.items() if name not in _CLUSTER_OPTIONS},
    "progress": [None, HasMethods(("update",), "a progress bar (with an update method)")],
}
_PROBABILITIES = [ArrayLike(), Interval(Real, None, None)]


def column_name(score, target):
    """The output column of one score for one target, e.g. ``"diff:CTCF"``."""
    return f"{score}:{target}"


def output_scores(scores, evalues=None, significance=None):
    """The per-target scores of an output: those asked for, then ``evalue`` if any."""
    if evalues is not None and significance is not None:
        raise ValueError("Give evalues or significance, not both: significance computes the "
                         "e-values against its own background.")
    return tuple(scores) + (("evalue",) if evalues is not None or significance is not None
                            else ())


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
        self.indices, self.names = model.output_columns(targets)
        self.sequence_length = int(model.sequence_length_)
        self.alphabet = model.alphabet_
        self.model = model


def network_predict(model, X, batch_size):
    """The network's outputs for one-hot sequences, one strand, no averaging.

    ``X`` may be uint8: it travels as such and is cast on the device, so a
    chunk of windows never exists as float32 (identical outputs, a quarter of
    the memory).
    """
    return model.forward(X, strand="forward", batch_size=batch_size).astype(np.float64)


@parameter_constraints({"p_ref": _PROBABILITIES, "p_alt": _PROBABILITIES,
                        "epsilon": SCORE_CONSTRAINTS["epsilon"]})
def effect_scores(p_ref, p_alt, epsilon=None):
    """DeepSEA's scores from the reference and alternative probabilities of one strand.

    As DeepSEA v0.94's ``3_h5ToOutput.py``: ``diff = p_alt - p_ref`` and
    ``logfc = log2(p_alt / (1 - p_alt + 1e-12)) - log2(p_ref / (1 - p_ref + 1e-12))``,
    without clipping.

    Parameters
    ----------
    p_ref, p_alt : ndarray or float
        Probabilities, of one shape (or broadcastable to one).
    epsilon : float in [0, 0.5) or None, default=None
        None: no clipping, as DeepSEA (a probability of exactly 0, a float32
        sigmoid's underflow, gives an infinite ``logfc``). A number clips the
        probabilities to ``[epsilon, 1 - epsilon]`` before the log odds (a
        departure from DeepSEA, for scores that are always finite).

    Returns
    -------
    scores : dict of str to ndarray
        ``ref``, ``alt``, ``diff``, ``logfc``, ``abs_diff`` and ``effect`` =
        ``|diff * logfc|``.

    Raises
    ------
    ValueError
        For probabilities that are not an array or a number, or an
        ``epsilon`` outside [0, 0.5), naming the parameter.

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

    def log_odds(p):
        if epsilon is not None:
            p = np.clip(p, epsilon, 1 - epsilon)
        with np.errstate(divide="ignore"):
            return np.log2(p / (1 - p + 1e-12))

    diff = p_alt - p_ref
    with np.errstate(invalid="ignore"):
        logfc = log_odds(p_alt) - log_odds(p_ref)
        effect = np.abs(diff * logfc)
    return {"ref": p_ref, "alt": p_alt, "diff": diff, "logfc": logfc, "abs_diff": np.abs(diff),
            "effect": effect}


def strand_scores(fwd_ref, fwd_alt, rc_ref=None, rc_alt=None, strand="mean", epsilon=None):
    """Combine the two strands into one set of scores.

    Parameters
    ----------
    fwd_ref, fwd_alt : ndarray of shape (n, T)
        Probabilities of the forward windows.
    rc_ref, rc_alt : ndarray of shape (n, T) or None
        Probabilities of their reverse complements (unused for "forward").
    strand : {"mean", "forward", "max"}, default="mean"
        "mean" (DeepSEA): ``diff`` and ``logfc`` computed on each strand and
        averaged over the two, ``effect = |mean diff x mean logfc|``, and
        ``ref`` / ``alt`` the strand-averaged probabilities; "forward": the
        forward windows only; "max": for each variant and target, all scores
        from the strand with the larger ``effect``.
    epsilon : float or None, default=None
        See :func:`effect_scores`.

    Returns
    -------
    scores : dict of str to ndarray of shape (n, T)
        ``ref``, ``alt``, ``diff``, ``logfc``, ``abs_diff`` and ``effect``.
    """
    check_strand(strand, tuple(STRANDS))
    forward = effect_scores(fwd_ref, fwd_alt, epsilon)
    if strand == "forward":
        return forward
    reverse = effect_scores(rc_ref, rc_alt, epsilon)
    if strand == "max":
        take_reverse = reverse["effect"] > forward["effect"]
        return {k: np.where(take_reverse, reverse[k], forward[k]) for k in SCORES}
    mean = {k: (forward[k] + reverse[k]) / 2 for k in ("ref", "alt", "diff", "logfc")}
    mean["abs_diff"] = np.abs(mean["diff"])
    with np.errstate(invalid="ignore"):
        mean["effect"] = np.abs(mean["diff"] * mean["logfc"])
    return mean


def _snv_probabilities(network, alphabet, ref_windows, alt_windows, strand, batch_size):
    """The four probability arrays of SNVs from their reference windows' activations.

    Identical reference windows (the ALT alleles of one site) run once; each
    ALT is a one-base substitution of its reference at the window's centre,
    and on the reverse strand of the reverse complement at the mirrored
    position with the complementary base.
    """
    L = network.length
    centre = variant_index(L)
    unique, reference_of = np.unique(np.array(ref_windows, dtype=object), return_inverse=True)
    references = np.asarray(one_hot(list(unique), alphabet, dtype="uint8"))
    rows = np.asarray(one_hot([w[centre] for w in alt_windows], alphabet))[:, 0]
    positions = np.full(len(rows), centre)
    if strand != "forward":
        complement = np.asarray(complement_channels(alphabet))
        reference_of = np.concatenate([reference_of, reference_of + len(unique)])
        references = np.concatenate(
            [references, np.asarray(reverse_complement(references, alphabet=alphabet))])
        rows = np.concatenate([rows, rows[:, complement]])
        positions = np.concatenate([positions, np.full(len(positions), L - 1 - centre)])
    reference_out, alt_out = network.predict(references, reference_of, positions, rows,
                                             batch_size=batch_size)
    k = len(ref_windows)
    parts = [reference_out[reference_of[:k]], alt_out[:k]]
    if strand != "forward":
        parts += [reference_out[reference_of[k:]], alt_out[k:]]
    return parts


def _device_snv_probabilities(targets, ref_windows, alt_windows, strand, batch_size):
    """The probability arrays of SNVs, their alternative and reverse-complement windows
    made on the device (:func:`skdeepsea.variants._device.snv_predictor`).

    Each SNV's reference window travels once, as uint8, with its ALT base's
    one-hot row appended; the network runs on ``batch_size`` windows per step,
    as a plain prediction does.
    """
    from .._engine.inference import predict_batches
    from ._device import snv_predictor

    centre = variant_index(targets.sequence_length)
    alphabet = targets.alphabet
    packed = np.concatenate([np.asarray(one_hot(ref_windows, alphabet, dtype="uint8")),
                             np.asarray(one_hot([w[centre] for w in alt_windows], alphabet,
                                                dtype="uint8"))], axis=1)
    strands = 1 if strand == "forward" else 2
    model = snv_predictor(targets.model.model_, alphabet, centre, strands)
    out = predict_batches(model, packed, batch_size=max(1, batch_size // (2 * strands)))
    return [out[:, j] for j in range(2 * strands)]


def _snv_method(targets, method):
    """How SNVs are predicted (:func:`skdeepsea.variants._strategy.choose_method`):
    "device", a SubstitutionNetwork ("fast"), or None (full passes of the four windows
    made on the host)."""
    L = targets.sequence_length
    return choose_method(method, targets.model.model_, L,
                         [variant_index(L), L - 1 - variant_index(L)],
                         device=method == "auto" and keras_on_accelerator())


def score_chunk(targets, genome, variants, *, strand="mean", max_indel_length=100,
                ref_mismatch="skip", contig_ends="skip", method="auto", epsilon=None,
                batch_size=None, scores=SCORES, evalues=None, significance=None):
    """Score one chunk of variants; return the output DataFrame for it."""
    L = targets.sequence_length
    ref_windows, alt_windows, info = variant_windows(
        genome, variants, L, max_indel_length=max_indel_length, ref_mismatch=ref_mismatch,
        contig_ends=contig_ends,
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
    needed = set(scores) | {"effect"} | (set(SIGNIFICANCE_SCORES) if significance else set())
    values = {s: np.full((n, T), np.nan) for s in needed}
    batch_size = batch_size or targets.model.batch_size

    def store(chosen, parts):
        parts = [np.asarray(p, dtype=np.float64)[:, targets.indices] for p in parts]
        computed = strand_scores(*parts, strand=strand, epsilon=epsilon)
        for name, array in values.items():
            array[chosen] = computed[name]

    snv_method = _snv_method(targets, method) if keep.size else None
    # SNVs (REF and ALT one base each) go through the substitution network or the
    # device's SNV predictor; indels and multi-base substitutions through full passes.
    is_snv = ((variants["ref"].str.len().to_numpy()[keep] == 1)
              & (variants["alt"].str.len().to_numpy()[keep] == 1))
    substituted = keep[is_snv] if snv_method is not None else keep[:0]
    if substituted.size:
        windows = ([ref_windows[i] for i in substituted], [alt_windows[i] for i in substituted])
        if snv_method == "device":
            store(substituted, _device_snv_probabilities(targets, *windows, strand,
                                                         batch_size))
        else:
            store(substituted, _snv_probabilities(snv_method, targets.alphabet, *windows, strand,
                                                  batch_size))
    full = np.setdiff1d(keep, substituted)
    if full.size:
        # uint8 into the network: a quarter of the memory of float32.
        forward = np.asarray(one_hot([ref_windows[i] for i in full] +
                                     [alt_windows[i] for i in full], targets.alphabet,
                                     dtype="uint8"))
        if strand != "forward":
            forward = np.concatenate(
                [forward, np.asarray(reverse_complement(forward, alphabet=targets.alphabet))])
        proba = network_predict(targets.model, forward, batch_size)
        k = full.size
        store(full, [proba[j * k:(j + 1) * k] for j in range(len(proba) // k)])
    blocks, score_names = [values[s] for s in scores], list(scores)
    per_variant = []
    if evalues is not None:
        blocks.append(evalues.transform(values["effect"], targets=targets.names))
        score_names.append("evalue")
    if significance is not None:
        chromatin, columns = significance.annotate(out, values["logfc"], values["diff"],
                                                   values["effect"])
        blocks.append(chromatin)
        score_names.append("evalue")
        per_variant.append(columns)
    # One 2-D block, score-major: pandas builds a frame from thousands of 1-D columns
    # one column at a time.
    columns = [column_name(s, t) for s in score_names for t in targets.names]
    block = np.stack(blocks, axis=1).reshape(n, len(columns)) if blocks else np.empty((n, 0))
    return pd.concat([out, pd.DataFrame(block, index=out.index, columns=columns)]
                     + per_variant, axis=1)


def _window_error(error, genome, chunk, targets, max_indel_length):
    """one_hot's error about a window, told by the variant (and line) whose window it is."""
    if located_sequence_error(error, lambda i, position: "") is None:
        return None  # not about a character of a sequence
    ref_windows, alt_windows, _ = variant_windows(
        genome, chunk, targets.sequence_length, max_indel_length=max_indel_length,
        ref_mismatch="score", contig_ends="pad")
    for i, windows in enumerate(zip(ref_windows, alt_windows)):
        for kind, window in zip(("reference", "alternative"), windows):
            try:
                one_hot([window or "A"], targets.alphabet)
            except ValueError as window_error:
                row = chunk.iloc[i]
                line = f", line {row['line']}" if "line" in row else ""
                return located_sequence_error(window_error, lambda j, position: (
                    f"Variant {row['chrom']}:{row['pos']} {row['ref']}>{row['alt']}{line} "
                    f"(genome {genome.path}): position {position + 1} of its {kind} window"))
    return None


@parameter_constraints(ITER_CONSTRAINTS)
def iter_variant_scores(model, variants, genome, *, targets=None, strand="mean",
                        max_indel_length=100, ref_mismatch="skip", on_malformed="error",
                        chunk_size=2000, batch_size=None, epsilon=None, scores=SCORES,
                        evalues=None, significance=None, report=None, progress=None,
                        contig_ends="skip", method="auto"):
    """Score variants chunk by chunk; see :func:`score_variants` for the parameters.

    ``progress`` is a progress bar (tqdm's) that each chunk's count of
    variants is added to, or None.

    Yields
    ------
    chunk : pandas.DataFrame
        The scores of up to ``chunk_size`` variants (ALT alleles).

    Raises
    ------
    ValueError
        When called: for a parameter of the wrong type or value, naming it.
        When iterated: as :func:`score_variants` (a model of other inputs, a
        ``significance`` that does not fit the model, a malformed line).
    """
    output_scores(scores, evalues, significance)
    model_targets = ModelTargets(model, targets)
    if significance is not None:
        significance.check_targets(model_targets.names, strand)
    with opened_genome(genome) as genome:
        for chunk in read_variants(variants, chunk_size=chunk_size, on_malformed=on_malformed,
                                   report=report if report is not None else ReadReport()):
            try:
                scored = score_chunk(
                    model_targets, genome, chunk, strand=strand,
                    max_indel_length=max_indel_length, ref_mismatch=ref_mismatch,
                    contig_ends=contig_ends, method=method, epsilon=epsilon,
                    batch_size=batch_size, scores=tuple(scores), evalues=evalues,
                    significance=significance,
                )
            except ValueError as error:
                located = _window_error(error, genome, chunk, model_targets, max_indel_length)
                if located is None:
                    raise
                raise located from error
            if progress is not None:
                progress.update(len(scored))
            yield scored
