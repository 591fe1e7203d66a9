"""Per-base contribution scores: which bases drove a prediction.

Three methods, for any network a fitted :class:`~skdeepsea.DeepSEAClassifier`
holds (or any single-input, single-output Keras functional model), on every
Keras backend:

- ``"gradient_x_input"``: the gradient of the chosen output at the sequence,
  times the sequence.
- ``"integrated_gradients"`` (Sundararajan et al., 2017): the gradient averaged
  along the straight path from a reference to the sequence (Gauss-Legendre
  quadrature), times the difference.
- ``"deep_lift_shap"``: DeepLIFT's rescale rule (Shrikumar et al., 2017)
  against dinucleotide-shuffled references, averaged over the references,
  as tangermeme's ``deep_lift_shap`` and shap's ``DeepExplainer`` compute it.

All three are one computation: *multipliers* ``m`` (a gradient, a path-averaged
gradient, or DeepLIFT's multipliers) and a reference ``r`` give each base the
contribution ``x * (m - sum_c r_c m_c)`` at its position, averaged over the
references. Summed over a sequence this is ``sum m * (x - r)``, which for
integrated gradients and DeepLIFT equals the output difference from the
references (completeness; :attr:`Attributions.deltas` reports how far off).

How DeepLIFT runs on three backends: PyTorch implementations (tangermeme, Captum, shap) replace the backward pass of
each nonlinear module with a hook. Keras 3 has no backend-neutral way to
override a gradient, so the network is re-run with each nonlinear layer
wrapped in a rule whose *value* is the layer's own output and whose *gradient*
is DeepLIFT's multiplier, written with ``keras.ops.stop_gradient`` alone
(:class:`_DeepLiftRule`). The batch carries each sequence and its reference
side by side (the reference half without gradient), so every rule sees both.
For an elementwise nonlinearity ``f`` (the activation of a convolution or dense
layer, or an activation layer) the input half returns
``sg(f(z)) + sg(s) * (z - sg(z))`` with the secant slope
``s = (f(z) - f(z0)) / (z - z0)``, and ``f(z)`` itself (plain gradient) where
``|z - z0| < 1e-6``. Max pooling follows Captum's and tangermeme's rule: the
output difference is split into ``max(y, y0) - y0``, sent back through the
sequence's argmax, and ``y - max(y, y0)``, sent back through the reference's
argmax, then divided by the input difference (the plain pooling gradient where
that is exactly zero, as tangermeme 1.6 has it: where the sequence's and the
reference's argmax coincide the ratio is exactly 1 whatever the difference, so
no threshold is needed, and Captum's 1e-7 threshold let float32 rounding pick
the branch for inputs that differ by about 1e-7). Layers that are linear at inference (dropout, flatten,
reshape, pooling by averages, batch normalization, padding, sums) keep their
gradient, which is then exact. Other nonlinear layers (LSTMs, attention,
products) keep their plain gradient too, as tangermeme does for modules it has
no rule for; a warning names them, since completeness then holds only
approximately. The gradient of the rewritten network is taken in one place
(:func:`_gradient_function`), with ``jax.grad``, ``torch.autograd.grad`` or a
``tf.GradientTape``.
"""

import dataclasses
import numbers
import os
import warnings
import weakref

import keras
import numpy as np

from ._engine.batches import pad_rows
from ._validation import check_number
from .preprocessing import OneHotDNA, check_alphabet, complement_channels

__all__ = [
    "METHODS",
    "Attributions",
    "attribute",
    "attribute_variants",
    "dinucleotide_shuffle",
    "read_attributions",
    "write_attributions",
]

METHODS = ("gradient_x_input", "integrated_gradients", "deep_lift_shap")
_OUTPUTS = ("logit", "probability")
_STRANDS = ("forward", "both")
_REFERENCE_KINDS = ("shuffle", "zeros", "uniform")
_DEFAULT_REFERENCES = {"integrated_gradients": "zeros", "deep_lift_shap": "shuffle"}
_RESCALE_TOLERANCE = 1e-6  # tangermeme's (and Captum's) threshold on |z - z0| at activations
_SEQUENCES_PER_CHUNK = 256  # most sequences whose references exist at a time
_CHUNK_BYTES = 2**28


@dataclasses.dataclass(frozen=True)
class Attributions:
    """Contribution scores of sequences to chosen outputs of a network.

    Parameters
    ----------
    scores : ndarray of shape (n_sequences, n_targets, length, n_channels)
        Contribution of each base; zero at the bases a sequence does not hold,
        unless ``hypothetical``.
    sequences : ndarray of shape (n_sequences, length, n_channels)
        The one-hot sequences explained (uint8).
    targets : list of str
        Names of the explained outputs, one per second axis of ``scores``
        (``"A+B"`` for a sum of targets).
    method : str
        One of :data:`METHODS`.
    output : {"logit", "probability"}
        Whether the explained outputs are taken before or after the network's
        output activation.
    strands : {"forward", "both"}
        "both": the mean of the sequence's scores and its reverse complement's,
        mapped back to forward coordinates.
    alphabet : str
        Base order of the channels.
    hypothetical : bool
        Whether ``scores`` holds every base's hypothetical contribution.
    outputs : ndarray of shape (n_sequences, n_targets)
        The explained outputs of the sequences (mean over strands with "both").
    reference_outputs : ndarray of shape (n_sequences, n_targets) or None
        Mean outputs of the references; None for gradient x input.
    """

    scores: np.ndarray
    sequences: np.ndarray
    targets: list
    method: str
    output: str
    strands: str
    alphabet: str
    hypothetical: bool
    outputs: np.ndarray
    reference_outputs: np.ndarray = None

    @property
    def contributions(self):
        """Contribution of the base present at each position.

        Returns
        -------
        contributions : ndarray of shape (n_sequences, n_targets, length)
        """
        scores = self.scores * self.sequences[:, None] if self.hypothetical else self.scores
        return scores.sum(axis=-1)

    @property
    def deltas(self):
        """Sum of the contributions minus the output difference from the references.

        Zero for exact DeepLIFT on networks it has rules for (up to float
        rounding); the quadrature error for integrated gradients.

        Returns
        -------
        deltas : ndarray of shape (n_sequences, n_targets) or None
            None for gradient x input, which has no reference.
        """
        if self.reference_outputs is None:
            return None
        return self.contributions.sum(axis=-1) - (self.outputs - self.reference_outputs)

    def top_positions(self, k, target=0):
        """The ``k`` positions with the largest contributions, per sequence.

        Parameters
        ----------
        k : int
            Positions per sequence.
        target : int, default=0
            Index into :attr:`targets`.

        Returns
        -------
        positions : ndarray of shape (n_sequences, k)
            Largest first.
        """
        per_base = self.contributions[:, target]
        return np.argsort(-per_base, axis=1, kind="stable")[:, :k]


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
        raise ValueError(f"X must have shape (n_sequences, length, n_channels), got {X.shape}.")
    if not (isinstance(n_shuffles, numbers.Integral) and n_shuffles >= 1):
        raise ValueError(f"n_shuffles must be a positive integer, got {n_shuffles!r}.")
    rng = _generator(random_state)
    n, length, channels = X.shape
    letters = np.where(X.any(axis=2), X.argmax(axis=2), channels)
    table = np.concatenate([np.eye(channels, dtype=X.dtype), np.zeros((1, channels), X.dtype)])
    out = np.empty((n, n_shuffles, length, channels), dtype=X.dtype)
    for i in range(n):
        for j in range(n_shuffles):
            out[i, j] = table[_euler_shuffle(letters[i], channels + 1, rng)]
    return out


def _generator(random_state):
    """numpy's Generator of a seed (an int, None) or a Generator; a ValueError naming it else."""
    if not (random_state is None or isinstance(random_state, np.random.Generator)):
        check_number("random_state", random_state, low=0, integer=True)
    return np.random.default_rng(random_state)


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


def attribute(model, X, *, targets=None, method="deep_lift_shap", output="logit",
              strands="forward", sum_targets=False, references=None, n_shuffles=20,
              n_steps=50, hypothetical=False, alphabet=None, batch_size=64,
              random_state=0):
    """Contribution of every base of sequences to chosen outputs of a network.

    Parameters
    ----------
    model : DeepSEAClassifier or keras.Model
        A fitted classifier, or a Keras functional model with one input of
        shape ``(length, n_channels)`` and one output of shape ``(n_outputs,)``.
    X : str, sequence of str, or array-like of shape (n_sequences, length, n_channels)
        Sequences (strings are encoded in the model's base order; they must
        have the model's length) or one-hot arrays.
    targets : str, int, or sequence of str or int, default=None
        Outputs to explain, by name or index
        (:func:`skdeepsea.targets.target_indices`); None: all (one gradient
        pass each: choose a few of a 919-output model's).
    method : {"deep_lift_shap", "integrated_gradients", "gradient_x_input"}, \
default="deep_lift_shap"
        The attribution method (see the module's description).
    output : {"logit", "probability"}, default="logit"
        Explain the outputs before the network's output activation (the usual
        choice: a saturated sigmoid hides contributions) or after it.
    strands : {"forward", "both"}, default="forward"
        "both" also explains the reverse complement of each sequence (against
        the reverse complements of its references) and averages the two, in
        forward coordinates, as the strand-averaged prediction does.
    sum_targets : bool, default=False
        Explain the sum of the chosen outputs instead of each one.
    references : {"shuffle", "zeros", "uniform"} or array-like, default=None
        References of integrated gradients and DeepLIFT/SHAP: dinucleotide
        shuffles of each sequence, all-zero rows, rows of ``1 / n_channels``,
        or arrays of shape ``(n_references, length, n_channels)`` (the same for
        every sequence) or ``(n_sequences, n_references, length, n_channels)``.
        None: "shuffle" for DeepLIFT/SHAP, "zeros" for integrated gradients.
        Gradient x input takes none.
    n_shuffles : int, default=20
        Shuffled references per sequence.
    n_steps : int, default=50
        Quadrature points of integrated gradients.
    hypothetical : bool, default=False
        Return the contribution every base would make at each position
        (tangermeme's ``hypothetical=True``), not only the present base's.
    alphabet : str, default=None
        Base order of a Keras model's channels; a classifier's is its own
        ``alphabet_``. None for a Keras model: "ATGC", DeepSEA's.
    batch_size : int, default=64
        Sequence-reference pairs (or path points) per gradient evaluation.
    random_state : int, numpy Generator or None, default=0
        Seed of the shuffles.

    Returns
    -------
    attributions : Attributions
        Scores of shape ``(n_sequences, n_targets, length, n_channels)`` and
        the outputs and reference outputs they explain.

    Raises
    ------
    ValueError
        For an unknown option, a ``hypothetical`` or ``sum_targets`` that is
        not a bool, a ``random_state`` that is not a seed, sequences of the
        wrong shape or length (naming the sequence), an empty ``targets``,
        references of the wrong shape, or DeepLIFT/SHAP on the probability of
        a softmax output.

    Warns
    -----
    UserWarning
        For sequences that hold no base (all N): their scores are zeros, as
        every score of a position without a base is; the warning names the
        first.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.attribution import attribute
    >>> from skdeepsea.network import build_deepsea
    >>> network = build_deepsea(40, 2, conv_filters=(4, 4, 4), kernel_size=3,
    ...                         pool_size=2, fc_units=8, seed=0)
    >>> result = attribute(network, ["ACGT" * 10], targets=1, n_shuffles=4)
    >>> result.scores.shape
    (1, 1, 40, 4)
    >>> bool(np.abs(result.deltas).max() < 1e-4)
    True
    """
    _check_choice("method", method, METHODS)
    _check_choice("output", output, _OUTPUTS)
    _check_choice("strands", strands, _STRANDS)
    for name, value in (("n_shuffles", n_shuffles), ("n_steps", n_steps),
                        ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    for name, value in (("hypothetical", hypothetical), ("sum_targets", sum_targets)):
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False, got {value!r}.")
    rng = _generator(random_state)
    network, alphabet, names, indices = _model_parts(model, alphabet, targets)
    X = _one_hot(X, network, alphabet)
    empty = np.flatnonzero(~X.any(axis=(1, 2)))
    if len(empty):
        warnings.warn(
            f"{len(empty)} sequence(s) hold no base (all N, or all-zero rows), the first "
            f"sequence {empty[0]}: their contribution scores are all zero; nothing there "
            "contributes to the outputs.", UserWarning, stacklevel=2)
    if method == "gradient_x_input":
        if references is not None:
            raise ValueError("gradient_x_input takes no references; got references="
                             f"{references!r}.")
    elif references is None:
        references = _DEFAULT_REFERENCES[method]
    weights = _target_weights(int(network.outputs[0].shape[-1]), indices, sum_targets)
    if sum_targets:
        names = ["+".join(names)]
    plain = _explained_model(network, output, weights, deep_lift=False)
    paired = _explained_model(network, output, weights, deep_lift=True) \
        if method == "deep_lift_shap" else None
    flip = complement_channels(alphabet) if strands == "both" else None

    # Sequences per chunk: their references and multipliers (targets x references x L x C
    # floats per sequence) stay under about 256 MB.
    if references is None or isinstance(references, str):
        n_references = n_shuffles if references == "shuffle" else 1
    else:
        n_references = np.shape(references)[-3]
    per_sequence = 4 * weights.shape[1] * n_references * X.shape[1] * X.shape[2]
    chunk_size = int(max(1, min(_SEQUENCES_PER_CHUNK, _CHUNK_BYTES // per_sequence)))
    scores, outputs, reference_outputs = [], [], []
    for start in range(0, len(X), chunk_size):
        chunk = X[start:start + chunk_size].astype(np.float32)
        refs = _references(references, chunk, start, len(X), n_shuffles, rng)
        strand_parts = [_explain(plain, paired, method, chunk, refs, weights.shape[1],
                                 n_steps, batch_size, hypothetical)]
        if flip is not None:
            rc = _explain(plain, paired, method, _reverse(chunk, flip),
                          None if refs is None else _reverse(refs, flip), weights.shape[1],
                          n_steps, batch_size, hypothetical)
            strand_parts.append((_reverse(rc[0], flip), rc[1], rc[2]))
        scores.append(np.mean([p[0] for p in strand_parts], axis=0))
        outputs.append(np.mean([p[1] for p in strand_parts], axis=0))
        if refs is not None:
            reference_outputs.append(np.mean([p[2] for p in strand_parts], axis=0))
    return Attributions(
        scores=np.concatenate(scores).astype(np.float32),
        sequences=X.astype(np.uint8), targets=names, method=method, output=output,
        strands=strands, alphabet=alphabet, hypothetical=bool(hypothetical),
        outputs=np.concatenate(outputs),
        reference_outputs=np.concatenate(reference_outputs) if reference_outputs else None,
    )


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
        Passed to :func:`attribute` (``targets``, ``method``, ...).

    Returns
    -------
    variants : pandas.DataFrame
        Every variant read, with ``scored`` and ``reason`` columns.
    ref, alt : Attributions or None
        Scores of the reference and alternative windows of the scored
        variants, in order; None when no variant could be scored.
    """
    import pandas as pd

    from .variants import read_variants, variant_windows

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


def write_attributions(attributions, path, *, format=None):
    """Write contribution scores to an NPZ or HDF5 file, atomically.

    Parameters
    ----------
    attributions : Attributions
        The scores.
    path : str or path-like
        Destination; ``.npz``, ``.h5`` or ``.hdf5``.
    format : {"npz", "hdf5"}, default=None
        Override the format the suffix implies (:func:`read_attributions`
        tells the format from the content, whatever the name).

    Returns
    -------
    path : str
        The file written.

    Raises
    ------
    ValueError
        If the format is neither "npz" nor "hdf5", nor given and implied by
        the suffix.
    """
    from ._atomic import atomic_open, atomic_path

    path = os.fspath(path)
    if format is not None:
        _check_choice("format", format, ("npz", "hdf5"))
    format = format or _format_of(path)
    arrays, attrs = _to_arrays(attributions)
    if format == "npz":
        with atomic_open(path, "wb") as f:
            np.savez_compressed(f, **arrays, **{k: np.asarray(v) for k, v in attrs.items()})
    else:
        import h5py

        with atomic_path(path) as temporary, h5py.File(temporary, "w") as f:
            for name, array in arrays.items():
                f.create_dataset(name, data=array, compression="gzip")
            for name, value in attrs.items():
                f.attrs[name] = value
    return path


def read_attributions(path):
    """Read contribution scores written by :func:`write_attributions`.

    Parameters
    ----------
    path : str or path-like
        An NPZ or HDF5 file.

    Returns
    -------
    attributions : Attributions

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is neither NPZ nor HDF5 (told by its content, not its
        name), lacks a field, or holds scores, sequences, outputs and targets
        of shapes that do not agree; the message names the file.
    skdeepsea.exceptions.DamagedFileError
        If the file is damaged or truncated.
    """
    import zipfile

    import h5py

    from .exceptions import damaged

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file of contribution scores: {path}")
    with open(path, "rb") as f:
        start = f.read(4)
    try:
        if start == b"PK\x03\x04":
            with np.load(path, allow_pickle=False) as f:
                values = {k: f[k] for k in f.files}
        elif h5py.is_hdf5(path):
            with h5py.File(path, "r") as f:
                values = {k: f[k][()] for k in f}
                values.update({k: f.attrs[k] for k in f.attrs})
        else:
            raise ValueError(f"{path} is not a file of contribution scores: neither an NPZ "
                             "(zip) nor an HDF5 file.")
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise damaged(path, "NPZ" if start == b"PK\x03\x04" else "HDF5", error) from error
    return _from_arrays(values, path)


_ARRAYS = ("scores", "sequences", "outputs", "reference_outputs")
_ATTRS = ("method", "output", "strands", "alphabet", "hypothetical")


def _to_arrays(attributions):
    arrays = {k: getattr(attributions, k) for k in _ARRAYS
              if getattr(attributions, k) is not None}
    arrays["targets"] = np.asarray(attributions.targets, dtype=str).astype("S")
    return arrays, {k: getattr(attributions, k) for k in _ATTRS}


def _from_arrays(values, path):
    missing = [k for k in ("scores", "sequences", "outputs", "targets", *_ATTRS)
               if k not in values]
    if missing:
        raise ValueError(f"{path} is not a file of contribution scores: no "
                         f"{', '.join(missing)}.")
    _check_agreement(values, path)
    fields = {k: np.asarray(values[k]) for k in ("scores", "sequences", "outputs")}
    fields["reference_outputs"] = values.get("reference_outputs")
    fields["targets"] = [t.decode() if isinstance(t, bytes) else str(t)
                         for t in np.asarray(values["targets"]).tolist()]
    for k in _ATTRS:
        value = np.asarray(values[k]).item()
        fields[k] = value.decode() if isinstance(value, bytes) else value
    fields["hypothetical"] = bool(fields["hypothetical"])
    return Attributions(**fields)


def _check_agreement(values, path):
    """Scores, sequences, outputs and targets of one (n, K, L, C) geometry, or a ValueError."""
    scores = np.asarray(values["scores"])
    if scores.ndim != 4:
        raise ValueError(f"{path}: scores must have shape (n_sequences, n_targets, length, "
                         f"n_channels), got {scores.shape}.")
    n, k, length, channels = scores.shape
    n_targets = np.asarray(values["targets"]).size
    expected = {"sequences": (n, length, channels), "outputs": (n, k),
                "reference_outputs": (n, k)}
    for name, shape in expected.items():
        if values.get(name) is not None and np.shape(values[name]) != shape:
            raise ValueError(f"{path}: {name} has shape {np.shape(values[name])}, but scores "
                             f"{scores.shape} make it {shape}: the file's arrays disagree.")
    if n_targets != k:
        raise ValueError(f"{path}: {n_targets} target name(s) for the {k} target(s) of "
                         f"scores {scores.shape}: the file's arrays disagree.")
    for name, choices in (("method", METHODS), ("output", _OUTPUTS), ("strands", _STRANDS)):
        value = np.asarray(values[name]).item()
        value = value.decode() if isinstance(value, bytes) else value
        if value not in choices:
            raise ValueError(f"{path}: {name} is {value!r}, not one of {', '.join(choices)}.")


def _format_of(path):
    lower = path.lower()
    if lower.endswith(".npz"):
        return "npz"
    if lower.endswith((".h5", ".hdf5")):
        return "hdf5"
    raise ValueError(f"Cannot tell the format of {path!r}: use a .npz, .h5 or .hdf5 name.")


def _check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; "
                         f"got {value!r}.")


def _model_parts(model, alphabet, targets):
    """The network, base order, output names and chosen output indices of ``model``."""
    from .targets import target_indices

    if not isinstance(model, keras.Model):
        from .variants._scoring import ModelTargets

        info = ModelTargets(model, targets)
        if alphabet is not None and check_alphabet(alphabet) != info.alphabet:
            raise ValueError(f"alphabet={alphabet!r} differs from the model's base order "
                             f"{info.alphabet!r}.")
        return model.model_, info.alphabet, info.names, info.indices.tolist()
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("The Keras model must have one input and one output, got "
                         f"{len(model.inputs)} and {len(model.outputs)}.")
    names = [str(i) for i in range(int(model.outputs[0].shape[-1]))]
    indices = target_indices(names, targets)
    return model, check_alphabet(alphabet or "ATGC"), [names[i] for i in indices], indices


def _one_hot(X, network, alphabet):
    """``X`` as a float32 one-hot array of the network's input shape."""
    from ._engine.inputs import check_predict_alphabet, declared_alphabet

    check_predict_alphabet(alphabet, declared_alphabet(X))
    length, channels = (int(d) for d in network.inputs[0].shape[1:])
    if isinstance(X, str):
        X = [X]
    if len(X) and isinstance(X[0], str):
        for i, sequence in enumerate(X):
            if len(sequence) != length:
                raise ValueError(f"Sequence {i} has length {len(sequence)}, but the model "
                                 f"takes {length} bp.")
        X = OneHotDNA(alphabet=alphabet).fit(["A"]).transform(list(X))
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 3 or X.shape[1:] != (length, channels):
        raise ValueError(f"X must have shape (n_sequences, {length}, {channels}), "
                         f"got {X.shape}.")
    if not len(X):
        raise ValueError("X holds no sequences.")
    return X


def _target_weights(n_outputs, indices, sum_targets):
    """(n_outputs, n_explained) matrix: each explained output as a sum of network outputs."""
    weights = np.zeros((n_outputs, len(indices)), dtype=np.float32)
    weights[indices, np.arange(len(indices))] = 1
    return weights.sum(axis=1, keepdims=True) if sum_targets else weights


def _reverse(x, channels):
    """Reverse complement along the last two axes (length, channels)."""
    return np.ascontiguousarray(x[..., ::-1, :][..., channels])


def _references(references, chunk, start, n_total, n_shuffles, rng):
    """(n, R, L, C) float32 references of the sequences ``chunk``, or None."""
    if references is None:
        return None
    if isinstance(references, str):
        _check_choice("references", references, _REFERENCE_KINDS)
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


def _explain(plain, paired, method, X, refs, n_targets, n_steps, batch_size, hypothetical):
    """Scores (n, K, L, C), outputs (n, K) and mean reference outputs (n, K) or None."""
    from ._engine.inference import predict_batches

    outputs = predict_batches(plain, X, batch_size=batch_size)
    if method == "gradient_x_input":
        refs = np.zeros((len(X), 1, *X.shape[1:]), dtype=np.float32)
        multipliers = _gradients(plain, [X], n_targets, batch_size)[:, :, None]
        reference_outputs = None
    else:
        n, r = refs.shape[:2]
        flat_refs = refs.reshape(n * r, *X.shape[1:])
        reference_outputs = predict_batches(plain, flat_refs, batch_size=batch_size)
        reference_outputs = reference_outputs.reshape(n, r, -1).mean(axis=1)
        paired_X = np.repeat(X, r, axis=0)
        if method == "deep_lift_shap":
            multipliers = _gradients(paired, [paired_X, flat_refs], n_targets, batch_size)
        else:
            multipliers = _path_gradients(plain, paired_X, flat_refs, n_targets, n_steps,
                                          batch_size)
        multipliers = multipliers.reshape(n_targets, n, r, *X.shape[1:])
    multipliers = np.moveaxis(multipliers, 0, 1)  # (n, K, R, L, C)
    # Each base's contribution were it present: its multiplier minus the
    # reference's multiplier-weighted row (tangermeme's hypothetical_attributions).
    baseline = np.einsum("nkrlc,nrlc->nkrl", multipliers, refs)
    scores = (multipliers - baseline[..., None]).mean(axis=2)
    if not hypothetical:
        scores = scores * X[:, None]
    return scores, outputs, reference_outputs


def _path_gradients(plain, X, refs, n_targets, n_steps, batch_size):
    """Integrated gradients' multipliers: gradients averaged along ref -> X (Gauss-Legendre)."""
    nodes, node_weights = np.polynomial.legendre.leggauss(n_steps)
    alphas, node_weights = (nodes + 1) / 2, node_weights / 2
    total = np.zeros((n_targets, *X.shape), dtype=np.float64)
    difference = X - refs
    # Several path points per gradient call when there are few pairs.
    per_call = max(1, batch_size // len(X))
    for start in range(0, n_steps, per_call):
        group = slice(start, start + per_call)
        points = (refs[None] + alphas[group, None, None, None] * difference[None]).astype(
            np.float32)
        gradients = _gradients(plain, [points.reshape(-1, *X.shape[1:])], n_targets,
                               batch_size).reshape(n_targets, -1, *X.shape)
        total += np.einsum("s,ks...->k...", node_weights[group], gradients)
    return total.astype(np.float32)


_GRADIENT_FUNCTIONS = weakref.WeakKeyDictionary()


def _gradients(model, inputs, n_targets, batch_size):
    """Gradients (K, n, L, C) of each of ``model``'s K outputs w.r.t. its first input."""
    if model not in _GRADIENT_FUNCTIONS:
        _GRADIENT_FUNCTIONS[model] = _gradient_function(model)
    gradient = _GRADIENT_FUNCTIONS[model]
    n = len(inputs[0])
    size = min(batch_size, n)
    out = np.empty((n_targets, *inputs[0].shape), dtype=np.float32)
    for start in range(0, n, size):
        stop = min(n, start + size)
        # One batch shape for every call (one compiled function): pad the last batch.
        batch = [np.ascontiguousarray(pad_rows(a[start:stop], size), dtype=np.float32)
                 for a in inputs]
        for k in range(n_targets):
            selector = np.zeros(n_targets, dtype=np.float32)
            selector[k] = 1
            out[k, start:stop] = gradient(batch, selector)[:stop - start]
    return out


def _gradient_function(model):
    """``f(inputs, selector)``: the gradient of ``sum(model(inputs) * selector)`` w.r.t.
    ``inputs[0]``, as a numpy array: the one backend-specific piece of this module."""
    backend = keras.backend.backend()
    single = len(model.inputs) == 1

    def arguments(tensors):
        return tensors[0] if single else list(tensors)

    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def objective(first, rest, selector, trainable, non_trainable):
            outputs, _ = model.stateless_call(trainable, non_trainable,
                                              arguments([first, *rest]), training=False)
            return jnp.sum(outputs * selector)

        grad = jax.jit(jax.grad(objective))

        def run(inputs, selector):
            return np.asarray(grad(
                inputs[0], inputs[1:], selector,
                [v.value for v in model.trainable_variables],
                [v.value for v in model.non_trainable_variables]))
        return run

    if backend == "torch":
        import torch

        def run(inputs, selector):
            tensors = [keras.ops.convert_to_tensor(a) for a in inputs]
            tensors[0].requires_grad_(True)
            with torch.enable_grad():
                outputs = model(arguments(tensors), training=False)
                objective = torch.sum(outputs * keras.ops.convert_to_tensor(selector))
                (gradient,) = torch.autograd.grad(objective, tensors[0])
            return gradient.detach().cpu().numpy()
        return run

    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def grad(inputs, selector):
            with tf.GradientTape() as tape:
                tape.watch(inputs[0])
                outputs = model(arguments(inputs), training=False)
                objective = tf.reduce_sum(outputs * selector)
            return tape.gradient(objective, inputs[0])

        def run(inputs, selector):
            return grad([tf.convert_to_tensor(a) for a in inputs],
                        tf.convert_to_tensor(selector)).numpy()
        return run

    raise ValueError(f"Contribution scores need the jax, torch or tensorflow backend, not "
                     f"{backend!r}.")


# --- The network rewritten for attribution -----------------------------------------------

def _layer_kinds():
    """Keras layer classes by how attribution treats them."""
    layers = keras.layers
    with_activation = tuple(getattr(layers, name) for name in (
        "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose",
        "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D", "SeparableConv2D",
        "DepthwiseConv1D", "DepthwiseConv2D", "Activation") if hasattr(layers, name))
    elementwise = tuple(getattr(layers, name) for name in (
        "ReLU", "LeakyReLU", "ELU", "PReLU") if hasattr(layers, name))
    max_pooling = tuple(getattr(layers, name) for name in (
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "GlobalMaxPooling1D",
        "GlobalMaxPooling2D", "GlobalMaxPooling3D") if hasattr(layers, name))
    linear = tuple(getattr(layers, name) for name in (
        "InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
        "GaussianDropout", "GaussianNoise", "AlphaDropout", "Flatten", "Reshape", "Permute",
        "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D",
        "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
        "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D",
        "GlobalAveragePooling2D", "GlobalAveragePooling3D", "Add", "Subtract", "Average",
        "Concatenate", "BatchNormalization", "Identity") if hasattr(layers, name))
    return with_activation, elementwise, max_pooling, linear


def _is_linear_activation(activation):
    return activation is None or activation is keras.activations.linear


def _is_elementwise(activation):
    return not any(activation is getattr(keras.activations, name, None)
                   for name in ("softmax", "log_softmax", "glu", "sparsemax"))


_EXPLAINED_MODELS = weakref.WeakKeyDictionary()


def _explained_model(network, output, weights, *, deep_lift):
    """A model of the explained outputs: ``network``'s outputs (logits or probabilities)
    times ``weights``; with ``deep_lift``, inputs ``[x, reference]`` and DeepLIFT rules.

    The layers (and weights) are the network's own, re-called in a new graph. Models
    are cached per network, so repeated calls reuse their compiled gradient.
    """
    key = (output, weights.shape, weights.tobytes(), deep_lift)
    cached = _EXPLAINED_MODELS.setdefault(network, {})
    if key not in cached:
        cached[key] = _rewrite(network, output, weights, deep_lift)
    return cached[key]


def _rewrite(network, output, weights, deep_lift):
    with_activation, elementwise, max_pooling, linear = _layer_kinds()
    last = network.layers[-1]
    unsupported = []

    def call(layer, *args, **kwargs):
        strip = output == "logit" and layer is last
        if isinstance(layer, with_activation) and not _is_linear_activation(layer.activation):
            if strip:
                return _WithoutActivation(layer)(*args, **kwargs)
            if deep_lift and not _is_elementwise(layer.activation):
                raise ValueError(
                    f"DeepLIFT has no rule for the {layer.activation.__name__} activation of "
                    f"layer {layer.name!r}; explain output='logit' instead.")
            return _DeepLiftRule(layer, "activation")(*args, **kwargs) if deep_lift \
                else layer(*args, **kwargs)
        if isinstance(layer, elementwise):
            if strip:
                return args[0]
            return _DeepLiftRule(layer, "elementwise")(*args, **kwargs) if deep_lift \
                else layer(*args, **kwargs)
        if deep_lift and isinstance(layer, max_pooling):
            return _DeepLiftRule(layer, "max_pooling")(*args, **kwargs)
        if strip and isinstance(layer, keras.layers.Softmax):
            return args[0]
        if deep_lift and not isinstance(layer, (*linear, *with_activation)):
            unsupported.append(f"{layer.name} ({type(layer).__name__})")
        return layer(*args, **kwargs)

    graph = keras.models.clone_model(network, clone_function=lambda layer: layer,
                                     call_function=call)
    if unsupported:
        warnings.warn(
            "DeepLIFT has no rule for the layers " + ", ".join(unsupported) + "; their plain "
            "gradients are used, so the scores sum to the output difference only "
            "approximately.", RuntimeWarning, stacklevel=4)
    shape = network.inputs[0].shape[1:]
    sequence = keras.Input(shape, name="sequence")
    if deep_lift:
        reference = keras.Input(shape, name="reference")
        outputs = _FirstHalf()(graph(_Pair()(sequence, reference)))
        inputs = [sequence, reference]
    else:
        outputs, inputs = graph(sequence), sequence
    return keras.Model(inputs, _Combine(weights)(outputs), name=f"{network.name}_explained")


def _without_activation(layer, args, kwargs):
    """``layer``'s output before its activation."""
    activation = layer.activation
    layer.activation = keras.activations.linear
    try:
        return layer(*args, **kwargs)
    finally:
        layer.activation = activation


def _gradient_only(v):
    """Value 0, gradient that of ``v``."""
    return v - keras.ops.stop_gradient(v)


def _rescale(z, f):
    """``f(z)`` for a paired batch, with the secant slope from the reference as gradient."""
    ops, sg = keras.ops, keras.ops.stop_gradient
    value = f(z)
    zx, z0 = ops.split(z, 2, axis=0)
    yx, y0 = ops.split(value, 2, axis=0)
    dz = zx - z0
    small = ops.abs(dz) < _RESCALE_TOLERANCE
    slope = sg((yx - y0) / ops.where(small, ops.ones_like(dz), dz))
    secant = sg(yx) + slope * _gradient_only(zx)
    return ops.concatenate([ops.where(small, yx, secant), y0], axis=0)


class _Pair(keras.layers.Layer):
    """Sequences and their references as one batch, the references without gradient."""

    def call(self, sequence, reference):
        return keras.ops.concatenate([sequence, keras.ops.stop_gradient(reference)], axis=0)

    def compute_output_spec(self, sequence, reference):
        return keras.KerasTensor(sequence.shape, sequence.dtype)


class _FirstHalf(keras.layers.Layer):
    """The sequences' half of a paired batch."""

    def call(self, x):
        return keras.ops.split(x, 2, axis=0)[0]

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, x.dtype)


class _Combine(keras.layers.Layer):
    """Outputs (as float32) times a fixed (n_outputs, n_explained) matrix."""

    def __init__(self, weights, **kwargs):
        super().__init__(**kwargs)
        self.weights_matrix = np.asarray(weights, dtype=np.float32)

    def call(self, x):
        return keras.ops.matmul(keras.ops.cast(x, "float32"),
                                keras.ops.convert_to_tensor(self.weights_matrix))

    def compute_output_spec(self, x):
        return keras.KerasTensor((x.shape[0], self.weights_matrix.shape[1]), "float32")


class _WithoutActivation(keras.layers.Layer):
    """``layer`` without its activation: the logits of an output layer."""

    def __init__(self, layer, **kwargs):
        super().__init__(name=f"{layer.name}_logits", **kwargs)
        self.layer = layer

    def compute_output_spec(self, *args, **kwargs):
        return self.layer.compute_output_spec(*args, **kwargs)

    def call(self, *args, **kwargs):
        return _without_activation(self.layer, args, kwargs)


class _DeepLiftRule(keras.layers.Layer):
    """A layer whose value is ``layer``'s and whose gradient is DeepLIFT's multiplier.

    The batch is ``[sequences; references]``; only the sequences' half needs
    the rule, the references' half carries values (it has no gradient).
    """

    def __init__(self, layer, rule, **kwargs):
        super().__init__(name=f"{layer.name}_deeplift", **kwargs)
        self.layer, self.rule = layer, rule

    def compute_output_spec(self, *args, **kwargs):
        return self.layer.compute_output_spec(*args, **kwargs)

    def call(self, x, **kwargs):
        if self.rule == "max_pooling":
            return self._max_pooling(x, kwargs)
        if self.rule == "activation":
            return _rescale(_without_activation(self.layer, (x,), kwargs),
                            self.layer.activation)
        return _rescale(x, lambda z: self.layer(z, **kwargs))

    def _max_pooling(self, z, kwargs):
        ops, sg = keras.ops, keras.ops.stop_gradient

        def pool(v):
            return self.layer(v, **kwargs)

        zx, z0 = ops.split(z, 2, axis=0)
        yx, y0 = ops.split(pool(z), 2, axis=0)
        delta = zx - z0
        small = delta == 0
        free = _gradient_only(zx)
        plain = sg(zx) + ops.where(small, free, ops.zeros_like(free))
        rule = sg(zx) + ops.where(small, ops.zeros_like(free),
                                  free / sg(ops.where(small, ops.ones_like(delta), delta)))
        top = ops.maximum(yx, y0)
        # The gradient through ``pool(rule)`` goes to the sequence's argmax, through
        # ``pool(rule + sg(z0 - rule))`` (whose value is y0) to the reference's.
        yx_rule = (sg(yx) + _gradient_only(pool(plain))
                   + sg(top - y0) * _gradient_only(pool(rule))
                   + sg(yx - top) * _gradient_only(pool(rule + sg(z0 - rule))))
        return ops.concatenate([yx_rule, y0], axis=0)
