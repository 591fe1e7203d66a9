"""Checkpoints: atomic writes, resume after SIGKILL, refusal of foreign checkpoints."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea._checkpoint import checkpoint_path, read_checkpoint, write_checkpoint

from .conftest import motif_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Tiny network; 96 samples + reverse complements in batches of 16: 12 steps an epoch.
TINY = dict(conv_filters=(4,), dropout=(0.1,), kernel_size=5, pool_size=2, fc_units=4,
            optimizer="sgd", learning_rate=0.05, learning_rate_decay=1e-3, batch_size=16,
            epochs=3, shuffle_buffer=2, random_state=3)
STEPS_PER_EPOCH = 12


@pytest.fixture(scope="module")
def data_files(tmp_path_factory):
    seqs, y = motif_data(n=96, length=30, seed=5)
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs))
    folder = tmp_path_factory.mktemp("ckdata")
    np.save(folder / "X.npy", X)
    np.save(folder / "y.npy", y.astype(np.uint8))
    return folder


CHILD = textwrap.dedent("""
    import sys, time
    import numpy as np
    sys.path.insert(0, {root!r})
    from skdeepsea import DeepSEAClassifier

    class SlowDisk:
        # A lazy array whose every read takes 25 ms, so the parent can kill mid-epoch.
        def __init__(self, array):
            self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, 3
        def __len__(self):
            return len(self.array)
        def __getitem__(self, index):
            time.sleep(0.025)
            return self.array[index]

    folder, checkpoint_dir, out = sys.argv[1:4]
    X = SlowDisk(np.load(folder + "/X.npy", mmap_mode="r"))
    y = np.load(folder + "/y.npy")
    clf = DeepSEAClassifier(**{params!r}, checkpoint_dir=checkpoint_dir, checkpoint_every=4)
    clf.fit(X, y)
    np.savez(out, steps=clf.n_steps_, epochs=len(clf.history_["loss"]),
             *clf.model_.get_weights())
""")


def _child(folder, checkpoint_dir, out):
    script = CHILD.format(root=ROOT, params=TINY)
    return subprocess.Popen(
        [sys.executable, "-c", script, str(folder), str(checkpoint_dir), str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _checkpoint_step(directory):
    try:
        checkpoint = read_checkpoint(directory)
    except ValueError:
        return None
    return None if checkpoint is None else checkpoint[0]["step"]


def test_fit_killed_with_sigkill_resumes_to_the_same_end(data_files, tmp_path):
    checkpoint_dir, out = tmp_path / "ck", tmp_path / "out.npz"
    total = TINY["epochs"] * STEPS_PER_EPOCH

    # 1. Start a fit, and kill it (SIGKILL: no cleanup) once a mid-epoch checkpoint of the
    #    second epoch exists.
    child = _child(data_files, checkpoint_dir, out)
    deadline = time.monotonic() + 120
    while True:
        step = _checkpoint_step(checkpoint_dir)
        if step is not None and step > STEPS_PER_EPOCH:
            break
        if child.poll() is not None:
            pytest.fail(f"the fit ended before it could be killed: {child.stderr.read()[-2000:]}")
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert not out.exists()
    killed_at = _checkpoint_step(checkpoint_dir)
    assert 0 < killed_at % STEPS_PER_EPOCH and killed_at < total  # mid-epoch, unfinished
    assert os.listdir(checkpoint_dir) == ["checkpoint.npz"]  # no temporary file left behind

    # 2. The same command again resumes from the checkpoint and finishes.
    child = _child(data_files, checkpoint_dir, out)
    _, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stderr[-3000:]
    resumed = np.load(out)
    assert int(resumed["steps"]) == total
    assert int(resumed["epochs"]) == TINY["epochs"]
    meta, _ = read_checkpoint(checkpoint_dir)
    assert meta["finished"] and meta["step"] == total

    # 3. An uninterrupted fit over the same data ends after the same steps, with the same weights.
    X = np.load(data_files / "X.npy", mmap_mode="r")
    y = np.load(data_files / "y.npy")
    clf = DeepSEAClassifier(**TINY, checkpoint_dir=tmp_path / "straight", checkpoint_every=4)
    clf.fit(X, y)
    assert clf.n_steps_ == total
    weights = clf.model_.get_weights()
    for i, w in enumerate(weights):
        np.testing.assert_allclose(resumed[f"arr_{i}"], w, rtol=1e-4, atol=1e-5)


def test_write_is_atomic_when_interrupted(tmp_path, monkeypatch):
    write_checkpoint(tmp_path, {"step": 1}, {"model": [np.ones(3)]})

    def broken_savez(file, **arrays):
        file.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        write_checkpoint(tmp_path, {"step": 2}, {"model": [np.zeros(3)]})
    meta, groups = read_checkpoint(tmp_path)
    assert meta["step"] == 1 and groups["model"][0].tolist() == [1, 1, 1]
    assert os.listdir(tmp_path) == ["checkpoint.npz"]


def test_read_rejects_other_files(tmp_path):
    assert read_checkpoint(tmp_path) is None
    with open(checkpoint_path(tmp_path), "wb") as f:
        f.write(b"not a zip")
    with pytest.raises(ValueError, match="not a skdeepsea training checkpoint"):
        read_checkpoint(tmp_path)


def test_more_epochs_continue_a_finished_fit_and_other_training_is_refused(data_files, tmp_path):
    X = np.load(data_files / "X.npy", mmap_mode="r")
    y = np.load(data_files / "y.npy")
    params = dict(TINY, shuffle_buffer=64, checkpoint_dir=tmp_path, checkpoint_every=5)
    first = DeepSEAClassifier(**dict(params, epochs=1)).fit(X, y)
    assert first.n_steps_ == STEPS_PER_EPOCH

    again = DeepSEAClassifier(**dict(params, epochs=1)).fit(X, y)  # finished: restored as is
    assert again.n_steps_ == STEPS_PER_EPOCH
    np.testing.assert_allclose(again.predict_proba(X), first.predict_proba(X), rtol=1e-5)

    more = DeepSEAClassifier(**dict(params, epochs=2)).fit(X, y)
    assert more.n_steps_ == 2 * STEPS_PER_EPOCH
    assert len(more.history_["loss"]) == 2
    assert more.history_["loss"][0] == first.history_["loss"][0]
    lr = float(np.asarray(more.model_.optimizer.learning_rate))
    assert lr == pytest.approx(0.05 / (1 + 1e-3 * 2 * STEPS_PER_EPOCH), rel=1e-5)

    with pytest.raises(ValueError, match=r"another training .*batch_size"):
        DeepSEAClassifier(**dict(params, batch_size=8)).fit(X, y)
    with pytest.raises(ValueError, match="another training"):
        DeepSEAClassifier(**params).fit(X[:90], y[:90])
