"""Target names (predictor.names) and the class of each DeepSEA target."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepsea.targets import (
    CLASS_RANGES,
    N_TARGETS,
    class_order,
    feature_class,
    read_target_names,
    target_classes,
    target_indices,
)


def deepsea_like_names():
    """919 names in DeepSEA's layout (DNase, TF, histone), including its oddities."""
    names = [f"Cell{i}|DNase|None" for i in range(125)]
    tfs = ["CTCF", "Pol2(phosphoS2)", "HA-E2F1", "HDAC2", "HNF4A", "eGFP-FOS", "GATA-1", "c-Myc"]
    names += [f"Cell{i}|{tfs[i % len(tfs)]}|None" for i in range(690)]
    names[125 + 400] = "NA|NA|NA"  # the released file has such a row among the TFs
    marks = ["H2AK5ac", "H2AZ", "H2BK120ac", "H3K4me3", "H3K27ac", "H4K20me1", "H3K9me3"]
    names += [f"Monocytes-CD14+RO01746 |{marks[i % len(marks)]}|None" for i in range(104)]
    return names


def write(tmp_path, text, name="predictor.names"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_read_round_trip(tmp_path):
    names = deepsea_like_names()
    path = write(tmp_path, "\n".join(names) + "\n\n")
    read = read_target_names(path)
    assert read.tolist() == names
    assert len(read) == N_TARGETS


def test_read_crlf(tmp_path):
    path = write(tmp_path, "a|DNase|None\r\nb|CTCF|None\r\n")
    assert read_target_names(path).tolist() == ["a|DNase|None", "b|CTCF|None"]


@pytest.mark.parametrize(
    "text, line",
    [
        ("a|DNase|None\nb|CTCF\n", 2),
        ("a|DNase|None\nb|CTCF|None|x\n", 2),
        ("a||None\n", 1),
        ("a|DNase|None\n\nb|CTCF|None\n", 2),
        ("justaname\n", 1),
    ],
)
def test_read_malformed_names_file_and_line(tmp_path, text, line):
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=rf"predictor\.names, line {line}:"):
        read_target_names(path)


def test_read_empty(tmp_path):
    with pytest.raises(ValueError, match="no target names"):
        read_target_names(write(tmp_path, "\n"))


def test_classes_by_position():
    classes = target_classes(deepsea_like_names())
    for cls, (start, stop) in CLASS_RANGES.items():
        assert (classes[start:stop] == cls).all()
    assert classes[125 + 400] == "TF"  # "NA|NA|NA": position decides
    assert [int((classes == c).sum()) for c in ("DNase", "TF", "histone")] == [125, 690, 104]


def test_classes_position_contradicted_by_name():
    names = deepsea_like_names()
    names[130] = "K562|H3K4me3|None"
    with pytest.raises(ValueError, match=r"Target 130 .*line 131.*histone.*TF outputs"):
        target_classes(names)
    assert target_classes(names, by="name")[130] == "histone"


def test_classes_position_needs_919():
    with pytest.raises(ValueError, match="919"):
        target_classes(["a|DNase|None"], by="position")
    with pytest.raises(ValueError, match="by must be"):
        target_classes(["a|DNase|None"], by="index")


def test_classes_by_name_for_other_lengths():
    names = ["GM12878|DNase|None", "HeLa-S3|H2A.Z|None", "K562|Pol2|None", "GATA1", "H3K27ac"]
    assert target_classes(names).tolist() == ["DNase", "histone", "TF", "TF", "histone"]


@settings(max_examples=50, deadline=None)
@given(st.permutations(list(range(N_TARGETS))))
def test_classes_invariant_under_name_content_when_uninformative(order):
    # Uninformative names (NA features) anywhere: the class is the position's, for any order.
    names = np.array(deepsea_like_names(), dtype=object)
    names[list(order[:50])] = "NA|NA|NA"
    classes = target_classes(names)
    expected = np.repeat(["DNase", "TF", "histone"], [125, 690, 104])
    assert (classes == expected).all()


@given(st.text(alphabet="ACDEGHIKLMNOPRSTXYZ0123456789-.", min_size=1, max_size=12))
def test_feature_class_is_one_of_three(feature):
    assert feature_class(f"cell|{feature}|None") in ("DNase", "TF", "histone")
    assert feature_class(f"cell|{feature}|None") == feature_class(feature)


# ------------------------------------------------------------------ lookup by name or index

unique_names = st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=12, unique=True)


@settings(max_examples=60, deadline=None)
@given(names=unique_names, data=st.data())
def test_target_indices_names_and_indices_agree(names, data):
    n = len(names)
    chosen = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=8))
    # By name, by index, by negative index, or mixed: the same positions.
    assert target_indices(names, [names[i] for i in chosen]) == chosen
    assert target_indices(names, chosen) == chosen
    assert target_indices(names, [i - n for i in chosen]) == chosen
    mixed = [names[i] if k % 2 else np.int64(i) for k, i in enumerate(chosen)]
    assert target_indices(names, mixed) == chosen
    assert target_indices(names) == list(range(n))
    assert target_indices(np.array(names, dtype=object), None) == list(range(n))
    with pytest.raises(ValueError, match="No targets chosen"):
        target_indices(names, [])


@settings(max_examples=60, deadline=None)
@given(names=unique_names, key=st.one_of(st.text(max_size=6), st.integers(-30, 30)))
def test_target_indices_reject_what_is_not_there(names, key):
    n = len(names)
    if key in names or (not isinstance(key, str) and -n <= key < n):
        return
    with pytest.raises(ValueError, match="Unknown target|out of range") as error:
        target_indices(names, [key])
    assert "\n" not in str(error.value)


def test_target_indices_messages():
    names = ["K562|CTCF|None", "GM12878|CTCF|None", "K562|DNase|None"]
    assert target_indices(names, "GM12878|CTCF|None") == [1]
    assert target_indices(names, 2) == [2]
    with pytest.raises(ValueError, match=r"Unknown target 'K562\|CTCf\|None'; did you mean "
                                         r"'K562\|CTCF\|None'"):
        target_indices(names, ["K562|CTCf|None"])
    with pytest.raises(ValueError, match=r"Unknown filter 'zzz'; the 3 filters are"):
        target_indices(names, ["zzz"], what="filter")
    with pytest.raises(ValueError, match="Target index 3 is out of range: there are 3 targets"):
        target_indices(names, [0, 3])
    for key in (True, 1.0, None):
        message = (r"^target_indices: keys must be None or a target name or index, or a list of "
                   rf"them, got \[{key!r}\]\.$")
        with pytest.raises(ValueError, match=message):
            target_indices(names, [key])
    # Repeated names resolve to the first.
    assert target_indices(["a", "b", "a"], ["a"]) == [0]


def test_class_order():
    assert class_order(["TF", "histone", "TF", "DNase"]) == ["DNase", "TF", "histone"]
    assert class_order(["zeta", None, float("nan"), "alpha", "TF"]) == ["TF", "alpha", "zeta"]
    assert class_order([]) == []
