"""First-layer filters to PFMs, MEME files, logos, and recovery of planted motifs."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea.motifs import (
    FilterMotifs,
    filter_motifs,
    meme_text,
    motif_similarity,
    plot_filter_logos,
    plot_logo,
    read_meme,
    write_meme,
)

from .conftest import MOTIFS, SMALL, motif_data


class _Fitted:
    """Just what filter_motifs reads from a fitted DeepSEAClassifier."""

    def __init__(self, model, alphabet):
        self.model_, self.alphabet_ = model, alphabet


def _detector(site, alphabet, length=30):
    """A network whose first filter fires (activation 1) exactly on ``site``, the second never."""
    from skdeepsea.network import build_deepsea

    model = build_deepsea(length, 1, conv_filters=(2,), kernel_size=len(site), pool_size=2,
                          fc_units=2, dropout=(0.0,), seed=0)
    conv = model.get_layer("conv1")
    kernel = np.zeros((len(site), 4, 2), dtype=np.float32)
    kernel[np.arange(len(site)), [alphabet.index(b) for b in site], 0] = 1.0
    conv.set_weights([kernel, np.array([1.0 - len(site), -1.0], dtype=np.float32)])
    return _Fitted(model, alphabet)


def _sequences(n, length, site, rng):
    seqs = []
    for _ in range(n):
        seq = list(rng.choice(list("ACGT"), length))
        start = rng.integers(0, length - len(site) + 1)
        seq[start:start + len(site)] = site
        seqs.append("".join(seq))
    return seqs


@pytest.mark.parametrize("alphabet", ["ATGC", "AGCT"])
def test_filter_motifs_counts_exactly_the_windows_a_filter_fires_on(alphabet):
    rng = np.random.default_rng(0)
    seqs = _sequences(40, 30, "GATTACA", rng)
    X = OneHotDNA(alphabet=alphabet).fit_transform(seqs)
    motifs = filter_motifs(_detector("GATTACA", alphabet), X, batch_size=7)
    expected_sites = sum(
        sum(s[i:i + 7] == "GATTACA" for i in range(len(s) - 6)) for s in seqs)
    assert motifs.n_sites.tolist() == [expected_sites, 0]
    assert motifs.consensus() == ["GATTACA", "NNNNNNN"]
    pfm = motifs.frequencies()[0]   # columns A, C, G, T whatever the model's alphabet
    np.testing.assert_array_equal(pfm, np.eye(4)[["ACGT".index(b) for b in "GATTACA"]])
    np.testing.assert_allclose(motifs.frequencies()[1], 0.25)   # no sites: uniform
    np.testing.assert_allclose(motifs.max_activation, [1.0, 0.0])
    assert motifs.counts[0].sum(axis=1).tolist() == [expected_sites] * 7
    assert motifs.information_content()[1] == 0
    background = motifs.background_frequencies()
    np.testing.assert_allclose(background.sum(), 1.0)
    assert background.argmax() == "ACGT".index("A")   # GATTACA adds As to random DNA


def test_filter_motifs_reorders_a_onehot_array_of_another_alphabet():
    rng = np.random.default_rng(1)
    seqs = _sequences(12, 30, "GATTACA", rng)
    fitted = _detector("GATTACA", "ATGC")
    in_model_order = filter_motifs(fitted, OneHotDNA(alphabet="ATGC").fit_transform(seqs))
    other_order = filter_motifs(fitted, OneHotDNA(alphabet="TCAG").fit_transform(seqs))
    np.testing.assert_array_equal(in_model_order.counts, other_order.counts)
    np.testing.assert_allclose(in_model_order.background, other_order.background)


@settings(max_examples=8, deadline=None)
@given(batch_size=st.integers(1, 50), threshold=st.floats(0.05, 1.0))
def test_filter_motifs_does_not_depend_on_batching(batch_size, threshold):
    X = _DETECTOR_DATA
    whole = filter_motifs(_RANDOM_FILTERS, X, batch_size=50, threshold=threshold)
    batched = filter_motifs(_RANDOM_FILTERS, X, batch_size=batch_size, threshold=threshold)
    np.testing.assert_array_equal(whole.n_sites, batched.n_sites)
    np.testing.assert_allclose(whole.counts, batched.counts)
    # Every counted window adds one base per position.
    np.testing.assert_allclose(whole.counts.sum(axis=2), whole.n_sites[:, None] * np.ones(6))


def _random_filters():
    from skdeepsea.network import build_deepsea

    return _Fitted(build_deepsea(40, 2, conv_filters=(5,), kernel_size=6, pool_size=2,
                                 fc_units=3, dropout=(0.0,), seed=3), "ATGC")


_DETECTOR_DATA = OneHotDNA().fit_transform(
    ["".join(np.random.default_rng(2).choice(list("ACGT"), 40)) for _ in range(50)])
_RANDOM_FILTERS = _random_filters()


def test_filter_motifs_checks_its_input():
    with pytest.raises(ValueError, match="threshold"):
        filter_motifs(_RANDOM_FILTERS, _DETECTOR_DATA, threshold=0)
    with pytest.raises(ValueError, match="not fitted"):
        filter_motifs(DeepSEAClassifier(), _DETECTOR_DATA)
    with pytest.raises(ValueError, match="shape"):
        filter_motifs(_RANDOM_FILTERS, np.zeros((3, 40, 5), np.float32))


def test_write_meme_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    from skdeepsea import motifs as module

    path = tmp_path / "filters.meme"
    path.write_text("previous motifs")
    motifs = FilterMotifs(np.ones((1, 3, 4)), "ACGT", [4], [1.0], 0.5)

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "meme_text", broken)
    with pytest.raises(KeyboardInterrupt):
        write_meme(motifs, path)
    assert path.read_text() == "previous motifs"
    assert [p.name for p in tmp_path.iterdir()] == ["filters.meme"]
    monkeypatch.undo()
    write_meme(motifs, path)
    assert path.read_text().startswith("MEME version 4")
    assert [p.name for p in tmp_path.iterdir()] == ["filters.meme"]


def test_meme_file_reads_back_with_biopython(tmp_path):
    pytest.importorskip("Bio")
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 50, size=(3, 6, 4)).astype(float)
    counts[1] = 0   # a filter without sites is left out of the file
    n_sites = counts.sum(axis=2)[:, 0].astype(int)
    counts = counts / counts.sum(axis=2, keepdims=True).clip(1) * n_sites[:, None, None]
    motifs = FilterMotifs(counts, "ATGC", n_sites, [1.0, 0.0, 2.0], 0.5,
                          background=[0.3, 0.2, 0.2, 0.3])
    path = tmp_path / "filters.meme"
    assert write_meme(motifs, path) == 2
    text = path.read_text()
    assert text.startswith("MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n")
    assert "A 0.3000 C 0.3000 G 0.2000 T 0.2000" in text   # background reordered to A,C,G,T
    read = read_meme(path)
    assert list(read) == ["filter_0", "filter_2"]
    for name, i in (("filter_0", 0), ("filter_2", 2)):
        # Biopython rounds probability x nsites back to counts.
        np.testing.assert_allclose(read[name], motifs.frequencies()[i], atol=1 / n_sites[i])
    assert list(tmp_path.iterdir()) == [path]   # no temporary file left
    assert meme_text(motifs, min_sites=10**6).count("MOTIF") == 0


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(5, 12))
def test_motif_similarity_finds_a_motif_and_its_reverse_complement(seed, width):
    rng = np.random.default_rng(seed)
    pfm = rng.dirichlet(np.full(4, 0.3), size=width)
    assert motif_similarity(pfm, pfm)[0] == pytest.approx(1.0)
    flank = rng.dirichlet(np.ones(4), size=3)
    reference = np.vstack([flank, pfm[::-1, ::-1], flank])   # reverse complement, inside
    r, offset, strand = motif_similarity(pfm, reference)
    assert r >= 0.99
    assert (offset, strand) == (3, "-") or r == pytest.approx(1.0)


def test_motif_similarity_examples():
    assert motif_similarity("GATAAG", "GATAAG") == (1.0, 0, "+")
    assert motif_similarity("CTTATC", "GATAAG") == (1.0, 0, "-")
    assert motif_similarity("GATAAG", "CCGATAAGCC") == (1.0, 2, "+")
    assert motif_similarity("GATAAG", "TTTTTT")[0] < 0.5
    with pytest.raises(ValueError, match="consensus"):
        motif_similarity("GATXAG", "GATAAG")


def test_logos_are_figures():
    pytest.importorskip("logomaker")
    from matplotlib.figure import Figure

    figure = plot_logo(np.eye(4)[[2, 0, 3, 0]], title="GATA")
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    assert ax.get_title() == "GATA" and ax.get_ylim() == (0, 2)
    counts = np.zeros((5, 4, 4))
    counts[:, np.arange(4), 0] = 20
    motifs = FilterMotifs(counts, "ACGT", [20, 20, 5, 20, 0], [1.0] * 5, 0.5)
    figure = plot_filter_logos(motifs, n_top=3, n_columns=2)
    drawn = [ax for ax in figure.axes if ax.axison]
    assert len(drawn) == 3   # at most n_top, only filters with >= 10 sites
    assert all("AAAA" in ax.get_title() for ax in drawn)
    assert len([ax for ax in plot_filter_logos(motifs, ["filter_2"]).axes if ax.axison]) == 1
    with pytest.raises(ValueError, match="Unknown filter .nope."):
        plot_filter_logos(motifs, ["nope"])


def _consensus_probability(pfm, consensus):
    """Mean probability the PFM gives the consensus bases, best over offsets and strands."""
    columns = ["ACGT".index(base) for base in consensus]
    return max(
        p[offset + np.arange(len(consensus)), columns].mean()
        for p in (pfm, pfm[::-1, ::-1]) for offset in range(len(p) - len(consensus) + 1)
    )


def _recovered(motifs, planted):
    """Whether one filter's PFM is both shaped like the planted site and sharp on it."""
    return any(
        motif_similarity(pfm, planted, min_overlap=len(planted))[0] >= 0.9
        and _consensus_probability(pfm, planted) >= 0.7
        for pfm, sites in zip(motifs.frequencies(), motifs.n_sites) if sites > 0
    )


# Pooling by 4 after the first convolution makes its filters learn whole motifs (Koo & Eddy,
# PLoS Comput Biol 2019); with a pooling of 2 the second layer assembles them from pieces.
_MOTIF_NET = {**SMALL, "kernel_size": 8, "pool_size": 4, "batch_size": 64, "learning_rate": 0.02}


def test_planted_motifs_are_recovered():
    seqs, y = motif_data()
    X = OneHotDNA().fit_transform(seqs)
    motifs = filter_motifs(DeepSEAClassifier(**_MOTIF_NET).fit(X, y), X)
    # Measured: best Pearson 0.96-1.0 and consensus probability 0.78-0.97 over the backends.
    for planted in MOTIFS:
        assert _recovered(motifs, planted), (planted, motifs.summary())


def test_untrained_filters_do_not_match_the_planted_motifs():
    from skdeepsea.network import build_deepsea

    seqs, _ = motif_data()
    X = OneHotDNA().fit_transform(seqs)
    untrained = build_deepsea(60, 2, conv_filters=(16, 16), kernel_size=8, pool_size=4,
                              fc_units=16, dropout=(0.1, 0.1), seed=0)
    # Measured at most Pearson 0.78 and consensus probability 0.57.
    motifs = filter_motifs(untrained, X)
    assert not any(_recovered(motifs, planted) for planted in MOTIFS)


@pytest.mark.parametrize("content", [b"hello world\n", b"\xff\xfe garbage",
                                     b"MEME version 4\n\nALPHABET= ACGT\n\nMOTIF m1\n"
                                     b"letter-probability matrix: alength= 4 w= 2\n0.5 0.5 x 0\n"])
def test_read_meme_names_a_file_that_is_not_meme(tmp_path, content):
    pytest.importorskip("Bio")
    path = tmp_path / "filters.meme"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: not a MEME motif file \("):
        read_meme(path)
