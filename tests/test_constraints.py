"""The parameter constraints: each constraint, validate_params' one wording, and every public
entry point refusing a bad value of each parameter before any work."""

import inspect
import os
import re
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from skdeepsea import DeepSEAClassifier, OneHotDNA, TargetClassifier, one_hot
from skdeepsea._constraints import (
    ArrayLike,
    Boolean,
    HasMethods,
    InstanceOf,
    Interval,
    Options,
    PathLike,
    Satisfies,
    SeedLike,
    validate_params,
)
from skdeepsea._validation import check_client, check_number
from skdeepsea.variants import (
    ConservationScores,
    EValueTransformer,
    VariantFeatures,
    VariantSignificance,
    score_variants,
    write_variant_scores,
)

from .conftest import refused

finite = st.floats(-1e6, 1e6, allow_nan=False)


# ------------------------------------------------------------------ the constraints

@given(low=finite, width=st.floats(0, 1e6), closed=st.sampled_from(["both", "left", "right",
                                                                    "neither"]),
       position=st.floats(0, 1))
def test_an_interval_accepts_inside_and_refuses_outside_naming_the_parameter(low, width, closed,
                                                                            position):
    high = low + width
    interval = Interval(Real, low, high, closed=closed)
    inside = low + position * width
    if (inside > low or closed in ("both", "left")) and (inside < high
                                                        or closed in ("both", "right")):
        validate_params({"rate": [interval]}, {"rate": inside}, "Model")
    for outside in (low - 1 - width, high + 1 + width):
        with pytest.raises(ValueError, match=refused("rate", outside, "Model")):
            validate_params({"rate": [interval]}, {"rate": outside}, "Model")


@given(st.integers(-10, 10), st.sampled_from(["both", "left", "right", "neither"]))
def test_the_bounds_are_included_as_closed_says(value, closed):
    interval = Interval(Integral, 0, 5, closed=closed)
    left = value > 0 or (value == 0 and closed in ("both", "left"))
    right = value < 5 or (value == 5 and closed in ("both", "right"))
    assert interval.accepts(value) == (left and right)


@given(st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=5, unique=True),
       st.text(max_size=5))
def test_options_accept_their_values_only(values, other):
    options = Options(str, values)
    for value in values:
        validate_params({"mode": [options]}, {"mode": value})
    if other not in values:
        with pytest.raises(ValueError, match=refused("mode", other)):
            validate_params({"mode": [options]}, {"mode": other})


@pytest.mark.parametrize("constraint, good, bad", [
    (Boolean(), [True, False, np.bool_(True)], ["no", "yes", 0, 1, None]),
    (Interval(Integral, 1, None), [1, np.int64(7), 10**12], [0, 1.0, True, "2", None]),
    (Interval(Real, 0, 1), [0, 0.5, 1, np.float32(0.25)], [float("nan"), -0.1, 1.5, False]),
    (SeedLike(), [None, 0, 2**32 - 1, np.random.RandomState(0), np.random.default_rng(0)],
     [-1, 2**32, 1.5, "0", True]),
    (SeedLike(generator=False), [None, 3, np.random.RandomState(0)], [np.random.default_rng(0)]),
    (PathLike(), ["a.h5", Path("a.h5")], ["", 3, None, b"a.h5"]),
    (ArrayLike(), [[1], (1,), np.zeros(2), np.float64(0.5)], ["abc", 3, None, {1: 2}]),
    (InstanceOf(dict), [{}, {"a": 1}], [[], None]),
    (HasMethods(("fit",), "an estimator"), [OneHotDNA()], [3, "fit"]),
    (Satisfies(lambda value: value == 3, "three"), [3, 3.0], [4, "3"]),
    (Options(str, ("mean",)), ["mean"], ["MEAN", None, 0]),
])
def test_each_constraint_accepts_and_refuses(constraint, good, bad):
    for value in good:
        assert constraint.accepts(value), value
    for value in bad:
        assert not constraint.accepts(value), value


@pytest.mark.parametrize("constraints, value, expected", [
    ([Interval(Real, 0, 1)], 1.5, "Model: momentum must be in [0, 1], got 1.5."),
    ([Interval(Real, 0, 1, closed="left")], "x", "Model: momentum must be a number, got 'x'."),
    ([Interval(Integral, 1, None), None], 0, "Model: momentum must be in [1, inf] or None, got 0."),
    ([Interval(Real, 0, None, closed="right")], 0, "Model: momentum must be in (0, inf], got 0."),
    ([None, Options(str, ("balanced",)), dict], 3,
     "Model: momentum must be None, 'balanced' or a dict, got 3."),
    ([Options(str, ("a", "b"))], "c", "Model: momentum must be one of ('a', 'b'), got 'c'."),
    ([Boolean()], "no", "Model: momentum must be True or False, got 'no'."),
])
def test_the_one_wording(constraints, value, expected):
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        validate_params({"momentum": constraints}, {"momentum": value}, "Model")


def test_a_long_value_is_shown_on_one_line_and_cut():
    with pytest.raises(ValueError) as error:
        validate_params({"x": [Boolean()]}, {"x": np.zeros((50, 50))}, "Model")
    message = str(error.value)
    assert "\n" not in message and len(message) < 200 and message.endswith("...")


def test_a_name_without_a_constraint_is_not_a_parameter():
    with pytest.raises(TypeError, match="Model: got an unexpected parameter 'colour'"):
        validate_params({"x": [None]}, {"x": None, "colour": "red"}, "Model")


def test_check_number_and_check_client_keep_their_wording():
    with pytest.raises(ValueError, match=r"^value must be in \[1, inf\], got 0\.$"):
        check_number("value", 0, low=1, integer=True)
    with pytest.raises(ValueError, match=r"^random_state must be an integer, got 'abc'\.$"):
        check_number("random_state", "abc", low=0, integer=True)
    with pytest.raises(ValueError, match=r"^client must be a Dask scheduler address \(a str\), "
                                         r"a distributed.Client or None, got ''\.$"):
        check_client("")


# ------------------------------------------------------------------ the estimators' tables

def _evalues():
    return EValueTransformer().fit(np.array([[0.1, 0.2], [0.3, 0.4]]))


ESTIMATORS = [DeepSEAClassifier(), OneHotDNA(), TargetClassifier(DeepSEAClassifier()),
              EValueTransformer(), VariantFeatures("m.skdeepsea", "g.fa")]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_the_constraints_name_every_parameter_and_accept_the_defaults(estimator):
    params = estimator.get_params(deep=False)
    assert set(type(estimator)._parameter_constraints) == set(params)
    validate_params(type(estimator)._parameter_constraints, params, type(estimator).__name__)


@pytest.mark.parametrize("cls", [VariantSignificance, ConservationScores])
def test_the_constraints_of_plain_classes_name_every_parameter(cls):
    names = set(inspect.signature(cls.__init__).parameters) - {"self"}
    assert set(cls._parameter_constraints) == names


CLASSIFIER_BAD = {
    "l2": -1.0, "l1_sparsity": "x", "max_kernel_norm": 0, "dropout": 0.5, "conv_filters": (),
    "kernel_size": 0, "pool_size": 2.5, "fc_units": -3, "lstm_units": "many", "optimizer": "lbfgs",
    "learning_rate": 0, "momentum": 1.5, "learning_rate_decay": -1, "batch_size": 0,
    "epochs": 1.5, "steps_per_epoch": 0, "early_stopping": "no", "validation_fraction": 0.95,
    "n_iter_no_change": 0, "class_weight": "balance", "strand": "both", "average_strands": "no",
    "add_reverse_complement": 1, "alphabet": "ACGU", "input_channels": 0, "shuffle_buffer": 0,
    "mixed_precision": "float64", "data_parallel": "yes", "checkpoint_dir": 3,
    "checkpoint_every": 0, "warm_start": None, "random_state": -1, "verbose": 3,
    "threshold": "high",
}


def test_every_classifier_parameter_has_a_bad_value_below():
    assert set(CLASSIFIER_BAD) | {"architecture"} == set(DeepSEAClassifier._parameter_constraints)


@pytest.mark.parametrize("name, bad", sorted(CLASSIFIER_BAD.items()))
def test_the_classifier_refuses_each_bad_parameter_before_any_work(name, bad):
    X, y = np.zeros((4, 20, 4), dtype="float32"), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=refused(name, bad, "DeepSEAClassifier")):
        DeepSEAClassifier(**{name: bad}).fit(X, y)


def test_the_classifier_refuses_an_unknown_architecture():
    with pytest.raises(ValueError, match=refused("architecture", "resnet").replace("^", "")):
        DeepSEAClassifier(architecture="resnet").fit(np.zeros((4, 20, 4)), [0, 1, 0, 1])


ENCODER_BAD = {"alphabet": "ACGU", "ambiguous": "ignore", "sequence_length": 0,
               "dtype": "complex64", "flatten": "no"}


@pytest.mark.parametrize("name, bad", sorted(ENCODER_BAD.items()))
def test_the_encoder_and_one_hot_refuse_each_bad_parameter(name, bad):
    with pytest.raises(ValueError, match=refused(name, bad, "OneHotDNA")):
        OneHotDNA(**{name: bad}).fit(["ACGT"])
    if name != "flatten":
        with pytest.raises(ValueError, match=refused(name, bad, "one_hot")):
            one_hot(["ACGT"], **{name: bad})


@pytest.mark.parametrize("sequences, options", [
    (["ACGTN", "ttgca"], {}),
    (["ACGTNRY", "ACG"], {"sequence_length": 5, "ambiguous": "uniform"}),
    (["GATTACA"], {"alphabet": "agct", "dtype": "uint8"}),
    (["AC", "GT"], {"dtype": "bool"}),
])
def test_one_hot_is_the_encoders_transform_bit_for_bit(sequences, options):
    expected = OneHotDNA(**options).fit(sequences).transform(sequences)
    out = one_hot(sequences, **options)
    assert type(out) is type(expected) and out.alphabet == expected.alphabet
    assert out.dtype == expected.dtype and out.tobytes() == expected.tobytes()


def test_the_target_view_refuses_a_bad_target_and_estimator():
    with pytest.raises(ValueError, match=refused("target", 1.5, "TargetClassifier")):
        TargetClassifier(DeepSEAClassifier(), target=1.5).fit()
    with pytest.raises(ValueError, match=refused("estimator", "model", "TargetClassifier")):
        TargetClassifier("model").fit()


@pytest.mark.parametrize("name, bad", [("min_background", -1), ("zero_evalue", 2.0)])
def test_evalues_refuse_each_bad_parameter(name, bad):
    with pytest.raises(ValueError, match=refused(name, bad, "EValueTransformer")):
        EValueTransformer(**{name: bad}).fit(np.ones((3, 1)))


@pytest.mark.parametrize("name, bad", [
    ("model", 3), ("genome", None), ("conservation", "scores.bw"), ("batch_size", 0),
    ("method", "fastest"), ("cache", "no"),
])
def test_variant_features_refuse_each_bad_parameter_before_loading_anything(name, bad):
    params = {"model": "absent.skdeepsea", "genome": "absent.fa", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "VariantFeatures")):
        VariantFeatures(**params).fit()


SCORE_BAD = {
    "model": "m.skdeepsea", "variants": 3, "genome": None, "targets": 2.5, "strand": "both",
    "max_indel_length": -1, "ref_mismatch": "fix", "on_malformed": "warn", "chunk_size": 0,
    "batch_size": 0, "epsilon": 0.5, "scores": "effect", "evalues": "evalues.pkl",
    "significance": True, "report": [], "client": 42, "partition_size": 0,
    "worker_threads": 0, "contig_ends": "wrap", "method": "fastest",
}


@pytest.mark.parametrize("name, bad", sorted(SCORE_BAD.items()))
def test_score_variants_refuses_each_bad_parameter_before_reading(tmp_path, name, bad):
    # No file exists: the parameters are checked before anything is read.
    args = {"model": DeepSEAClassifier(), "variants": tmp_path / "v.vcf",
            "genome": tmp_path / "g.fa", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "score_variants")):
        score_variants(**args)
    if name == "report":  # not an option of write_variant_scores: its summary counts
        with pytest.raises(TypeError, match="^write_variant_scores: got an unexpected "
                                            "parameter 'report'"):
            write_variant_scores(**args, out=tmp_path / "o.tsv")
    elif name != "model":  # a path is a model for write_variant_scores
        with pytest.raises(ValueError, match=refused(name, bad, "write_variant_scores")):
            write_variant_scores(**args, out=tmp_path / "o.tsv")
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize("name, bad", [("out", None), ("format", "csv"), ("progress", "no"),
                                       ("significance_out", 3)])
def test_write_variant_scores_refuses_each_bad_output_parameter(tmp_path, name, bad):
    args = {"out": tmp_path / "o.tsv", name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "write_variant_scores")):
        write_variant_scores("m.skdeepsea", tmp_path / "v.vcf", tmp_path / "g.fa", **args)


def test_write_variant_scores_names_an_unknown_option(tmp_path):
    with pytest.raises(TypeError, match="^write_variant_scores: got an unexpected parameter "
                                        "'strnad'"):
        write_variant_scores("m.skdeepsea", "v.vcf", "g.fa", tmp_path / "o.tsv", strnad="mean")


@pytest.mark.parametrize("name, bad", [("evalues", None), ("conservation", "phylop.bw"),
                                       ("conservation_evalues", 3), ("classifiers", ["eqtl"])])
def test_variant_significance_refuses_each_bad_parameter(name, bad):
    args = {"evalues": _evalues(), name: bad}
    with pytest.raises(ValueError, match=refused(name, bad, "VariantSignificance")):
        VariantSignificance(**args)


def test_conservation_scores_refuse_what_is_not_a_mapping():
    with pytest.raises(ValueError, match=refused("sources", "phylop.bw", "ConservationScores")):
        ConservationScores("phylop.bw")


def test_the_decorator_checks_the_options_a_function_takes_through_kwargs():
    from skdeepsea._constraints import parameter_constraints

    @parameter_constraints({"n": [Interval(Integral, 1, None)], "rate": [Interval(Real, 0, 1)]})
    def run(n=1, **options):
        return n, options

    assert run(2, rate=0.5) == (2, {"rate": 0.5})
    with pytest.raises(ValueError, match=refused("rate", 2.0, "run")):
        run(rate=2.0)
    with pytest.raises(TypeError, match=r"^run: got an unexpected parameter 'speed'\.$"):
        run(speed=3)
    with pytest.raises(TypeError, match="has no parameter 'rate'"):
        parameter_constraints({"rate": [Interval(Real, 0, 1)]})(lambda n=1: n)
