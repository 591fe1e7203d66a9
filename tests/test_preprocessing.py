"""Tests of skdeepsea.preprocessing: one-hot encoding and reverse complements."""

import io
import itertools
import pickle
import re

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils import _safe_indexing, get_tags

from skdeepsea import OneHotDNA, reverse_complement
from skdeepsea.preprocessing import DEFAULT_ALPHABET, OneHotArray, check_alphabet

ALPHABETS = ["".join(order) for order in itertools.permutations("ACGT")]
IUPAC_AMBIGUOUS = "NRYSWKMBDHV"
# The complement of each IUPAC code, written out by hand (not from the module).
COMPLEMENT = {
    "A": "T", "C": "G", "G": "C", "T": "A", "R": "Y", "Y": "R", "K": "M", "M": "K",
    "S": "S", "W": "W", "N": "N", "B": "V", "V": "B", "D": "H", "H": "D",
}

alphabets = st.permutations("ACGT").map("".join)
valid_chars = "ACGT" + IUPAC_AMBIGUOUS
dna = st.text(alphabet=valid_chars + valid_chars.lower(), min_size=1, max_size=30)


def encode(sequences, **params):
    return OneHotDNA(**params).fit_transform(sequences)


def expected_onehot(sequence, alphabet):
    """Slow, obvious encoding: zeros for anything but the four bases."""
    return np.array([[float(base.upper() == b) for b in alphabet] for base in sequence])


# check_alphabet -------------------------------------------------------------


def test_check_alphabet_uppercases():
    assert check_alphabet("agct") == "AGCT"
    assert DEFAULT_ALPHABET == "ATGC"


@pytest.mark.parametrize("alphabet", ["ACG", "AACG", "ACGU", "ACGTN", "", 1234, None, b"ACGT"])
def test_check_alphabet_rejects_non_permutations(alphabet):
    with pytest.raises(ValueError, match="alphabet must be an order of the four bases"):
        check_alphabet(alphabet)


# Encoding ------------------------------------------------------------------


def test_default_encoding_is_deepsea_atgc():
    X = encode(["ATGC"])
    np.testing.assert_array_equal(X[0], np.eye(4))
    assert X.dtype == np.float32
    assert X.alphabet == "ATGC"


@pytest.mark.parametrize("alphabet", ALPHABETS)
def test_encoding_follows_alphabet(alphabet):
    X = encode([alphabet, "ACGT"], alphabet=alphabet.lower())
    np.testing.assert_array_equal(X[0], np.eye(4))
    np.testing.assert_array_equal(X[1], expected_onehot("ACGT", alphabet))
    assert X.alphabet == alphabet


def test_lowercase_is_soft_masked_uppercase():
    np.testing.assert_array_equal(encode(["acgtn"]), encode(["ACGTN"]))


@pytest.mark.parametrize("ambiguous, value", [("zeros", 0.0), ("uniform", 0.25)])
def test_ambiguous_codes(ambiguous, value):
    codes = IUPAC_AMBIGUOUS + IUPAC_AMBIGUOUS.lower()
    X = encode([codes, "A" * len(codes)], ambiguous=ambiguous)
    np.testing.assert_array_equal(X[0], np.full((len(codes), 4), value))
    np.testing.assert_array_equal(X[1, :, 0], 1)


def test_ambiguous_error_names_sequence_position_and_base():
    with pytest.raises(ValueError, match=r"sequence 1 has an ambiguous base 'r' at position 2\b"):
        encode(["ACGT", "ACrT"], ambiguous="error")


@pytest.mark.parametrize("dtype", ["uint8", "bool", np.int8])
def test_uniform_needs_float_dtype(dtype):
    encoder = OneHotDNA(ambiguous="uniform", dtype=dtype)
    with pytest.raises(ValueError, match="ambiguous='uniform'"):
        encoder.fit(["ACGT"])


@pytest.mark.parametrize("char", ["X", "U", "-", "1", " ", "\n", "\x00", "é", "\u2603"])
def test_invalid_character_names_sequence_position_and_char(char):
    sequences = ["ACGT" * 5] * 3 + ["ACGTACGTACGTACGTA" + char + "GT"]
    message = f"sequence 3 has an invalid character {char!r} at position 17."
    with pytest.raises(ValueError, match=re.escape(message)):
        encode(sequences)


def test_invalid_byte_in_bytes_input():
    message = "sequence 0 has an invalid character 'é' at position 1"
    with pytest.raises(ValueError, match=re.escape(message)):
        encode([b"A\xe9GT"])


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "uint8", "bool"])
def test_dtype_selection(dtype):
    X = encode(["ACGTN"], dtype=dtype)
    assert X.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(X[0], expected_onehot("ACGTN", "ATGC"))


@pytest.mark.parametrize(
    "make_input",
    [
        list,
        tuple,
        np.array,
        lambda s: np.array(s, dtype=object),
        lambda s: np.array(s)[:, None],
        lambda s: [x.encode() for x in s],
        lambda s: np.array([x.encode() for x in s]),
        lambda s: pd.Series(s, index=[10, 20]),
        lambda s: pd.Series(s, dtype="string"),
        lambda s: pd.DataFrame({"sequence": s}),
    ],
)
def test_input_containers(make_input):
    X = encode(make_input(["ACGT", "ttgc"]))
    np.testing.assert_array_equal(X, [np.eye(4)[[0, 3, 2, 1]], np.eye(4)[[1, 1, 2, 3]]])


@pytest.mark.parametrize(
    "X, error, match",
    [
        ("ACGT", TypeError, "single string"),
        ([1, 2], TypeError, "sequence 0 has type int"),
        (["ACGT", None], TypeError, "sequence 1 has type NoneType"),
        (np.zeros(3), TypeError, "sequence 0 has type float"),
        (np.zeros((3, 2)), ValueError, "single column"),
        (np.array([["ACGT", "ACGT"]]), ValueError, r"single column.*shape \(1, 2\)"),
        (pd.DataFrame({"a": ["ACGT"], "b": ["ACGT"]}), ValueError, "single column"),
        (np.zeros((2, 5, 4)), ValueError, "single column"),
        ([], ValueError, "0 sequences"),
    ],
)
def test_bad_input_is_rejected(X, error, match):
    with pytest.raises(error, match=match):
        OneHotDNA().fit(X)


def test_unequal_lengths_name_first_offending_sequence():
    message = r"sequence 2 has length 3, expected 4 \(the length of sequence 0\)"
    with pytest.raises(ValueError, match=message):
        encode(["ACGT", "AAAA", "ACG", "A"])


@pytest.mark.parametrize(
    "sequence, expected",
    [
        ("AACCGGTT", "CCGG"),  # crop 2 left, 2 right
        ("ACGTA", "ACGT"),  # crop 0 left, 1 right
        ("TCGTAGG", "CGTA"),  # crop 1 left, 2 right
        ("ACGT", "ACGT"),
        ("AC", "NACN"),  # pad 1 and 1
        ("A", "NANN"),  # the extra N goes right
        ("ACG", "ACGN"),
        ("", "NNNN"),
    ],
)
def test_sequence_length_crops_and_pads_centred(sequence, expected):
    encoder = OneHotDNA(sequence_length=4, dtype="uint8").fit([sequence])
    sequences = [sequence, "GGGG"]
    X = encoder.transform(sequences)
    assert sequences == [sequence, "GGGG"]  # the caller's list is not modified
    np.testing.assert_array_equal(X[0], expected_onehot(expected, "ATGC"))
    assert encoder.inverse_transform(X)[0] == expected
    assert encoder.sequence_length_ == 4


def test_sequence_length_reports_positions_in_the_original_sequence():
    encoder = OneHotDNA(sequence_length=4)
    with pytest.raises(ValueError, match="sequence 1 has an invalid character 'X' at position 4"):
        encoder.fit(["ACGT", "GGACXTGG"])
    with pytest.raises(ValueError, match="sequence 0 has an invalid character 'X' at position 1"):
        encoder.fit(["AX", "ACGT"])
    # Bases cropped away are not read.
    encoder.fit(["XXACGTXX"])


def test_padding_is_refused_when_ambiguous_is_error():
    with pytest.raises(ValueError, match="sequence 1 has length 2 and would be padded"):
        OneHotDNA(sequence_length=4, ambiguous="error").fit(["ACGT", "AC"])


def test_transform_does_not_force_the_fit_length():
    encoder = OneHotDNA().fit(["ACGT"])
    assert encoder.sequence_length_ == 4
    assert encoder.transform(["ACGTAC", "GGGGGG"]).shape == (2, 6, 4)


def test_fitted_attributes():
    encoder = OneHotDNA(alphabet="acgt").fit(["ACG", "TTT"])
    assert encoder.alphabet_ == "ACGT"
    assert encoder.sequence_length_ == 3
    assert encoder.n_features_in_ == 1


# inverse_transform ----------------------------------------------------------


@pytest.mark.parametrize("alphabet", ALPHABETS)
def test_inverse_transform_round_trip(alphabet):
    encoder = OneHotDNA(alphabet=alphabet).fit(["A"])
    sequences = ["ACGTN", "ttnca"]
    decoded = encoder.inverse_transform(encoder.transform(sequences))
    assert decoded.dtype == object
    assert decoded.tolist() == ["ACGTN", "TTNCA"]


def test_inverse_transform_reads_uniform_and_zero_positions_as_n():
    encoder = OneHotDNA().fit(["A"])
    X = np.array([[[0.25] * 4, [0] * 4, [1, 0, 0, 0], [0.1, 0.2, 0.6, 0.1]]])
    assert encoder.inverse_transform(X).tolist() == ["NNAG"]


def test_inverse_transform_uses_the_alphabet_of_the_array():
    encoder = OneHotDNA(alphabet="ACGT").fit(["A"])
    X = np.eye(4)[None]
    assert encoder.inverse_transform(X).tolist() == ["ACGT"]
    assert encoder.inverse_transform(OneHotArray(X, alphabet="TGCA")).tolist() == ["TGCA"]


def test_inverse_transform_accepts_flattened_arrays():
    encoder = OneHotDNA().fit(["A"])
    X = encoder.transform(["ACGT", "GGCA"])
    assert encoder.inverse_transform(X.reshape(2, 16)).tolist() == ["ACGT", "GGCA"]


@pytest.mark.parametrize("shape", [(2, 5), (2, 3, 5), (4,)])
def test_inverse_transform_rejects_other_shapes(shape):
    with pytest.raises(ValueError, match="Expected one-hot sequences"):
        OneHotDNA().fit(["A"]).inverse_transform(np.zeros(shape))


# OneHotArray -----------------------------------------------------------------


@pytest.fixture
def onehot():
    return encode(["ACGT", "GGCC", "TTAA"], alphabet="AGCT")


def test_onehot_array_keeps_alphabet_through_indexing_and_copies(onehot):
    for derived in (onehot[1:], onehot[[0, 2]], onehot[:, ::-1], onehot.copy(),
                    _safe_indexing(onehot, [2, 0])):
        assert isinstance(derived, OneHotArray)
        assert derived.alphabet == "AGCT"
    np.testing.assert_array_equal(onehot[[0, 2]], np.asarray(onehot)[[0, 2]])


def test_asarray_gives_a_plain_ndarray(onehot):
    assert type(np.asarray(onehot)) is np.ndarray


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_onehot_array_pickle_round_trip(onehot, protocol):
    restored = pickle.loads(pickle.dumps(onehot, protocol=protocol))
    assert isinstance(restored, OneHotArray)
    assert restored.alphabet == "AGCT"
    np.testing.assert_array_equal(restored, onehot)


def test_onehot_array_joblib_round_trip(onehot):
    buffer = io.BytesIO()
    joblib.dump(onehot, buffer)
    buffer.seek(0)
    restored = joblib.load(buffer)
    assert isinstance(restored, OneHotArray)
    assert restored.alphabet == "AGCT"
    np.testing.assert_array_equal(restored, onehot)


def test_onehot_array_checks_its_alphabet():
    with pytest.raises(ValueError, match="alphabet"):
        OneHotArray(np.zeros((1, 1, 4)), alphabet="ACGU")


# reverse_complement ----------------------------------------------------------


def test_reverse_complement_string_keeps_case_and_complements_iupac():
    assert reverse_complement("AACGTn") == "nACGTT"
    codes = "ACGTRYKMSWNBVDH"
    expected = "".join(COMPLEMENT[c] for c in reversed(codes))
    assert reverse_complement(codes) == expected
    assert reverse_complement(codes.lower()) == expected.lower()
    assert reverse_complement(b"AAC") == b"GTT"


def test_reverse_complement_keeps_the_container():
    assert reverse_complement(["AAC", "GT"]) == ["GTT", "AC"]
    assert reverse_complement(("AAC",)) == ("GTT",)
    array = np.array(["AAC", "GTA"])
    rc = reverse_complement(array)
    assert isinstance(rc, np.ndarray) and rc.dtype == array.dtype
    assert rc.tolist() == ["GTT", "TAC"]
    series = pd.Series(["AAC", "GTA"], index=[5, 7], name="seq")
    rc = reverse_complement(series)
    pd.testing.assert_series_equal(rc, pd.Series(["GTT", "TAC"], index=[5, 7], name="seq"))


def test_reverse_complement_rejects_invalid_characters():
    with pytest.raises(ValueError, match="sequence has an invalid character 'X' at position 2"):
        reverse_complement("ACXT")
    with pytest.raises(ValueError, match="sequence 1 has an invalid character '-' at position 0"):
        reverse_complement(["ACGT", "-ACG"])
    with pytest.raises(TypeError, match="sequence 1 has type int"):
        reverse_complement(["ACGT", 3])


def test_reverse_complement_array_in_deepsea_order_permutes_channels():
    X = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    rc = reverse_complement(X)
    np.testing.assert_array_equal(rc, X[:, ::-1][..., [1, 0, 3, 2]])
    assert isinstance(rc, OneHotArray) and rc.alphabet == "ATGC"
    np.testing.assert_array_equal(X, np.arange(24).reshape(2, 3, 4))  # input untouched


@pytest.mark.parametrize("alphabet", ["AGCT", "ACGT"])
def test_reverse_complement_array_is_a_flip_in_symmetric_orders(alphabet):
    X = np.random.default_rng(0).random((3, 5, 4))
    np.testing.assert_array_equal(reverse_complement(X, alphabet=alphabet), X[:, ::-1, ::-1])


@pytest.mark.parametrize("alphabet", ALPHABETS)
def test_reverse_complement_array_matches_strings_for_every_alphabet(alphabet):
    sequences = ["AACGTTGCAN", "GATTACAcga"]
    X = encode(sequences, alphabet=alphabet)
    rc = reverse_complement(X)
    assert rc.alphabet == alphabet
    np.testing.assert_array_equal(rc, encode(reverse_complement(sequences), alphabet=alphabet))
    # A plain array needs the alphabet passed explicitly.
    np.testing.assert_array_equal(reverse_complement(np.asarray(X), alphabet=alphabet), rc)


def test_reverse_complement_flattened_arrays():
    X = encode(["AACG", "TTGA"], alphabet="ACGT")
    flat = X.reshape(2, 16)
    rc = reverse_complement(flat)
    assert rc.shape == (2, 16)
    np.testing.assert_array_equal(rc, reverse_complement(X).reshape(2, 16))


def test_reverse_complement_rejects_conflicting_alphabet():
    X = encode(["ACGT"], alphabet="ACGT")
    with pytest.raises(ValueError, match="disagrees with the alphabet of X"):
        reverse_complement(X, alphabet="ATGC")
    assert reverse_complement(X, alphabet="acgt").alphabet == "ACGT"


@pytest.mark.parametrize("shape", [(4,), (2, 5), (2, 3, 5)])
def test_reverse_complement_rejects_bad_array_shapes(shape):
    with pytest.raises(ValueError, match="Expected one-hot sequences"):
        reverse_complement(np.zeros(shape))


# scikit-learn contracts ---------------------------------------------------------


def test_init_only_stores_and_invalid_params_fail_at_fit():
    params = dict(alphabet="ACGU", ambiguous="ignore", sequence_length=0, dtype="complex64")
    encoder = OneHotDNA(**params)
    assert encoder.get_params() == {**params, "flatten": False}
    for name, bad in params.items():
        with pytest.raises(ValueError, match=name):
            OneHotDNA(**{name: bad}).fit(["ACGT"])


@pytest.mark.parametrize("sequence_length", [1.5, True, -3, "10"])
def test_invalid_sequence_length(sequence_length):
    with pytest.raises(ValueError,
                       match=r"sequence_length must be (in \[1, inf\]|an integer) or None"):
        OneHotDNA(sequence_length=sequence_length).fit(["ACGT"])


def test_get_set_params_and_clone():
    encoder = OneHotDNA(alphabet="AGCT", sequence_length=10)
    assert encoder.get_params() == {
        "alphabet": "AGCT", "ambiguous": "zeros", "sequence_length": 10, "dtype": "float32",
        "flatten": False,
    }
    assert encoder.set_params(dtype="uint8") is encoder
    assert encoder.dtype == "uint8"
    fitted = encoder.fit(["ACGT"])
    cloned = clone(fitted)
    assert cloned.get_params() == encoder.get_params()
    assert not hasattr(cloned, "alphabet_")


def test_fit_returns_self():
    encoder = OneHotDNA()
    assert encoder.fit(["ACGT"]) is encoder


def test_transform_and_inverse_before_fit_raise_not_fitted():
    with pytest.raises(NotFittedError):
        OneHotDNA().transform(["ACGT"])
    with pytest.raises(NotFittedError):
        OneHotDNA().inverse_transform(np.zeros((1, 4, 4)))


def test_fitted_encoder_pickle_round_trip():
    encoder = OneHotDNA(alphabet="AGCT", dtype="uint8").fit(["ACGT"])
    restored = pickle.loads(pickle.dumps(encoder))
    assert restored.alphabet_ == "AGCT"
    np.testing.assert_array_equal(restored.transform(["GATC"]), encoder.transform(["GATC"]))


def test_tags_declare_string_input():
    tags = get_tags(OneHotDNA())
    assert tags.input_tags.string and tags.input_tags.one_d_array
    assert not tags.input_tags.two_d_array
    assert tags.requires_fit


def test_pipeline_with_function_transformers():
    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGT"), 12)) for _ in range(60)]
    y = np.array([s[5] == "G" for s in sequences])
    pipeline = make_pipeline(
        FunctionTransformer(reverse_complement),
        OneHotDNA(),
        FunctionTransformer(lambda X: X.reshape(len(X), -1)),
        LogisticRegression(),
    )
    pipeline.fit(sequences, y)
    # Position 5 of a sequence is position 6 of its reverse complement, as C.
    assert pipeline[1].inverse_transform(pipeline[:2].transform(["AAAAAGAAAAAA"]))[0][6] == "C"
    assert pipeline.score(sequences, y) == 1.0


# Properties ----------------------------------------------------------------------


@settings(deadline=None, max_examples=60)
@given(sequences=st.lists(st.text("ACGTNacgtn", min_size=5, max_size=5), min_size=1, max_size=4),
       alphabet=alphabets, dtype=st.sampled_from(["float32", "uint8", "bool"]))
def test_property_encode_inverse_round_trip(sequences, alphabet, dtype):
    encoder = OneHotDNA(alphabet=alphabet, dtype=dtype).fit(sequences)
    decoded = encoder.inverse_transform(encoder.transform(sequences))
    assert decoded.tolist() == [s.upper() for s in sequences]


@settings(deadline=None, max_examples=60)
@given(sequence=dna)
def test_property_reverse_complement_string_involution(sequence):
    assert reverse_complement(reverse_complement(sequence)) == sequence
    assert len(reverse_complement(sequence)) == len(sequence)


@settings(deadline=None, max_examples=60)
@given(seed=st.integers(0, 2**32 - 1), alphabet=alphabets, length=st.integers(0, 9))
def test_property_reverse_complement_array_involution(seed, alphabet, length):
    X = np.random.default_rng(seed).random((2, length, 4))
    np.testing.assert_array_equal(reverse_complement(reverse_complement(X, alphabet), alphabet), X)


@settings(deadline=None, max_examples=80)
@given(
    char=st.characters().filter(lambda c: c not in valid_chars + valid_chars.lower()),
    n_sequences=st.integers(1, 4),
    data=st.data(),
)
def test_property_invalid_characters_are_located(char, n_sequences, data):
    length = 8
    index = data.draw(st.integers(0, n_sequences - 1))
    position = data.draw(st.integers(0, length - 1))
    sequences = [data.draw(st.text(valid_chars, min_size=length, max_size=length))
                 for _ in range(n_sequences)]
    sequences[index] = sequences[index][:position] + char + sequences[index][position + 1:]
    message = f"sequence {index} has an invalid character {char!r} at position {position}."
    with pytest.raises(ValueError, match=re.escape(message)):
        OneHotDNA().fit(sequences)


@settings(deadline=None, max_examples=60)
@given(sequences=st.lists(dna.map(lambda s: (s * 10)[:10]), min_size=1, max_size=3),
       alphabet=alphabets, ambiguous=st.sampled_from(["zeros", "uniform"]))
def test_property_encoding_commutes_with_reverse_complement(sequences, alphabet, ambiguous):
    encoder = OneHotDNA(alphabet=alphabet, ambiguous=ambiguous).fit(sequences)
    np.testing.assert_array_equal(
        encoder.transform(reverse_complement(sequences)),
        reverse_complement(encoder.transform(sequences)),
    )
