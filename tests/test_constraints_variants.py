"""The parameter constraints of the public functions of skdeepsea.variants and
skdeepsea.attribution (issue 21): each refuses a bad value of each kind of parameter in the one
wording, ``"<function>: <name> must be <expected>, got <value>."``, before any file is read or
written, and accepts what its docstring documents."""

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pysam")

import skdeepsea  # noqa: E402
from skdeepsea import DeepSEAClassifier  # noqa: E402
from skdeepsea.attribution import (  # noqa: E402
    attribute,
    dinucleotide_shuffle,
    read_attributions,
    write_attributions,
)
from skdeepsea.genome import Genome  # noqa: E402
from skdeepsea.network import build_deepsea  # noqa: E402
from skdeepsea.variants import (  # noqa: E402
    attribute_variants,
    deepsea_feature_names,
    deepsea_target_names,
    effect_scores,
    functional_significance,
    in_silico_mutagenesis,
    iter_variant_scores,
    load_deepsea_classifiers,
    predict_bed,
    predict_fasta,
    read_variant_scores,
    read_variants,
    score_variants,
    variant_windows,
    write_variant_scores,
)

from .conftest import refused  # noqa: E402
from .test_errors import L, data, files  # noqa: E402, F401  (module fixtures)


def exactly(message):
    return f"^{re.escape(message)}$"


@pytest.fixture(scope="module")
def model(files):
    return skdeepsea.load(files["model"])


@pytest.fixture(scope="module")
def network():
    return build_deepsea(L, 3, conv_filters=(4, 4, 4), kernel_size=3, pool_size=2, fc_units=8,
                         seed=0)


@pytest.fixture(scope="module")
def genome(files):
    with Genome(files["genome"]) as opened:
        yield opened


# ------------------------------------------------------------------ variant scoring

# No file exists: a refusal before anything is read. The model needs no fit: the constraints
# are checked before it is used.
SCORE_BAD = [
    ("model", 3), ("model", "m.skdeepsea"), ("variants", 3), ("variants", ""),
    ("genome", None), ("genome", b"g.fa"), ("targets", 2.5), ("targets", [0, 1.5]),
    ("targets", True), ("targets", {"a"}), ("strand", "both"), ("chunk_size", 2.0),
    ("batch_size", 0), ("epsilon", 0.5), ("scores", ("effect", "size")), ("report", []),
    ("client", ""), ("worker_threads", 0), ("method", "fastest"),
]


@pytest.mark.parametrize("name, bad", SCORE_BAD)
def test_score_variants_refuses_each_kind_of_bad_parameter(tmp_path, name, bad):
    args = {"model": DeepSEAClassifier(), "variants": tmp_path / "v.vcf",
            "genome": tmp_path / "g.fa", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "score_variants")):
        score_variants(**args)


def test_score_variants_says_what_a_model_is(tmp_path):
    with pytest.raises(ValueError, match=exactly(
            "score_variants: model must be a fitted DeepSEAClassifier, got 'm.skdeepsea'.")):
        score_variants("m.skdeepsea", tmp_path / "v.vcf", tmp_path / "g.fa")
    with pytest.raises(ValueError, match=exactly(
            "score_variants: targets must be None or a target name or index, or a list of "
            "them, got [0, 1.5].")):
        score_variants(DeepSEAClassifier(), tmp_path / "v.vcf", tmp_path / "g.fa",
                       targets=[0, 1.5])


@pytest.mark.parametrize("name, bad", [
    ("model", 3), ("variants", 3), ("genome", None), ("out", None), ("out", ""),
    ("format", "csv"), ("progress", "no"), ("significance_out", 3), ("targets", 2.5),
    ("strand", "both"), ("max_indel_length", -1), ("on_malformed", "warn"), ("epsilon", -0.1),
    ("contig_ends", "wrap"),
])
def test_write_variant_scores_refuses_and_writes_nothing(tmp_path, name, bad):
    out = tmp_path / "o.tsv"
    args = {"model": "m.skdeepsea", "variants": tmp_path / "v.vcf",
            "genome": tmp_path / "g.fa", "out": out, name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "write_variant_scores")):
        write_variant_scores(**args)
    assert not out.exists() and not os.listdir(tmp_path)


@pytest.mark.parametrize("option", ["report", "strnad", "client_"])
def test_write_variant_scores_names_what_is_not_an_option(tmp_path, option):
    with pytest.raises(TypeError, match=exactly(
            f"write_variant_scores: got an unexpected parameter {option!r}.")):
        write_variant_scores("m.skdeepsea", "v.vcf", "g.fa", tmp_path / "o.tsv",
                             **{option: None})
    assert not os.listdir(tmp_path)


def test_write_variant_scores_refuses_before_reading_real_inputs(files, tmp_path):
    out = tmp_path / "o.h5"
    with pytest.raises(ValueError, match=refused("chunk_size", 0, "write_variant_scores")):
        write_variant_scores(files["model"], files["vcf"], files["genome"], out, chunk_size=0)
    assert not out.exists() and not os.listdir(tmp_path)


@pytest.mark.parametrize("name, bad", [
    ("model", "m.skdeepsea"), ("variants", None), ("genome", 3), ("targets", 1.5),
    ("strand", "sum"), ("chunk_size", 0), ("progress", "bar"), ("evalues", "e.pkl"),
])
def test_iter_variant_scores_refuses_when_called_not_when_iterated(tmp_path, name, bad):
    args = {"model": DeepSEAClassifier(), "variants": tmp_path / "v.vcf",
            "genome": tmp_path / "g.fa", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "iter_variant_scores")):
        iter_variant_scores(**args)  # not iterated


def test_iter_variant_scores_has_no_cluster_options(tmp_path):
    with pytest.raises(TypeError, match="client"):
        iter_variant_scores(DeepSEAClassifier(), tmp_path / "v.vcf", tmp_path / "g.fa",
                            client="tcp://host:8786")


def test_the_documented_targets_and_genomes_are_accepted(model, files, genome):
    every = score_variants(model, files["vcf"], files["genome"])
    names = [c.split(":", 1)[1] for c in every.columns if c.startswith("diff:")]
    for targets in (names[1], 1, np.int64(1), [names[1]], (1,), np.array([1]),
                    pd.Index([names[1]]), [np.str_(names[1])]):
        frame = score_variants(model, files["vcf"], genome, targets=targets, scores=("diff",))
        assert [c for c in frame.columns if ":" in c] == [f"diff:{names[1]}"]
    paths = score_variants(model, Path(files["vcf"]), Path(files["genome"]))
    pd.testing.assert_frame_equal(paths, every)
    with pytest.raises(ValueError, match="No targets chosen"):  # passes the constraint
        score_variants(model, files["vcf"], genome, targets=[])


# ------------------------------------------------------------------ variant reading and windows

@pytest.mark.parametrize("name, bad", [
    ("source", 3), ("source", None), ("chunk_size", 0), ("chunk_size", 2.0),
    ("on_malformed", "warn"), ("report", "r"),
])
def test_read_variants_refuses_when_called(tmp_path, name, bad):
    args = {"source": tmp_path / "v.vcf", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "read_variants")):
        read_variants(**args)  # not iterated


def test_read_variants_takes_a_path_or_a_frame(files):
    table = pd.DataFrame({"chrom": ["chr1"], "pos": [5], "ref": ["A"], "alt": ["C"]})
    assert len(next(read_variants(table, chunk_size=np.int64(1)))) == 1
    assert len(next(read_variants(Path(files["vcf"])))) == 30


@pytest.mark.parametrize("name, bad", [
    ("genome", "g.fa"), ("variants", [("chr1", 5, "A", "C")]), ("sequence_length", 0),
    ("sequence_length", 40.0), ("max_indel_length", -1), ("ref_mismatch", "fix"),
    ("contig_ends", "wrap"),
])
def test_variant_windows_refuses_each_bad_parameter(genome, name, bad):
    args = {"genome": genome, "sequence_length": L,
            "variants": pd.DataFrame({"chrom": ["chr1"], "pos": [50], "ref": ["A"],
                                      "alt": ["C"]}), name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "variant_windows")):
        variant_windows(**args)


def test_variant_windows_names_missing_columns(genome):
    with pytest.raises(ValueError, match=exactly(
            "variant_windows: variants lacks the column(s) 'ref'; it needs chrom, pos "
            "(1-based), ref and alt.")):
        variant_windows(genome, pd.DataFrame({"chrom": ["chr1"], "pos": [50], "alt": ["C"]}),
                        L)


@pytest.mark.parametrize("name, bad", [("path", None), ("path", ""), ("path", 3)])
def test_read_variant_scores_refuses_what_is_not_a_path(name, bad):
    with pytest.raises(ValueError, match=refused(name, bad, "read_variant_scores")):
        read_variant_scores(bad)


# ------------------------------------------------------------------ scores and significance

@pytest.mark.parametrize("name, bad", [
    ("p_ref", "0.5"), ("p_ref", None), ("p_alt", {"a": 1}), ("epsilon", 0.5),
    ("epsilon", -0.1), ("epsilon", "0.01"),
])
def test_effect_scores_refuses_each_bad_parameter(name, bad):
    args = {"p_ref": np.array([0.2]), "p_alt": np.array([0.6]), name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "effect_scores")):
        effect_scores(**args)


def test_effect_scores_takes_numbers_and_lists():
    assert float(effect_scores(0.5, 0.8)["diff"]) == pytest.approx(0.3)
    np.testing.assert_allclose(effect_scores([0.5], [0.8], epsilon=0.01)["diff"], [0.3])


@pytest.mark.parametrize("name, bad", [
    ("chromatin_evalues", "0.1"), ("chromatin_evalues", None),
    ("conservation_evalues", "0.1"),
])
def test_functional_significance_refuses_each_bad_parameter(name, bad):
    args = {"chromatin_evalues": [[0.1, 1.0]], name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "functional_significance")):
        functional_significance(**args)


def test_functional_significance_names_a_wrong_shape():
    with pytest.raises(ValueError, match=exactly(
            "functional_significance: chromatin_evalues must have shape (n_variants, n), "
            "got (2,).")):
        functional_significance([0.1, 1.0])
    with pytest.raises(ValueError, match=exactly(
            "functional_significance: conservation_evalues has 2 row(s) for the 1 variant(s) "
            "of chromatin_evalues.")):
        functional_significance([[0.1, 1.0]], [[0.1] * 4, [0.2] * 4])
    np.testing.assert_allclose(functional_significance([[0.01, 1.0]]), [0.1])


# ------------------------------------------------------------------ DeepSEA's resources

@pytest.mark.parametrize("function", [deepsea_target_names, load_deepsea_classifiers])
@pytest.mark.parametrize("bad", [None, "", 3])
def test_deepsea_folders_must_be_paths(function, bad):
    with pytest.raises(ValueError, match=refused("folder", bad, function.__name__)):
        function(bad)


@pytest.mark.parametrize("bad", ["K562|CTCF|None", [1, 2], None, [["a"]]])
def test_deepsea_feature_names_takes_a_list_of_names(bad):
    with pytest.raises(ValueError, match=refused("target_names", bad, "deepsea_feature_names")):
        deepsea_feature_names(bad)


def test_deepsea_feature_names_takes_any_sequence_of_names():
    expected = deepsea_feature_names(["a", "b"]).tolist()
    for names in (("a", "b"), np.array(["a", "b"]), pd.Index(["a", "b"])):
        assert deepsea_feature_names(names).tolist() == expected


# ------------------------------------------------------------------ prediction

@pytest.mark.parametrize("name, bad", [
    ("model", "m.skdeepsea"), ("path", None), ("targets", {"a"}), ("chunk_size", 0),
])
def test_predict_fasta_refuses_each_bad_parameter(tmp_path, name, bad):
    args = {"model": DeepSEAClassifier(), "path": tmp_path / "s.fa", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "predict_fasta")):
        predict_fasta(**args)


@pytest.mark.parametrize("name, bad", [
    ("model", None), ("regions", 3), ("genome", None), ("targets", 1.5), ("chunk_size", -1),
])
def test_predict_bed_refuses_each_bad_parameter(tmp_path, name, bad):
    args = {"model": DeepSEAClassifier(), "regions": tmp_path / "r.bed",
            "genome": tmp_path / "g.fa", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "predict_bed")):
        predict_bed(**args)


def test_predict_bed_takes_a_frame_and_a_genome(model, genome):
    regions = pd.DataFrame({"chrom": ["chr1"], "start": [100], "end": [300]})
    assert len(predict_bed(model, regions, genome, targets=[0], chunk_size=np.int64(5))) == 1


# ------------------------------------------------------------------ mutagenesis

@pytest.mark.parametrize("name, bad", [
    ("model", "m.skdeepsea"), ("sequence", ["ACGT"]), ("sequence", None), ("start", -1),
    ("start", 1.5), ("end", 0), ("targets", 2.5), ("strand", "max"), ("method", "device"),
    ("batch_size", 0), ("epsilon", 0.5),
])
def test_in_silico_mutagenesis_refuses_each_bad_parameter(name, bad):
    args = {"model": DeepSEAClassifier(), "sequence": "ACGT" * 10, name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "in_silico_mutagenesis")):
        in_silico_mutagenesis(**args)


def test_in_silico_mutagenesis_takes_numpy_integers(model):
    result = in_silico_mutagenesis(model, "ACGT" * 10, start=np.int64(3), end=np.int32(5),
                                   targets=np.array([0]), method="naive")
    assert result.positions.tolist() == [3, 4] and result.proba.shape == (2, 4, 1)


# ------------------------------------------------------------------ attribution

ATTRIBUTE_BAD = [
    ("model", "m.skdeepsea"), ("X", 3), ("X", None), ("targets", 1.5), ("method", "saliency"),
    ("output", "odds"), ("strand", "max"), ("strands", "three"), ("sum_targets", 1),
    ("references", "random"), ("n_shuffles", 0), ("n_steps", 2.5), ("hypothetical", "no"),
    ("alphabet", "ACGU"), ("batch_size", 0), ("random_state", -1),
]


@pytest.mark.parametrize("name, bad", ATTRIBUTE_BAD)
def test_attribute_refuses_each_bad_parameter(network, name, bad):
    args = {"model": network, "X": ["ACGT" * 10], name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "attribute")):
        attribute(**args)


def test_attribute_says_what_a_model_is(network):
    with pytest.raises(ValueError, match=exactly(
            "attribute: model must be a fitted DeepSEAClassifier or a keras.Model, got 3.")):
        attribute(3, ["ACGT" * 10])
    with pytest.raises(ValueError, match=exactly(
            "attribute: strand must be one of ('mean', 'forward'), got 'max'.")):
        attribute(network, ["ACGT" * 10], strand="max")


def test_attribute_takes_the_former_strand_spellings_with_a_warning(network):
    with pytest.warns(FutureWarning, match="strand='mean'"):
        former = attribute(network, ["ACGT" * 10], method="gradient_x_input", strand="both")
    with pytest.warns(FutureWarning, match="strands='both' is deprecated"):
        renamed = attribute(network, ["ACGT" * 10], method="gradient_x_input", strands="both")
    assert former.strand == renamed.strand == "mean"


def test_attribute_warns_at_the_callers_line(network):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        attribute(network, ["N" * L], method="gradient_x_input")
    [warning] = [w for w in caught if issubclass(w.category, UserWarning)]
    assert warning.filename == __file__


@pytest.mark.parametrize("name, bad", [
    ("model", "m.skdeepsea"), ("variants", 3), ("genome", 3), ("max_indel_length", -1),
    ("method", "saliency"), ("strand", "max"), ("n_shuffles", 0), ("random_state", "abc"),
])
def test_attribute_variants_refuses_each_bad_parameter_before_reading(tmp_path, genome, name,
                                                                     bad):
    args = {"model": DeepSEAClassifier(), "variants": tmp_path / "v.vcf", "genome": genome,
            name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "attribute_variants")):
        attribute_variants(**args)


def test_attribute_variants_names_what_is_not_an_option(tmp_path, genome):
    with pytest.raises(TypeError, match=exactly(
            "attribute_variants: got an unexpected parameter 'strnad'.")):
        attribute_variants(DeepSEAClassifier(), tmp_path / "v.vcf", genome, strnad="mean")
    with pytest.raises(TypeError, match=exactly(
            "attribute_variants: got an unexpected parameter 'X'.")):
        attribute_variants(DeepSEAClassifier(), tmp_path / "v.vcf", genome, X=["A"])


@pytest.mark.parametrize("name, bad", [
    ("X", "ACGT"), ("X", None), ("n_shuffles", 0), ("n_shuffles", 2.0),
    ("random_state", 1.5), ("random_state", np.random.RandomState(0)),
])
def test_dinucleotide_shuffle_refuses_each_bad_parameter(name, bad):
    args = {"X": np.eye(4)[[[0, 1, 2, 3]]], name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "dinucleotide_shuffle")):
        dinucleotide_shuffle(**args)


def test_dinucleotide_shuffle_names_a_wrong_shape():
    with pytest.raises(ValueError, match=exactly(
            "dinucleotide_shuffle: X must have shape (n_sequences, length, n_channels), "
            "got (4, 4).")):
        dinucleotide_shuffle(np.eye(4))


@pytest.fixture(scope="module")
def result(network):
    return attribute(network, ["ACGT" * 10], method="gradient_x_input")


@pytest.mark.parametrize("name, bad", [
    ("attributions", "scores"), ("attributions", None), ("path", None), ("path", ""),
    ("format", "csv"),
])
def test_write_attributions_refuses_and_writes_nothing(result, tmp_path, name, bad):
    args = {"attributions": result, "path": tmp_path / "scores.npz", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "write_attributions")):
        write_attributions(**args)
    assert not (tmp_path / "scores.npz").exists() and not os.listdir(tmp_path)


def test_read_attributions_refuses_what_is_not_a_path(result, tmp_path):
    with pytest.raises(ValueError, match=exactly(
            "read_attributions: path must be a path (str or os.PathLike), got None.")):
        read_attributions(None)
    path = write_attributions(result, tmp_path / "scores.h5")
    assert read_attributions(Path(path)).targets == result.targets


def test_attribute_variants_opens_a_genome_path_and_leaves_an_open_genome_open(model, files,
                                                                             genome):
    # It took an open Genome only, unlike variant scoring.
    frame, ref, alt = attribute_variants(model, files["vcf"], Path(files["genome"]),
                                         method="gradient_x_input")
    frame_open, ref_open, alt_open = attribute_variants(model, files["vcf"], genome,
                                                        method="gradient_x_input")
    assert frame["scored"].sum() == len(ref.scores) > 0
    assert frame.equals(frame_open)
    np.testing.assert_array_equal(ref.scores, ref_open.scores)
    np.testing.assert_array_equal(alt.scores, alt_open.scores)
    assert genome.fetch("chr1", 0, 4)  # still open


def test_attribute_variants_of_a_file_without_variants_attributes_nothing(model, genome,
                                                                         tmp_path):
    # It raised pandas' "No objects to concatenate".
    empty = tmp_path / "none.vcf"
    empty.write_text("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
    frame, ref, alt = attribute_variants(model, empty, genome)
    assert len(frame) == 0 and ref is None and alt is None
    assert {"chrom", "pos", "ref", "alt", "scored", "reason"} <= set(frame.columns)
