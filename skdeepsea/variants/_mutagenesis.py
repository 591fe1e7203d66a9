"""In silico saturation mutagenesis: every single-base substitution of a sequence.

The heatmap, :func:`plot_mutagenesis`, is drawn by
:mod:`skdeepsea.plotting.mutagenesis` (re-exported here).
"""

import weakref

import numpy as np
import pandas as pd

from ..plotting.mutagenesis import plot_mutagenesis
from ..preprocessing import OneHotDNA, channel_order, complement_channels, reverse_complement
from ._scoring import ModelTargets, effect_scores, network_predict

__all__ = ["MutagenesisResult", "in_silico_mutagenesis", "plot_mutagenesis"]

BASES = "ACGT"
_METHODS = ("auto", "naive", "fast")
_CHUNK = 512  # mutants held in memory at once
# One _FastISM per network and length: its dense-layer model is compiled once.
_FAST = weakref.WeakKeyDictionary()


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
    reference : ndarray of shape (n_targets,)
        Probabilities of the unmutated sequence.
    proba : ndarray of shape (n_positions, 4, n_targets)
        Probability of each target with the base at each position replaced by
        each base (the reference base's entry is ``reference``).
    epsilon : float
        Clipping of the probabilities in ``logfc``.
    """

    def __init__(self, sequence, positions, target_names, reference, proba, epsilon):
        self.sequence = sequence
        self.positions = positions
        self.bases = BASES
        self.target_names = list(target_names)
        self.reference = reference
        self.proba = proba
        self.epsilon = epsilon

    def score(self, name="diff"):
        """One score for every position, base and target.

        Parameters
        ----------
        name : {"diff", "logfc", "abs_diff", "effect", "alt"}, default="diff"
            As in :func:`skdeepsea.variants.score_variants`, with the mutant
            as the ALT allele.

        Returns
        -------
        scores : ndarray of shape (n_positions, 4, n_targets)
            Zero at each position's reference base (except for "alt").
        """
        ref = np.broadcast_to(self.reference, self.proba.shape)
        return effect_scores(ref, self.proba, self.epsilon)[name]

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
        scores = effect_scores(np.broadcast_to(self.reference, self.proba.shape),
                               self.proba, self.epsilon)
        frame = pd.DataFrame({
            "position": self.positions[position.ravel()],
            "ref_base": ref_bases[position.ravel()],
            "alt_base": np.array(list(BASES))[base.ravel()],
            "target": np.array(self.target_names)[target.ravel()],
            **{s: scores[s].ravel() for s in ("ref", "alt", "diff", "logfc", "effect")},
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


def _materialise(onehot, codes):
    batch = np.repeat(onehot[None], len(codes), axis=0)
    for m, (p, channel) in enumerate(codes):
        batch[m, p] = 0
        batch[m, p, channel] = 1
    return batch


def _naive(model, onehot, codes, batch_size):
    out = []
    for start in range(0, len(codes), _CHUNK):
        out.append(network_predict(model, _materialise(onehot, codes[start:start + _CHUNK]),
                                   batch_size))
    return np.concatenate(out)


def _conv_stages(network):
    """(stages, tail) when the network is valid Conv1D / MaxPooling1D layers then Flatten."""
    import keras

    stages = []
    layers = [layer for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
    for i, layer in enumerate(layers):
        if isinstance(layer, keras.layers.Dropout):
            continue
        if isinstance(layer, keras.layers.Flatten):
            return stages, layers[i:]
        config = layer.get_config()
        if isinstance(layer, keras.layers.Conv1D) and config["padding"] == "valid" and \
                tuple(config["strides"]) == (1,) and tuple(config["dilation_rate"]) == (1,) and \
                config.get("groups", 1) == 1:
            stages.append(("conv", layer, int(config["kernel_size"][0])))
        elif isinstance(layer, keras.layers.MaxPooling1D) and config["padding"] == "valid" and \
                tuple(config["pool_size"]) == tuple(config["strides"]):
            stages.append(("pool", layer, int(config["pool_size"][0])))
        else:
            return None
    return None


def _call(layer, x):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(layer(x)))


class _FastISM:
    """Recompute only the activations that a substitution changes (fastISM's idea).

    A substitution at position p changes the outputs of a valid convolution of
    width k only at [p - k + 1, p + 1), of a pooling only at the windows that
    hold a changed value, and so on up the stack. Each layer is run on just
    the inputs those changed outputs read: the changed values of the layer
    below spliced into the reference's activations. The dense layers then
    read the last stage whole. Positions whose mutants share the range
    arithmetic (the same widths and offsets at every layer) run as one batch.
    """

    def __init__(self, network, stages, tail, length):
        import keras

        self.stages = stages
        inputs = keras.Input(tuple(network.get_layer(stages[-1][1].name).output.shape[1:]))
        x = inputs
        for layer in tail:
            x = layer(x)
        self.tail_model = keras.Model(inputs, x)
        self.lengths = [length]
        for kind, _, size in stages:
            self.lengths.append(self.lengths[-1] - size + 1 if kind == "conv"
                                else self.lengths[-1] // size)

    def _plan(self, p):
        """Per stage: (first needed input, needed width, changed offset, changed width)."""
        a, b = p, p + 1
        plan = []
        for (kind, _, size), out_length in zip(self.stages, self.lengths[1:]):
            if kind == "conv":
                a2, b2 = max(0, a - size + 1), min(out_length, b)
                n0, n1 = a2, b2 + size - 1
            else:
                a2, b2 = a // size, min(out_length, (b - 1) // size + 1)
                n0, n1 = a2 * size, b2 * size
            if b2 <= a2:
                return None  # past the last pooling window: nothing downstream changes
            plan.append((n0, n1 - n0, a - n0, min(b, n1) - a))
            a, b = a2, b2
        return plan, (a, b)

    def predict(self, onehot, codes, batch_size):
        from .._engine.inference import predict_batches

        refs = [onehot]
        x = onehot[None]
        for _, layer, _ in self.stages:
            x = _call(layer, x)
            refs.append(x[0])
        reference_output = predict_batches(self.tail_model, refs[-1][None], batch_size=1)[0]
        out = np.empty((len(codes), len(reference_output)), dtype=np.float64)
        groups, pending = {}, []
        for m, (p, channel) in enumerate(codes):
            plan = self._plan(p)
            if plan is None:
                out[m] = reference_output
                continue
            stage_plan, (c, _) = plan
            key = tuple(step[1:] for step in stage_plan)
            groups.setdefault(key, []).append((m, channel, [step[0] for step in stage_plan], c))
        for key, members in groups.items():
            for begin in range(0, len(members), _CHUNK):
                part = members[begin:begin + _CHUNK]
                values = np.zeros((len(part), 1, 4), dtype=np.float32)
                values[np.arange(len(part)), 0, [channel for _, channel, _, _ in part]] = 1
                for s, ((_, layer, _), (width, offset, changed)) in enumerate(
                        zip(self.stages, key)):
                    starts = np.array([firsts[s] for _, _, firsts, _ in part])
                    x = refs[s][starts[:, None] + np.arange(width)]
                    x[:, offset:offset + changed] = values[:, :changed]
                    values = _call(layer, x)
                pending.extend((m, c, v) for (m, _, _, c), v in zip(part, values))
        # The dense layers read the last stage whole: the changed values spliced into
        # the reference's, a fixed number of mutants at a time (one compiled shape).
        for begin in range(0, len(pending), _CHUNK):
            part = pending[begin:begin + _CHUNK]
            full = np.repeat(refs[-1][None], len(part), axis=0)
            for k, (_, c, v) in enumerate(part):
                full[k, c:c + len(v)] = v
            out[[m for m, _, _ in part]] = predict_batches(self.tail_model, full,
                                                           batch_size=batch_size)
        return out


def in_silico_mutagenesis(model, sequence, *, start=None, end=None, targets=None,
                          strand="mean", method="auto", batch_size=None, epsilon=1e-6):
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
        Average each mutant's probabilities with its reverse complement's
        (as ``predict_proba`` with ``average_strands=True``), or the forward
        strand only.
    method : {"auto", "naive", "fast"}, default="auto"
        "naive" runs the whole network on each of the ``3 x n_positions``
        mutants; "fast" recomputes only the convolution outputs within each
        substitution's receptive field (fastISM's idea; the result equals the
        naive one to float precision); "auto" uses "fast" when the network
        is valid convolutions and poolings followed by Flatten, as DeepSEA's.
    batch_size : int or None, default=None
        Sequences per forward pass; None: the model's ``batch_size``.
    epsilon : float, default=1e-6
        Probability clipping in ``logfc``.

    Returns
    -------
    result : MutagenesisResult
        Mutant probabilities of shape ``(n_positions, 4, n_targets)``, with
        ``score("diff")`` etc. and ``to_frame()``.
    """
    if strand not in ("mean", "forward"):
        raise ValueError(f"strand must be 'mean' or 'forward', got {strand!r}.")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    info = ModelTargets(model, targets)
    if not isinstance(sequence, str):
        raise TypeError(f"sequence must be a str, got {type(sequence).__name__}.")
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
    onehot = np.asarray(OneHotDNA(alphabet=alphabet).fit(["A"]).transform([sequence])[0])
    positions = np.arange(start, end)
    codes, rows = _mutants(onehot, positions, alphabet)

    stack = _conv_stages(model.model_) if method != "naive" else None
    if method == "fast" and stack is None:
        raise ValueError("method='fast' needs a network of valid Conv1D and MaxPooling1D "
                         "layers followed by Flatten; use method='naive'.")
    if stack is not None:
        cached = _FAST.get(model.model_)
        if cached is None or cached.lengths[0] != L:
            cached = _FAST[model.model_] = _FastISM(model.model_, *stack, L)
        fast = cached

        def run(x, mutant_codes):
            return fast.predict(x, mutant_codes, batch_size)
    else:
        def run(x, mutant_codes):
            return _naive(model, x, mutant_codes, batch_size)

    forward = np.asarray(network_predict(model, onehot[None], batch_size))[0]
    mutant = run(onehot, codes)
    if strand == "mean":
        rc = np.asarray(reverse_complement(onehot[None], alphabet=alphabet))[0]
        # The reverse complement of a mutant at p is the mutant at L - 1 - p of the
        # reverse complement, with the complementary base.
        complement = complement_channels(alphabet)
        rc_codes = [(L - 1 - p, complement[channel]) for p, channel in codes]
        forward = (forward + np.asarray(network_predict(model, rc[None], batch_size))[0]) / 2
        mutant = (mutant + run(rc, rc_codes)) / 2
    forward = forward[info.indices]
    mutant = mutant[:, info.indices]
    proba = np.repeat(np.repeat(forward[None, None], 4, axis=1), len(positions), axis=0)
    for (p, b), values in zip(rows, mutant):
        proba[p - start, b] = values
    return MutagenesisResult(sequence, positions, info.names, forward, proba, epsilon)
