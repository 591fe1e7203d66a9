"""Beyond one device: Keras data parallelism (JAX) and GridSearchCV on a Dask cluster."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea._engine.model import _TrainingModel

from .conftest import motif_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = dict(conv_filters=(6,), dropout=(0.1,), kernel_size=5, pool_size=2, fc_units=6,
            optimizer="adam", learning_rate=0.02, batch_size=16, epochs=2, random_state=0)

DATA_PARALLEL = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    import numpy as np, keras
    from skdeepsea import DeepSEAClassifier, OneHotDNA
    from tests.conftest import motif_data

    assert keras.distribution.list_devices() == ["cpu:0", "cpu:1"], keras.distribution.list_devices()
    seqs, y = motif_data(n=101, length=30, seed=2)
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs))
    params = dict({params!r}, data_parallel=True, add_reverse_complement=False,
                  strand="forward")
    # 101 samples: the last batch of each pass drops one so that it splits over 2 devices.
    clf = DeepSEAClassifier(**params).fit(X, y, validation_data=(X[:21], y[:21]))
    kernel = clf.model_.get_layer("conv1").kernel.value
    assert len(kernel.sharding.device_set) == 2, kernel.sharding  # replicated on both devices
    assert clf.n_steps_ == 2 * 7 and len(clf.history_["val_loss"]) == 2, clf.history_
    assert clf.predict_proba(X).shape == (101, 2)  # prediction keeps every sample
    assert keras.distribution.distribution() is None  # the scope did not leak
    try:
        DeepSEAClassifier(**dict(params, batch_size=15)).fit(X, y)
        raise AssertionError("odd batch accepted")
    except ValueError as e:
        assert "multiple of 2" in str(e)
    print("OK")
""")


@pytest.mark.skipif(keras.backend.backend() != "jax",
                    reason="Keras' distribution API (DataParallel) supports the JAX backend only")
def test_data_parallel_over_two_forced_host_devices():
    env = dict(os.environ, KERAS_BACKEND="jax",
               XLA_FLAGS="--xla_force_host_platform_device_count=2")
    script = DATA_PARALLEL.format(root=ROOT, params=TINY)
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr[-3000:]


@pytest.mark.skipif(keras.backend.backend() != "jax",
                    reason="Keras' distribution API (DataParallel) supports the JAX backend only")
def test_data_parallel_on_one_device_trains_as_the_plain_path(monkeypatch):
    # Keras' DataParallel over one device recompiled the train step in the second epoch (the
    # initial weights off the mesh, the step's outputs on it); one device is the plain path.
    seqs, y = motif_data(n=64, length=30, seed=5)
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs))
    if len(keras.distribution.list_devices()) != 1:
        pytest.skip("this process sees several devices")
    traces = []
    train_step = _TrainingModel.train_step
    monkeypatch.setattr(_TrainingModel, "train_step",
                        lambda self, *args: traces.append(1) or train_step(self, *args))
    params = dict(TINY, epochs=3)
    plain = DeepSEAClassifier(**params).fit(X, y)
    plain_traces = len(traces)
    parallel = DeepSEAClassifier(**params, data_parallel=True).fit(X, y)
    assert len(traces) - plain_traces == plain_traces  # JAX runs the Python step when tracing
    np.testing.assert_array_equal(parallel.predict_proba(X), plain.predict_proba(X))


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the JAX backend supports it")
def test_data_parallel_names_the_backend_it_needs():
    seqs, y = motif_data(n=20, length=30)
    X = OneHotDNA().fit_transform(seqs)
    with pytest.raises(ValueError, match="needs the JAX backend"):
        DeepSEAClassifier(**TINY, data_parallel=True).fit(X, y)


def test_grid_search_over_regularization_on_a_local_dask_cluster():
    distributed = pytest.importorskip("distributed")
    import joblib
    from sklearn.model_selection import GridSearchCV

    seqs, y = motif_data(n=80, length=30, seed=4)
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs))
    grid = {"l2": [0.0, 1e-3], "l1_sparsity": [1e-4]}
    env = {"KERAS_BACKEND": keras.backend.backend(), "PYTHONPATH": ROOT,
           "OMP_NUM_THREADS": "1", "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.4"}
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, worker_dashboard_address=None, env=env,
    ) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as tasks, joblib.parallel_config("dask"):
            # random_state=None: seeding would make each worker import TensorFlow (Keras seeds it).
            search = GridSearchCV(DeepSEAClassifier(**dict(TINY, epochs=1, random_state=None)),
                                  grid, cv=2, n_jobs=-1,
                                  error_score="raise").fit(X, y)
        workers = {task["worker"] for task in tasks.data}
        backends = client.run(lambda: __import__("keras").backend.backend())
    assert len(workers) == 2  # the fits were spread over both workers
    assert set(backends.values()) == {keras.backend.backend()}
    assert len(search.cv_results_["params"]) == 2
    assert set(search.best_params_) == {"l2", "l1_sparsity"}
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.predict_proba(X).shape == (80, 2)
