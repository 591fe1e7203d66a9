"""Every bad input a clear error naming what is wrong and where; the CLI says it on one line.

Each case is one bad input a user could give, in a table; the assertion is on
the message: it must name the parameter, sample, position, file or line.
The command-line cases run ``skdeepsea.cli.main`` in this process and check
that stderr is one line ``skdeepsea <command>: error: ...`` and the exit status.
"""

import gzip
import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea.cli import main
from skdeepsea.data import open_dataset, write_dataset
from skdeepsea.exceptions import DamagedFileError

L = 40
TINY = dict(conv_filters=(4,), dropout=(0.0,), kernel_size=4, pool_size=2, fc_units=4,
            epochs=1, batch_size=16, random_state=0, optimizer="adam")


def random_dna(n, length=L, seed=0):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


@pytest.fixture(scope="module")
def data():
    seqs = random_dna(32)
    X = np.asarray(OneHotDNA(dtype="uint8").fit_transform(seqs))
    y = np.random.default_rng(1).integers(0, 2, (32, 2))
    return seqs, X, y


@pytest.fixture(scope="module")
def files(tmp_path_factory, data):
    """A tiny saved model, a genome, a VCF, a BED file, a streaming file and a checkpoint."""
    seqs, X, y = data
    folder = tmp_path_factory.mktemp("inputs")
    model = DeepSEAClassifier(**TINY).fit(X, y)
    paths = {"model": str(folder / "model.skdeepsea")}
    model.save(paths["model"])
    rng = np.random.default_rng(2)
    chr1 = "".join(rng.choice(list("ACGT"), 400))
    chr2 = "".join(rng.choice(list("ACGT"), 200))
    chr2 = chr2[:99] + "-" + chr2[100:]  # a gap character at chr2:100 (1-based)
    paths["genome"] = str(folder / "genome.fa")
    with open(paths["genome"], "w") as f:
        f.write(f">chr1\n{chr1}\n>chr2\n{chr2}\n")
    paths["vcf"] = str(folder / "v.vcf")
    with open(paths["vcf"], "w") as f:
        f.write("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=400>\n"
                "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for pos in range(50, 350, 10):
            f.write(f"chr1\t{pos}\t.\t{chr1[pos - 1]}\t{'A' if chr1[pos - 1] != 'A' else 'C'}"
                    "\t.\t.\t.\n")
    paths["bed"] = str(folder / "peaks.bed")
    with open(paths["bed"], "w") as f:
        f.write("chr1\t100\t300\n")
    paths["stream"] = str(folder / "train.h5")
    write_dataset(paths["stream"], X, y, target_names=["a", "b"])
    paths["npz"] = str(folder / "test.npz")
    np.savez(paths["npz"], X=np.array(seqs), Y=y)
    paths["names"] = str(folder / "predictor.names")
    with open(paths["names"], "w") as f:
        f.write("a\nb\n")
    return paths


def cli(argv, capsys):
    """Run the command; return its exit status and its stderr lines."""
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    return status, capsys.readouterr().err.strip().splitlines()


def assert_one_line(argv, capsys, status, *fragments):
    """The error is the last line of stderr, the only one that is not a progress bar."""
    code, lines = cli(argv, capsys)
    assert code == status, lines
    command = argv[1] if argv[0] == "--debug" else argv[0]
    messages = [line for line in lines if not _progress_bar(line)]
    assert len(messages) == 1 and messages[0] == lines[-1], lines
    assert lines[-1].startswith(f"skdeepsea {command}: error: "), lines[-1]
    for fragment in fragments:
        assert fragment in lines[-1], (fragment, lines[-1])
    assert "Traceback" not in "\n".join(lines)
    return lines[-1]


def _progress_bar(line):
    """A tqdm bar ("desc: 0 variants [00:00, ...]" or "desc:  0%|...| 0/1 [...]")."""
    return "|" in line and "[" in line or line.rstrip().endswith("/s]")


# ------------------------------------------------------------------ estimator parameters

PARAMETERS = [
    ({"conv_filters": 8}, "conv_filters"),
    ({"conv_filters": ()}, "conv_filters"),
    ({"conv_filters": (4, 0)}, "conv_filters[1]"),
    ({"conv_filters": (4.5,)}, "conv_filters[0]"),
    ({"dropout": 0.5}, "dropout"),
    ({"dropout": (0.1, 0.1)}, "dropout"),
    ({"dropout": (1.5,)}, "dropout[0]"),
    ({"dropout": (-0.1,)}, "dropout[0]"),
    ({"kernel_size": 0}, "kernel_size"),
    ({"kernel_size": 2.5}, "kernel_size"),
    ({"pool_size": -1}, "pool_size"),
    ({"fc_units": 0}, "fc_units"),
    ({"fc_units": "4"}, "fc_units"),
    ({"l2": -1.0}, "l2"),
    ({"l1_sparsity": -1e-3}, "l1_sparsity"),
    ({"max_kernel_norm": 0}, "max_kernel_norm"),
    ({"optimizer": "adagrad"}, "optimizer"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"momentum": 1.5}, "momentum"),
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 2.5}, "batch_size"),
    ({"batch_size": True}, "batch_size"),
    ({"epochs": 0}, "epochs"),
    ({"validation_fraction": 0.95}, "validation_fraction"),
    ({"n_iter_no_change": 0}, "n_iter_no_change"),
    ({"verbose": 3}, "verbose"),
    ({"input_channels": 0}, "input_channels"),
    ({"learning_rate_decay": -1.0}, "learning_rate_decay"),
    ({"steps_per_epoch": 0}, "steps_per_epoch"),
    ({"shuffle_buffer": 0}, "shuffle_buffer"),
    ({"checkpoint_every": 0}, "checkpoint_every"),
    ({"mixed_precision": "float8"}, "mixed_precision"),
    ({"strand": "both"}, "strand"),
    ({"strand": True}, "strand"),
    ({"add_reverse_complement": "yes"}, "add_reverse_complement"),
    ({"early_stopping": 1}, "early_stopping"),
    ({"warm_start": "no"}, "warm_start"),
    ({"data_parallel": None}, "data_parallel"),
    ({"checkpoint_dir": 5}, "checkpoint_dir"),
    ({"class_weight": "even"}, "class_weight"),
    ({"alphabet": "ACGU"}, "alphabet"),
    ({"alphabet": "AACG"}, "alphabet"),
]


@pytest.mark.parametrize("params, name", PARAMETERS)
def test_bad_parameter_is_named_before_any_work(data, params, name):
    _, X, y = data
    with pytest.raises((ValueError, TypeError)) as error:
        DeepSEAClassifier(**dict(TINY, **params)).fit(X, y)
    message = str(error.value)
    assert name in message, message
    assert "not iterable" not in message


# ------------------------------------------------------------------ fit inputs

def _nan_x(X):
    X = X.astype(np.float32)
    X[5, 7, 2] = np.nan
    return X


def _inf_x(X):
    X = X.astype(np.float32)
    X[3, 0, 0] = np.inf
    return X


def _label_encoded(X):
    return np.argmax(X, axis=2).astype(np.int64).reshape(len(X), -1)[:, :L]


def _label_encoded_float(X):
    return np.argmax(X, axis=2).astype(np.float32).reshape(len(X), -1)[:, :L]


FIT_INPUTS = [
    ("NaN in X", lambda X, y: (_nan_x(X), y, None), ["X[5]", "position 7", "nan"]),
    ("inf in X", lambda X, y: (_inf_x(X), y, None), ["X[3]", "position 0", "inf"]),
    ("label-encoded int X", lambda X, y: (_label_encoded(X), y, None),
     ["X[", "integer codes", "OneHotDNA"]),
    ("label-encoded float X", lambda X, y: (_label_encoded_float(X), y, None),
     ["X[", "integer codes"]),
    ("X of counts", lambda X, y: (X * 2, y, None), ["X[", "from 0 to 1"]),
    ("NaN in y", lambda X, y: (X, np.where(np.arange(y.size).reshape(y.shape) == 9, np.nan, y),
                               None), ["y[4]", "target 1", "nan"]),
    ("NaN label", lambda X, y: (X, np.r_[y[:, 0][:-1], np.nan], None), ["y[31]", "nan"]),
    ("NaN sample_weight", lambda X, y: (X, y, np.r_[np.ones(10), np.nan, np.ones(21)]),
     ["sample_weight[10]", "nan"]),
    ("inf sample_weight", lambda X, y: (X, y, np.r_[np.ones(31), np.inf]),
     ["sample_weight[31]", "inf"]),
    ("short sample_weight", lambda X, y: (X, y, np.ones(5)), ["sample_weight", "(32,)"]),
    ("zero sample_weight", lambda X, y: (X, y, np.zeros(32)), ["sample_weight", "zero"]),
    ("y too short", lambda X, y: (X, y[:10], None), ["32 samples", "10"]),
    ("no y", lambda X, y: (X, None, None), ["requires y"]),
    ("one class", lambda X, y: (X, np.zeros(32), None), ["one class"]),
    ("3-D y", lambda X, y: (X, y[:, :, None], None), ["y"]),
    ("strings X", lambda X, y: (np.array(random_dna(32)), y, None), ["OneHotDNA"]),
    ("wrong channels", lambda X, y: (X[:, :, :3], y, None), ["(n, L, 4)", "(32, 40, 3)"]),
    ("not a multiple of 4", lambda X, y: (X.reshape(32, -1)[:, :-1], y, None),
     ["multiple of 4", "159"]),
    ("no samples", lambda X, y: (X[:0], y[:0], None), ["0 samples"]),
    ("complex X", lambda X, y: (X.astype(np.complex64), y, None), ["Complex"]),
    ("too short for the network", lambda X, y: (X[:, :3], y, None), ["sequence_length=3"]),
]


@pytest.mark.parametrize("name, make, fragments", FIT_INPUTS, ids=[c[0] for c in FIT_INPUTS])
def test_bad_fit_input_names_the_sample(data, name, make, fragments):
    _, X, y = data
    X, y, weight = make(X, y)
    with pytest.raises((ValueError, TypeError)) as error:
        DeepSEAClassifier(**TINY).fit(X, y, sample_weight=weight)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_validation_data_with_nan_names_it(data):
    _, X, y = data
    bad = y.astype(float)
    bad[2, 0] = np.nan
    with pytest.raises(ValueError, match=r"validation_data's y\[2\], target 0 is nan"):
        DeepSEAClassifier(**TINY).fit(X, y, validation_data=(X, bad))


def test_lazy_y_is_checked_to_its_last_row(data, tmp_path):
    from skdeepsea.data import LazyArray

    X = data[1]
    big = np.zeros((70_000, 2), dtype=np.uint8)
    big[69_999, 1] = 2  # past the first 65,536-row block
    lazy_y = LazyArray(lambda a, b: big[a:b], big.shape, big.dtype)
    lazy_x = LazyArray(lambda a, b: np.broadcast_to(X[:1], (b - a, L, 4)), (70_000, L, 4),
                       np.uint8, alphabet="ATGC")
    with pytest.raises(ValueError, match=r"y\[69999\] holds 2 for target 1"):
        DeepSEAClassifier(**TINY).fit(lazy_x, lazy_y)


@pytest.mark.parametrize("name, make, fragments", [
    ("NaN", _nan_x, ["X[5]", "position 7"]),
    ("label-encoded", _label_encoded, ["integer codes"]),
    ("wrong length", lambda X: X[:, :20], ["length 20", "length 40"]),
])
def test_bad_predict_input_names_the_sample(files, data, name, make, fragments):
    import skdeepsea

    model = skdeepsea.load(files["model"])
    with pytest.raises(ValueError) as error:
        model.predict_proba(make(data[1]))
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


# ------------------------------------------------------------------ sequences

SEQUENCES = [
    (["ACGT", "AC-T"], {}, ["sequence 1", "'-'", "position 2"]),
    (["ACGTX"], {}, ["sequence 0", "'X'", "position 4"]),
    ([""], {}, ["sequence 0 is empty"]),
    (["ACGT", "ACG"], {}, ["sequence 1", "length 3", "expected 4"]),
    (["ACGT", "AC"], {"sequence_length": 4, "ambiguous": "error"}, ["sequence 1", "padded"]),
    (["ACNT"], {"ambiguous": "error"}, ["sequence 0", "'N'", "position 2"]),
    (["ACGT", 5], {}, ["sequence 1", "int"]),
    ("ACGT", {}, ["single string"]),
    ([], {}, ["0 sequences"]),
    (["ACGT"], {"alphabet": "ACG"}, ["alphabet"]),
    (["ACGT"], {"sequence_length": 0}, ["sequence_length"]),
    (["ACGT"], {"dtype": "complex64"}, ["dtype"]),
]


@pytest.mark.parametrize("sequences, params, fragments", SEQUENCES)
def test_bad_sequence_names_sequence_and_position(sequences, params, fragments):
    with pytest.raises((ValueError, TypeError)) as error:
        OneHotDNA(**params).fit_transform(sequences)
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


# ------------------------------------------------------------------ files

def _flip_byte(path, offset_from_end):
    with open(path, "r+b") as f:
        f.seek(-offset_from_end, os.SEEK_END)
        byte = f.read(1)
        f.seek(-offset_from_end, os.SEEK_END)
        f.write(bytes([byte[0] ^ 0xFF]))


def _truncate(path, fraction):
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(int(size * fraction))


def _copy(src, dst):
    with open(src, "rb") as f, open(dst, "wb") as g:
        g.write(f.read())
    return str(dst)


def test_damaged_model_files_are_named_as_such(files, tmp_path):
    import skdeepsea

    for name, damage in (("crc", lambda p: _flip_byte(p, 3000)),
                         ("truncated", lambda p: _truncate(p, 0.6)),
                         ("head", lambda p: _truncate(p, 0.05))):
        path = _copy(files["model"], tmp_path / f"{name}.skdeepsea")
        damage(path)
        with pytest.raises(DamagedFileError, match="damaged or truncated") as error:
            skdeepsea.load(path)
        assert path in str(error.value)


@pytest.mark.parametrize("content, fragments", [
    (b"hello", ["not a skdeepsea model file"]),
    (b"", ["not a skdeepsea model file"]),
])
def test_non_model_files_are_named(tmp_path, content, fragments):
    import skdeepsea

    path = tmp_path / "m.skdeepsea"
    path.write_bytes(content)
    with pytest.raises(ValueError) as error:
        skdeepsea.load(str(path))
    for fragment in fragments + [str(path)]:
        assert fragment in str(error.value)


def test_model_archive_of_another_format(tmp_path):
    import skdeepsea

    path = tmp_path / "m.skdeepsea"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("estimator.json", '{"format": "other", "format_version": 9}')
        archive.writestr("model.keras", b"x")
    with pytest.raises(ValueError, match="format 'other' version 9"):
        skdeepsea.load(str(path))


def test_damaged_and_diverged_checkpoints(tmp_path):
    from skdeepsea._checkpoint import read_checkpoint, write_checkpoint

    write_checkpoint(tmp_path, {"step": 1}, {"model": [np.ones((40, 40)), np.ones(3)]})
    path = tmp_path / "checkpoint.npz"
    good = path.read_bytes()
    _truncate(path, 0.5)
    with pytest.raises(DamagedFileError, match="checkpoint.npz is damaged or truncated"):
        read_checkpoint(tmp_path)
    path.write_bytes(good)
    _flip_byte(path, 500)
    with pytest.raises(DamagedFileError, match="damaged or truncated"):
        read_checkpoint(tmp_path)
    write_checkpoint(tmp_path, {"step": 1}, {"model": [np.ones(3), np.array([1.0, np.nan])]})
    with pytest.raises(ValueError, match="model variable 1 holds NaN"):
        read_checkpoint(tmp_path)
    path.write_text("not a checkpoint")
    with pytest.raises(ValueError, match="not a skdeepsea training checkpoint"):
        read_checkpoint(tmp_path)


def test_resuming_a_diverged_checkpoint_is_refused(data, tmp_path):
    from skdeepsea._checkpoint import read_checkpoint, write_checkpoint

    _, X, y = data
    DeepSEAClassifier(**dict(TINY, checkpoint_dir=str(tmp_path), checkpoint_every=1)).fit(X, y)
    meta, groups = read_checkpoint(tmp_path)
    groups["model"][0] = np.full_like(groups["model"][0], np.nan)
    write_checkpoint(tmp_path, meta, groups)
    with pytest.raises(ValueError, match="NaN or infinite"):
        DeepSEAClassifier(**dict(TINY, checkpoint_dir=str(tmp_path), epochs=2)).fit(X, y)


def test_truncated_and_inconsistent_streaming_files(files, tmp_path, data):
    path = _copy(files["stream"], tmp_path / "t.h5")
    _truncate(path, 0.5)
    with pytest.raises(DamagedFileError, match="t.h5 is damaged or truncated"):
        open_dataset(path)
    path = _copy(files["stream"], tmp_path / "attrs.h5")
    with h5py.File(path, "r+") as f:
        f.attrs["sequence_length"] = 30
    with pytest.raises(ValueError, match="sequence_length=30.*inconsistent"):
        open_dataset(path)
    with h5py.File(path, "r+") as f:
        f.attrs["sequence_length"] = L
        f.attrs["n_targets"] = 20
    with pytest.raises(ValueError, match="n_targets=20.*inconsistent"):
        open_dataset(path)


@pytest.mark.parametrize("Y, fragments", [
    (lambda y: np.where(np.arange(y.size).reshape(y.shape) == 7, 0.5, y),
     ["sample 3", "Y value 0.5"]),
    (lambda y: np.where(np.arange(y.size).reshape(y.shape) == 0, -1, y), ["sample 0", "-1"]),
    (lambda y: np.where(np.arange(y.size).reshape(y.shape) == 5, np.nan, y), ["sample 2", "nan"]),
    (lambda y: y * 3, ["values other than 0 and 1", "packed"]),
])
def test_write_dataset_refuses_labels_it_would_change(data, tmp_path, Y, fragments):
    _, X, y = data
    with pytest.raises(ValueError) as error:
        write_dataset(tmp_path / "d.h5", X, Y(y))
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)
    assert os.listdir(tmp_path) == []


def test_truncated_valid_mat_is_named_truncated(tmp_path):
    x = np.random.default_rng(0).integers(0, 2, (50, 4, 100)).astype(np.uint8)
    y = np.random.default_rng(1).integers(0, 2, (50, 3)).astype(np.uint8)
    path = tmp_path / "valid.mat"
    scipy.io.savemat(path, {"validxdata": x, "validdata": y}, format="5")
    for fraction in (0.3, 0.9, 0.99):
        cut = _copy(path, tmp_path / f"cut{fraction}.mat")
        _truncate(cut, fraction)
        with pytest.raises(DamagedFileError, match="is damaged or truncated"):
            open_dataset(cut)


def test_data_file_kinds_named(tmp_path):
    folder = tmp_path / "bundle"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        open_dataset(folder)
    with pytest.raises(FileNotFoundError, match="No such data file"):
        open_dataset(tmp_path / "missing.h5")
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(ValueError, match="notes.txt"):
        open_dataset(text)


# ------------------------------------------------------------------ genome, BED, VCF

BED_LINES = [
    ("chr1 100 300\n", ["line 1", "spaces"]),
    ("track name=x\nchr1\t100\n", ["line 2", "chrom<TAB>start<TAB>end"]),
    ("chr1\t100\tabc\n", ["line 1", "integer coordinates"]),
    ("chr1\t300\t100\n", ["line 1", "ends before it starts"]),
    ("chr1\t-5\t100\n", ["line 1", "negative start"]),
    ("chr1\t1.5\t100\n", ["line 1", "integer"]),
]


@pytest.mark.parametrize("text, fragments", BED_LINES)
def test_bad_bed_line_is_named(tmp_path, text, fragments):
    from skdeepsea.data import read_peaks

    path = tmp_path / "p.bed"
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        read_peaks(path)
    for fragment in fragments + [str(path)]:
        assert fragment in str(error.value), str(error.value)


def test_genome_errors_name_contig_and_coordinate(files, tmp_path):
    import skdeepsea
    from skdeepsea.genome import Genome
    from skdeepsea.variants import predict_bed, predict_fasta

    with Genome(files["genome"]) as genome:
        with pytest.raises(KeyError, match="Contig 'chr9' is not in"):
            genome.fetch("chr9", 0, 10)
        with pytest.raises(ValueError, match="end is before start"):
            genome.fetch("chr1", 10, 5)
    with pytest.raises(FileNotFoundError, match="missing.fa"):
        Genome(tmp_path / "missing.fa")
    model = skdeepsea.load(files["model"])
    bed = tmp_path / "r.bed"
    bed.write_text("chr1\t100\t140\nchr9\t10\t50\n")
    with pytest.raises(KeyError, match=r"r.bed, line 2: Contig 'chr9'"):
        predict_bed(model, bed, files["genome"])
    bed.write_text("chr2\t80\t120\n")
    with pytest.raises(ValueError, match=r"genome.fa: chr2:100 \(1-based\) has an invalid "
                                         r"character '-'"):
        predict_bed(model, bed, files["genome"])
    fasta = tmp_path / "reads.fa"
    fasta.write_text(">good\n" + "A" * L + "\n>gappy\n" + "A" * 20 + "-" + "A" * 19 + "\n")
    with pytest.raises(ValueError, match=r"reads.fa, record 'gappy', position 21 \(1-based\)"):
        predict_fasta(model, fasta)


def _vcf(tmp_path, body, name="v.vcf"):
    path = tmp_path / name
    path.write_text("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=400>\n"
                    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + body)
    return path


def test_vcf_pos_0_is_a_bad_position_with_its_line(tmp_path):
    from skdeepsea.variants import MalformedVariantError, ReadReport, read_variants

    path = _vcf(tmp_path, "chr1\t5\t.\tA\tC\t.\t.\t.\nchr1\t0\t.\tA\tC\t.\t.\t.\n")
    with pytest.raises(MalformedVariantError, match=r"line 5: POS 0 is not a 1-based position"):
        list(read_variants(path))
    report = ReadReport()
    rows = pd.concat(read_variants(path, on_malformed="skip", report=report))
    assert len(rows) == 1 and report.malformed_lines == [5]


@pytest.mark.parametrize("skip", [False, True])
def test_truncated_plain_gzip_vcf_is_refused_as_truncated(tmp_path, skip):
    from skdeepsea.variants import read_variants

    body = "".join(f"chr1\t{p}\t.\tA\tC\t.\t.\t.\n" for p in range(1, 20000))
    plain = _vcf(tmp_path, body)
    packed = tmp_path / "v.vcf.gz"
    with open(plain, "rb") as f, gzip.open(packed, "wb") as g:  # plain gzip, not bgzip
        g.write(f.read())
    _truncate(packed, 0.5)
    options = {"on_malformed": "skip"} if skip else {}
    with pytest.raises(DamagedFileError, match="v.vcf.gz is damaged or truncated"):
        list(read_variants(packed, **options))


def test_truncated_gzip_table_is_refused_as_truncated(tmp_path):
    from skdeepsea.variants import read_variants

    table = "chrom\tpos\tref\talt\n" + "".join(f"chr1\t{p}\tA\tC\n" for p in range(1, 30000))
    path = tmp_path / "v.tsv.gz"
    with gzip.open(path, "wt") as f:
        f.write(table)
    _truncate(path, 0.5)
    with pytest.raises(DamagedFileError, match="v.tsv.gz is damaged or truncated"):
        list(read_variants(path))


@pytest.mark.parametrize("rows, fragments", [
    ({"chrom": ["1"], "pos": [0], "ref": ["A"], "alt": ["C"]}, ["row 1", "1-based"]),
    ({"chrom": ["1"], "pos": ["x"], "ref": ["A"], "alt": ["C"]}, ["row 1", "not an integer"]),
    ({"chrom": ["1"], "pos": [3], "ref": [None], "alt": ["C"]}, ["row 1", "ref is missing"]),
    ({"chrom": ["1"], "position": [3], "alt": ["C"]}, ["no 'ref' column"]),
])
def test_bad_variant_table_rows(rows, fragments):
    from skdeepsea.variants import read_variants

    with pytest.raises(ValueError) as error:
        list(read_variants(pd.DataFrame(rows)))
    for fragment in fragments:
        assert fragment in str(error.value), str(error.value)


def test_build_dataset_parameters_are_named(files, tmp_path):
    from skdeepsea.data import build_dataset

    for options, fragment in (({"bin_size": 0}, "bin_size"), ({"bin_size": "200"}, "bin_size"),
                              ({"sequence_length": 2.5}, "sequence_length"),
                              ({"chunk_rows": 0}, "chunk_rows"),
                              ({"valid_chromosomes": "chr1"}, "valid_chromosomes"),
                              ({"keep": "all"}, "keep"),
                              ({"bin_size": 200, "sequence_length": 301}, "even"),
                              ({"valid_chromosomes": ["chr5"]}, "chr5"),
                              ({"valid_chromosomes": ["chr1"], "test_chromosomes": ["chr1"]},
                               "both")):
        with pytest.raises((ValueError, KeyError), match=fragment):
            build_dataset(files["genome"], [files["bed"]], tmp_path / "out", progress=False,
                          **{"valid_chromosomes": [], "test_chromosomes": [], **options})
    assert not (tmp_path / "out").exists() or os.listdir(tmp_path / "out") == []


def test_build_dataset_names_the_genome_position_of_a_bad_base(files, tmp_path):
    from skdeepsea.data import build_dataset

    bed = tmp_path / "p.bed"
    bed.write_text("chr2\t0\t200\n")
    with pytest.raises(ValueError, match=r"genome.fa: chr2:100 \(1-based\) has an invalid"):
        build_dataset(files["genome"], [bed], tmp_path / "out", bin_size=20, sequence_length=40,
                      valid_chromosomes=[], test_chromosomes=[], progress=False)


# ------------------------------------------------------------------ the command line

def _argv(command, files, tmp_path, *extra):
    out = str(tmp_path / "out")
    base = {
        "train": ["train", files["stream"], "--out", out + ".skdeepsea"],
        "demo": ["demo", "--output", out],
        "convert-bundle": ["convert-bundle", files["stream"], out],
        "build-dataset": ["build-dataset", files["genome"], out, "--peaks", files["bed"]],
        "evaluate": ["evaluate", "--model", files["model"], "--data", files["npz"], "--out", out],
        "motifs": ["motifs", "--model", files["model"], "--data", files["npz"], "--out", out],
        "variant-effects": ["variant-effects", "--model", files["model"], "--vcf", files["vcf"],
                            "--genome", files["genome"], "--out", out + ".tsv"],
        "predict": ["predict", "--model", files["model"], "--bed", files["bed"], "--genome",
                    files["genome"], "--out", out + ".tsv"],
        "import-weights": ["import-weights", files["model"], "--out", out + ".skdeepsea"],
    }[command]
    return base + list(extra)


# Every numeric option, each with a value out of its range: argparse's usage error (exit 2),
# one line naming the option and the value.
NUMERIC_OPTIONS = [
    ("demo", "--n-train", "-1"), ("demo", "--n-train", "0"), ("demo", "--n-test", "2"),
    ("demo", "--epochs", "0"), ("demo", "--seed", "-3"), ("demo", "--n-train", "1e3"),
    ("convert-bundle", "--chunk-rows", "-5"), ("convert-bundle", "--chunk-rows", "0"),
    ("build-dataset", "--bin-size", "0"), ("build-dataset", "--sequence-length", "-1000"),
    ("build-dataset", "--seed", "x"),
    ("train", "--epochs", "0"), ("train", "--batch-size", "0"), ("train", "--batch-size", "1.5"),
    ("train", "--steps-per-epoch", "-1"), ("train", "--learning-rate", "0"),
    ("train", "--learning-rate", "inf"), ("train", "--momentum", "2"),
    ("train", "--learning-rate-decay", "-1"), ("train", "--shuffle-buffer", "0"),
    ("train", "--patience", "0"), ("train", "--validation-fraction", "0.95"),
    ("train", "--random-state", "-1"), ("train", "--l2", "-1"), ("train", "--l1-sparsity", "nan"),
    ("train", "--max-kernel-norm", "0"), ("train", "--dropout", "1.5"),
    ("train", "--conv-filters", "0"), ("train", "--kernel-size", "0"), ("train", "--pool-size", "0"),
    ("train", "--fc-units", "-4"), ("train", "--checkpoint-every", "0"),
    ("evaluate", "--max-samples", "0"), ("evaluate", "--batch-size", "0"),
    ("evaluate", "--min-positives", "0"), ("evaluate", "--motif-samples", "-1"),
    ("motifs", "--threshold", "1.5"), ("motifs", "--threshold", "0"), ("motifs", "--top", "0"),
    ("motifs", "--batch-size", "-1"),
    ("variant-effects", "--max-indel-length", "-1"), ("variant-effects", "--chunk-size", "0"),
    ("variant-effects", "--batch-size", "0"),
    ("import-weights", "--sequence-length", "0"),
]


@pytest.mark.parametrize("command, option, value", NUMERIC_OPTIONS)
def test_numeric_option_out_of_range(files, tmp_path, capsys, command, option, value):
    argv = _argv(command, files, tmp_path, option, value)
    line = assert_one_line(argv, capsys, 2, f"argument {option}", repr(value).strip("'"))
    assert "Traceback" not in line
    assert os.listdir(tmp_path) == []


# List options given no item: refused (leaving the option out is how to ask for all), not "all".
EMPTY_LISTS = [
    ("variant-effects", "--targets", ""), ("variant-effects", "--targets", ","),
    ("variant-effects", "--scores", ""), ("predict", "--targets", " , "),
]


@pytest.mark.parametrize("command, option, value", EMPTY_LISTS)
def test_list_option_with_no_item_is_refused(files, tmp_path, capsys, command, option, value):
    argv = _argv(command, files, tmp_path, option, value)
    assert_one_line(argv, capsys, 2, f"argument {option}", "leave the option out for all")
    assert os.listdir(tmp_path) == []


MISSING_FILES = [
    ("train", ["train", "{tmp}/none.h5", "--out", "{tmp}/m.skdeepsea"], "no such file"),
    ("train", ["train", "{stream}", "--valid", "{tmp}/none.h5", "--out", "{tmp}/m.skdeepsea"],
     "--valid"),
    ("train", ["train", "{tmp}", "--out", "{tmp}/m.skdeepsea"], "is a folder"),
    ("evaluate", ["evaluate", "--model", "{tmp}/none.skdeepsea", "--data", "{npz}", "--out",
                  "{tmp}/r"], "--model"),
    ("evaluate", ["evaluate", "--model", "{model}", "--data", "{tmp}/none.npz", "--out",
                  "{tmp}/r"], "--data"),
    ("motifs", ["motifs", "--model", "{model}", "--data", "{tmp}/none.npz", "--out", "{tmp}/r"],
     "--data"),
    ("variant-effects", ["variant-effects", "--model", "{model}", "--vcf", "{tmp}/none.vcf",
                         "--genome", "{genome}", "--out", "{tmp}/o.tsv"], "--vcf"),
    ("variant-effects", ["variant-effects", "--model", "{model}", "--vcf", "{vcf}", "--genome",
                         "{tmp}/none.fa", "--out", "{tmp}/o.tsv"], "--genome"),
    ("predict", ["predict", "--model", "{tmp}/none.skdeepsea", "--bed", "{bed}", "--genome",
                 "{genome}", "--out", "{tmp}/o.tsv"], "--model"),
    ("import-weights", ["import-weights", "{tmp}/none.pth", "--out", "{tmp}/m.skdeepsea"],
     "no such file"),
    ("build-dataset", ["build-dataset", "{tmp}/none.fa", "{tmp}/o", "--peaks", "{bed}"],
     "genome"),
    ("build-dataset", ["build-dataset", "{genome}", "{tmp}/o", "--peaks", "{tmp}/none.bed"],
     "--peaks"),
]


@pytest.mark.parametrize("command, argv, fragment", MISSING_FILES)
def test_missing_input_file_is_one_line(files, tmp_path, capsys, command, argv, fragment):
    argv = [a.format(tmp=tmp_path, **files) for a in argv]
    line = assert_one_line(argv, capsys, 2, fragment)
    assert "none" in line or "folder" in line


def _out_is_input(files, tmp_path):
    vcf = _copy(files["vcf"], tmp_path / "v.vcf")
    stream = _copy(files["stream"], tmp_path / "train.h5")
    model = _copy(files["model"], tmp_path / "m.skdeepsea")
    bed = _copy(files["bed"], tmp_path / "r.bed")
    return {"vcf": vcf, "stream": stream, "model": model, "bed": bed}


OUT_IS_INPUT = [
    ("variant-effects", ["--model", "{model}", "--vcf", "{vcf}", "--genome", "{genome}",
                         "--out", "{vcf}"], "--vcf"),
    ("variant-effects", ["--model", "{model}", "--vcf", "{vcf}", "--genome", "{genome}",
                         "--out", "{model}"], "--model"),
    ("predict", ["--model", "{model}", "--bed", "{bed}", "--genome", "{genome}", "--out",
                 "{bed}"], "--bed"),
    ("train", ["{stream}", "--out", "{stream}"], "data"),
    ("train", ["{stream}", "--valid", "{model}", "--out", "{model}"], "--valid"),
    ("import-weights", ["{model}", "--out", "{model}"], "SRC"),
    ("convert-bundle", ["{stream}", "{stream}"], "source"),
]


@pytest.mark.parametrize("command, argv, fragment", OUT_IS_INPUT)
def test_output_over_an_input_is_refused_and_the_input_kept(files, tmp_path, capsys, command,
                                                            argv, fragment):
    copies = _out_is_input(files, tmp_path)
    before = {path: Path(path).read_bytes() for path in copies.values()}
    paths = dict(files, **copies)
    line = assert_one_line([command] + [a.format(**paths) for a in argv], capsys, 1,
                           "would replace the input", fragment)
    assert "Traceback" not in line
    for path, content in before.items():
        assert Path(path).read_bytes() == content


def test_output_over_an_input_through_another_name(files, tmp_path, capsys):
    copies = _out_is_input(files, tmp_path)
    link = tmp_path / "link.vcf"
    os.symlink(copies["vcf"], link)
    assert_one_line(["variant-effects", "--model", copies["model"], "--vcf", str(link),
                     "--genome", files["genome"], "--out", copies["vcf"]], capsys, 1,
                    "would replace the input")


def _bad_file(tmp_path, kind, files):
    path = tmp_path / {"text": "notes.skdeepsea", "damaged": "damaged.skdeepsea",
                       "truncated": "cut.skdeepsea"}[kind]
    if kind == "text":
        path.write_text("not a model\n")
    else:
        _copy(files["model"], path)
        if kind == "damaged":
            _flip_byte(path, 3000)
        else:
            _truncate(path, 0.5)
    return str(path)


@pytest.mark.parametrize("command", ["evaluate", "motifs", "variant-effects", "predict"])
@pytest.mark.parametrize("kind, fragment", [("text", "not a skdeepsea model file"),
                                            ("damaged", "damaged or truncated"),
                                            ("truncated", "damaged or truncated")])
def test_bad_model_file_is_one_line(files, tmp_path, capsys, command, kind, fragment):
    model = _bad_file(tmp_path, kind, files)
    argv = _argv(command, dict(files, model=model), tmp_path)
    line = assert_one_line(argv, capsys, 1, fragment, os.path.basename(model))
    assert "Traceback" not in line


BAD_DATA = [
    ("variant-effects", "--vcf", "POS 0", lambda t: _vcf(t, "chr1\t0\t.\tA\tC\t.\t.\t.\n",
                                                          "p0.vcf")),
    ("variant-effects", "--vcf", "line 4", lambda t: _vcf(t, "chr1\tx\t.\tA\tC\t.\t.\t.\n",
                                                           "px.vcf")),
    ("predict", "--bed", "spaces", lambda t: _text(t, "s.bed", "chr1 10 50\n")),
    ("predict", "--bed", "Contig 'chr9'", lambda t: _text(t, "c.bed", "chr9\t10\t50\n")),
    ("predict", "--bed", "chr2:100 (1-based) has an invalid character '-'",
     lambda t: _text(t, "g.bed", "chr2\t80\t120\n")),
    ("build-dataset", "--peaks", "line 1", lambda t: _text(t, "b.bed", "chr1\t5\n")),
    ("build-dataset", "--peaks", "contig 'chrZ'", lambda t: _text(t, "z.bed", "chrZ\t5\t50\n")),
    ("evaluate", "--data", "has no labels", lambda t: _npz(t, labels=False)),
    ("evaluate", "--data", "notes.npz", lambda t: _text(t, "notes.npz", "plain text")),
    ("train", None, "xdata", lambda t: _h5(t)),
    ("train", None, "damaged or truncated", lambda t: _cut_stream(t)),
    ("convert-bundle", None, "is damaged or truncated", lambda t: _cut_mat(t)),
]


def _text(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _npz(tmp_path, labels=True):
    path = tmp_path / "nolabels.npz"
    np.savez(path, X=np.array(random_dna(4)))
    return str(path)


def _h5(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["something"] = np.arange(3)
    return str(path)


_STREAM = {}


def _cut_stream(tmp_path):
    path = _copy(_STREAM["path"], tmp_path / "cut.h5")
    _truncate(path, 0.5)
    return path


def _cut_mat(tmp_path):
    x = np.zeros((30, 4, 100), dtype=np.uint8)
    path = tmp_path / "valid.mat"
    scipy.io.savemat(path, {"validxdata": x, "validdata": np.zeros((30, 2), np.uint8)})
    _truncate(path, 0.6)
    return str(path)


@pytest.mark.parametrize("command, option, fragment, make", BAD_DATA,
                         ids=[f"{c[0]}-{c[2][:20]}" for c in BAD_DATA])
def test_bad_data_is_one_line_naming_where(files, tmp_path, capsys, command, option, fragment,
                                           make):
    _STREAM["path"] = files["stream"]
    inputs = tmp_path / "in"
    inputs.mkdir()
    bad = make(inputs)
    argv = _argv(command, files, tmp_path)
    if option is None:  # the first positional argument
        argv[1] = str(bad)
    else:
        argv[argv.index(option) + 1] = str(bad)
    if command == "build-dataset":
        argv += ["--valid-chromosomes", "--test-chromosomes"]
    line = assert_one_line(argv, capsys, 1, fragment)
    assert os.path.basename(str(bad)) in line or "chr" in fragment
    assert not os.path.exists(tmp_path / "out.tsv") and not os.path.exists(tmp_path / "out")


def test_unknown_target_is_one_line(files, tmp_path, capsys):
    assert_one_line(_argv("variant-effects", files, tmp_path, "--targets", "nope"), capsys, 1,
                    "nope")


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(files, tmp_path, where):
    argv = _argv("evaluate", dict(files, npz=_npz(tmp_path)), tmp_path)
    with pytest.raises(ValueError, match="has no labels"):
        main(["--debug"] + argv if where == "before" else argv + ["--debug"])


def test_a_bug_keeps_its_traceback(files, tmp_path, monkeypatch):
    import skdeepsea.cli.evaluate as evaluate

    def broken(args):
        raise ZeroDivisionError("a bug")

    parser_args = _argv("evaluate", files, tmp_path)
    monkeypatch.setattr(evaluate, "run_evaluate", broken)
    with pytest.raises(ZeroDivisionError):
        main(parser_args)


def test_check_output_path_helper(tmp_path):
    from skdeepsea.cli._common import check_output_path

    a = tmp_path / "a.vcf"
    a.write_text("x")
    check_output_path(tmp_path / "b.tsv", {"--vcf": a, "--background": None})
    with pytest.raises(ValueError, match="--out .*a.vcf is the input file of --vcf"):
        check_output_path(tmp_path / "." / "a.vcf", {"--vcf": str(a)})


def test_convert_bundle_failing_on_one_split_keeps_the_old_files(tmp_path):
    from skdeepsea.data import convert_bundle

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    x = np.zeros((30, 4, 100), dtype=np.uint8)
    x[:, 0] = 1
    for split in ("train", "valid"):
        scipy.io.savemat(bundle / f"{split}.mat", {f"{split}xdata": x,
                                                   f"{split}data": np.zeros((30, 2), np.uint8)})
    _truncate(bundle / "valid.mat", 0.6)
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.h5").write_bytes(b"old")
    with pytest.raises(DamagedFileError, match="valid.mat is damaged or truncated"):
        convert_bundle(bundle, out)
    assert os.listdir(out) == ["train.h5"] and (out / "train.h5").read_bytes() == b"old"


def test_variant_window_with_a_bad_genome_base_names_the_variant(files, tmp_path, capsys):
    vcf = _vcf(tmp_path, "chr2\t95\t.\tA\tC\t.\t.\t.\n", "gap.vcf")
    line = assert_one_line(_argv("variant-effects", dict(files, vcf=str(vcf)), tmp_path,
                                 "--ref-mismatch", "score", "--no-progress"), capsys, 1,
                           "Variant chr2:95 A>C, line 4", "genome.fa",
                           "of its reference window has an invalid character '-'")
    assert not os.path.exists(tmp_path / "out.tsv"), line


def _lazy_x_with(tmp_path, X, where, value):
    """X as a float32 .npy memmap (a lazy input) holding ``value`` at index ``where``."""
    values = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32,
                                       shape=X.shape)
    values[:] = X
    values[where] = value
    values.flush()
    return np.load(tmp_path / "x.npy", mmap_mode="r")


@pytest.mark.parametrize("train", [True, False])
def test_nan_in_a_lazy_x_names_the_sample(data, tmp_path, train):
    _, X, y = data
    lazy = _lazy_x_with(tmp_path, X, (29, 11, 3), np.nan)
    clean = X.astype(np.float32)
    with pytest.raises(ValueError, match=r"X\[29\] holds nan at position 11 \(channel 3\)"):
        if train:
            DeepSEAClassifier(**TINY).fit(lazy, y)
        else:
            DeepSEAClassifier(**TINY).fit(clean, y).predict_proba(lazy)


@pytest.mark.parametrize("command, option, kind", [
    ("variant-effects", "--out", "folder"), ("predict", "--out", "folder"),
    ("train", "--out", "folder"), ("import-weights", "--out", "folder"),
    ("evaluate", "--out", "file"), ("motifs", "--out", "file"), ("demo", "--output", "file"),
    ("build-dataset", None, "file"),
])
def test_output_of_the_wrong_kind_is_refused_before_work(files, tmp_path, capsys, command,
                                                         option, kind):
    target = tmp_path / "taken"
    if kind == "folder":
        target.mkdir()
    else:
        target.write_text("mine")
    argv = _argv(command, files, tmp_path)
    if option is None:
        argv[2] = str(target)
    else:
        argv[argv.index(option) + 1] = str(target)
    # Refused before the work (a late refusal would show in the demo: minutes of training).
    assert_one_line(argv, capsys, 1, str(target), f"is a {kind}")
    assert (target.is_dir() and os.listdir(target) == []) or target.read_text() == "mine"


def test_train_out_over_its_checkpoint_is_refused(files, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.npz").write_bytes(b"a checkpoint")
    assert_one_line(["train", files["stream"], "--checkpoint-dir", str(run), "--out",
                     str(run / "checkpoint.npz")], capsys, 1, "--checkpoint-dir",
                    "would replace the input")
    assert (run / "checkpoint.npz").read_bytes() == b"a checkpoint"


@pytest.mark.parametrize("config, fragment", [
    ('{"class_name": "Nope", "config": {}}', "Nope"),
    ("{{{", "Expecting property name"),
])
def test_model_file_whose_network_cannot_be_rebuilt(files, tmp_path, config, fragment):
    import io
    import json

    import skdeepsea

    network = io.BytesIO()
    with zipfile.ZipFile(network, "w") as archive:
        archive.writestr("config.json", config)
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
    path = tmp_path / "m.skdeepsea"
    with zipfile.ZipFile(files["model"]) as good, zipfile.ZipFile(path, "w") as bad:
        bad.writestr("estimator.json", good.read("estimator.json"))
        bad.writestr("model.keras", network.getvalue())
    with pytest.raises(ValueError, match=r"m.skdeepsea: its network \(model.keras\) cannot be "
                                         rf"loaded: .*{fragment}"):
        skdeepsea.load(str(path))


@pytest.mark.parametrize("option, value", [
    ("--n-shuffles", "0"), ("--n-steps", "-2"), ("--batch-size", "0"), ("--seed", "-1"),
    ("--max-figures", "-1"), ("--flank", "-3"),
])
def test_attribute_numeric_options(files, tmp_path, capsys, option, value):
    assert_one_line(["attribute", "--model", files["model"], "--sequences", "ACGT", "--out",
                     str(tmp_path / "a.npz"), option, value], capsys, 2, f"argument {option}")


def test_attribute_out_over_its_fasta(files, tmp_path, capsys):
    fasta = tmp_path / "s.fa"
    fasta.write_text(">a\n" + "A" * L + "\n")
    assert_one_line(["attribute", "--model", files["model"], "--fasta", str(fasta), "--out",
                     str(fasta)], capsys, 1, "would replace the input", "--fasta")
    assert fasta.read_text() == ">a\n" + "A" * L + "\n"


@pytest.mark.parametrize("change, fragment", [
    (lambda y, s: (y, np.where(np.arange(s.size).reshape(s.shape) == 23, np.nan, s)),
     "y_score[7, 2] is nan"),
    (lambda y, s: (np.where(np.arange(y.size).reshape(y.shape) == 10, 0.5, y), s),
     "y_true[3, 1] is 0.5"),
    (lambda y, s: (y, s[:, :2]), "shape"),
])
def test_evaluation_names_the_bad_score_or_label(tmp_path, change, fragment):
    from skdeepsea.report import write_report

    rng = np.random.default_rng(0)
    y, score = change(rng.integers(0, 2, (50, 3)), rng.random((50, 3)))
    with pytest.raises(ValueError) as error:
        write_report(tmp_path / "report", y, score)
    assert fragment in str(error.value), str(error.value)
    assert not (tmp_path / "report").exists()


@pytest.mark.parametrize("options, fragment", [
    ({"chunk_rows": 0}, "chunk_rows"), ({"chunk_rows": -5}, "chunk_rows"),
    ({"chunk_rows": 2.5}, "chunk_rows"), ({"block_size": 0}, "block_size"),
    ({"compression": "zip"}, "compression"), ({"target_names": ["a"]}, "1 target names"),
])
def test_write_dataset_options_are_named(data, tmp_path, options, fragment):
    _, X, y = data
    with pytest.raises(ValueError, match=fragment):
        write_dataset(tmp_path / "d.h5", X, y, **options)
    assert os.listdir(tmp_path) == []


def test_a_failed_prediction_or_fit_leaves_the_model_whole(data, tmp_path):
    """Keras' JAX trainer takes the weights out of the model while it runs: a batch refused
    mid-way must not leave a network without weights."""
    from skdeepsea.motifs import filter_motifs

    _, X, y = data
    model = DeepSEAClassifier(**TINY).fit(X, y)
    expected = model.predict_proba(X)
    lazy = _lazy_x_with(tmp_path, X, (20, 3, 0), np.inf)
    for fails in (lambda: model.predict_proba(lazy),
                  lambda: filter_motifs(model, lazy, batch_size=8, progress=False),
                  lambda: model.set_params(warm_start=True).fit(lazy, y)):
        with pytest.raises(ValueError, match=r"X\[20\] holds inf at position 3"):
            fails()
        np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-6)
