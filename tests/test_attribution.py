"""Per-base contribution scores: completeness, exactness on linear networks, strands, files,
logos, the ``attribute`` command, DeepLIFT's table of rules, and planted motifs lighting up after
a fit.

Networks are tiny and their biases random (an untrained network with zero biases is
positively homogeneous, which would make integrated gradients exact by accident).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keras

from skdeepsea import DeepSEAClassifier, OneHotDNA, reverse_complement
from skdeepsea.attribution import (
    DEEPLIFT_RULES,
    attribute,
    dinucleotide_shuffle,
    read_attributions,
    rescale_rule,
    write_attributions,
)
from skdeepsea.datasets import make_chromatin_dataset
from skdeepsea.network import build_deepsea
from skdeepsea.preprocessing import complement_channels

L = 48
ALPHABET = "ATGC"


def _random_weights(network, seed):
    """Weights drawn by numpy (the same network on every backend), biases not zero."""
    rng = np.random.default_rng(seed)
    for layer in network.layers:
        if getattr(layer, "kernel", None) is not None:
            shape = layer.kernel.shape
            scale = np.sqrt(2.0 / np.prod(shape[:-1]))
            layer.kernel.assign(rng.normal(0, scale, shape).astype("float32"))
        if getattr(layer, "bias", None) is not None:
            layer.bias.assign(rng.normal(0, 0.2, layer.bias.shape).astype("float32"))
    return network


@pytest.fixture(scope="module")
def network():
    net = build_deepsea(L, 3, conv_filters=(6, 6, 6), kernel_size=5, pool_size=2, fc_units=12,
                        seed=0)
    return _random_weights(net, 0)


def _one_hot(codes):
    return np.eye(4, dtype=np.float32)[np.asarray(codes)]


def _random_sequences(n, seed, length=L):
    return _one_hot(np.random.default_rng(seed).integers(0, 4, (n, length)))


def _dinucleotides(letters, n_letters=5):
    counts = np.zeros((n_letters, n_letters), dtype=int)
    np.add.at(counts, (letters[:-1], letters[1:]), 1)
    return counts


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=80), st.integers(0, 2**16))
def test_dinucleotide_shuffle_keeps_dinucleotides_and_ends(codes, seed):
    # Code 4 is an N: an all-zero row, shuffled as a fifth letter.
    X = np.vstack([np.eye(4, dtype=np.uint8), np.zeros((1, 4), np.uint8)])[codes][None]
    shuffles = dinucleotide_shuffle(X, 4, random_state=seed)
    assert shuffles.shape == (1, 4, len(codes), 4) and shuffles.dtype == np.uint8
    letters = np.asarray(codes)
    for shuffle in shuffles[0]:
        got = np.where(shuffle.any(axis=1), shuffle.argmax(axis=1), 4)
        assert got[0] == letters[0] and got[-1] == letters[-1]
        np.testing.assert_array_equal(_dinucleotides(got), _dinucleotides(letters))


def test_dinucleotide_shuffle_shuffles():
    X = _random_sequences(1, 0, length=200)
    shuffles = dinucleotide_shuffle(X, 5, random_state=0)
    assert (shuffles != X[:, None]).any(axis=(2, 3)).all()
    np.testing.assert_array_equal(shuffles, dinucleotide_shuffle(X, 5, random_state=0))


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**16), st.sampled_from(["logit", "probability"]),
       st.sampled_from(["forward", "mean"]))
def test_deep_lift_shap_sums_to_the_output_difference(network, seed, output, strand):
    X = _random_sequences(3, seed)
    result = attribute(network, X, targets=[0, 2], output=output, strand=strand,
                       n_shuffles=5, random_state=seed, batch_size=16)
    assert result.scores.shape == (3, 2, L, 4)
    # Contributions only at the bases present.
    assert np.all(result.scores[np.broadcast_to(X[:, None] == 0, result.scores.shape)] == 0)
    differences = result.outputs - result.reference_outputs
    assert np.abs(differences).max() > 1e-3  # the check below is not vacuous
    np.testing.assert_allclose(result.deltas, 0, atol=1e-4 + 1e-4 * np.abs(differences).max())


def test_integrated_gradients_sum_to_the_output_difference(network):
    X = _random_sequences(3, 1)
    errors = {}
    for n_steps in (8, 128):
        result = attribute(network, X, method="integrated_gradients", references="shuffle",
                           n_shuffles=2, n_steps=n_steps, targets=1, batch_size=256)
        differences = result.outputs - result.reference_outputs
        assert np.abs(differences).min() > 1e-3
        errors[n_steps] = np.abs(result.deltas).max() / np.abs(differences).max()
    # Quadrature error only (the gradient of a ReLU network jumps along the path): small, and
    # much smaller with more points.
    assert errors[128] < 0.05 and errors[128] < errors[8] / 5, errors


def test_all_methods_agree_exactly_on_a_linear_network():
    inputs = keras.Input((L, 4))
    x = keras.layers.Conv1D(3, 5, name="conv")(inputs)
    x = keras.layers.AveragePooling1D(2)(x)
    x = keras.layers.Flatten()(x)
    linear = keras.Model(inputs, keras.layers.Dense(2, name="out")(x))
    _random_weights(linear, 1)
    X = _random_sequences(4, 2)
    zeros = np.zeros((1, L, 4), np.float32)
    gxi = attribute(linear, X, method="gradient_x_input", targets=0)
    dls = attribute(linear, X, references=zeros, targets=0)
    ig = attribute(linear, X, method="integrated_gradients", references=zeros, n_steps=3,
                   targets=0)
    np.testing.assert_allclose(dls.scores, gxi.scores, atol=1e-5)
    np.testing.assert_allclose(ig.scores, gxi.scores, atol=1e-5)
    # A linear model's gradient is its weight: compare with finite differences.
    base = linear.predict(X[:1], verbose=0)[0, 0]
    hypothetical = attribute(linear, X[:1], method="gradient_x_input", targets=0,
                             hypothetical=True).scores[0, 0]
    bumped = X[:1].copy()
    bumped[0, 7, 2] += 1.0
    assert linear.predict(bumped, verbose=0)[0, 0] - base == pytest.approx(
        hypothetical[7, 2], abs=1e-4)


def _numpy_deep_lift(network, x, reference, output):
    """DeepLIFT's multipliers (L, C) of output 0 of a DeepSEA network for one pair, in float64.

    An independent transcription of the rules tangermeme's ``deep_lift_shap`` applies: the
    rescale rule at every ReLU and at the output sigmoid (the gradient where the input
    difference is below 1e-6), and Captum's max pooling rule (the output difference split
    at ``max(y, y0)`` and sent back through both argmaxes, divided by the input difference;
    the plain gradient where that is exactly zero, as tangermeme 1.6 has it).
    """
    def rescale(z, z0, f, slope):
        dz = z - z0
        small = np.abs(dz) < 1e-6
        return np.where(small, slope(z), (f(z) - f(z0)) / np.where(small, 1.0, dz))

    relu = (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float))
    sigmoid = (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2)
    h, h0 = x.astype(np.float64), reference.astype(np.float64)
    backward = []  # functions mapping the multipliers of a layer's output to its input's
    for layer in network.layers[1:]:
        weights = [np.asarray(w, np.float64) for w in layer.get_weights()]
        if isinstance(layer, keras.layers.Conv1D):
            kernel, bias = weights
            width, n_out = kernel.shape[0], h.shape[0] - kernel.shape[0] + 1
            z, z0 = ([sum(v[j:j + n_out] @ kernel[j] for j in range(width)) + bias]
                     [0] for v in (h, h0))
            slope = rescale(z, z0, *relu)

            def conv_back(m, kernel=kernel, slope=slope, n_in=h.shape[0]):
                m = m * slope
                grad = np.zeros((n_in, kernel.shape[1]))
                for j in range(kernel.shape[0]):
                    grad[j:j + len(m)] += m @ kernel[j].T
                return grad
            backward.append(conv_back)
            h, h0 = relu[0](z), relu[0](z0)
        elif isinstance(layer, keras.layers.MaxPooling1D):
            size = layer.pool_size[0]
            n_out = h.shape[0] // size
            windows, windows0 = (v[:n_out * size].reshape(n_out, size, -1) for v in (h, h0))
            y, y0 = windows.max(axis=1), windows0.max(axis=1)
            top = np.maximum(y, y0)
            first, first0 = (np.eye(size)[w.argmax(axis=1)].transpose(0, 2, 1)
                             for w in (windows, windows0))
            delta = windows - windows0
            small = delta == 0
            rule = ((top - y0)[:, None] * first + (y - top)[:, None] * first0) / np.where(
                small, 1.0, delta)
            local = np.where(small, first, rule)  # d(input multiplier) / d(output multiplier)

            def pool_back(m, local=local, n_in=h.shape[0]):
                grad = np.zeros((n_in, m.shape[1]))
                grad[:local.shape[0] * local.shape[1]] = (local * m[:, None]).reshape(
                    -1, m.shape[1])
                return grad
            backward.append(pool_back)
            h, h0 = y, y0
        elif isinstance(layer, keras.layers.Flatten):
            backward.append(lambda m, shape=h.shape: m.reshape(shape))
            h, h0 = h.ravel(), h0.ravel()
        elif isinstance(layer, keras.layers.Dense):
            kernel, bias = weights
            z, z0 = h @ kernel + bias, h0 @ kernel + bias
            if layer is network.layers[-1]:
                slope = (np.ones_like(z) if output == "logit" else rescale(z, z0, *sigmoid))
            else:
                slope = rescale(z, z0, *relu)
                h, h0 = relu[0](z), relu[0](z0)
            backward.append(lambda m, kernel=kernel, slope=slope: (m * slope) @ kernel.T)
        # Dropout: the identity at inference.
    m = np.eye(network.output_shape[-1])[0]
    for step in reversed(backward):
        m = step(m)
    return m


@pytest.mark.parametrize("output", ["logit", "probability"])
def test_deep_lift_shap_equals_a_numpy_transcription(network, output):
    """The same scores on every backend: each equals a float64 NumPy DeepLIFT."""
    X = _random_sequences(2, 11)
    refs = dinucleotide_shuffle(X, 3, random_state=2).astype(np.float32)
    result = attribute(network, X, targets=0, output=output, references=refs, batch_size=4)
    expected = np.zeros((2, L, 4))
    for n in range(2):
        for reference in refs[n]:
            m = _numpy_deep_lift(network, X[n], reference, output)
            expected[n] += X[n] * (m - (reference * m).sum(axis=1, keepdims=True)) / len(refs[n])
    np.testing.assert_allclose(result.scores[:, 0], expected,
                               atol=1e-5 * np.abs(expected).max(), rtol=0)


def test_gradient_x_input_is_the_gradient_times_the_input(network):
    X = _random_sequences(2, 3)
    grads = attribute(network, X, method="gradient_x_input", targets=2,
                      hypothetical=True).scores[:, 0]
    result = attribute(network, X, method="gradient_x_input", targets=2)
    np.testing.assert_allclose(result.scores[:, 0], grads * X, rtol=1e-6)
    # Central differences of the logit at a few coordinates (ReLU networks are piecewise
    # linear, so a small step stays on one piece almost surely).
    eps = 1e-3
    for position, channel in [(3, 0), (20, 2), (40, 3)]:
        up, down = X.copy(), X.copy()
        up[:, position, channel] += eps
        down[:, position, channel] -= eps
        estimate = (_logit(network, up) - _logit(network, down))[:, 2] / (2 * eps)
        np.testing.assert_allclose(estimate, grads[:, position, channel], atol=5e-3)


def _logit(network, X):
    p = np.asarray(network.predict(X, verbose=0), dtype=np.float64)
    return np.log(p) - np.log1p(-p)


def test_both_strands_are_symmetric_under_reverse_complement(network):
    X = _random_sequences(2, 4)
    channels = complement_channels(ALPHABET)
    rc = X[:, ::-1][..., channels]
    forward = attribute(network, X, method="gradient_x_input", strand="mean", targets=1)
    backward = attribute(network, rc, method="gradient_x_input", strand="mean", targets=1)
    np.testing.assert_allclose(backward.scores, forward.scores[:, :, ::-1][..., channels],
                               atol=1e-6)
    np.testing.assert_allclose(backward.outputs, forward.outputs, atol=1e-6)


def test_a_sum_of_targets_is_the_sum_of_their_scores(network):
    X = _random_sequences(2, 5)
    each = attribute(network, X, targets=[0, 1], n_shuffles=3)
    summed = attribute(network, X, targets=[0, 1], n_shuffles=3, sum_targets=True)
    assert summed.targets == ["0+1"]
    np.testing.assert_allclose(summed.scores[:, 0], each.scores.sum(axis=1), atol=1e-5)
    np.testing.assert_allclose(summed.outputs[:, 0], each.outputs.sum(axis=1), atol=1e-5)


def test_results_do_not_depend_on_chunks_or_batches(network, monkeypatch):
    from skdeepsea.attribution import _api

    X = _random_sequences(3, 8)
    whole = attribute(network, X, targets=[0, 2], n_shuffles=3)
    monkeypatch.setattr(_api, "_CHUNK_BYTES", 1)  # one sequence per chunk
    chunked = attribute(network, X, targets=[0, 2], n_shuffles=3, batch_size=4)
    np.testing.assert_allclose(chunked.scores, whole.scores, atol=1e-6)
    np.testing.assert_allclose(chunked.reference_outputs, whole.reference_outputs, atol=1e-6)


def test_layers_without_a_rule_are_named_in_a_warning():
    inputs = keras.Input((L, 4))
    x = keras.layers.Conv1D(3, 5, activation="relu")(inputs)
    x = keras.layers.LSTM(2, name="recurrent")(x)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    with pytest.warns(RuntimeWarning, match=r"recurrent \(LSTM\)"):
        result = attribute(model, _random_sequences(1, 6), n_shuffles=2)
    assert np.isfinite(result.scores).all()


class _Cube(keras.layers.Layer):
    """An elementwise nonlinearity of a user's own: no rule until one is registered."""

    def call(self, x):
        return x * x * x


def test_a_rule_registered_for_a_layer_of_ones_own_is_used(monkeypatch):
    inputs = keras.Input((L, 4))
    x = _Cube(name="cube")(keras.layers.Conv1D(3, 5)(inputs))
    network = _random_weights(keras.Model(inputs, keras.layers.Dense(1)(
        keras.layers.Flatten()(x))), 4)
    X = _random_sequences(2, 9)
    with pytest.warns(RuntimeWarning, match=r"no rule for the layers cube \(_Cube\)"):
        unknown = attribute(network, X, n_shuffles=3)
    differences = np.abs(unknown.outputs - unknown.reference_outputs).max()
    assert np.abs(unknown.deltas).max() > 0.01 * differences  # a plain gradient: not complete
    used = []

    def counted_rescale(layer, x, **kwargs):
        used.append(layer.name)
        return rescale_rule(layer, x, **kwargs)

    monkeypatch.setitem(DEEPLIFT_RULES, _Cube, counted_rescale)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        known = attribute(network, X, n_shuffles=3)  # the same network: rules are re-read
    assert set(used) == {"cube"}
    np.testing.assert_allclose(known.deltas, 0, atol=1e-4 * differences)
    np.testing.assert_array_equal(known.outputs, unknown.outputs)


def test_the_former_strands_name_and_value_warn_and_mean_strand_mean(network):
    X = _random_sequences(2, 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        mean = attribute(network, X, method="gradient_x_input", strand="mean", targets=0)
    with pytest.warns(FutureWarning, match="strands='both' is deprecated.*write strand='mean'"):
        former = attribute(network, X, method="gradient_x_input", strands="both", targets=0)
    with pytest.warns(FutureWarning, match="strand='both' is deprecated.*write strand='mean'"):
        both = attribute(network, X, method="gradient_x_input", strand="both", targets=0)
    for result in (former, both):
        np.testing.assert_array_equal(result.scores, mean.scores)
        assert result.strand == "mean"
    with pytest.warns(FutureWarning, match="Attributions.strands is deprecated"):
        assert former.strands == "both"


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_files_written_with_the_former_strands_load_back(network, tmp_path, suffix):
    import h5py

    result = attribute(network, _random_sequences(2, 7), method="gradient_x_input",
                       strand="mean", targets=0)
    path = write_attributions(result, tmp_path / f"scores{suffix}")
    # As files were written before: a "strands" attribute, "both" for the mean.
    if suffix == ".npz":
        with np.load(path) as f:
            values = {k: f[k] for k in f.files if k != "strand"}
        np.savez(path, strands=np.asarray("both"), **values)
    else:
        with h5py.File(path, "a") as f:
            del f.attrs["strand"]
            f.attrs["strands"] = "both"
    back = read_attributions(path)
    assert back.strand == "mean"
    np.testing.assert_array_equal(back.scores, result.scores)


def test_attribution_imports_no_variants_module_and_shares_attribute_variants():
    import subprocess
    import sys

    code = ("import sys, skdeepsea.attribution; "
            "print([m for m in sys.modules if m.startswith('skdeepsea.variants')])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert run.stdout.strip() == "[]", run.stdout
    from skdeepsea import attribution, variants

    with pytest.warns(FutureWarning, match="moved to skdeepsea.variants.attribute_variants"):
        assert attribution.attribute_variants is variants.attribute_variants


def test_bad_input_is_refused_with_a_clear_message(network):
    with pytest.raises(ValueError, match="Sequence 1 has length 3"):
        attribute(network, ["A" * L, "ACG"])
    with pytest.raises(ValueError, match="method must be one of"):
        attribute(network, ["A" * L], method="saliency")
    with pytest.raises(ValueError, match="takes no references"):
        attribute(network, ["A" * L], method="gradient_x_input", references="zeros")
    with pytest.raises(ValueError, match="references must have shape"):
        attribute(network, ["A" * L], references=np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="Unknown target"):
        attribute(network, ["A" * L], targets="nope")
    softmax = build_deepsea(L, 3, conv_filters=(2, 2, 2), kernel_size=5, pool_size=2,
                            fc_units=4, output_activation="softmax", seed=0)
    with pytest.raises(ValueError, match="no rule for the softmax activation"):
        attribute(softmax, ["A" * L], output="probability")


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_scores_round_trip_through_files(network, tmp_path, suffix):
    result = attribute(network, _random_sequences(2, 7), targets=[2, 0], n_shuffles=2)
    path = write_attributions(result, tmp_path / f"scores{suffix}")
    back = read_attributions(path)
    for name in ("scores", "sequences", "outputs", "reference_outputs"):
        np.testing.assert_array_equal(getattr(back, name), getattr(result, name))
    assert (back.targets, back.method, back.alphabet) == (["2", "0"], "deep_lift_shap", "ATGC")
    assert [p.name for p in tmp_path.iterdir()] == [f"scores{suffix}"]


# --- Planted motifs light up after a fit; not in an untrained network ----------------------

SITE_A, SITE_B = "GATAAGCA", "TGACTCAT"


def _site(consensus):
    return np.eye(4)[["ACGT".index(b) for b in consensus]]


def _planted_starts(sequence, consensus):
    rc = reverse_complement(consensus)
    return [i for i in range(len(sequence) - len(consensus) + 1)
            if sequence[i:i + len(consensus)] in (consensus, rc)]


@pytest.fixture(scope="module")
def fitted():
    X, Y, names = make_chromatin_dataset(
        n_samples=800, sequence_length=60, center_width=40, sites="consensus",
        motifs={"A": _site(SITE_A), "B": _site(SITE_B)}, motif_probability=0.5,
        combinations=False, random_state=0)
    params = dict(conv_filters=(16, 16), kernel_size=8, pool_size=2, fc_units=16,
                  dropout=(0.1, 0.1), optimizer="adam", learning_rate=0.005, batch_size=64,
                  random_state=0)
    onehot = OneHotDNA().fit_transform(X)
    Y = pd.DataFrame(Y, columns=names)  # target names travel with the fit
    clf = DeepSEAClassifier(epochs=10, **params).fit(onehot[:700], Y[:700])
    untrained = DeepSEAClassifier(epochs=1, **params).fit(onehot[:1], Y[:1])
    return clf, untrained, X[700:], Y.to_numpy()[700:], names


def _site_overlap(model, X, Y, target, consensus):
    chosen = [i for i in np.flatnonzero(Y[:, target]) if _planted_starts(X[i], consensus)][:12]
    result = attribute(model, [X[i] for i in chosen], targets=target, n_shuffles=4)
    top = result.top_positions(len(consensus) // 2)
    hits = []
    for row, i in enumerate(chosen):
        site = set()
        for start in _planted_starts(X[i], consensus):
            site.update(range(start, start + len(consensus)))
        hits.append(np.mean([p in site for p in top[row]]))
    return float(np.mean(hits))


def test_planted_motifs_light_up_after_a_fit(fitted):
    clf, untrained, X, Y, names = fitted
    assert clf.score(OneHotDNA().fit_transform(X), Y) > 0.8
    for target, consensus in enumerate((SITE_A, SITE_B)):
        trained = _site_overlap(clf, X, Y, target, consensus)
        control = _site_overlap(untrained, X, Y, target, consensus)
        # The top 4 positions: by chance 8 of the 40 central positions (0.2) are in the site.
        assert trained > 0.6, (names[target], trained, control)
        assert trained > control + 0.4, (names[target], trained, control)


def test_attribute_command_writes_the_scores_and_logos(fitted, tmp_path):
    from skdeepsea.cli import main

    clf, _, X, _, names = fitted
    model = tmp_path / "model.skdeepsea"
    clf.save(model)
    fasta = tmp_path / "seqs.fa"
    fasta.write_text("".join(f">s{i}\n{X[i]}\n" for i in range(3)))
    out, figures = tmp_path / "scores.h5", tmp_path / "figures"
    status = main(["attribute", "--model", str(model), "--fasta", str(fasta), "--out", str(out),
                   "--targets", "B,0", "--n-shuffles", "3", "--figures", str(figures)])
    assert status == 0
    written = read_attributions(out)
    expected = attribute(clf, list(X[:3]), targets=["B", 0], n_shuffles=3)
    assert written.targets == ["B", "A"]
    np.testing.assert_allclose(written.scores, expected.scores, atol=1e-6)
    assert sorted(p.name for p in figures.iterdir()) == sorted(
        f"s{i}_{t}.png" for i in range(3) for t in ("A", "B"))


def test_attribute_command_commits_its_logos_together(fitted, tmp_path, monkeypatch):
    import skdeepsea.plotting.attribution as logos
    from skdeepsea.cli import main

    clf, _, X, _, _ = fitted
    model = tmp_path / "model.skdeepsea"
    clf.save(model)
    fasta = tmp_path / "seqs.fa"
    fasta.write_text("".join(f">s{i}\n{X[i]}\n" for i in range(3)))
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "old.png").write_bytes(b"kept")
    draw = logos.plot_attribution_logo
    drawn = []

    def fail_on_the_third(*args, **kwargs):
        drawn.append(1)
        if len(drawn) == 3:
            raise RuntimeError("drawing failed")
        return draw(*args, **kwargs)

    monkeypatch.setattr(logos, "plot_attribution_logo", fail_on_the_third)
    with pytest.raises(RuntimeError, match="drawing failed"):
        main(["attribute", "--model", str(model), "--fasta", str(fasta),
              "--out", str(tmp_path / "scores.npz"), "--targets", "A,B", "--n-shuffles", "2",
              "--method", "gradient_x_input", "--figures", str(figures)])
    # Two logos were drawn before the failure: neither reached the folder.
    assert [p.name for p in figures.iterdir()] == ["old.png"]


def test_variant_logos_share_their_axis(fitted):
    pytest.importorskip("logomaker")
    from skdeepsea.plotting.attribution import plot_attribution_logo, plot_variant_attributions

    clf, _, X, _, _ = fitted
    ref_sequence = X[0]
    position = len(ref_sequence) // 2 - 1
    alt_base = "A" if ref_sequence[position] != "A" else "C"
    alt_sequence = ref_sequence[:position] + alt_base + ref_sequence[position + 1:]
    ref = attribute(clf, [ref_sequence], targets="A", n_shuffles=2)
    alt = attribute(clf, [alt_sequence], targets="A", n_shuffles=2)
    figure = plot_variant_attributions(ref, alt, flank=5)
    top, bottom = figure.axes
    assert top.get_ylim() == bottom.get_ylim()
    assert top.get_title() == "reference: A" and bottom.get_title() == "alternative: A"
    low, high = top.get_xlim()
    assert low < position - 5 and high > position + 5 and high - low < 13
    with pytest.raises(ValueError, match=r"shape \(length, 4\)"):
        plot_attribution_logo(np.zeros((5, 3)))


def test_attribute_command_explains_both_alleles_of_variants(fitted, tmp_path):
    from skdeepsea.cli import main

    clf, _, _, _, _ = fitted
    chrom = np.random.default_rng(3).choice(list("ACGT"), 300)
    chrom[146:154] = list(SITE_B)  # the variant at 1-based 150 hits the site's 4th base
    chrom = "".join(chrom)
    genome = tmp_path / "genome.fa"
    genome.write_text(">chr1\n" + "\n".join(chrom[i:i + 60] for i in range(0, 300, 60)) + "\n")
    alt_base = "A" if chrom[149] != "A" else "C"
    wrong_ref = "A" if chrom[99] != "A" else "C"
    vcf = tmp_path / "variants.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
                   f"chr1\t150\tsite\t{chrom[149]}\t{alt_base}\t.\t.\t.\n"
                   f"chr1\t100\tmismatch\t{wrong_ref}\tG\t.\t.\t.\n")
    model = tmp_path / "model.skdeepsea"
    clf.save(model)
    figures = tmp_path / "figures"
    status = main(["attribute", "--model", str(model), "--vcf", str(vcf), "--genome",
                   str(genome), "--out", str(tmp_path / "variants.npz"), "--targets", "B",
                   "--n-shuffles", "3", "--figures", str(figures), "--flank", "8"])
    assert status == 0
    ref = read_attributions(tmp_path / "variants_ref.npz")
    alt = read_attributions(tmp_path / "variants_alt.npz")
    assert len(ref.sequences) == len(alt.sequences) == 1  # the REF mismatch is left out
    window = chrom[149 - 29:149 - 29 + 60]  # the variant at index L // 2 - 1 = 29
    assert "".join(ALPHABET[i] for i in ref.sequences[0].argmax(axis=1)) == window
    changed = np.flatnonzero((ref.sequences[0] != alt.sequences[0]).any(axis=1))
    assert changed.tolist() == [29]
    # Breaking the site lowers the output, and the site's bases carried it.
    assert ref.outputs[0, 0] > alt.outputs[0, 0]
    inside = np.zeros(60, dtype=bool)
    inside[29 - 3:29 + 5] = True
    per_base = ref.contributions[0, 0]
    assert per_base[inside].mean() > 3 * np.clip(per_base[~inside], 0, None).mean()
    assert [p.name for p in figures.iterdir()] == [f"chr1_150_{chrom[149]}_{alt_base}_B.png"]


def test_agrees_with_tangermeme_on_identical_weights():
    """Runs benchmarks/compare_tangermeme.py small when ``SKDEEPSEA_PEER_PYTHON`` names a
    python with PyTorch and tangermeme (out of CI: peers stay out of the project's venv)."""
    import importlib.util
    import os
    from pathlib import Path

    peer = os.environ.get("SKDEEPSEA_PEER_PYTHON")
    if not peer or not os.path.exists(peer):
        pytest.skip("SKDEEPSEA_PEER_PYTHON does not name a python with tangermeme")
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_tangermeme.py"
    spec = importlib.util.spec_from_file_location("compare_tangermeme", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    args = module.build_parser().parse_args([
        "--peer-python", peer, "--length", "200", "--conv-filters", "8,8,8", "--fc-units", "10",
        "--n-outputs", "4", "--n-sequences", "2", "--n-shuffles", "3", "--target", "1"])
    agreement, completeness, _ = module.compare(args)
    assert set(agreement) == {"deep_lift_shap_logit", "deep_lift_shap_probability",
                              "gradient_x_input_logit"}
    # Observed at most 7e-6 on every backend (fixed seeds; no near-tie in a pooling window).
    for name, (difference, relative, r) in agreement.items():
        assert relative < 1e-4 and r > 0.999999, (name, difference, relative, r)
    assert max(completeness.values()) < 1e-5


def test_attribute_command_refuses_bad_options_before_any_work(tmp_path, capsys):
    from skdeepsea.cli import main

    model = tmp_path / "model.skdeepsea"
    model.write_bytes(b"not read: the options fail first")
    with pytest.raises(SystemExit):
        main(["attribute", "--model", str(model), "--sequences", "ACGT", "--out", "x.npz",
              "--n-shuffles", "0"])
    assert "--n-shuffles" in capsys.readouterr().err
    status = main(["attribute", "--model", str(model), "--sequences", "ACGT",
                   "--out", str(tmp_path / "scores.tsv")])
    assert status != 0
    assert "use a .npz, .h5 or .hdf5 name" in capsys.readouterr().err
