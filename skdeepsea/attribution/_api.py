"""``attribute`` and its result, ``Attributions``: options, chunks, strands, and the one formula
that turns multipliers and references into contribution scores."""

import dataclasses
import warnings
from numbers import Integral

import keras
import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._constraints import (
    ArrayLike,
    Boolean,
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    TargetKeys,
    parameter_constraints,
)
from ..exceptions import warn
from .._strands import DEPRECATED, FORMER_STRANDS, PREDICTION_STRANDS, renamed_strand
from ..preprocessing import (
    ALPHABET_CONSTRAINT, DEFAULT_ALPHABET, check_alphabet, complement_channels, one_hot,
)
from ._deeplift import explained_model
from ._gradients import batch_gradients, path_gradients
from ._references import RANDOM_STATE, REFERENCE_KINDS, references_of

#: The attribution methods of :func:`attribute`.
ATTRIBUTION_METHODS = ("gradient_x_input", "integrated_gradients", "deep_lift_shap")
OUTPUTS = ("logit", "probability")
_POSITIVE = [Interval(Integral, 1, None)]
#: What each parameter of :func:`attribute` accepts: the options, then the inputs.
#: ``strand`` also takes its former "both" (and ``strands`` its former values), which
#: warn; the messages name the current values only.
ATTRIBUTE_CONSTRAINTS = {
    "method": [Options(str, ATTRIBUTION_METHODS)],
    "output": [Options(str, OUTPUTS)],
    "strand": [Satisfies(lambda value: isinstance(value, str)
                         and value in (*PREDICTION_STRANDS, *FORMER_STRANDS),
                         Options(str, PREDICTION_STRANDS).describe())],
    "strands": [Options(str, ("forward", *FORMER_STRANDS)), None],
    "sum_targets": [Boolean()],
    "references": [None, Options(str, REFERENCE_KINDS),
                   InstanceOf((np.ndarray, list, tuple), "an array of references")],
    "n_shuffles": _POSITIVE,
    "n_steps": _POSITIVE,
    "hypothetical": [Boolean()],
    "alphabet": [None, ALPHABET_CONSTRAINT],
    "batch_size": _POSITIVE,
    "random_state": RANDOM_STATE,
    "targets": [None, TargetKeys()],
    "model": [HasMethods(("output_columns",), "a fitted DeepSEAClassifier"),
              InstanceOf(keras.Model, "a keras.Model")],
    "X": [InstanceOf(str, "a str"), ArrayLike()],
}
_DEFAULT_REFERENCES = {"integrated_gradients": "zeros", "deep_lift_shap": "shuffle"}
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
        One of :data:`ATTRIBUTION_METHODS`.
    output : {"logit", "probability"}
        Whether the explained outputs are taken before or after the network's
        output activation.
    strand : {"forward", "mean"}
        "mean": the mean of the sequence's scores and its reverse complement's,
        mapped back to forward coordinates.
    alphabet : str
        Base order of the channels.
    hypothetical : bool
        Whether ``scores`` holds every base's hypothetical contribution.
    outputs : ndarray of shape (n_sequences, n_targets)
        The explained outputs of the sequences (mean over strands with "mean").
    reference_outputs : ndarray of shape (n_sequences, n_targets) or None
        Mean outputs of the references; None for gradient x input.
    """

    scores: np.ndarray
    sequences: np.ndarray
    targets: list
    method: str
    output: str
    strand: str
    alphabet: str
    hypothetical: bool
    outputs: np.ndarray
    reference_outputs: np.ndarray = None

    @property
    def strands(self):
        """Deprecated: the former name of :attr:`strand`, in its former values.

        Returns
        -------
        strands : {"forward", "both"}
        """
        warnings.warn("Attributions.strands is deprecated and will be removed in the next "
                      "release; read Attributions.strand (\"mean\" where strands was "
                      "\"both\").", FutureWarning, stacklevel=2)
        return {new: old for old, new in FORMER_STRANDS.items()}.get(self.strand, self.strand)

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


@parameter_constraints(ATTRIBUTE_CONSTRAINTS)
def attribute(model, X, *, targets=None, method="deep_lift_shap", output="logit",
              strand="forward", sum_targets=False, references=None, n_shuffles=20,
              n_steps=50, hypothetical=False, alphabet=None, batch_size=64,
              random_state=0, strands=None):
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
    strand : {"forward", "mean"}, default="forward"
        "mean" also explains the reverse complement of each sequence (against
        the reverse complements of its references) and averages the two, in
        forward coordinates, as the strand-averaged prediction does (the
        ``strand`` of variant scoring and mutagenesis).
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
    strands : {"forward", "both"}, default=None
        Deprecated former name of ``strand`` ("both" is "mean"); it warns,
        and will be removed in the next release.

    Returns
    -------
    attributions : Attributions
        Scores of shape ``(n_sequences, n_targets, length, n_channels)`` and
        the outputs and reference outputs they explain.

    Raises
    ------
    ValueError
        For a parameter of the wrong type or value (naming it: an unknown
        option, a ``hypothetical`` or ``sum_targets`` that is not a bool, a
        ``random_state`` that is not a seed, a ``model`` that is neither a
        classifier nor a Keras model), sequences of the wrong shape or length
        (naming the sequence), an empty ``targets``,
        references of the wrong shape, DeepLIFT/SHAP on the probability of
        a softmax output, or both ``strand`` and ``strands``.

    Warns
    -----
    UserWarning
        For sequences that hold no base (all N): their scores are zeros, as
        every score of a position without a base is; the warning names the
        first.
    RuntimeWarning
        For DeepLIFT/SHAP through layers :data:`DEEPLIFT_RULES` has no rule
        for, naming them.
    FutureWarning
        For ``strands=`` or ``strand="both"``, saying what to write instead.

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
    strand = _strand_of(strand, strands)
    rng = np.random.default_rng(random_state)
    network, alphabet, names, indices = _model_parts(model, alphabet, targets)
    X = _one_hot(X, network, alphabet)
    empty = np.flatnonzero(~X.any(axis=(1, 2)))
    if len(empty):
        warn(f"{len(empty)} sequence(s) hold no base (all N, or all-zero rows), the first "
             f"sequence {empty[0]}: their contribution scores are all zero; nothing there "
             "contributes to the outputs.")
    if method == "gradient_x_input":
        if references is not None:
            raise ValueError("gradient_x_input takes no references; got references="
                             f"{references!r}.")
    elif references is None:
        references = _DEFAULT_REFERENCES[method]
    weights = _target_weights(int(network.outputs[0].shape[-1]), indices, sum_targets)
    if sum_targets:
        names = ["+".join(names)]
    plain = explained_model(network, output, weights, deep_lift=False)
    paired = explained_model(network, output, weights, deep_lift=True) \
        if method == "deep_lift_shap" else None
    flip = complement_channels(alphabet) if strand == "mean" else None

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
        refs = references_of(references, chunk, start, len(X), n_shuffles, rng)
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
        strand=strand, alphabet=alphabet, hypothetical=bool(hypothetical),
        outputs=np.concatenate(outputs),
        reference_outputs=np.concatenate(reference_outputs) if reference_outputs else None,
    )


def _strand_of(strand, strands):
    """``strand``, also from the deprecated ``strands=`` or "both", with a FutureWarning."""
    if strands is not None and strand != "forward":
        raise ValueError(f"attribute: strands={strands!r} is the former name of "
                         f"strand={strand!r}: give strand only.")
    if strands is None and strand in FORMER_STRANDS:
        return renamed_strand(strand, "strand", strand, "attribute")
    return renamed_strand(strand, "strands", DEPRECATED if strands is None else strands,
                          "attribute")


def _model_parts(model, alphabet, targets):
    """The network, base order, output names and chosen output indices of ``model``."""
    from ..targets import target_indices

    if not isinstance(model, keras.Model):
        check_is_fitted(model, "model_")
        if model.input_channels != 4:
            raise ValueError("Attribution needs a model of one-hot DNA (input_channels=4).")
        indices, names = model.output_columns(targets)
        if alphabet is not None and check_alphabet(alphabet) != model.alphabet_:
            raise ValueError(f"alphabet={alphabet!r} differs from the model's base order "
                             f"{model.alphabet_!r}.")
        return model.model_, model.alphabet_, names, indices.tolist()
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("The Keras model must have one input and one output, got "
                         f"{len(model.inputs)} and {len(model.outputs)}.")
    names = [str(i) for i in range(int(model.outputs[0].shape[-1]))]
    indices = target_indices(names, targets)
    return model, check_alphabet(alphabet or DEFAULT_ALPHABET), [names[i] for i in indices], indices


def _one_hot(X, network, alphabet):
    """``X`` as a float32 one-hot array of the network's input shape."""
    from .._engine.inputs import check_predict_alphabet, declared_alphabet

    check_predict_alphabet(alphabet, declared_alphabet(X))
    length, channels = (int(d) for d in network.inputs[0].shape[1:])
    if isinstance(X, str):
        X = [X]
    if len(X) and isinstance(X[0], str):
        for i, sequence in enumerate(X):
            if len(sequence) != length:
                raise ValueError(f"Sequence {i} has length {len(sequence)}, but the model "
                                 f"takes {length} bp.")
        X = one_hot(list(X), alphabet=alphabet)
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


def _explain(plain, paired, method, X, refs, n_targets, n_steps, batch_size, hypothetical):
    """Scores (n, K, L, C), outputs (n, K) and mean reference outputs (n, K) or None."""
    from .._engine.inference import predict_batches

    outputs = predict_batches(plain, X, batch_size=batch_size)
    if method == "gradient_x_input":
        refs = np.zeros((len(X), 1, *X.shape[1:]), dtype=np.float32)
        multipliers = batch_gradients(plain, [X], n_targets, batch_size)[:, :, None]
        reference_outputs = None
    else:
        n, r = refs.shape[:2]
        flat_refs = refs.reshape(n * r, *X.shape[1:])
        reference_outputs = predict_batches(plain, flat_refs, batch_size=batch_size)
        reference_outputs = reference_outputs.reshape(n, r, -1).mean(axis=1)
        paired_X = np.repeat(X, r, axis=0)
        if method == "deep_lift_shap":
            multipliers = batch_gradients(paired, [paired_X, flat_refs], n_targets, batch_size)
        else:
            multipliers = path_gradients(plain, paired_X, flat_refs, n_targets, n_steps,
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
