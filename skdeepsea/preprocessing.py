"""DNA strings to one-hot arrays and back, and reverse complements of both.

Encoding works on the ASCII bytes of all sequences joined together: one
256-entry lookup table turns each byte into its row of the one-hot array, so
no Python code runs per base (the approach of tangermeme and kipoiseq).
"""

import numbers
import sys

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._constraints import (
    ArrayLike,
    Boolean,
    InstanceOf,
    Interval,
    Options,
    Satisfies,
    parameter_constraints,
    validate_params,
)

# DeepSEA's own encoder order, the package's default base order.
DEFAULT_ALPHABET = "ATGC"

_BASES = "ACGT"
_AMBIGUOUS = "NRYSWKMBDHV"
_COMPLEMENT = dict(zip("ACGTRYKMSWNBVDH", "TGCAYRMKSWNVBHD"))
_COMPLEMENT.update({base.lower(): comp.lower() for base, comp in _COMPLEMENT.items()})
_COMPLEMENT_TABLE = str.maketrans(_COMPLEMENT)
# str.translate deletes the characters mapped to None: what is left is invalid.
_IUPAC_DELETE_TABLE = str.maketrans(dict.fromkeys(_COMPLEMENT))
_AMBIGUOUS_MODES = ("zeros", "uniform", "error")


def _is_alphabet(value):
    return isinstance(value, str) and sorted(value.upper()) == list(_BASES)


def _numeric_dtype(value):
    try:
        return np.dtype(value).kind in "biuf"
    except (TypeError, ValueError):
        return False


ALPHABET_CONSTRAINT = Satisfies(
    _is_alphabet, f"an order of the four bases A, C, G and T such as {DEFAULT_ALPHABET!r}"
)
# The options of one_hot, which OneHotDNA shares.
_ENCODING_CONSTRAINTS = {
    "alphabet": [ALPHABET_CONSTRAINT],
    "ambiguous": [Options(str, _AMBIGUOUS_MODES)],
    "sequence_length": [Interval(numbers.Integral, 1, None), None],
    "dtype": [Satisfies(_numeric_dtype, "a numeric or bool type such as 'float32' or 'uint8'")],
}


def _sequences_given(value):
    """Sequences, not one: what :func:`read_sequences` reads (a cheap look, no pass over them)."""
    if isinstance(value, (str, bytes)) or _record_sequence(value) is not None:
        return False
    return any(hasattr(value, name) for name in ("__len__", "__iter__", "__array__"))


#: ``sequences`` of :func:`one_hot`: what :func:`read_sequences` takes.
SEQUENCES_CONSTRAINT = Satisfies(
    _sequences_given, "an array-like or iterable of sequences (str, bytes or sequence records), "
    "not a single sequence"
)


def check_alphabet(alphabet):
    """Check that an alphabet is an order of the four DNA bases.

    Parameters
    ----------
    alphabet : str
        The bases in channel order, e.g. ``"ATGC"`` (DeepSEA's encoder) or
        ``"AGCT"`` (the DeepSEA training bundle). Case is ignored.

    Returns
    -------
    alphabet : str
        The alphabet in uppercase.

    Raises
    ------
    ValueError
        If ``alphabet`` is not a permutation of A, C, G and T.

    Examples
    --------
    >>> from skdeepsea.preprocessing import check_alphabet
    >>> check_alphabet("acgt")
    'ACGT'
    """
    validate_params({"alphabet": [ALPHABET_CONSTRAINT]}, {"alphabet": alphabet})
    return alphabet.upper()


class OneHotArray(np.ndarray):
    """A NumPy array of one-hot DNA that remembers its base order.

    The last axis holds one channel per base, in the order of ``alphabet``.
    Slicing, fancy indexing, copies, pickle and joblib keep the alphabet;
    ``np.asarray`` turns the array into a plain ``numpy.ndarray``.

    Parameters
    ----------
    array : array-like
        The one-hot values, shape ``(..., sequence_length, 4)``.
    alphabet : str, default="ATGC"
        The base of each channel of the last axis.

    Attributes
    ----------
    alphabet : str
        The base of each channel of the last axis, in uppercase.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.preprocessing import OneHotArray
    >>> x = OneHotArray(np.eye(4)[None], alphabet="ACGT")
    >>> x[:, 1:].alphabet
    'ACGT'
    >>> type(np.asarray(x)).__name__
    'ndarray'
    """

    def __new__(cls, array, alphabet=DEFAULT_ALPHABET):
        obj = np.asarray(array).view(cls)
        obj.alphabet = check_alphabet(alphabet)
        return obj

    def __array_finalize__(self, obj):
        # Called for views, slices and copies: they inherit the base order.
        self.alphabet = getattr(obj, "alphabet", DEFAULT_ALPHABET)

    def __reduce__(self):
        constructor, args, array_state = super().__reduce__()
        return constructor, args, (array_state, self.alphabet)

    def __setstate__(self, state):
        array_state, self.alphabet = state
        super().__setstate__(array_state)


def _record_sequence(item):
    """The (sequence, id) of a sequence record, or None for anything else.

    Duck typing keeps Biopython and pysam optional: a ``SeqRecord`` has
    ``.seq`` and ``.id``, a pysam ``FastxRecord`` / ``FastxProxy`` has
    ``.sequence`` and ``.name``; a ``Bio.Seq.Seq`` is recognised only when
    Biopython is already imported (it must be, for one to exist).
    """
    if hasattr(item, "seq") and hasattr(item, "id"):
        return item.seq, item.id
    if hasattr(item, "sequence") and hasattr(item, "name"):
        return item.sequence, item.name
    seq_module = sys.modules.get("Bio.Seq")
    if seq_module is not None and isinstance(item, (seq_module.Seq, seq_module.MutableSeq)):
        return item, None
    return None


def read_sequences(X):
    """The sequences of X as str, and the ids of its records.

    The one reader of sequence inputs: :class:`OneHotDNA` and
    :class:`~skdeepsea.DeepSEAClassifier` take whatever it takes.

    Parameters
    ----------
    X : array-like or iterable of sequences, shape (n_samples,) or (n_samples, 1)
        str or bytes (a list, a 1-D array, a pandas Series, a single-column
        2-D array or DataFrame); or sequence records: Biopython ``Seq``,
        ``SeqRecord`` (e.g. from ``Bio.SeqIO.parse``), pysam ``FastxFile``
        records (anything with ``.sequence`` and ``.name``), as a list or any
        iterable (a generator, an open ``pysam.FastxFile``), read once.

    Returns
    -------
    sequences : list of str
        One per sample, as given (case kept).
    ids : list of str or None
        The record ids (``SeqRecord.id``, pysam's ``.name``) when every sample
        is a record with one, else None.

    Raises
    ------
    TypeError
        For a single sequence, or a sample that is not a sequence (naming it).
    ValueError
        For no samples, a 2-D input of more than one column, or a record
        whose sequence cannot be read (naming the sample and its id).

    Examples
    --------
    >>> from skdeepsea.preprocessing import read_sequences
    >>> read_sequences(["ACGT", b"ttga"])
    (['ACGT', 'ttga'], None)
    >>> from Bio.Seq import Seq
    >>> from Bio.SeqRecord import SeqRecord
    >>> read_sequences(SeqRecord(Seq(s), id=f"r{i}") for i, s in enumerate(["AC", "GT"]))
    (['AC', 'GT'], ['r0', 'r1'])
    """
    if isinstance(X, (str, bytes)) or _record_sequence(X) is not None:
        kind = "string" if isinstance(X, (str, bytes)) else "sequence record"
        raise TypeError(
            f"Expected an array-like of sequences, got a single {kind}; wrap it in a list."
        )
    if not hasattr(X, "__len__") and hasattr(X, "__iter__"):
        X = list(X)  # a generator, Bio.SeqIO.parse, an open pysam.FastxFile
    if isinstance(X, (list, tuple)) and any(_record_sequence(item) is not None for item in X):
        # np.asarray would split records (which have a length) into letters.
        items = list(X)
    else:
        array = np.asarray(X, dtype=object)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim != 1:
            raise ValueError(
                "Expected a 1-D array-like of sequences or a single column of them, "
                f"got an array of shape {array.shape}."
            )
        items = array.tolist()
    if len(items) == 0:
        raise ValueError("Found 0 sequences; at least one is required.")
    sequences, ids = [None] * len(items), [None] * len(items)
    for i, item in enumerate(items):
        if isinstance(item, str):
            sequences[i] = item
            continue
        if isinstance(item, bytes):
            # latin-1 maps every byte to one character, so a non-ASCII byte is
            # reported at its own position by the ASCII check of the encoder.
            sequences[i] = item.decode("latin-1")
            continue
        record = _record_sequence(item)
        if record is None:
            raise TypeError(
                f"sequence {i} has type {type(item).__name__}, expected str, bytes or a "
                f"sequence record (Bio.Seq, Bio.SeqRecord, pysam FastxRecord): {item!r}."
            )
        sequence, ids[i] = record
        try:
            sequences[i] = sequence if isinstance(sequence, str) else str(sequence)
        except Exception as error:  # Biopython's UndefinedSequenceError, for one
            raise ValueError(
                f"sequence {i} (id {ids[i]!r}) has no readable sequence: {error}"
            ) from error
    return sequences, (ids if all(i is not None for i in ids) else None)


def _to_common_length(sequences, sequence_length, ambiguous):
    """Crop or pad the sequences to one length, in place.

    Returns the common length and, for each changed sequence, the offset that
    turns a position in the changed sequence into one in the original.
    """
    lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
    if sequence_length is None:
        if lengths[0] == 0:  # all would encode to nothing: shape (n, 0, 4)
            raise ValueError("sequence 0 is empty (length 0); set sequence_length to pad it.")
        unequal = np.flatnonzero(lengths != lengths[0])
        if unequal.size:
            i = int(unequal[0])
            raise ValueError(
                f"sequence {i} has length {lengths[i]}, expected {lengths[0]} (the length of "
                "sequence 0); set sequence_length to centre-crop or pad all sequences to one "
                "length."
            )
        return int(lengths[0]), {}
    offsets = {}
    for i in np.flatnonzero(lengths != sequence_length).tolist():
        excess = int(lengths[i]) - sequence_length
        if excess > 0:
            start = excess // 2
            sequences[i] = sequences[i][start : start + sequence_length]
            offsets[i] = start
        else:
            if ambiguous == "error":
                raise ValueError(
                    f"sequence {i} has length {lengths[i]} and would be padded with N to "
                    f"sequence_length={sequence_length}, which ambiguous='error' forbids."
                )
            left = -excess // 2
            sequences[i] = "N" * left + sequences[i] + "N" * (-excess - left)
            offsets[i] = -left
    return sequence_length, offsets


def _encode_ascii(sequences, sequence_length, offsets, allowed):
    """Join the sequences into one bytes object, checking every character."""
    joined = "".join(sequences)

    def fail(index, reason):
        i, position = divmod(index, sequence_length)
        char = joined[index]
        raise ValueError(
            f"sequence {i} has {reason} {char!r} at position {position + offsets.get(i, 0)}."
        )

    try:
        encoded = joined.encode("ascii")
    except UnicodeEncodeError as error:
        fail(error.start, "an invalid character")
    if encoded.translate(None, allowed):
        table = np.zeros(256, dtype=bool)
        table[np.frombuffer(allowed, dtype=np.uint8)] = True
        index = int(np.argmin(table[np.frombuffer(encoded, dtype=np.uint8)]))
        is_ambiguous = joined[index].upper() in _AMBIGUOUS
        fail(index, "an ambiguous base" if is_ambiguous else "an invalid character")
    return encoded


def _encoding_table(alphabet, ambiguous, dtype):
    """Row b of the table is the one-hot encoding of the byte b."""
    table = np.zeros((256, 4), dtype=dtype)
    for channel, base in enumerate(alphabet):
        table[[ord(base), ord(base.lower())], channel] = 1
    if ambiguous == "uniform":
        codes = [ord(code) for code in _AMBIGUOUS + _AMBIGUOUS.lower()]
        table[codes] = 0.25
    return table


def _encoding_dtype(ambiguous, dtype):
    """The NumPy dtype of valid encoding options, refusing the one pair that cannot go together."""
    dtype = np.dtype(dtype)
    if ambiguous == "uniform" and dtype.kind != "f":
        raise ValueError(
            f"ambiguous='uniform' encodes N as 0.25, which dtype={dtype.name!r} cannot hold; "
            "use a float dtype or ambiguous='zeros'."
        )
    return dtype


def _validated_bytes(sequences, sequence_length, ambiguous):
    """The sequences, brought to one length, as checked ASCII bytes; and that length."""
    length, offsets = _to_common_length(sequences, sequence_length, ambiguous)
    allowed = _BASES if ambiguous == "error" else _BASES + _AMBIGUOUS
    allowed = (allowed + allowed.lower()).encode("ascii")
    return _encode_ascii(sequences, length, offsets, allowed), length


def _one_hot_from_bytes(encoded, n_sequences, length, alphabet, ambiguous, dtype):
    """The ``(n, L, 4)`` one-hot array of checked bytes: one table lookup per byte."""
    table = _encoding_table(alphabet, ambiguous, dtype)
    onehot = np.take(table, np.frombuffer(encoded, dtype=np.uint8), axis=0)
    return OneHotArray(onehot.reshape(n_sequences, length, 4), alphabet=alphabet)


@parameter_constraints({"sequences": [SEQUENCES_CONSTRAINT], **_ENCODING_CONSTRAINTS})
def one_hot(sequences, alphabet=DEFAULT_ALPHABET, sequence_length=None, dtype="float32", *,
            ambiguous="zeros"):
    """One-hot encode DNA sequences: the function behind :class:`OneHotDNA`.

    The same array as ``OneHotDNA(alphabet=alphabet, ambiguous=ambiguous,
    sequence_length=sequence_length, dtype=dtype).fit(sequences).transform(sequences)``,
    without an estimator to fit.

    Parameters
    ----------
    sequences : array-like or iterable of sequences, shape (n_samples,) or (n_samples, 1)
        DNA sequences (str or bytes, any case) or sequence records (see
        :func:`read_sequences`); all of one length unless ``sequence_length``
        is set.
    alphabet : str, default="ATGC"
        The base of each channel (see :class:`OneHotDNA`).
    sequence_length : int or None, default=None
        Centre-crop or pad with N every sequence to this length (see
        :class:`OneHotDNA`).
    dtype : str or numpy dtype, default="float32"
        Type of the output: a float or integer type, or "bool".
    ambiguous : {"zeros", "uniform", "error"}, default="zeros"
        How N and the other IUPAC ambiguity codes are encoded (see
        :class:`OneHotDNA`).

    Returns
    -------
    X_onehot : OneHotArray of shape (n_samples, L, 4)
        The encoded sequences, with ``X_onehot.alphabet`` the alphabet in
        uppercase.

    Raises
    ------
    ValueError
        ``"one_hot: <name> must be ..., got <value>."`` for a parameter of
        the wrong type or value (a single sequence for ``sequences``, a
        ``dtype`` that is not numeric); ``ambiguous="uniform"`` with a
        ``dtype`` that is not a float; or the sequence and position of the
        first invalid character, or the first sequence of another length.
    TypeError
        For a sample that is not a sequence (naming it).

    See Also
    --------
    OneHotDNA : The same encoding as a scikit-learn transformer.

    Examples
    --------
    >>> from skdeepsea import one_hot
    >>> one_hot(["ACGTN"], dtype="uint8")[0]
    OneHotArray([[1, 0, 0, 0],
                 [0, 0, 0, 1],
                 [0, 0, 1, 0],
                 [0, 1, 0, 0],
                 [0, 0, 0, 0]], dtype=uint8)
    """
    alphabet, dtype = alphabet.upper(), _encoding_dtype(ambiguous, dtype)
    sequences, _ = read_sequences(sequences)
    encoded, length = _validated_bytes(sequences, sequence_length, ambiguous)
    return _one_hot_from_bytes(encoded, len(sequences), length, alphabet, ambiguous, dtype)


class OneHotDNA(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """One-hot encode DNA sequences for DeepSEA.

    Turns ``n`` strings of length ``L`` into an array of shape ``(n, L, 4)``
    whose channel ``i`` is 1 where the base is ``alphabet[i]``, or with
    ``flatten=True`` into ``(n, L * 4)`` features. Lowercase (soft-masked)
    bases are read as uppercase ones. Sequence records (Biopython ``Seq`` and
    ``SeqRecord``, pysam ``FastxFile`` records) are read as their sequences.

    Output containers (``set_output``, scikit-learn's ``transform_output``):
    with ``flatten=True``, ``"pandas"`` and ``"polars"`` give a DataFrame whose
    columns are :meth:`get_feature_names_out` (``pos0_A``, ``pos0_T``, ...) and
    whose pandas index is the record ids, else the index of a pandas input.
    A 3-D array cannot be a DataFrame: with ``flatten=False`` the output stays
    a :class:`OneHotArray` whatever the container, so that
    ``pipeline.set_output(transform="pandas")`` configures the other steps and
    the classifier still receives the 3-D array.

    Parameters
    ----------
    alphabet : str, default="ATGC"
        The base of each channel. The default is DeepSEA's own encoder order,
        A=[1,0,0,0], T=[0,1,0,0], G=[0,0,1,0], C=[0,0,0,1]; the DeepSEA
        training bundle uses "AGCT".
    ambiguous : {"zeros", "uniform", "error"}, default="zeros"
        How N and the other IUPAC ambiguity codes (R Y S W K M B D H V) are
        encoded: all zeros (as DeepSEA does), 0.25 in every channel (needs a
        floating-point ``dtype``), or rejected with a ValueError.
    sequence_length : int or None, default=None
        If None, all sequences given to one call must have the same length.
        If an int, every sequence is brought to this length: a longer one is
        centre-cropped to ``s[(len(s) - L) // 2 : (len(s) - L) // 2 + L]``
        (DeepSEA's variant window convention), a shorter one is padded with
        N on both sides, the extra N on the right when the difference is odd.
        Only the bases kept after cropping are checked.
    dtype : str or numpy dtype, default="float32"
        Type of the output array: a float type, an integer type such as
        "uint8" (four times smaller than float32), or "bool".
    flatten : bool, default=False
        Return ``(n, L * 4)`` features, position-major (the 4 channels of
        position 0, then of position 1, ...), which
        :class:`~skdeepsea.DeepSEAClassifier` reads as ``(n, L, 4)``: the 2-D
        output a ``ColumnTransformer`` can stack beside other columns. Its
        width is fixed at fit, so ``transform`` then requires sequences of the
        length seen in fit (or set ``sequence_length``).

    Attributes
    ----------
    alphabet_ : str
        The alphabet in uppercase.
    sequence_length_ : int
        ``sequence_length`` if set, else the length of the sequences seen in
        ``fit``. ``transform`` does not enforce it: the encoder is stateless,
        and each call only requires its own sequences to share a length.
    n_features_in_ : int
        Always 1: each sample is one sequence.
    feature_names_in_ : ndarray of str
        The name of the input column, when ``fit`` got a one-column DataFrame.

    See Also
    --------
    reverse_complement : Reverse complement of strings or one-hot arrays.
    read_sequences : The inputs accepted, records included.

    Examples
    --------
    >>> from skdeepsea import OneHotDNA
    >>> encoder = OneHotDNA(dtype="uint8")
    >>> X = encoder.fit_transform(["ACGTN", "ttgca"])
    >>> X.shape
    (2, 5, 4)
    >>> X[0]
    OneHotArray([[1, 0, 0, 0],
                 [0, 0, 0, 1],
                 [0, 0, 1, 0],
                 [0, 1, 0, 0],
                 [0, 0, 0, 0]], dtype=uint8)
    >>> encoder.inverse_transform(X)
    array(['ACGTN', 'TTGCA'], dtype=object)

    Flattened, as a DataFrame:

    >>> flat = OneHotDNA(dtype="uint8", flatten=True).set_output(transform="pandas")
    >>> flat.fit_transform(["AC", "GT"])
       pos0_A  pos0_T  pos0_G  pos0_C  pos1_A  pos1_T  pos1_G  pos1_C
    0       1       0       0       0       0       0       0       1
    1       0       0       1       0       0       1       0       0
    """

    _parameter_constraints = {**_ENCODING_CONSTRAINTS, "flatten": [Boolean()]}

    def __init__(self, alphabet=DEFAULT_ALPHABET, ambiguous="zeros", sequence_length=None,
                 dtype="float32", flatten=False):
        self.alphabet = alphabet
        self.ambiguous = ambiguous
        self.sequence_length = sequence_length
        self.dtype = dtype
        self.flatten = flatten

    def _check_params(self):
        """The uppercase alphabet and the dtype of checked parameters, or a ValueError."""
        validate_params(self._parameter_constraints, self.get_params(), "OneHotDNA")
        return self.alphabet.upper(), _encoding_dtype(self.ambiguous, self.dtype)

    def fit(self, X, y=None):
        """Check the parameters and the sequences.

        Parameters
        ----------
        X : array-like or iterable of sequences, shape (n_samples,) or (n_samples, 1)
            DNA sequences (str or bytes): a list, a 1-D array, a pandas
            Series, or a single-column 2-D array or DataFrame; or sequence
            records (see :func:`read_sequences`).
        y : None
            Ignored.

        Returns
        -------
        self : OneHotDNA
            The fitted encoder.
        """
        self._fit(X)
        return self

    def _fit(self, X):
        """Fit, and return what a transform of the same X needs (read once: X may be a generator)."""
        self.alphabet_, _ = self._check_params()
        sequences, ids = read_sequences(X)
        encoded, self.sequence_length_ = _validated_bytes(sequences, self.sequence_length,
                                                          self.ambiguous)
        self.n_features_in_ = 1
        columns = getattr(X, "columns", None)
        if columns is not None and len(columns) == 1 and isinstance(columns[0], str):
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return encoded, len(sequences), ids

    def fit_transform(self, X, y=None):
        """Fit to the sequences and encode them, reading X once.

        Parameters
        ----------
        X : array-like or iterable of sequences, shape (n_samples,) or (n_samples, 1)
            As for :meth:`fit`; a generator of records is read once.
        y : None
            Ignored.

        Returns
        -------
        X_onehot : OneHotArray or DataFrame
            As :meth:`transform` returns.
        """
        encoded, n_sequences, ids = self._fit(X)
        _, dtype = self._check_params()
        onehot = _one_hot_from_bytes(encoded, n_sequences, self.sequence_length_, self.alphabet_,
                                     self.ambiguous, dtype)
        return self._output(onehot, ids, X)

    def transform(self, X):
        """One-hot encode sequences.

        Parameters
        ----------
        X : array-like or iterable of sequences, shape (n_samples,) or (n_samples, 1)
            DNA sequences, all of one length unless ``sequence_length`` is set
            (with ``flatten=True``, of the length seen in fit); str, bytes or
            sequence records (see :func:`read_sequences`).

        Returns
        -------
        X_onehot : OneHotArray of shape (n_samples, L, 4) or (n_samples, L * 4), or DataFrame
            The encoded sequences, of type ``dtype``, with
            ``X_onehot.alphabet`` set to ``alphabet_``; with ``flatten=True``
            and a pandas or polars output container, a DataFrame (see the
            class docstring).

        Raises
        ------
        ValueError
            Naming the sequence and the 0-based position (in the sequence as
            given) of the first invalid character, or the first sequence whose
            length differs from that of sequence 0 (with ``flatten=True``, from
            the length seen in fit).
        """
        check_is_fitted(self)
        self._check_params()
        sequences, ids = read_sequences(X)
        onehot = one_hot(sequences, self.alphabet_, self.sequence_length, self.dtype,
                         ambiguous=self.ambiguous)
        return self._output(onehot, ids, X)

    def _output(self, onehot, ids, X):
        """``(n, L, 4)`` one-hot arrays flattened and in the output container; X gives an index."""
        n_sequences, length = onehot.shape[:2]
        if self.flatten and length != self.sequence_length_:
            raise ValueError(
                f"The sequences have length {length}, but this OneHotDNA(flatten=True) was "
                f"fitted on length {self.sequence_length_}: its {self.sequence_length_ * 4} "
                "output columns are fixed at fit. Set sequence_length to crop or pad."
            )
        if self.flatten:
            onehot = onehot.reshape(n_sequences, length * 4)
        container = self._output_container()
        if not self.flatten or container == "default":
            return onehot
        columns = self.get_feature_names_out()
        if container == "polars":
            try:
                import polars
            except ImportError as error:
                raise ImportError("set_output(transform='polars') needs polars: "
                                  "pip install polars.") from error
            return polars.DataFrame(np.asarray(onehot), schema=columns.tolist(), orient="row")
        import pandas

        if ids is not None:
            index = pandas.Index(ids, name="id")
        else:
            index = X.index if isinstance(X, (pandas.Series, pandas.DataFrame)) else None
        return pandas.DataFrame(np.asarray(onehot), index=index, columns=columns)

    def _output_container(self):
        """The container set by set_output, else scikit-learn's global ``transform_output``."""
        from sklearn import get_config

        container = getattr(self, "_sklearn_output_config", {}).get("transform")
        return container or get_config()["transform_output"]

    def set_output(self, *, transform=None):
        """Set the output container of ``transform`` and ``fit_transform``.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            ``"default"``: a :class:`OneHotArray`. ``"pandas"`` / ``"polars"``:
            with ``flatten=True`` a DataFrame (columns from
            :meth:`get_feature_names_out`, pandas index from the record ids
            or the input's index); with ``flatten=False`` the output stays a
            3-D :class:`OneHotArray`, which no DataFrame can hold (so that a
            Pipeline's ``set_output`` works). None: unchanged.

        Returns
        -------
        self : OneHotDNA
            The encoder.

        Raises
        ------
        ValueError
            If ``transform`` is not one of the above.
        """
        validate_params({"transform": [Options(str, ("default", "pandas", "polars")), None]},
                        {"transform": transform}, "OneHotDNA.set_output")
        if transform is None:
            return self
        if not hasattr(self, "_sklearn_output_config"):
            self._sklearn_output_config = {}
        self._sklearn_output_config["transform"] = transform
        return self

    def get_feature_names_out(self, input_features=None):
        """Names of the output features: ``pos{i}_{base}`` for each position and base.

        They name the columns of the flattened output, position-major; the
        3-D output ``(n, L, 4)`` holds the same values in the same order.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored except for checking: one name, that of the input column
            seen in fit when there was one.

        Returns
        -------
        feature_names_out : ndarray of str
            ``sequence_length_ * 4`` names: ``pos0_A``, ``pos0_T``, ... in
            the channel order ``alphabet_``.

        Examples
        --------
        >>> from skdeepsea import OneHotDNA
        >>> OneHotDNA(alphabet="ACGT").fit(["GATTACA"]).get_feature_names_out()[:5].tolist()
        ['pos0_A', 'pos0_C', 'pos0_G', 'pos0_T', 'pos1_A']
        """
        check_is_fitted(self)
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            seen = getattr(self, "feature_names_in_", None)
            if input_features.shape != (1,) or (
                seen is not None and input_features[0] != seen[0]
            ):
                raise ValueError(
                    f"input_features must name the one input column"
                    f"{f' {seen[0]!r}' if seen is not None else ''}, got "
                    f"{input_features.tolist()!r}."
                )
        return np.asarray(
            [f"pos{i}_{base}" for i in range(self.sequence_length_) for base in self.alphabet_],
            dtype=object,
        )

    def inverse_transform(self, X):
        """Turn one-hot arrays back into sequences.

        A position whose channels are all equal (all zeros, or uniform) reads
        as N; any other position reads as its largest channel.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4)
            One-hot sequences. The channel order is ``X.alphabet`` for a
            :class:`OneHotArray`, ``alphabet_`` otherwise.

        Returns
        -------
        sequences : ndarray of str, shape (n_samples,)
            Uppercase sequences, dtype object.
        """
        check_is_fitted(self)
        alphabet = getattr(X, "alphabet", self.alphabet_)
        X = np.asarray(X)
        if X.ndim == 2 and X.shape[1] % 4 == 0:
            X = X.reshape(len(X), -1, 4)
        if X.ndim != 3 or X.shape[2] != 4:
            raise ValueError(
                f"Expected one-hot sequences of shape (n_samples, L, 4) or (n_samples, L * 4), "
                f"got shape {X.shape}."
            )
        letters = np.frombuffer((alphabet + "N").encode("ascii"), dtype=np.uint8)
        codes = X.argmax(axis=2)
        # Channel-wise comparisons: NumPy reduces a length-4 last axis slowly.
        first = X[..., 0]
        codes[(first == X[..., 1]) & (first == X[..., 2]) & (first == X[..., 3])] = 4
        joined = letters[codes].tobytes().decode("ascii")
        length = X.shape[1]
        sequences = [joined[i * length : (i + 1) * length] for i in range(len(X))]
        return np.array(sequences, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []
        return tags


def _reverse_complement_string(sequence, name="sequence"):
    text = sequence.decode("latin-1") if isinstance(sequence, bytes) else sequence
    if not isinstance(text, str):
        raise TypeError(f"{name} has type {type(sequence).__name__}, expected str: {sequence!r}.")
    if text.translate(_IUPAC_DELETE_TABLE):
        position, char = next((i, c) for i, c in enumerate(text) if c not in _COMPLEMENT)
        raise ValueError(f"{name} has an invalid character {char!r} at position {position}.")
    reverse = text.translate(_COMPLEMENT_TABLE)[::-1]
    return reverse.encode("latin-1") if isinstance(sequence, bytes) else reverse


def _reverse_complement_strings(sequences):
    return [_reverse_complement_string(s, f"sequence {i}") for i, s in enumerate(sequences)]


def channel_order(source, target):
    """Channel indices that reorder one-hot data from one base order to another.

    The one base-order permutation of the package: ``X[..., channel_order(source,
    target)]`` turns channels in ``source`` order into channels in ``target`` order.

    Parameters
    ----------
    source : str
        Base order of the data, e.g. ``"AGCT"`` (the DeepSEA data files).
    target : str
        Base order wanted, e.g. ``"ATGC"``.

    Returns
    -------
    channels : list of int
        ``channels[c]`` is the source channel of target channel ``c``.

    Examples
    --------
    >>> from skdeepsea.preprocessing import channel_order
    >>> channel_order("AGCT", "ATGC")
    [0, 3, 1, 2]
    """
    source, target = check_alphabet(source), check_alphabet(target)
    return [source.index(base) for base in target]


def complement_channels(alphabet):
    """Channel indices that complement one-hot data in a base order.

    ``X[..., ::-1, complement_channels(alphabet)]`` is the reverse complement.

    Parameters
    ----------
    alphabet : str
        Base order of the channels.

    Returns
    -------
    channels : list of int
        ``channels[c]`` is the channel of the complement of ``alphabet[c]``.

    Examples
    --------
    >>> from skdeepsea.preprocessing import complement_channels
    >>> complement_channels("ATGC"), complement_channels("ACGT")
    ([1, 0, 3, 2], [3, 2, 1, 0])
    """
    alphabet = check_alphabet(alphabet)
    return [alphabet.index(_COMPLEMENT[base]) for base in alphabet]


@parameter_constraints({"X": [InstanceOf((str, bytes), "a sequence (str or bytes)"), ArrayLike()],
                        "alphabet": [None, ALPHABET_CONSTRAINT]})
def reverse_complement(X, alphabet=None):
    """Reverse complement DNA sequences, as strings or one-hot arrays.

    Parameters
    ----------
    X : str, array-like of str, or array of shape (..., L, 4) or (n, L * 4)
        A sequence, sequences (list, tuple, 1-D array or pandas Series), or
        one-hot sequences. Strings keep their case and may hold IUPAC codes
        (R<->Y, K<->M, B<->V, D<->H; S, W, N are their own complements).
        A 2-D numeric array is read as flattened sequences ``(n, L * 4)``, as
        scikit-learn passes features; give a single sequence as ``(1, L, 4)``.
    alphabet : str or None, default=None
        Channel order of a one-hot ``X``: ``X.alphabet`` for a
        :class:`OneHotArray`, else "ATGC". Ignored for strings.

    Returns
    -------
    X_rc : same kind as X
        A str for a str, a list for a list, and so on. For arrays, a new
        :class:`OneHotArray` of the shape of X, with the same alphabet: the
        position axis reversed and each base's channel sent to the channel of
        its complement (in "ATGC" order the channels [1, 0, 3, 2]; in "ACGT"
        or "AGCT" order a flip).

    Raises
    ------
    ValueError
        ``"reverse_complement: <name> must be ..., got <value>."`` for an
        ``X`` that is neither sequences nor an array, or an ``alphabet``
        that is not an order of A, C, G, T; if ``alphabet`` disagrees with
        ``X.alphabet``, an array is not of shape (..., L, 4) or (n, L * 4),
        or a string holds a character that is not an IUPAC nucleotide code.
    TypeError
        For a sequence of a list that is not a str or bytes, or an array
        that is neither text nor numeric.

    Examples
    --------
    >>> from skdeepsea import OneHotDNA, reverse_complement
    >>> reverse_complement("AACGtn")
    'naCGTT'
    >>> encoder = OneHotDNA(dtype="uint8").fit(["AAC"])
    >>> reverse_complement(encoder.transform(["AAC"]))[0]
    OneHotArray([[0, 0, 1, 0],
                 [0, 1, 0, 0],
                 [0, 1, 0, 0]], dtype=uint8)
    """
    if alphabet is not None:
        alphabet = alphabet.upper()
    if isinstance(X, (str, bytes)):
        return _reverse_complement_string(X)
    if isinstance(X, (list, tuple)):
        return type(X)(_reverse_complement_strings(X))
    if hasattr(X, "iloc"):
        if X.ndim != 1:
            raise ValueError(f"Expected a pandas Series of sequences, got shape {X.shape}.")
        return X.__class__(_reverse_complement_strings(X), index=X.index, name=X.name)
    X = np.asanyarray(X)
    if X.dtype.kind in "USO":
        if X.ndim != 1:
            raise ValueError(f"Expected a 1-D array of sequences, got shape {X.shape}.")
        return np.array(_reverse_complement_strings(X), dtype=X.dtype)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"Expected DNA sequences or a numeric one-hot array, got {X.dtype}.")

    own_alphabet = getattr(X, "alphabet", None)
    if alphabet is not None and own_alphabet is not None and alphabet != own_alphabet:
        raise ValueError(
            f"alphabet={alphabet!r} disagrees with the alphabet of X, {own_alphabet!r}."
        )
    alphabet = alphabet or own_alphabet or DEFAULT_ALPHABET
    flat_shape = X.shape if X.ndim == 2 else None
    if flat_shape is not None and flat_shape[1] % 4 == 0:
        X = X.reshape(flat_shape[0], -1, 4)
    if X.ndim < 3 or X.shape[-1] != 4:
        raise ValueError(
            f"Expected one-hot sequences of shape (..., L, 4) or (n, L * 4), got shape {X.shape}."
        )
    reverse = np.asarray(X)[..., ::-1, complement_channels(alphabet)]
    if flat_shape is not None:
        reverse = reverse.reshape(flat_shape)
    return OneHotArray(reverse, alphabet=alphabet)
