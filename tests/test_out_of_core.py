"""Fit and predict from lazy inputs (h5py, memmap, skdeepsea.data), and DeepSEA-style training."""

import h5py
import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea._engine.lazy import RowsView, is_dataset, is_lazy, make_blocks
from skdeepsea._engine.batches import OrderedBatches, TrainBatches

from .conftest import motif_data

QUICK = dict(conv_filters=(8,), dropout=(0.1,), kernel_size=6, pool_size=2, fc_units=8,
             optimizer="adam", learning_rate=0.02, batch_size=32, epochs=4, random_state=0)


@pytest.fixture(scope="module")
def onehot():
    seqs, y = motif_data(n=320, length=40, seed=1)
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs))
    return X, y.astype(np.uint8)


@pytest.fixture(scope="module")
def h5(onehot, tmp_path_factory):
    X, y = onehot
    path = tmp_path_factory.mktemp("h5") / "data.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=X, chunks=(16,) + X.shape[1:])
        f.create_dataset("y", data=y)
    with h5py.File(path, "r") as f:
        yield f


class Recording:
    """A lazy array that records every read and refuses to be loaded whole."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, 3
        self.alphabet = "ATGC"
        self.reads = []

    def __len__(self):
        return len(self.array)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise AssertionError(f"read with {index!r}: only contiguous slices are expected")
        rows = self.array[index]
        self.reads.append(len(rows))
        return rows

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole lazy array was loaded")


class FakeDataset:
    """The skdeepsea.data.open_dataset contract, in memory."""

    def __init__(self, X, Y, names, alphabet="ATGC"):
        self.X, self.Y, self.target_names, self.alphabet = Recording(X), Y, names, alphabet


def test_recognises_lazy_inputs(onehot, h5, tmp_path):
    X, _ = onehot
    np.save(tmp_path / "x.npy", X)
    assert is_lazy(h5["x"]) and is_lazy(np.load(tmp_path / "x.npy", mmap_mode="r"))
    assert not is_lazy(X) and not is_lazy(X.tolist())
    assert is_dataset(FakeDataset(X, X[:, 0], ["a"])) and not is_dataset(X)


def test_h5py_fit_streams_and_predicts_like_in_memory(onehot, h5):
    X, y = onehot
    clf = DeepSEAClassifier(**QUICK).fit(h5["x"], h5["y"])
    assert clf.n_steps_ == QUICK["epochs"] * int(np.ceil(2 * len(X) / QUICK["batch_size"]))
    assert clf.target_type_ == "multilabel-indicator" and clf.sequence_length_ == 40
    assert clf.score(X, y) > 0.65  # learnt something (chance: 0.5)
    np.testing.assert_allclose(clf.predict_proba(h5["x"]), clf.predict_proba(X), rtol=1e-5,
                               atol=1e-6)


def test_lazy_input_is_read_in_blocks_never_whole(onehot):
    X, y = onehot
    lazy = Recording(X)
    clf = DeepSEAClassifier(**dict(QUICK, epochs=1, shuffle_buffer=64)).fit(lazy, y)
    assert lazy.reads and max(lazy.reads) <= 64
    assert sum(lazy.reads) == len(X)  # one pass: every sample read exactly once
    lazy.reads.clear()
    proba = clf.predict_proba(lazy)  # forward and reverse strands, batch by batch
    assert max(lazy.reads) == QUICK["batch_size"]
    # Both strands from one read of each sample: the reverse complement is made on the
    # device. Keras may read a batch or two ahead to learn the shapes.
    assert len(X) <= sum(lazy.reads) <= len(X) + 4 * QUICK["batch_size"]
    np.testing.assert_allclose(proba, clf.predict_proba(X), rtol=1e-5, atol=1e-6)


def test_dataset_object_carries_targets_and_names(onehot):
    X, y = onehot
    data = FakeDataset(X, y, ["GATA", "AP1"], alphabet="ATGC")
    clf = DeepSEAClassifier(**dict(QUICK, epochs=1)).fit(data)
    assert clf.target_names_.tolist() == ["GATA", "AP1"] and clf.alphabet_ == "ATGC"
    assert clf.predict_proba(data).shape == (len(X), 2)
    with pytest.raises(ValueError, match="holds its own targets"):
        DeepSEAClassifier(**QUICK).fit(data, y)
    with pytest.raises(ValueError, match="alphabet 'ACGT'"):
        clf.predict_proba(FakeDataset(X, y, None, alphabet="ACGT"))


def test_skdeepsea_data_files_train_out_of_core(onehot, tmp_path):
    data = pytest.importorskip("skdeepsea.data")
    X, y = onehot
    data.write_dataset(tmp_path / "d.h5", X, y, target_names=["GATA", "AP1"], alphabet="ATGC")
    with data.open_dataset(tmp_path / "d.h5", alphabet="ATGC") as dataset:
        clf = DeepSEAClassifier(**QUICK).fit(dataset)
        assert clf.target_names_.tolist() == ["GATA", "AP1"]
        assert clf.score(X, y) > 0.65  # learnt something (chance: 0.5)
        np.testing.assert_allclose(clf.predict_proba(dataset.X), clf.predict_proba(X),
                                   rtol=1e-5, atol=1e-6)


def test_memmap_binary_labels_and_validation_data(onehot, tmp_path):
    X, y = onehot
    np.save(tmp_path / "x.npy", X)
    memmap = np.load(tmp_path / "x.npy", mmap_mode="r")
    labels = np.where(y[:, 0] == 1, "bound", "free")
    clf = DeepSEAClassifier(**QUICK).fit(memmap[:240], labels[:240],
                                         validation_data=(memmap[240:], labels[240:]))
    assert clf.classes_.tolist() == ["bound", "free"]
    assert len(clf.history_["val_loss"]) == QUICK["epochs"]
    assert clf.predict(memmap[240:]).shape == (80,)
    with pytest.raises(ValueError, match="labels not seen in training"):
        DeepSEAClassifier(**QUICK).fit(memmap, labels, validation_data=(X[:5], ["x"] * 5))


@pytest.mark.parametrize("lazy", [False, True])
def test_early_stopping_keeps_the_best_epoch(onehot, h5, lazy):
    X, y = onehot
    X_fit, y_fit = (h5["x"], h5["y"]) if lazy else (X[:240], y[:240])
    clf = DeepSEAClassifier(**dict(QUICK, epochs=12, learning_rate=0.05, early_stopping=True,
                                   n_iter_no_change=2))
    clf.fit(X_fit, y_fit, validation_data=(X[240:], y[240:]))
    val = clf.history_["val_loss"]
    assert len(val) < 12 or min(val) == val[-1]  # stopped early, or still improving
    # The weights kept are those of the best epoch: their validation loss is the minimum.
    kept = clf.model_.evaluate(X[240:].astype(np.float32), y[240:].astype(np.float32),
                               verbose=0, batch_size=32)
    assert kept == pytest.approx(min(val), rel=1e-3)


def test_early_stopping_without_validation_data_holds_out_blocks(h5):
    clf = DeepSEAClassifier(**dict(QUICK, epochs=2, early_stopping=True,
                                   validation_fraction=0.25, checkpoint_dir=None))
    clf.fit(h5["x"], h5["y"])
    # 320 samples in 64 blocks of 5: 16 held out (80 samples), 240 + their RCs trained on.
    assert clf.n_steps_ == 2 * int(np.ceil(2 * 240 / 32))
    assert len(clf.history_["val_loss"]) == 2


def test_deepsea_schedule_and_steps_per_epoch(onehot):
    X, y = onehot
    clf = DeepSEAClassifier(**dict(QUICK, optimizer="sgd", learning_rate=0.1,
                                   learning_rate_decay=8e-7, steps_per_epoch=7, epochs=3))
    clf.fit(X, y)
    assert clf.n_steps_ == 21 and len(clf.history_["loss"]) == 3
    optimizer = clf.model_.optimizer
    assert isinstance(optimizer, keras.optimizers.SGD) and optimizer.momentum == 0.9
    assert float(np.asarray(optimizer.learning_rate)) == pytest.approx(0.1 / (1 + 8e-7 * 21))
    # In memory too (no streaming): the schedule is the optimizer's.
    clf = DeepSEAClassifier(**dict(QUICK, epochs=1, learning_rate_decay=0.5)).fit(X, y)
    assert float(np.asarray(clf.model_.optimizer.learning_rate)) == pytest.approx(
        0.02 / (1 + 0.5 * clf.n_steps_), rel=1e-5)


def test_mixed_precision_is_applied_to_the_model_only(onehot):
    X, y = onehot
    before = keras.config.dtype_policy().name
    clf = DeepSEAClassifier(**dict(QUICK, epochs=1, mixed_precision="bfloat16")).fit(X, y)
    assert clf.model_.get_layer("conv1").dtype_policy.name == "mixed_bfloat16"
    assert clf.model_.get_layer("conv1").kernel.dtype == "float32"
    assert clf.model_.get_layer("output").dtype_policy.name == "float32"
    assert keras.config.dtype_policy().name == before
    assert clf.predict_proba(X).dtype == np.float32
    # Restored even when building fails.
    with pytest.raises(ValueError, match="too short"):
        DeepSEAClassifier(**dict(QUICK, mixed_precision="float16")).fit(X[:, :4], y)
    assert keras.config.dtype_policy().name == before


@pytest.mark.parametrize("params, match", [
    (dict(mixed_precision="fp8"), "mixed_precision"),
    (dict(learning_rate_decay=-1.0), "learning_rate_decay"),
    (dict(steps_per_epoch=0), "steps_per_epoch"),
    (dict(shuffle_buffer=0), "shuffle_buffer"),
    (dict(checkpoint_every=2.5), "checkpoint_every"),
    (dict(checkpoint_dir=3), "checkpoint_dir"),
    (dict(data_parallel="yes"), "data_parallel"),
])
def test_new_parameters_are_validated_in_fit(onehot, params, match):
    X, y = onehot
    clf = DeepSEAClassifier(**params)  # stored as given
    assert all(getattr(clf, k) == v for k, v in params.items())
    with pytest.raises(ValueError, match=match):
        clf.fit(X, y)


def test_lazy_input_errors(onehot, h5, tmp_path):
    X, y = onehot
    np.save(tmp_path / "flat.npy", X.reshape(len(X), -1).astype(np.float32))
    flat = np.load(tmp_path / "flat.npy", mmap_mode="r")
    clf = DeepSEAClassifier(**dict(QUICK, epochs=1)).fit(flat, y)  # 2-D memmaps: in memory
    assert clf.n_features_in_ == 160
    with h5py.File(tmp_path / "bad.h5", "w") as f:
        f["x"] = X[:, :, :3]
        f["y"] = np.full((len(X), 2), 3, dtype=np.uint8)
        with pytest.raises(ValueError, match=r"must have shape \(n, L, 4\)"):
            DeepSEAClassifier().fit(f["x"], y)
        with pytest.raises(ValueError, match="0/1 indicator"):
            DeepSEAClassifier().fit(h5["x"], f["y"])


# ---------------------------------------------------------------------- the stream itself

@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), batch=st.integers(1, 17), buffer=st.integers(1, 40),
       block=st.integers(1, 9), seed=st.integers(0, 2**31 - 2), rc=st.booleans())
def test_one_pass_holds_every_sample_and_strand_once(n, batch, buffer, block, seed, rc):
    X = np.zeros((n, 3, 4), dtype=np.uint8)
    X[:, 0, 0] = 1
    X[np.arange(n), 1, np.arange(n) % 4] = 1
    ids = np.arange(n)[:, None]
    stream = TrainBatches(X, ids, None, make_blocks(n, block), batch_size=batch,
                          shuffle_buffer=buffer, seed=seed, augment=rc)
    try:
        batches = [stream.batch(step) for step in range(stream.steps_per_pass)]
        # Every batch has the full shape; padding rows weigh 0, and the real rows'
        # weights make the padded batch's mean loss that of the real rows.
        assert all(len(b[1]) == batch for b in batches)
        weights = np.concatenate([b[2] for b in batches])
        real = weights > 0
        for b in batches:
            np.testing.assert_allclose(b[2].sum(), batch, rtol=1e-5)
        seen = np.concatenate([b[1][:, 0] for b in batches]).astype(int)[real]
        assert sorted(seen.tolist()) == sorted(list(range(n)) * (2 if rc else 1))
        x = np.concatenate([b[0]["sequence"] if rc else b[0] for b in batches])[real]
        assert x.dtype == np.uint8  # batches travel as stored
        np.testing.assert_array_equal(x, X[seen])  # sequences as stored: the device flips them
        if rc:  # each sample once as given, once flagged for reverse complementing
            strands = np.concatenate([b[0]["reverse"] for b in batches])[real] == 1
            assert sorted(seen[strands].tolist()) == list(range(n))
            assert sorted(seen[~strands].tolist()) == list(range(n))
        # Random access gives the same batches as a sequential pass (what resuming needs).
        again = TrainBatches(X, ids, None, make_blocks(n, block), batch_size=batch,
                             shuffle_buffer=buffer, seed=seed, augment=rc)
        step = stream.steps_per_pass - 1
        np.testing.assert_array_equal(again.batch(step)[1], batches[step][1])
        again.close()
    finally:
        stream.close()


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 50), block=st.integers(1, 8), data=st.data())
def test_rows_view_matches_fancy_indexing(n, block, data):
    array = np.arange(n * 2).reshape(n, 2)
    blocks = make_blocks(n, block)
    keep = data.draw(st.lists(st.booleans(), min_size=len(blocks), max_size=len(blocks)))
    chosen = blocks[np.array(keep, dtype=bool)]
    view = RowsView(array, chosen)
    rows = np.concatenate([np.arange(a, b) for a, b in chosen] or [np.empty(0, int)])
    begin = data.draw(st.integers(0, len(rows)))
    end = data.draw(st.integers(begin, len(rows)))
    np.testing.assert_array_equal(view[begin:end], array[rows[begin:end]])


def test_sequential_stream_rejects_non_finite(tmp_path):
    X = np.zeros((4, 5, 4), dtype=np.float32)
    X[2, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"X\[2\] holds nan at position 0"):
        OrderedBatches(X, 2)[1]
