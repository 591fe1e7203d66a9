"""Import of DanQ's published weights (Keras 0.2 on Theano) into the estimator.

The files are made here with h5py in the layout of Keras 0.2's
``Sequential.save_weights``, with random weights, and the imported network is
compared with an independent NumPy transcription of what Keras 0.2, Theano and
seya computed: a true convolution, max pooling without the border, dropout as a
``1 - rate`` factor at prediction, LSTMs with Theano's hard sigmoid gates, seya's
reversal of the batch axis, flatten, dense layers.
"""

import os

import h5py
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skdeepsea
from skdeepsea.data import BUNDLE_ALPHABET
from skdeepsea.network import theano_hard_sigmoid
from skdeepsea.preprocessing import channel_order
from skdeepsea.pretrained import DANQ_BASE_ORDER, load_danq, load_model_file

WEIGHTS_ENV = "SKDEEPSEA_DANQ_WEIGHTS"

# A small DanQ: 6 filters of width 5, pooling 3, 4 LSTM units each way, 7 dense units, 5 outputs.
SMALL = {"length": 50, "filters": 6, "width": 5, "pool": 3, "units": 4, "fc": 7, "outputs": 5}
FULL_POOL = 13
RATES = (0.2, 0.5)


# ------------------------------------------------------------------ the Keras 0.2 file


def danq_weights(sizes, seed):
    """Random weights in Keras 0.2's shapes: {"conv": [W, b], "lstm": [24 arrays], ...}."""
    rng = np.random.default_rng(seed)
    f, w, u = sizes["filters"], sizes["width"], sizes["units"]
    positions = (sizes["length"] - w + 1) // sizes["pool"]

    def normal(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    lstm = []
    for _ in range(2):  # forward, then backward
        for _gate in "icfo":  # W_i, U_i, b_i, W_c, U_c, b_c, W_f, ... as Keras 0.2's LSTM.params
            lstm += [normal(f, u), normal(u, u), normal(u)]
    return {
        "conv": [normal(f, 4, w, 1), normal(f, scale=0.1)],
        "lstm": lstm,
        "fc": [normal(positions * 2 * u, sizes["fc"], scale=0.3), normal(sizes["fc"])],
        "output": [normal(sizes["fc"], sizes["outputs"]), normal(sizes["outputs"])],
    }


def write_keras02(path, weights):
    """The file of Keras 0.2's Sequential.save_weights for DanQ_train.py's ten layers."""
    per_layer = [weights["conv"], [], [], weights["lstm"], [], [], weights["fc"], [],
                 weights["output"], []]
    with h5py.File(path, "w") as f:
        f.attrs["nb_layers"] = len(per_layer)
        for k, params in enumerate(per_layer):
            group = f.create_group(f"layer_{k}")
            group.attrs["nb_params"] = len(params)
            for n, param in enumerate(params):
                group.create_dataset(f"param_{n}", data=param)
    return path


# ------------------------------------------------------------------ NumPy transcription


def hard_sigmoid(x):
    """theano.tensor.nnet.hard_sigmoid."""
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def keras02_lstm(X, params):
    """Keras 0.2's LSTM.get_output: X (samples, steps, features) -> (samples, steps, units)."""
    (W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f, W_o, U_o, b_o) = params
    X = X.transpose(1, 0, 2)  # scan over time
    h = np.zeros((X.shape[1], U_i.shape[0]))
    c = np.zeros_like(h)
    outputs = []
    for x in X:
        i = hard_sigmoid(x @ W_i + b_i + h @ U_i)
        f = hard_sigmoid(x @ W_f + b_f + h @ U_f)
        c = f * c + i * np.tanh(x @ W_c + b_c + h @ U_c)
        o = hard_sigmoid(x @ W_o + b_o + h @ U_o)
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs).transpose(1, 0, 2)


def keras02_danq(weights, X, pool, reverse_axis=0):
    """DanQ_test.py's model.predict on X (samples, length, 4) in the file's base order.

    ``reverse_axis``: the axis seya's ``[::-1]`` reverses, 0 (samples, as published) or 1
    (positions, a true backward LSTM).
    """
    X = X.astype(np.float64)
    W, b = (p.astype(np.float64) for p in weights["conv"])
    n, length, _ = X.shape
    f, _, width, _ = W.shape
    # Theano's conv2d convolves: output[t] = sum_j x[t + j] * W[..., width - 1 - j].
    conv = np.zeros((n, length - width + 1, f))
    for j in range(width):
        conv += X[:, j:j + conv.shape[1], :] @ W[:, :, width - 1 - j, 0].T
    conv = np.maximum(conv + b, 0.0)
    positions = conv.shape[1] // pool  # max_pool_2d with ignore_border=True
    pooled = conv[:, :positions * pool].reshape(n, positions, pool, f).max(axis=2)
    hidden = pooled * (1 - RATES[0])  # Keras 0.2's Dropout at prediction
    lstm = [p.astype(np.float64) for p in weights["lstm"]]
    forward = keras02_lstm(hidden, lstm[:12])
    flip = [slice(None)] * 3
    flip[reverse_axis] = slice(None, None, -1)
    backward = keras02_lstm(hidden[tuple(flip)], lstm[12:])[tuple(flip)]
    both = np.concatenate([forward, backward], axis=-1) * (1 - RATES[1])
    flat = both.reshape(n, -1)
    fc_w, fc_b = (p.astype(np.float64) for p in weights["fc"])
    out_w, out_b = (p.astype(np.float64) for p in weights["output"])
    z = np.maximum(flat @ fc_w + fc_b, 0.0) @ out_w + out_b
    return 1.0 / (1.0 + np.exp(-z))


def one_hot(n, length, seed):
    """Random one-hot sequences in the file's order (A, G, C, T) and the estimator's (ATGC)."""
    rng = np.random.default_rng(seed)
    X = np.eye(4, dtype=np.float32)[rng.integers(0, 4, (n, length))]
    return X, X[:, :, channel_order(DANQ_BASE_ORDER, "ATGC")]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    folder = tmp_path_factory.mktemp("danq")
    weights = danq_weights(SMALL, seed=0)
    return {"weights": weights, "path": write_keras02(folder / "DanQ_small.hdf5", weights)}


def load_small(path, **kwargs):
    kwargs.setdefault("target_names", [f"t{i}" for i in range(SMALL["outputs"])])
    return load_danq(path, sequence_length=SMALL["length"], pool_size=SMALL["pool"], **kwargs)


# ------------------------------------------------------------------ the forward pass


@pytest.mark.parametrize("backward_direction,axis", [("forward", 0), ("reversed", 1)])
def test_import_matches_keras02_theano_forward_pass(small, backward_direction, axis):
    clf = load_small(small["path"], backward_direction=backward_direction)
    X_file, X = one_hot(6, SMALL["length"], seed=1)
    expected = keras02_danq(small["weights"], X_file, SMALL["pool"], reverse_axis=axis)
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-5, rtol=0)
    # The two readings of seya differ on these weights: the choice is not a no-op.
    other = keras02_danq(small["weights"], X_file, SMALL["pool"], reverse_axis=1 - axis)
    assert np.abs(other - expected).max() > 1e-3


def test_fitted_state(small):
    clf = load_small(small["path"])
    assert clf.architecture == "danq" and clf.strand == "forward"
    assert clf.lstm_units == SMALL["units"] and clf.dropout == RATES
    assert (clf.sequence_length_, clf.n_features_in_, clf.alphabet_) == (50, 200, "ATGC")
    assert list(clf.target_names_) == [f"t{i}" for i in range(5)]
    assert clf.model_.get_layer("lstm_forward").cell.recurrent_activation is theano_hard_sigmoid


def test_alphabet_and_strand_averaging(small):
    X_file, X = one_hot(4, SMALL["length"], seed=2)
    expected = keras02_danq(small["weights"], X_file, SMALL["pool"])
    as_file = load_small(small["path"], alphabet="AGCT")
    np.testing.assert_allclose(as_file.predict_proba(X_file), expected, atol=1e-5, rtol=0)
    averaged = load_small(small["path"], strand="mean")
    X_rev_file = X_file[:, ::-1, ::-1]  # in A, G, C, T order the complement reverses the channels
    both = (expected + keras02_danq(small["weights"], X_rev_file, SMALL["pool"])) / 2
    np.testing.assert_allclose(averaged.predict_proba(X), both, atol=1e-5, rtol=0)


def test_average_strands_warns_and_gives_the_same_estimator(small):
    with pytest.warns(FutureWarning, match="average_strands=True is deprecated.*strand='mean'"):
        former = load_small(small["path"], average_strands=True)
    current = load_small(small["path"], strand="mean")
    assert former.get_params() == current.get_params() and current.strand == "mean"
    for a, b in zip(former.model_.get_weights(), current.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    _, X = one_hot(3, SMALL["length"], seed=5)
    np.testing.assert_array_equal(former.predict_proba(X), current.predict_proba(X))
    assert load_small(small["path"]).strand == "forward"  # as DanQ_test.py
    with pytest.raises(ValueError, match="give strand only"):
        load_small(small["path"], strand="forward", average_strands=False)


def test_save_load_keeps_the_theano_gates(small, tmp_path):
    clf = load_small(small["path"])
    clf.save(tmp_path / "danq.skdeepsea")
    loaded = skdeepsea.load(tmp_path / "danq.skdeepsea")
    _, X = one_hot(3, SMALL["length"], seed=3)
    np.testing.assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), atol=1e-6)


def test_base_order_is_the_bundles():
    assert DANQ_BASE_ORDER == BUNDLE_ALPHABET


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-20, 20, width=32), min_size=1, max_size=20))
def test_theano_hard_sigmoid_is_theanos(values):
    x = np.array(values, dtype=np.float32)
    np.testing.assert_allclose(np.asarray(theano_hard_sigmoid(x)), hard_sigmoid(x), atol=1e-7)


def test_theano_hard_sigmoid_is_not_keras_hard_sigmoid():
    import keras

    x = np.array([1.0], dtype=np.float32)
    assert float(np.asarray(theano_hard_sigmoid(x))[0]) == pytest.approx(0.7)
    assert float(np.asarray(keras.activations.hard_sigmoid(x))[0]) == pytest.approx(4 / 6)


# ------------------------------------------------------------------ routes in


def test_load_model_file_and_cli(small, tmp_path, capsys):
    from skdeepsea.cli import main

    with pytest.raises(ValueError, match="sequences of length 1000"):
        load_model_file(small["path"])  # the defaults: DanQ's 1000 bp
    names = tmp_path / "names.txt"
    names.write_text("".join(f"Cell{i}|CTCF|None\n" for i in range(SMALL["outputs"])))
    out = tmp_path / "danq.skdeepsea"
    status = main(["import-weights", str(small["path"]), "--names", str(names), "--out", str(out),
                   "--sequence-length", str(SMALL["length"]), "--pool-size", str(SMALL["pool"])])
    assert status == 0
    assert "5 outputs (0 DNase, 5 TF, 0 histone)" in capsys.readouterr().out
    X_file, X = one_hot(3, SMALL["length"], seed=4)
    np.testing.assert_allclose(skdeepsea.load(out).predict_proba(X),
                               keras02_danq(small["weights"], X_file, SMALL["pool"]), atol=1e-5)


# ------------------------------------------------------------------ malformed input


def test_not_keras02_layout(tmp_path):
    path = tmp_path / "other.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ValueError, match=r"other\.hdf5 has no 'nb_layers'"):
        load_danq(path)
    (tmp_path / "text.hdf5").write_text("not hdf5")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        load_danq(tmp_path / "text.hdf5")


def test_wrong_layers_and_shapes(small, tmp_path):
    weights = danq_weights(SMALL, seed=5)
    weights["lstm"] = weights["lstm"][:12]  # a one-way LSTM
    with pytest.raises(ValueError, match=r"hold \[2, 12, 2, 2\] arrays"):
        load_small(write_keras02(tmp_path / "one_way.hdf5", weights))
    weights = danq_weights(SMALL, seed=5)
    weights["lstm"][13] = np.zeros((3, 3), np.float32)
    with pytest.raises(ValueError, match=r"layer_3/param_13 has shape \(3, 3\); expected \(4, 4\)"):
        load_small(write_keras02(tmp_path / "bad_u.hdf5", weights))


def test_wrong_geometry_and_options(small):
    with pytest.raises(ValueError, match="first dense layer takes 120 inputs"):
        load_danq(small["path"], target_names=list("abcde"), sequence_length=60,
                  pool_size=SMALL["pool"])
    with pytest.raises(ValueError, match="dropout must be two rates"):
        load_small(small["path"], dropout=(0.2,))
    with pytest.raises(ValueError, match="backward_direction"):
        load_small(small["path"], backward_direction="both")
    with pytest.raises(ValueError, match="has 2 names but the network"):
        load_small(small["path"], target_names=["a", "b"])
    with pytest.raises(FileNotFoundError):
        load_danq(small["path"].with_name("missing.hdf5"))


# ------------------------------------------------------------------ the published file


def _golden_path():
    path = os.environ.get(WEIGHTS_ENV)
    return path if path and os.path.isfile(path) else None


@pytest.mark.skipif(_golden_path() is None, reason=(
    f"DanQ's published weights are not here: set {WEIGHTS_ENV} to DanQ_bestmodel.hdf5"))
def test_golden_published_danq_weights():
    path = _golden_path()
    names = os.path.join(os.path.dirname(path), "predictor.names")
    clf = load_danq(path, names if os.path.isfile(names) else [f"t{i}" for i in range(919)])
    # 33,600 + 2 x 820,480 + 44,400,925 + 850,994: the published network, array for array.
    assert clf.model_.count_params() == 46_926_479 and len(clf.target_names_) == 919
    with h5py.File(path, "r") as f:
        per_layer = [[np.asarray(f[f"layer_{k}/param_{n}"])
                      for n in range(int(f[f"layer_{k}"].attrs["nb_params"]))]
                     for k in range(int(f.attrs["nb_layers"]))]
    weights = dict(zip(("conv", "lstm", "fc", "output"), [p for p in per_layer if p]))
    X_file, X = one_hot(3, 1000, seed=6)
    np.testing.assert_allclose(clf.predict_proba(X), keras02_danq(weights, X_file, FULL_POOL),
                               atol=1e-5, rtol=0)
