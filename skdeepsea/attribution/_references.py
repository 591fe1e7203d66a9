"""References of integrated gradients and DeepLIFT/SHAP: dinucleotide shuffles, constant rows,
or the caller's arrays."""

from numbers import Integral

import numpy as np

from .._constraints import ArrayLike, InstanceOf, Interval, parameter_constraints

REFERENCE_KINDS = ("shuffle", "zeros", "uniform")
#: A seed of the shuffles: what ``numpy.random.default_rng`` takes of it.
RANDOM_STATE = [None, Interval(Integral, 0, None),
                InstanceOf(np.random.Generator, "a numpy Generator")]


@parameter_constraints({"X": [ArrayLike()], "n_shuffles": [Interval(Integral, 1, None)],
                        "random_state": RANDOM_STATE})
def dinucleotide_shuffle(X, n_shuffles=20, *, random_state=None):
    """Shuffle one-hot sequences keeping their dinucleotide counts.

    Each shuffle is a random Eulerian path through the sequence's graph of
    dinucleotide transitions that keeps the first and last base (the
    Altschul-Erickson shuffle, as in deeplift's ``dinuc_shuffle`` and
    tangermeme's ``dinucleotide_shuffle``). Positions without a base (all-zero
    rows, an N) are shuffled as a fifth letter.

    Parameters
    ----------
    X : array-like of shape (n_sequences, length, n_channels)
        One-hot sequences.
    n_shuffles : int, default=20
        Shuffles per sequence.
    random_state : int, numpy Generator or None, default=None
        Seed of the shuffles.

    Returns
    -------
    shuffles : ndarray of shape (n_sequences, n_shuffles, length, n_channels)
        Same dtype as ``X``.

    Raises
    ------
    ValueError
        For a parameter of the wrong type or value, naming it, or an ``X``
        that is not 3-D.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.attribution import dinucleotide_shuffle
    >>> X = np.eye(4, dtype="uint8")[[[0, 1, 0, 2, 3, 1, 0, 2]]]
    >>> shuffles = dinucleotide_shuffle(X, 3, random_state=0)
    >>> shuffles.shape, bool((shuffles[:, :, [0, -1]] == X[:, None, [0, -1]]).all())
    ((1, 3, 8, 4), True)
    """
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"dinucleotide_shuffle: X must have shape (n_sequences, length, "
                         f"n_channels), got {X.shape}.")
    rng = np.random.default_rng(random_state)
    n, length, channels = X.shape
    letters = np.where(X.any(axis=2), X.argmax(axis=2), channels)
    table = np.concatenate([np.eye(channels, dtype=X.dtype), np.zeros((1, channels), X.dtype)])
    out = np.empty((n, n_shuffles, length, channels), dtype=X.dtype)
    for i in range(n):
        for j in range(n_shuffles):
            out[i, j] = table[_euler_shuffle(letters[i], channels + 1, rng)]
    return out


def _euler_shuffle(letters, n_letters, rng):
    """One dinucleotide shuffle of a sequence of letter codes."""
    if len(letters) < 3:
        return letters.copy()
    # Successors of each letter, in sequence order; shuffling all but the last
    # successor of each letter keeps a path through every edge (the last edges
    # form a tree into the final letter).
    successors = []
    for letter in range(n_letters):
        following = letters[1:][letters[:-1] == letter]
        if len(following) > 1:
            following = np.concatenate([rng.permutation(following[:-1]), following[-1:]])
        successors.append(following)
    used = np.zeros(n_letters, dtype=int)
    path = np.empty_like(letters)
    path[0] = current = letters[0]
    for position in range(1, len(letters)):
        nxt = successors[current][used[current]]
        used[current] += 1
        path[position] = current = nxt
    return path


def references_of(references, chunk, start, n_total, n_shuffles, rng):
    """(n, R, L, C) float32 references of the sequences ``chunk``, or None.

    ``references`` is None, one of :data:`REFERENCE_KINDS` (checked by the caller), or arrays
    of shape (R, L, C) or (n_total, R, L, C), of which ``chunk`` starts at row ``start``.
    """
    if references is None:
        return None
    if isinstance(references, str):
        if references == "shuffle":
            return dinucleotide_shuffle(chunk, n_shuffles, random_state=rng)
        fill = 0.0 if references == "zeros" else 1.0 / chunk.shape[-1]
        return np.full((len(chunk), 1, *chunk.shape[1:]), fill, dtype=np.float32)
    refs = np.asarray(references, dtype=np.float32)
    if refs.ndim == 3 and refs.shape[1:] == chunk.shape[1:]:
        return np.broadcast_to(refs, (len(chunk), *refs.shape))
    if refs.ndim == 4 and refs.shape[0] == n_total and refs.shape[2:] == chunk.shape[1:]:
        return refs[start:start + len(chunk)]
    raise ValueError(f"references must have shape (n_references, {chunk.shape[1]}, "
                     f"{chunk.shape[2]}) or ({n_total}, n_references, {chunk.shape[1]}, "
                     f"{chunk.shape[2]}), got {refs.shape}.")
