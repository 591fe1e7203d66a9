"""Contribution scores: options taken as given, files that load back, arrays that agree.

Each case is a mistake with ``attribute``, ``write_attributions`` / ``read_attributions`` or the
``attribute`` command: one clear error naming the parameter or the file, nothing written, or
the documented handling (a warning for sequences without a base).
"""

import os
import re
import warnings

import h5py
import numpy as np
import pytest

from skdeepsea import OneHotDNA
from skdeepsea.attribution import (
    attribute,
    dinucleotide_shuffle,
    read_attributions,
    write_attributions,
)
from skdeepsea.exceptions import DamagedFileError
from skdeepsea.network import build_deepsea
from tests.test_errors import assert_one_line, random_dna

L = 40


@pytest.fixture(scope="module")
def network():
    return build_deepsea(L, 3, conv_filters=(4, 4, 4), kernel_size=3, pool_size=2, fc_units=8,
                         seed=0)


@pytest.fixture(scope="module")
def sequences():
    return random_dna(3, seed=4)


@pytest.fixture(scope="module")
def result(network, sequences):
    return attribute(network, sequences, targets=[0, 2], method="gradient_x_input")


@pytest.fixture(scope="module")
def saved(result, tmp_path_factory):
    folder = tmp_path_factory.mktemp("scores")
    return {fmt: write_attributions(result, folder / f"scores.{fmt}")
            for fmt in ("npz", "h5")}


# ------------------------------------------------------------------ options

@pytest.mark.parametrize("name, value", [
    ("hypothetical", "no"), ("hypothetical", "False"), ("hypothetical", 1),
    ("hypothetical", None), ("sum_targets", "yes"), ("sum_targets", 0),
])
def test_boolean_options_must_be_bools(network, sequences, name, value):
    with pytest.raises(ValueError, match=f"{name} must be True or False, got {value!r}"):
        attribute(network, sequences, method="gradient_x_input", **{name: value})


@pytest.mark.parametrize("options, message", [
    ({"strand": "both2"}, "attribute: strand must be one of ('mean', 'forward'), got 'both2'"),
    ({"strand": "max"}, "attribute: strand must be one of ('mean', 'forward'), got 'max'"),
    ({"strands": "three"},
     "attribute: strands must be one of ('forward', 'both') or None, got 'three'."),
    ({"strand": ["mean"]}, "attribute: strand must be one of ('mean', 'forward'), got ['mean']"),
    ({"strand": "mean", "strands": "both"}, "strands='both' is the former name of strand="),
])
def test_strand_is_one_of_its_values(network, sequences, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        attribute(network, sequences, method="gradient_x_input", **options)


@pytest.mark.parametrize("value", ["abc", -1, 1.5, True, [1, 2]])
def test_random_state_must_be_a_seed(network, sequences, value):
    with pytest.raises(ValueError, match="random_state must be"):
        attribute(network, sequences, n_shuffles=2, random_state=value)


def test_dinucleotide_shuffle_random_state_is_named():
    with pytest.raises(ValueError, match=re.escape(
            "dinucleotide_shuffle: random_state must be None, an integer or a numpy Generator, "
            "got 'abc'.")):
        dinucleotide_shuffle(np.eye(4)[[[0, 1, 2, 3]]], 2, random_state="abc")


def test_random_state_takes_a_generator(network, sequences):
    a = attribute(network, sequences, n_shuffles=2, random_state=np.random.default_rng(3))
    b = attribute(network, sequences, n_shuffles=2, random_state=3)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("targets", [[], ()])
def test_an_empty_target_list_is_named(network, sequences, targets):
    with pytest.raises(ValueError, match="No targets chosen"):
        attribute(network, sequences, targets=targets, method="gradient_x_input")


@pytest.mark.parametrize("sequence", ["N" * L, "n" * L])
def test_a_sequence_without_bases_warns_and_scores_zero(network, sequences, sequence):
    """Documented: a warning naming the sequence, its scores zeros."""
    with pytest.warns(UserWarning, match="1 sequence.* hold no base .* the first sequence 1"):
        scores = attribute(network, [sequences[0], sequence], method="gradient_x_input").scores
    assert not scores[1].any() and scores[0].any()


def test_sequences_with_bases_do_not_warn(network, sequences):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        attribute(network, ["N" * 10 + sequences[0][10:]], method="gradient_x_input")


def test_an_all_zero_one_hot_row_set_warns(network, sequences):
    X = np.asarray(OneHotDNA().fit_transform(sequences))
    X[2] = 0
    with pytest.warns(UserWarning, match="first sequence 2"):
        attribute(network, X, method="gradient_x_input")


# ------------------------------------------------------------------ writing

@pytest.mark.parametrize("fmt", ["csv", "npy", "h5", "NPZ", ""])
def test_unknown_format_is_refused_and_nothing_written(result, tmp_path, fmt):
    with pytest.raises(ValueError, match=r"write_attributions: format must be None or one of "
                                         r"\('npz', 'hdf5'\)"):
        write_attributions(result, tmp_path / "scores.npz", format=fmt)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fmt, name", [("hdf5", "scores.npz"), ("npz", "scores.h5"),
                                       ("hdf5", "scores.dat"), ("npz", "scores")])
def test_a_format_under_another_name_loads_back(result, tmp_path, fmt, name):
    path = write_attributions(result, tmp_path / name, format=fmt)
    back = read_attributions(path)
    np.testing.assert_array_equal(back.scores, result.scores)
    assert back.targets == result.targets


# ------------------------------------------------------------------ reading

@pytest.mark.parametrize("name", ["notes.npz", "notes.h5", "notes.hdf5"])
def test_a_file_of_another_kind_is_named(tmp_path, name):
    (tmp_path / name).write_text("plain text\n")
    with pytest.raises(ValueError, match=f"{name} is not a file of contribution scores"):
        read_attributions(tmp_path / name)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="none.npz"):
        read_attributions(tmp_path / "none.npz")


@pytest.mark.parametrize("fmt", ["npz", "h5"])
def test_a_truncated_file_is_damaged(saved, tmp_path, fmt):
    content = open(saved[fmt], "rb").read()
    path = tmp_path / f"cut.{fmt}"
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(DamagedFileError, match=f"cut.{fmt} is damaged or truncated"):
        read_attributions(path)


def _rewrite(saved, tmp_path, change):
    with np.load(saved["npz"]) as f:
        values = {k: f[k] for k in f.files}
    change(values)
    path = tmp_path / "changed.npz"
    np.savez(path, **values)
    return path


def _as_former_file(values, strands):
    """A file as written before ``strand``: its ``strands`` attribute instead."""
    del values["strand"]
    values["strands"] = np.array(strands)


DISAGREEING = [
    ("fewer sequences", lambda v: v.update(sequences=v["sequences"][:2]),
     "sequences has shape (2, 40, 4), but scores (3, 2, 40, 4) make it (3, 40, 4)"),
    ("shorter sequences", lambda v: v.update(sequences=v["sequences"][:, :30]),
     "sequences has shape (3, 30, 4)"),
    ("outputs of other targets", lambda v: v.update(outputs=v["outputs"][:, :1]),
     "outputs has shape (3, 1)"),
    ("one target name", lambda v: v.update(targets=v["targets"][:1]),
     "1 target name(s) for the 2 target(s)"),
    ("three target names", lambda v: v.update(targets=np.array([b"a", b"b", b"c"])),
     "3 target name(s) for the 2 target(s)"),
    ("3-D scores", lambda v: v.update(scores=v["scores"][:, 0]), "scores must have shape"),
    ("unknown method", lambda v: v.update(method=np.array("magic")), "method is 'magic'"),
    ("unknown strand", lambda v: v.update(strand=np.array("three")), "strand is 'three'"),
    ("unknown former strands", lambda v: _as_former_file(v, "three"), "strand is 'three'"),
    ("no scores", lambda v: v.pop("scores"), "not a file of contribution scores: no scores"),
]


@pytest.mark.parametrize("what, change, fragment", DISAGREEING, ids=[c[0] for c in DISAGREEING])
def test_arrays_that_disagree_are_refused_naming_the_file(saved, tmp_path, what, change,
                                                          fragment):
    path = _rewrite(saved, tmp_path, change)
    with pytest.raises(ValueError) as raised:
        read_attributions(path)
    assert "changed.npz" in str(raised.value) and fragment in str(raised.value)


def test_hdf5_reference_outputs_that_disagree(saved, tmp_path, network, sequences):
    scores = attribute(network, sequences, n_shuffles=2)
    path = write_attributions(scores, tmp_path / "d.h5")
    with h5py.File(path, "a") as f:
        del f["reference_outputs"]
        f["reference_outputs"] = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"d.h5: reference_outputs has shape \(2, 3\)"):
        read_attributions(path)


# ------------------------------------------------------------------ the command

@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    from tests.test_errors import TINY

    from skdeepsea import DeepSEAClassifier

    X = OneHotDNA(dtype="uint8").fit_transform(random_dna(32))
    y = np.random.default_rng(1).integers(0, 2, (32, 2))
    path = tmp_path_factory.mktemp("model") / "m.skdeepsea"
    DeepSEAClassifier(**TINY).fit(X, y).save(path)
    return str(path)


@pytest.mark.parametrize("option, value", [("--targets", ","), ("--targets", " , ,"),
                                           ("--targets", ""), ("--sequences", ",")])
def test_attribute_command_with_an_empty_list_is_one_line(model_file, tmp_path, capsys, option,
                                                          value):
    out = tmp_path / "a.npz"
    argv = {"--sequences": random_dna(1)[0], "--targets": "0", option: value}
    assert_one_line(["attribute", "--model", model_file, "--out", str(out),
                     *[item for pair in argv.items() for item in pair]], capsys, 2,
                    f"argument {option}", "leave the option out for all")
    assert not out.exists()


def test_attribute_command_output_loads_back(model_file, tmp_path, capsys):
    from skdeepsea.cli import main

    out = tmp_path / "a.hdf5"
    assert main(["attribute", "--model", model_file, "--sequences", ",".join(random_dna(2)),
                 "--method", "gradient_x_input", "--out", str(out)]) == 0
    assert read_attributions(out).scores.shape == (2, 2, L, 4)


def test_attribute_command_former_strands_option_warns_and_is_hidden(model_file, tmp_path,
                                                                    capsys):
    from skdeepsea.cli import main

    command = ["attribute", "--model", model_file, "--sequences", ",".join(random_dna(2)),
               "--method", "gradient_x_input"]
    assert main([*command, "--strand", "mean", "--out", str(tmp_path / "new.npz")]) == 0
    with pytest.warns(FutureWarning, match="--strands is deprecated.*write --strand mean"):
        assert main([*command, "--strands", "both", "--out", str(tmp_path / "old.npz")]) == 0
    new, old = (read_attributions(tmp_path / name) for name in ("new.npz", "old.npz"))
    assert new.strand == old.strand == "mean"
    np.testing.assert_array_equal(old.scores, new.scores)
    with pytest.raises(SystemExit):
        main(["attribute", "--help"])
    help_text = capsys.readouterr().out
    assert "--strand {forward,mean}" in help_text and "--strands" not in help_text
    with pytest.raises(SystemExit):
        main([*command, "--strand", "mean", "--strands", "both", "--out", "x.npz"])
    assert "not allowed with argument" in capsys.readouterr().err
