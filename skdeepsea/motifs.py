"""What the first-layer filters learned: position frequency matrices, MEME files and logos.

A first-layer convolution filter of width ``k`` scores every ``k``-base
window of a sequence. Following Basset (Kelley et al., 2016) and the
DeepSEA-era interpretation papers, a filter is turned into a position
frequency matrix (PFM) by collecting, over a data set, every window whose
activation reaches a fraction (by default half) of the filter's largest
activation on that data set, and counting the bases of those windows
position by position. The PFMs can be written in MEME's minimal motif format
(the input of TOMTOM and the other MEME-suite tools) and drawn as sequence
logos.

Matrices handed to users (:meth:`FilterMotifs.frequencies`,
:func:`write_meme`, :func:`read_meme`, :func:`plot_logo`) have their columns
in the order A, C, G, T, as MEME, JASPAR and
:func:`skdeepsea.datasets.load_motifs` do, whatever base order the model was
trained in.

The logos are drawn by :mod:`skdeepsea.plotting.logos` (re-exported here).
matplotlib and logomaker (the ``plot`` extra) are needed for the logos only,
Biopython (same extra) for :func:`read_meme`; they are imported when used.
"""

import os
from numbers import Integral, Real

import numpy as np

from ._atomic import atomic_open
from ._constraints import (
    ArrayLike,
    Boolean,
    HasMethods,
    InstanceOf,
    Interval,
    PathLike,
    Satisfies,
    parameter_constraints,
)
from ._validation import check_pfm
from .plotting.logos import PFM, plot_filter_logos, plot_logo
from .preprocessing import DEFAULT_ALPHABET, channel_order, check_alphabet

__all__ = [
    "FilterMotifs",
    "filter_motifs",
    "motif_similarity",
    "plot_filter_logos",
    "plot_logo",
    "read_meme",
    "write_meme",
]

MEME_ALPHABET = "ACGT"


class FilterMotifs:
    """Position frequency matrices of first-layer filters, as found by :func:`filter_motifs`.

    Parameters
    ----------
    counts : array-like of shape (n_filters, width, 4)
        Base counts of each filter's top-activating windows, position by
        position, with the channels in the order of ``alphabet``.
    alphabet : str
        Base order of the last axis of ``counts``.
    n_sites : array-like of shape (n_filters,)
        Number of windows counted for each filter.
    max_activation : array-like of shape (n_filters,)
        Largest activation of each filter over the data set.
    threshold : float
        The fraction of ``max_activation`` a window had to reach.
    background : array-like of shape (4,), default=None
        Base frequencies of the scanned sequences in the order of
        ``alphabet``; None: uniform.
    names : list of str, default=None
        One name per filter; None: ``"filter_0"``, ``"filter_1"``, ...

    Attributes
    ----------
    counts : ndarray of shape (n_filters, width, 4)
    alphabet : str
    n_sites : ndarray of int
    max_activation : ndarray of float
    threshold : float
    background : ndarray of shape (4,)
    names : list of str

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.motifs import FilterMotifs
    >>> counts = np.zeros((1, 2, 4))
    >>> counts[0, 0, 0] = counts[0, 1, 1] = 10   # "AT" in the order A, T, G, C
    >>> motifs = FilterMotifs(counts, "ATGC", n_sites=[10], max_activation=[3.0], threshold=0.5)
    >>> motifs.consensus()
    ['AT']
    >>> motifs.frequencies()[0]   # columns A, C, G, T
    array([[1., 0., 0., 0.],
           [0., 0., 0., 1.]])
    >>> motifs.information_content().round(3)
    array([4.])
    """

    def __init__(self, counts, alphabet, n_sites, max_activation, threshold, background=None,
                 names=None):
        self.counts = np.asarray(counts, dtype=np.float64)
        if self.counts.ndim != 3 or self.counts.shape[2] != 4:
            raise ValueError(
                f"counts must have shape (n_filters, width, 4), got {self.counts.shape}."
            )
        self.alphabet = check_alphabet(alphabet)
        self.n_sites = np.asarray(n_sites, dtype=np.int64)
        self.max_activation = np.asarray(max_activation, dtype=np.float64)
        self.threshold = float(threshold)
        self.background = (
            np.full(4, 0.25) if background is None else np.asarray(background, dtype=np.float64)
        )
        self.names = (
            [f"filter_{i}" for i in range(len(self.counts))] if names is None else list(names)
        )
        for name, value in (("n_sites", self.n_sites), ("max_activation", self.max_activation),
                            ("names", self.names)):
            if len(value) != len(self.counts):
                raise ValueError(
                    f"{name} has {len(value)} entries but counts has {len(self.counts)} filters."
                )

    def __len__(self):
        return len(self.counts)

    def __repr__(self):
        width = self.counts.shape[1]
        return f"FilterMotifs({len(self)} filters of width {width}, alphabet={self.alphabet!r})"

    def frequencies(self, alphabet=MEME_ALPHABET):
        """Position frequency matrices: each row sums to 1.

        Parameters
        ----------
        alphabet : str, default="ACGT"
            Column order of the result.

        Returns
        -------
        pfms : ndarray of shape (n_filters, width, 4)
            A row without counts (a filter with no sites, or N bases only)
            is uniform, 0.25 each.
        """
        counts = self.counts[:, :, channel_order(self.alphabet, alphabet)]
        totals = counts.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 0.25)

    def background_frequencies(self, alphabet=MEME_ALPHABET):
        """Base frequencies of the scanned sequences.

        Parameters
        ----------
        alphabet : str, default="ACGT"
            Order of the result.

        Returns
        -------
        background : ndarray of shape (4,)
        """
        return self.background[channel_order(self.alphabet, alphabet)]

    def information_content(self):
        """Information content of each filter's PFM, in bits (0 for a filter without sites).

        Returns
        -------
        bits : ndarray of shape (n_filters,)
            Sum over positions of ``2 + sum_b p_b log2 p_b``.
        """
        p = self.frequencies()
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=2)
        bits = (2.0 - entropy).sum(axis=1)
        return np.where(self.n_sites > 0, bits, 0.0)

    def consensus(self):
        """Most frequent base at each position of each filter ("N" where nothing was counted).

        Returns
        -------
        consensus : list of str
        """
        p = self.frequencies()
        empty = self.counts.sum(axis=2) == 0
        letters = np.array(list(MEME_ALPHABET))[p.argmax(axis=2)]
        letters[empty] = "N"
        return ["".join(row) for row in letters]

    def summary(self):
        """One row per filter: name, sites, max activation, information content, consensus.

        Returns
        -------
        table : pandas.DataFrame
        """
        import pandas as pd

        return pd.DataFrame({
            "filter": self.names,
            "sites": self.n_sites,
            "max_activation": self.max_activation,
            "information_content": self.information_content(),
            "consensus": self.consensus(),
        })


def _first_conv(model):
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv1D):
            return layer
    raise ValueError(f"Model {model.name!r} has no Conv1D layer: there are no filters to read.")


@parameter_constraints({
    # A fitted classifier is told apart from an unfitted one in the body (its model_).
    "estimator": [HasMethods(("predict_proba", "forward"), "a DeepSEAClassifier"),
                  HasMethods(("get_layer", "predict"), "a keras.Model"),
                  Satisfies(lambda value: hasattr(value, "model_"),
                            "an object holding one as model_")],
    "X": [ArrayLike()],
    "threshold": [Interval(Real, 0, 1, closed="right")],
    "batch_size": [Interval(Integral, 1, None)],
    "progress": [Boolean()],
})
def filter_motifs(estimator, X, *, threshold=0.5, batch_size=256, progress=False):
    """Turn the first-layer filters into PFMs from their top-activating windows.

    For each filter, every window of ``X`` whose activation (after the
    layer's activation function) reaches ``threshold`` times the filter's
    largest activation over all of ``X`` is counted, base by base, into the
    filter's matrix: the method of Basset (Kelley et al., 2016), also used to
    read DeepSEA-like models. Two passes are made over ``X`` (the maximum,
    then the counts), batch by batch, so ``X`` may be a lazy array (an h5py
    dataset) larger than memory.

    Parameters
    ----------
    estimator : DeepSEAClassifier or keras.Model
        A fitted classifier (its ``model_`` and ``alphabet_`` are used), or
        a Keras model whose input is one-hot DNA in the order "ATGC" (wrap
        it otherwise: the alphabet is read from ``estimator.alphabet_``).
    X : array-like of shape (n_samples, L, 4)
        One-hot sequences. A :class:`~skdeepsea.OneHotArray` in another base
        order than the model's is reordered; a plain array is taken to be in
        the model's order.
    threshold : float in (0, 1], default=0.5
        Fraction of a filter's largest activation that a window must reach.
    batch_size : int, default=256
        Sequences per forward pass. Memory grows with ``batch_size x L x
        n_filters`` (320 MB for 256 sequences of 1000 bp and 320 filters).
    progress : bool, default=False
        Show a tqdm progress bar over the batches of each pass.

    Returns
    -------
    motifs : FilterMotifs
        Counts in the model's base order; a filter that never activates
        above 0 has no sites.

    Raises
    ------
    ValueError
        ``"filter_motifs: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value; if the classifier is not
        fitted, its first convolution is not valid with stride 1, ``X`` holds
        no sequences, or its sequences are not one-hot of shape (n, L, 4)
        with finite values.

    Examples
    --------
    With a fitted ``clf = DeepSEAClassifier(...).fit(X, y)``, call
    ``filter_motifs(clf, X)``; here an untrained network stands in:

    >>> import numpy as np
    >>> from skdeepsea import OneHotDNA
    >>> from skdeepsea.motifs import filter_motifs
    >>> from skdeepsea.network import build_deepsea
    >>> rng = np.random.default_rng(0)
    >>> X = OneHotDNA().fit_transform(["".join(rng.choice(list("ACGT"), 30)) for _ in range(20)])
    >>> model = build_deepsea(30, 1, conv_filters=(4,), kernel_size=5, fc_units=4,
    ...                       dropout=(0.1,), seed=0)
    >>> motifs = filter_motifs(model, X)
    >>> motifs.counts.shape, len(motifs.consensus()[0])
    ((4, 5, 4), 5)
    """
    import keras
    from tqdm.auto import tqdm

    from ._engine.batches import check_finite_rows
    from ._engine.inference import predict_batches

    model = estimator if isinstance(estimator, keras.Model) else getattr(estimator, "model_", None)
    if model is None:
        raise ValueError(
            f"{type(estimator).__name__} is not fitted: filter_motifs needs a fitted "
            "DeepSEAClassifier or a keras.Model."
        )
    alphabet = check_alphabet(getattr(estimator, "alphabet_", None) or DEFAULT_ALPHABET)
    conv = _first_conv(model)
    strides = conv.strides[0] if isinstance(conv.strides, (tuple, list)) else conv.strides
    if conv.padding != "valid" or strides != 1:
        raise ValueError(
            f"Layer {conv.name!r} has padding={conv.padding!r} and strides={conv.strides}; "
            "filter_motifs reads windows of valid convolutions with stride 1 (DeepSEA's)."
        )
    width = conv.kernel_size[0]
    n_filters = conv.filters
    activations = keras.Model(model.input, conv.output)

    input_alphabet = getattr(X, "alphabet", None)
    order = None
    if input_alphabet and check_alphabet(input_alphabet) != alphabet:
        order = channel_order(input_alphabet, alphabet)
    n = len(X)
    if n == 0:
        raise ValueError("X holds no sequences.")

    def batches(description):
        for start in tqdm(range(0, n, batch_size), desc=description, unit="batch",
                          disable=not progress):
            try:
                batch = np.asarray(X[start:start + batch_size], dtype=np.float32)
            except (TypeError, ValueError) as error:
                raise ValueError(
                    f"X must be one-hot sequences (n, L, 4), got {error}; encode DNA strings "
                    "with skdeepsea.OneHotDNA."
                ) from None
            if batch.ndim != 3 or batch.shape[2] != 4:
                raise ValueError(
                    f"X must have shape (n, L, 4); sequences {start} on have shape "
                    f"{batch.shape[1:]}."
                )
            check_finite_rows(batch, np.arange(start, start + len(batch)))
            if order is not None:
                batch = batch[..., order]
            yield batch, predict_batches(activations, batch, batch_size=batch_size)

    max_activation = np.zeros(n_filters, dtype=np.float32)
    base_counts = np.zeros(4)
    for batch, act in batches("filter maxima"):
        np.maximum(max_activation, act.max(axis=(0, 1)), out=max_activation)
        base_counts += batch.sum(axis=(0, 1), dtype=np.float64)
    cutoff = np.where(max_activation > 0, np.float32(threshold) * max_activation, np.inf)

    counts = np.zeros((n_filters, width, 4))
    n_sites = np.zeros(n_filters, dtype=np.int64)
    for batch, act in batches("filter sites"):
        positions = act.shape[1]
        # selected[n * positions + p, f]: window p of sequence n counts for filter f. The
        # counts at offset j of every filter are then one matrix product with the bases at
        # p + j: no per-site Python or scatter-add.
        selected = (act >= cutoff).astype(np.float32).reshape(-1, n_filters)
        n_sites += selected.sum(axis=0, dtype=np.float64).astype(np.int64)
        for j in range(width):
            bases = batch[:, j:j + positions].reshape(-1, 4)
            counts[:, j] += selected.T @ bases
    total = base_counts.sum()
    background = base_counts / total if total > 0 else None
    return FilterMotifs(counts, alphabet, n_sites, max_activation, threshold, background)


def meme_text(motifs, *, min_sites=1):
    """The text of a MEME minimal-format motif file (see :func:`write_meme`).

    Parameters
    ----------
    motifs : FilterMotifs
        The filters' matrices.
    min_sites : int, default=1
        Leave out filters with fewer sites.

    Returns
    -------
    text : str
    """
    background = motifs.background_frequencies()
    lines = [
        "MEME version 4",
        "",
        f"ALPHABET= {MEME_ALPHABET}",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        " ".join(f"{base} {freq:.4f}" for base, freq in zip(MEME_ALPHABET, background)),
        "",
    ]
    pfms = motifs.frequencies()
    for name, pfm, sites in zip(motifs.names, pfms, motifs.n_sites):
        if sites < min_sites:
            continue
        lines += [
            f"MOTIF {name}",
            f"letter-probability matrix: alength= 4 w= {len(pfm)} nsites= {sites} E= 0",
            *(" ".join(f"{p:.6f}" for p in row) for row in pfm),
            "",
        ]
    return "\n".join(lines)


@parameter_constraints({"motifs": [InstanceOf(FilterMotifs, "a FilterMotifs")],
                        "path": [PathLike()], "min_sites": [Interval(Integral, 0, None)]})
def write_meme(motifs, path, *, min_sites=1):
    """Write the filters' PFMs in MEME's minimal motif format (MEME version 4).

    The file is what TOMTOM (``tomtom filters.meme JASPAR.meme``) and the
    other MEME-suite tools read: DNA alphabet ACGT, both strands, the
    background base frequencies of the scanned sequences, and one
    ``letter-probability matrix`` per filter with its number of sites. It is
    written to a temporary name and renamed when complete.

    Parameters
    ----------
    motifs : FilterMotifs
        The filters' matrices.
    path : str or path-like
        Destination file.
    min_sites : int, default=1
        Leave out filters with fewer sites (a filter without sites has no
        matrix).

    Returns
    -------
    n_written : int
        Number of motifs written.

    Raises
    ------
    ValueError
        ``"write_meme: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value; nothing is written then.

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from skdeepsea.motifs import FilterMotifs, write_meme
    >>> counts = np.array([[[5, 0, 0, 5], [0, 10, 0, 0]]], dtype=float)
    >>> motifs = FilterMotifs(counts, "ATGC", [10], [1.0], 0.5)
    >>> path = os.path.join(tempfile.mkdtemp(), "filters.meme")
    >>> write_meme(motifs, path)
    1
    >>> print(open(path).read().split("MOTIF")[1])
     filter_0
    letter-probability matrix: alength= 4 w= 2 nsites= 10 E= 0
    0.500000 0.500000 0.000000 0.000000
    0.000000 0.000000 0.000000 1.000000
    <BLANKLINE>
    """
    with atomic_open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(meme_text(motifs, min_sites=min_sites))
    return int((motifs.n_sites >= min_sites).sum())


@parameter_constraints({"path": [PathLike()]})
def read_meme(path):
    """Read the motifs of a MEME minimal-format file (needs Biopython).

    Parameters
    ----------
    path : str or path-like
        A MEME motif file, as :func:`write_meme` writes or as the MEME
        suite distributes motif databases (JASPAR, HOCOMOCO, ...).

    Returns
    -------
    motifs : dict of str to ndarray of shape (width, 4)
        Position frequency matrices, columns A, C, G, T, in file order.

    Raises
    ------
    ValueError
        ``"read_meme: path must be ..., got <value>."`` if ``path`` is not a
        path.
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a MEME motif file (or not ASCII text), naming it.
    """
    try:
        from Bio import motifs as bio_motifs
    except ImportError as e:
        raise ImportError(
            "read_meme needs Biopython: pip install 'skdeepsea[plot]'."
        ) from e
    try:
        with open(path, encoding="ascii") as f:
            record = bio_motifs.parse(f, "minimal")
    except (ValueError, KeyError, IndexError) as e:  # Biopython's parser names no file
        raise ValueError(f"{os.fspath(path)}: not a MEME motif file ({e})") from e
    result = {}
    for motif in record:
        counts = np.array([motif.counts[base] for base in MEME_ALPHABET], dtype=float).T
        totals = counts.sum(axis=1, keepdims=True)
        result[motif.name] = np.where(totals > 0, counts / np.where(totals > 0, totals, 1), 0.25)
    return result


@parameter_constraints({"motif": PFM, "reference": PFM,
                        "min_overlap": [Interval(Integral, 1, None)]})
def motif_similarity(motif, reference, *, min_overlap=5):
    """Best Pearson correlation of two motifs over their relative offsets and both strands.

    The columns of the overlapping positions are flattened and correlated,
    as TOMTOM's Pearson distance does; the best over every offset leaving at
    least ``min_overlap`` positions and over both strands of ``motif`` is
    returned.

    Parameters
    ----------
    motif, reference : str or array-like of shape (width, 4)
        PFMs with columns A, C, G, T, or consensus strings ("GATAAG").
    min_overlap : int, default=5
        Fewest positions the two must share (capped at the shorter width).

    Returns
    -------
    correlation : float
        In [-1, 1]; NaN when no overlap has variation in both.
    offset : int
        Position of ``motif``'s first base relative to ``reference``'s first
        base in the best alignment (after reverse-complementing ``motif``
        when ``strand`` is "-").
    strand : {"+", "-"}
        Whether ``motif`` matched as it is or as its reverse complement.

    Raises
    ------
    ValueError
        ``"motif_similarity: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value; if a matrix is empty or not 4
        columns wide, or a consensus holds another character than A, C, G, T.

    Examples
    --------
    >>> from skdeepsea.motifs import motif_similarity
    >>> motif_similarity("CTTATC", "AGATAAGG")   # the reverse complement of GATAAG, inside
    (1.0, 1, '-')
    """
    motif, reference = check_pfm(motif), check_pfm(reference)
    overlap_min = min(min_overlap, len(motif), len(reference))
    best = (np.nan, 0, "+")
    for strand, m in (("+", motif), ("-", motif[::-1, ::-1])):
        for offset in range(-(len(m) - overlap_min), len(reference) - overlap_min + 1):
            lo, hi = max(0, offset), min(len(reference), offset + len(m))
            a = m[lo - offset:hi - offset].ravel()
            b = reference[lo:hi].ravel()
            if a.std() == 0 or b.std() == 0:
                continue
            r = float(np.corrcoef(a, b)[0, 1])
            if np.isnan(best[0]) or r > best[0] + 1e-12:
                best = (round(r, 12), offset, strand)
    return best
