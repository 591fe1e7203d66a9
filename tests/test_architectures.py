"""The DeepSEA family behind one estimator: DeepSEA, Beluga and DanQ, and Beluga's weights.

Every architecture is trained tiny (a few filters, 40 bp) and goes through the
estimator's whole surface: predict, clone, grid search, save / load, variant
scoring and mutagenesis. Beluga's published layout is rebuilt in PyTorch with
random weights (shrunk sizes, the same key names) and imported.
"""

import hashlib
import os
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skdeepsea import DeepSEAClassifier, OneHotDNA, reverse_complement
from skdeepsea._architectures import ARCHITECTURES, SIZE_PARAMS, feature_length

from .conftest import motif_data

L = 40
TINY = {
    "deepsea": {"conv_filters": (4, 4), "kernel_size": 5, "pool_size": 2, "fc_units": 6,
                "dropout": (0.1, 0.1)},
    "beluga": {"conv_filters": (4, 4), "kernel_size": 3, "pool_size": 2, "fc_units": 6,
               "dropout": (0.1, 0.1)},
    "danq": {"conv_filters": (4,), "kernel_size": 5, "pool_size": 4, "lstm_units": 3,
             "fc_units": 6},
}
COMMON = {"optimizer": "adam", "learning_rate": 0.02, "batch_size": 32, "epochs": 4,
          "random_state": 0}


@pytest.fixture(scope="module")
def data():
    seqs, labels = motif_data(n=160, length=L, seed=1)
    return list(seqs), pd.DataFrame(labels, columns=["gata", "ap1"])


@pytest.fixture(scope="module")
def fitted(data):
    """One fitted pipeline per architecture, shared by the tests of this module."""
    seqs, y = data
    return {name: make_pipeline(OneHotDNA(), DeepSEAClassifier(architecture=name, **sizes,
                                                               **COMMON)).fit(seqs, y)
            for name, sizes in TINY.items()}


def test_sizes_left_at_none_take_the_architectures_defaults():
    from skdeepsea._engine.params import check_params, resolve_params

    for name, defaults in ARCHITECTURES.items():
        clf = DeepSEAClassifier(architecture=name)
        assert all(clf.get_params()[k] is None for k in SIZE_PARAMS)  # stored unchanged
        resolved = resolve_params(clf.get_params())
        assert {k: resolved[k] for k in SIZE_PARAMS} == defaults
        check_params(clf.get_params())
    given = resolve_params(DeepSEAClassifier(architecture="beluga", fc_units=7).get_params())
    assert given["fc_units"] == 7 and given["conv_filters"] == (320, 480, 640)
    # Dropout left at None follows the number of blocks given.
    deeper = resolve_params(DeepSEAClassifier(architecture="danq", conv_filters=(8, 8)).get_params())
    assert deeper["dropout"] == (0.2, 0.2, 0.5)
    check_params(deeper)
    # The published widths of the first dense layers.
    assert feature_length("beluga", 2000, 3, 8, 4) * 640 == 67840
    assert feature_length("danq", 1000, 1, 26, 13) * 2 * 320 == 48000


@pytest.mark.parametrize("params, match", [
    ({"architecture": "resnet"}, "architecture must be one of"),
    ({"architecture": "beluga", "lstm_units": 3}, "lstm_units is for architecture='danq'"),
    ({"architecture": "danq", "conv_filters": (4,), "dropout": (0.1,)}, r"dropout must be .* 2 "),
    ({"architecture": "danq", "lstm_units": 0}, "lstm_units must be in"),
])
def test_bad_architecture_parameters_are_named(params, match):
    from skdeepsea._engine.params import check_params, resolve_params

    with pytest.raises(ValueError, match=match):
        check_params(resolve_params(DeepSEAClassifier(**params).get_params()))


def test_danq_default_geometry_is_used_when_not_given(data):
    seqs, y = data
    clf = DeepSEAClassifier(architecture="danq", conv_filters=(3,), lstm_units=2, fc_units=4,
                            epochs=1, random_state=0)
    X = OneHotDNA().fit_transform(seqs[:40])
    clf.fit(X, y[:40])
    net = clf.model_
    assert net.get_layer("conv1").kernel.shape == (26, 4, 3)          # DanQ's width 26
    assert net.get_layer("pool1").get_config()["pool_size"] == (13,)  # and pooling 13
    assert net.get_layer("fc").kernel.shape == ((L - 25) // 13 * 4, 4)
    with pytest.raises(ValueError, match="too short"):
        clone(clf).fit(X[:, :30], y[:40])


@pytest.mark.parametrize("name", list(TINY))
def test_each_architecture_trains_predicts_clones_and_persists(fitted, data, tmp_path, name):
    seqs, _ = data
    pipe = fitted[name]
    clf = pipe[-1]
    assert clf.model_.name == name
    assert clf.history_["loss"][-1] < clf.history_["loss"][0]
    proba = pipe.predict_proba(seqs[:8])
    assert proba.shape == (8, 2) and np.all((proba >= 0) & (proba <= 1))
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and not hasattr(copy, "model_")

    clf.save(tmp_path / "m.skdeepsea")
    loaded = DeepSEAClassifier.load(tmp_path / "m.skdeepsea")
    assert loaded.architecture == name and loaded.get_params() == clf.get_params()
    assert loaded.model_.name == name
    X = OneHotDNA(alphabet=clf.alphabet_).fit_transform(seqs[:8])
    np.testing.assert_allclose(loaded.predict_proba(X), proba, atol=1e-6)
    unpickled = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(unpickled.predict_proba(X), proba, atol=1e-6)


def test_grid_search_over_architectures(data):
    seqs, y = data
    grid = [
        {"architecture": ["deepsea", "beluga"], "conv_filters": [(3, 3)],
         "dropout": [(0.1, 0.1)]},
        {"architecture": ["danq"], "conv_filters": [(3,)], "lstm_units": [2]},
    ]
    search = GridSearchCV(
        DeepSEAClassifier(kernel_size=3, pool_size=2, fc_units=4, epochs=1, batch_size=40,
                          random_state=0), grid, cv=2,
    ).fit(OneHotDNA().fit_transform(seqs[:80]), y[:80].to_numpy())
    tried = [p["architecture"] for p in search.cv_results_["params"]]
    assert tried == ["deepsea", "beluga", "danq"]
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_estimator_.model_.name == search.best_params_["architecture"]


def _write_fasta(path, records):
    with open(path, "w") as f:
        for name, seq in records:
            f.write(f">{name}\n")
            f.writelines(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60))
    return path


@pytest.mark.parametrize("name", list(TINY))
def test_variant_scores_are_the_windows_predictions(fitted, tmp_path, name):
    pytest.importorskip("pysam")
    from skdeepsea.variants import in_silico_mutagenesis, score_variants

    clf = fitted[name][-1]
    rng = np.random.default_rng(3)
    chrom = "".join(rng.choice(list("ACGT"), 400))
    genome = _write_fasta(tmp_path / "genome.fa", [("chr1", chrom)])
    positions = [150, 201]  # 1-based; windows (with the 50 bp flanks of indels) inside the contig
    alts = ["A" if chrom[p - 1] != "A" else "C" for p in positions]
    variants = pd.DataFrame({"chrom": "chr1", "pos": positions,
                             "ref": [chrom[p - 1] for p in positions], "alt": alts})
    out = score_variants(clf, variants, genome)
    assert out["scored"].all()
    centre = L // 2 - 1  # the variant's base in the model's window
    encoder = OneHotDNA(alphabet=clf.alphabet_).fit(["A"])
    for row, (pos, alt) in enumerate(zip(positions, alts)):
        start = pos - 1 - centre
        ref_window = chrom[start:start + L]
        alt_window = ref_window[:centre] + alt + ref_window[centre + 1:]
        p_ref, p_alt = clf.predict_proba(encoder.transform([ref_window, alt_window]))
        for t, target in enumerate(clf.target_names_):
            assert out[f"diff:{target}"][row] == pytest.approx(p_alt[t] - p_ref[t], abs=1e-5)

    # Mutagenesis (fast for DeepSEA and Beluga, naive for DanQ's LSTM) agrees with predict_proba.
    sequence = chrom[:L]
    result = in_silico_mutagenesis(clf, sequence, start=18, end=21)
    for i, p in enumerate(result.positions):
        for b, base in enumerate(result.bases):
            mutant = sequence[:p] + base + sequence[p + 1:]
            expected = clf.predict_proba(encoder.transform([mutant]))[0]
            np.testing.assert_allclose(result.proba[i, b], expected, atol=1e-5)


def test_train_command_and_motifs_for_another_architecture(fitted, data, tmp_path):
    import skdeepsea
    from skdeepsea.cli import main
    from skdeepsea.data import write_dataset
    from skdeepsea.motifs import filter_motifs

    seqs, y = data
    path = str(tmp_path / "train.h5")
    write_dataset(path, OneHotDNA(dtype="uint8").fit_transform(seqs[:64]), y[:64].to_numpy(),
                  target_names=list(y.columns))
    out = tmp_path / "danq.skdeepsea"
    assert main(["train", path, "--out", str(out), "--architecture", "danq", "--conv-filters", "3",
                 "--kernel-size", "5", "--pool-size", "4", "--lstm-units", "2", "--fc-units",
                 "4", "--epochs", "1", "--verbose", "0"]) == 0
    loaded = skdeepsea.load(out)
    assert loaded.architecture == "danq" and loaded.lstm_units == 2
    assert loaded.model_.get_layer("bilstm").output.shape == (None, (L - 4) // 4, 4)

    # First-layer motifs read Beluga's first convolution like DeepSEA's.
    clf = fitted["beluga"][-1]
    motifs = filter_motifs(clf, OneHotDNA(alphabet=clf.alphabet_).fit_transform(seqs[:32]))
    assert motifs.counts.shape == (4, 3, 4)


# ------------------------------------------------------------------ Beluga's published weights


def _torch_beluga(filters, width, fc_units, n_outputs, fc_inputs):
    """ExPecto's Beluga module (chromatin.py, Kipoi's DeepSEA/beluga) at any sizes: same keys."""
    torch = pytest.importorskip("torch")
    from torch import nn

    class Flatten(nn.Module):  # ExPecto's Lambda(lambda x: x.view(x.size(0), -1))
        def forward(self, x):
            return x.view(x.size(0), -1)

    def conv(n_in, n_out):
        return nn.Conv2d(n_in, n_out, (1, width))

    class Beluga(nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x)

    a, b, c = filters
    module = Beluga(nn.Sequential(
        nn.Sequential(
            conv(4, a), nn.ReLU(), conv(a, a), nn.ReLU(), nn.Dropout(0.2),
            nn.MaxPool2d((1, 4), (1, 4)),
            conv(a, b), nn.ReLU(), conv(b, b), nn.ReLU(), nn.Dropout(0.2),
            nn.MaxPool2d((1, 4), (1, 4)),
            conv(b, c), nn.ReLU(), conv(c, c), nn.ReLU(),
        ),
        nn.Sequential(
            nn.Dropout(0.5), Flatten(),
            nn.Sequential(nn.Identity(), nn.Linear(fc_inputs, fc_units)), nn.ReLU(),
            nn.Sequential(nn.Identity(), nn.Linear(fc_units, n_outputs)),
        ),
        nn.Sigmoid(),
    ))
    return module.eval(), torch


def _torch_predict(module, torch, X, alphabet):
    """The module's outputs for one-hot X (n, L, 4) in ``alphabet``: input (n, 4, 1, L) A,G,C,T."""
    from skdeepsea.preprocessing import channel_order

    x = np.asarray(X, dtype=np.float32)[..., channel_order(alphabet, "AGCT")]
    with torch.no_grad():
        return module(torch.from_numpy(x.transpose(0, 2, 1)[:, :, None, :].copy())).numpy()


def test_beluga_state_dict_imports_with_identical_outputs(tmp_path):
    from skdeepsea.pretrained import load_deepsea

    length, filters, width = 2000, (3, 4, 5), 8  # the published geometry, few filters
    positions = feature_length("beluga", length, 3, width, 4)
    module, torch = _torch_beluga(filters, width, 9, 4, positions * filters[-1])
    torch.manual_seed(0)
    for p in module.parameters():  # larger than the default init, so outputs spread over (0, 1)
        torch.nn.init.normal_(p, std=0.3)
    path = tmp_path / "beluga_small.pth"
    torch.save(module.state_dict(), path)
    assert {k.rsplit(".", 1)[0] for k in module.state_dict()} == {
        *(f"model.0.{i}" for i in (0, 2, 6, 8, 12, 14)), "model.1.2.1", "model.1.4.1"}
    names = tmp_path / "predictor_names.txt"
    names.write_text("".join(f"Cell{i}_DNase_None\n" for i in range(4)))

    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(6)]
    for alphabet in ("ATGC", "ACGT"):
        clf = load_deepsea(path, names, verify=False, alphabet=alphabet, strand="forward")
        assert clf.architecture == "beluga" and clf.model_.name == "beluga"
        assert clf.conv_filters == filters and clf.sequence_length_ == length
        assert list(clf.target_names_) == [f"Cell{i}_DNase_None" for i in range(4)]
        X = OneHotDNA(alphabet=alphabet).fit_transform(seqs)
        expected = _torch_predict(module, torch, X, alphabet)
        assert expected.std() > 0.05
        np.testing.assert_allclose(clf.predict_proba(X), expected, atol=1e-5)

    # Beluga: both strands, as ExPecto; Kipoi's predictor_names.txt found beside the weights.
    averaged = load_deepsea(path, verify=False)
    assert averaged.strand == "mean" and averaged.target_names_[3] == "Cell3_DNase_None"
    X = OneHotDNA().fit_transform(seqs)
    both = (_torch_predict(module, torch, X, "ATGC")
            + _torch_predict(module, torch, reverse_complement(X, alphabet="ATGC"), "ATGC")) / 2
    np.testing.assert_allclose(averaged.predict_proba(X), both, atol=1e-5)
    with pytest.raises(ValueError, match="pass the sequence_length"):
        load_deepsea(path, names, verify=False, sequence_length=1000)


def test_published_beluga_file_is_checked_by_md5(tmp_path):
    from skdeepsea.pretrained import KNOWN_FILES, load_deepsea

    assert KNOWN_FILES["deepsea.beluga.pth"]["md5"] == "62360f2db4ac96554d28d058b50ab654"
    fake = tmp_path / "deepsea.beluga.pth"
    fake.write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="62360f2db4ac96554d28d058b50ab654"):
        load_deepsea(fake)


@pytest.mark.skipif(not os.environ.get("SKDEEPSEA_BELUGA_WEIGHTS"),
                    reason="SKDEEPSEA_BELUGA_WEIGHTS does not name the published deepsea.beluga.pth")
def test_published_beluga_weights_golden():
    from skdeepsea.pretrained import load_deepsea

    path = os.environ["SKDEEPSEA_BELUGA_WEIGHTS"]
    with open(path, "rb") as f:
        assert hashlib.md5(f.read()).hexdigest() == "62360f2db4ac96554d28d058b50ab654"
    clf = load_deepsea(path, verify=True, strand="forward")
    assert clf.model_.get_layer("fc").kernel.shape == (67840, 2003)
    assert len(clf.target_names_) == 2002 and clf.sequence_length_ == 2000
    module, torch = _torch_beluga((320, 480, 640), 8, 2003, 2002, 67840)
    module.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    rng = np.random.default_rng(0)
    X = OneHotDNA().fit_transform(["".join(rng.choice(list("ACGT"), 2000)) for _ in range(4)])
    np.testing.assert_allclose(clf.predict_proba(X), _torch_predict(module, torch, X, "ATGC"),
                               atol=1e-5)
