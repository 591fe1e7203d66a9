"""scikit-learn's transformer and model-selection API, and sequence records as input.

OneHotDNA's feature names, flattened output and output containers (a Pipeline's
set_output, a ColumnTransformer over a DataFrame column); weighted scoring through
metadata routing; per-target decision thresholds; one target as a binary classifier
for CalibratedClassifierCV and TunedThresholdClassifierCV; Biopython and pysam records.
"""

import numpy as np
import pandas as pd
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import f1_score, roc_auc_score, roc_curve
from sklearn.model_selection import GridSearchCV, TunedThresholdClassifierCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdeepsea import DeepSEAClassifier, OneHotDNA, TargetClassifier
from skdeepsea.metrics import best_thresholds, mean_roc_auc
from skdeepsea.preprocessing import read_sequences

from .conftest import SMALL

TRAIN = 300  # of the 400 sequences of the dataset fixture; the rest are held out
TINY = dict(conv_filters=(4,), dropout=(0.0,), kernel_size=4, pool_size=4, fc_units=4,
            optimizer="adam", learning_rate=0.01, batch_size=32, epochs=2, random_state=0)


@pytest.fixture(scope="module")
def encoded(dataset):
    seqs, Y = dataset
    return OneHotDNA().fit_transform(seqs), Y


@pytest.fixture(scope="module")
def fitted(encoded):
    X, Y = encoded
    return DeepSEAClassifier(**{**SMALL, "epochs": 5}).fit(X[:TRAIN], Y[:TRAIN])


@pytest.fixture(scope="module")
def binary(encoded):
    """A binary model with string classes and a threshold of 0.3."""
    X, Y = encoded
    return DeepSEAClassifier(**TINY, threshold=0.3).fit(X[:60], np.where(Y[:60, 0], "b", "a"))


@pytest.fixture
def held_out(encoded):
    X, Y = encoded
    return X[TRAIN:], Y[TRAIN:]


# ---------------------------------------------------------------- OneHotDNA: transformer API


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_feature_names_name_the_flattened_values(data):
    alphabet = "".join(data.draw(st.permutations("ACGT")))
    length = data.draw(st.integers(1, 12))
    seqs = data.draw(st.lists(st.text("ACGTacgt", min_size=length, max_size=length),
                              min_size=1, max_size=4))
    encoder = OneHotDNA(alphabet=alphabet, flatten=True, dtype="uint8").fit(seqs)
    names = encoder.get_feature_names_out()
    flat = encoder.transform(seqs)
    assert flat.shape == (len(seqs), length * 4) and len(names) == length * 4
    for row, seq in zip(flat, seqs):
        hot = {name for name, value in zip(names, row) if value == 1}
        assert hot == {f"pos{i}_{base.upper()}" for i, base in enumerate(seq)}
    # The 3-D output holds the same values in the same order.
    cube = OneHotDNA(alphabet=alphabet, dtype="uint8").fit_transform(seqs)
    assert np.array_equal(np.asarray(cube).reshape(len(seqs), -1), np.asarray(flat))
    assert flat.alphabet == alphabet
    assert encoder.inverse_transform(flat).tolist() == [s.upper() for s in seqs]


def test_flattened_output_keeps_the_fitted_width():
    encoder = OneHotDNA(flatten=True).fit(["ACGT"])
    with pytest.raises(ValueError, match="length 5.*fitted on length 4.*16 output columns"):
        encoder.transform(["ACGTA"])
    cropped = OneHotDNA(flatten=True, sequence_length=4).fit(["ACGTA"])
    assert cropped.transform(["TTACGTAA"]).shape == (1, 16)
    with pytest.raises(ValueError, match="flatten must be True or False"):
        OneHotDNA(flatten="yes").fit(["ACGT"])


def test_feature_names_check_the_input_column():
    encoder = OneHotDNA().fit(pd.DataFrame({"sequence": ["ACG", "TTA"]}))
    assert encoder.feature_names_in_.tolist() == ["sequence"]
    assert encoder.get_feature_names_out(["sequence"]).tolist()[:2] == ["pos0_A", "pos0_T"]
    with pytest.raises(ValueError, match="input_features must name the one input column"):
        encoder.get_feature_names_out(["gc"])
    with pytest.raises(NotFittedError):
        OneHotDNA().get_feature_names_out()


def test_pandas_output_of_flattened_sequences():
    index = pd.Index(["chr1:100", "chr2:300"], name="region")
    seqs = pd.Series(["ACGT", "TTNA"], index=index)
    encoder = OneHotDNA(flatten=True, dtype="uint8").set_output(transform="pandas")
    frame = encoder.fit_transform(seqs)
    assert isinstance(frame, pd.DataFrame)
    assert frame.index.equals(index)
    assert frame.columns.tolist() == encoder.get_feature_names_out().tolist()
    assert frame.loc["chr2:300", ["pos2_A", "pos2_T", "pos2_G", "pos2_C"]].sum() == 0  # N
    assert frame.loc["chr1:100", "pos3_T"] == 1
    # The global configuration counts too; set_output("default") overrides it.
    with sklearn.config_context(transform_output="pandas"):
        assert isinstance(OneHotDNA(flatten=True).fit_transform(seqs), pd.DataFrame)
        assert not isinstance(encoder.set_output(transform="default").transform(seqs),
                              pd.DataFrame)
    with pytest.raises(ValueError, match="transform must be"):
        OneHotDNA().set_output(transform="arrow")


def test_polars_output_of_flattened_sequences():
    polars = pytest.importorskip("polars")
    frame = OneHotDNA(flatten=True).set_output(transform="polars").fit_transform(["AC", "GT"])
    assert isinstance(frame, polars.DataFrame) and frame.columns[:2] == ["pos0_A", "pos0_T"]


def test_pandas_output_leaves_the_3d_array_to_the_classifier(fitted, dataset):
    seqs, _ = dataset
    encoder = OneHotDNA().set_output(transform="pandas")
    cube = encoder.fit_transform(seqs[:3])
    assert cube.shape == (3, 60, 4) and cube.alphabet == "ATGC"
    # A Pipeline's set_output reaches OneHotDNA without error; predictions do not change.
    pipe = make_pipeline(OneHotDNA().fit(seqs[:1]), fitted)
    expected = pipe.predict_proba(seqs[TRAIN:])
    assert pipe.set_output(transform="pandas") is pipe
    assert np.array_equal(pipe.predict_proba(seqs[TRAIN:]), expected)
    with sklearn.config_context(transform_output="pandas"):
        assert np.array_equal(pipe.predict_proba(seqs[TRAIN:]), expected)


def test_column_transformer_picks_the_sequence_column(dataset):
    seqs, Y = dataset
    frame = pd.DataFrame({"sequence": seqs[:80], "gc": [s.count("G") + s.count("C")
                                                         for s in seqs[:80]],
                          "source": "synthetic"})
    picked = ColumnTransformer([("dna", OneHotDNA(flatten=True), ["sequence"])])
    pipe = make_pipeline(picked, DeepSEAClassifier(**TINY)).set_output(transform="pandas")
    pipe.fit(frame, Y[:80])
    assert pipe[0].get_feature_names_out()[:2].tolist() == ["dna__pos0_A", "dna__pos0_T"]
    assert isinstance(pipe[0].transform(frame), pd.DataFrame)
    # The same network fitted on the 3-D encoding of the same sequences predicts the same.
    direct = make_pipeline(OneHotDNA(), DeepSEAClassifier(**TINY)).fit(seqs[:80], Y[:80])
    np.testing.assert_allclose(pipe.predict_proba(frame), direct.predict_proba(seqs[:80]),
                               rtol=1e-5, atol=1e-6)
    assert pipe.predict(frame).shape == (80, 2)


def test_column_transformer_combines_sequences_and_tabular_columns(dataset):
    seqs, Y = dataset
    gc = np.array([(s.count("G") + s.count("C")) / len(s) for s in seqs[:80]])
    frame = pd.DataFrame({"sequence": seqs[:80], "gc": gc})
    columns = ColumnTransformer([("dna", OneHotDNA(flatten=True), "sequence"),
                                 ("num", StandardScaler(), ["gc"])])
    features = columns.fit_transform(frame)
    assert features.shape == (80, 60 * 4 + 1)
    assert columns.get_feature_names_out()[-1] == "num__gc"
    np.testing.assert_allclose(features[:, -1], (gc - gc.mean()) / gc.std(), rtol=1e-6)
    # Features that are not DNA: one channel, no strands.
    generic = DeepSEAClassifier(**{**TINY, "input_channels": 1, "strand": "forward",
                                   "add_reverse_complement": False})
    pipe = make_pipeline(columns, generic).fit(frame, Y[:80])
    assert pipe.predict_proba(frame).shape == (80, 2)
    assert pipe[-1].n_features_in_ == 60 * 4 + 1


# ---------------------------------------------------------------- weighted score, routing


def _weighted_mean_auc(Y, proba, weights):
    return np.mean([roc_auc_score(Y[:, t], proba[:, t], sample_weight=weights)
                    for t in range(Y.shape[1])])


def test_score_takes_sample_weight(fitted, held_out):
    X, Y = held_out
    weights = np.random.default_rng(0).uniform(0, 3, len(X))
    proba = fitted.predict_proba(X)
    assert fitted.score(X, Y, sample_weight=weights) == pytest.approx(
        _weighted_mean_auc(Y, proba, weights), abs=1e-12)
    assert fitted.score(X, Y, sample_weight=np.ones(len(X))) == pytest.approx(fitted.score(X, Y))
    # Weight 0 leaves a sample out.
    keep = np.arange(len(X)) % 3 != 0
    assert fitted.score(X, Y, sample_weight=keep.astype(float)) == pytest.approx(
        fitted.score(X[keep], Y[keep]))
    with pytest.raises(ValueError, match="sample_weight has shape"):
        fitted.score(X, Y, sample_weight=np.ones(3))


def test_routed_grid_search_scores_with_the_weights(encoded):
    X, Y = encoded
    X, Y = X[:160], Y[:160]
    weights = np.random.default_rng(1).uniform(0, 3, len(X))
    train, test = np.arange(100), np.arange(100, 160)
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = (DeepSEAClassifier(**TINY).set_score_request(sample_weight=True)
                     .set_fit_request(sample_weight=False))
        search = GridSearchCV(estimator, {"l2": [0.0]}, cv=[(train, test)], refit=False)
        search.fit(X, Y, sample_weight=weights)
    routed = search.cv_results_["split0_test_score"][0]
    model = DeepSEAClassifier(**TINY, l2=0.0).fit(X[train], Y[train])  # the fold's fit, again
    proba = model.predict_proba(X[test])
    assert routed == pytest.approx(_weighted_mean_auc(Y[test], proba, weights[test]), abs=1e-9)
    assert routed != pytest.approx(_weighted_mean_auc(Y[test], proba, None), abs=1e-9)
    assert mean_roc_auc(Y[test], proba, sample_weight=weights[test]) == pytest.approx(routed)


# ---------------------------------------------------------------- decision thresholds


def test_predict_cuts_each_target_at_its_threshold(fitted, held_out):
    X, _ = held_out
    proba = fitted.predict_proba(X)
    model = pickle_copy(fitted).set_params(threshold=[0.2, 0.9])
    assert np.array_equal(model.predict(X), (proba > [0.2, 0.9]).astype(int))
    model.set_params(threshold=0.7)
    assert np.array_equal(model.predict(X), (proba > 0.7).astype(int))
    for bad, message in [([0.5, 0.5, 0.5], "3 values.*2 target"), (1.5, "from 0 to 1"),
                         ("0.5", "a number"), ([[0.5, 0.5]], "1-D"), (np.nan, "from 0 to 1")]:
        with pytest.raises(ValueError, match=message):
            model.set_params(threshold=bad).predict(X)
    with pytest.raises(ValueError, match="threshold"):
        clone(model).set_params(threshold=2.0).fit(X[:10], np.zeros((10, 2), int))


def test_binary_and_multiclass_thresholds(encoded, binary):
    X, Y = encoded
    p = binary.predict_proba(X[100:150])[:, 1]
    assert np.array_equal(binary.predict(X[100:150]), np.where(p > 0.3, "b", "a"))
    multiclass = DeepSEAClassifier(**TINY).fit(X[:60], Y[:60, 0] + 2 * Y[:60, 1])
    multiclass.set_params(threshold=0.3)
    with pytest.raises(ValueError, match="multiclass"):
        multiclass.predict(X[:5])


def _f1_at(labels, scores, threshold):
    return f1_score(labels, (scores > threshold).astype(int), zero_division=0.0)


def test_tune_thresholds_maximises_f1_per_target(fitted, held_out):
    X, Y = held_out
    model = pickle_copy(fitted)
    assert model.tune_thresholds(X, Y) is model
    proba = model.predict_proba(X)
    assert isinstance(model.threshold, list) and len(model.threshold) == 2
    for t, threshold in enumerate(model.threshold):
        best_possible = max(_f1_at(Y[:, t], proba[:, t], cut)
                            for cut in np.append(np.unique(proba[:, t]), -1.0))
        assert _f1_at(Y[:, t], proba[:, t], threshold) == pytest.approx(best_possible)
    assert np.array_equal(model.predict(X), (proba > np.array(model.threshold)).astype(int))
    # A target without positives in y keeps its threshold.
    Y_one_class = Y.copy()
    Y_one_class[:, 1] = 0
    with pytest.warns(UserWarning, match="1 target.*target_1"):
        model.set_params(threshold=0.5).tune_thresholds(X, Y_one_class, metric="youden")
    assert model.threshold[1] == 0.5


def pickle_copy(estimator):
    import pickle

    return pickle.loads(pickle.dumps(estimator))


def test_tuned_thresholds_survive_save_and_load(fitted, held_out, tmp_path):
    X, Y = held_out
    model = pickle_copy(fitted).tune_thresholds(X, Y)
    model.save(tmp_path / "tuned.skdeepsea")
    loaded = DeepSEAClassifier.load(tmp_path / "tuned.skdeepsea")
    assert list(loaded.threshold) == model.threshold
    assert np.array_equal(loaded.predict(X), model.predict(X))
    model.set_params(threshold=np.array(model.threshold))  # an array is saved as a list
    model.save(tmp_path / "array.skdeepsea")
    loaded = DeepSEAClassifier.load(tmp_path / "array.skdeepsea")
    assert list(loaded.threshold) == model.threshold.tolist()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_best_thresholds_beat_every_other_cut(data):
    n = data.draw(st.integers(2, 30))
    labels = np.array(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    scores = np.array(data.draw(st.lists(st.sampled_from(np.linspace(0, 1, 11)),
                                         min_size=n, max_size=n)))
    metric = data.draw(st.sampled_from(["f1", "youden"]))
    threshold = best_thresholds(labels, scores, metric=metric)[0]
    if labels.min() == labels.max():
        assert np.isnan(threshold)
        return

    def value(cut):
        predicted = scores > cut
        if metric == "f1":
            return f1_score(labels, predicted, zero_division=0.0)
        fpr, tpr = predicted[labels == 0].mean(), predicted[labels == 1].mean()
        return tpr - fpr

    cuts = np.append(np.unique(scores), -1.0)
    assert value(threshold) == pytest.approx(max(value(c) for c in cuts))
    assert threshold not in scores  # halfway between two scores


def test_best_thresholds_with_weights_match_a_repeated_sample():
    labels = np.array([0, 1, 0, 1, 1, 0])
    scores = np.array([0.1, 0.4, 0.35, 0.8, 0.2, 0.7])
    weights = np.array([1, 1, 3, 1, 1, 1])
    repeated = np.repeat(np.arange(6), weights)
    for metric in ("f1", "youden"):
        assert best_thresholds(labels, scores, metric=metric, sample_weight=weights) == \
            pytest.approx(best_thresholds(labels[repeated], scores[repeated], metric=metric))
    with pytest.raises(ValueError, match="metric must be one of"):
        best_thresholds(labels, scores, metric="accuracy")
    fpr, tpr, _ = roc_curve(labels, scores)
    assert len(fpr) > 2  # the example has several cuts to choose from


# ---------------------------------------------------------------- one target as a binary classifier


def test_target_classifier_is_one_column_of_the_model(fitted, held_out):
    X, _ = held_out
    view = fitted.target_classifier("target_1")
    assert isinstance(view, TargetClassifier)
    assert view.classes_.tolist() == [0, 1]
    assert (view.target_index_, view.target_name_) == (1, "target_1")
    proba = view.predict_proba(X)
    p = fitted.predict_proba(X)[:, 1]
    assert np.array_equal(proba, np.column_stack([1 - p, p]))
    model = pickle_copy(fitted).set_params(threshold=[0.5, 0.3])
    assert np.array_equal(TargetClassifier(model, target=-1).predict(X), model.predict(X)[:, 1])
    assert view.fit(X) is view  # nothing trained


def test_target_classifier_refuses_what_it_cannot_view(fitted, encoded, binary):
    X, Y = encoded
    view = TargetClassifier(clone(fitted), target=0)
    assert not hasattr(view, "classes_")
    with pytest.raises(NotFittedError, match="FrozenEstimator"):
        view.fit(X[:5])
    with pytest.raises(ValueError, match="Unknown target 'CTCF'"):
        TargetClassifier(fitted, target="CTCF").predict_proba(X[:5])
    with pytest.raises(ValueError, match="one target name or index"):
        TargetClassifier(fitted, target=[0, 1]).fit()
    with pytest.raises(ValueError, match="multilabel model"):
        TargetClassifier(binary).fit()


def test_calibration_of_one_target(fitted, held_out):
    X, Y = held_out
    view = TargetClassifier(fitted, target="target_0")
    calibrated = CalibratedClassifierCV(FrozenEstimator(view), method="sigmoid", cv=3)
    calibrated.fit(X, Y[:, 0])
    assert calibrated.classes_.tolist() == [0, 1]
    raw = view.predict_proba(X)[:, 1]
    sigmoid = calibrated.predict_proba(X)[:, 1]
    # Sigmoid calibration is monotone: the ranking (hence ROC AUC) is the model's own.
    assert roc_auc_score(Y[:, 0], sigmoid) == pytest.approx(roc_auc_score(Y[:, 0], raw))
    assert not np.allclose(sigmoid, raw)
    # Calibrated probabilities are closer to the observed frequency than the raw ones.
    assert abs(sigmoid.mean() - Y[:, 0].mean()) <= abs(raw.mean() - Y[:, 0].mean()) + 0.02


def test_threshold_tuning_of_one_target(fitted, held_out, dataset):
    X, Y = held_out
    view = TargetClassifier(fitted, target=1)
    tuned = TunedThresholdClassifierCV(view, cv="prefit", refit=False,
                                       scoring="balanced_accuracy").fit(X, Y[:, 1])
    p = view.predict_proba(X)[:, 1]
    assert 0 < tuned.best_threshold_ < 1
    assert np.array_equal(tuned.predict(X), (p >= tuned.best_threshold_).astype(int))
    # A frozen view over a Pipeline of strings, cross-validated.
    seqs, _ = dataset
    pipe_view = TargetClassifier(make_pipeline(OneHotDNA().fit(seqs[:1]), fitted),
                                 target="target_1")
    frozen = TunedThresholdClassifierCV(FrozenEstimator(pipe_view), cv=2,
                                        scoring="f1").fit(seqs[TRAIN:], Y[:, 1])
    assert frozen.predict(seqs[TRAIN:]).shape == (len(X),)


# ---------------------------------------------------------------- sequence records


@pytest.fixture
def fasta(dataset, tmp_path):
    seqs, _ = dataset
    path = tmp_path / "held_out.fa"
    path.write_text("".join(f">seq{i} held out\n{s[:30].lower()}\n{s[30:]}\n"
                            for i, s in enumerate(seqs[TRAIN:])))
    return path


def test_onehot_reads_biopython_and_pysam_records(dataset, fasta):
    SeqIO = pytest.importorskip("Bio.SeqIO")
    pysam = pytest.importorskip("pysam")
    seqs, _ = dataset
    expected = OneHotDNA(dtype="uint8").fit_transform(seqs[TRAIN:])
    encoder = OneHotDNA(dtype="uint8")
    assert np.array_equal(encoder.fit_transform(SeqIO.parse(fasta, "fasta")), expected)
    assert np.array_equal(encoder.transform([r.seq for r in SeqIO.parse(fasta, "fasta")]),
                          expected)
    with pysam.FastxFile(str(fasta)) as records:
        assert np.array_equal(encoder.transform(records), expected)
    # Record ids index the pandas output.
    flat = OneHotDNA(flatten=True).set_output(transform="pandas")
    frame = flat.fit_transform(SeqIO.parse(fasta, "fasta"))
    assert frame.index.name == "id" and frame.index[:2].tolist() == ["seq0", "seq1"]
    with pysam.FastxFile(str(fasta)) as records:
        assert flat.transform(records).index[-1] == f"seq{len(expected) - 1}"
    _, ids = read_sequences(SeqIO.parse(fasta, "fasta"))
    assert ids[:2] == ["seq0", "seq1"]


def test_record_errors_name_the_sample():
    Seq = pytest.importorskip("Bio.Seq")
    SeqRecord = pytest.importorskip("Bio.SeqRecord").SeqRecord
    record = SeqRecord(Seq.Seq("ACGT"), id="a")
    with pytest.raises(TypeError, match="single sequence record"):
        OneHotDNA().fit(record)
    with pytest.raises(ValueError, match="sequence 1 \\(id 'b'\\) has no readable sequence"):
        OneHotDNA().fit([record, SeqRecord(Seq.Seq(None, length=4), id="b")])
    with pytest.raises(ValueError, match="sequence 1 has an invalid character 'X' at position 2"):
        OneHotDNA().fit([record, SeqRecord(Seq.Seq("ACXT"), id="c")])
    with pytest.raises(TypeError, match="sequence 1 has type int"):
        OneHotDNA().fit([record, 5])


def test_classifier_takes_records(fitted, dataset, fasta):
    SeqIO = pytest.importorskip("Bio.SeqIO")
    seqs, Y = dataset
    X = OneHotDNA().fit_transform(seqs[TRAIN:])
    expected = fitted.predict_proba(X)
    np.testing.assert_array_equal(fitted.predict_proba(SeqIO.parse(fasta, "fasta")), expected)
    assert fitted.score(SeqIO.parse(fasta, "fasta"), Y[TRAIN:]) == pytest.approx(
        fitted.score(X, Y[TRAIN:]))
    with pytest.raises(TypeError, match="OneHotDNA"):  # plain strings need the encoder step
        fitted.predict_proba(list(seqs[:3]))
    # Records are encoded in the model's base order; fit reads a generator once.
    records = list(SeqIO.parse(fasta, "fasta"))
    agct = DeepSEAClassifier(**TINY, alphabet="AGCT").fit(iter(records), Y[TRAIN:])
    assert agct.alphabet_ == "AGCT"
    np.testing.assert_array_equal(
        agct.predict_proba(records),
        agct.predict_proba(OneHotDNA(alphabet="AGCT").fit_transform(seqs[TRAIN:])))
    # Through a Pipeline, OneHotDNA reads the iterator.
    pipe = make_pipeline(OneHotDNA(alphabet="AGCT").fit(seqs[:1]), agct)
    np.testing.assert_array_equal(pipe.predict(SeqIO.parse(fasta, "fasta")),
                                  agct.predict(records))
