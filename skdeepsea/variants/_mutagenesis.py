"""In silico saturation mutagenesis: every single-base substitution of a sequence.

The heatmap, :func:`plot_mutagenesis`, is drawn by
:mod:`skdeepsea.plotting.mutagenesis` (re-exported here).
"""

from numbers import Integral

import numpy as np
import pandas as pd

from .._constraints import InstanceOf, Interval, Options, parameter_constraints, validate_params
from .._strands import PREDICTION_STRANDS
from ..plotting.mutagenesis import plot_mutagenesis
from ..preprocessing import (
    channel_order,
    complement_channels,
    one_hot,
    reverse_complement,
)
from ._scoring import SCORE_CONSTRAINTS, SCORES, ModelTargets, network_predict, strand_scores
from ._products import available_cores
from ._strategy import METHODS, choose_method

__all__ = ["MutagenesisResult", "in_silico_mutagenesis", "plot_mutagenesis"]

BASES = "ACGT"
_CHUNK = 512  # mutants held in memory at once by the naive method
# What in_silico_mutagenesis's parameters accept: a prediction's strands (not variant
# scoring's "max"), and every method but "device" (a path of variant scoring only).
# start and end are checked against each other and the model's length, in code.
MUTAGENESIS_CONSTRAINTS = {
    "strand": [Options(str, PREDICTION_STRANDS)],
    "method": [Options(str, tuple(m for m in METHODS if m != "device"))],
    "batch_size": SCORE_CONSTRAINTS["batch_size"],
    "epsilon": SCORE_CONSTRAINTS["epsilon"],
    "start": [None, Interval(Integral, 0, None)],
    "end": [None, Interval(Integral, 1, None)],
    "targets": SCORE_CONSTRAINTS["targets"],
    "model": SCORE_CONSTRAINTS["model"],
    "sequence": [InstanceOf(str, "a str")],
}


class MutagenesisResult:
    """Predictions for all single-base substitutions of a sequence.

    Attributes
    ----------
    sequence : str
        The (uppercase) sequence mutated.
    positions : ndarray of int
        The 0-based positions mutated (``start`` to ``end - 1``).
    bases : str
        "ACGT": the order of the base axis.
    target_names : list of str
        The targets scored.
    strand : {"mean", "forward"}
        How the strands are combined in the scores.
    reference : ndarray of shape (n_targets,)
        Probabilities of the unmutated sequence (averaged over the strands
        for ``strand="mean"``).
    proba : ndarray of shape (n_positions, 4, n_targets)
        Probability of each target with the base at each position replaced by
        each base (the reference base's entry is ``reference``; averaged over
        the strands for ``strand="mean"``).
    strand_reference : ndarray of shape (n_strands, n_targets)
        ``reference`` per strand: forward, then (for "mean") reverse complement.
    strand_proba : ndarray of shape (n_strands, n_positions, 4, n_targets)
        ``proba`` per strand.
    epsilon : float or None
        Clipping of the probabilities in ``logfc`` (None: none, as DeepSEA).
    SCORES : tuple of str
        The names :meth:`score` takes (those of variant scoring).
    """

    SCORES = SCORES

    def __init__(self, sequence, positions, target_names, strand_reference, strand_proba,
                 epsilon, strand="mean"):
        self.sequence = sequence
        self.positions = positions
        self.bases = BASES
        self.target_names = list(target_names)
        self.strand = strand
        self.strand_reference = strand_reference
        self.strand_proba = strand_proba
        self.reference = strand_reference.mean(axis=0)
        self.proba = strand_proba.mean(axis=0)
        self.epsilon = epsilon

    def _scores(self):
        per_strand = []
        for reference, proba in zip(self.strand_reference, self.strand_proba):
            per_strand += [np.broadcast_to(reference, proba.shape), proba]
        return strand_scores(*per_strand, strand=self.strand, epsilon=self.epsilon)

    def score(self, name="diff"):
        """One score for every position, base and target.

        Parameters
        ----------
        name : {"ref", "alt", "diff", "logfc", "abs_diff", "effect"}, default="diff"
            As in :func:`skdeepsea.variants.score_variants` with the same
            ``strand``, the mutant as the ALT allele.

        Returns
        -------
        scores : ndarray of shape (n_positions, 4, n_targets)
            Zero at each position's reference base (except for "ref" and "alt").

        Raises
        ------
        ValueError
            For a name not in :attr:`SCORES`.
        """
        validate_params({"name": [Options(str, self.SCORES)]}, {"name": name},
                        "MutagenesisResult.score")
        return self._scores()[name]

    def to_frame(self):
        """A long table: one row per position, substituted base and target.

        Returns
        -------
        frame : pandas.DataFrame
            Columns position, ref_base, alt_base, target, ref, alt, diff,
            logfc, effect (reference bases left out).
        """
        P, _, T = self.proba.shape
        ref_bases = np.array([self.sequence[p] for p in self.positions])
        position, base, target = np.meshgrid(np.arange(P), np.arange(4), np.arange(T),
                                             indexing="ij")
        scores = self._scores()
        frame = pd.DataFrame({
            "position": self.positions[position.ravel()],
            "ref_base": ref_bases[position.ravel()],
            "alt_base": np.array(list(BASES))[base.ravel()],
            "target": np.array(self.target_names)[target.ravel()],
            **{s: np.broadcast_to(scores[s], self.proba.shape).ravel()
               for s in ("ref", "alt", "diff", "logfc", "effect")},
        })
        return frame[frame["ref_base"] != frame["alt_base"]].reset_index(drop=True)


def _mutants(onehot, positions, alphabet):
    """One-hot mutants (3 per position, in BASES order without the reference)."""
    codes, rows = [], []
    channels = channel_order(alphabet, BASES)
    for p in positions:
        for b, channel in enumerate(channels):
            if onehot[p, channel] != 1:
                codes.append((p, channel))
                rows.append((p, b))
    return codes, rows


@parameter_constraints(MUTAGENESIS_CONSTRAINTS)
def in_silico_mutagenesis(model, sequence, *, start=None, end=None, targets=None,
                          strand="mean", method="auto", batch_size=None, epsilon=None):
    """Predict every single-base substitution of a sequence (saturation mutagenesis).

    Parameters
    ----------
    model : DeepSEAClassifier
        A fitted classifier of one-hot DNA.
    sequence : str
        A DNA sequence of the model's ``sequence_length_``.
    start, end : int or None, default=None
        Mutate only positions ``start`` to ``end - 1`` (0-based); None: all.
    targets : list of str or int, or None, default=None
        Targets to report; None: all.
    strand : {"mean", "forward"}, default="mean"
        "mean": each mutant and its reverse complement are predicted and the
        scores averaged over the two strands as DeepSEA averages a variant's
        (see :func:`skdeepsea.variants.score_variants`); "forward": the
        forward strand only.
    method : {"auto", "naive", "fast"}, default="auto"
        "naive" runs the whole network on each of the ``3 x n_positions``
        mutants; "fast" propagates each substitution's difference through
        the convolutions within its receptive field only and into the first
        dense layer (fastISM's idea; equal to the naive result to float32
        rounding); "auto" uses "fast" when the network is valid convolutions
        and poolings followed by Flatten and dense layers (as DeepSEA's) and
        a cost model (multiply-adds of both ways) says it is faster.
    batch_size : int or None, default=None
        Sequences per forward pass; None: the model's ``batch_size``.
    epsilon : float or None, default=None
        Probability clipping in ``logfc``; None: none, as DeepSEA (see
        :func:`skdeepsea.variants.effect_scores`).

    Returns
    -------
    result : MutagenesisResult
        Mutant probabilities of shape ``(n_positions, 4, n_targets)``, with
        ``score("diff")`` etc. and ``to_frame()``.

    Raises
    ------
    ValueError
        For a parameter of the wrong type or value (naming it), a sequence of
        another length than the model's, a ``start`` / ``end`` outside it or
        in the wrong order, or ``method="fast"`` with a network it does not
        apply to.
    """
    info = ModelTargets(model, targets)
    sequence = sequence.upper()
    L = info.sequence_length
    if len(sequence) != L:
        raise ValueError(f"sequence has length {len(sequence)}, but the model takes "
                         f"{L} bp sequences.")
    start = 0 if start is None else int(start)
    end = L if end is None else int(end)
    if not 0 <= start < end <= L:
        raise ValueError(f"start={start}, end={end} must satisfy 0 <= start < end <= {L}.")
    batch_size = batch_size or model.batch_size
    alphabet = info.alphabet
    onehot = np.asarray(one_hot([sequence], alphabet, dtype="uint8")[0])
    positions = np.arange(start, end)
    codes, rows = _mutants(onehot, positions, alphabet)
    mutant_positions = np.array([p for p, _ in codes], dtype=np.int64)
    channels = np.array([c for _, c in codes], dtype=np.int64)
    references = onehot[None]
    if strand == "mean":
        # The reverse complement of a mutant at p is the mutant at L - 1 - p of the
        # reverse complement, with the complementary base.
        references = np.concatenate(
            [references, np.asarray(reverse_complement(references, alphabet=alphabet))])
        mutant_positions = np.concatenate([mutant_positions, L - 1 - mutant_positions])
        channels = np.concatenate([channels, np.asarray(complement_channels(alphabet))[channels]])
    reference_of = np.repeat(np.arange(len(references)), len(codes))

    network = choose_method(method, model.model_, L, mutant_positions)
    if network is not None:
        reference_out, mutant_out = network.predict(
            references, reference_of, mutant_positions, np.eye(4, dtype=np.float32)[channels],
            batch_size=batch_size, threads=available_cores())
    else:
        mutants = np.repeat(references, len(codes), axis=0)
        mutants[np.arange(len(mutants)), mutant_positions] = np.eye(4, dtype=np.uint8)[channels]
        reference_out = network_predict(model, references, batch_size)
        mutant_out = np.concatenate([network_predict(model, mutants[i:i + _CHUNK], batch_size)
                                     for i in range(0, len(mutants), _CHUNK)])
    n_strands, T = len(references), len(info.indices)
    reference_out = np.asarray(reference_out, dtype=np.float64)[:, info.indices]
    mutant_out = np.asarray(mutant_out, dtype=np.float64)[:, info.indices].reshape(
        n_strands, len(codes), T)
    proba = np.repeat(np.repeat(reference_out[:, None, None], len(positions), axis=1), 4, axis=2)
    at = (np.array([p - start for p, _ in rows], dtype=np.int64),
          np.array([b for _, b in rows], dtype=np.int64))
    proba[:, at[0], at[1]] = mutant_out
    return MutagenesisResult(sequence, positions, info.names, reference_out, proba, epsilon,
                             strand=strand)
