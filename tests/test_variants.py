import gzip
import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pysam = pytest.importorskip("pysam")

from skdeepsea import DeepSEAClassifier, OneHotDNA, reverse_complement  # noqa: E402
from skdeepsea.cli import main  # noqa: E402
from skdeepsea.genome import Genome  # noqa: E402
from skdeepsea.variants import (  # noqa: E402
    EValueTransformer,
    MalformedVariantError,
    ReadReport,
    effect_scores,
    predict_bed,
    predict_fasta,
    read_variant_scores,
    read_variants,
    score_variants,
    variant_windows,
    write_variant_scores,
)

from .conftest import SMALL  # noqa: E402

L = 40                      # the test model's window
CENTRE = L // 2 - 1         # the variant's first base in the window (499 for 1000 bp)
MOTIF = "GATAAG"            # target "gata": the motif covering the window's centre
OTHER = "TGACTCA"           # target "ap1": a motif elsewhere


def random_dna(rng, n):
    return "".join(rng.choice(list("ACGT"), n))


def planted_data(n=300, seed=0):
    """Windows of L bp; GATAAG covering index CENTRE in half, TGACTCA near the end in half."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for _ in range(n):
        seq = list(random_dna(rng, L))
        row = []
        for motif, first in ((MOTIF, CENTRE - 3), (OTHER, 28)):
            present = rng.random() < 0.5
            if present:
                start = first + int(rng.integers(-1, 2))
                seq[start:start + len(motif)] = motif
            row.append(int(present))
        seqs.append("".join(seq))
        labels.append(row)
    return seqs, pd.DataFrame(labels, columns=["gata", "ap1"])


@pytest.fixture(scope="module")
def model():
    seqs, y = planted_data()
    # Larger batches and fewer epochs than SMALL: a third of the steps (the torch backend's
    # per-step cost dominates this file's time), still enough to learn the motifs.
    params = dict(SMALL, batch_size=64, epochs=10)
    return DeepSEAClassifier(**params).fit(OneHotDNA().fit_transform(seqs), y)


CHROM1 = np.random.default_rng(7).choice(list("ACGT"), 400)
MOTIF_START = 200  # 0-based start of GATAAG in chr1
CHROM1[MOTIF_START:MOTIF_START + 6] = list(MOTIF)
CHROM1 = "".join(CHROM1)
CHROM2 = "".join(np.random.default_rng(8).choice(list("ACGT"), 150))


def write_fasta(path, records):
    with open(path, "w") as f:
        for name, seq in records:
            f.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                f.write(seq[i:i + 60] + "\n")
    return str(path)


@pytest.fixture
def genome_path(tmp_path):
    return write_fasta(tmp_path / "genome.fa", [("chr1", CHROM1), ("chr2", CHROM2)])


VCF_HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=1,length=400>\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
)


def write_vcf(path, rows, compress=None):
    text = VCF_HEADER + "".join("\t".join(map(str, r)) + "\t.\t.\t.\n" for r in rows)
    path = str(path)
    if compress == "gzip":
        with gzip.open(path, "wt") as f:
            f.write(text)
    elif compress == "bgzip":
        plain = path + ".plain"
        with open(plain, "w") as f:
            f.write(text)
        pysam.tabix_compress(plain, path, force=True)
    else:
        with open(path, "w") as f:
            f.write(text)
    return path


def snv(pos, alt, chrom="1", seq=CHROM1, id_="."):
    return (chrom, pos, id_, seq[pos - 1], alt)


# ---------------------------------------------------------------------------- windows


def deepsea_recipe(seq, pos, ref, alt, length):
    """DeepSEA v0.94 literally: 100 extra bases, allele at index length/2-1+50, centre crop."""
    padded = "N" * 1000 + seq + "N" * 1000
    first = pos - 1 - (length // 2 - 1) - 50 + 1000
    fetched = padded[first:first + length + 100]
    assert fetched[length // 2 - 1 + 50:][:len(ref)] == ref
    alt_seq = fetched[:length // 2 - 1 + 50] + alt + fetched[length // 2 - 1 + 50 + len(ref):]

    def crop(s):
        return s[int(np.floor((len(s) - length) / 2)):int(np.floor(len(s) - (len(s) - length) / 2))]

    return crop(fetched), crop(alt_seq)


def test_snv_window_puts_the_variant_at_index_499(genome_path):
    variants = pd.DataFrame({"chrom": ["chr1"], "pos": [201], "ref": [CHROM1[200]], "alt": ["T"]})
    with Genome(genome_path) as genome:
        ref, alt, info = variant_windows(genome, variants, 1000, contig_ends="pad")
    assert len(ref[0]) == len(alt[0]) == 1000
    assert ref[0][499] == CHROM1[200] and alt[0][499] == "T"
    assert ref[0][:499] == alt[0][:499] and ref[0][500:] == alt[0][500:]
    # 1-based pos 201 -> window = pos-499 .. pos+500 (1-based), N outside the 400 bp contig.
    expected = ("N" * 1000 + CHROM1 + "N" * 1000)[1000 + 200 - 499:1000 + 200 + 501]
    assert ref[0] == expected
    assert info["padded"][0] and info["scored"][0] and info["ref_match"][0] == 1


@settings(max_examples=60, deadline=None)
@given(pos=st.integers(1, 400), ref_len=st.integers(1, 30), alt=st.text("ACGT", min_size=1,
       max_size=30), length=st.sampled_from([40, 41, 1000]))
def test_windows_follow_the_deepsea_recipe(pos, ref_len, alt, length):
    ref = CHROM1[pos - 1:pos - 1 + ref_len]
    if len(ref) < ref_len:
        return
    variants = pd.DataFrame({"chrom": ["chr1"], "pos": [pos], "ref": [ref], "alt": [alt]})
    genome = _GENOME_FOR_PROPERTIES
    ref_w, alt_w, info = variant_windows(genome, variants, length, contig_ends="pad")
    assert info["scored"][0]
    assert (ref_w[0], alt_w[0]) == deepsea_recipe(CHROM1, pos, ref, alt, length)
    # By default, as DeepSEA: not scored when the L + 100 fetched bases leave the contig.
    inside = pos - 1 - (length // 2 - 1) - 50 >= 0 and pos - 1 - (length // 2 - 1) + length + 50 \
        <= len(CHROM1)
    ref_d, _, info = variant_windows(genome, variants, length)
    assert info["scored"][0] == inside and not info["padded"][0]
    assert ref_d[0] == (ref_w[0] if inside else "")


@pytest.fixture(scope="module", autouse=True)
def _property_genome(tmp_path_factory):
    global _GENOME_FOR_PROPERTIES
    path = write_fasta(tmp_path_factory.mktemp("g") / "g.fa", [("chr1", CHROM1)])
    _GENOME_FOR_PROPERTIES = Genome(path)
    yield
    _GENOME_FOR_PROPERTIES.close()


def test_indel_alt_window_shifts_by_half_the_length_change(genome_path):
    pos = 150
    ins = ("chr1", pos, CHROM1[pos - 1], CHROM1[pos - 1] + "AAAA")  # +4 bp
    dele = ("chr1", pos, CHROM1[pos - 1:pos + 4], CHROM1[pos - 1])  # -4 bp
    variants = pd.DataFrame([ins, dele], columns=["chrom", "pos", "ref", "alt"])
    with Genome(genome_path) as genome:
        ref_w, alt_w, _ = variant_windows(genome, variants, L)
    # Insertion: 2 more bases on the left are cropped away; the insert sits 2 bases left.
    assert alt_w[0][CENTRE - 2:CENTRE + 3] == CHROM1[pos - 1] + "AAAA"
    assert alt_w[0][:CENTRE - 2] == ref_w[0][2:CENTRE]
    # Deletion: the window gains 2 bases on the left.
    assert alt_w[1][CENTRE + 2] == CHROM1[pos - 1]
    assert alt_w[1][CENTRE + 3:] == CHROM1[pos + 4:pos + 4 + L - CENTRE - 3]


def test_indels_up_to_max_indel_length(genome_path, model):
    base = CHROM1[99]
    rows = [("1", 100, ".", base, base + "A" * 100),     # 100 bp insertion: scored
            ("1", 100, ".", base, base + "A" * 101),     # 101 bp: not scored
            ("1", 100, ".", CHROM1[99:200], base)]       # 100 bp deletion: scored
    variants = pd.DataFrame(rows, columns=["chrom", "pos", "id", "ref", "alt"])
    out = score_variants(model, variants, genome_path)
    assert out["scored"].tolist() == [True, False, True]
    assert "max_indel_length=100" in out["reason"][1]
    assert out["diff:gata"].isna().tolist() == [False, True, False]
    out = score_variants(model, variants, genome_path, max_indel_length=101)
    assert out["scored"].all()


# ---------------------------------------------------------------------------- checks


def test_ref_mismatch_is_reported_not_scored(genome_path, model):
    wrong = {"A": "C", "C": "G", "G": "T", "T": "A"}[CHROM1[119]]
    variants = pd.DataFrame({"chrom": ["1", "1"], "pos": [120, 121],
                             "ref": [wrong, CHROM1[120]], "alt": ["A", "A"]})
    out = score_variants(model, variants, genome_path)
    assert out["ref_match"].tolist() == [False, True]
    assert out["scored"].tolist() == [False, True]
    assert "does not match the genome" in out["reason"][0]
    assert np.isnan(out["ref:gata"][0])
    forced = score_variants(model, variants, genome_path, ref_mismatch="score")
    assert forced["scored"].all() and forced["ref_match"].tolist() == [False, True]
    with Genome(genome_path) as genome:
        ref_w, _, _ = variant_windows(genome, variants, L, ref_mismatch="score")
    assert ref_w[0][CENTRE] == wrong  # scored with the VCF's REF


def test_contig_names_and_missing_contigs(genome_path, model, tmp_path):
    vcf = write_vcf(tmp_path / "v.vcf", [snv(150, "A" if CHROM1[149] != "A" else "C"),
                                         ("chr1", 150, ".", CHROM1[149], "G"),
                                         ("chr9", 10, "rsX", "A", "C"),
                                         ("2", 75, ".", CHROM2[74], "N")])
    out = score_variants(model, vcf, genome_path)
    assert out["scored"].tolist()[:2] == [True, True]
    assert not out["scored"][2] and out["reason"][2] == "contig 'chr9' not in the genome"
    assert pd.isna(out["ref_match"][2])
    assert out["scored"][3]  # contig "2" found as chr2


def test_windows_leaving_the_contig_are_dropped_or_padded(genome_path, model):
    # L = 40: DeepSEA fetches L + 100 bases, pos - 69 .. pos + 70 (1-based).
    positions = [1, 25, 69, 70, 200, 330, 331, 400]
    variants = pd.DataFrame({"chrom": ["chr1"] * 8, "pos": positions,
                             "ref": [CHROM1[p - 1] for p in positions], "alt": ["N"] * 8})
    out = score_variants(model, variants, genome_path)
    inside = [False, False, False, True, True, True, False, False]
    assert out["scored"].tolist() == inside and not out["padded"].any()
    reason = "140 bp window leaves contig chr1 (contig_ends='skip')"
    assert set(out["reason"][~out["scored"]]) == {reason}
    assert out.loc[~out["scored"], "diff:gata"].isna().all()
    with Genome(genome_path) as genome:
        ref_w, _, info = variant_windows(genome, variants, L, contig_ends="pad")
    assert info["padded"].tolist() == [True, False, False, False, False, False, False, True]
    assert ref_w[0] == "N" * CENTRE + CHROM1[:L - CENTRE]
    assert ref_w[7] == CHROM1[399 - CENTRE:] + "N" * (L - CENTRE - 1)
    padded = score_variants(model, variants, genome_path, contig_ends="pad")
    assert padded["scored"].all() and padded["padded"].tolist() == info["padded"].tolist()
    scores = [c for c in out.columns if ":" in c]
    np.testing.assert_allclose(padded.loc[out["scored"], scores], out.loc[out["scored"], scores],
                               rtol=1e-5, atol=1e-6)
    past = pd.DataFrame({"chrom": ["chr1"], "pos": [401], "ref": ["A"], "alt": ["C"]})
    assert "past the end" in score_variants(model, past, genome_path)["reason"][0]
    with pytest.raises(ValueError, match="contig_ends must be one of"):
        score_variants(model, past, genome_path, contig_ends="wrap")


def test_multiallelic_records_give_one_row_per_allele(genome_path, model, tmp_path):
    ref = CHROM1[149]
    alts = [b for b in "ACGT" if b != ref]
    vcf = write_vcf(tmp_path / "m.vcf", [("1", 150, "rsM", ref, ",".join(alts))])
    out = score_variants(model, vcf, genome_path)
    assert out["alt"].tolist() == alts and (out["id"] == "rsM").all()
    assert (out["line"] == 4).all()
    for i, alt in enumerate(alts):
        single = score_variants(model, pd.DataFrame(
            {"chrom": ["1"], "pos": [150], "ref": [ref], "alt": [alt]}), genome_path)
        np.testing.assert_allclose(out.loc[i, "diff:gata"], single.loc[0, "diff:gata"],
                                   rtol=1e-5, atol=1e-7)


def test_symbolic_alleles_are_reported(genome_path, model, tmp_path):
    vcf = write_vcf(tmp_path / "s.vcf", [("1", 150, ".", CHROM1[149], "<DEL>"),
                                         ("1", 151, ".", CHROM1[150], "*")])
    out = score_variants(model, vcf, genome_path)
    assert not out["scored"].any()
    assert all("symbolic" in r for r in out["reason"])


# ---------------------------------------------------------------------------- scores


def deepsea_output(p_ref, p_alt, rc_ref, rc_alt):
    """DeepSEA v0.94's 3_h5ToOutput.py, transcribed: per row (forward and reverse-complement
    rows alike) logfc and diff without clipping, then each averaged over the two strands."""
    def log_odds(p):
        return np.log2(p / (1 - p + 1e-12))

    logfc = [log_odds(a) - log_odds(r) for r, a in ((p_ref, p_alt), (rc_ref, rc_alt))]
    diff = [p_alt - p_ref, rc_alt - rc_ref]
    mean_logfc, mean_diff = (logfc[0] + logfc[1]) / 2, (diff[0] + diff[1]) / 2
    return {"ref": (p_ref + rc_ref) / 2, "alt": (p_alt + rc_alt) / 2, "diff": mean_diff,
            "logfc": mean_logfc, "abs_diff": np.abs(mean_diff),
            "effect": np.abs(mean_diff * mean_logfc)}


def string_reverse_complement(seq):
    return seq.translate(str.maketrans("ACGTN", "TGCAN"))[::-1]


def random_network_model(seed, length, **geometry):
    """A classifier holding an untrained random network (no fitting: only its outputs matter)."""
    from skdeepsea.network import build_deepsea

    model = DeepSEAClassifier(batch_size=16)
    model.model_ = build_deepsea(length, 3, seed=seed, **geometry)
    model.target_type_ = "multilabel-indicator"
    model.target_names_ = np.array(["t0", "t1", "t2"])
    model.classes_ = np.arange(3)
    model.sequence_length_ = length
    model.n_features_in_ = 4 * length
    model.alphabet_ = OneHotDNA().alphabet  # the encoder's default, as the test encodes
    return model


NETWORKS = [  # (seed, length, geometry): two pools, and a pool before the first convolution
    (1, 40, {"conv_filters": (6, 8), "kernel_size": 5, "pool_size": 2, "fc_units": 7,
             "dropout": (0, 0)}),
    (2, 41, {"conv_filters": (5, 6, 7), "kernel_size": 3, "pool_size": 3, "fc_units": 4,
             "dropout": (0, 0, 0)}),
]


@pytest.mark.parametrize("seed, length, geometry", NETWORKS)
@pytest.mark.parametrize("method", ["naive", "fast", "device"])
def test_scores_follow_deepsea_output_formulas(genome_path, seed, length, geometry, method):
    """score_variants against DeepSEA's recipe (windows, drop at contig ends, both strands,
    per-strand logfc and diff, no clipping) on random networks."""
    model = random_network_model(seed, length, **geometry)
    rng = np.random.default_rng(seed)
    rows = [(int(p), CHROM1[int(p) - 1], str(rng.choice([b for b in "ACGTN"
                                                         if b != CHROM1[int(p) - 1]])))
            for p in rng.integers(1, 401, 25)]
    rows += [(150, CHROM1[149], CHROM1[149] + "GT"), (151, CHROM1[150:154], CHROM1[150]),
             (152, CHROM1[151:153], "TT")]  # insertion, deletion, two-base substitution
    variants = pd.DataFrame(rows, columns=["pos", "ref", "alt"]).assign(chrom="chr1")
    out = score_variants(model, variants, genome_path, method=method)
    net = model.model_
    for i, (pos, ref, alt) in enumerate(rows):
        first = pos - 1 - (length // 2 - 1) - 50
        if first < 0 or first + length + 100 > len(CHROM1):  # DeepSEA drops the variant
            assert not out["scored"][i] and out["diff:t0"].isna()[i]
            continue
        windows = deepsea_recipe(CHROM1, pos, ref, alt, length)
        windows += tuple(string_reverse_complement(w) for w in windows)
        p = np.asarray(net.predict(OneHotDNA().fit_transform(list(windows)), verbose=0),
                       dtype=np.float64)
        expected = deepsea_output(p[0], p[1], p[2], p[3])
        assert out["scored"][i]
        for score, values in expected.items():
            got = out.loc[i, [f"{score}:t{j}" for j in range(3)]].to_numpy(dtype=float)
            np.testing.assert_allclose(got, values, rtol=1e-4, atol=1e-6, err_msg=score)
    assert out["scored"].sum() >= 10


@pytest.mark.parametrize("products", ["numpy", "backend tiles"])
def test_fast_snv_scores_equal_full_passes(genome_path, monkeypatch, products):
    """The substitution path equals four full passes to 1e-5, every score and strand mode,
    with its products in NumPy, the dense layer's per position, or (the full-size
    network's way, on this small one) in the backend's tiles on JAX and TensorFlow, the
    dense layer's per strand."""
    from skdeepsea.variants import _products, _substitutions

    if products == "numpy":
        monkeypatch.setattr(_substitutions, "_REF_BLOCK", 4)  # references in several blocks
        chunk_size = 7
    else:  # blocks of 40 references: 20 SNVs per strand, over two tiles of 8 and a rest
        monkeypatch.setattr(_products, "_BACKEND_MIN_WEIGHTS", 0)
        monkeypatch.setattr(_products, "_TILE", 8)
        chunk_size = 20
    model = random_network_model(3, 40, conv_filters=(8, 8, 8), kernel_size=4, pool_size=2,
                                 fc_units=6, dropout=(0, 0, 0))
    rng = np.random.default_rng(5)
    positions = rng.integers(70, 331, 30)
    variants = pd.DataFrame({"chrom": "chr1", "pos": positions,
                             "ref": [CHROM1[p - 1] for p in positions],
                             "alt": [str(rng.choice(list("ACGTN"))) for _ in positions]})
    for strand in ("mean", "forward", "max"):
        naive = score_variants(model, variants, genome_path, strand=strand, method="naive")
        fast = score_variants(model, variants, genome_path, strand=strand, method="fast",
                              chunk_size=chunk_size)
        scores = [c for c in naive.columns if ":" in c]
        np.testing.assert_allclose(fast[scores], naive[scores], rtol=0, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(0, 40), tile=st.integers(1, 16), bounds=st.tuples(
    st.integers(0, 12), st.integers(1, 12)))
def test_matrix_product_equals_numpy(rows, tile, bounds):
    """A difference matrix's products over a row range, in consecutive blocks of rows,
    equal NumPy's, whatever the tile size and however many rows fall outside whole
    tiles."""
    from skdeepsea.variants import _products

    first, width = bounds
    stop = min(12, first + width)
    if stop <= first:
        first, stop = 0, 12
    rng = np.random.default_rng(rows * 100 + tile)
    matrix = _products.Matrix(rng.standard_normal((12, 5)))
    a = rng.standard_normal((rows, stop - first)).astype(np.float32)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_products, "_BACKEND_MIN_WEIGHTS", 0)
        patch.setattr(_products, "_TILE", tile)
        pieces = list(matrix.row_products(a, first, stop))
    ends = [0] + [r1 for _, r1, _ in pieces]
    assert [r0 for r0, _, _ in pieces] == ends[:-1] and ends[-1] == rows
    product = np.concatenate([p for _, _, p in pieces] + [np.empty((0, 5), np.float32)])
    assert product.dtype == np.float32 and product.shape == (rows, 5)
    np.testing.assert_allclose(product, a @ matrix.array[first:stop], rtol=1e-5, atol=1e-5)


def test_device_snv_path_equals_full_passes(genome_path, tmp_path, monkeypatch):
    """method="device" (alternatives and reverse complements made in the compiled step)
    equals four full passes to 1e-5: SNVs mixed with indels, several ALT alleles per line,
    N alleles, windows padded past a contig end; "auto" takes it on an accelerator."""
    from skdeepsea.variants import _scoring

    model = random_network_model(4, 40, conv_filters=(6, 8), kernel_size=5, pool_size=2,
                                 fc_units=7, dropout=(0, 0))
    rng = np.random.default_rng(6)
    rows = []
    for p in list(rng.integers(2, 399, 12)) + [3, 398]:  # the last two: windows padded
        ref = CHROM1[p - 1]
        alts = [b for b in "ACGTN" if b != ref]
        rows.append(("1", int(p), ".", ref, ",".join(rng.choice(alts, 2, replace=False))))
    rows += [("1", 150, ".", CHROM1[149], CHROM1[149] + "GT" + ",A"),
             ("1", 151, ".", CHROM1[150:154], CHROM1[150])]
    vcf = write_vcf(tmp_path / "mixed.vcf", rows)
    calls = []
    device = _scoring._device_snv_probabilities
    monkeypatch.setattr(_scoring, "_device_snv_probabilities",
                        lambda *a, **k: calls.append(len(a[2])) or device(*a, **k))
    for strand in ("max", "forward", "mean"):
        naive = score_variants(model, vcf, genome_path, strand=strand, method="naive",
                               contig_ends="pad")
        on_device = score_variants(model, vcf, genome_path, strand=strand, method="device",
                                   contig_ends="pad", batch_size=6, chunk_size=9)
        assert naive["scored"].sum() == len(naive) == 2 * len(rows) - 1  # the deletion: 1 ALT
        assert naive["padded"].sum() >= 4
        scores = [c for c in naive.columns if ":" in c]
        if strand == "max":
            # Where a target's effect is about 0 on both strands (ref and alt windows alike),
            # the strand "max" takes is float noise: compare only its effect there.
            for target in {c.split(":", 1)[1] for c in scores}:
                tie = naive[f"effect:{target}"].to_numpy() < 1e-6
                for frame in (naive, on_device):
                    frame.loc[tie, [f"{s}:{target}" for s in ("ref", "alt", "diff", "logfc",
                                                              "abs_diff")]] = np.nan
        np.testing.assert_allclose(on_device[scores], naive[scores], rtol=0, atol=1e-5)
    snvs = int(((naive["ref"].str.len() == 1) & (naive["alt"].str.len() == 1)).sum())
    assert sum(calls) == 3 * snvs  # every SNV on the device path, indels not
    monkeypatch.setattr(_scoring, "keras_on_accelerator", lambda: True)
    calls.clear()
    auto = score_variants(model, vcf, genome_path, contig_ends="pad")  # strand="mean"
    assert sum(calls) == snvs
    np.testing.assert_allclose(auto[scores], naive[scores], rtol=0, atol=1e-5)


def test_strand_mean_forward_and_max(genome_path, model):
    variants = pd.DataFrame({"chrom": ["chr1"] * 3, "pos": [203, 80, 300],
                             "ref": [CHROM1[202], CHROM1[79], CHROM1[299]],
                             "alt": ["C", "G", "T"]})
    with Genome(genome_path) as genome:
        ref_w, alt_w, _ = variant_windows(genome, variants, L)
    encoder = OneHotDNA().fit(ref_w)
    R, A = encoder.transform(ref_w), encoder.transform(alt_w)
    net = model.model_

    def proba(x):
        return np.asarray(net.predict(x, verbose=0), dtype=np.float64)

    fr, fa = proba(R), proba(A)
    rr, ra = proba(reverse_complement(R)), proba(reverse_complement(A))
    mean = score_variants(model, variants, genome_path)
    forward = score_variants(model, variants, genome_path, strand="forward")
    best = score_variants(model, variants, genome_path, strand="max")
    names = ["gata", "ap1"]

    def cols(score):
        return [f"{score}:{t}" for t in names]

    # The mean strand's probabilities are those of predict_proba (strand="mean").
    np.testing.assert_allclose(mean[cols("ref")], model.predict_proba(R), atol=1e-5)
    expected = deepsea_output(fr, fa, rr, ra)
    for score in ("ref", "alt", "diff", "logfc", "effect", "abs_diff"):
        np.testing.assert_allclose(mean[cols(score)], expected[score], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(forward[cols("diff")], fa - fr, atol=1e-5)
    fwd_effect, rc_effect = effect_scores(fr, fa)["effect"], effect_scores(rr, ra)["effect"]
    np.testing.assert_allclose(best[cols("effect")], np.maximum(fwd_effect, rc_effect), atol=1e-5)
    np.testing.assert_allclose(
        best[cols("diff")], np.where(rc_effect > fwd_effect, ra - rr, fa - fr), atol=1e-5)


def test_strand_mean_averages_logfc_not_probabilities():
    # The example: forward 0.2 -> 0.6, reverse 0.01 -> 0.011. DeepSEA averages
    # the two strands' logfc (1.36); the log odds of the averaged probabilities give 1.91.
    from skdeepsea.variants._scoring import strand_scores

    s = strand_scores(np.array([0.2]), np.array([0.6]), np.array([0.01]), np.array([0.011]))
    assert round(float(s["logfc"][0]), 2) == 1.36
    np.testing.assert_allclose(s["ref"], [0.105]) and np.testing.assert_allclose(s["alt"], [0.3055])
    np.testing.assert_allclose(s["effect"], np.abs(s["diff"] * s["logfc"]))


def test_logfc_is_not_clipped_by_default():
    # 1e-8 -> 1e-7: logfc 3.32 in DeepSEA; clipping at 1e-6 would make it 0.
    s = effect_scores(np.array([1e-8]), np.array([1e-7]))
    assert round(float(s["logfc"][0]), 2) == 3.32
    assert effect_scores(np.array([1e-8]), np.array([1e-7]), epsilon=1e-6)["logfc"][0] == 0
    assert effect_scores(np.array([0.0]), np.array([0.5]))["logfc"][0] == np.inf


@settings(max_examples=100, deadline=None)
@given(p=st.lists(st.floats(1e-300, 1), min_size=2, max_size=2),
       epsilon=st.sampled_from([None, 1e-6]))
def test_effect_scores_are_finite_and_antisymmetric(p, epsilon):
    a, b = np.array([p[0]]), np.array([p[1]])
    s, t = effect_scores(a, b, epsilon), effect_scores(b, a, epsilon)
    assert np.isfinite(s["logfc"]).all() and np.isfinite(s["effect"]).all()
    np.testing.assert_allclose(s["diff"], -t["diff"])
    np.testing.assert_allclose(s["logfc"], -t["logfc"])
    assert s["effect"][0] >= 0 and np.sign(s["logfc"][0]) * np.sign(s["diff"][0]) >= 0


def test_target_subset(genome_path, model):
    variants = pd.DataFrame({"chrom": ["chr1"], "pos": [203], "ref": [CHROM1[202]],
                             "alt": ["C"]})
    full = score_variants(model, variants, genome_path)
    sub = score_variants(model, variants, genome_path, targets=["ap1"], scores=("diff",))
    assert [c for c in sub.columns if ":" in c] == ["diff:ap1"]
    np.testing.assert_allclose(sub["diff:ap1"], full["diff:ap1"], atol=1e-6)
    with pytest.raises(ValueError, match="Unknown target 'ctcf'"):
        score_variants(model, variants, genome_path, targets=["ctcf"])


def test_breaking_the_planted_motif_changes_its_target_most(genome_path, model):
    """GATAAG at chr1:201-206; T->G at its third base breaks it; far SNVs are background."""
    motif_t = MOTIF_START + 3  # 1-based position of the T of GATAAG
    assert CHROM1[motif_t - 1] == "T"
    background = [p for p in range(60, 340, 7) if abs(p - motif_t) > L]
    rows = [("chr1", motif_t, "break", "T", "G")] + [
        ("chr1", p, "bg", CHROM1[p - 1], "C" if CHROM1[p - 1] != "C" else "A") for p in background]
    out = score_variants(model, pd.DataFrame(rows, columns=["chrom", "pos", "id", "ref", "alt"]),
                         genome_path)
    breaking = out["diff:gata"][0]
    assert out["ref:gata"][0] > 0.5 > out["alt:gata"][0]
    assert breaking < 0
    background_diffs = out["abs_diff:gata"][1:]
    assert abs(breaking) > background_diffs.max()
    assert abs(breaking) > 5 * background_diffs.median()
    # The other target hardly moves.
    assert abs(out["diff:ap1"][0]) < abs(breaking) / 3


# ---------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("compress", [None, "gzip", "bgzip"])
def test_vcf_plain_gzip_and_bgzip_read_alike(tmp_path, compress):
    rows = [snv(10, "A"), ("chr2", 5, "rs2", "C", "G,T"), snv(11, "C")]
    name = {None: "v.vcf", "gzip": "v.vcf.gz", "bgzip": "v.vcf.bgz"}[compress]
    path = write_vcf(tmp_path / name, rows, compress)
    frame = pd.concat(read_variants(path, chunk_size=2))
    assert frame["chrom"].tolist() == ["1", "chr2", "chr2", "1"]
    assert frame["alt"].tolist() == ["A", "G", "T", "C"]
    assert frame["id"].tolist() == [".", "rs2", "rs2", "."]
    assert frame["line"].tolist() == [4, 5, 5, 6]


def test_malformed_vcf_lines(tmp_path):
    path = tmp_path / "bad.vcf"
    path.write_text(VCF_HEADER + "1\t10\t.\tA\tC\t.\t.\t.\n"
                    "1\tten\t.\tA\tC\t.\t.\t.\n"
                    "1\t12\t.\tA\tG\t.\t.\t.\n"
                    "\n"  # blank lines are skipped silently
                    "1\t14\t.\tA\n"
                    "1\t15\t.\tA\tT\t.\t.\t.\n\n")
    with pytest.raises(MalformedVariantError, match=r"line 5.*'1\\tten"):
        list(read_variants(path))
    report = ReadReport()
    frame = pd.concat(read_variants(path, on_malformed="skip", report=report))
    assert frame["pos"].tolist() == [10, 12, 15] and frame["line"].tolist() == [4, 6, 9]
    assert report.malformed == 2 and report.malformed_lines == [5, 8]


def test_tables_and_dataframes(tmp_path):
    table = tmp_path / "v.tsv"
    table.write_text("CHROM\tPOS\tID\tREF\tALT\nchr1\t5\trsA\ta\tc,T\nchr1\tfive\trsB\tA\tC\n")
    with pytest.raises(MalformedVariantError, match="line 3: pos 'five'"):
        list(read_variants(table))
    frame = next(read_variants(table, on_malformed="skip"))
    assert frame[["pos", "id", "ref", "alt"]].values.tolist() == [[5, "rsA", "A", "C"],
                                                                  [5, "rsA", "A", "T"]]
    with pytest.raises(ValueError, match="no 'ref' column"):
        list(read_variants(pd.DataFrame({"chrom": ["1"], "pos": [1], "alt": ["A"]})))


def test_fasta_and_bed_prediction(tmp_path, genome_path, model):
    seqs, _ = planted_data(4, seed=3)
    fasta = write_fasta(tmp_path / "s.fa", [(f"s{i}", s) for i, s in enumerate(seqs)])
    proba = predict_fasta(model, fasta)
    assert list(proba.index) == ["s0", "s1", "s2", "s3"] and list(proba.columns) == ["gata", "ap1"]
    np.testing.assert_allclose(proba, model.predict_proba(OneHotDNA().fit_transform(seqs)),
                               atol=1e-6)
    bed = tmp_path / "r.bed"
    bed.write_text("track name=x\nchr1\t190\t220\tpeak1\n1\t0\t4\tedge\n")
    out = predict_bed(model, bed, genome_path)
    assert out["line"].tolist() == [2, 3] and out["start"].tolist() == [190, 0]
    window = CHROM1[205 - L // 2:205 + L // 2]
    np.testing.assert_allclose(out[["gata", "ap1"]].iloc[0],
                               model.predict_proba(OneHotDNA().fit_transform([window]))[0],
                               atol=1e-6)


# ---------------------------------------------------------------------------- outputs


def _variants_vcf(tmp_path, n=12):
    rng = np.random.default_rng(2)
    rows = [snv(int(p), "G" if CHROM1[int(p) - 1] != "G" else "T")
            for p in rng.integers(70, 331, n)]
    rows.append(("chr7", 3, ".", "A", "C"))
    return write_vcf(tmp_path / "many.vcf", rows)


@pytest.mark.parametrize("name", ["out.tsv", "out.tsv.gz", "out.h5"])
def test_streamed_outputs_equal_the_dataframe(tmp_path, genome_path, model, name):
    vcf = _variants_vcf(tmp_path)
    expected = score_variants(model, vcf, genome_path)
    out = tmp_path / name
    summary = write_variant_scores(model, vcf, genome_path, out, chunk_size=5)
    assert summary["variants"] == 13 and summary["scored"] == 12
    assert summary["not_scored"] == {"contig 'chr7' not in the genome": 1}
    back = read_variant_scores(out)
    assert list(back.columns) == list(expected.columns)
    assert back["chrom"].tolist() == expected["chrom"].tolist()
    assert back["ref_match"].tolist()[:12] == [True] * 12 and pd.isna(back["ref_match"][12])
    assert back["reason"].tolist() == expected["reason"].tolist()
    scores = [c for c in expected.columns if ":" in c]
    np.testing.assert_allclose(back[scores].to_numpy(), expected[scores].to_numpy(), rtol=1e-5,
                               atol=1e-6)
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]


def test_interrupted_run_leaves_no_complete_looking_file(tmp_path, genome_path, model):
    path = tmp_path / "bad.vcf"
    good = "".join(f"1\t{p}\t.\t{CHROM1[p - 1]}\tN\t.\t.\t.\n" for p in range(100, 110))
    path.write_text(VCF_HEADER + good + "1\tten\t.\tA\tC\t.\t.\t.\n")
    for name in ("out.tsv", "out.h5"):
        with pytest.raises(MalformedVariantError, match="line 14"):
            write_variant_scores(model, path, genome_path, tmp_path / name, chunk_size=3)
    assert sorted(os.listdir(tmp_path)) == ["bad.vcf", "genome.fa", "genome.fa.fai"]
    kept = tmp_path / "kept.tsv"
    kept.write_text("previous scores\n")
    with pytest.raises(MalformedVariantError):
        write_variant_scores(model, path, genome_path, kept, chunk_size=3)
    assert kept.read_text() == "previous scores\n"
    summary = write_variant_scores(model, path, genome_path, tmp_path / "out.h5",
                                   on_malformed="skip")
    assert summary["malformed_skipped"] == 1 and summary["scored"] == 10


def test_chunk_size_does_not_change_scores(tmp_path, genome_path, model):
    vcf = _variants_vcf(tmp_path)
    a = score_variants(model, vcf, genome_path, chunk_size=1000)
    b = score_variants(model, vcf, genome_path, chunk_size=4, batch_size=3)
    pd.testing.assert_frame_equal(a, b, atol=1e-6)


# ---------------------------------------------------------------------------- e-values


def test_evalues_rank_effects_against_the_background(tmp_path, genome_path, model):
    vcf = _variants_vcf(tmp_path, n=30)
    background = score_variants(model, vcf, genome_path)
    ev = EValueTransformer().fit(background)
    assert list(ev.target_names_) == ["gata", "ap1"]
    assert all(len(b) == 30 for b in ev.background_)
    values = ev.transform(background)
    assert list(values.columns) == ["evalue:gata", "evalue:ap1"]
    # The largest background effect has e-value 0, reported as DeepSEA's 1e-6.
    j = int(np.nanargmax(background["effect:gata"]))
    assert values["evalue:gata"][j] == 1e-6
    assert EValueTransformer(zero_evalue=0).fit(background).transform(background)[
        "evalue:gata"][j] == 0
    assert np.isnan(values["evalue:gata"].iloc[-1])  # the unscored chr7 variant
    scored = score_variants(model, vcf, genome_path, targets=["ap1"], evalues=ev,
                            scores=("diff",))
    assert [c for c in scored.columns if ":" in c] == ["diff:ap1", "evalue:ap1"]
    np.testing.assert_allclose(scored["evalue:ap1"], values["evalue:ap1"])


@settings(max_examples=50, deadline=None)
@given(bg=st.lists(st.floats(0, 10), min_size=1, max_size=40),
       x=st.lists(st.floats(0, 12), min_size=1, max_size=20))
def test_evalues_are_one_minus_the_ecdf(bg, x):
    ev = EValueTransformer().fit(np.array(bg)[:, None])
    out = ev.transform(np.array(x)[:, None])[:, 0]
    expected = [np.mean(np.array(bg) > v) or 1e-6 for v in x]  # DeepSEA: 0 -> 1e-6
    np.testing.assert_allclose(out, expected)
    order = np.argsort(x)
    assert np.all(np.diff(out[order]) <= 0)


# ---------------------------------------------------------------------------- CLI


def test_cli_variant_effects_with_evalues(tmp_path, genome_path, model, capsys):
    model_path = tmp_path / "m.skdeepsea"
    model.save(model_path)
    vcf = _variants_vcf(tmp_path)
    out = tmp_path / "effects.tsv"
    status = main(["variant-effects", "--model", str(model_path), "--vcf", vcf,
                   "--genome", genome_path, "--out", str(out), "--background", vcf,
                   "--targets", "gata", "--no-progress"])
    assert status == 0
    table = read_variant_scores(out)
    assert "evalue:gata" in table.columns and "diff:ap1" not in table.columns
    assert table["evalue:gata"].notna().sum() == 12
    err = capsys.readouterr().err
    assert "12 scored" in err and "contig 'chr7' not in the genome" in err
    out2 = tmp_path / "pred.tsv"
    assert main(["predict", "--model", str(model_path), "--fasta", genome_path,
                 "--out", str(out2)]) == 0
    assert pd.read_csv(out2, sep="\t", index_col=0).index.tolist() == ["chr1", "chr2"]
