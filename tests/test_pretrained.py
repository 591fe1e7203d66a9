"""Importing the published DeepSEA weights: PyTorch state dicts and Torch7 files.

The real files are not needed: PyTorch modules in the model zoo's exact layout with random
weights are saved as state dicts (and as Torch7 files, written here in the format torchfile
reads), imported, and their predictions compared with PyTorch's. The golden test with the
published files runs when SKDEEPSEA_DEEPSEA_WEIGHTS names them (a file or a folder).
"""

import hashlib
import os
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skdeepsea
from skdeepsea import OneHotDNA
from skdeepsea.network import conv_output_length
from skdeepsea.pretrained import (
    KNOWN_FILES,
    load_deepsea,
    load_model_file,
    torch_threshold,
    verify_weights,
)
from skdeepsea.targets import target_classes

torch = pytest.importorskip("torch")
nn = torch.nn

WEIGHTS_ENV = "SKDEEPSEA_DEEPSEA_WEIGHTS"
REFERENCE_ENV = "SKDEEPSEA_DEEPSEA_REFERENCE"
SMALL_NET = {"conv": (6, 8, 10), "kernel": 8, "length": 200, "fc": 12, "outputs": 5}
FULL_NET = {"conv": (320, 480, 960), "kernel": 8, "length": 1000, "fc": 925, "outputs": 919}


# ------------------------------------------------------------------ the model zoo's layout


def deepsea_core(conv, kernel, length, fc, outputs, seed=0, floor=1e-6):
    """DeepSEA as the model zoo's torch.nn.Sequential (Conv2d at 0, 4, 8; Linear at 12.1, 14.1).

    Weights are the PyTorch defaults times 2.5, so activations keep their scale through the
    layers, about half the units are cut by the threshold, and the outputs spread over (0, 1).
    """
    torch.manual_seed(seed)
    act = (lambda: nn.Threshold(0, floor)) if floor else nn.ReLU
    positions = conv_output_length(length, 3, kernel, 4)
    core = nn.Sequential(
        nn.Conv2d(4, conv[0], (1, kernel)), act(), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(conv[0], conv[1], (1, kernel)), act(), nn.MaxPool2d((1, 4), (1, 4)),
        nn.Dropout(0.2),
        nn.Conv2d(conv[1], conv[2], (1, kernel)), act(), nn.Dropout(0.5),
        nn.Flatten(),
        nn.Sequential(nn.Identity(), nn.Linear(conv[2] * positions, fc)), act(),
        nn.Sequential(nn.Identity(), nn.Linear(fc, outputs)), nn.Sigmoid(),
    )
    with torch.no_grad():
        for module in core.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.mul_(2.5)
    return core.eval()


def save_state_dict(core, path, prefix_depth):
    """Save as the zoo does: "2." (predict: recode, concatenate RC, net, average), "1." or ""."""
    module = nn.Sequential(*([nn.Identity()] * prefix_depth), core) if prefix_depth else core
    torch.save(module.state_dict(), path)
    return path


def one_hot(n, length, alphabet="ATGC", seed=0):
    """Random one-hot sequences (n, length, 4) in ``alphabet`` order and as strings."""
    rng = np.random.default_rng(seed)
    sequences = ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]
    return OneHotDNA(alphabet=alphabet).fit_transform(sequences), sequences


def torch_reference(core, X, alphabet="ATGC", strand="mean"):
    """PyTorch's outputs for one-hot X (n, L, 4) in ``alphabet`` order: the zoo's computation."""
    agct = np.asarray(X)[:, :, [alphabet.index(b) for b in "AGCT"]]
    x = torch.tensor(np.ascontiguousarray(agct.transpose(0, 2, 1)[:, :, None, :]))
    with torch.no_grad():
        forward = core(x).numpy()
        if strand == "forward":
            return forward
        # In A,G,C,T order the complement is a flip of the base axis (as the zoo's ConcatenateRC).
        reverse = core(torch.flip(x, dims=[1, 3])).numpy()
    return forward / 2 + reverse / 2


def names_for(n):
    return [f"Cell{i}|TF{i}|None" for i in range(n)]


# ------------------------------------------------------------------ a Torch7 file writer


class T7Module:
    def __init__(self, typename, **fields):
        self.typename, self.fields = typename, fields


class Torch7Writer:
    """The binary Torch7 serialization (torch7 File.lua writeObject), as torchfile reads it.

    Every value is an int32 type tag then its data: numbers as float64; strings as int32
    length + bytes; tables and torch objects with an int32 reference index; a torch object
    with "V 1" and its class name, then (nn modules) the table of its fields or (tensors) int32
    ndim, int64 sizes, int64 strides, int64 1-based storage offset and the storage (int64 size
    and the raw little-endian values).
    """

    def __init__(self, f):
        self.f, self.index = f, 0

    def _int(self, value):
        self.f.write(struct.pack("<i", value))

    def _long(self, value):
        self.f.write(struct.pack("<q", value))

    def _string(self, text):
        data = text.encode()
        self._int(len(data))
        self.f.write(data)

    def _ref(self, tag):
        self.index += 1
        self._int(tag)
        self._int(self.index)

    def _torch_header(self, class_name):
        self._ref(4)
        self._string("V 1")
        self._string(class_name)

    def write(self, value):
        if value is None:
            self._int(0)
        elif isinstance(value, bool):
            self._int(5)
            self._int(int(value))
        elif isinstance(value, (int, float)):
            self._int(1)
            self.f.write(struct.pack("<d", float(value)))
        elif isinstance(value, str):
            self._int(2)
            self._string(value)
        elif isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value, dtype="<f4")
            self._torch_header("torch.FloatTensor")
            self._int(array.ndim)
            for size in array.shape:
                self._long(size)
            for stride in array.strides:
                self._long(stride // 4)
            self._long(1)
            self._torch_header("torch.FloatStorage")
            self._long(array.size)
            self.f.write(array.tobytes())
        elif isinstance(value, T7Module):
            self._torch_header(value.typename)
            self.write(value.fields)
        elif isinstance(value, list):
            self.write({i + 1: item for i, item in enumerate(value)})
        elif isinstance(value, dict):
            self._ref(3)
            self._int(len(value))
            for key, item in value.items():
                self.write(key)
                self.write(item)
        else:
            raise TypeError(type(value))


def save_torch7(core, path, floor=1e-6, height=True):
    """The Torch7 DeepSEA layout: input (N, 4, L, 1), width x 1 kernels, nested Sequentials.

    The first convolution is a SpatialConvolutionMM (2-D weight), the others
    SpatialConvolution (4-D weight (out, in, kH, 1)), so both encodings are read.
    """
    convs = [m for m in core.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in core.modules() if isinstance(m, nn.Linear)]

    def conv(m, mm):
        w = m.weight.detach().numpy()  # (out, in, 1, k): the same memory as (out, in, k, 1)
        n_out, n_in, _, k = w.shape
        kh, kw = (k, 1) if height else (1, k)
        weight = w.reshape(n_out, n_in * k) if mm else w.reshape(n_out, n_in, kh, kw)
        name = "nn.SpatialConvolutionMM" if mm else "nn.SpatialConvolution"
        return T7Module(name, nInputPlane=n_in, nOutputPlane=n_out, kW=kw, kH=kh, dW=1, dH=1,
                        padW=0, padH=0, weight=weight, bias=m.bias.detach().numpy(),
                        train=False)

    def act():
        return T7Module("nn.Threshold", threshold=0, val=floor, inplace=False)

    def pool():
        return T7Module("nn.SpatialMaxPooling", kW=1, kH=4, dW=1, dH=4)

    def linear(m):
        return T7Module("nn.Linear", weight=m.weight.detach().numpy(),
                        bias=m.bias.detach().numpy())

    features = T7Module("nn.Sequential", modules=[
        conv(convs[0], True), act(), pool(), T7Module("nn.Dropout", p=0.2),
        conv(convs[1], False), act(), pool(), T7Module("nn.Dropout", p=0.2),
        conv(convs[2], False), act(), T7Module("nn.Dropout", p=0.5),
    ])
    head = T7Module("nn.Sequential", modules=[
        T7Module("nn.Reshape", nelement=linears[0].in_features),
        linear(linears[0]), act(), linear(linears[1]), T7Module("nn.Sigmoid"),
    ])
    with open(path, "wb") as f:
        Torch7Writer(f).write(T7Module("nn.Sequential", modules=[features, head], train=False))
    return path


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small network in the zoo's layout, saved under each prefix and as Torch7."""
    folder = tmp_path_factory.mktemp("small")
    core = deepsea_core(**SMALL_NET)
    return {
        "core": core,
        "folder": folder,
        "predict": save_state_dict(core, folder / "predict.pth", 2),
        "veff": save_state_dict(core, folder / "veff.pth", 1),
        "bare": save_state_dict(core, folder / "bare.pth", 0),
        "t7": save_torch7(core, folder / "small.t7"),
    }


def load_small(path, **kwargs):
    kwargs.setdefault("verify", False)
    return load_deepsea(path, names_for(SMALL_NET["outputs"]),
                        sequence_length=SMALL_NET["length"], **kwargs)


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """The full-size network (52,843,119 parameters) as deepsea_predict's layout, imported once."""
    folder = tmp_path_factory.mktemp("full")
    core = deepsea_core(**FULL_NET)
    path = save_state_dict(core, folder / "weights.pth", 2)
    clf = load_deepsea(path, names_for(919), verify=False)
    os.unlink(path)
    return core, clf


# ------------------------------------------------------------------ full size


def test_full_size_matches_pytorch(full):
    core, clf = full
    assert clf.model_.count_params() == 52_843_119
    assert clf.model_.get_layer("fc").kernel.shape == (50_880, 925)
    X, _ = one_hot(3, 1000, seed=1)
    for strand in ("mean", "forward"):
        clf.set_params(strand=strand)
        expected = torch_reference(core, X, strand=strand)
        assert expected.std() > 0.1  # outputs spread: a wrong reordering could not hide
        np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-5, rtol=0)
    clf.set_params(strand="mean")


def test_full_size_relu_differs_from_threshold(full):
    # The 1e-6 floor matters for exactness: the 50,880-wide layer sums it over the dead units.
    _, clf = full
    X, _ = one_hot(2, 1000, seed=2)
    threshold = clf.predict_proba(X)
    relu = torch_reference(deepsea_core(**FULL_NET, floor=0), X)
    assert np.abs(threshold - relu).max() > 1e-7


# ------------------------------------------------------------------ small networks


@pytest.mark.parametrize("kind, averaged", [("predict", True), ("veff", False), ("bare", False),
                                            ("t7", True)])
def test_import_matches_pytorch(small, kind, averaged):
    clf = load_small(small[kind])
    assert (clf.strand == "mean") is averaged  # from the layout: "2." and Torch7 average
    X, _ = one_hot(8, SMALL_NET["length"], seed=3)
    for strand in ("mean", "forward"):
        clf.set_params(strand=strand)
        np.testing.assert_allclose(
            clf.predict_proba(X), torch_reference(small["core"], X, strand=strand),
            atol=1e-5, rtol=0,
        )


def test_fitted_state_as_fit_sets_it(small):
    clf = load_small(small["predict"])
    assert clf.target_type_ == "multilabel-indicator"
    assert clf.classes_.tolist() == list(range(5))
    assert clf.target_names_.tolist() == names_for(5)
    assert (clf.alphabet_, clf.alphabet) == ("ATGC", "ATGC")
    assert (clf.sequence_length_, clf.n_features_in_) == (200, 800)
    assert clf.conv_filters == (6, 8, 10) and clf.fc_units == 12 and clf.kernel_size == 8
    assert clf.history_ == {}
    X, _ = one_hot(4, 200, seed=4)
    assert clf.predict(X).shape == (4, 5)
    assert set(np.unique(clf.predict(X))) <= {0, 1}
    assert clf.predict_proba(X.reshape(4, -1)).shape == (4, 5)  # flattened input as fit's


def test_pipeline_on_strings(small):
    from sklearn.pipeline import make_pipeline

    clf = load_small(small["predict"])
    X, sequences = one_hot(5, 200, seed=5)
    pipe = make_pipeline(OneHotDNA().fit(sequences), clf)
    np.testing.assert_allclose(pipe.predict_proba(sequences), clf.predict_proba(X), atol=1e-6)


@settings(max_examples=4, deadline=None)
@given(st.permutations("ACGT"))
def test_any_alphabet_same_predictions(small, order):
    alphabet = "".join(order)
    clf = load_small(small["predict"], alphabet=alphabet)
    assert clf.alphabet_ == alphabet
    X, _ = one_hot(4, 200, alphabet=alphabet, seed=6)
    np.testing.assert_allclose(
        clf.predict_proba(X), torch_reference(small["core"], X, alphabet=alphabet), atol=1e-5
    )


def test_relu_option_is_plain_relu(small):
    clf = load_small(small["predict"], activation="relu")
    X, _ = one_hot(6, 200, seed=7)
    relu_core = deepsea_core(**SMALL_NET, floor=0)
    np.testing.assert_allclose(clf.predict_proba(X), torch_reference(relu_core, X), atol=1e-5)
    activations = {layer.get_config().get("activation") for layer in clf.model_.layers}
    assert "relu" in activations


def test_relu_torch7_file_imports_as_relu(tmp_path):
    relu_core = deepsea_core(**SMALL_NET, floor=0)
    clf = load_small(save_torch7(relu_core, tmp_path / "relu.t7", floor=0))
    X, _ = one_hot(3, 200, seed=8)
    np.testing.assert_allclose(clf.predict_proba(X), torch_reference(relu_core, X), atol=1e-5)


def test_torch7_one_by_width_kernels(tmp_path, small):
    # The same network over (N, 4, 1, L) inputs: 1 x 8 kernels hold the same numbers.
    clf = load_small(save_torch7(small["core"], tmp_path / "wide.t7", height=False))
    X, _ = one_hot(3, 200, seed=12)
    np.testing.assert_allclose(clf.predict_proba(X), torch_reference(small["core"], X), atol=1e-5)


def test_torch7_without_sigmoid(tmp_path, small):
    path = tmp_path / "logits.t7"
    save_torch7(small["core"], path)
    data = path.read_bytes()
    # Rename the last module: the output would no longer be a probability.
    path.write_bytes(data.replace(b"nn.Sigmoid", b"nn.Identit"))
    with pytest.raises(ValueError, match="not nn.Sigmoid"):
        load_small(path)


def test_torch_threshold_values():
    x = np.array([-2.0, -1e-9, 0.0, 1e-7, 3.0], dtype="float32")
    np.testing.assert_array_equal(
        np.asarray(torch_threshold(x)), np.array([1e-6, 1e-6, 1e-6, 1e-7, 3.0], dtype="float32")
    )


def test_save_load_round_trip_in_a_fresh_process(small, tmp_path):
    # The registered activation must load where nothing imported skdeepsea.pretrained first.
    clf = load_small(small["predict"])
    path = tmp_path / "imported.skdeepsea"
    clf.save(path)
    X, _ = one_hot(3, 200, seed=9)
    np.save(tmp_path / "X.npy", X)
    code = (
        "import numpy as np, sys, skdeepsea; "
        f"m = skdeepsea.load({str(path)!r}); "
        f"np.save({str(tmp_path / 'p.npy')!r}, m.predict_proba(np.load({str(tmp_path / 'X.npy')!r})))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ))
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), clf.predict_proba(X), atol=1e-6)


# ------------------------------------------------------------------ target names


def test_names_file_beside_the_weights(small, tmp_path):
    folder = tmp_path / "zoo"
    folder.mkdir()
    path = folder / "deepsea_predict.pth"
    path.write_bytes(small["predict"].read_bytes())
    (folder / "predictor.names").write_text("\n".join(names_for(5)) + "\n")
    clf = load_deepsea(path, sequence_length=200, verify=False)
    assert clf.target_names_.tolist() == names_for(5)
    (folder / "predictor.names").unlink()
    with pytest.warns(UserWarning, match="No target names"):
        clf = load_deepsea(path, sequence_length=200, verify=False)
    assert clf.target_names_.tolist() == [f"target_{i}" for i in range(5)]


def test_names_count_must_match(small, tmp_path):
    names = tmp_path / "predictor.names"
    names.write_text("\n".join(names_for(4)) + "\n")
    with pytest.raises(ValueError, match=r"predictor\.names has 4 names but .* 5 outputs"):
        load_deepsea(small["predict"], names, sequence_length=200, verify=False)
    with pytest.raises(ValueError, match="has 6 names"):
        load_deepsea(small["predict"], names_for(6), sequence_length=200, verify=False)


# ------------------------------------------------------------------ strand and its former name


def assert_same_estimator(a, b, X):
    assert a.get_params() == b.get_params()
    assert a.target_names_.tolist() == b.target_names_.tolist()
    for wa, wb in zip(a.model_.get_weights(), b.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("kind, old, strand", [("veff", True, "mean"), ("predict", False, "forward"),
                                               ("t7", False, "forward")])
def test_average_strands_warns_and_gives_the_same_estimator(small, kind, old, strand):
    with pytest.warns(FutureWarning, match=rf"average_strands={old} is deprecated.*"
                                           rf"strand='{strand}'"):
        former = load_small(small[kind], average_strands=old)
    current = load_small(small[kind], strand=strand)
    assert current.strand == strand  # not the file's own
    assert_same_estimator(former, current, one_hot(3, 200, seed=13)[0])


def test_average_strands_none_is_strand_none(small):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        former = load_small(small["predict"], average_strands=None)  # 0.1's default
    assert former.strand == load_small(small["predict"]).strand == "mean"


def test_strand_and_average_strands_together_are_refused(small):
    with pytest.raises(ValueError, match=r"average_strands=True is the former name of "
                                         r"strand='mean': give strand only"):
        load_small(small["predict"], strand="mean", average_strands=True)


@pytest.mark.parametrize("option, strand", [("--average-strands", "mean"),
                                            ("--no-average-strands", "forward")])
def test_import_weights_former_strand_options_warn(small, tmp_path, capsys, option, strand):
    from skdeepsea.cli import main

    names = tmp_path / "names.txt"
    names.write_text("\n".join(names_for(5)) + "\n")
    argv = ["import-weights", str(small["t7"] if strand == "forward" else small["veff"]),
            "--names", str(names), "--sequence-length", "200", "--no-verify", "--out"]
    with pytest.warns(FutureWarning, match=f"{option} is deprecated.*write --strand {strand}"):
        assert main([*argv, str(tmp_path / "old.skdeepsea"), option]) == 0
    assert main([*argv, str(tmp_path / "new.skdeepsea"), "--strand", strand]) == 0
    X, _ = one_hot(3, 200, seed=14)
    assert_same_estimator(skdeepsea.load(tmp_path / "old.skdeepsea"),
                          skdeepsea.load(tmp_path / "new.skdeepsea"), X)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["import-weights", "--help"])
    usage = capsys.readouterr().out
    assert "--strand" in usage and option not in usage  # the former spellings are hidden


# ------------------------------------------------------------------ verification


def md5_of(path):
    return hashlib.md5(open(path, "rb").read()).hexdigest()


def test_unknown_file_refused_with_the_way_out(small):
    with pytest.raises(ValueError, match=r"not a published DeepSEA weights file.*verify=False"):
        load_deepsea(small["predict"], names_for(5), sequence_length=200)


def test_known_table_by_name_and_renamed(small, tmp_path, monkeypatch):
    entry = dict(KNOWN_FILES["deepsea_variant_effects.pth"])
    entry.update(size=os.path.getsize(small["veff"]), md5=md5_of(small["veff"]))
    monkeypatch.setitem(KNOWN_FILES, "deepsea_variant_effects.pth", entry)
    named = tmp_path / "deepsea_variant_effects.pth"
    named.write_bytes(small["veff"].read_bytes())
    assert verify_weights(named) == "deepsea_variant_effects.pth"
    assert verify_weights(small["veff"]) == "deepsea_variant_effects.pth"  # renamed copy
    clf = load_deepsea(named, names_for(5), sequence_length=200)
    assert clf.strand == "forward"
    # Same name, other content: refused, naming the expected checksum.
    damaged = tmp_path / "other" / "deepsea_variant_effects.pth"
    damaged.parent.mkdir()
    damaged.write_bytes(small["predict"].read_bytes())
    with pytest.raises(ValueError, match=entry["md5"]):
        verify_weights(damaged)
    entry_size = dict(entry, size=entry["size"] + 1)
    monkeypatch.setitem(KNOWN_FILES, "deepsea_variant_effects.pth", entry_size)
    with pytest.raises(ValueError, match="size"):
        verify_weights(named)


def test_table_has_a_published_hash_per_file():
    for name, entry in KNOWN_FILES.items():
        assert entry["md5"] or entry["sha256"], name
        assert entry["format"] in ("pth", "t7")


def test_load_model_file_routes_weights_and_model_files(small, tmp_path, monkeypatch):
    named = tmp_path / "deepsea_predict.pth"
    named.write_bytes(small["predict"].read_bytes())
    entry = dict(KNOWN_FILES["deepsea_predict.pth"], md5=md5_of(named))
    monkeypatch.setitem(KNOWN_FILES, "deepsea_predict.pth", entry)
    # A weights file goes to load_deepsea with its defaults: verified, then 1000 bp expected.
    with pytest.raises(ValueError, match="sequences of length 1000"):
        load_model_file(named)
    path = tmp_path / "model.skdeepsea"
    load_deepsea(small["veff"], names_for(5), sequence_length=200, verify=False).save(path)
    loaded = load_model_file(path)
    assert loaded.target_names_.tolist() == names_for(5) and loaded.sequence_length_ == 200
    other = tmp_path / "notes.txt"
    other.write_text("not a model")
    with pytest.raises(ValueError, match="not a skdeepsea model file"):
        load_model_file(other)


def test_skdeepsea_load_and_cli_accept_weight_files(small, tmp_path, monkeypatch, capsys):
    from skdeepsea.cli import main

    named = tmp_path / "deepsea_predict.pth"
    named.write_bytes(small["predict"].read_bytes())
    (tmp_path / "predictor.names").write_text("\n".join(names_for(5)) + "\n")
    X, _ = one_hot(3, 200, seed=10)
    expected = torch_reference(small["core"], X)
    # skdeepsea.load: published files only (the checksum is checked), 1000 bp; so pretend.
    entry = dict(KNOWN_FILES["deepsea_predict.pth"], md5=md5_of(named))
    monkeypatch.setitem(KNOWN_FILES, "deepsea_predict.pth", entry)
    with pytest.raises(ValueError, match="sequences of length 1000"):
        skdeepsea.load(named)
    out = tmp_path / "out" / "model.skdeepsea"
    status = main(["import-weights", str(small["veff"]), "--names", str(tmp_path / "predictor.names"),
                   "--out", str(out), "--sequence-length", "200", "--no-verify",
                   "--strand", "mean"])
    assert status == 0
    assert "5 outputs" in capsys.readouterr().out
    clf = skdeepsea.load(out)
    assert clf.strand == "mean"
    np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-5)
    with pytest.raises(ValueError, match="verify=False"):
        main(["--debug", "import-weights", str(small["veff"]), "--out", str(out),
              "--sequence-length", "200"])


# ------------------------------------------------------------------ malformed input


def test_wrong_sequence_length(small):
    with pytest.raises(ValueError, match="first dense layer takes 30 inputs"):
        load_deepsea(small["predict"], names_for(5), sequence_length=1000, verify=False)


def test_not_the_layout(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"layer.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(ValueError, match="12.1.weight"):
        load_deepsea(path, verify=False)
    torch.save([torch.zeros(3)], path)
    with pytest.raises(ValueError, match="not a state dict"):
        load_deepsea(path, verify=False)
    path.write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="torch.load"):
        load_deepsea(path, verify=False)
    t7 = tmp_path / "broken.t7"
    t7.write_bytes(b"\x07\x00\x00\x00junk")
    with pytest.raises(ValueError, match="Torch7"):
        load_deepsea(t7, verify=False)
    unknown = tmp_path / "weights.bin"
    unknown.write_bytes(b"")
    with pytest.raises(ValueError, match="cannot tell the weights format"):
        load_deepsea(unknown, verify=False)
    with pytest.raises(FileNotFoundError):
        load_deepsea(tmp_path / "missing.pth")


def test_torch7_with_wrong_module_count(tmp_path):
    path = tmp_path / "short.t7"
    with open(path, "wb") as f:
        Torch7Writer(f).write(T7Module("nn.Sequential", modules=[
            T7Module("nn.Linear", weight=np.zeros((2, 3)), bias=np.zeros(2))]))
    with pytest.raises(ValueError, match="0 convolution.*1 linear"):
        load_deepsea(path, verify=False)


def test_missing_torch_is_a_clear_error(small, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match="needs PyTorch"):
        load_small(small["predict"])


def test_bad_options(small):
    with pytest.raises(ValueError, match="activation"):
        load_small(small["predict"], activation="gelu")
    with pytest.raises(ValueError, match="alphabet"):
        load_small(small["predict"], alphabet="ACGN")


# ------------------------------------------------------------------ golden: the published files


def _golden_files():
    location = os.environ.get(WEIGHTS_ENV)
    if not location:
        return []
    if os.path.isdir(location):
        return sorted(os.path.join(location, n) for n in KNOWN_FILES
                      if os.path.isfile(os.path.join(location, n)))
    return [location]


def _core_from_clf_source(path):
    """PyTorch DeepSEA holding the file's weights, read independently of skdeepsea."""
    core = deepsea_core(**FULL_NET)
    if path.endswith(".pth"):
        state = torch.load(path, map_location="cpu", weights_only=True)
        prefix = next(k[: -len("12.1.weight")] for k in state if k.endswith("12.1.weight"))
        core.load_state_dict({k[len(prefix):]: v for k, v in state.items()
                              if k.startswith(prefix)})
    else:
        import torchfile

        leaves = []

        def walk(obj):
            if isinstance(obj, torchfile.TorchObject):
                fields = obj._obj if isinstance(obj._obj, dict) else {}  # {} reads as []
                if fields.get(b"modules") is not None:
                    for m in fields[b"modules"]:
                        walk(m)
                elif fields.get(b"weight") is not None:
                    leaves.append(fields)
            elif isinstance(obj, dict) and b"model" in obj:
                walk(obj[b"model"])

        walk(torchfile.load(path))
        targets = [m for m in core.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        with torch.no_grad():
            for module, leaf in zip(targets, leaves):
                module.weight.copy_(torch.tensor(
                    np.asarray(leaf[b"weight"], np.float32).reshape(module.weight.shape)))
                module.bias.copy_(torch.tensor(np.asarray(leaf[b"bias"], np.float32)))
    return core.eval()


@pytest.mark.skipif(not _golden_files(), reason=(
    f"the published weights are not here: set {WEIGHTS_ENV} to deepsea_predict.pth, "
    "deepsea_variant_effects.pth or deepsea.cpu (or a folder holding them, with predictor.names)"
))
@pytest.mark.parametrize("path", _golden_files() or [None])
def test_golden_published_weights(path):
    name = verify_weights(path)  # the real file, byte for byte
    clf = load_deepsea(path)
    assert clf.model_.count_params() == 52_843_119 and len(clf.target_names_) == 919
    assert clf.strand == KNOWN_FILES[name]["strand"]
    if os.path.isfile(os.path.join(os.path.dirname(path), "predictor.names")):
        classes = target_classes(clf.target_names_)
        assert [int((classes == c).sum()) for c in ("DNase", "TF", "histone")] == [125, 690, 104]
    X, _ = one_hot(4, 1000, seed=11)
    np.testing.assert_allclose(
        clf.predict_proba(X),
        torch_reference(_core_from_clf_source(path), X, strand=clf.strand),
        atol=1e-5,
    )
    reference = os.environ.get(REFERENCE_ENV)
    if reference:  # an .npz of "sequences" (1000 bp strings) and "proba" from the original
        data = np.load(reference, allow_pickle=False)
        X = OneHotDNA().fit_transform([str(s) for s in data["sequences"]])
        np.testing.assert_allclose(clf.predict_proba(X), data["proba"], atol=1e-4)
