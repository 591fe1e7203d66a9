"""skdeepsea.data: the DeepSEA bundle in its original layouts, the streaming file, the contract."""

import os
import pickle

import h5py
import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepsea import OneHotArray, OneHotDNA
from skdeepsea.data import LazyArray, convert_bundle, open_dataset, write_dataset

MATLAB_HEADER = (
    b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Tue Mar 31 10:00:00 2015 "
    b"HDF5 schema 1.00 ."
)


def random_bundle(n, length=20, n_targets=5, seed=0):
    """Sequences (with N), their strings and 0/1 targets."""
    rng = np.random.default_rng(seed)
    seqs = ["".join(rng.choice(list("ACGTN"), length, p=[0.24, 0.24, 0.24, 0.24, 0.04]))
            for _ in range(n)]
    Y = (rng.random((n, n_targets)) < 0.3).astype(np.uint8)
    return np.array(seqs, dtype=object), Y


def bundle_x(seqs):
    """(N, 4, L): the MATLAB array of the bundle, base order A, G, C, T."""
    X = OneHotDNA(alphabet="AGCT", dtype="uint8").fit_transform(seqs)
    return np.ascontiguousarray(np.asarray(X).transpose(0, 2, 1))


def write_mat73(path, seqs, Y, split="train", chunks=None):
    """A MATLAB v7.3 file laid out as DeepSEA's train.mat: a 512-byte user block then HDF5,
    arrays with their axes reversed ((L, 4, N) and (T, N) as h5py sees them); with ``chunks``,
    chunked and deflate-compressed as MATLAB writes by default."""
    with h5py.File(path, "w", userblock_size=512) as f:
        x = bundle_x(seqs).T  # (L, 4, N)
        options = dict(chunks=(x.shape[0], 4, chunks), compression="gzip") if chunks else {}
        f.create_dataset(f"{split}xdata", data=x, **options)
        f.create_dataset(f"{split}data", data=np.ascontiguousarray(Y.T))
        for name in (f"{split}xdata", f"{split}data"):
            f[name].attrs["MATLAB_class"] = np.bytes_(b"uint8")
    header = MATLAB_HEADER.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
    with open(path, "r+b") as f:
        f.write(header)


def write_mat5(path, seqs, Y, split="valid"):
    scipy.io.savemat(path, {f"{split}xdata": bundle_x(seqs), f"{split}data": Y}, format="5")


def encode(seqs, alphabet="ATGC"):
    return np.asarray(OneHotDNA(alphabet=alphabet, dtype="uint8").fit_transform(seqs))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bundle")
    seqs, Y = random_bundle(300, seed=1)
    write_mat73(folder / "train.mat", seqs[:200], Y[:200], chunks=16)
    write_mat5(folder / "valid.mat", seqs[200:250], Y[200:250], "valid")
    write_mat5(folder / "test.mat", seqs[250:], Y[250:], "test")
    return folder, seqs, Y


def test_mat73_file_has_matlab_layout(bundle):
    folder, _, _ = bundle
    with open(folder / "train.mat", "rb") as f:
        head = f.read(128)
    assert head.startswith(b"MATLAB 7.3 MAT-file")
    assert head[126:128] == b"IM"
    assert h5py.is_hdf5(folder / "train.mat")
    with h5py.File(folder / "train.mat", "r") as f:
        assert f.userblock_size == 512
        assert f["trainxdata"].shape == (20, 4, 200)
        assert f["traindata"].shape == (5, 200)


@pytest.mark.parametrize("alphabet", ["ATGC", "AGCT", "ACGT", "TCAG"])
def test_train_mat_reads_in_requested_alphabet(bundle, alphabet):
    folder, seqs, Y = bundle
    with open_dataset(folder / "train.mat", alphabet=alphabet) as data:
        assert data.format == "mat-v7.3"
        assert data.X.shape == (200, 20, 4) and data.Y.shape == (200, 5)
        assert data.X.dtype == np.uint8 and data.Y.dtype == np.uint8 and data.X.ndim == 3
        assert data.target_names is None and data.alphabet == alphabet
        block = data.X[10:60]
        assert isinstance(block, OneHotArray) and block.alphabet == alphabet
        np.testing.assert_array_equal(block, encode(seqs[10:60], alphabet))
        np.testing.assert_array_equal(data.Y[10:60], Y[10:60])
        assert OneHotDNA(alphabet=alphabet).fit(["A"]).inverse_transform(data.X[3:4])[0] == seqs[3]


def test_v5_files_read_in_requested_alphabet(bundle):
    folder, seqs, Y = bundle
    for name, rows in (("valid.mat", slice(200, 250)), ("test.mat", slice(250, 300))):
        with open_dataset(folder / name) as data:
            assert data.format == "mat-v5" and data.alphabet == "ATGC"
            assert data.X.shape == (50, 20, 4) and data.Y.shape == (50, 5)
            np.testing.assert_array_equal(data.X[:], encode(seqs[rows]))
            np.testing.assert_array_equal(np.asarray(data.Y), Y[rows])


def test_bundle_base_order_is_agct(tmp_path):
    # One sequence "AGCT": in the file, base i is on channel i.
    path = tmp_path / "valid.mat"
    write_mat5(path, np.array(["AGCTN"], dtype=object), np.zeros((1, 1), np.uint8))
    raw = scipy.io.loadmat(path)["validxdata"]
    np.testing.assert_array_equal(raw[0, :, :4], np.eye(4))
    with open_dataset(path, alphabet="ATGC") as data:
        np.testing.assert_array_equal(
            data.X[0], [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 0, 0]]
        )


def test_indexing_protocol(bundle):
    folder, seqs, Y = bundle
    expected = encode(seqs[:200])
    with open_dataset(folder / "train.mat") as data:
        X = data.X
        assert len(X) == 200
        np.testing.assert_array_equal(X[5], expected[5])
        np.testing.assert_array_equal(X[-1], expected[-1])
        np.testing.assert_array_equal(X[190:500], expected[190:])
        np.testing.assert_array_equal(X[::37], expected[::37])
        np.testing.assert_array_equal(X[50:10:-7], expected[50:10:-7])
        idx = np.array([0, 1, 17, 18, 100, 199])
        np.testing.assert_array_equal(X[idx], expected[idx])
        np.testing.assert_array_equal(X[np.array([5, 3, 5, -1])], expected[[5, 3, 5, -1]])
        np.testing.assert_array_equal(data.Y[idx], Y[idx])
        np.testing.assert_array_equal(X[np.arange(200) % 3 == 0], expected[::3])
        np.testing.assert_array_equal(X[4:9, 2:5, 0], expected[4:9, 2:5, 0])
        np.testing.assert_array_equal(X[7, 3], expected[7, 3])
        blocks = list(X.iter_blocks(64))
        assert [start for start, _ in blocks] == [0, 64, 128, 192]
        np.testing.assert_array_equal(np.concatenate([b for _, b in blocks]), expected)
        np.testing.assert_array_equal(np.asarray(X, dtype=np.float32), expected)
        assert X[np.array([], dtype=int)].shape == (0, 20, 4)
        assert X[10:10].shape == (0, 20, 4)
        with pytest.raises(IndexError, match="200 samples"):
            X[200]
        with pytest.raises(IndexError, match="index -201"):
            X[np.array([3, -201])]
        with pytest.raises(IndexError, match="does not match"):
            X[np.ones(5, dtype=bool)]


@settings(max_examples=40, deadline=None)
@given(indices=st.lists(st.integers(0, 199), max_size=40), chunk_rows=st.sampled_from([1, 7, 64]))
def test_lazy_array_matches_numpy(indices, chunk_rows):
    data = np.arange(200 * 3, dtype=np.uint8).reshape(200, 3)
    reads = []

    def read(start, stop):
        reads.append((start, stop))
        return data[start:stop]

    lazy = LazyArray(read, data.shape, data.dtype, chunk_rows=chunk_rows)
    idx = np.array(indices, dtype=np.int64)
    np.testing.assert_array_equal(lazy[idx], data[idx])
    # Sorted indices: each storage chunk is read at most once.
    reads.clear()
    unique = np.unique(idx)
    np.testing.assert_array_equal(lazy[unique], data[unique])
    assert len(reads) <= len(np.unique(unique // chunk_rows))


@pytest.mark.parametrize("packed", [True, False])
def test_streaming_round_trip(tmp_path, packed):
    seqs, Y = random_bundle(123, length=21, n_targets=11, seed=2)
    X = OneHotDNA(alphabet="ACGT", dtype="uint8").fit_transform(seqs)
    names = [f"cell|tf{i}|None" for i in range(11)]
    path = tmp_path / "data.h5"
    write_dataset(path, X, Y, target_names=names, packed=packed, chunk_rows=10, block_size=17)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]
    with open_dataset(path, alphabet="ATGC") as data:
        assert data.format == "stream" and data.target_names == names
        assert data.X.shape == (123, 21, 4) and data.Y.shape == (123, 11)
        np.testing.assert_array_equal(data.X[:], encode(seqs, "ATGC"))
        np.testing.assert_array_equal(data.Y[:], Y)
        idx = np.array([0, 9, 10, 11, 55, 122])
        np.testing.assert_array_equal(data.X[idx], encode(seqs[idx], "ATGC"))
        assert data.intervals is None
    with h5py.File(path, "r") as f:
        assert f.attrs["alphabet"] == "ACGT"
        assert f["x"].chunks[0] == 10
        assert f["x"].shape == ((123, 11) if packed else (123, 21, 4))


@settings(max_examples=15, deadline=None)
@given(n=st.integers(0, 40), length=st.integers(1, 9), n_targets=st.integers(1, 17),
       packed=st.booleans(), chunk_rows=st.integers(1, 50), seed=st.integers(0, 2**16))
def test_streaming_round_trip_property(tmp_path_factory, n, length, n_targets, packed,
                                       chunk_rows, seed):
    rng = np.random.default_rng(seed)
    X = np.eye(5, 4, dtype=np.uint8)[rng.integers(0, 5, (n, length))]
    Y = rng.integers(0, 2, (n, n_targets), dtype=np.uint8)
    path = tmp_path_factory.mktemp("prop") / "data.h5"
    write_dataset(path, X, Y, packed=packed, chunk_rows=chunk_rows, block_size=7)
    with open_dataset(path) as data:
        assert data.X.shape == (n, length, 4) and data.Y.shape == (n, n_targets)
        np.testing.assert_array_equal(data.X[:], X)
        np.testing.assert_array_equal(data.Y[:], Y)
        idx = np.sort(rng.choice(n, size=min(n, 5), replace=False)) if n else np.array([], int)
        np.testing.assert_array_equal(data.X[idx], X[idx])


def test_streaming_dataset_pickles_and_reopens(tmp_path):
    seqs, Y = random_bundle(30, seed=3)
    path = tmp_path / "data.h5"
    write_dataset(path, encode(seqs), Y)
    with open_dataset(path) as data:
        X = pickle.loads(pickle.dumps(data.X))
        np.testing.assert_array_equal(X[3:9], encode(seqs[3:9]))


def test_convert_bundle_folder(bundle, tmp_path):
    folder, seqs, Y = bundle
    names_file = tmp_path / "predictor.names"
    names_file.write_text("".join(f"K562|TF{i}|None\n" for i in range(5)))
    written = convert_bundle(folder, tmp_path / "out", target_names=names_file, chunk_rows=32)
    assert sorted(os.path.basename(p) for p in written) == ["test.h5", "train.h5", "valid.h5"]
    with open_dataset(tmp_path / "out" / "train.h5") as data:
        assert data.target_names == [f"K562|TF{i}|None" for i in range(5)]
        np.testing.assert_array_equal(data.X[:], encode(seqs[:200]))
        np.testing.assert_array_equal(data.Y[:], Y[:200])
    with open_dataset(tmp_path / "out" / "test.h5", alphabet="AGCT") as data:
        np.testing.assert_array_equal(data.X[:], encode(seqs[250:], "AGCT"))


def test_write_rejects_non_binary_when_packed(tmp_path):
    X = np.zeros((4, 5, 4), np.uint8)
    X[2, 1, 0] = 3
    with pytest.raises(ValueError, match="sample 2 has X values other than 0 and 1"):
        write_dataset(tmp_path / "bad.h5", X, np.zeros((4, 1)))
    assert os.listdir(tmp_path) == []


def test_an_interrupted_write_keeps_the_old_file(tmp_path):
    X = np.zeros((4, 5, 4), np.uint8)
    X[:, :, 0] = 1
    path = tmp_path / "data.h5"
    write_dataset(path, X, np.ones((4, 1)))
    bad = X.copy()
    bad[3, 4, 0] = 2
    with pytest.raises(ValueError, match="sample 3"):
        write_dataset(path, bad, np.zeros((4, 1)), block_size=2)  # fails after one block
    assert os.listdir(tmp_path) == ["data.h5"]
    with open_dataset(path) as data:
        assert data.Y[:].tolist() == [[1]] * 4


def test_errors_name_file_key_and_shape(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.mat"):
        open_dataset(tmp_path / "missing.mat")
    bad = tmp_path / "bad.mat"
    scipy.io.savemat(bad, {"validxdata": np.zeros((3, 5, 10), np.uint8),
                           "validdata": np.zeros((3, 2), np.uint8)})
    with pytest.raises(ValueError, match=r"bad.mat: variable 'validxdata' has shape \(3, 5, 10\)"):
        open_dataset(bad)
    mismatch = tmp_path / "mismatch.mat"
    scipy.io.savemat(mismatch, {"testxdata": np.zeros((3, 4, 10), np.uint8),
                                "testdata": np.zeros((4, 2), np.uint8)})
    with pytest.raises(ValueError, match=r"mismatch.mat: variable 'testdata' has shape \(4, 2\)"):
        open_dataset(mismatch)
    nokey = tmp_path / "nokey.mat"
    scipy.io.savemat(nokey, {"sequences": np.zeros((3, 4, 10), np.uint8)})
    with pytest.raises(ValueError, match=r"nokey.mat: expected one variable named .*sequences"):
        open_dataset(nokey)
    seqs, Y = random_bundle(4)
    train = tmp_path / "train.mat"
    write_mat73(train, seqs, Y[:, :2])
    with pytest.raises(KeyError, match="train.mat has no variable 'labels'"):
        open_dataset(train, y_key="labels")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="notes.txt is neither a streaming .h5 file nor a MATLAB file"):
        open_dataset(text)
    with pytest.raises(ValueError, match="alphabet"):
        open_dataset(train, alphabet="ACGU")
    with open_dataset(train, x_key="trainxdata", y_key="traindata") as data:
        assert data.Y.shape == (4, 2)
    future = tmp_path / "future.h5"
    write_dataset(future, encode(seqs), Y[:, :1].ravel())
    with h5py.File(future, "r+") as f:
        f.attrs["format_version"] = 2
    with pytest.raises(ValueError, match="future.h5 has streaming format version 2"):
        open_dataset(future)


# --- Building a data set from a genome and peaks ------------------------------------------

from skdeepsea.data import build_dataset, label_bins, profile_name, read_peaks  # noqa: E402

CONTIGS = {"chr1": 5000, "chr7": 2000, "chr8": 2000, "chr9": 1000}


@pytest.fixture(scope="module")
def genome_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("genome")
    rng = np.random.default_rng(5)
    sequences = {name: "".join(rng.choice(list("ACGTacgt"), length))
                 for name, length in CONTIGS.items()}
    path = folder / "genome.fa"
    with open(path, "w") as f:
        for name, seq in sequences.items():
            f.write(f">{name}\n")
            f.writelines(seq[i:i + 60] + "\n" for i in range(0, len(seq), 60))
    return path, {name: seq.upper() for name, seq in sequences.items()}


def write_bed(path, rows, header=True):
    with open(path, "w") as f:
        if header:
            f.write("track name=peaks\n# a comment\n")
        for row in rows:
            f.write("\t".join(map(str, row)) + "\n")
    return path


def window(sequences, chrom, start, length=1000):
    seq = sequences[chrom]
    return "".join(seq[i] if 0 <= i < len(seq) else "N" for i in range(start, start + length))


def frame(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["chrom", "start", "end"])


def test_label_bins_more_than_half_rule():
    # Bin 0 [0, 200): exactly half covered -> 0. Bin 2 [400, 600): 101 bp -> 1.
    # Bin 5 [1000, 1200): two overlapping peaks covering 90 bp in all (not 120) -> 0.
    # Bin 7 [1400, 1600): two touching peaks, 60 + 50 = 110 bp -> 1.
    peaks = frame([("chr1", 100, 200), ("chr1", 499, 600), ("chr1", 1000, 1060),
                   ("chr1", 1030, 1090), ("chr1", 1400, 1460), ("chr1", 1460, 1510),
                   ("chr2", 0, 1000)])
    bins = label_bins(peaks)
    assert bins["chr1"].tolist() == [2, 7]
    assert bins["chr2"].tolist() == [0, 1, 2, 3, 4]
    assert label_bins(frame([("chr1", 5, 5)])) == {}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1200), st.integers(0, 300)), min_size=1, max_size=8),
       st.sampled_from([10, 200, 7]))
def test_label_bins_matches_base_by_base_coverage(intervals, bin_size):
    covered = np.zeros(1600, dtype=bool)
    for start, width in intervals:
        covered[start:start + width] = True
    expected = [b for b in range(1600 // bin_size)
                if 2 * covered[b * bin_size:(b + 1) * bin_size].sum() > bin_size]
    peaks = frame([("chr1", s, s + w) for s, w in intervals])
    got = label_bins(peaks, bin_size).get("chr1", np.array([], dtype=int))
    assert got.tolist() == expected


def test_read_peaks_and_profile_names(tmp_path):
    path = write_bed(tmp_path / "a.narrowPeak", [("chr1", 10, 20, "p", 5, "."), ("1", 30, 40)])
    peaks = read_peaks(path)
    assert peaks[["chrom", "start", "end"]].values.tolist() == [["chr1", 10, 20], ["1", 30, 40]]
    assert peaks["line"].tolist() == [3, 4]
    assert profile_name("x/HeLa|DNase|None.bed.gz") == "HeLa|DNase|None"
    write_bed(tmp_path / "bad.bed", [("chr1", 10, 20), ("chr1", "ten", 20)])
    with pytest.raises(ValueError, match="bad.bed, line 4: expected a BED line"):
        read_peaks(tmp_path / "bad.bed")
    write_bed(tmp_path / "rev.bed", [("chr1", 50, 20)])
    with pytest.raises(ValueError, match="rev.bed, line 3: peak chr1:50-20"):
        read_peaks(tmp_path / "rev.bed")


def test_build_dataset_deepsea_recipe(genome_file, tmp_path):
    fasta, sequences = genome_file
    beds = {
        "K562|CTCF|None": write_bed(tmp_path / "ctcf.bed", [
            ("chr1", 0, 101), ("chr1", 1000, 1150), ("7", 200, 400), ("chr8", 399, 501),
            ("chr8", 1000, 1100)]),
        "K562|DNase|None": write_bed(tmp_path / "dnase.bed", [
            ("chr1", 1000, 1100), ("chr1", 4200, 4400), ("chr9", 0, 150)]),
        "K562|H3K4me3|None": write_bed(tmp_path / "h3.bed", [("chr1", 4300, 4900)]),
    }
    summary = build_dataset(fasta, beds, tmp_path / "out", progress=False, random_state=1)
    assert summary["n_samples"] == {"train": 5, "valid": 1, "test": 2}
    expected_rows = {
        # (chrom, bin): targets
        ("chr1", 0): [1, 0, 0], ("chr1", 5): [1, 0, 0], ("chr1", 21): [0, 1, 0],
        ("chr1", 22): [0, 0, 1], ("chr1", 23): [0, 0, 1],
        ("chr7", 1): [1, 0, 0], ("chr8", 2): [1, 0, 0], ("chr9", 0): [0, 1, 0],
    }
    seen = {}
    for split in ("train", "valid", "test"):
        with open_dataset(summary["paths"][split]) as data:
            assert data.target_names == list(beds)
            intervals = data.intervals
            X, Y = data.X[:], data.Y[:]
            for i, row in enumerate(intervals.itertuples()):
                bin_index = (row.start + 400) // 200
                assert row.end - row.start == 1000
                seen[(row.chrom, bin_index)] = (split, Y[i].tolist())
                expected = encode([window(sequences, row.chrom, row.start)])[0]
                np.testing.assert_array_equal(X[i], expected)
    assert {key: value[1] for key, value in seen.items()} == expected_rows
    assert {key for key, value in seen.items() if value[0] == "test"} == {("chr8", 2), ("chr9", 0)}
    assert {key for key, value in seen.items() if value[0] == "valid"} == {("chr7", 1)}
    # The first window runs off the start of chr1: N-padded (all-zero rows).
    with open_dataset(summary["paths"]["train"]) as data:
        first = int(np.flatnonzero(data.intervals["start"] == -400)[0])
        assert data.X[first][:400].sum() == 0 and data.X[first][400:].sum() == 600
        # Training samples are shuffled, not in genome order.
        assert data.intervals["start"].tolist() != sorted(data.intervals["start"])


def test_build_dataset_keep_tf_and_errors(genome_file, tmp_path):
    fasta, _ = genome_file
    beds = {
        "K562|CTCF|None": write_bed(tmp_path / "ctcf.bed", [("chr1", 0, 200)]),
        "K562|DNase|None": write_bed(tmp_path / "dnase.bed",
                                     [("chr1", 0, 200), ("chr1", 400, 600)]),
    }
    summary = build_dataset(fasta, beds, tmp_path / "tf", keep="tf", valid_chromosomes=(),
                            test_chromosomes=("chr9",), progress=False)
    assert summary["n_samples"] == {"train": 1, "test": 0}
    assert not os.path.exists(tmp_path / "tf" / "valid.h5")
    with open_dataset(summary["paths"]["train"]) as data:
        assert data.Y[:].tolist() == [[1, 1]]
    with open_dataset(summary["paths"]["test"]) as data:
        assert len(data) == 0 and data.X[:].shape == (0, 1000, 4)
    summary = build_dataset(fasta, beds, tmp_path / "tf2", keep="tf",
                            tf_targets=["K562|DNase|None"], progress=False)
    assert summary["n_samples"]["train"] == 2
    with pytest.raises(ValueError, match="none of the profiles is one"):
        build_dataset(fasta, {"K562|DNase|None": beds["K562|DNase|None"]}, tmp_path / "x",
                      keep="tf", progress=False)
    stray = write_bed(tmp_path / "stray.bed", [("chr1", 0, 200), ("chrUn_gl1", 5, 10)])
    with pytest.raises(KeyError, match="stray.bed, line 4: peak on contig 'chrUn_gl1'"):
        build_dataset(fasta, [stray], tmp_path / "x", progress=False)
    with pytest.raises(KeyError, match="chr22"):
        build_dataset(fasta, [stray], tmp_path / "x", test_chromosomes=("chr22",), progress=False)
    assert not os.path.exists(tmp_path / "x")


# --- Command line -------------------------------------------------------------------------


def test_cli_convert_bundle(bundle, tmp_path, capsys):
    from skdeepsea.cli import main

    folder, seqs, Y = bundle
    out = tmp_path / "valid.h5"
    assert main(["convert-bundle", str(folder / "valid.mat"), str(out), "--alphabet", "acgt",
                 "--compression", "lzf"]) == 0
    captured = capsys.readouterr()
    assert f"Wrote {out}" in captured.out
    assert "50/50" in captured.err  # the tqdm bar
    with open_dataset(out, alphabet="ACGT") as data:
        np.testing.assert_array_equal(data.X[:], encode(seqs[200:250], "ACGT"))
        np.testing.assert_array_equal(data.Y[:], Y[200:250])
    assert sorted(os.listdir(tmp_path)) == ["valid.h5"]


def test_cli_build_dataset(genome_file, tmp_path, capsys):
    from skdeepsea.cli import main

    fasta, _ = genome_file
    write_bed(tmp_path / "ctcf.bed", [("chr1", 0, 200), ("chr8", 0, 200)])
    write_bed(tmp_path / "dnase.bed", [("chr1", 400, 600)])
    (tmp_path / "profiles.tsv").write_text("K562|CTCF|None\tctcf.bed\nK562|DNase|None\tdnase.bed\n")
    assert main(["build-dataset", str(fasta), str(tmp_path / "out"), "--peak-table",
                 str(tmp_path / "profiles.tsv"), "--valid-chromosomes", "--keep", "tf"]) == 0
    captured = capsys.readouterr()
    assert "train.h5: 1 samples, 2 targets" in captured.out
    assert "test.h5: 1 samples" in captured.out
    assert "samples" in captured.err
    with open_dataset(tmp_path / "out" / "train.h5") as data:
        assert data.target_names == ["K562|CTCF|None", "K562|DNase|None"]


def test_read_peak_table_resolves_paths_from_its_folder_and_names_a_missing_bed(tmp_path):
    from skdeepsea.data import read_peak_table

    (tmp_path / "beds").mkdir()
    write_bed(tmp_path / "beds" / "a.bed", [("chr1", 0, 10)])
    table = tmp_path / "profiles.tsv"
    table.write_text("# name\tbed\nK562|CTCF|None\tbeds/a.bed\n")
    assert read_peak_table(table) == {"K562|CTCF|None": str(tmp_path / "beds" / "a.bed")}
    table.write_text("K562|CTCF|None\tbeds/a.bed\nGM12878|DNase|None\tbeds/missing.bed\n")
    with pytest.raises(FileNotFoundError, match=r"profiles.tsv, profile 'GM12878\|DNase\|None'"):
        read_peak_table(table)
    table.write_text("only-one-column\n")
    with pytest.raises(ValueError, match="two tab-separated columns"):
        read_peak_table(table)
