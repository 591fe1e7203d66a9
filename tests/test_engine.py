"""The training and inference engine: fixed-shape batches, device-side strands, warm starts,
lean model files and the compilation cache."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepsea import DeepSEAClassifier, OneHotDNA, load, reverse_complement
from skdeepsea._engine.batches import TrainBatches
from skdeepsea._engine.inference import predict_batches
from skdeepsea._engine.lazy import make_blocks

from .conftest import SMALL, motif_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = dict(SMALL, epochs=2)


@pytest.fixture(scope="module")
def data():
    seqs, y = motif_data(n=150, length=60, seed=3)
    return np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs)), y


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 23), batch=st.integers(2, 8), seed=st.integers(0, 1000),
       weighted=st.booleans())
def test_a_padded_batch_has_the_loss_of_its_real_samples(n, batch, seed, weighted):
    """Zero-weight padding with rescaled real weights: Keras' batch loss is the real mean."""
    rng = np.random.default_rng(seed)
    X = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, (n, 5))]
    y = rng.integers(0, 2, (n, 2)).astype(np.float32)
    w = rng.uniform(0.5, 2, n).astype(np.float32) if weighted else None
    batches = TrainBatches(X, y, w, make_blocks(n, n), batch_size=batch, shuffle_buffer=n,
                           seed=seed, augment=False)
    step = batches.steps_per_pass - 1  # the last, possibly short, batch
    x_pad, y_pad, w_pad = batches.batch(step)
    batches.close()
    real = w_pad > 0
    assert len(x_pad) == batch and x_pad.dtype == np.uint8
    p = np.clip(rng.uniform(size=y_pad.shape).astype(np.float32), 1e-3, 1 - 1e-3)
    loss = keras.losses.BinaryCrossentropy()
    padded = float(loss(y_pad, p, sample_weight=w_pad))
    given_weights = None if w is None else w_pad[real] * real.sum() / batch
    expected = float(loss(y_pad[real], p[real], sample_weight=given_weights))
    assert padded == pytest.approx(expected, rel=1e-4)


def test_strand_average_on_the_device_equals_the_two_passes(data):
    X, y = data
    clf = DeepSEAClassifier(**FAST).fit(X[:100], y[:100])
    forward = predict_batches(clf.model_, X, batch_size=32)
    backward = predict_batches(clf.model_, np.asarray(reverse_complement(X, alphabet="ATGC")),
                               batch_size=32)
    averaged = predict_batches(clf.model_, X, batch_size=32, average_strands_alphabet="ATGC")
    np.testing.assert_allclose(averaged, (forward + backward) / 2, rtol=1e-5, atol=1e-6)
    # uint8 and float inputs, and any batch size, give the same outputs.
    np.testing.assert_allclose(predict_batches(clf.model_, X.astype(np.float32), batch_size=7),
                               forward, rtol=1e-5, atol=1e-6)


def test_save_holds_the_weights_alone_unless_asked(data, tmp_path):
    X, y = data
    clf = DeepSEAClassifier(**dict(FAST, conv_filters=(32, 32), fc_units=128)).fit(X, y)
    lean, full = tmp_path / "lean.skdeepsea", tmp_path / "full.skdeepsea"
    clf.save(lean)
    clf.save(full, include_optimizer=True)
    # Adam keeps two slots per weight: the full file is about three times the lean one.
    assert os.path.getsize(full) > 2.5 * os.path.getsize(lean)
    assert getattr(load(lean).model_, "optimizer", None) is None
    restored = load(full)
    assert int(restored.model_.optimizer.iterations.numpy()) == clf.n_steps_
    np.testing.assert_allclose(restored.predict_proba(X[:20]), clf.predict_proba(X[:20]),
                               rtol=1e-6)


def test_warm_start_continues_the_network_and_its_optimizer(data, tmp_path):
    X, y = data
    clf = DeepSEAClassifier(**dict(FAST, epochs=1)).fit(X[:100], y[:100])
    first_steps = clf.n_steps_
    kernel = np.array(clf.model_.get_layer("conv1").kernel.numpy())
    clf.set_params(warm_start=True).fit(X[:100], y[:100])
    assert clf.n_steps_ == first_steps
    assert int(clf.model_.optimizer.iterations.numpy()) == 2 * first_steps
    moved = np.abs(clf.model_.get_layer("conv1").kernel.numpy() - kernel).max()
    fresh = DeepSEAClassifier(**dict(FAST, epochs=1, random_state=1)).fit(X[:100], y[:100])
    # Continued from the fitted weights: moved, but less far than a new network lies.
    assert 0 < moved < np.abs(fresh.model_.get_layer("conv1").kernel.numpy() - kernel).max()
    # From a file with its optimizer state, too.
    clf.save(tmp_path / "m.skdeepsea", include_optimizer=True)
    again = load(tmp_path / "m.skdeepsea").set_params(warm_start=True).fit(X[:100], y[:100])
    assert int(again.model_.optimizer.iterations.numpy()) == 3 * first_steps
    with pytest.raises(ValueError, match="warm_start=True continues the fitted network"):
        again.fit(X[:100, :50], y[:100])


def test_a_failed_fit_leaves_the_estimator_as_it_was(data):
    X, y = data
    clf = DeepSEAClassifier(**dict(FAST, conv_filters=(8, 8, 8, 8, 8), dropout=(0.1,) * 5))
    with pytest.raises(ValueError, match="too short"):
        clf.fit(X, y)
    assert not [k for k in vars(clf) if k.endswith("_") and not k.startswith("_")]
    with pytest.raises(ValueError, match=r"dropout\[0\]"):
        DeepSEAClassifier(dropout=(2.0, 0.2, 0.5)).fit(X, y)  # a network parameter, before data


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX's persistent compilation cache")
def test_compiled_steps_are_kept_on_disk_for_the_next_fit(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {ROOT!r})
        import numpy as np
        from skdeepsea import DeepSEAClassifier, OneHotDNA
        from tests.conftest import SMALL, motif_data
        seqs, y = motif_data(n=64, length=40)
        X = OneHotDNA().fit_transform(seqs)
        params = dict(SMALL, epochs=1, fc_units=int(sys.argv[1]))
        DeepSEAClassifier(**params).fit(X, y).predict_proba(X)
    """)
    env = dict(os.environ, KERAS_BACKEND="jax", SKDEEPSEA_CACHE_DIR=str(tmp_path))
    subprocess.run([sys.executable, "-c", script, "16"], env=env, check=True, cwd=ROOT,
                   capture_output=True, timeout=300)
    entries = sorted(os.listdir(tmp_path / "jax"))
    assert entries  # train and predict steps
    env["SKDEEPSEA_CACHE_DIR"] = ""  # off: another network's steps are not kept
    subprocess.run([sys.executable, "-c", script, "12"], env=env, check=True, cwd=ROOT,
                   capture_output=True, timeout=300)
    assert sorted(os.listdir(tmp_path / "jax")) == entries


def test_penalty_constants_are_inputs_of_the_training_step_with_keras_values(data):
    """While training, L2 and L1 read the training model's weights; the values are Keras'."""
    from skdeepsea._engine.model import penalties_from, training_model

    X, y = data
    clf = DeepSEAClassifier(**dict(FAST, epochs=1, l2=1e-3, l1_sparsity=1e-4)).fit(X, y)
    network = clf.model_
    x = X[:16].astype(np.float32)
    network(x)  # records the activity penalty of this batch
    keras_values = sum(float(keras.ops.convert_to_numpy(loss)) for loss in network.losses)
    train_model = training_model(network, "ATGC", 1e-3, 1e-4)
    constants = train_model.get_layer("penalty_constants")
    with penalties_from(network, constants):
        network(x)
        ours = sum(float(keras.ops.convert_to_numpy(loss)) for loss in network.losses)
        constants.l2.assign(0.0)
        constants.l1_sparsity.assign(0.0)
        network(x)
        assert sum(float(keras.ops.convert_to_numpy(loss)) for loss in network.losses) == 0
    assert ours == pytest.approx(keras_values, rel=1e-5) and keras_values > 0
    # Restored: the network's config and files hold Keras' own regularizers.
    assert isinstance(network.get_layer("conv1").kernel.regularizer, keras.regularizers.L2)
    assert isinstance(network.get_layer("fc").activity_regularizer, keras.regularizers.L1)
    strong = DeepSEAClassifier(**dict(FAST, epochs=1, l2=1e-2)).fit(X, y)
    assert strong.history_["loss"][0] > clf.history_["loss"][0]  # the penalty is in the loss


# ---------------------------------------------------------------------- prepare and loop

def test_prepare_checks_and_encodes_without_touching_the_estimator(data):
    from skdeepsea._engine.prepare import prepare_training_data

    X, y = data
    params = DeepSEAClassifier(**FAST, class_weight={"target_1": 3.0}).get_params()
    prepared = prepare_training_data(params, X.astype(np.float32), y, None, (X[:10], y[:10]))
    assert prepared.X.dtype == np.uint8 and prepared.sequence_length == 60  # one-hot: uint8
    assert prepared.encoder.target_type == "multilabel-indicator"
    assert prepared.positive_weights.tolist() == [1.0, 3.0]
    assert prepared.validation[1].dtype == np.float32
    with pytest.raises(ValueError, match=r"validation_data's y must have shape \(n, 2\)"):
        prepare_training_data(params, X, y, None, (X[:10], y[:10, :1]))
    with pytest.raises(ValueError, match=r"sample_weight\[3\] is nan"):
        prepare_training_data(params, X, y, np.where(np.arange(len(X)) == 3, np.nan, 1.0), None)
    with pytest.raises(ValueError, match="class_weight: "):
        prepare_training_data(dict(params, class_weight={"nope": 2.0}), X, y, None, None)


@pytest.mark.parametrize("lazy", [False, True])
def test_early_stopping_holds_out_samples_in_memory_and_blocks_on_disk(data, tmp_path, lazy):
    from skdeepsea._engine.prepare import prepare_training_data, training_batches

    X, y = data
    ids = np.arange(len(X))
    X_tagged = X.copy()
    X_tagged[:, 0, :] = 0
    X_tagged[:, 0, ids % 4] = 1  # a per-sample mark, to see which samples went where
    if lazy:
        np.save(tmp_path / "x.npy", X_tagged)
        X_tagged = np.load(tmp_path / "x.npy", mmap_mode="r")
    params = DeepSEAClassifier(**dict(FAST, early_stopping=True, validation_fraction=0.2,
                                      add_reverse_complement=False)).get_params()
    prepared = prepare_training_data(params, X_tagged, np.c_[y, ids % 2], None, None)
    train, validation = training_batches(params, prepared, shuffle_seed=0, multiple=1)
    try:
        assert 0.15 * len(X) <= len(validation.X) <= 0.25 * len(X)
        assert train.n_samples + len(validation.X) == len(X)
        if lazy:  # whole contiguous blocks of the file, the rest trained on
            held = np.concatenate([np.arange(a, b) for a, b in validation.X.blocks])
            kept = np.concatenate([np.arange(a, b) for a, b in train.blocks])
            assert not set(held) & set(kept) and len(held) + len(kept) == len(X)
    finally:
        train.close()


def test_a_checkpoint_of_another_training_is_refused_by_name(data, tmp_path):
    from skdeepsea._checkpoint import read_checkpoint

    X, y = data
    DeepSEAClassifier(**dict(FAST, epochs=1, checkpoint_dir=tmp_path)).fit(X, y)
    meta, _ = read_checkpoint(tmp_path)
    # What does not change the steps (epochs, verbosity) is not fingerprinted: more epochs resume.
    assert "epochs" not in meta["fingerprint"] and meta["fingerprint"]["l2"] == FAST.get("l2", 5e-7)
    resumed = DeepSEAClassifier(**dict(FAST, epochs=2, checkpoint_dir=tmp_path)).fit(X, y)
    assert resumed.n_iter_ == 2 and resumed.n_steps_ == 2 * meta["step"]
    with pytest.raises(ValueError, match=r"differs in \['l2'\]"):
        DeepSEAClassifier(**dict(FAST, epochs=3, l2=1e-3, checkpoint_dir=tmp_path)).fit(X, y)
