"""The fitted-model contract: every documented fitted attribute is set by fit, import and load alike.

The documented list is read from each estimator's numpydoc ``Attributes``
section, so an attribute added to the docs but not to the one method that sets
fitted state (``DeepSEAClassifier._set_fitted`` through
``_engine.fitted.FittedState``) fails here.
"""

import dataclasses
import inspect
import pickle
import re

import keras
import numpy as np
import pandas as pd
import pytest

from skdeepsea import DeepSEAClassifier, OneHotDNA, TargetClassifier
from skdeepsea._engine.fitted import FittedState
from skdeepsea.variants import EValueTransformer

from .conftest import SMALL


def documented_attributes(cls):
    """The names of the numpydoc ``Attributes`` section of ``cls``'s docstring."""
    doc = inspect.getdoc(cls)
    section = re.search(r"^Attributes\n-+\n(.*?)(?:\n\n[A-Z][\w ]+\n-+\n|\Z)", doc, re.S | re.M)
    assert section, f"{cls.__name__} documents no Attributes"
    return re.findall(r"^(\w+_) :", section.group(1), re.M)


def assert_same_attribute(name, before, after):
    if isinstance(before, keras.Model):
        for a, b in zip(before.get_weights(), after.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)
    elif isinstance(before, np.ndarray):
        assert before.dtype == after.dtype, name
        np.testing.assert_array_equal(before, after, err_msg=name)
    elif isinstance(before, list) and before and isinstance(before[0], np.ndarray):
        for a, b in zip(before, after, strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)
    else:
        assert type(before) is type(after) and before == after, (name, before, after)


@pytest.fixture(scope="module", params=["multilabel", "binary", "multiclass"])
def fitted(request, dataset):
    sequences, Y = dataset
    X = OneHotDNA().fit_transform(sequences[:120])
    y = {"multilabel": Y[:120], "binary": Y[:120, 0],
         "multiclass": Y[:120, 0] + 2 * Y[:120, 1]}[request.param]
    return DeepSEAClassifier(**{**SMALL, "epochs": 2}).fit(X, y), X


def test_the_fitted_state_holds_every_documented_attribute_but_the_derived_ones():
    fields = {field.name + "_" for field in dataclasses.fields(FittedState)}
    assert fields | {"model_", "n_features_in_"} == set(documented_attributes(DeepSEAClassifier))


def test_every_documented_attribute_survives_save_and_load(fitted, tmp_path):
    clf, X = fitted
    clf.save(tmp_path / "model.skdeepsea")
    loaded = DeepSEAClassifier.load(tmp_path / "model.skdeepsea")
    for name in documented_attributes(DeepSEAClassifier):
        assert_same_attribute(name, getattr(clf, name), getattr(loaded, name))
    assert clf.n_steps_ > 0 and clf.n_iter_ == 2
    np.testing.assert_array_equal(clf.predict_proba(X[:5]), loaded.predict_proba(X[:5]))


def test_every_documented_attribute_survives_pickling(fitted):
    clf, _ = fitted
    again = pickle.loads(pickle.dumps(clf))
    for name in documented_attributes(DeepSEAClassifier):
        assert_same_attribute(name, getattr(clf, name), getattr(again, name))


def test_a_network_from_keras_is_a_fitted_estimator_with_every_attribute(fitted, tmp_path):
    clf, X = fitted
    if clf.target_type_ != "multilabel-indicator":
        pytest.skip("from_keras makes multilabel estimators")
    imported = DeepSEAClassifier.from_keras(clf.model_, target_names=["a", "b"],
                                            **clf.get_params())
    for name in documented_attributes(DeepSEAClassifier):
        assert hasattr(imported, name), name
    assert imported.n_steps_ == 0 and imported.n_iter_ == 0 and imported.history_ == {}
    assert imported.target_names_.tolist() == ["a", "b"]
    np.testing.assert_array_equal(imported.predict_proba(X[:5]), clf.predict_proba(X[:5]))
    imported.save(tmp_path / "imported.skdeepsea")
    loaded = DeepSEAClassifier.load(tmp_path / "imported.skdeepsea")
    for name in documented_attributes(DeepSEAClassifier):
        assert_same_attribute(name, getattr(imported, name), getattr(loaded, name))


def test_from_keras_refuses_a_network_that_disagrees_with_its_arguments(fitted):
    clf, _ = fitted
    if clf.target_type_ != "multilabel-indicator":
        pytest.skip("one network is enough")
    with pytest.raises(ValueError, match="output shape .* but 3 target names"):
        DeepSEAClassifier.from_keras(clf.model_, target_names=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"input shape .*input_channels"):
        DeepSEAClassifier.from_keras(clf.model_, input_channels=1, strand="forward",
                                     add_reverse_complement=False)
    with pytest.raises(ValueError, match="momentum"):
        DeepSEAClassifier.from_keras(clf.model_, momentum=2.0)


def test_the_inference_face_gives_the_probabilities_of_chosen_columns(fitted):
    clf, X = fitted
    proba = clf.predict_proba(X[:9])
    outputs = clf.forward(X[:9])
    columns = clf.output_columns()
    if clf.target_type_ == "binary":
        np.testing.assert_array_equal(outputs[:, 0], proba[:, 1])
        assert columns.names == [str(clf.classes_[1])]
    else:
        np.testing.assert_array_equal(outputs, proba)
    last = clf.output_columns([-1])
    assert last.indices.tolist() == [len(columns.names) - 1] and last.names == columns.names[-1:]
    np.testing.assert_array_equal(clf.forward(X[:9], targets=[-1]), outputs[:, -1:])
    chunks = list(clf.forward_iter(X[:9], batch_size=4))
    assert [(start, stop) for start, stop, _ in chunks][0][0] == 0
    # Another batch size: the same outputs to float32 rounding.
    np.testing.assert_allclose(np.concatenate([o for *_, o in chunks]), outputs, rtol=1e-5)
    one_strand = clf.forward(X[:9], strand="forward")
    assert not np.array_equal(one_strand, outputs)  # the reverse complement's outputs differ
    with pytest.raises(ValueError, match="strand='both' is invalid"):
        clf.forward(X[:9], strand="both")


def test_the_old_strand_spelling_warns_and_means_the_same(fitted):
    clf, X = fitted
    with pytest.warns(FutureWarning, match="average_strands=False is deprecated.*strand='forward'"):
        old = clf.set_params(average_strands=False).predict_proba(X[:5])
    clf.set_params(average_strands="deprecated")
    np.testing.assert_array_equal(old, clf.set_params(strand="forward").predict_proba(X[:5]))
    clf.set_params(strand="mean")


@pytest.mark.parametrize("make", [
    lambda Y, X: OneHotDNA(sequence_length=60).fit(pd.DataFrame({"sequence": ["ACGT"]})),
    lambda Y, X: EValueTransformer().fit(np.random.default_rng(0).normal(size=(50, 3))),
])
def test_other_estimators_keep_their_documented_attributes_through_pickling(make, dataset):
    estimator = make(*dataset)
    again = pickle.loads(pickle.dumps(estimator))
    names = documented_attributes(type(estimator))
    assert names
    for name in names:
        assert_same_attribute(name, getattr(estimator, name), getattr(again, name))


def test_a_target_view_keeps_its_documented_attributes_through_pickling(fitted):
    clf, _ = fitted
    if clf.target_type_ != "multilabel-indicator":
        pytest.skip("a view of one target of a multilabel model")
    view = TargetClassifier(clf, target=1).fit()
    again = pickle.loads(pickle.dumps(view))
    for name in documented_attributes(TargetClassifier):
        if isinstance(getattr(view, name), DeepSEAClassifier):
            continue
        assert_same_attribute(name, getattr(view, name), getattr(again, name))
