"""Data inputs that disagree, outputs over inputs, tables and names files: one clear error each.

Every guard is the library function's; the commands inherit it (one line on stderr).
"""

import os

import numpy as np
import pandas as pd
import pytest

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea._atomic import check_output_path
from skdeepsea._validation import check_client, check_columns
from skdeepsea.network import conv_output_length
from skdeepsea.data import (
    build_dataset,
    convert_bundle,
    open_dataset,
    read_peak_table,
    write_dataset,
)
from skdeepsea.targets import read_target_names, target_indices
from tests.test_errors import TINY, assert_one_line, random_dna

BINARY = b"\x89PNG\r\n\x1a\n\x00binary\xff"


@pytest.fixture(scope="module")
def data():
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(random_dna(32)))
    y = np.random.default_rng(1).integers(0, 2, (32, 2))
    return X, y


@pytest.fixture(scope="module")
def streams(data, tmp_path_factory):
    X, y = data
    folder = tmp_path_factory.mktemp("streams")
    paths = {"train": str(folder / "train.h5"), "names": str(folder / "valid_names.h5"),
             "count": str(folder / "valid3.h5"), "order": str(folder / "valid_order.h5")}
    write_dataset(paths["train"], X, y, target_names=["a", "b"])
    write_dataset(paths["names"], X, y, target_names=["a", "c"])
    write_dataset(paths["count"], X, np.c_[y, y[:, :1]], target_names=["a", "b", "c"])
    write_dataset(paths["order"], X, y[:, ::-1], target_names=["b", "a"])
    return paths


# ------------------------------------------------------------------ outputs over inputs

def test_library_check_output_path_names_parameters(tmp_path):
    a = tmp_path / "a.vcf"
    a.write_text("x")
    check_output_path(tmp_path / "b.tsv", {"variants": a, "model": object(), "genome": None})
    with pytest.raises(ValueError, match="out .*a.vcf is the input file of variants"):
        check_output_path(tmp_path / "." / "a.vcf", {"variants": str(a)})
    os.symlink(a, tmp_path / "link.vcf")
    with pytest.raises(ValueError, match="would replace the input"):
        check_output_path(tmp_path / "link.vcf", {"variants": a})


def test_convert_bundle_refuses_output_over_its_source(streams, tmp_path):
    source = tmp_path / "t.h5"
    source.write_bytes(open(streams["train"], "rb").read())
    before = source.read_bytes()
    with pytest.raises(ValueError, match="output .*t.h5 is the input file of source"):
        convert_bundle(source, source)
    assert source.read_bytes() == before


def test_convert_bundle_refuses_output_over_its_names_file(streams, tmp_path):
    names = tmp_path / "predictor.names"
    names.write_text("a|b|c\n")
    with pytest.raises(ValueError, match="input file of target_names"):
        convert_bundle(streams["train"], names, target_names=names)
    assert names.read_text() == "a|b|c\n"


def _genome_and_bed(folder):
    rng = np.random.default_rng(0)
    genome = folder / "g.fa"
    genome.write_text(f">chr1\n{''.join(rng.choice(list('ACGT'), 2000))}\n")
    bed = folder / "out" / "train.h5"
    bed.parent.mkdir()
    bed.write_text("chr1\t100\t500\n")
    return genome, bed


def test_build_dataset_refuses_a_split_over_its_peaks(tmp_path):
    pytest.importorskip("pysam")
    genome, bed = _genome_and_bed(tmp_path)
    with pytest.raises(ValueError, match="output train.h5 .* is the input file of peaks"):
        build_dataset(genome, {"p": bed}, bed.parent, valid_chromosomes=[],
                      test_chromosomes=[], progress=False)
    assert bed.read_text() == "chr1\t100\t500\n"


def test_build_dataset_refuses_an_output_folder_that_is_a_file(tmp_path):
    pytest.importorskip("pysam")
    genome, bed = _genome_and_bed(tmp_path)
    with pytest.raises(NotADirectoryError, match="output .*g.fa is a file"):
        build_dataset(genome, {"p": bed}, genome, progress=False)


@pytest.mark.parametrize("peaks, fragment", [
    ({"": "b.bed"}, "empty name"), ({"  ": "b.bed"}, "empty name"),
    (["x.bed", "y/x.bed"], "repeated: ['x']"),
])
def test_build_dataset_profile_names(tmp_path, peaks, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        build_dataset(tmp_path / "g.fa", peaks, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ the peak table

def _table(tmp_path, text):
    (tmp_path / "a.bed").write_text("chr1\t0\t10\n")
    (tmp_path / "b.bed").write_text("chr1\t0\t10\n")
    path = tmp_path / "profiles.tsv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


PEAK_TABLES = [
    ("K562|CTCF|None\ta.bed\nK562|CTCF|None\tb.bed\n", ValueError,
     "line 2: profile 'K562|CTCF|None' again (first on line 1)"),
    ("# header\nx\ta.bed\n\ny\tb.bed\nx\tb.bed\n", ValueError, "line 5: profile 'x' again"),
    ("\ta.bed\n", ValueError, "line 1: the profile's name is empty"),
    ("x\ta.bed\n \tb.bed\n", ValueError, "line 2: the profile's name is empty"),
    ("only-one-column\n", ValueError, "line 1: expected two tab-separated columns"),
    ("# nothing\n\n", ValueError, "lists no profiles"),
    (BINARY, ValueError, "is not a text file of profiles: byte 0x89 at offset 0"),
    ("x\tmissing.bed\n", FileNotFoundError, "profile 'x' (line 1): no such BED file"),
]


@pytest.mark.parametrize("text, error, fragment", PEAK_TABLES)
def test_peak_table_errors_name_file_and_line(tmp_path, text, error, fragment):
    with pytest.raises(error) as raised:
        read_peak_table(_table(tmp_path, text))
    assert "profiles.tsv" in str(raised.value) and fragment in str(raised.value)


def test_peak_table_keeps_every_profile_in_order(tmp_path):
    profiles = read_peak_table(_table(tmp_path, "y\tb.bed# a comment\nx\ta.bed\n"))
    assert list(profiles) == ["y", "x"]


def test_build_dataset_command_duplicate_profile_is_one_line(tmp_path, capsys):
    table = _table(tmp_path, "x\ta.bed\nx\tb.bed\n")
    (tmp_path / "g.fa").write_text(">chr1\nACGT\n")
    assert_one_line(["build-dataset", str(tmp_path / "g.fa"), str(tmp_path / "out"),
                     "--peak-table", str(table)], capsys, 1, "profiles.tsv, line 2",
                    "'x' again")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ names files

@pytest.mark.parametrize("reader", ["read_target_names", "load_deepsea_names"])
def test_binary_names_file_names_file_and_byte(tmp_path, reader):
    path = tmp_path / "predictor.names"
    path.write_bytes(BINARY)
    if reader == "read_target_names":
        call = lambda: read_target_names(path)  # noqa: E731
    else:
        from skdeepsea.pretrained import _read_names

        call = lambda: _read_names(path)  # noqa: E731
    with pytest.raises(ValueError, match="predictor.names is not a text file of target names: "
                                         "byte 0x89 at offset 0"):
        call()


def test_train_binary_target_names_is_one_line(streams, tmp_path, capsys):
    (tmp_path / "n.names").write_bytes(BINARY)
    assert_one_line(["train", streams["train"], "--target-names", str(tmp_path / "n.names"),
                     "--out", str(tmp_path / "m.skdeepsea")], capsys, 1, "n.names",
                    "not a text file")


# ------------------------------------------------------------------ train and validation agree

VALID = [("names", ValueError, "names target 1 'c', but the training data name it 'b'"),
         ("order", ValueError, "names target 0 'b', but the training data name it 'a'"),
         ("count", ValueError, "must have shape (n, 2) (the training data's 2 targets), got "
                               "(32, 3)")]


@pytest.mark.parametrize("which, error, fragment", VALID)
def test_validation_file_that_disagrees_is_refused_before_training(streams, which, error,
                                                                   fragment):
    model = DeepSEAClassifier(**TINY)
    with open_dataset(streams["train"]) as train, open_dataset(streams[which]) as valid:
        with pytest.raises(error) as raised:
            model.fit(train, validation_data=valid)
    assert fragment in str(raised.value) and os.path.basename(streams[which]) in str(raised.value)
    assert not hasattr(model, "model_")


@pytest.mark.parametrize("which, error, fragment", VALID)
def test_train_valid_that_disagrees_is_one_line(streams, tmp_path, capsys, which, error,
                                                fragment):
    out = tmp_path / "m.skdeepsea"
    assert_one_line(["train", streams["train"], "--valid", streams[which], "--out", str(out),
                     "--conv-filters", "4", "--kernel-size", "4", "--pool-size", "2",
                     "--fc-units", "4", "--dropout", "0", "--epochs", "1"], capsys, 1, fragment,
                    f"the validation file {streams[which]}")
    assert not out.exists()


def test_validation_dataframe_with_other_target_names(data):
    X, y = data
    frame = pd.DataFrame(y, columns=["a", "b"])
    with pytest.raises(ValueError, match="validation_data's y names target 0 'z'"):
        DeepSEAClassifier(**TINY).fit(X, frame, validation_data=(X, frame.set_axis(
            ["z", "b"], axis=1)))


def test_validation_in_another_base_order_is_refused(streams, data):
    X, y = data
    with open_dataset(streams["train"], alphabet="ACGT") as valid:
        with pytest.raises(ValueError, match=r"valid.* is encoded in alphabet 'ACGT', but the "
                                             r"training data in 'ATGC'"):
            DeepSEAClassifier(**TINY).fit(X, y, validation_data=valid)


# ------------------------------------------------------------------ flattened DataFrames

@pytest.fixture(scope="module")
def fitted(data):
    return DeepSEAClassifier(**TINY).fit(*data)


@pytest.mark.parametrize("alphabet", ["ACGT", "TGCA", "GATC"])
def test_flattened_dataframe_in_another_base_order_is_refused(fitted, alphabet):
    frame = OneHotDNA(alphabet=alphabet, flatten=True).set_output(transform="pandas") \
        .fit_transform(random_dna(3, seed=5))
    with pytest.raises(ValueError, match=f"encoded in alphabet '{alphabet}', but this "
                                         "DeepSEAClassifier was fitted on alphabet 'ATGC'"):
        fitted.predict_proba(frame)


def test_flattened_dataframe_in_the_model_order_is_predicted(fitted):
    sequences = random_dna(3, seed=5)
    frame = OneHotDNA(flatten=True).set_output(transform="pandas").fit_transform(sequences)
    np.testing.assert_allclose(fitted.predict_proba(frame),
                               fitted.predict_proba(OneHotDNA().fit_transform(sequences)))


def test_flattened_dataframe_order_is_the_fit_order(data):
    X, y = data
    frame = OneHotDNA(alphabet="GATC", flatten=True).set_output(transform="pandas") \
        .fit_transform(random_dna(32))
    assert DeepSEAClassifier(**TINY).fit(frame, y).alphabet_ == "GATC"


# ------------------------------------------------------------------ small library guards

@pytest.mark.parametrize("keys", [[], (), np.array([], dtype=int)])
def test_empty_target_list_is_named(keys):
    with pytest.raises(ValueError, match="No targets chosen"):
        target_indices(["a", "b"], keys)


@pytest.mark.parametrize("argument", ["sequence_length", "n_convs", "kernel_size", "pool_size"])
def test_conv_output_length_names_a_zero_argument(argument):
    arguments = dict(sequence_length=100, n_convs=3, kernel_size=8, pool_size=4)
    arguments[argument] = 0
    with pytest.raises(ValueError, match=f"{argument} must be in"):
        conv_output_length(**arguments)


@pytest.mark.parametrize("client", [42, 1.5, "", "  ", object(), ["tcp://a:1"]])
def test_check_client_refuses_what_is_not_a_client(client):
    with pytest.raises(ValueError, match="client must be a Dask scheduler address"):
        check_client(client)


def test_check_columns_names_the_file_and_the_columns():
    check_columns(["chrom", "pos", "x"], ["chrom", "pos"], "s.parquet", "a score file")
    with pytest.raises(ValueError, match=r"s.parquet is not a score file: it lacks the "
                                         r"column\(s\) 'ref', 'alt'"):
        check_columns(["chrom", "pos"], ["chrom", "ref", "alt"], "s.parquet", "a score file")
