import os
import pickle
import subprocess
import sys
import zipfile

import joblib
import keras
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

import skdeepsea
from skdeepsea import DeepSEAClassifier, OneHotDNA, reverse_complement
from skdeepsea.losses import WeightedBinaryCrossentropy
from skdeepsea.metrics import mean_roc_auc, mean_roc_auc_scorer

from .conftest import SMALL, motif_data

TRAIN = 300  # of the 400 sequences of the dataset fixture; the rest are held out


@pytest.fixture(scope="module")
def encoded(dataset):
    seqs, Y = dataset
    return OneHotDNA().fit_transform(seqs), Y


@pytest.fixture(scope="module")
def fitted(encoded):
    X, Y = encoded
    return DeepSEAClassifier(**SMALL).fit(X[:TRAIN], Y[:TRAIN])


def test_learns_planted_motifs_on_held_out_data(fitted, encoded):
    X, Y = encoded
    assert fitted.score(X[TRAIN:], Y[TRAIN:]) > 0.85  # chance: 0.5


def test_multilabel_fitted_attributes(fitted, encoded):
    X, Y = encoded
    assert fitted.classes_.tolist() == [0, 1]
    assert fitted.target_names_.tolist() == ["target_0", "target_1"]
    assert fitted.n_features_in_ == 60 * 4
    assert fitted.sequence_length_ == 60
    assert fitted.alphabet_ == "ATGC"
    proba = fitted.predict_proba(X[:7])
    assert proba.shape == (7, 2) and ((proba >= 0) & (proba <= 1)).all()
    assert np.array_equal(fitted.predict(X[:7]), (proba > 0.5).astype(int))
    assert len(fitted.history_["loss"]) == SMALL["epochs"]


def test_dataframe_columns_become_target_names(encoded):
    X, Y = encoded
    frame = pd.DataFrame(Y, columns=["GM12878|GATA1|None", "K562|FOS|None"])
    clf = DeepSEAClassifier(**{**SMALL, "epochs": 1}).fit(X[:40], frame[:40])
    assert clf.target_names_.tolist() == list(frame.columns)


def test_flattened_uint8_and_bool_inputs_agree(fitted, encoded):
    X, _ = encoded
    expected = fitted.predict_proba(X[:10])
    flat = np.asarray(X[:10]).reshape(10, -1)
    np.testing.assert_allclose(fitted.predict_proba(flat), expected, rtol=1e-6)
    np.testing.assert_allclose(fitted.predict_proba(np.asarray(X[:10], np.uint8)), expected, rtol=1e-6)
    np.testing.assert_allclose(fitted.predict_proba(np.asarray(X[:10], bool)), expected, rtol=1e-6)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.text("ACGTN", min_size=60, max_size=60), min_size=1, max_size=4))
def test_strand_averaged_predictions_ignore_orientation(fitted, seqs):
    encoder = OneHotDNA().fit(seqs)
    forward = fitted.predict_proba(encoder.transform(seqs))
    backward = fitted.predict_proba(encoder.transform(reverse_complement(seqs)))
    np.testing.assert_allclose(forward, backward, atol=1e-6)


def test_single_strand_predictions_depend_on_orientation(fitted, encoded):
    X, _ = encoded
    single = clone(fitted).set_params(strand="forward")
    single.__dict__.update({k: v for k, v in fitted.__dict__.items() if k.endswith("_")})
    forward = single.predict_proba(X[:20])
    backward = single.predict_proba(reverse_complement(X[:20]))
    assert not np.allclose(forward, backward)
    np.testing.assert_allclose((forward + backward) / 2, fitted.predict_proba(X[:20]), atol=1e-6)


def test_reverse_complements_are_added_to_training(encoded):
    X, Y = encoded
    both = DeepSEAClassifier(**{**SMALL, "epochs": 1, "batch_size": 10}).fit(X[:40], Y[:40])
    one = DeepSEAClassifier(
        **{**SMALL, "epochs": 1, "batch_size": 10}, add_reverse_complement=False
    ).fit(X[:40], Y[:40])
    assert both.model_.optimizer.iterations.numpy() == 8
    assert one.model_.optimizer.iterations.numpy() == 4


def test_fit_is_reproducible_with_random_state(encoded):
    X, Y = encoded
    params = {**SMALL, "epochs": 2}
    first = DeepSEAClassifier(**params).fit(X[:60], Y[:60]).predict_proba(X[60:70])
    second = DeepSEAClassifier(**params).fit(X[:60], Y[:60]).predict_proba(X[60:70])
    other = DeepSEAClassifier(**{**params, "random_state": 1}).fit(X[:60], Y[:60])
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other.predict_proba(X[60:70]))


def test_binary_string_labels(encoded):
    X, Y = encoded
    y = np.where(Y[:, 0] == 1, "bound", "unbound")
    clf = DeepSEAClassifier(**SMALL).fit(X[:TRAIN], y[:TRAIN])
    assert clf.classes_.tolist() == ["bound", "unbound"]
    proba = clf.predict_proba(X[TRAIN:])
    assert proba.shape == (len(X) - TRAIN, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert set(clf.predict(X[TRAIN:])) <= {"bound", "unbound"}
    assert clf.score(X[TRAIN:], y[TRAIN:]) > 0.85


def test_multiclass_labels(encoded):
    X, Y = encoded
    y = Y[:, 0] + 2 * Y[:, 1]
    clf = DeepSEAClassifier(**{**SMALL, "epochs": 10}).fit(X[:TRAIN], y[:TRAIN])
    assert clf.classes_.tolist() == [0, 1, 2, 3]
    proba = clf.predict_proba(X[TRAIN:])
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert (clf.predict(X[TRAIN:]) == y[TRAIN:]).mean() > 0.4  # chance: about 0.25


def test_input_errors_name_the_problem(fitted, encoded):
    X, _ = encoded
    with pytest.raises(ValueError, match="length 30.*fitted on length 60"):
        fitted.predict_proba(X[:2, :30])
    with pytest.raises(ValueError, match="X has 7 features, but DeepSEAClassifier is expecting 240"):
        fitted.predict_proba(np.zeros((2, 7)))
    with pytest.raises(ValueError, match="multiple of 4"):
        clone(fitted).fit(np.zeros((2, 7)), [0, 1])
    with pytest.raises(ValueError, match=r"shape \(n, L, 4\)"):
        fitted.predict_proba(np.zeros((2, 60, 5)))
    with pytest.raises(TypeError, match="OneHotDNA"):
        fitted.predict_proba(["ACGT" * 15])
    other_order = OneHotDNA(alphabet="AGCT").fit_transform(["ACGT" * 15])
    with pytest.raises(ValueError, match="alphabet 'AGCT'.*fitted on alphabet 'ATGC'"):
        fitted.predict_proba(other_order)
    nan = np.asarray(X[:2]).copy()
    nan[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict_proba(nan)


def test_alphabet_travels_from_the_encoder(dataset):
    seqs, Y = dataset
    pipe = make_pipeline(OneHotDNA(alphabet="AGCT"), DeepSEAClassifier(**{**SMALL, "epochs": 1}))
    pipe.fit(seqs[:40], Y[:40])
    assert pipe[-1].alphabet_ == "AGCT"
    with pytest.raises(ValueError, match="alphabet"):
        DeepSEAClassifier(alphabet="ATGC", **SMALL).fit(pipe[0].transform(seqs[:40]), Y[:40])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"l2": -1.0}, "l2"),
        ({"max_kernel_norm": 0}, "max_kernel_norm"),
        ({"dropout": (0.1,)}, "dropout"),
        ({"conv_filters": (8, 0)}, r"conv_filters\[1\]"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"epochs": 0}, "epochs"),
        ({"kernel_size": 40}, "too short"),
        ({"class_weight": "some"}, "class_weight"),
    ],
)
def test_invalid_parameters_fail_at_fit_not_init(encoded, params, message):
    X, Y = encoded
    clf = DeepSEAClassifier(**{**SMALL, **params})
    assert clf.get_params()[next(iter(params))] == next(iter(params.values()))
    with pytest.raises(ValueError, match=message):
        clf.fit(X[:20], Y[:20])


def test_max_kernel_norm_bounds_every_filter_and_unit(encoded):
    X, Y = encoded
    clf = DeepSEAClassifier(**{**SMALL, "epochs": 1, "max_kernel_norm": 0.05}).fit(X[:40], Y[:40])
    for layer in clf.model_.layers:
        if hasattr(layer, "kernel"):
            kernel = keras.ops.convert_to_numpy(layer.kernel)
            axes = tuple(range(kernel.ndim - 1))
            assert np.sqrt((kernel**2).sum(axis=axes)).max() <= 0.05 + 1e-5


def test_l2_and_l1_terms_enter_the_loss(encoded):
    X, Y = encoded
    clf = DeepSEAClassifier(**{**SMALL, "epochs": 1, "l2": 1e-3, "l1_sparsity": 0.0})
    clf.fit(X[:20], Y[:20])
    kernels = [keras.ops.convert_to_numpy(l.kernel) for l in clf.model_.layers if hasattr(l, "kernel")]
    expected = 1e-3 * sum((k.astype(np.float64) ** 2).sum() for k in kernels)
    actual = sum(float(keras.ops.convert_to_numpy(loss)) for loss in clf.model_.losses)
    assert actual == pytest.approx(expected, rel=1e-4)
    assert clf.model_.get_layer("fc").activity_regularizer is None
    sparse = DeepSEAClassifier(**{**SMALL, "epochs": 1, "l1_sparsity": 1e-4}).fit(X[:20], Y[:20])
    assert float(sparse.model_.get_layer("fc").activity_regularizer.l1) == pytest.approx(1e-4)


def test_balanced_class_weight_weights_each_targets_positives(encoded):
    X, Y = encoded
    Y = Y[:40].copy()
    clf = DeepSEAClassifier(**{**SMALL, "epochs": 1, "class_weight": "balanced"}).fit(X[:40], Y)
    loss = clf.model_.loss
    assert isinstance(loss, WeightedBinaryCrossentropy)
    positives = Y.sum(axis=0)
    np.testing.assert_allclose(loss.positive_weights, (40 - positives) / positives)
    named = DeepSEAClassifier(**{**SMALL, "epochs": 1, "class_weight": {"target_1": 3.0}})
    assert named.fit(X[:40], Y).model_.loss.positive_weights == [1.0, 3.0]


def test_early_stopping_holds_out_validation_data(encoded):
    X, Y = encoded
    clf = DeepSEAClassifier(
        **{**SMALL, "epochs": 30}, early_stopping=True, n_iter_no_change=1, validation_fraction=0.2
    ).fit(X[:100], Y[:100])
    assert "val_loss" in clf.history_
    assert len(clf.history_["loss"]) < 30


def test_pickle_and_joblib_round_trips_predict_identically(fitted, encoded, tmp_path):
    X, _ = encoded
    expected = fitted.predict_proba(X[:10])
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict_proba(X[:10]), expected)
    joblib.dump(fitted, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict_proba(X[:10]), expected)


def test_save_and_load(fitted, encoded, tmp_path):
    X, _ = encoded
    path = tmp_path / "model.skdeepsea"
    fitted.save(path)
    loaded = skdeepsea.load(path)
    assert loaded.get_params() == fitted.get_params()
    assert loaded.target_names_.tolist() == fitted.target_names_.tolist()
    assert (loaded.alphabet_, loaded.sequence_length_) == ("ATGC", 60)
    np.testing.assert_array_equal(loaded.predict_proba(X[:10]), fitted.predict_proba(X[:10]))
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["estimator.json", "model.keras"]


def test_save_keeps_the_old_file_when_interrupted(fitted, tmp_path, monkeypatch):
    path = tmp_path / "model.skdeepsea"
    path.write_bytes(b"previous model")

    def broken(model):
        raise KeyboardInterrupt

    monkeypatch.setattr(skdeepsea.persistence, "model_to_bytes", broken)
    with pytest.raises(KeyboardInterrupt):
        fitted.save(path)
    assert path.read_bytes() == b"previous model"
    assert os.listdir(tmp_path) == ["model.skdeepsea"]


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "model.skdeepsea"
    path.write_text("not a zip")
    with pytest.raises(ValueError, match="not a skdeepsea model file"):
        skdeepsea.load(path)


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_saved_model_predicts_the_same_on_every_backend(fitted, encoded, tmp_path, backend):
    X, _ = encoded
    path = tmp_path / "model.skdeepsea"
    fitted.save(path)
    np.save(tmp_path / "x.npy", np.asarray(X[:10]))
    script = (
        "import sys, numpy as np, skdeepsea, keras\n"
        f"assert keras.backend.backend() == {backend!r}\n"
        "m = skdeepsea.load(sys.argv[1])\n"
        "np.save(sys.argv[3], m.predict_proba(np.load(sys.argv[2])))\n"
    )
    env = {**os.environ, "KERAS_BACKEND": backend}
    out = tmp_path / "p.npy"
    subprocess.run(
        [sys.executable, "-c", script, str(path), str(tmp_path / "x.npy"), str(out)],
        env=env, check=True, capture_output=True,
    )
    np.testing.assert_allclose(np.load(out), fitted.predict_proba(X[:10]), atol=1e-5)


def test_pipeline_cross_validation_and_grid_search(dataset):
    seqs, Y = dataset
    pipe = make_pipeline(OneHotDNA(), DeepSEAClassifier(**{**SMALL, "epochs": 3}))
    scores = cross_val_score(pipe, seqs[:120], Y[:120], cv=2, scoring=mean_roc_auc_scorer)
    assert scores.shape == (2,) and np.isfinite(scores).all() and scores.mean() > 0.6
    search = GridSearchCV(
        pipe,
        {"deepseaclassifier__l2": [5e-7, 1e-2], "deepseaclassifier__max_kernel_norm": [0.9]},
        cv=2,
        n_jobs=2,
    ).fit(seqs[:120], Y[:120])
    assert search.best_params_["deepseaclassifier__l2"] in (5e-7, 1e-2)
    assert search.predict_proba(seqs[:5]).shape == (5, 2)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_score_is_the_mean_per_target_roc_auc(fitted, encoded):
    X, Y = encoded
    assert fitted.score(X[TRAIN:], Y[TRAIN:]) == pytest.approx(
        mean_roc_auc(Y[TRAIN:], fitted.predict_proba(X[TRAIN:]))
    )


def test_clone_returns_an_unfitted_copy_with_the_same_params(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "model_")


def test_multilabel_data_of_other_lengths():
    seqs, Y = motif_data(n=40, length=100, seed=3)
    X = OneHotDNA().fit_transform(seqs)
    clf = DeepSEAClassifier(**{**SMALL, "epochs": 1}).fit(X, Y)
    assert clf.predict_proba(X).shape == (40, 2)
