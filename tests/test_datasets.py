"""Tests of skdeepsea.datasets: the built-in JASPAR motifs and make_chromatin_dataset."""

import re

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from skdeepsea.datasets import load_motifs, make_chromatin_dataset
from skdeepsea.datasets._motifs import JASPAR_MOTIFS

COMPLEMENT = str.maketrans("ACGT", "TGCA")

# Exact sites, long enough (16 bp) that random DNA practically never holds one
# by chance, and overlapping no copy of themselves or their reverse complement by
# more than 4 bp, so a planted site cannot make a second one with its neighbours.
SITE_A = "ACGTTGCAGGATCCTA"
SITE_B = "GATTACAGCTCAATGG"


def revcomp(sequence):
    return sequence.translate(COMPLEMENT)[::-1]


def exact(site):
    """The position frequency matrix that always yields ``site``."""
    return np.eye(4)[["ACGT".index(base) for base in site]]


def occurrences(sequence, site):
    """(start, strand) of every occurrence of ``site`` on either strand."""
    hits = [(m.start(), "+") for m in re.finditer(f"(?={site})", sequence)]
    return hits + [(m.start(), "-") for m in re.finditer(f"(?={revcomp(site)})", sequence)]


def one_hot_acgt(X):
    codes = np.frombuffer("".join(X).encode(), dtype=np.uint8).reshape(len(X), -1)
    lookup = np.zeros(256, dtype=np.intp)
    lookup[list(b"ACGT")] = [0, 1, 2, 3]
    return np.eye(4)[lookup[codes]]


def best_match(onehot, weights):
    """Best sum of per-position ``weights`` (length, 4) over windows of either strand, per row."""
    width = onehot.shape[1] - len(weights) + 1
    best = np.full(len(onehot), -np.inf)
    for matrix in (weights, weights[::-1, ::-1]):  # reverse complement in A,C,G,T order
        scores = sum(onehot[:, i : i + width] @ matrix[i] for i in range(len(weights)))
        best = np.maximum(best, scores.max(axis=1))
    return best


def best_score(onehot, pfm):
    """Best log-odds score (vs uniform DNA) of ``pfm`` on either strand, per row."""
    return best_match(onehot, np.log((pfm + 1e-3) / (1 + 4e-3) / 0.25))


# --- the built-in motifs -------------------------------------------------------------------

EXPECTED = {
    # name: (JASPAR ID, consensus = most frequent base at each position)
    "CTCF": ("MA0139.1", "TGGCCACCAGGGGGCGCTA"),
    "GATA1": ("MA0035.3", "TTCTTATCTGT"),
    "FOS": ("MA0476.1", "TGTGACTCATT"),
    "REST": ("MA0138.2", "TTCAGCACCATGGACAGCGCC"),
    "NRF1": ("MA0506.1", "GCGCCTGCGCA"),
}


def test_builtin_motifs_have_their_jaspar_ids_and_consensus():
    motifs = load_motifs()
    assert list(motifs) == list(EXPECTED)
    for name, (jaspar_id, consensus) in EXPECTED.items():
        got_id, pfm = motifs[name]
        assert got_id == jaspar_id
        assert pfm.shape == (len(consensus), 4)
        # The well-known consensus sites (CTCF's TGGCCACCAGGGGGCGCTA, REST's RE1,
        # the AP-1 TGAsTCA, GATA's AGATAA reversed) catch a mistyped or misordered count.
        assert "".join("ACGT"[i] for i in pfm.argmax(axis=1)) == consensus


def test_builtin_counts_are_consistent():
    for name, (_, counts) in JASPAR_MOTIFS.items():
        counts = np.array(counts)
        assert counts.dtype.kind == "i" and counts.shape[1] == 4 and (counts >= 0).all()
        sites = counts.sum(axis=1)
        if name in ("CTCF", "REST"):
            # JASPAR's ChIP-seq matrices lose a few sites at some positions.
            assert sites.min() >= 0.99 * sites.max(), name
        else:
            assert (sites == sites[0]).all(), name


def test_load_motifs_normalises_counts_and_returns_fresh_arrays():
    motifs = load_motifs()
    for name, (_, pfm) in motifs.items():
        counts = np.array(JASPAR_MOTIFS[name][1], dtype=float)
        np.testing.assert_allclose(pfm, counts / counts.sum(axis=1, keepdims=True))
        np.testing.assert_allclose(pfm.sum(axis=1), 1.0)
    motifs["CTCF"][1][:] = 0
    assert load_motifs()["CTCF"][1].sum() > 0


# --- make_chromatin_dataset ----------------------------------------------------------------


def test_shapes_dtypes_and_names():
    X, Y, target_names = make_chromatin_dataset(n_samples=30, random_state=0)
    assert X.shape == (30,) and X.dtype == object
    assert all(isinstance(x, str) and len(x) == 1000 and set(x) <= set("ACGT") for x in X)
    assert Y.shape == (30, 7) and Y.dtype == np.uint8 and set(np.unique(Y)) <= {0, 1}
    assert target_names == ["CTCF", "GATA1", "FOS", "REST", "NRF1", "CTCF+GATA1", "FOS+REST"]


def test_reproducible_with_random_state():
    X1, Y1, _ = make_chromatin_dataset(n_samples=20, sequence_length=300, random_state=7)
    X2, Y2, _ = make_chromatin_dataset(n_samples=20, sequence_length=300, random_state=7)
    X3, Y3, _ = make_chromatin_dataset(
        n_samples=20, sequence_length=300, random_state=np.random.RandomState(7)
    )
    X4, _, _ = make_chromatin_dataset(n_samples=20, sequence_length=300, random_state=8)
    assert list(X1) == list(X2) == list(X3)
    np.testing.assert_array_equal(Y1, Y2)
    np.testing.assert_array_equal(Y1, Y3)
    assert all(a != b for a, b in zip(X1, X4))


def test_pair_targets_are_and_of_single_targets():
    _, Y, names = make_chromatin_dataset(n_samples=400, random_state=0)
    np.testing.assert_array_equal(Y[:, 5], Y[:, 0] & Y[:, 1])
    np.testing.assert_array_equal(Y[:, 6], Y[:, 2] & Y[:, 3])
    assert Y[:, 5:].sum(axis=0).min() > 0

    _, Y_single, names_single = make_chromatin_dataset(
        n_samples=400, combinations=False, random_state=0
    )
    assert names_single == names[:5]
    np.testing.assert_array_equal(Y_single, Y[:, :5])

    motifs = {"A": exact(SITE_A), "B": exact(SITE_B), "C": exact(SITE_A[::-1])}
    _, Y, names = make_chromatin_dataset(n_samples=5, motifs=motifs, random_state=0)
    assert names == ["A", "B", "C", "A+B"] and Y.shape == (5, 4)


@pytest.mark.parametrize("probability", [0.0, 0.3, 1.0])
def test_motif_probability_sets_the_planting_rate(probability):
    _, Y, _ = make_chromatin_dataset(
        n_samples=2000, sequence_length=200, motif_probability=probability, random_state=0
    )
    np.testing.assert_allclose(Y[:, :5].mean(axis=0), probability, atol=0.04)


def test_custom_motifs_are_planted_once_inside_the_center_without_overlap():
    length, center = 301, 60
    X, Y, names = make_chromatin_dataset(
        n_samples=400, sequence_length=length, center_width=center,
        motifs={"A": exact(SITE_A), "B": exact(SITE_B)}, motif_probability=0.6, random_state=0,
    )
    assert names == ["A", "B", "A+B"]
    lo, hi = (length - center) // 2, (length - center) // 2 + center
    starts, strands = [], []
    for x, y in zip(X, Y):
        intervals = []
        for j, site in enumerate((SITE_A, SITE_B)):
            hits = occurrences(x, site)
            # Labelled motifs occur exactly once, unlabelled ones nowhere.
            assert len(hits) == y[j]
            for start, strand in hits:
                assert lo <= start and start + len(site) <= hi
                intervals.append((start, start + len(site)))
                starts.append(start)
                strands.append(strand)
        if len(intervals) == 2:
            (s1, e1), (s2, e2) = sorted(intervals)
            assert e1 <= s2
    # Both strands, and positions spread over the whole window.
    assert 0.4 < np.mean(np.array(strands) == "+") < 0.6
    assert min(starts) <= lo + 2 and max(starts) >= hi - len(SITE_A) - 2
    # A window exactly as wide as the two sites still takes both.
    X, Y, _ = make_chromatin_dataset(
        n_samples=20, sequence_length=length, center_width=len(SITE_A) + len(SITE_B),
        motifs={"A": exact(SITE_A), "B": exact(SITE_B)}, motif_probability=1.0, random_state=0,
    )
    assert Y.all()
    assert all(len(occurrences(x, SITE_A)) == len(occurrences(x, SITE_B)) == 1 for x in X)


def test_planted_sites_are_sampled_from_the_matrix():
    # Middle base A or G with equal probability: both variants must show up.
    pfm = exact(SITE_A)
    pfm[8] = [0.5, 0, 0.5, 0]
    variants = [SITE_A[:8] + base + SITE_A[9:] for base in "AG"]
    X, Y, _ = make_chromatin_dataset(
        n_samples=300, sequence_length=100, center_width=40, motifs={"A": pfm},
        motif_probability=1.0, random_state=0,
    )
    counts = [sum(len(occurrences(x, v)) for x in X) for v in variants]
    assert sum(counts) == 300
    assert 0.4 < counts[0] / 300 < 0.6


def test_builtin_motifs_are_planted_in_the_center_only():
    X, Y, names = make_chromatin_dataset(n_samples=600, random_state=0)
    onehot = one_hot_acgt(X)
    for j, (name, (_, pfm)) in enumerate(load_motifs().items()):
        positive = Y[:, j] == 1
        center = best_score(onehot[:, 400:600], pfm)
        flanks = np.maximum(best_score(onehot[:, :400], pfm), best_score(onehot[:, 600:], pfm))
        # The best match in the center tells positives apart (a random background
        # holds a strong site now and then); the flanks, untouched, do not.
        assert roc_auc_score(positive, center) > 0.95, name
        assert 0.4 < roc_auc_score(positive, flanks) < 0.6, name
        # Every positive holds a site the matrix can produce: no zero-count base.
        possible = best_match(onehot[positive, 400:600], (pfm > 0).astype(float))
        assert (possible == len(pfm)).all(), name


def test_one_hot_matches_onehotdna():
    from skdeepsea.preprocessing import OneHotDNA

    X, Y, _ = make_chromatin_dataset(n_samples=10, sequence_length=200, random_state=3)
    for alphabet in ("ATGC", "ACGT"):
        X_onehot, Y_onehot, _ = make_chromatin_dataset(
            n_samples=10, sequence_length=200, one_hot=True, alphabet=alphabet, random_state=3
        )
        expected = OneHotDNA(alphabet=alphabet).fit_transform(X)
        assert X_onehot.shape == (10, 200, 4) and X_onehot.dtype == np.float32
        np.testing.assert_array_equal(X_onehot, expected)
        np.testing.assert_array_equal(Y_onehot, Y)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_samples": 0}, r"^make_chromatin_dataset: n_samples must be in \[1, inf\], got 0\.$"),
        ({"n_samples": 2.5}, "^make_chromatin_dataset: n_samples must be an integer, got 2.5"),
        ({"sequence_length": 0}, r"sequence_length must be in \[1, inf\], got 0"),
        ({"center_width": True}, "center_width must be an integer, got True"),
        ({"sequence_length": 100, "center_width": 150}, "larger than sequence_length=100"),
        ({"center_width": 50}, "cannot hold the 5 motifs side by side: their total length is 73"),
        ({"motif_probability": 1.5}, r"motif_probability must be in \[0, 1\]"),
        ({"motif_probability": "high"}, "motif_probability must be a number, got 'high'"),
        ({"combinations": "yes"}, "combinations must be True or False"),
        ({"one_hot": 1}, "one_hot must be True or False"),
        ({"alphabet": "ACGU"}, "alphabet must be an order of the four bases"),
        ({"motifs": ["CTCF", "SP1"]}, r"Unknown motif name\(s\) \['SP1'\]"),
        ({"motifs": ["CTCF", "CTCF"]}, "must not repeat a name"),
        ({"motifs": []}, "at least one motif"),
        ({"motifs": "CTCF"}, "motifs must be None, a list of built-in motif names or a dict"),
        ({"motifs": [["CTCF"]]}, "motifs must be None, a list of built-in motif names or a dict"),
        ({"motifs": {"bad": [[1, 0, 0]]}}, r"shape \(length, 4\).*got shape \(1, 3\)"),
        ({"motifs": {"neg": [[-1, 1, 1, 1]]}}, "non-negative"),
        ({"motifs": {"empty": [[0, 0, 0, 0]]}}, "positive sum"),
        ({"motifs": {1: [[1, 0, 0, 0]]}}, "Motif names must be str"),
    ],
)
def test_invalid_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_chromatin_dataset(**kwargs)


def test_slots_put_each_motif_in_its_own_part_of_the_center():
    X, Y, _ = make_chromatin_dataset(
        200, sequence_length=300, center_width=100, placement="slots",
        motifs={"A": exact(SITE_A), "B": exact(SITE_B)}, combinations=False, random_state=1,
    )
    for x, y in zip(X, Y):
        for site, label, (low, high) in ((SITE_A, y[0], (100, 150)), (SITE_B, y[1], (150, 200))):
            hits = occurrences(x, site)
            assert len(hits) == label
            for start, _ in hits:
                assert low <= start and start + len(site) <= high


def test_anywhere_placement_mixes_the_motif_order():
    X, _, _ = make_chromatin_dataset(
        200, sequence_length=300, center_width=100, placement="anywhere", motif_probability=1.0,
        motifs={"A": exact(SITE_A), "B": exact(SITE_B)}, random_state=1,
    )
    a_first = [occurrences(x, SITE_A)[0][0] < occurrences(x, SITE_B)[0][0] for x in X]
    assert 0 < sum(a_first) < len(X)


def test_slots_too_narrow_for_a_motif_are_rejected():
    with pytest.raises(ValueError, match="slots"):
        make_chromatin_dataset(10, center_width=30, motifs={"A": exact(SITE_A), "B": exact("ACG")})
    with pytest.raises(ValueError, match="placement"):
        make_chromatin_dataset(10, placement="middle")


def test_consensus_sites_are_the_most_frequent_bases():
    motifs = load_motifs()
    X, Y, names = make_chromatin_dataset(50, sites="consensus", motif_probability=1.0, random_state=0)
    for name in ("CTCF", "REST"):
        consensus = "".join("ACGT"[i] for i in motifs[name][1].argmax(axis=1))
        assert all(occurrences(x[400:600], consensus) for x in X)
    with pytest.raises(ValueError, match="sites"):
        make_chromatin_dataset(10, sites="best")
