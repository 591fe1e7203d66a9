"""Training across processes: two JAX processes on 127.0.0.1, against one process.

The launches start real processes (one CPU device each) that meet at a
coordinator on a free local port: the command line with explicit flags, and
the Python API with the variables torchrun sets. Keras' distribution API is
JAX-only, so the launches skip on the other backends; the batch slicing and
the reading of launcher variables are tested on every backend.
"""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea._checkpoint import read_checkpoint
from skdeepsea._engine.batches import OrderedBatches, TrainBatches
from skdeepsea._engine.lazy import make_blocks
from skdeepsea._engine.processes import Share
from skdeepsea.distributed import cluster_from_environment, initialize

from .conftest import motif_data

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAX_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "jax",
    reason="multi-process training uses Keras' distribution API, which supports the JAX backend "
           "only (docs/training-at-scale.md)")
# 192 samples + reverse complements in batches of 16: 24 steps an epoch, 72 in all.
PARAMS = dict(conv_filters=(4,), dropout=(0.1,), kernel_size=5, pool_size=2, fc_units=4,
              optimizer="sgd", learning_rate=0.05, learning_rate_decay=1e-3, batch_size=16,
              epochs=3, shuffle_buffer=64, random_state=3, verbose=0)
STEPS_PER_EPOCH, TOTAL = 24, 72
# Two processes against one: the measured largest difference of a weight is about 1e-7
# (float32 gradients summed in another order); asserted with room to spare.
TOLERANCE = 1e-6
TIMEOUT = 240  # seconds for any launch
LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK",
                      "TORCHELASTIC_USE_AGENT_STORE", "JAX_COORDINATOR_PORT")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(**extra):
    env = {key: value for key, value in os.environ.items()
           if key not in LAUNCHER_VARIABLES and not key.startswith(("SLURM_", "KERAS_DIST"))}
    env.update(KERAS_BACKEND="jax", JAX_PLATFORMS="cpu", PYTHONPATH=ROOT,
               XLA_FLAGS="--xla_force_host_platform_device_count=1", **extra)
    return env


def _run_all(commands, tmp_path, name, *, envs, until=None):
    """Start one process per command; wait for all (or until ``until()``); kill any left."""
    processes, logs = [], []
    try:
        for rank, (command, env) in enumerate(zip(commands, envs)):
            log = open(tmp_path / f"{name}{rank}.log", "w+")  # noqa: SIM115 (closed below)
            logs.append(log)
            processes.append(subprocess.Popen(command, env=env, stdout=log,
                                              stderr=subprocess.STDOUT, cwd=ROOT))
        deadline = time.monotonic() + TIMEOUT
        while until is not None and not until(processes):
            assert time.monotonic() < deadline, f"{name}: not there within {TIMEOUT} s"
            time.sleep(0.01)
        for process in processes:
            process.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        outputs = []
        for log in logs:
            log.seek(0)
            outputs.append(log.read())
            log.close()
            print(f"--- {name}, process {len(outputs) - 1}:\n{outputs[-1][-3000:]}")  # on failure
    return [p.returncode for p in processes], outputs


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from skdeepsea.data import write_dataset

    folder = tmp_path_factory.mktemp("mpdata")
    seqs, y = motif_data(n=224, length=30, seed=7)
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs))
    write_dataset(folder / "train.h5", X[:192], y[:192], chunk_rows=32)
    write_dataset(folder / "valid.h5", X[192:], y[192:], chunk_rows=32)
    return folder


@pytest.fixture(scope="module")
def one_process(data):
    """The model one process trains (this one)."""
    from skdeepsea.data import open_dataset

    with open_dataset(data / "train.h5") as train, open_dataset(data / "valid.h5") as valid:
        return DeepSEAClassifier(**PARAMS, alphabet="ATGC").fit(train, validation_data=valid)


API = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from skdeepsea import DeepSEAClassifier, distributed
    from skdeepsea._engine import batches, loop

    cluster = distributed.initialize(timeout=120)  # from torchrun's variables
    assert cluster["source"] == "torchrun" and cluster["num_processes"] == 2, cluster
    rank = cluster["process_id"]
    from skdeepsea.data import open_dataset

    folder, checkpoint_dir = sys.argv[1:3]
    train, valid = open_dataset(folder + "/train.h5"), open_dataset(folder + "/valid.h5")
    params = dict({params!r}, data_parallel=True)

    def refused(expected, **changes):
        try:
            DeepSEAClassifier(**dict(params, **changes)).fit(train, validation_data=valid)
        except ValueError as e:
            assert expected in str(e), str(e)
        else:
            raise AssertionError(f"not refused: {{changes}}")

    refused("train with data_parallel=True", data_parallel=False)
    refused("batch_size=15 must be a multiple of 2", batch_size=15)
    refused("learning_rate (process 0: 0.05, process 1: 0.2)",
            learning_rate=0.05 if rank == 0 else 0.2)
    X, Y = np.asarray(train.X[:]), np.asarray(train.Y[:])
    X[0] = X[0, ::-1] if rank else X[0]
    try:
        DeepSEAClassifier(**params).fit(X, Y, validation_data=valid)
        raise AssertionError("different data accepted")
    except ValueError as e:
        assert "differ in X (process 0:" in str(e) and "; y (" not in str(e), str(e)

    # Test spies: who writes checkpoints; a fit slow enough to be killed mid-epoch.
    write = loop.write_checkpoint
    def spy(directory, meta, groups):
        with open(f"{{folder}}/writes{{rank}}.txt", "a") as f:
            print(meta["step"], file=f)
        write(directory, meta, groups)
    loop.write_checkpoint = spy
    original = batches.TrainBatches.batch
    def slow(self, step):
        time.sleep(0.1)
        return original(self, step)
    batches.TrainBatches.batch = slow
    DeepSEAClassifier(**params, checkpoint_dir=checkpoint_dir, checkpoint_every=5).fit(
        train, validation_data=valid)
    raise AssertionError("not killed")
""")


def _checkpoint_step(directory):
    try:
        checkpoint = read_checkpoint(directory)
    except ValueError:
        return None
    return None if checkpoint is None else checkpoint[0]["step"]


@pytest.fixture(scope="module")
def job(data, tmp_path_factory):
    """A two-process job killed mid-epoch (SIGKILL) and restarted, which resumes and ends.

    The first run is the Python API, with torchrun's variables; it is killed once a
    checkpoint of the second epoch exists. The restart is ``skdeepsea train`` with explicit
    flags, each process given its own ``--out``, the checkpoint folder shared.
    """
    tmp = tmp_path_factory.mktemp("mpjob")
    checkpoint_dir = tmp / "ck"
    start = time.monotonic()

    # 1. Kill process 1 (SIGKILL) once a checkpoint of the second epoch exists; JAX's runtime
    #    cannot take a process back, so the job is restarted whole: kill process 0 too.
    def second_epoch(processes):
        step = _checkpoint_step(checkpoint_dir)
        if step is not None and step > STEPS_PER_EPOCH:
            processes[1].send_signal(signal.SIGKILL)
            processes[0].send_signal(signal.SIGKILL)
            return True
        assert all(p.poll() is None for p in processes), "the fit ended before the kill"
        return False

    port = _free_port()
    command = [sys.executable, "-c", API.format(params=dict(PARAMS, alphabet="ATGC")),
               str(data), str(checkpoint_dir)]
    envs = [_environment(RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1",
                         MASTER_PORT=str(port)) for rank in (0, 1)]
    codes, _ = _run_all([command] * 2, tmp, "killed", envs=envs, until=second_epoch)
    assert codes == [-signal.SIGKILL] * 2
    killed_at = _checkpoint_step(checkpoint_dir)

    # 2. The restarted job: the command line, explicit flags.
    port = _free_port()
    options = ["--conv-filters", "4", "--dropout", "0.1", "--kernel-size", "5", "--pool-size",
               "2", "--fc-units", "4", "--optimizer", "sgd", "--learning-rate", "0.05",
               "--learning-rate-decay", "1e-3", "--batch-size", "16", "--epochs", "3",
               "--shuffle-buffer", "64", "--random-state", "3", "--verbose", "0",
               "--checkpoint-dir", str(checkpoint_dir), "--checkpoint-every", "5",
               "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
               "--coordinator-timeout", "120"]
    commands = [[sys.executable, "-m", "skdeepsea.cli", "train", str(data / "train.h5"),
                 "--valid", str(data / "valid.h5"), "--out", str(tmp / f"model{rank}.skdeepsea"),
                 "--process-id", str(rank), *options] for rank in (0, 1)]
    codes, outputs = _run_all(commands, tmp, "resumed", envs=[_environment()] * 2)
    assert codes == [0, 0]
    print(f"the two launches took {time.monotonic() - start:.0f} s")
    return dict(folder=tmp, killed_at=killed_at, outputs=outputs,
                checkpoint_files=sorted(os.listdir(checkpoint_dir)),
                writers=sorted(os.listdir(data)))


@JAX_ONLY
def test_two_processes_train_the_one_process_model(job, one_process):
    import skdeepsea

    model = skdeepsea.load(job["folder"] / "model0.skdeepsea")
    assert one_process.n_steps_ == TOTAL and len(model.history_["loss"]) == PARAMS["epochs"]
    difference = max(np.abs(a - b).max() for a, b in zip(model.model_.get_weights(),
                                                         one_process.model_.get_weights()))
    print(f"largest weight difference, two processes against one: {difference:.2g}")
    assert difference <= TOLERANCE
    # Validation: the whole set once (each process evaluates its half of every batch).
    np.testing.assert_allclose(model.history_["val_loss"], one_process.history_["val_loss"],
                               rtol=1e-5)
    # The interrupted epoch's training loss averages the steps after the restart only.
    losses, expected = model.history_["loss"], one_process.history_["loss"]
    np.testing.assert_allclose([losses[0], losses[2]], [expected[0], expected[2]], rtol=1e-5)


@JAX_ONLY
def test_a_killed_job_restarted_resumes_from_its_checkpoint(job):
    killed_at = job["killed_at"]
    assert STEPS_PER_EPOCH < killed_at < TOTAL and killed_at % STEPS_PER_EPOCH, killed_at
    assert job["checkpoint_files"] == ["checkpoint.npz"]  # no temporary file left behind
    checkpoint = job["folder"] / "ck" / "checkpoint.npz"
    assert f"Resuming the training saved in {checkpoint}" in job["outputs"][0]
    assert f"Trained {TOTAL} steps in 3 epochs" in job["outputs"][0]
    meta, _ = read_checkpoint(job["folder"] / "ck")
    assert meta["finished"] and meta["step"] == TOTAL


@JAX_ONLY
def test_only_process_0_writes(job, data):
    assert job["writers"] == ["train.h5", "valid.h5", "writes0.txt"]  # no writes1.txt
    steps = [int(line) for line in open(data / "writes0.txt")]
    assert steps[:5] == [5, 10, 15, 20, 24] and job["killed_at"] in steps
    assert sorted(os.listdir(job["folder"])) == [
        "ck", "killed0.log", "killed1.log", "model0.skdeepsea", "resumed0.log", "resumed1.log"]
    assert "Saved the model to" in job["outputs"][0]
    assert "Saved the model" not in job["outputs"][1]
    assert "Training data" not in job["outputs"][1]


@JAX_ONLY
def test_a_coordinator_that_does_not_answer_times_out():
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"coordinator 127\.0\.0\.1:\d+ \(process 0\) did not"):
        initialize(f"127.0.0.1:{_free_port()}", 2, 1, timeout=1.5)
    assert time.monotonic() - start < 10


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the JAX backend supports it")
def test_other_backends_are_told_that_multi_process_training_needs_jax():
    with pytest.raises(ValueError, match="needs the JAX backend"):
        initialize("127.0.0.1:1234", 2, 0)


def test_one_process_needs_no_runtime():
    assert initialize(num_processes=1, process_id=0)["num_processes"] == 1
    with pytest.raises(ValueError, match=r"process_id must be in \[0, 1\]"):
        initialize("127.0.0.1:1234", 2, 2)
    with pytest.raises(ValueError, match="number of processes and this process's id"):
        initialize(environ={})


def test_launcher_variables():
    torchrun = {"RANK": "3", "WORLD_SIZE": "8", "MASTER_ADDR": "node1", "MASTER_PORT": "29500"}
    assert cluster_from_environment(torchrun) == {
        "coordinator": "node1:29500", "num_processes": 8, "process_id": 3,
        "source": "torchrun"}
    # torchrun's own store listens on MASTER_PORT: the coordinator takes the next port.
    agent = dict(torchrun, TORCHELASTIC_USE_AGENT_STORE="True")
    assert cluster_from_environment(agent)["coordinator"] == "node1:29501"
    assert cluster_from_environment(dict(agent, JAX_COORDINATOR_PORT="4000"))[
        "coordinator"] == "node1:4000"
    slurm = {"SLURM_PROCID": "5", "SLURM_NTASKS": "6", "SLURM_JOB_ID": "4097",
             "SLURM_STEP_NODELIST": "gpu[007-009,012],cpu1"}
    assert cluster_from_environment(slurm) == {
        "coordinator": "gpu007:61441", "num_processes": 6, "process_id": 5, "source": "slurm"}
    for nodes, first in (("n1", "n1"), ("n1,n2", "n1"), ("a,b[1-2]", "a"), ("c[3,5]", "c3")):
        assert cluster_from_environment(dict(slurm, SLURM_STEP_NODELIST=nodes))[
            "coordinator"].split(":")[0] == first
    keras_variables = {"KERAS_DISTRIBUTION_JOB_ADDRESSES": "10.0.0.1:1234,10.0.0.2:2345",
                       "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
                       "KERAS_DISTRIBUTION_PROCESS_ID": "1"}
    assert cluster_from_environment(keras_variables) == {
        "coordinator": "10.0.0.1:1234", "num_processes": 2, "process_id": 1, "source": "keras"}
    assert cluster_from_environment({"PATH": "/bin"}) is None


@pytest.mark.parametrize("augment", [False, True])
def test_the_processes_shares_make_up_the_one_process_batch(augment):
    rng = np.random.default_rng(0)
    n = 53  # the last batch of a pass is partly padding, and one share all padding
    X = rng.integers(0, 2, (n, 6, 4)).astype(np.uint8)
    y = rng.integers(0, 2, (n, 2)).astype(np.float32)
    weight = rng.random(n).astype(np.float32)

    def source(share):
        return TrainBatches(X, y, weight, make_blocks(n, 8), batch_size=16, shuffle_buffer=16,
                            seed=4, augment=augment, share=share)

    whole = source(None)
    shares = [source(Share(i, 4)) for i in range(4)]
    try:
        for step in range(2 * whole.steps_per_pass):
            one = whole.batch(step)
            parts = [s.batch(step) for s in shares]
            for k in range(3):
                if augment and k == 0:
                    for key in ("sequence", "reverse"):
                        np.testing.assert_array_equal(
                            np.concatenate([p[0][key] for p in parts]), one[0][key])
                else:
                    np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), one[k])
        last = whole.batch(whole.steps_per_pass - 1)
        assert (last[2] > 0).sum() == (n * (2 if augment else 1)) % 16  # padding weighs nothing
    finally:
        for s in [whole, *shares]:
            s.close()


def test_validation_shares_cover_each_sample_once():
    X = np.arange(40 * 2 * 4, dtype=np.float32).reshape(40, 2, 4)
    y = np.arange(40, dtype=np.float32)[:, None]
    whole = OrderedBatches(X, 16, targets=y, pad=False, multiple=2, read_ahead=False)
    parts = [OrderedBatches(X, 16, targets=y, pad=False, multiple=2, read_ahead=False,
                            share=Share(i, 2)) for i in range(2)]
    seen = np.concatenate([p[b][1] for b in range(len(whole)) for p in parts]).ravel()
    assert sorted(seen) == list(range(40))
    assert [len(p[2][1]) for p in parts] == [4, 4]
