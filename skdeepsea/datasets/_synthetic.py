"""A synthetic chromatin dataset: random DNA with planted transcription factor motifs."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from .._constraints import (
    Boolean,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    SeedLike,
    parameter_constraints,
)
from ..preprocessing import ALPHABET_CONSTRAINT, DEFAULT_ALPHABET, OneHotDNA
from ._motifs import load_motifs

# Sequences are built as base codes 0..3 in this order; the complement of
# code c is then 3 - c.
_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


@parameter_constraints({
    "n_samples": [Interval(Integral, 1, None)],
    "sequence_length": [Interval(Integral, 1, None)],
    "motifs": [None,
               Satisfies(lambda value: isinstance(value, (list, tuple))
                         and all(isinstance(name, str) for name in value),
                         "a list of built-in motif names"),
               InstanceOf(dict, "a dict of name -> position frequency matrix")],
    "center_width": [Interval(Integral, 1, None)],
    "placement": [Options(str, ("slots", "anywhere"))],
    "sites": [Options(str, ("pwm", "consensus"))],
    "motif_probability": [Interval(Real, 0, 1)],
    "combinations": [Boolean()],
    "one_hot": [Boolean()],
    "alphabet": [ALPHABET_CONSTRAINT],
    "random_state": [SeedLike(generator=False)],
})
def make_chromatin_dataset(
    n_samples=1000,
    sequence_length=1000,
    *,
    motifs=None,
    center_width=200,
    placement="slots",
    sites="pwm",
    motif_probability=0.25,
    combinations=True,
    one_hot=False,
    alphabet=DEFAULT_ALPHABET,
    random_state=None,
):
    """Generate random DNA sequences labelled by the motifs planted in their centre.

    A small, learnable stand-in for DeepSEA's data: each sequence is uniform
    random DNA, and each motif is planted in it independently with
    probability ``motif_probability``, at a random position fully inside the
    central ``center_width`` bases (DeepSEA labels the central 200 bp bin of
    a 1000 bp input). Each planted site is drawn base by base from the
    motif's position frequency matrix, so sites vary as real binding sites
    do, and is planted as its reverse complement half of the time. Sites
    planted in the same sequence never overlap.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of sequences.
    sequence_length : int, default=1000
        Length of every sequence, in bases.
    motifs : list of str or dict of str to array-like of shape (length, 4), \
default=None
        The motifs to plant. None plants every built-in JASPAR motif (see
        :func:`load_motifs`); a list of names picks some of them; a dict
        maps names to your own position frequency (or count) matrices, one
        row per position with columns in the order A, C, G, T. Rows are
        normalised to sum to 1.
    center_width : int, default=200
        Width of the central window that holds the planted sites. It must be
        at least the total length of the motifs, so that all of them fit
        side by side.
    placement : {"slots", "anywhere"}, default="slots"
        Where in the central window a motif goes. "slots": the window is cut
        into one equal slot per motif, in order, and each motif is planted at
        a random position inside its own slot. "anywhere": at a random
        position in the whole window, not overlapping the other sites. Slots
        keep each motif within a few pooled positions, so the DeepSEA
        network, whose dense layer is position-specific, learns it from
        thousands of sequences rather than millions (see the demo).
    sites : {"pwm", "consensus"}, default="pwm"
        How a planted site is drawn: "pwm", base by base from the motif's
        matrix, so sites vary as real binding sites do; "consensus", always
        the matrix's most frequent base at each position (an easier task).
    motif_probability : float, default=0.25
        Probability that a motif is planted in a sequence, independently for
        each motif and sequence.
    combinations : bool, default=True
        Whether to add pairwise targets that are 1 when both motifs of a pair
        are planted, for the pairs of consecutive motifs (1st and 2nd, 3rd and
        4th, ...). These need the network to combine two motifs, as many
        chromatin marks do.
    one_hot : bool, default=False
        Whether to return the sequences one-hot encoded by
        :class:`~skdeepsea.OneHotDNA` instead of as strings.
    alphabet : str, default="ATGC"
        Base order of the one-hot channels when ``one_hot=True`` (DeepSEA's
        own order by default).
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws: pass an int for the same dataset on every
        call.

    Returns
    -------
    X : ndarray of shape (n_samples,) or (n_samples, sequence_length, 4)
        The sequences (uppercase A, C, G, T) as an object array of str or,
        when ``one_hot=True``, their float32 encoding by
        ``OneHotDNA(alphabet=alphabet)``.
    Y : ndarray of shape (n_samples, n_targets) of uint8
        The 0/1 labels: one column per motif (1 when it was planted), then
        one per pair of motifs when ``combinations=True``.
    target_names : list of str
        The name of each column of ``Y``: the motif names, then
        ``"FIRST+SECOND"`` for each pair.

    Raises
    ------
    ValueError
        ``"make_chromatin_dataset: <name> must be ..., got <value>."`` for a
        parameter of the wrong type or value; a ``center_width`` larger than
        ``sequence_length`` or too narrow for the motifs (side by side, or
        one per slot); an unknown, repeated or missing motif name, or a
        motif matrix that is not of shape (length, 4) with finite
        non-negative rows of positive sum.

    Notes
    -----
    The labels say what was planted. A strong site can also arise by chance
    in the random background, but for the long built-in motifs that is rare
    in the central window.

    Examples
    --------
    >>> from skdeepsea.datasets import make_chromatin_dataset
    >>> X, Y, target_names = make_chromatin_dataset(n_samples=8, random_state=0)
    >>> X.shape, len(X[0]), Y.shape
    ((8,), 1000, (8, 7))
    >>> target_names
    ['CTCF', 'GATA1', 'FOS', 'REST', 'NRF1', 'CTCF+GATA1', 'FOS+REST']

    Your own motif, here a fixed 6 bp site:

    >>> site = [[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0],
    ...         [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]]
    >>> X, Y, target_names = make_chromatin_dataset(
    ...     n_samples=4, sequence_length=100, center_width=20,
    ...     motifs={"ATGGCA": site}, motif_probability=1.0, random_state=0)
    >>> target_names, Y.ravel().tolist()
    (['ATGGCA'], [1, 1, 1, 1])
    >>> all("ATGGCA" in x[40:60] or "TGCCAT" in x[40:60] for x in X)
    True
    """
    names, pfms = _check_params(sequence_length, motifs, center_width, placement)
    if sites == "consensus":
        pfms = [np.eye(4)[pfm.argmax(axis=1)] for pfm in pfms]
    rng = check_random_state(random_state)

    codes = rng.randint(4, size=(n_samples, sequence_length), dtype=np.uint8)
    planted = rng.random_sample((n_samples, len(pfms))) < motif_probability
    sites = [_sample_sites(pfm, n_samples, rng) for pfm in pfms]
    lengths = np.array([len(pfm) for pfm in pfms])
    center_start = (sequence_length - center_width) // 2
    slot = center_width // len(pfms)
    for i in range(n_samples):
        present = np.flatnonzero(planted[i])
        if placement == "slots":
            starts = present * slot + rng.randint(slot - lengths[present] + 1)
        else:
            starts = _non_overlapping_starts(lengths[present], center_width, rng)
        for motif, start in zip(present, center_start + starts):
            codes[i, start : start + lengths[motif]] = sites[motif][i]

    # One fixed-width bytes string per row, then str: no per-base Python loop.
    rows = np.ascontiguousarray(_BASES[codes]).view(f"S{sequence_length}").ravel()
    X = rows.astype(str).astype(object)

    Y = planted
    target_names = list(names)
    if combinations:
        pairs = [(a, a + 1) for a in range(0, len(names) - 1, 2)]
        Y = np.column_stack([planted] + [planted[:, a] & planted[:, b] for a, b in pairs])
        target_names += [f"{names[a]}+{names[b]}" for a, b in pairs]

    if one_hot:
        X = OneHotDNA(alphabet=alphabet).fit_transform(X)
    return X, Y.astype(np.uint8), target_names


def _sample_sites(pfm, n_samples, rng):
    """Draw one site per sample from ``pfm``, a random half reverse-complemented."""
    cumulative = np.cumsum(pfm, axis=1)
    # Makes the last column exactly 1, so no draw falls past the last base: a
    # zero-probability base keeps the empty interval cumsum gave it.
    cumulative /= cumulative[:, -1:]
    draws = rng.random_sample((n_samples, len(pfm), 1))
    sites = (draws >= cumulative).sum(axis=2).astype(np.uint8)
    reverse = rng.random_sample(n_samples) < 0.5
    sites[reverse] = 3 - sites[reverse, ::-1]
    return sites


def _non_overlapping_starts(lengths, width, rng):
    """Uniformly random starts of sites of these lengths, side by side in ``width`` bases.

    A random order of the sites and a uniform split of the free bases into the
    gaps around them (stars and bars) give every non-overlapping placement the
    same probability, with no rejection loop.
    """
    order = rng.permutation(len(lengths))
    free = width - lengths.sum()
    bars = np.sort(rng.choice(free + len(lengths), size=len(lengths), replace=False))
    before = np.concatenate(([0], np.cumsum(lengths[order])[:-1]))
    starts = np.empty(len(lengths), dtype=int)
    starts[order] = bars - np.arange(len(lengths)) + before
    return starts


def _check_params(sequence_length, motifs, center_width, placement):
    """Check what the parameters' constraints cannot (the motifs' sizes against the window);
    return the motif names and row-normalised PFMs."""
    if center_width > sequence_length:
        raise ValueError(
            f"center_width={center_width} is larger than sequence_length={sequence_length}."
        )
    names, pfms = _check_motifs(motifs)
    total = sum(len(pfm) for pfm in pfms)
    if total > center_width:
        raise ValueError(
            f"center_width={center_width} cannot hold the {len(pfms)} motifs side by side: "
            f"their total length is {total} bp. Use center_width >= {total} or fewer motifs."
        )
    longest = max(len(pfm) for pfm in pfms)
    if placement == "slots" and longest > center_width // len(pfms):
        raise ValueError(
            f"center_width={center_width} split into {len(pfms)} slots gives "
            f"{center_width // len(pfms)} bp each, less than the longest motif ({longest} bp). "
            f"Use center_width >= {longest * len(pfms)} or placement='anywhere'."
        )
    return names, pfms


def _check_motifs(motifs):
    builtin = load_motifs()
    if motifs is None:
        return list(builtin), [pfm for _, pfm in builtin.values()]
    if isinstance(motifs, dict):
        items = list(motifs.items())
    else:  # a list of built-in names: the constraint took nothing else
        unknown = [name for name in motifs if name not in builtin]
        if unknown:
            raise ValueError(
                f"Unknown motif name(s) {unknown}; the built-in motifs are {list(builtin)}. "
                "Pass a dict of name -> position frequency matrix for your own motifs."
            )
        if len(set(motifs)) != len(motifs):
            raise ValueError(f"motifs must not repeat a name, got {list(motifs)}.")
        items = [(name, builtin[name][1]) for name in motifs]
    if not items:
        raise ValueError("motifs must name at least one motif.")

    names, pfms = [], []
    for name, pfm in items:
        if not isinstance(name, str):
            raise ValueError(f"Motif names must be str, got {name!r}.")
        pfm = np.asarray(pfm, dtype=float)
        if pfm.ndim != 2 or pfm.shape[0] == 0 or pfm.shape[1] != 4:
            raise ValueError(
                f"Motif {name!r} must be a matrix of shape (length, 4) with columns A, C, G, T, "
                f"got shape {pfm.shape}."
            )
        if not np.all(np.isfinite(pfm)) or np.any(pfm < 0) or np.any(pfm.sum(axis=1) <= 0):
            raise ValueError(
                f"Motif {name!r} must hold finite non-negative values with a positive sum "
                "in every row."
            )
        names.append(name)
        pfms.append(pfm / pfm.sum(axis=1, keepdims=True))
    return names, pfms
