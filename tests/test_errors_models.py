"""Model files and the network: saved models load back, imported weights are checked, a warm
start keeps the network it was fitted with.

Each case is a mistake a user could make with a model file, an import or a warm start; it must
end in one clear error naming the file, the array or the parameter (or the documented handling),
with nothing written or changed. The command-line cases check the one line on stderr.
"""

import os
import re
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

import skdeepsea
from skdeepsea import DeepSEAClassifier
from skdeepsea._architectures import default_dropout, feature_length
from skdeepsea._atomic import TEMPORARY_PREFIX
from skdeepsea.cli import main
from skdeepsea.pretrained import is_danq_file, load_danq, load_deepsea, model_file_kind
from tests.test_errors import TINY, assert_one_line, random_dna

L = 40
DANQ = {"length": 50, "filters": 6, "width": 5, "pool": 3, "units": 4, "fc": 7, "outputs": 5}


@pytest.fixture(scope="module")
def data():
    X = skdeepsea.OneHotDNA(dtype="uint8").fit_transform(random_dna(32))
    y = np.random.default_rng(1).integers(0, 2, (32, 2))
    return np.asarray(X), y


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory):
    """A fitted estimator (optimizer state kept) and its saved file."""
    X, y = data
    model = DeepSEAClassifier(**TINY).fit(X, y)
    path = tmp_path_factory.mktemp("model") / "model.skdeepsea"
    model.save(path)
    return model, str(path)


# ------------------------------------------------------------------ weights files to import

def danq_arrays(seed=0):
    """DanQ's Keras 0.2 arrays, small: {"layer_k": [param_0, ...]} of the layers with weights."""
    rng = np.random.default_rng(seed)
    f, w, u, s = DANQ["filters"], DANQ["width"], DANQ["units"], DANQ

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.3).astype(np.float32)

    positions = (s["length"] - w + 1) // s["pool"]
    lstm = [normal(*shape) for _ in range(2) for _ in "icfo" for shape in ((f, u), (u, u), (u,))]
    return {"layer_0": [normal(f, 4, w, 1), normal(f)], "layer_3": lstm,
            "layer_6": [normal(positions * 2 * u, s["fc"]), normal(s["fc"])],
            "layer_8": [normal(s["fc"], s["outputs"]), normal(s["outputs"])]}


def write_danq(path, arrays):
    with h5py.File(path, "w") as f:
        f.attrs["nb_layers"] = 10
        for k in range(10):
            params = arrays.get(f"layer_{k}", [])
            group = f.create_group(f"layer_{k}")
            group.attrs["nb_params"] = len(params)
            for n, param in enumerate(params):
                group.create_dataset(f"param_{n}", data=param)
    return str(path)


def load_small_danq(path, **options):
    options = {"target_names": [f"t{i}" for i in range(DANQ["outputs"])],
               "sequence_length": DANQ["length"], "pool_size": DANQ["pool"], **options}
    return load_danq(path, **options)


_LAYOUTS = {"deepsea": ("0", "4", "8", "12.1", "14.1"),
            "beluga": tuple(f"model.0.{i}" for i in (0, 2, 6, 8, 12, 14))
            + ("model.1.2.1", "model.1.4.1")}
_LENGTHS = {"deepsea": 100, "beluga": 200}


def state_dict(architecture, seed=0):
    """A small DeepSEA or Beluga state dict (kernel 5, 4 filters, 6 units, 3 outputs)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(seed)
    *convs, fc, output = _LAYOUTS[architecture]
    positions = feature_length(architecture, _LENGTHS[architecture], 3, 5, 4)
    state, channels = {}, 4
    for key in convs:
        state[f"{key}.weight"], state[f"{key}.bias"] = torch.randn(4, channels, 1, 5), torch.zeros(4)
        channels = 4
    state[f"{fc}.weight"], state[f"{fc}.bias"] = torch.randn(6, 4 * positions), torch.zeros(6)
    state[f"{output}.weight"], state[f"{output}.bias"] = torch.randn(3, 6), torch.zeros(3)
    return state


def load_small_torch(path, architecture):
    return load_deepsea(path, ["a", "b", "c"], sequence_length=_LENGTHS[architecture],
                        verify=False)


# ------------------------------------------------------------------ files load back

SAVE_NAMES = ["model.hdf5", "model.h5", "model.pth", "model.pt", "deepsea.cpu", "model.t7",
              "model.keras", "model", "MODEL.HDF5"]


@pytest.mark.parametrize("name", SAVE_NAMES)
def test_a_saved_model_loads_back_whatever_its_name(fitted, data, tmp_path, name):
    model, _ = fitted
    path = tmp_path / name
    model.save(path)
    assert model_file_kind(path) == "skdeepsea"
    loaded = skdeepsea.load(path)
    np.testing.assert_allclose(loaded.predict_proba(data[0][:4]), model.predict_proba(data[0][:4]),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["weights.bin", "DanQ.weights", "DanQ_bestmodel.hdf5"])
def test_danq_weights_are_told_by_content_not_name(tmp_path, name):
    path = write_danq(tmp_path / name, danq_arrays())
    assert is_danq_file(path) and model_file_kind(path) == "danq"


@pytest.mark.parametrize("name", ["weights.bin", "weights.pth"])
def test_pytorch_weights_are_told_by_content(tmp_path, name):
    torch = pytest.importorskip("torch")
    torch.save(state_dict("deepsea"), tmp_path / name)
    assert model_file_kind(tmp_path / name) == "pth"
    assert load_small_torch(tmp_path / name, "deepsea").model_.count_params() > 0


@pytest.mark.parametrize("content, name, kind", [
    (b"plain text", "notes.txt", "unknown"), (b"plain text", "notes.hdf5", "unknown"),
    (b"plain text", "x.t7", "torch7"), (b"PK\x03\x04 cut", "cut.pth", "skdeepsea"),
])
def test_model_file_kinds(tmp_path, content, name, kind):
    (tmp_path / name).write_bytes(content)
    assert model_file_kind(tmp_path / name) == kind


def test_model_file_kind_names_a_missing_file_or_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="none.hdf5"):
        model_file_kind(tmp_path / "none.hdf5")
    with pytest.raises(IsADirectoryError, match="folder"):
        model_file_kind(tmp_path)


def test_a_text_file_named_hdf5_is_named_not_a_model(tmp_path):
    (tmp_path / "notes.hdf5").write_text("not a model\n")
    with pytest.raises(ValueError, match="notes.hdf5 is not a skdeepsea model file"):
        skdeepsea.load(tmp_path / "notes.hdf5")


def test_importers_refuse_a_skdeepsea_file_naming_the_way(fitted, tmp_path):
    _, path = fitted
    with pytest.raises(ValueError, match="is a skdeepsea model file.*skdeepsea.load"):
        load_deepsea(path, verify=False)
    with pytest.raises(ValueError, match="is a skdeepsea model file.*skdeepsea.load"):
        load_danq(path)


def test_load_deepsea_refuses_danq_weights_naming_load_danq(tmp_path):
    path = write_danq(tmp_path / "w.pth", danq_arrays())
    with pytest.raises(ValueError, match="HDF5 file: DanQ's weights are read by load_danq"):
        load_deepsea(path, verify=False)


@pytest.mark.parametrize("out", ["x.hdf5", "x.pth", "x.skdeepsea"])
def test_import_weights_output_loads_back_under_any_name(tmp_path, capsys, out):
    src = write_danq(tmp_path / "DanQ_small.hdf5", danq_arrays())
    (tmp_path / "predictor.names").write_text("".join(f"c{i}|TF{i}|None\n" for i in range(5)))
    assert main(["import-weights", src, "--out", str(tmp_path / out),
                               "--sequence-length", "50", "--pool-size", "3"]) == 0
    loaded = skdeepsea.load(tmp_path / out)
    assert loaded.architecture == "danq" and len(loaded.target_names_) == 5


# ------------------------------------------------------------------ NaN or inf in imported weights

DANQ_POISON = [("layer_0", 0, np.nan), ("layer_0", 1, np.inf), ("layer_3", 0, np.nan),
               ("layer_3", 13, -np.inf), ("layer_6", 0, np.nan), ("layer_8", 1, np.inf)]


@pytest.mark.parametrize("layer, param, value", DANQ_POISON)
def test_danq_weights_with_nan_or_inf_are_refused_naming_the_array(tmp_path, layer, param,
                                                                    value):
    arrays = danq_arrays()
    arrays[layer][param].flat[3 % arrays[layer][param].size] = value
    path = write_danq(tmp_path / "DanQ_bad.hdf5", arrays)
    with pytest.raises(ValueError, match=rf"DanQ_bad.hdf5: {layer}/param_{param} holds 1 NaN or "
                                         "infinite"):
        load_small_danq(path)


TORCH_POISON = [("deepsea", "0.weight"), ("deepsea", "8.bias"), ("deepsea", "12.1.weight"),
                ("deepsea", "14.1.bias"), ("beluga", "model.0.2.weight"),
                ("beluga", "model.0.14.bias"), ("beluga", "model.1.2.1.weight"),
                ("beluga", "model.1.4.1.weight")]


@pytest.mark.parametrize("architecture, key", TORCH_POISON)
def test_torch_weights_with_nan_or_inf_are_refused_naming_the_tensor(tmp_path, architecture,
                                                                      key):
    torch = pytest.importorskip("torch")
    state = state_dict(architecture)
    state[key].view(-1)[0] = float("nan") if "weight" in key else float("inf")
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match=rf"bad.pth: {key} holds 1 NaN or infinite"):
        load_small_torch(tmp_path / "bad.pth", architecture)


def test_torch7_weights_with_nan_are_refused_naming_the_module(tmp_path):
    pytest.importorskip("torchfile")
    pytest.importorskip("torch")
    from tests.test_pretrained import SMALL_NET, deepsea_core, save_torch7

    core = deepsea_core(**SMALL_NET)
    core[4].weight.data[0, 0, 0, 0] = float("nan")
    path = save_torch7(core, tmp_path / "bad.t7")
    with pytest.raises(ValueError, match=r"bad.t7: nn.SpatialConvolution.* weight holds 1 NaN"):
        load_deepsea(path, [f"c{i}|TF|None" for i in range(SMALL_NET["outputs"])],
                     sequence_length=SMALL_NET["length"], verify=False)


# ------------------------------------------------------------------ import options

@pytest.mark.parametrize("options, name", [
    ({"pool_size": 0}, "pool_size"), ({"pool_size": 2.5}, "pool_size"),
    ({"sequence_length": 0}, "sequence_length"), ({"sequence_length": "50"}, "sequence_length"),
    ({"backward_direction": "backward"}, "backward_direction"), ({"batch_size": 0}, "batch_size"),
    ({"strand": "both"}, r"^load_danq: strand must be one of \('mean', 'forward'\) or None, "
                         "got 'both'"),
    ({"strand": "mean", "average_strands": True}, "average_strands=True is the former name"),
])
def test_load_danq_options_are_named(tmp_path, options, name):
    path = write_danq(tmp_path / "DanQ_small.hdf5", danq_arrays())
    with pytest.raises(ValueError, match=name):
        load_small_danq(path, **options)


@pytest.mark.parametrize("options, name", [
    ({"sequence_length": 0}, "sequence_length"), ({"sequence_length": 99.5}, "sequence_length"),
    ({"batch_size": 0}, "batch_size"),
    ({"strand": "max"}, r"^load_deepsea: strand must be one of \('mean', 'forward'\) or None, "
                        "got 'max'"),
    ({"strand": "forward", "average_strands": False}, "average_strands=False is the former name"),
])
def test_load_deepsea_options_are_named(tmp_path, options, name):
    torch = pytest.importorskip("torch")
    torch.save(state_dict("deepsea"), tmp_path / "w.pth")
    with pytest.raises(ValueError, match=name):
        load_deepsea(tmp_path / "w.pth", ["a", "b", "c"], verify=False, **options)


@pytest.mark.parametrize("kind, option", [
    ("beluga", ["--pool-size", "13"]), ("deepsea", ["--pool-size", "4"]),
    ("beluga", ["--backward-direction", "reversed"]), ("danq", ["--relu"]),
])
def test_import_weights_refuses_options_of_another_format(tmp_path, capsys, kind, option):
    if kind == "danq":
        src = write_danq(tmp_path / "DanQ_small.hdf5", danq_arrays())
    else:
        torch = pytest.importorskip("torch")
        src = str(tmp_path / f"{kind}.pth")
        torch.save(state_dict(kind), src)
    out = tmp_path / "out.skdeepsea"
    argv = ["import-weights", src, "--out", str(out), *option]
    assert_one_line(argv + ([] if kind == "danq" else ["--no-verify"]), capsys, 1, option[0],
                    os.path.basename(src))
    assert not out.exists()


# ------------------------------------------------------------------ the shared build path

SMALL_DEEPSEA = {"architecture": "deepsea", "conv_filters": (6, 8, 10), "kernel_size": 8,
                 "pool_size": 4, "fc_units": 12, "dropout": (0.2, 0.2, 0.5)}
SMALL_DANQ = {"architecture": "danq", "conv_filters": (4,), "kernel_size": 5, "pool_size": 3,
              "lstm_units": 3, "fc_units": 6, "dropout": (0.2, 0.5)}


@pytest.mark.parametrize("params, length, layer, shapes, options", [
    (SMALL_DEEPSEA, 200, "conv1", [(8, 4, 7), (6,)], {}),
    (SMALL_DEEPSEA, 200, "output", [(12, 4), (5,)], {}),
    (SMALL_DANQ, 50, "lstm_backward", [(4, 12), (4, 12), (12,)],
     {"backward_direction": "forward"}),
    (SMALL_DANQ, 50, "bilstm.backward_layer", [(4, 12), (3, 12), (11,)], {}),
])
def test_build_path_refuses_a_weight_of_the_wrong_shape_naming_the_layer(params, length, layer,
                                                                          shapes, options):
    from skdeepsea.pretrained._build import fitted_estimator

    arrays = [np.zeros(shape, np.float32) for shape in shapes]
    with pytest.raises(ValueError, match=rf"w\.file: the weights for layer '{layer}' have shapes "
                                         rf"\[{re_shapes(shapes)}\]; the network .* expects"):
        fitted_estimator("w.file", params, length, [f"t{i}" for i in range(5)], {layer: arrays},
                         **options)


def re_shapes(shapes):
    return ", ".join(re.escape(str(shape)) for shape in shapes)


# ------------------------------------------------------------------ warm start

WARM_CHANGES = [
    ({"architecture": "danq", "lstm_units": 4, "dropout": (0.0, 0.0)}, "architecture"),
    ({"architecture": "beluga", "dropout": default_dropout("beluga", 1)}, "architecture"),
    ({"conv_filters": (8,)}, "conv_filters"),
    ({"kernel_size": 3}, "kernel_size"),
    ({"pool_size": 3}, "pool_size"),
    ({"fc_units": 8}, "fc_units"),
    ({"dropout": (0.3,)}, "dropout"),
    ({"max_kernel_norm": None}, "max_kernel_norm"),
    ({"max_kernel_norm": 2.0}, "max_kernel_norm"),
    ({"optimizer": "sgd"}, "optimizer"),
    ({"learning_rate": 0.5}, "learning_rate"),
    ({"learning_rate_decay": 1e-3}, "learning_rate_decay"),
]


@pytest.mark.parametrize("change, name", WARM_CHANGES, ids=[c[1] + str(i) for i, c in
                                                          enumerate(WARM_CHANGES)])
def test_warm_start_with_a_changed_network_names_the_parameter(fitted, data, change, name):
    model, _ = fitted
    X, y = data
    before = [w.copy() for w in model.model_.get_weights()]
    saved = model.get_params()
    model.set_params(warm_start=True, **change)
    try:
        with pytest.raises(ValueError, match=rf"warm_start=True .* but {name}=.*"
                                             r"warm_start=False") as error:
            model.fit(X, y)
    finally:
        model.set_params(**saved)
    assert repr(change[name]) in str(error.value)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.model_.get_weights()))


def test_warm_start_after_loading_checks_the_file_parameters(fitted, data):
    _, path = fitted
    model = skdeepsea.load(path).set_params(warm_start=True, conv_filters=(5,))
    with pytest.raises(ValueError, match=r"conv_filters=\(5,\) differs from the \(4,\)"):
        model.fit(*data)


def test_warm_start_of_imported_weights_checks_their_parameters(tmp_path, data):
    path = write_danq(tmp_path / "DanQ_small.hdf5", danq_arrays())
    model = load_small_danq(path).set_params(warm_start=True, lstm_units=8)
    with pytest.raises(ValueError, match="lstm_units=8 differs from the 4"):
        model.fit(*data)


def test_warm_start_without_optimizer_state_takes_the_new_optimizer(fitted, data):
    """Documented: a network loaded without its optimizer continues with a new one."""
    _, path = fitted
    model = skdeepsea.load(path).set_params(warm_start=True, learning_rate=0.001,
                                            optimizer="sgd")
    model.fit(*data)
    assert type(model.model_.optimizer).__name__ == "SGD"


def test_warm_start_keeps_training_parameters_free(fitted, data):
    """Documented: l2, epochs, batch size may change between warm-started fits."""
    model, _ = fitted
    saved = model.get_params()
    try:
        model.set_params(warm_start=True, l2=1e-4, batch_size=8, epochs=1).fit(*data)
    finally:
        model.set_params(**saved)


# ------------------------------------------------------------------ checkpoint folder

def test_checkpoint_dir_that_is_a_file_is_refused_before_the_fit(data, tmp_path):
    taken = tmp_path / "run"
    taken.write_text("mine")
    with pytest.raises(NotADirectoryError, match="checkpoint_dir .*run is a file"):
        DeepSEAClassifier(**TINY, checkpoint_dir=taken).fit(*data)
    assert taken.read_text() == "mine"


def test_train_checkpoint_dir_that_is_a_file_is_one_line(tmp_path, capsys):
    from skdeepsea.data import write_dataset

    X = skdeepsea.OneHotDNA(dtype="uint8").fit_transform(random_dna(16))
    write_dataset(tmp_path / "t.h5", X, np.eye(2, dtype=np.uint8)[np.arange(16) % 2])
    (tmp_path / "run").write_text("mine")
    assert_one_line(["train", str(tmp_path / "t.h5"), "--checkpoint-dir", str(tmp_path / "run"),
                     "--out", str(tmp_path / "m.skdeepsea")], capsys, 1, "run is a file")
    assert (tmp_path / "run").read_text() == "mine" and not (tmp_path / "m.skdeepsea").exists()


# ------------------------------------------------------------------ kill -9 during import-weights

def test_killed_import_weights_leaves_the_old_output_or_a_whole_new_one(tmp_path):
    arrays = danq_arrays()
    arrays["layer_6"][0] = np.tile(arrays["layer_6"][0], (1, 300))  # a bigger file to write
    arrays["layer_6"][1] = np.tile(arrays["layer_6"][1], 300)
    arrays["layer_8"][0] = np.tile(arrays["layer_8"][0], (300, 1))
    src = write_danq(tmp_path / "DanQ_big.hdf5", arrays)
    folder = tmp_path / "models"
    folder.mkdir()
    out = folder / "danq.hdf5"
    out.write_bytes(b"the previous model")
    args = [sys.executable, "-m", "skdeepsea", "import-weights", src, "--out", str(out),
            "--sequence-length", "50", "--pool-size", "3"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    try:
        while not any(n.startswith(TEMPORARY_PREFIX) for n in os.listdir(folder)):
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the write never started"
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    # Never half-written: the old file, or (had the rename come first) a whole new model.
    if out.read_bytes() != b"the previous model":
        assert skdeepsea.load(out).architecture == "danq"
    assert sorted(os.listdir(folder))[-1] == "danq.hdf5"

    # The next import replaces it with a model that loads back, and removes the leftover.
    assert main(args[3:]) == 0
    assert os.listdir(folder) == ["danq.hdf5"]
    assert skdeepsea.load(out).architecture == "danq"
