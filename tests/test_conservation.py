"""ConservationScores: DeepSEA's conservation features from bigWig and tabix-indexed TSV files."""

import gzip
import itertools
import pickle
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pysam = pytest.importorskip("pysam")
pyBigWig = pytest.importorskip("pyBigWig")

from skdeepsea.variants import ConservationScores  # noqa: E402
from skdeepsea.variants._conservation import (  # noqa: E402
    _TABIX_SKIP,
    CONSERVATION_FEATURES,
    CONSERVATION_IMPUTED,
)

_names = itertools.count()


def write_bigwig(folder, contigs, entries):
    """A bigWig of ``contigs`` (name -> length) with one-base ``entries`` {(contig, pos): value}."""
    path = str(folder / f"scores{next(_names)}.bw")
    with pyBigWig.open(path, "w") as bw:
        bw.addHeader(list(contigs.items()))
        for contig in contigs:  # entries sorted by contig (in header order) and position
            ordered = sorted((pos, value) for (c, pos), value in entries.items() if c == contig)
            if ordered:
                bw.addEntries([contig] * len(ordered), [p - 1 for p, _ in ordered],
                              ends=[p for p, _ in ordered], values=[v for _, v in ordered])
    return path


def write_tsv(folder, rows, index=True):
    """A bgzipped TSV of ``rows`` (tuples written as they are), tabix-indexed as DeepSEA's."""
    plain = folder / f"scores{next(_names)}.tsv"
    plain.write_text("".join("\t".join(map(str, row)) + "\n" for row in rows))
    path = str(plain) + ".gz"
    pysam.tabix_compress(str(plain), path)
    if index:
        pysam.tabix_index(path, seq_col=0, start_col=1, end_col=1, zerobased=False)
    return path


@pytest.fixture
def gerp(tmp_path):
    rows = [("1", 10, 2.5, -1.25), ("1", 11, 1.0, "NA"), ("1", 20, 0.5, 3.0), ("2", 5, 4.0, 4.5)]
    return write_tsv(tmp_path, rows)


# --- values, found masks and imputation --------------------------------------------------------

def test_tsv_columns_read_at_positions_and_missing_ones_nan(gerp):
    with ConservationScores({"GERP_neutral": (gerp, 3), "GERP_RS": (gerp, 4)}) as scores:
        values = scores.at(["1", "1", "1", "2", "1", "2"], [10, 11, 20, 5, 15, 6])
    nan = np.nan
    expected = np.array([[nan, nan, 2.5, -1.25], [nan, nan, 1.0, nan], [nan, nan, 0.5, 3.0],
                         [nan, nan, 4.0, 4.5], [nan, nan, nan, nan], [nan, nan, nan, nan]])
    np.testing.assert_array_equal(values, expected)
    assert values.dtype == np.float64 and values.shape == (6, 4)


def test_impute_fills_deepsea_defaults_only_where_missing(gerp):
    scores = ConservationScores({"GERP_neutral": (gerp, 3), "GERP_RS": (gerp, 4)})
    values = scores.at(["1", "1", "1"], [10, 11, 15])
    imputed = ConservationScores.impute(values)
    np.testing.assert_array_equal(imputed, [[0.115, -0.033, 2.5, -1.25], [0.115, -0.033, 1.0, -0.2],
                                            [0.115, -0.033, 1.909, -0.2]])
    found = ~np.isnan(values)
    np.testing.assert_array_equal(found, [[False, False, True, True], [False, False, True, False],
                                          [False, False, False, False]])
    assert np.isnan(values[0, 0]), "impute returns a new array"
    np.testing.assert_array_equal(ConservationScores.impute(values, fill=(9, 9, 9, 9))[2], [9] * 4)
    assert CONSERVATION_IMPUTED == (0.115, -0.033, 1.909, -0.200)
    assert CONSERVATION_FEATURES == ("phastCons", "phyloP", "GERP_neutral", "GERP_RS")
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        ConservationScores.impute(values[:, :3])


def test_bigwig_and_tsv_together_in_feature_order(tmp_path, gerp):
    bw = write_bigwig(tmp_path, {"chr1": 100}, {("chr1", 10): 0.75, ("chr1", 99): 0.25})
    phylop = write_tsv(tmp_path, [("chr1", 10, -2.0)])
    scores = ConservationScores({"GERP_RS": (gerp, 4), "phyloP": phylop, "phastCons": bw})
    assert list(scores.paths) == ["phastCons", "phyloP", "GERP_RS"]
    np.testing.assert_array_equal(scores.at(["chr1"], [10]), [[0.75, -2.0, np.nan, -1.25]])
    assert "phastCons=" in repr(scores)


def test_variants_dataframe_keeps_order_and_duplicates(gerp):
    frame = pd.DataFrame({"chrom": ["chr1", "2", "chr1", "1"], "pos": [20, 5, 10, 20],
                          "ref": "A", "alt": "C"})
    values = ConservationScores({"GERP_RS": (gerp, 4)}).at(frame)
    np.testing.assert_array_equal(values[:, 3], [3.0, 4.5, -1.25, 3.0])
    assert ConservationScores({"GERP_RS": (gerp, 4)}).at([], []).shape == (0, 4)


def test_first_line_at_a_position_counts_and_nan_text_is_missing(tmp_path):
    path = write_tsv(tmp_path, [("1", 3, 1.5), ("1", 3, 7.0), ("1", 4, "nan"), ("1", 5, " 2 ")])
    values = ConservationScores({"phyloP": path}).at(["1"] * 3, [3, 4, 5])[:, 1]
    np.testing.assert_array_equal(values, [1.5, np.nan, 2.0])


def test_dense_tsv_long_stretches_between_positions(tmp_path):
    # More than _TABIX_SKIP lines between asked positions: the stream stops and fetches anew.
    n = 3 * _TABIX_SKIP + 50
    path = write_tsv(tmp_path, [("1", p, p / 8) for p in range(1, n + 1)])
    asked = [1, 2, _TABIX_SKIP + 3, 2 * _TABIX_SKIP + 40, n, n + 1, n + 1000]
    values = ConservationScores({"phastCons": path}).at(["1"] * len(asked), asked)[:, 0]
    np.testing.assert_array_equal(values[:5], np.array(asked[:5]) / 8)
    assert np.isnan(values[5:]).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_values_read_back_equal_values_written(tmp_path, data):
    contigs = {"chr1": 5_000_000, "chr2": 3000}
    places = st.tuples(st.sampled_from(list(contigs)), st.integers(1, 3000) | st.integers(1, 5_000_000))
    written = data.draw(st.dictionaries(
        places.filter(lambda cp: cp[1] <= contigs[cp[0]]),
        st.floats(-20, 20, width=32, allow_nan=False), min_size=1, max_size=60))
    asked = data.draw(st.lists(st.sampled_from(sorted(written)) | places, min_size=1, max_size=80))
    bw = write_bigwig(tmp_path, contigs, written)
    rows = [(c[3:], p, v, -v) for (c, p), v in sorted(written.items(), key=lambda kv: (kv[0][0], kv[0][1]))]
    tsv = write_tsv(tmp_path, rows)
    chrom = [c if data.draw(st.booleans()) else c[3:] for c, _ in asked]
    pos = [p for _, p in asked]
    with ConservationScores({"phastCons": bw, "GERP_neutral": (tsv, 3), "GERP_RS": (tsv, 4)}) as scores:
        values = scores.at(chrom, pos, check_contigs=False)  # the TSV may lack chr2 altogether
    expected = np.array([written.get(place, np.nan) for place in asked])
    np.testing.assert_array_equal(values[:, 0], expected)
    np.testing.assert_array_equal(values[:, 2], expected)
    np.testing.assert_array_equal(values[:, 3], -expected)
    assert np.isnan(values[:, 1]).all()


# --- contigs and positions outside the files ---------------------------------------------------

def test_contig_names_match_in_either_convention(tmp_path):
    bw = write_bigwig(tmp_path, {"1": 50, "MT": 50}, {("1", 7): 1.0, ("MT", 7): 2.0})
    tsv = write_tsv(tmp_path, [("chr1", 7, 3.0), ("chrM", 7, 4.0)])
    scores = ConservationScores({"phastCons": bw, "phyloP": tsv})
    values = scores.at(["chr1", "1", "chrM", "MT", "M", "chrMT"], [7] * 6)
    np.testing.assert_array_equal(values[:, 0], [1.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(values[:, 1], [3.0, 3.0, 4.0, 4.0, 4.0, 4.0])


def test_positions_off_the_contig_or_the_file_are_missing(tmp_path):
    bw = write_bigwig(tmp_path, {"chr1": 100, "chr2": 100}, {("chr1", 100): 1.0, ("chr2", 1): 2.0})
    tsv = write_tsv(tmp_path, [("1", 1, 5.0), ("1", 100, 6.0)])
    scores = ConservationScores({"phastCons": bw, "phyloP": tsv})
    values = scores.at(["chr1", "chr1", "chr1", "chr1", "chr2", "chrX"], [100, 101, 10**9, 0, 1, 1])
    np.testing.assert_array_equal(values[:, 0], [1.0, np.nan, np.nan, np.nan, 2.0, np.nan])
    np.testing.assert_array_equal(values[:, 1], [6.0, np.nan, np.nan, np.nan, np.nan, np.nan])


def test_no_contig_in_a_file_is_a_naming_mistake(tmp_path):
    tsv = write_tsv(tmp_path, [("chr1", 7, 3.0)])
    scores = ConservationScores({"phyloP": tsv})
    with pytest.raises(KeyError, match=r"None of the variants' contigs \(NC_000001\.11, chrX\) is in "
                                       r".*scores\d+\.tsv\.gz' \(contigs: chr1\)"):
        scores.at(["NC_000001.11", "chrX"], [7, 7])
    assert np.isnan(scores.at(["chrX"], [7], check_contigs=False)).all()
    assert scores.at(["chrX", "1"], [7, 7])[1, 1] == 3.0  # one contig matching is enough


def test_ambiguous_contig_raises(tmp_path):
    tsv = write_tsv(tmp_path, [("1", 7, 3.0), ("chr1", 7, 4.0)])
    scores = ConservationScores({"phyloP": tsv})
    assert scores.at(["chr1", "1"], [7, 7])[:, 1].tolist() == [4.0, 3.0]  # exact names first
    with pytest.raises(KeyError, match=r"'CHR1' is ambiguous in .*: it matches \['1', 'chr1'\]"):
        scores.at(["CHR1"], [7])


def test_positions_must_be_whole_numbers(gerp):
    scores = ConservationScores({"GERP_RS": (gerp, 4)})
    np.testing.assert_array_equal(scores.at(["1"], [10.0])[:, 3], [-1.25])
    with pytest.raises(ValueError, match="whole numbers"):
        scores.at(["1"], [10.5])
    with pytest.raises(ValueError, match=r"one length, not \(2,\) and \(1,\)"):
        scores.at(["1", "1"], [10])


# --- bad input -------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Conservation score file not found: '.*nope\.bw'"):
        ConservationScores({"phastCons": tmp_path / "nope.bw"})


def test_tsv_without_tabix_index_says_how_to_make_one(tmp_path):
    path = write_tsv(tmp_path, [("1", 7, 3.0)], index=False)
    with pytest.raises(FileNotFoundError, match=r"has no tabix index .*`tabix -s1 -b2 -e2 .*\.tsv\.gz`"):
        ConservationScores({"phyloP": path})


def test_plain_gzip_and_other_files_refused(tmp_path):
    plain_gzip = tmp_path / "scores.tsv.gz"
    with gzip.open(plain_gzip, "wt") as f:
        f.write("1\t7\t3.0\n")
    with pytest.raises(ValueError, match=r"gzip-compressed without bgzip's blocks: recompress it with `bgzip`"):
        ConservationScores({"phyloP": plain_gzip})
    other = tmp_path / "scores.bw"  # a bigWig by name only
    other.write_text("1\t7\t3.0\n")
    with pytest.raises(ValueError, match=r"'.*scores\.bw' is neither a bigWig file nor a bgzip"):
        ConservationScores({"phyloP": other})


def test_unknown_feature_and_bad_columns(tmp_path, gerp):
    with pytest.raises(KeyError, match=r"Unknown conservation feature 'phylop': the features are "
                                       r"phastCons, phyloP, GERP_neutral, GERP_RS"):
        ConservationScores({"phylop": gerp})
    bw = write_bigwig(tmp_path, {"chr1": 10}, {("chr1", 1): 1.0})
    with pytest.raises(ValueError, match=r"phastCons: .* is a bigWig file, .* without column 3"):
        ConservationScores({"phastCons": (bw, 3)})
    for column in (0, 2.5, True):
        with pytest.raises(ValueError, match=r"GERP_RS: the column of .* must be a positive integer"):
            ConservationScores({"GERP_RS": (gerp, column)})
    with pytest.raises(ValueError, match=r"scores\d+\.tsv\.gz' at 1:10, its first line: column 5 asked "
                                         r"for, but the line has 4 columns"):
        ConservationScores({"GERP_RS": (gerp, 5)})


def test_bad_lines_named_by_file_and_position(tmp_path):
    path = write_tsv(tmp_path, [("1", 7, 3.0), ("1", 8), ("1", 9, "high")])
    scores = ConservationScores({"phyloP": path})
    with pytest.raises(ValueError, match=r"scores\d+\.tsv\.gz' at 1:8: column 3 asked for, but the "
                                         r"line has 2 columns"):
        scores.at(["1"], [8])
    with pytest.raises(ValueError, match=r"scores\d+\.tsv\.gz' at 1:9: column 3 holds 'high', not a number"):
        scores.at(["1"], [9])
    assert scores.at(["1"], [7])[0, 1] == 3.0


# --- processes, pickling, DeepSEA's layout ---------------------------------------------------------

def test_pickle_round_trip_reads_the_same_values(tmp_path, gerp):
    bw = write_bigwig(tmp_path, {"chr1": 100}, {("chr1", 10): 0.5})
    scores = ConservationScores({"phastCons": bw, "GERP_neutral": (gerp, 3), "GERP_RS": (gerp, 4)})
    chrom, pos = ["chr1", "1", "2"], [10, 20, 5]
    before = scores.at(chrom, pos)  # files open
    copy = pickle.loads(pickle.dumps(scores))
    assert all(source._handle is None for source in copy._sources.values())
    np.testing.assert_array_equal(copy.at(chrom, pos), before)
    scores.close()
    assert all(source._handle is None for source in scores._sources.values())
    np.testing.assert_array_equal(scores.at(chrom, pos), before)  # reopened on use
    scores.close()
    copy.close()


def test_gerp_file_shared_by_two_features_opens_once(gerp):
    scores = ConservationScores({"GERP_neutral": (gerp, 3), "GERP_RS": (gerp, 4)})
    assert len(scores._sources) == 1


@pytest.mark.parametrize("given_folder", ["package", "resources"])
def test_deepsea_folder_layout(tmp_path, given_folder):
    resources = tmp_path / "resources"
    for folder, rows in [("phastCons", [("1", 10, 0.9)]), ("phyloP", [("1", 10, 1.7)]),
                         ("Gerp", [("1", 10, 2.1, 3.3), ("1", 11, 1.5, -0.5)])]:
        (resources / folder).mkdir(parents=True)
        name = "gerp_scores.tsv" if folder == "Gerp" else "primates_nohuman.tsv"
        path = write_tsv(resources / folder, rows)
        for suffix in ("", ".tbi"):
            (resources / folder / (path.split("/")[-1] + suffix)).rename(
                resources / folder / (name + ".gz" + suffix))
    scores = ConservationScores.from_deepsea(tmp_path if given_folder == "package" else resources)
    np.testing.assert_array_equal(scores.at(["chr1", "chr1", "chr1"], [10, 11, 12]),
                                  [[0.9, 1.7, 2.1, 3.3], [np.nan, np.nan, 1.5, -0.5], [np.nan] * 4])
    assert scores.paths["GERP_RS"].endswith("resources/Gerp/gerp_scores.tsv.gz")
    (resources / "phyloP" / "primates_nohuman.tsv.gz.tbi").unlink()
    with pytest.raises(FileNotFoundError, match=r"phyloP/primates_nohuman\.tsv\.gz' has no tabix index"):
        ConservationScores.from_deepsea(tmp_path)


def test_missing_reader_named_in_one_line(tmp_path, monkeypatch):
    bw = write_bigwig(tmp_path, {"chr1": 10}, {("chr1", 1): 1.0})
    monkeypatch.setitem(sys.modules, "pyBigWig", None)
    with pytest.raises(ImportError, match=r"^Reading bigWig conservation scores needs pyBigWig: "
                                          r"pip install 'skdeepsea\[genomics\]'\.$"):
        ConservationScores({"phastCons": bw})
