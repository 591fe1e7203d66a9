"""The parameter constraints of the network builders, metrics, report, motifs, plots, the
multi-process start and the demo (issue 21): each refuses a bad value of each parameter in the
one wording, naming the function and the parameter, before any work (the writers write
nothing); each accepts what its docstring documents; the checks that need the data stay."""

import io
import os
import types

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from skdeepsea.attribution import Attributions
from skdeepsea.cli import run_demo
from skdeepsea.distributed import cluster_from_environment, initialize, is_main_process
from skdeepsea.metrics import (
    best_thresholds,
    mean_roc_auc,
    mean_roc_auc_scorer,
    pr_auc_per_target,
    roc_auc_per_target,
)
from skdeepsea.motifs import (
    FilterMotifs,
    filter_motifs,
    motif_similarity,
    plot_filter_logos,
    plot_logo,
    read_meme,
    write_meme,
)
from skdeepsea.network import (
    build_architecture,
    build_beluga,
    build_danq,
    build_deepsea,
    conv_output_length,
)
from skdeepsea.plotting import (
    plot_attribution_logo,
    plot_auc_distribution,
    plot_model_comparison,
    plot_mutagenesis,
    plot_pr_curves,
    plot_roc_curves,
    plot_variant_attributions,
)
from skdeepsea.report import (
    class_summary,
    default_curve_targets,
    evaluation_table,
    predict_proba_batches,
    target_classes_or_none,
    write_report,
)
from skdeepsea.variants import MutagenesisResult

from .conftest import (
    assert_refused_before_any_work,
    assert_writer_writes_nothing,
)


# ------------------------------------------------------------------ small valid arguments

Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
SCORE = np.array([[0.9, 0.2], [0.1, 0.7], [0.8, 0.6], [0.3, 0.4]])


def _table():
    return evaluation_table(Y, SCORE, ["a", "b"], ["TF", "DNase"], min_positives=1)


def _motifs():
    counts = np.zeros((2, 3, 4))
    counts[:, np.arange(3), [0, 1, 2]] = 10
    return FilterMotifs(counts, "ACGT", [10, 10], [1.0, 2.0], 0.5)


def _classifier():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    return LogisticRegression().fit(X, [0, 0, 1, 1]), X


def _mutagenesis():
    sequence = "ACGTA"
    return MutagenesisResult(sequence, np.arange(5), ["t0", "t1"], np.full((1, 2), 0.5),
                             np.full((1, 5, 4, 2), 0.5), None, strand="forward")


def _attributions():
    sequences = np.tile(np.eye(4, dtype=np.uint8), (1, 3, 1))  # 1 sequence of 12 bases
    return Attributions(np.zeros((1, 1, 12, 4)), sequences, ["t0"], "gradient_x_input", "logit",
                        "forward", "ACGT", False, np.zeros((1, 1)))


def _size(**sizes):
    return {"sequence_length": 40, "n_outputs": 2, **sizes}


# Valid arguments of each function (files that do not exist): a bad value put in their place
# must be refused before anything is built, read, trained or written.
BASE = {
    build_deepsea: lambda tmp: _size(),
    build_beluga: lambda tmp: _size(),
    build_danq: lambda tmp: _size(),
    build_architecture: lambda tmp: _size(architecture="deepsea"),
    conv_output_length: lambda tmp: {"sequence_length": 1000},
    roc_auc_per_target: lambda tmp: {"y_true": Y, "y_score": SCORE},
    pr_auc_per_target: lambda tmp: {"y_true": Y, "y_score": SCORE},
    mean_roc_auc: lambda tmp: {"y_true": Y, "y_score": SCORE},
    mean_roc_auc_scorer: lambda tmp: dict(zip(("estimator", "X"), _classifier()), y=[0, 0, 1, 1]),
    best_thresholds: lambda tmp: {"y_true": Y, "y_score": SCORE},
    target_classes_or_none: lambda tmp: {"target_names": ["K562|CTCF|None"]},
    evaluation_table: lambda tmp: {"y_true": Y, "y_score": SCORE},
    class_summary: lambda tmp: {"table": _table()},
    default_curve_targets: lambda tmp: {"table": _table()},
    predict_proba_batches: lambda tmp: dict(zip(("estimator", "X"), _classifier())),
    write_report: lambda tmp: {"directory": tmp / "report", "y_true": Y, "y_score": SCORE},
    filter_motifs: lambda tmp: {"estimator": types.SimpleNamespace(model_=None),
                                "X": np.zeros((2, 10, 4))},
    motif_similarity: lambda tmp: {"motif": "GATAAG", "reference": "AGATAAGG"},
    plot_filter_logos: lambda tmp: {"motifs": _motifs()},
    plot_logo: lambda tmp: {"pfm": "GATA"},
    read_meme: lambda tmp: {"path": tmp / "filters.meme"},
    write_meme: lambda tmp: {"motifs": _motifs(), "path": tmp / "filters.meme"},
    plot_attribution_logo: lambda tmp: {"scores": np.zeros((5, 4))},
    plot_auc_distribution: lambda tmp: {"table": _table()},
    plot_model_comparison: lambda tmp: {"table": _table(), "other": _table()},
    plot_mutagenesis: lambda tmp: {"result": _mutagenesis()},
    plot_pr_curves: lambda tmp: {"y_true": Y, "y_score": SCORE, "targets": [0]},
    plot_roc_curves: lambda tmp: {"y_true": Y, "y_score": SCORE, "targets": ["a"],
                                  "target_names": ["a", "b"]},
    plot_variant_attributions: lambda tmp: {"ref": _attributions(), "alt": _attributions()},
    cluster_from_environment: lambda tmp: {},
    initialize: lambda tmp: {"environ": {}},
    is_main_process: lambda tmp: {},
    run_demo: lambda tmp: {"n_train": 10, "n_test": 3, "epochs": 1, "output": tmp / "demo",
                           "seed": 0, "out": io.StringIO()},
}

_NETWORK_BAD = {
    "sequence_length": [0, 40.0, None], "n_outputs": [0, "2"], "input_channels": [0, 4.0],
    "output_activation": ["relu", None], "conv_filters": [(), 8, None],
    "kernel_size": [0, 2.5, None], "pool_size": [-1, True], "fc_units": [0, "many"],
    "dropout": [0.2, None], "l2": [-1.0, "x"], "l1_sparsity": [-1e-8, None],
    "max_kernel_norm": [0, "x"], "seed": [-1, 1.5, "0"],
}
_DANQ_BAD = {**_NETWORK_BAD, "lstm_units": [0, None], "recurrent_activation": ["hard_sigmoid"],
             "backward_direction": ["backward", True]}
_SCORES_BAD = {"y_true": ["labels", None, 3], "y_score": [None, 0.5]}
_PAIR_BAD = [("a",), "ab", ("a", 2)]

# Bad values of every parameter of each function, one kind of mistake each.
BAD = {
    build_deepsea: _NETWORK_BAD,
    build_beluga: _NETWORK_BAD,
    build_danq: _DANQ_BAD,
    build_architecture: {**_DANQ_BAD, "architecture": ["resnet", None],
                         "conv_filters": [(), 8], "kernel_size": [0, "8"], "pool_size": [2.5],
                         "fc_units": [-3], "dropout": [0.5], "lstm_units": [0, 2.5]},
    conv_output_length: {"sequence_length": [0, 2.5], "n_convs": [0, True],
                         "kernel_size": [-8, "8"], "pool_size": [0, None]},
    roc_auc_per_target: {**_SCORES_BAD, "sample_weight": ["w", 1.0]},
    pr_auc_per_target: _SCORES_BAD,
    mean_roc_auc: {**_SCORES_BAD, "sample_weight": [{"w": 1}]},
    mean_roc_auc_scorer: {"estimator": ["model", None], "X": [None], "y": [None, "y"],
                          "sample_weight": ["w"]},
    best_thresholds: {**_SCORES_BAD, "metric": ["accuracy", None], "sample_weight": [3]},
    target_classes_or_none: {"target_names": ["K562|CTCF|None", None, 3]},
    evaluation_table: {**_SCORES_BAD, "target_names": ["ab", 3], "target_classes": ["TF", 1],
                       "min_positives": [0, 2.5, True], "progress": ["yes", 1]},
    class_summary: {"table": [None, "evaluation.tsv", pd.DataFrame({"target": ["a"]})]},
    default_curve_targets: {"table": [[1, 2]], "n": [0, 2.5]},
    predict_proba_batches: {"estimator": [3, "model.skdeepsea"], "X": [None],
                            "batch_size": [0, 1.5], "progress": ["no", None]},
    write_report: {**_SCORES_BAD, "directory": ["", 3, None], "target_names": ["ab"],
                   "target_classes": [3], "min_positives": [0], "curve_targets": [1.5, {"a"}],
                   "other_score": ["other"], "labels": _PAIR_BAD, "motifs": ["filters.meme"],
                   "title": [None, 3], "details": [["model"]], "progress": [None]},
    filter_motifs: {"estimator": [3, "model.keras", None], "X": ["ACGT", None, 5],
                    "threshold": [0, 1.5, "half", True], "batch_size": [0, 2.5],
                    "progress": ["yes"]},
    motif_similarity: {"motif": [None, 3], "reference": [{"A": 1}], "min_overlap": [0, 2.5]},
    plot_filter_logos: {"motifs": [None, "filters.meme"], "filters": [1.5, {"a"}],
                        "n_top": [0], "n_columns": [0, 1.5], "min_sites": [-1]},
    plot_logo: {"pfm": [None, 3], "ax": ["ax"], "title": [3], "information": ["yes"]},
    read_meme: {"path": [None, "", 3]},
    write_meme: {"motifs": [None, {"m": "GATA"}], "path": ["", None], "min_sites": [-1, 1.5]},
    plot_attribution_logo: {"scores": [None, "ACGT"], "alphabet": ["ACGU", 4],
                            "start": [-1, 1.5], "end": [0], "ax": [3], "title": [1],
                            "positions_offset": [1.5, "0"]},
    plot_auc_distribution: {"table": [None, pd.DataFrame()], "metric": ["auc", None],
                            "ax": ["ax"]},
    plot_model_comparison: {"table": [None], "other": ["other.tsv"], "metric": ["f1"],
                            "labels": _PAIR_BAD, "ax": [1]},
    plot_mutagenesis: {"result": [None, "result"], "target": [1.5, ["t0"]],
                       "score": ["bogus", 3], "ax": [3], "cmap": ["not_a_colour_map", 3]},
    plot_pr_curves: {**_SCORES_BAD, "targets": [1.5, None], "target_names": ["ab"],
                     "ax": ["ax"]},
    plot_roc_curves: {**_SCORES_BAD, "targets": [{"a"}], "target_names": [3], "ax": [0]},
    plot_variant_attributions: {"ref": [None], "alt": ["alt.npz"], "index": [-1, 1.5],
                                "target": [1.5, ["t0"]], "position": [-1], "flank": [-1, 2.5],
                                "titles": _PAIR_BAD},
    cluster_from_environment: {"environ": [["RANK=1"], "RANK=1"]},
    initialize: {"coordinator": ["localhost", 1234, "", "host:port"],
                 "num_processes": [0, 2.5], "process_id": [-1, "0"],
                 "timeout": [0, -1, float("inf"), float("nan"), "5"], "environ": [["RANK=1"]]},
    is_main_process: {},
    run_demo: {"n_train": [0, 10.0], "n_test": [2, 3.0], "epochs": [0], "output": ["", None],
               "seed": [-1, 2**32], "out": [None, "stdout"]},
}

CASES = [(function, name, bad) for function, table in BAD.items()
         for name, values in table.items() for bad in values]


def test_every_parameter_of_each_function_has_a_bad_value_above():
    assert set(BAD) == set(BASE)
    for function, table in BAD.items():
        assert set(table) == set(function._parameter_constraints), function.__name__


@pytest.mark.parametrize("function, name, bad", CASES,
                         ids=[f"{f.__name__}-{n}-{b!r}" for f, n, b in CASES])
def test_a_bad_value_is_refused_in_the_one_wording_before_any_work(tmp_path, function, name,
                                                                     bad):
    assert_refused_before_any_work(function, {**BASE[function](tmp_path), name: bad}, name,
                                   tmp_path)


@pytest.mark.parametrize("function, output", [(write_report, "report"),
                                              (write_meme, "filters.meme"),
                                              (run_demo, "demo")])
def test_the_writers_write_nothing_when_a_value_is_refused(tmp_path, function, output):
    assert_writer_writes_nothing(function, BASE[function](tmp_path), BAD[function], output,
                                 tmp_path)


def test_an_option_no_builder_takes_is_named():
    with pytest.raises(TypeError, match=r"^build_architecture: got an unexpected parameter "
                                        r"'filters'\.$"):
        build_architecture("deepsea", 40, 2, filters=(4,))


def test_the_messages_name_what_is_expected():
    with pytest.raises(ValueError, match=r"^build_danq: recurrent_activation must be one of "
                                         r"\('sigmoid', 'theano_hard_sigmoid'\), got 'relu'\.$"):
        build_danq(recurrent_activation="relu")
    with pytest.raises(ValueError, match=r"^build_architecture: architecture must be one of "
                                         r"\('deepsea', 'beluga', 'danq'\), got 'resnet'\.$"):
        build_architecture("resnet", 40, 2)
    with pytest.raises(ValueError, match=r"^best_thresholds: metric must be one of "
                                         r"\('f1', 'youden'\), got 'accuracy'\.$"):
        best_thresholds(Y, SCORE, metric="accuracy")
    with pytest.raises(ValueError, match=r"^filter_motifs: estimator must be a "
                                         r"DeepSEAClassifier, a keras.Model or an object "
                                         r"holding one as model_, got 3\.$"):
        filter_motifs(3, np.zeros((1, 10, 4)))
    with pytest.raises(ValueError, match=r"^plot_mutagenesis: score must be one of \('ref', "
                                         r"'alt', 'diff', 'logfc', 'abs_diff', 'effect'\), "
                                         r"got 'bogus'\.$"):
        plot_mutagenesis(_mutagenesis(), score="bogus")
    with pytest.raises(ValueError, match=r"^initialize: timeout must be a finite number of "
                                         r"seconds > 0, got inf\.$"):
        initialize(timeout=float("inf"), environ={})


# ------------------------------------------------------------------ what stays as code

@pytest.mark.parametrize("call, message", [
    (lambda: build_deepsea(40, 2, conv_filters=(4, 0), kernel_size=3, pool_size=2,
                           dropout=(0.1, 0.1)), r"conv_filters\[1\] must be in \[1, inf\]"),
    (lambda: build_beluga(40, 2, conv_filters=(4,), kernel_size=3, dropout=(0.1, 0.1)),
     r"dropout must be a tuple of 1 rates"),
    (lambda: build_danq(40, 2, conv_filters=(4,), dropout=(0.1, 1.0)),
     r"dropout\[1\] must be in \[0, 0.999\]"),
    (lambda: build_deepsea(40, 2), r"sequence_length=40 is too short"),
    (lambda: build_architecture("beluga", 40, 2, lstm_units=3),
     r"lstm_units is for architecture='danq' only"),
])
def test_the_rules_between_parameters_stay(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_builders_take_every_documented_kind_of_argument():
    model = build_architecture("danq", np.int64(40), np.int32(2), conv_filters=[np.int64(3)],
                               kernel_size=None, pool_size=np.int64(4), lstm_units=2,
                               fc_units=3, dropout=[0.0, 0.5], max_kernel_norm=None,
                               seed=np.int64(7), recurrent_activation="theano_hard_sigmoid",
                               backward_direction="forward", output_activation="softmax")
    assert model.name == "danq" and model.output_shape == (None, 2)
    assert conv_output_length(np.int64(1000)) == 53 == conv_output_length(1000, 3, 8, 4)
    assert conv_output_length(40, 1, 41) == 0  # too short: 0 or less, not an error


def test_the_metrics_take_every_documented_kind_of_argument():
    frame = pd.DataFrame(Y, columns=["a", "b"])
    expected = roc_auc_per_target(Y, SCORE)
    for y, score in ((frame, SCORE), (Y.tolist(), SCORE.tolist()), (Y[:, 0], SCORE[:, 0])):
        assert roc_auc_per_target(y, score)[0] == expected[0]
    assert mean_roc_auc(Y, SCORE, sample_weight=[1, 2, 1, 1]) == pytest.approx(
        mean_roc_auc(Y, SCORE, sample_weight=np.array([1.0, 2.0, 1.0, 1.0])))
    assert pr_auc_per_target(tuple(map(tuple, Y)), SCORE).shape == (2,)
    assert best_thresholds(Y, SCORE, metric="youden", sample_weight=None).shape == (2,)
    estimator, X = _classifier()
    assert mean_roc_auc_scorer(estimator, X.tolist(), pd.Series([0, 0, 1, 1])) == 1.0


def test_the_data_checks_stay_in_the_metrics():
    with pytest.raises(ValueError, match="they must match"):
        roc_auc_per_target(Y, SCORE[:, :1])
    with pytest.raises(ValueError, match=r"sample_weight has shape \(2,\)"):
        mean_roc_auc(Y, SCORE, sample_weight=[1, 1])


def test_the_report_takes_what_it_documents(tmp_path):
    table = evaluation_table(pd.DataFrame(Y), SCORE.tolist(), ("a", "b"), np.array(["TF", "TF"]),
                             min_positives=np.int64(1), progress=False)
    assert table["status"].tolist() == ["ok", "ok"]
    assert class_summary(table).loc["TF", "targets"] == 2
    assert default_curve_targets(table, n=np.int64(1)) == [0]
    assert target_classes_or_none(pd.Index(["K562|CTCF|None"])) == ["TF"]
    estimator, X = _classifier()
    assert predict_proba_batches(estimator, X, batch_size=2, progress=False).shape == (4, 2)
    written = write_report(str(tmp_path / "r"), Y, SCORE, ["a", "b"], curve_targets="b",
                           other_score=SCORE, labels=["x", "y"], motifs=_motifs(),
                           details={"samples": 4}, min_positives=1)
    assert len(written) == 2 and (tmp_path / "r" / "index.html").exists()
    assert (tmp_path / "r" / "filters.meme").exists()


def test_a_report_without_a_scored_target_draws_no_curves(tmp_path):
    # Each target has fewer than min_positives positives: nothing to draw curves of.
    write_report(tmp_path / "r", Y, SCORE)
    figures = sorted(os.listdir(tmp_path / "r" / "figures"))
    assert figures == ["pr_auc_distribution.png", "roc_auc_distribution.png"]


def test_an_unknown_curve_target_is_named_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="Unknown target 'c'"):
        write_report(tmp_path / "r", Y, SCORE, ["a", "b"], curve_targets=["c"], min_positives=1)
    assert not os.listdir(tmp_path)


def test_curves_need_one_name_per_column():
    with pytest.raises(ValueError, match="^3 target names for 2 targets.$"):
        plot_roc_curves(Y, SCORE, [0], ["a", "b", "c"])


def test_the_motif_functions_take_what_they_document(tmp_path):
    from skdeepsea.network import build_deepsea as build

    model = build(12, 1, conv_filters=(3,), kernel_size=4, fc_units=2, dropout=(0.0,), seed=0)
    X = np.eye(4, dtype=np.float32)[np.random.default_rng(0).integers(0, 4, (5, 12))]
    motifs = filter_motifs(model, X, threshold=np.float32(0.5), batch_size=np.int64(2))
    assert motifs.counts.shape == (3, 4, 4)
    assert write_meme(motifs, str(tmp_path / "f.meme"), min_sites=0) == 3
    assert len(read_meme(tmp_path / "f.meme")) == 3
    assert motif_similarity(np.eye(4)[[2, 0, 3, 0]], "GATA", min_overlap=np.int64(4))[0] == 1.0
    assert plot_filter_logos(_motifs(), ["filter_1", 0], n_top=1, min_sites=0).axes
    assert plot_logo(np.full((3, 4), 0.25), title="uniform", information=False).axes


def test_the_attribution_plots_check_positions_against_the_data():
    attributions = _attributions()
    with pytest.raises(ValueError, match="position 12 is out of range: the windows have 12"):
        plot_variant_attributions(attributions, attributions, position=12)
    with pytest.raises(ValueError, match="sequence 1 is out of range"):
        plot_variant_attributions(attributions, attributions, index=1)
    with pytest.raises(ValueError, match=r"start=3, end=2 must satisfy"):
        plot_attribution_logo(np.zeros((5, 4)), start=3, end=2)
    assert plot_variant_attributions(attributions, attributions, target="t0", position=3,
                                     flank=2, titles=["r", "a"]).axes


def test_the_mutagenesis_plot_takes_a_colour_map_and_a_target_name():
    from matplotlib import colormaps

    ax = plot_mutagenesis(_mutagenesis(), "t1", score="alt", cmap=colormaps["viridis"])
    assert ax.get_title() == "t1: alt"


def test_the_launcher_variables_name_a_value_that_is_not_a_number():
    env = {"WORLD_SIZE": "2", "RANK": "one", "MASTER_ADDR": "10.0.0.1"}
    with pytest.raises(ValueError, match="^The environment variable RANK must be an integer, "
                                         "got 'one'.$"):
        cluster_from_environment(env)
    assert cluster_from_environment(types.MappingProxyType({})) is None
    assert initialize(num_processes=np.int64(1), process_id=0, timeout=1)["source"] == \
        "arguments"
    assert is_main_process()
