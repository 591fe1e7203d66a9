"""The parameter constraints of the data, genome, target, encoding, dataset and weight-import
functions (issue 21): each refuses a bad value of each parameter in the one wording, naming the
function and the parameter, before any work (the writers write nothing); and each accepts what
its docstring documents."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import skdeepsea
from skdeepsea import OneHotDNA, one_hot, reverse_complement
from skdeepsea.data import (
    build_dataset,
    convert_bundle,
    label_bins,
    open_arrays,
    open_dataset,
    profile_name,
    read_peak_table,
    read_peaks,
    write_dataset,
)
from skdeepsea.datasets import load_motifs, make_chromatin_dataset
from skdeepsea.genome import read_fasta
from skdeepsea.pretrained import (
    is_danq_file,
    load_danq,
    load_deepsea,
    load_model_file,
    model_file_kind,
    verify_weights,
)
from skdeepsea.targets import (
    class_order,
    feature_class,
    read_target_names,
    target_classes,
    target_indices,
)

from .conftest import (
    assert_refused_before_any_work,
    assert_writer_writes_nothing,
    refused,
)


PEAKS = pd.DataFrame({"chrom": ["chr1"], "start": [100], "end": [301]})

# Valid arguments of each function, none of whose files exist: a bad value put in their place
# must be refused before anything is read or written.
BASE = {
    one_hot: lambda tmp: {"sequences": ["ACGT"]},
    reverse_complement: lambda tmp: {"X": "ACGT"},
    read_fasta: lambda tmp: {"path": tmp / "g.fa"},
    read_target_names: lambda tmp: {"path": tmp / "predictor.names"},
    feature_class: lambda tmp: {"name": "K562|CTCF|None"},
    target_classes: lambda tmp: {"names": ["K562|CTCF|None"]},
    class_order: lambda tmp: {"classes": ["TF"]},
    target_indices: lambda tmp: {"target_names": ["a", "b"]},
    profile_name: lambda tmp: {"path": tmp / "a.bed"},
    read_peak_table: lambda tmp: {"path": tmp / "peaks.tsv"},
    read_peaks: lambda tmp: {"path": tmp / "a.bed"},
    label_bins: lambda tmp: {"peaks": PEAKS},
    open_dataset: lambda tmp: {"path": tmp / "d.h5"},
    open_arrays: lambda tmp: {"path": tmp / "d.npz"},
    write_dataset: lambda tmp: {"path": tmp / "o.h5", "X": np.zeros((2, 4, 4), np.uint8),
                                "Y": np.zeros((2, 1), np.uint8)},
    convert_bundle: lambda tmp: {"source": tmp / "train.mat", "output": tmp / "train.h5"},
    build_dataset: lambda tmp: {"genome": tmp / "g.fa", "peaks": [tmp / "a.bed"],
                                "output": tmp / "out"},
    make_chromatin_dataset: lambda tmp: {"n_samples": 4},
    model_file_kind: lambda tmp: {"path": tmp / "w.pth"},
    is_danq_file: lambda tmp: {"path": tmp / "w.hdf5"},
    verify_weights: lambda tmp: {"path": tmp / "w.pth"},
    load_model_file: lambda tmp: {"path": tmp / "m.skdeepsea"},
    load_deepsea: lambda tmp: {"path": tmp / "w.pth"},
    load_danq: lambda tmp: {"path": tmp / "w.hdf5"},
}

# Bad values of every parameter of each function, one kind of mistake each.
BAD = {
    one_hot: {"sequences": ["ACGT", 3, None], "alphabet": ["ACGU"], "sequence_length": [0, 2.5],
              "dtype": ["complex64", "text"], "ambiguous": ["ignore"]},
    reverse_complement: {"X": [3, None], "alphabet": ["ACGU", 4]},
    read_fasta: {"path": [3, ""]},
    read_target_names: {"path": [None, b"predictor.names"]},
    feature_class: {"name": [3, None]},
    target_classes: {"names": ["K562|CTCF|None", 3], "by": ["index", None]},
    class_order: {"classes": ["TF", 3]},
    target_indices: {"target_names": ["ab", None], "keys": [1.5, [1.5], {"a"}, True],
                     "what": [3]},
    profile_name: {"path": [3]},
    read_peak_table: {"path": [None]},
    read_peaks: {"path": [b"a.bed", ""]},
    label_bins: {"peaks": ["a.bed", {"chrom": "chr1"}], "bin_size": [0, 200.0]},
    open_dataset: {"path": [3], "alphabet": ["ACGU", None], "x_key": [3], "y_key": [b"y"]},
    open_arrays: {"path": [None], "alphabet": ["AC"], "sequence_length": [0, 2.5]},
    write_dataset: {"path": ["", 3], "X": ["ACGT", None], "Y": [None, 1], "target_names": ["a"],
                    "alphabet": ["ACGU"], "packed": [1, "no"], "chunk_rows": [0],
                    "compression": ["zip"], "block_size": [1.5], "progress": ["yes"]},
    convert_bundle: {"source": [3], "output": [None], "alphabet": [None, "ACG"],
                     "target_names": [3, ""], "packed": [None], "chunk_rows": [-1],
                     "compression": ["bz2"], "block_size": [0], "progress": [1]},
    build_dataset: {"genome": [3, ""], "peaks": ["a.bed", Path("a.bed"), [3]], "output": [None],
                    "bin_size": [0], "sequence_length": [-1000, 1000.0],
                    "valid_chromosomes": ["chr7", [1.5]], "test_chromosomes": [None],
                    "keep": ["all"], "tf_targets": ["CTCF", [1]], "alphabet": ["ACGN"],
                    "shuffle": [1], "random_state": [-1, 1.5], "packed": [None],
                    "chunk_rows": [0], "progress": ["no"]},
    make_chromatin_dataset: {"n_samples": [0, 2.5], "sequence_length": [1.5],
                             "motifs": ["CTCF", [["CTCF"]], 3], "center_width": [-1],
                             "placement": ["middle"], "sites": ["best"],
                             "motif_probability": [1.5, "high"], "combinations": ["yes"],
                             "one_hot": [1], "alphabet": ["ACGU"], "random_state": [-1, "0"]},
    model_file_kind: {"path": [3]},
    is_danq_file: {"path": [None]},
    verify_weights: {"path": [""], "known": [{"a.pth": 1}, ["a.pth"]]},
    load_model_file: {"path": [3, None]},
    load_deepsea: {"path": [3], "target_names": [3, ""], "alphabet": ["ACG"],
                   "strand": ["max", True], "sequence_length": [0, 99.5],
                   "activation": ["sigmoid"], "verify": ["no"], "batch_size": [0],
                   "average_strands": ["yes", 1]},
    load_danq: {"path": [None], "target_names": [""], "alphabet": [""], "strand": ["both"],
                "sequence_length": [None, "50"], "pool_size": [2.5, 0],
                "dropout": [(0.2,), (0.2, 1.0), ("0.2", 0.5), 0.2],
                "backward_direction": ["backward"], "batch_size": [-1],
                "average_strands": [None, "yes"]},
}

CASES = [(function, name, bad) for function, table in BAD.items()
         for name, values in table.items() for bad in values]


def test_every_parameter_of_each_function_has_a_bad_value_above():
    assert set(BAD) == set(BASE)
    for function, table in BAD.items():
        assert set(table) == set(function._parameter_constraints), function.__name__
    assert load_motifs._parameter_constraints == {}  # no parameters


@pytest.mark.parametrize("function, name, bad", CASES,
                         ids=[f"{f.__name__}-{n}-{b!r}" for f, n, b in CASES])
def test_a_bad_value_is_refused_in_the_one_wording_before_any_work(tmp_path, function, name,
                                                                     bad):
    assert_refused_before_any_work(function, {**BASE[function](tmp_path), name: bad}, name,
                                   tmp_path)


@pytest.mark.parametrize("function, output", [(write_dataset, "o.h5"),
                                              (convert_bundle, "train.h5"),
                                              (build_dataset, "out")])
def test_the_writers_write_nothing_when_a_value_is_refused(tmp_path, function, output):
    assert_writer_writes_nothing(function, BASE[function](tmp_path), BAD[function], output,
                                 tmp_path)


def test_skdeepsea_load_is_load_model_file_and_names_it():
    assert skdeepsea.load is load_model_file
    with pytest.raises(ValueError, match=refused("path", 3, "load_model_file")):
        skdeepsea.load(3)


def test_the_messages_name_what_is_expected():
    with pytest.raises(ValueError, match=r"^one_hot: sequences must be an array-like or iterable "
                                         r"of sequences \(str, bytes or sequence records\), not "
                                         r"a single sequence, got 'ACGT'\.$"):
        one_hot("ACGT")
    with pytest.raises(ValueError, match=r"^build_dataset: peaks must be a list of BED file "
                                         r"paths or a mapping of profile name to BED file path, "
                                         r"got 'a.bed'\.$"):
        build_dataset("g.fa", "a.bed", "out")
    with pytest.raises(ValueError, match=r"^load_danq: dropout must be two rates in \[0, 1\) "
                                         r"\(a tuple\), got \(0\.2,\)\.$"):
        load_danq("w.hdf5", dropout=(0.2,))
    with pytest.raises(ValueError, match=r"^load_deepsea: average_strands must be True or False, "
                                         r"'deprecated' or None, got 'yes'\.$"):
        load_deepsea("w.pth", average_strands="yes")


# ------------------------------------------------------------------ what is documented passes

def test_one_hot_takes_every_documented_kind_of_sequences():
    expected = one_hot(["ACGT", "TTGA"])
    for given in (("ACGT", "TTGA"), [b"ACGT", b"TTGA"], np.array(["ACGT", "TTGA"]),
                  np.array([b"ACGT", b"TTGA"]), np.array(["ACGT", "TTGA"])[:, None],
                  pd.Series(["ACGT", "TTGA"]), pd.DataFrame({"s": ["ACGT", "TTGA"]}),
                  (s for s in ["ACGT", "TTGA"])):
        np.testing.assert_array_equal(one_hot(given), expected)
    seq = pytest.importorskip("Bio.Seq")
    record = pytest.importorskip("Bio.SeqRecord")
    records = [record.SeqRecord(seq.Seq(s), id=str(i)) for i, s in enumerate(["ACGT", "TTGA"])]
    np.testing.assert_array_equal(one_hot(records), expected)
    for dtype in (np.uint8, "bool", np.dtype("float16"), "int32"):
        assert one_hot(["ACGT"], dtype=dtype).dtype == np.dtype(dtype)
    assert one_hot(["ACG"], alphabet="acgt", sequence_length=np.int64(5)).shape == (1, 5, 4)


def test_one_hot_keeps_its_cross_parameter_rule():
    with pytest.raises(ValueError, match="ambiguous='uniform' encodes N as 0.25, which "
                                         "dtype='uint8' cannot hold"):
        one_hot(["ACGN"], dtype="uint8", ambiguous="uniform")


def test_reverse_complement_takes_every_documented_kind_of_x():
    assert reverse_complement("AACG") == "CGTT"
    assert reverse_complement(b"AACG") == b"CGTT"
    assert reverse_complement(["AACG"]) == ["CGTT"] and reverse_complement(("A",)) == ("T",)
    assert reverse_complement(np.array(["AACG"])).tolist() == ["CGTT"]
    assert reverse_complement(pd.Series(["AACG"])).tolist() == ["CGTT"]
    X = OneHotDNA(dtype="uint8").fit_transform(["AACG"])
    np.testing.assert_array_equal(reverse_complement(X, alphabet="atgc"),
                                  OneHotDNA(dtype="uint8").fit_transform(["CGTT"]))
    assert reverse_complement(np.asarray(X).reshape(1, 16)).shape == (1, 16)


def test_the_target_functions_take_every_documented_kind_of_names_and_keys():
    names = ["K562|CTCF|None", "K562|DNase|None", "HeLa|H3K4me3|None"]
    for given in (names, tuple(names), np.array(names), pd.Index(names), pd.Series(names)):
        assert target_indices(given, ["K562|DNase|None", -1]) == [1, 2]
        assert target_classes(given).tolist() == ["TF", "DNase", "histone"]
    for keys in (pd.Index(["HeLa|H3K4me3|None"]), np.array([2]), range(2, 3), np.int64(2),
                 np.str_("HeLa|H3K4me3|None"), (2,)):
        assert target_indices(names, keys) == [2]
    assert target_indices(names, None, what="filter") == [0, 1, 2]
    assert class_order(c for c in ["histone", None, "TF"]) == ["TF", "histone"]
    assert class_order(pd.Series(["DNase", np.nan])) == ["DNase"]
    assert feature_class(np.str_("GM12878|DNase|None")) == "DNase"


def test_the_data_functions_take_every_documented_kind_of_argument(tmp_path):
    X = OneHotDNA(dtype="uint8").fit_transform(["ACGT", "GGTA"])
    write_dataset(str(tmp_path / "d.h5"), X, [1, 0], target_names=np.array(["t"]),
                  alphabet="acgt", packed=np.bool_(False), chunk_rows=np.int64(2),
                  compression="gzip", block_size=1, progress=False)
    with open_dataset(tmp_path / "d.h5", "agct", x_key=None) as data:
        assert data.alphabet == "AGCT" and data.target_names == ["t"]
    np.savez(tmp_path / "s.npz", X=np.array(["ACG", "ACGTA"]))
    with open_arrays(tmp_path / "s.npz", sequence_length=np.int64(4)) as data:
        assert data.X.shape == (2, 4, 4)
    assert profile_name(Path("p/K562|CTCF|None.bed.gz")) == "K562|CTCF|None"
    assert label_bins(PEAKS, bin_size=np.int32(100)).keys() == {"chr1"}


def test_build_dataset_takes_every_documented_kind_of_argument(tmp_path):
    # Every value below passes the constraints: the missing genome is the first thing found.
    with pytest.raises(FileNotFoundError, match="none.fa"):
        build_dataset(tmp_path / "none.fa", {"CTCF": tmp_path / "a.bed"}, str(tmp_path / "out"),
                      bin_size=np.int64(200), valid_chromosomes=("chr7", 7),
                      test_chromosomes=np.array(["chr8"]), keep="tf",
                      tf_targets=np.array(["CTCF"]), alphabet="gatc",
                      random_state=np.random.default_rng(0), packed=np.bool_(True))
    with pytest.raises(FileNotFoundError, match="none.fa"):
        build_dataset(str(tmp_path / "none.fa"), (tmp_path / "a.bed",), tmp_path / "out",
                      test_chromosomes=[], tf_targets=None, random_state=None)
    assert not os.listdir(tmp_path)


def test_the_importers_take_every_documented_kind_of_argument(tmp_path):
    # Every value below passes the constraints: the missing file is the first thing found.
    with pytest.raises(FileNotFoundError, match="No weights file"):
        load_deepsea(tmp_path / "w.pth", tmp_path / "predictor.names", alphabet="acgt",
                     sequence_length=None, verify=np.bool_(False), average_strands=None)
    with pytest.raises(FileNotFoundError, match="No weights file"):
        load_deepsea(str(tmp_path / "w.pth"), ["a", "b"], strand=None, batch_size=np.int64(8))
    with pytest.warns(FutureWarning, match="average_strands=True is deprecated"), \
            pytest.raises(FileNotFoundError, match="No weights file"):
        load_danq(tmp_path / "w.hdf5", np.array(["a"]), dropout=[0, 0.5],
                  backward_direction="reversed", average_strands=True)
    with pytest.raises(ValueError, match=r"^load_danq: average_strands=False is the former name "
                                         r"of strand='mean'"):
        load_danq(tmp_path / "w.hdf5", strand="mean", average_strands=False)
    with pytest.raises(FileNotFoundError):
        verify_weights(tmp_path / "w.pth", known={"w.pth": {"md5": None, "size": 3}})
    for function in (model_file_kind, is_danq_file, load_model_file):
        with pytest.raises(FileNotFoundError):
            function(tmp_path / "absent")


def test_make_chromatin_dataset_takes_every_documented_kind_of_argument():
    X, Y, names = make_chromatin_dataset(
        np.int64(3), 300, motifs=("CTCF", "GATA1"), center_width=np.int32(100),
        motif_probability=np.float32(1), one_hot=np.bool_(True), alphabet="acgt",
        random_state=np.random.RandomState(0))
    assert X.shape == (3, 300, 4) and names == ["CTCF", "GATA1", "CTCF+GATA1"]
    assert Y.all()
