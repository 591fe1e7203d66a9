import numpy as np
import pytest

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea.variants import in_silico_mutagenesis, plot_mutagenesis

from .conftest import SMALL, motif_data

LENGTH = 60


@pytest.fixture(scope="module")
def model():
    """Three convolutions, two poolings: the DeepSEA layout in miniature (briefly trained)."""
    seqs, y = motif_data(n=64, length=LENGTH)
    params = dict(SMALL, conv_filters=(8, 8, 8), dropout=(0.1, 0.1, 0.1), kernel_size=5,
                  pool_size=2, epochs=1)
    return DeepSEAClassifier(**params).fit(OneHotDNA().fit_transform(seqs), y)


@pytest.fixture(scope="module")
def sequence():
    return "".join(np.random.default_rng(4).choice(list("ACGT"), LENGTH))


def test_result_shapes_and_reference_entries(model, sequence):
    result = in_silico_mutagenesis(model, sequence, method="naive")
    assert result.proba.shape == (LENGTH, 4, 2)
    assert result.target_names == ["target_0", "target_1"]
    diff = result.score("diff")
    for p, base in enumerate(sequence):
        np.testing.assert_array_equal(diff[p, "ACGT".index(base)], 0)
    frame = result.to_frame()
    assert len(frame) == 3 * LENGTH * 2
    assert (frame["ref_base"] != frame["alt_base"]).all()


def test_naive_mutants_equal_predict_proba(model, sequence):
    result = in_silico_mutagenesis(model, sequence, method="naive")
    encoder = OneHotDNA().fit([sequence])
    np.testing.assert_allclose(result.reference,
                               model.predict_proba(encoder.transform([sequence]))[0], atol=1e-6)
    for p, base in [(0, "A"), (17, "C"), (LENGTH - 1, "G"), (33, "T")]:
        if sequence[p] == base:
            continue
        mutant = sequence[:p] + base + sequence[p + 1:]
        expected = model.predict_proba(encoder.transform([mutant]))[0]
        np.testing.assert_allclose(result.proba[p, "ACGT".index(base)], expected, atol=1e-6)


@pytest.mark.parametrize("strand", ["mean", "forward"])
@pytest.mark.parametrize("window", [(None, None), (0, 7), (41, 60)])
def test_fast_equals_naive(model, sequence, strand, window):
    start, end = window
    naive = in_silico_mutagenesis(model, sequence, start=start, end=end, strand=strand,
                                  method="naive")
    fast = in_silico_mutagenesis(model, sequence, start=start, end=end, strand=strand,
                                 method="fast", batch_size=16)
    np.testing.assert_array_equal(fast.positions, naive.positions)
    np.testing.assert_allclose(fast.proba, naive.proba, atol=1e-5, rtol=0)


def test_fast_handles_ambiguous_bases(model, sequence):
    with_n = sequence[:10] + "N" + sequence[11:]
    naive = in_silico_mutagenesis(model, with_n, start=5, end=15, method="naive")
    fast = in_silico_mutagenesis(model, with_n, start=5, end=15, method="fast")
    np.testing.assert_allclose(fast.proba, naive.proba, atol=1e-5)
    assert not np.allclose(naive.proba[5], naive.reference)  # N -> A is a change


def test_errors(model, sequence):
    with pytest.raises(ValueError, match="length 59"):
        in_silico_mutagenesis(model, sequence[:-1])
    with pytest.raises(ValueError, match="method must be"):
        in_silico_mutagenesis(model, sequence, method="quick")
    with pytest.raises(ValueError, match="start=5, end=5"):
        in_silico_mutagenesis(model, sequence, start=5, end=5)
    with pytest.raises(ValueError, match="in_silico_mutagenesis: batch_size must be"):
        in_silico_mutagenesis(model, sequence, batch_size=0)
    with pytest.raises(ValueError, match=r"in_silico_mutagenesis: epsilon must be .*got 0.7"):
        in_silico_mutagenesis(model, sequence, epsilon=0.7)


def test_heatmap(model, sequence):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    result = in_silico_mutagenesis(model, sequence, start=10, end=30, targets=["target_1"])
    ax = plot_mutagenesis(result, "target_1")
    image = ax.images[0]
    assert image.get_array().shape == (4, 20)
    np.testing.assert_allclose(image.get_array(), result.score("diff")[:, :, 0].T)
    assert ax.get_title() == "target_1: diff"
    assert [t.get_text() for t in ax.get_yticklabels()] == list("ACGT")
    with pytest.raises(ValueError, match="Unknown target"):
        plot_mutagenesis(result, "nope")
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("length, geometry, expected", [
    # 1000 bp: a mutant changes a small share of each layer -> propagate differences.
    (1000, {"conv_filters": (4, 4, 4), "kernel_size": 8, "pool_size": 4, "fc_units": 4}, True),
    # 40 bp through wide kernels: the change covers most of the stack -> full passes.
    (40, {"conv_filters": (64, 128, 256), "kernel_size": 8, "pool_size": 1, "fc_units": 4},
     False),
])
def test_auto_method_follows_the_cost_model(monkeypatch, length, geometry, expected):
    from skdeepsea.network import build_deepsea
    from skdeepsea.variants import _substitutions

    model = DeepSEAClassifier(batch_size=32)
    model.model_ = build_deepsea(length, 2, seed=0, dropout=(0, 0, 0), **geometry)
    model.target_type_, model.target_names_ = "multilabel-indicator", np.array(["a", "b"])
    model.classes_, model.sequence_length_ = np.arange(2), length
    model.n_features_in_, model.alphabet_ = 4 * length, OneHotDNA().alphabet
    network = _substitutions.substitution_network(model.model_, length)
    assert network.faster(np.arange(length)) is expected
    with monkeypatch.context() as patch:  # on a GPU the host-side differences would lag
        patch.setattr(_substitutions, "keras_on_accelerator", lambda: True)
        assert network.faster(np.arange(length)) is False
    calls = []
    original = _substitutions.SubstitutionNetwork.predict
    monkeypatch.setattr(_substitutions.SubstitutionNetwork, "predict",
                        lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    sequence = "".join(np.random.default_rng(1).choice(list("ACGT"), length))
    auto = in_silico_mutagenesis(model, sequence, start=length // 2 - 3, end=length // 2 + 3)
    assert bool(calls) is expected
    naive = in_silico_mutagenesis(model, sequence, start=length // 2 - 3, end=length // 2 + 3,
                                  method="naive")
    np.testing.assert_allclose(auto.proba, naive.proba, atol=1e-5)
    np.testing.assert_allclose(auto.score("logfc"), naive.score("logfc"), atol=1e-4)
