"""DeepSEAClassifier: the DeepSEA network as a scikit-learn classifier."""

import numbers
import os

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from . import persistence
from ._lazy import is_dataset
from ._lazy import is_lazy as _is_lazy
from ._validation import check_number
from .metrics import mean_roc_auc_scorer
from .preprocessing import check_alphabet, reverse_complement

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
MIXED_PRECISION = {"bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}
DEEPSEA_LEARNING_RATE_DECAY = 8e-7


def _streamed(X):
    """Whether to stream X: lazy arrays, but not memmaps other than (n, L, C)."""
    return _is_lazy(X) and not (isinstance(X, np.ndarray) and X.ndim != 3)


class DeepSEAClassifier(ClassifierMixin, BaseEstimator):
    """DeepSEA: predict chromatin features from one-hot DNA with a deep CNN.

    The network of Zhou & Troyanskaya (2015): three valid convolutions (320,
    480 and 960 filters of width 8, ReLU) with max pooling (4) after the
    first two, dropout (0.2, 0.2, 0.5), a 925-unit ReLU layer and one output
    per target. A multilabel indicator matrix ``y`` of shape (n, T) gives T
    sigmoid outputs (the DeepSEA case); binary and multiclass labels work too.

    The regularization enters the training loss as::

        loss = mean_{batch, targets} BCE(y, p)
               + l2 * sum(W ** 2)                      # all kernels
               + l1_sparsity * mean_batch(sum |h|)     # h: the fc_units layer

    and after each update every convolution filter (as a whole) and every
    dense unit's incoming weights are rescaled to L2 norm <= max_kernel_norm.
    See docs/training.md for how each constant matches the Torch7 training
    script, and where it departs from it (the L1 term's layer and averaging).

    Parameters
    ----------
    l2 : float, default=5e-7
        Weight of the squared L2 norm of all kernels in the loss (Torch7's
        weight decay 1e-6 equals 5e-7 here).
    l1_sparsity : float, default=1e-8
        Weight of the L1 norm of the hidden dense layer's outputs (summed over
        units, averaged over the batch).
    max_kernel_norm : float or None, default=0.9
        Max L2 norm of each filter / dense unit's incoming weights. None: no
        constraint.
    dropout : tuple of float, default=(0.2, 0.2, 0.5)
        Dropout after each convolution block (one rate per convolution).
    conv_filters : tuple of int, default=(320, 480, 960)
        Filters of each convolution.
    kernel_size : int, default=8
        Width of every convolution.
    pool_size : int, default=4
        Width and step of the max pooling after every convolution but the last.
    fc_units : int, default=925
        Units of the hidden dense layer (925 as the released model).
    optimizer : {"sgd", "adam", "adamw", "rmsprop"}, default="sgd"
        Keras optimizer.
    learning_rate : float or None, default=None
        Learning rate. None: 0.1 for "sgd", 0.001 for the others. SGD with
        0.1 and momentum 0.9 here takes the steps that Torch7's SGD (dampened
        momentum) took with DeepSEA's rate of 1.
    momentum : float, default=0.9
        Momentum of "sgd" and "rmsprop".
    learning_rate_decay : float, default=0.0
        Decay of the learning rate with the step count: at step ``t`` the
        rate is ``learning_rate / (1 + learning_rate_decay * t)``. DeepSEA's
        schedule is ``8e-7`` (``DEEPSEA_LEARNING_RATE_DECAY``); 0 keeps the
        rate constant. Resumed fits continue the schedule where they stopped.
    batch_size : int, default=64
        Samples per gradient step, and per forward pass when predicting.
    epochs : int, default=10
        Epochs to train: passes over the training data (its reverse
        complements included), or ``steps_per_epoch`` batches each.
    steps_per_epoch : int or None, default=None
        Batches per epoch; None: one pass over the data. Validation, early
        stopping and history work per epoch, so at DeepSEA scale an epoch of
        a few thousand steps (the original: 110,000 samples, 6,875 batches of
        16) gives frequent validation. Epochs follow each other through the
        shuffled data without restarting it. Setting it streams the data
        (see ``shuffle_buffer``).
    early_stopping : bool, default=False
        Stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs, and keep the weights of the best epoch.
        The validation set is ``validation_data`` given to ``fit``, else
        ``validation_fraction`` of the training data held out.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping when ``fit`` gets no
        ``validation_data`` (samples at random in memory, whole contiguous
        blocks of samples at random when streaming).
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    class_weight : dict, "balanced" or None, default=None
        Binary / multiclass: weights of the classes, as in scikit-learn.
        Multilabel: weights of each target's positives (a dict from target
        index or name), "balanced" giving ``n_negative / n_positive``.
    average_strands : bool, default=True
        Average the predictions for each sequence and its reverse complement,
        as DeepSEA's published predictions do.
    add_reverse_complement : bool, default=True
        Train on the reverse complement of every training sequence too (the
        DeepSEA training data holds both strands).
    alphabet : str or None, default=None
        Base order of the one-hot channels. None takes it from the input
        (``OneHotDNA`` output carries its alphabet) or else uses "ATGC".
    input_channels : int, default=4
        Values per position: 4 for one-hot DNA. Other counts (extra tracks,
        or generic numeric features with 1) need ``average_strands=False``
        and ``add_reverse_complement=False``, since only DNA has a reverse
        complement.
    shuffle_buffer : int, default=10000
        When streaming (lazy ``X`` such as an ``h5py.Dataset``, a
        ``numpy.memmap`` or a data set from :func:`skdeepsea.data.open_dataset`;
        or ``checkpoint_dir``, ``steps_per_epoch`` or ``data_parallel`` set),
        samples read and shuffled together: the data are read in contiguous
        blocks (up to 512 samples, or whole storage chunks of the file), the
        blocks are permuted every pass, and each run of
        blocks adding up to ``shuffle_buffer`` samples is shuffled as a whole,
        with its reverse complements. Memory: two buffers of raw samples
        (1000 bp uint8: 4 KB a sample).
    mixed_precision : {"bfloat16", "float16"} or None, default=None
        Build the network with Keras' mixed precision policy
        (``"mixed_bfloat16"`` or ``"mixed_float16"``): computations in 16-bit
        floats, weights in float32. For GPUs (bfloat16 on Ampere and newer,
        TPUs; float16 with loss scaling on older GPUs); CPUs gain nothing.
        The global Keras policy is left as it was.
    data_parallel : bool, default=False
        Train on all devices Keras sees (``keras.distribution.list_devices()``:
        every GPU, or every host of a multi-host JAX setup) with Keras'
        ``DataParallel`` distribution: weights replicated, each batch split
        across devices. JAX backend only; ``batch_size`` must be a multiple
        of the device count. The data are streamed (see ``shuffle_buffer``),
        and the last batch of each pass (and of the validation set) drops up
        to ``n_devices - 1`` samples so that it splits evenly. See
        docs/training-at-scale.md.
    checkpoint_dir : str, path-like or None, default=None
        Directory for training checkpoints. Every ``checkpoint_every`` steps
        and at each epoch's end, ``checkpoint.npz`` there is replaced
        atomically with the model's variables, the optimizer state, the step
        and shuffle position, the history and the best weights. A ``fit``
        that finds a checkpoint of the same training there resumes from it
        (after a crash, or with more ``epochs``) and ends after the same
        number of steps as an uninterrupted fit; a checkpoint of another
        training raises ValueError. Setting it streams the data.
    checkpoint_every : int, default=1000
        Steps between checkpoints.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, dropout, shuffling and the early
        stopping split; an int makes ``fit`` reproducible on the CPU for a
        given backend. Seeding resets Keras' global random state.
    verbose : int, default=0
        0 silent, 1 Keras' progress bar, 2 one line per epoch.

    Attributes
    ----------
    model_ : keras.Model
        The trained network.
    classes_ : ndarray
        Class labels (binary / multiclass), or ``arange(n_targets)``
        (multilabel).
    target_type_ : {"multilabel-indicator", "binary", "multiclass"}
        The kind of ``y`` seen in fit (scikit-learn's ``type_of_target``).
    target_names_ : ndarray of str
        Names of the outputs: the columns of a DataFrame ``y``, else the
        classes, else ``"target_0"``, ...
    n_features_in_ : int
        Features seen in fit (sequence_length * input_channels).
    sequence_length_ : int
        Sequence length seen in fit; predict requires the same.
    alphabet_ : str or None
        Channel order seen in fit; predict rejects a ``OneHotArray`` of
        another order (a plain array is taken to be in this order). None
        when ``input_channels != 4``.
    history_ : dict
        Per-epoch losses (and validation losses) of the last fit (of all
        its runs, when resumed from a checkpoint).
    n_steps_ : int
        Gradient steps taken by the last fit (resumed runs included).

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea import DeepSEAClassifier, OneHotDNA
    >>> from sklearn.pipeline import make_pipeline
    >>> rng = np.random.default_rng(0)
    >>> seqs = ["".join(rng.choice(list("ACGT"), 40)) for _ in range(40)]
    >>> y = np.array([("GATA" in s) for s in seqs], dtype=int)
    >>> pipe = make_pipeline(
    ...     OneHotDNA(),
    ...     DeepSEAClassifier(conv_filters=(8,), dropout=(0.1,), kernel_size=4,
    ...                       fc_units=8, epochs=2, random_state=0),
    ... ).fit(seqs, y)
    >>> pipe.predict_proba(seqs[:3]).shape
    (3, 2)
    """

    def __init__(
        self,
        *,
        l2=5e-7,
        l1_sparsity=1e-8,
        max_kernel_norm=0.9,
        dropout=(0.2, 0.2, 0.5),
        conv_filters=(320, 480, 960),
        kernel_size=8,
        pool_size=4,
        fc_units=925,
        optimizer="sgd",
        learning_rate=None,
        momentum=0.9,
        learning_rate_decay=0.0,
        batch_size=64,
        epochs=10,
        steps_per_epoch=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        average_strands=True,
        add_reverse_complement=True,
        alphabet=None,
        input_channels=4,
        shuffle_buffer=10_000,
        mixed_precision=None,
        data_parallel=False,
        checkpoint_dir=None,
        checkpoint_every=1000,
        random_state=None,
        verbose=0,
    ):
        self.l2 = l2
        self.l1_sparsity = l1_sparsity
        self.max_kernel_norm = max_kernel_norm
        self.dropout = dropout
        self.conv_filters = conv_filters
        self.kernel_size = kernel_size
        self.pool_size = pool_size
        self.fc_units = fc_units
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.learning_rate_decay = learning_rate_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.average_strands = average_strands
        self.add_reverse_complement = add_reverse_complement
        self.alphabet = alphabet
        self.input_channels = input_channels
        self.shuffle_buffer = shuffle_buffer
        self.mixed_precision = mixed_precision
        self.data_parallel = data_parallel
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags

    # ------------------------------------------------------------------ input checks

    def _check_params(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}.")
        check_number("learning_rate", self.learning_rate, low=0, strict=True, allow_none=True)
        check_number("momentum", self.momentum, low=0, high=1)
        check_number("batch_size", self.batch_size, low=1, integer=True)
        check_number("epochs", self.epochs, low=1, integer=True)
        check_number("validation_fraction", self.validation_fraction, low=0, high=0.9, strict=True)
        check_number("n_iter_no_change", self.n_iter_no_change, low=1, integer=True)
        check_number("verbose", self.verbose, low=0, high=2, integer=True)
        check_number("input_channels", self.input_channels, low=1, integer=True)
        check_number("learning_rate_decay", self.learning_rate_decay, low=0)
        check_number("steps_per_epoch", self.steps_per_epoch, low=1, integer=True, allow_none=True)
        check_number("shuffle_buffer", self.shuffle_buffer, low=1, integer=True)
        check_number("checkpoint_every", self.checkpoint_every, low=1, integer=True)
        if self.mixed_precision is not None and self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(
                f"mixed_precision must be None, 'bfloat16' or 'float16', got "
                f"{self.mixed_precision!r}."
            )
        if not isinstance(self.data_parallel, (bool, np.bool_)):
            raise ValueError(f"data_parallel must be True or False, got {self.data_parallel!r}.")
        if self.checkpoint_dir is not None and not isinstance(self.checkpoint_dir, (str, os.PathLike)):
            raise ValueError(
                f"checkpoint_dir must be a directory path or None, got {self.checkpoint_dir!r}."
            )
        if self.input_channels != 4 and (self.average_strands or self.add_reverse_complement):
            raise ValueError(
                f"input_channels={self.input_channels}: only one-hot DNA (4 channels) has a "
                "reverse complement; set average_strands=False and add_reverse_complement=False."
            )
        if not (self.class_weight is None or self.class_weight == "balanced"
                or isinstance(self.class_weight, dict)):
            raise ValueError(
                f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}."
            )

    def _check_X(self, X, *, fitting):
        """Validate one-hot input; return float32 (n, L, 4) and its alphabet."""
        input_alphabet = getattr(X, "alphabet", None)
        if hasattr(X, "toarray") or hasattr(X, "tocsr"):
            raise TypeError("DeepSEAClassifier does not accept sparse input; pass a dense array.")
        if not hasattr(X, "dtype") or X.dtype.kind == "O":
            X = np.asarray(X, dtype=object)
            if X.size and isinstance(X.flat[0], (str, bytes)):
                raise TypeError(
                    "DeepSEAClassifier takes one-hot arrays (n, L, 4) or (n, L*4), not strings: "
                    "encode them with skdeepsea.OneHotDNA, e.g. make_pipeline(OneHotDNA(), "
                    "DeepSEAClassifier())."
                )
            X = X.astype(np.float64)
        X = np.asarray(X)
        if X.dtype.kind == "c":
            raise ValueError("Complex data not supported; X must hold real numbers.")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must hold numbers (float, uint8 or bool), got dtype {X.dtype}.")
        channels = self.input_channels
        if X.ndim == 2:
            if X.shape[1] == 0:
                raise ValueError(
                    f"X has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required."
                )
            if not fitting and X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but DeepSEAClassifier is expecting "
                    f"{self.n_features_in_} features as input (sequences of length "
                    f"{self.sequence_length_} with {channels} channels, flattened)."
                )
            if X.shape[1] % channels:
                raise ValueError(
                    f"A 2-D X must be flattened sequences of shape (n, L*{channels}); it has "
                    f"{X.shape[1]} feature(s), which is not a multiple of {channels}."
                )
            X = X.reshape(X.shape[0], X.shape[1] // channels, channels)
        elif X.ndim != 3 or X.shape[2] != channels:
            raise ValueError(
                f"X must have shape (n, L, {channels}) or (n, L*{channels}); got an array of "
                f"shape {X.shape}."
                + (" Reshape your data: X.reshape(1, -1) for one sample." if X.ndim == 1 else "")
            )
        if X.shape[0] == 0:
            raise ValueError(f"X has 0 samples (shape {X.shape}); at least 1 is required.")
        X = X.astype(np.float32, copy=False)
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or infinity; one-hot values must be finite.")
        return X, self._check_length_and_alphabet(X.shape[1], input_alphabet, fitting=fitting)

    def _encode_targets(self, y):
        """Set the target attributes; return (targets for Keras, output units, activation)."""
        names = getattr(y, "columns", None)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y, names = y.ravel(), None
        check_classification_targets(y)
        self.target_type_ = type_of_target(y)
        if self.target_type_ == "multilabel-indicator":
            self.classes_ = np.arange(y.shape[1])
            self.target_names_ = np.array(
                [str(n) for n in names] if names is not None
                else [f"target_{i}" for i in range(y.shape[1])]
            )
            return y.astype(np.float32), y.shape[1], "sigmoid"
        if y.ndim != 1:
            raise ValueError(
                f"y must be 1-D labels or a 2-D 0/1 indicator matrix; got type {self.target_type_!r}."
            )
        encoder = LabelEncoder().fit(y)
        self.classes_ = encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"y holds one class only ({self.classes_[0]!r}); a classifier needs at least 2."
            )
        self.target_names_ = np.array([str(c) for c in self.classes_])
        codes = encoder.transform(y)
        if len(self.classes_) == 2:
            return codes.astype(np.float32)[:, None], 1, "sigmoid"
        return codes, len(self.classes_), "softmax"

    # ------------------------------------------------------------------ training

    def _loss(self, targets):
        import keras

        from .losses import WeightedBinaryCrossentropy

        if self.target_type_ == "multiclass":
            return keras.losses.SparseCategoricalCrossentropy()
        if self.target_type_ == "multilabel-indicator" and self.class_weight is not None:
            return WeightedBinaryCrossentropy(self._positive_weights(targets))
        return keras.losses.BinaryCrossentropy()

    def _positive_weights(self, targets):
        if self.class_weight == "balanced":
            if _is_lazy(targets):  # count by blocks, never loading the whole matrix
                positives = sum(
                    np.asarray(targets[i:i + 65536], dtype=np.int64).sum(axis=0)
                    for i in range(0, len(targets), 65536)
                )
            else:
                positives = targets.sum(axis=0)
            negatives = len(targets) - positives
            return np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0)
        weights = np.ones(targets.shape[1])
        names = list(self.target_names_)
        for key, weight in self.class_weight.items():
            index = names.index(key) if key in names else key
            if not isinstance(index, numbers.Integral) or not 0 <= index < len(names):
                raise ValueError(f"class_weight key {key!r} is neither a target name nor index.")
            weights[index] = weight
        return weights

    def _optimizer(self):
        import keras

        rate = self.learning_rate or (0.1 if self.optimizer == "sgd" else 0.001)
        if self.learning_rate_decay:
            # lr / (1 + decay * step), DeepSEA's schedule with decay=8e-7.
            rate = keras.optimizers.schedules.InverseTimeDecay(
                rate, decay_steps=1, decay_rate=self.learning_rate_decay
            )
        if self.optimizer == "sgd":
            return keras.optimizers.SGD(rate, momentum=self.momentum)
        if self.optimizer == "rmsprop":
            return keras.optimizers.RMSprop(rate, momentum=self.momentum)
        if self.optimizer == "adamw":
            return keras.optimizers.AdamW(rate)
        return keras.optimizers.Adam(rate)

    def _check_lazy_X(self, X, *, fitting, input_alphabet=None):
        """Validate a lazy (n, L, C) array without reading it; return it and its alphabet."""
        input_alphabet = input_alphabet or getattr(X, "alphabet", None)
        channels = self.input_channels
        shape = tuple(X.shape)
        if len(shape) != 3 or shape[2] != channels:
            raise ValueError(
                f"A lazy X ({type(X).__name__}) must have shape (n, L, {channels}); got "
                f"{shape}. Flattened (n, L*{channels}) input must be in memory."
            )
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X must hold numbers (float, uint8 or bool), got dtype {X.dtype}.")
        if shape[0] == 0:
            raise ValueError(f"X has 0 samples (shape {shape}); at least 1 is required.")
        return X, self._check_length_and_alphabet(shape[1], input_alphabet, fitting=fitting)

    def _check_length_and_alphabet(self, length, input_alphabet, *, fitting):
        """Check the sequence length and base order of X; return the alphabet to use."""
        if not fitting and length != self.sequence_length_:
            raise ValueError(
                f"X has sequences of length {length}, but this DeepSEAClassifier was fitted "
                f"on length {self.sequence_length_}."
            )
        if self.input_channels != 4:
            return None
        if fitting:
            alphabet = check_alphabet(self.alphabet or input_alphabet or "ATGC")
            if input_alphabet and self.alphabet and check_alphabet(input_alphabet) != alphabet:
                raise ValueError(
                    f"X is encoded in alphabet {input_alphabet!r} but alphabet={self.alphabet!r}."
                )
            return alphabet
        if input_alphabet and check_alphabet(input_alphabet) != self.alphabet_:
            raise ValueError(
                f"X is encoded in alphabet {input_alphabet!r}, but this DeepSEAClassifier was "
                f"fitted on alphabet {self.alphabet_!r}."
            )
        return self.alphabet_

    def _unpack(self, X, y, where):
        """Split a data set object into (X, y, alphabet, target names)."""
        if not is_dataset(X):
            return X, y, None, None
        if y is not None:
            raise ValueError(
                f"{where} is a data set that holds its own targets ({where}.Y); pass no y with it."
            )
        names = None if X.target_names is None else list(X.target_names)
        return X.X, X.Y, getattr(X, "alphabet", None), names

    def _encode_lazy_targets(self, y, names):
        """Multilabel targets left on disk: check the first rows, set the target attributes."""
        head = np.asarray(y[: min(len(y), 1024)])
        if not np.isin(head, (0, 1)).all():
            raise ValueError(
                "A lazy y must be a 0/1 indicator matrix (n_samples, n_targets); its first rows "
                f"hold other values, e.g. {head[~np.isin(head, (0, 1))][:3].tolist()}."
            )
        self.target_type_ = "multilabel-indicator"
        self.classes_ = np.arange(y.shape[1])
        self.target_names_ = np.array(
            [str(n) for n in names] if names is not None
            else [f"target_{i}" for i in range(y.shape[1])]
        )
        return y, y.shape[1], "sigmoid"

    def _validation_targets(self, y):
        """Encode validation targets as the training targets were."""
        if self.target_type_ == "multilabel-indicator":
            if _is_lazy(y):
                return y
            y = np.asarray(y)
            if y.ndim != 2 or y.shape[1] != len(self.classes_):
                raise ValueError(
                    f"validation_data's y must have shape (n, {len(self.classes_)}), got {y.shape}."
                )
            return y.astype(np.float32)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(
                f"validation_data's y holds labels not seen in training: {unknown[:5].tolist()}."
            )
        codes = np.searchsorted(self.classes_, y)
        if self.target_type_ == "binary":
            return codes.astype(np.float32)[:, None]
        return codes

    def _build_model(self, n_outputs, activation, seed):
        import keras

        from .network import build_deepsea

        previous = keras.config.dtype_policy()
        if self.mixed_precision is not None:
            keras.config.set_dtype_policy(MIXED_PRECISION[self.mixed_precision])
        try:
            model = build_deepsea(
                self.sequence_length_,
                n_outputs,
                input_channels=self.input_channels,
                output_activation=activation,
                conv_filters=tuple(self.conv_filters),
                kernel_size=self.kernel_size,
                pool_size=self.pool_size,
                fc_units=self.fc_units,
                dropout=tuple(self.dropout),
                l2=self.l2,
                l1_sparsity=self.l1_sparsity,
                max_kernel_norm=self.max_kernel_norm,
                seed=seed,
            )
            if self.mixed_precision is not None:
                model = self._float32_layers(model)
            return model
        finally:
            keras.config.set_dtype_policy(previous)

    def _float32_layers(self, model):
        """Mixed precision: the output layer in float32, as Keras advises (16-bit sigmoids
        round probabilities to 2-3 digits); on TensorFlow the L1-penalised ``fc`` layer too,
        since TensorFlow cannot add its 16-bit penalty to the float32 ones."""
        import keras

        names = {"output"}
        if keras.backend.backend() == "tensorflow" and self.l1_sparsity:
            names.add("fc")
        config = model.get_config()
        for layer in config["layers"]:
            if layer["config"]["name"] in names:
                layer["config"]["dtype"] = "float32"
        return keras.Model.from_config(config)

    def _distribution(self):
        """A context manager: Keras' DataParallel scope, or nothing."""
        import contextlib

        import keras

        if not self.data_parallel:
            return contextlib.nullcontext()
        if keras.backend.backend() != "jax":
            raise ValueError(
                "data_parallel=True uses Keras' distribution API, which needs the JAX backend; "
                f"the current backend is {keras.backend.backend()!r} (set KERAS_BACKEND=jax)."
            )
        devices = keras.distribution.list_devices()
        if self.batch_size % len(devices):
            raise ValueError(
                f"data_parallel=True splits each batch over {len(devices)} devices: batch_size="
                f"{self.batch_size} must be a multiple of {len(devices)}."
            )
        return keras.distribution.DataParallel(devices=devices).scope()

    def fit(self, X, y=None, sample_weight=None, *, validation_data=None):
        """Train the network, from scratch or from the checkpoint in ``checkpoint_dir``.

        In-memory arrays are trained on as they are. Lazy inputs (an
        ``h5py.Dataset``, a ``numpy.memmap``, a data set from
        :func:`skdeepsea.data.open_dataset`) are streamed from disk in
        shuffled batches (see ``shuffle_buffer``) and never loaded whole.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4), or data set
            One-hot sequences (float, uint8 or bool), e.g. from ``OneHotDNA``;
            or a lazy array of shape (n_samples, L, 4); or a data set object
            with ``.X``, ``.Y``, ``.target_names`` and ``.alphabet`` (then ``y``
            is None, and ``target_names_`` and the alphabet come from it).
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            A 0/1 indicator matrix (one sigmoid output per column; a DataFrame's
            columns become ``target_names_``) or binary / multiclass labels. A
            lazy 2-D ``y`` is streamed too (0/1 indicator matrix only).
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.
        validation_data : tuple (X_val, y_val) or data set, default=None
            A validation set, in memory or lazy, evaluated after every epoch
            (``val_loss`` in ``history_``); with ``early_stopping=True`` it
            decides when to stop and which weights to keep, instead of a
            ``validation_fraction`` split. It is used as given: no reverse
            complements are added.

        Returns
        -------
        self : DeepSEAClassifier
            The fitted estimator.
        """
        import keras

        X, y, data_alphabet, names = self._unpack(X, y, "X")
        if y is None:
            raise ValueError("DeepSEAClassifier requires y to be passed, but the target y is None.")
        self._check_params()
        lazy_X = _streamed(X)
        if lazy_X:
            X, self.alphabet_ = self._check_lazy_X(X, fitting=True, input_alphabet=data_alphabet)
        else:
            X, self.alphabet_ = self._check_X(X, fitting=True)
        if _is_lazy(y) and len(y.shape) == 2 and y.shape[1] > 1:
            targets, n_outputs, activation = self._encode_lazy_targets(y, names)
        else:
            targets, n_outputs, activation = self._encode_targets(
                np.asarray(y) if _is_lazy(y) else y
            )
            if names is not None and self.target_type_ == "multilabel-indicator":
                self.target_names_ = np.array([str(n) for n in names])
        if len(targets) != len(X):
            raise ValueError(f"X has {len(X)} samples but y has {len(targets)}.")
        self.sequence_length_ = X.shape[1]
        self.n_features_in_ = X.shape[1] * self.input_channels
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float32)
            if sample_weight.shape != (len(X),):
                raise ValueError(
                    f"sample_weight must have shape ({len(X)},), got {sample_weight.shape}."
                )
            if sample_weight.sum() <= 0:
                raise ValueError("sample_weight sums to zero (or less): nothing to learn from.")
        if self.class_weight is not None and self.target_type_ != "multilabel-indicator":
            class_weights = compute_sample_weight(self.class_weight, np.asarray(y).ravel())
            sample_weight = class_weights if sample_weight is None else sample_weight * class_weights

        validation = None
        if validation_data is not None:
            if is_dataset(validation_data):
                X_val, y_val, val_alphabet, _ = self._unpack(
                    validation_data, None, "validation_data"
                )
            else:
                (X_val, y_val), val_alphabet = self._validation_pair(validation_data), None
            if _streamed(X_val):
                X_val, _ = self._check_lazy_X(X_val, fitting=False, input_alphabet=val_alphabet)
            else:
                X_val, _ = self._check_X(X_val, fitting=False)
            y_val = self._validation_targets(y_val)
            if len(y_val) != len(X_val):
                raise ValueError(
                    f"validation_data has {len(X_val)} samples in X but {len(y_val)} in y."
                )
            validation = (X_val, y_val)

        rng = check_random_state(self.random_state)
        seed = None if self.random_state is None else int(rng.randint(2**31 - 1))
        if seed is not None:
            keras.utils.set_random_seed(seed)
        streaming = (
            lazy_X or _is_lazy(targets) or self.checkpoint_dir is not None
            or self.steps_per_epoch is not None or self.data_parallel
            or (validation is not None
                and (_streamed(validation[0]) or _is_lazy(validation[1])))
        )
        with self._distribution():
            if streaming:
                self._fit_streaming(X, targets, sample_weight, validation, rng, seed,
                                    n_outputs, activation)
            else:
                self._fit_in_memory(X, targets, sample_weight, validation, rng, seed,
                                    n_outputs, activation)
        return self

    @staticmethod
    def _validation_pair(validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError(
                "validation_data must be a tuple (X_val, y_val) or a data set object, got "
                f"{type(validation_data).__name__}."
            )
        return validation_data

    def _compile(self, model, targets):
        model.compile(optimizer=self._optimizer(), loss=self._loss(targets))

    def _fit_in_memory(self, X, targets, sample_weight, validation, rng, seed, n_outputs,
                       activation):
        import keras

        validation_data = validation
        if self.early_stopping and validation is None:
            arrays = [X, targets] + ([sample_weight] if sample_weight is not None else [])
            split = train_test_split(
                *arrays, test_size=self.validation_fraction, random_state=rng
            )
            X, X_val = split[0], split[1]
            targets, targets_val = split[2], split[3]
            sample_weight = split[4] if sample_weight is not None else None
            validation_data = (X_val, targets_val)
        if self.add_reverse_complement:
            X = np.concatenate([X, reverse_complement(X, alphabet=self.alphabet_)])
            targets = np.concatenate([targets, targets])
            if sample_weight is not None:
                sample_weight = np.concatenate([sample_weight, sample_weight])

        self.model_ = self._build_model(n_outputs, activation, seed)
        self._compile(self.model_, targets)
        callbacks = []
        if self.early_stopping:
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    patience=self.n_iter_no_change, restore_best_weights=True
                )
            )
        history = self.model_.fit(
            X,
            targets,
            sample_weight=sample_weight,
            batch_size=self.batch_size,
            epochs=self.epochs,
            validation_data=validation_data,
            callbacks=callbacks,
            shuffle=True,
            verbose=self.verbose,
        )
        self.history_ = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        self.n_steps_ = int(keras.ops.convert_to_numpy(self.model_.optimizer.iterations))

    def _fingerprint(self, stream, n_val, n_outputs):
        """What a checkpoint must match to be resumed by this fit."""
        import json

        skip = {"epochs", "verbose", "checkpoint_dir", "checkpoint_every", "n_iter_no_change",
                "data_parallel", "random_state", "early_stopping"}
        params = {k: v for k, v in self.get_params().items() if k not in skip}
        params["class_weight"] = (
            None if params["class_weight"] is None else repr(params["class_weight"])
        )
        return json.loads(json.dumps(dict(
            params, n_train=stream.n_samples, n_val=n_val, n_outputs=n_outputs,
            sequence_length=self.sequence_length_, target_type=self.target_type_,
            alphabet=self.alphabet_, steps_per_epoch=stream.steps_per_epoch,
        )))

    def _fit_streaming(self, X, targets, sample_weight, validation, rng, seed, n_outputs,
                       activation):
        import keras

        from ._checkpoint import read_checkpoint
        from ._lazy import RowsView, chunk_rows, default_block_size, make_blocks
        from ._engine.batches import SequentialStream, TrainingState, TrainStream

        checkpoint = None
        if self.checkpoint_dir is not None:
            checkpoint = read_checkpoint(self.checkpoint_dir)
        if checkpoint is not None:
            shuffle_seed = checkpoint[0]["shuffle_seed"]
        elif seed is not None:
            shuffle_seed = int(rng.randint(2**31 - 1))
        else:
            shuffle_seed = int(np.random.SeedSequence().entropy % (2**31 - 1))
        target_dtype = "int32" if self.target_type_ == "multiclass" else "float32"
        multiple = len(keras.distribution.list_devices()) if self.data_parallel else 1
        blocks = make_blocks(len(X), default_block_size(len(X), chunk_rows(X)))
        val_stream = None
        if validation is not None:
            val_stream = SequentialStream(validation[0], self.batch_size, targets=validation[1],
                                          target_dtype=target_dtype, multiple=multiple)
        elif self.early_stopping:
            if len(blocks) < 2:
                raise ValueError(
                    f"early_stopping with validation_fraction needs at least 2 samples; X has "
                    f"{len(X)}."
                )
            split_rng = np.random.default_rng([shuffle_seed, 2])
            n_val = min(len(blocks) - 1, max(1, round(self.validation_fraction * len(blocks))))
            chosen = np.zeros(len(blocks), dtype=bool)
            chosen[split_rng.choice(len(blocks), n_val, replace=False)] = True
            val_stream = SequentialStream(
                RowsView(X, blocks[chosen]), self.batch_size,
                targets=RowsView(targets, blocks[chosen]), target_dtype=target_dtype,
                multiple=multiple,
            )
            blocks = blocks[~chosen]
        stream = TrainStream(
            X, targets, sample_weight, blocks, batch_size=self.batch_size,
            shuffle_buffer=self.shuffle_buffer, seed=shuffle_seed,
            alphabet=self.alphabet_ if self.add_reverse_complement else None,
            steps_per_epoch=self.steps_per_epoch, target_dtype=target_dtype, multiple=multiple,
        )
        spe = stream.steps_per_epoch
        fingerprint = self._fingerprint(
            stream, None if val_stream is None else len(val_stream.X), n_outputs
        )

        self.model_ = self._build_model(n_outputs, activation, seed)
        self._compile(self.model_, targets)
        self.model_.optimizer.build(self.model_.trainable_variables)
        state = TrainingState(
            stream, spe, early_stopping=self.early_stopping, patience=self.n_iter_no_change,
            checkpoint_dir=self.checkpoint_dir, checkpoint_every=self.checkpoint_every,
            meta={"fingerprint": fingerprint, "shuffle_seed": shuffle_seed},
        )
        state.set_model(self.model_)
        if checkpoint is not None:
            meta, groups = checkpoint
            if meta["fingerprint"] != fingerprint:
                different = sorted(
                    k for k in set(fingerprint) | set(meta["fingerprint"])
                    if fingerprint.get(k) != meta["fingerprint"].get(k)
                )
                raise ValueError(
                    f"The checkpoint in {os.fspath(self.checkpoint_dir)!r} was written by another "
                    f"training (it differs in {different}); use a new checkpoint_dir, or delete "
                    "the old checkpoint."
                )
            state.restore(meta, groups)
        try:
            # A checkpoint taken mid-epoch resumes with the rest of that epoch.
            done = state.step - state.epochs_done * spe
            segments = []
            if done and state.epochs_done < self.epochs:
                segments.append((state.epochs_done, state.epochs_done + 1, spe - done))
            first = state.epochs_done + (1 if done else 0)
            if first < self.epochs:
                segments.append((first, self.epochs, spe))
            for initial_epoch, end_epoch, length in segments:
                if state.stopped:
                    break
                stream.begin(state.step, length)
                self.model_.fit(
                    stream, epochs=end_epoch, initial_epoch=initial_epoch,
                    validation_data=val_stream, callbacks=[state], verbose=self.verbose,
                    shuffle=False,  # the stream shuffles, seeded; Keras would reorder batches
                )
        finally:
            stream.close()
        if self.early_stopping and state.best_weights is not None:
            self.model_.set_weights(state.best_weights)
        state.save(finished=True)
        self.history_ = state.history
        self.n_steps_ = state.step

    # ------------------------------------------------------------------ prediction

    def _network_output(self, X, alphabet=None):
        if _streamed(X):
            from ._engine.batches import SequentialStream

            stream = SequentialStream(X, self.batch_size, alphabet=alphabet)
            return np.asarray(self.model_.predict(stream, verbose=0), dtype=np.float32)
        if alphabet is not None:
            X = reverse_complement(X, alphabet=alphabet)
        return np.asarray(
            self.model_.predict(X, batch_size=self.batch_size, verbose=0), dtype=np.float32
        )

    def predict_proba(self, X):
        """Probabilities of each target or class.

        With ``average_strands=True`` the predictions for each sequence and
        its reverse complement are averaged. Lazy inputs (an ``h5py.Dataset``,
        a ``numpy.memmap``, a data set object) are read batch by batch.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4), or data set
            One-hot sequences of the length and alphabet seen in fit, in
            memory or lazy.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets) or (n_samples, n_classes)
            Multilabel: the probability of each target. Binary / multiclass:
            the probability of each class, columns in the order of ``classes_``.
        """
        check_is_fitted(self, "model_")
        X, _, data_alphabet, _ = self._unpack(X, None, "X")
        if _streamed(X):
            X, alphabet = self._check_lazy_X(X, fitting=False, input_alphabet=data_alphabet)
        else:
            X, alphabet = self._check_X(X, fitting=False)
        proba = self._network_output(X)
        if self.average_strands:
            proba = (proba + self._network_output(X, alphabet=alphabet)) / 2
        if self.target_type_ == "binary":
            proba = np.hstack([1 - proba, proba])
        return proba

    def predict(self, X):
        """Predicted labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4)
            One-hot sequences.

        Returns
        -------
        y : ndarray of shape (n_samples, n_targets) or (n_samples,)
            Multilabel: 1 where the probability exceeds 0.5. Binary /
            multiclass: the most probable class.
        """
        proba = self.predict_proba(X)
        if self.target_type_ == "multilabel-indicator":
            return (proba > 0.5).astype(int)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Mean ROC AUC over the targets with both classes in ``y``.

        The DeepSEA paper's metric; for binary labels the ROC AUC, for
        multiclass the one-vs-rest mean.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4)
            One-hot sequences.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            True labels.
        sample_weight : None
            Not supported; present for scikit-learn's signature.

        Returns
        -------
        score : float
            Mean ROC AUC (0.5 when no target has both classes).
        """
        if sample_weight is not None:
            raise ValueError("score does not support sample_weight.")
        return mean_roc_auc_scorer(self, X, y)

    # ------------------------------------------------------------------ persistence

    def save(self, path):
        """Save the fitted estimator to one file (see :func:`skdeepsea.load`).

        The file is a zip archive holding the Keras model (``model.keras``)
        and the estimator's parameters and fitted attributes
        (``estimator.json``). It is written to a temporary name and renamed
        when complete.

        Parameters
        ----------
        path : str or path-like
            Destination, conventionally ending in ``.skdeepsea``.
        """
        check_is_fitted(self, "model_")
        persistence.save_estimator(self, path)

    @classmethod
    def load(cls, path):
        """Load an estimator written by :meth:`save`, on any Keras backend.

        Parameters
        ----------
        path : str or path-like
            File written by :meth:`save`.

        Returns
        -------
        estimator : DeepSEAClassifier
            The fitted estimator.
        """
        return persistence.load_estimator(cls, path)

    def __getstate__(self):
        state = dict(super().__getstate__())  # a copy: object.__getstate__ returns __dict__ itself
        if "model_" in state:
            state["model_"] = persistence.model_to_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state["model_"] = persistence.model_from_bytes(state["model_"])
        super().__setstate__(state)


def load(path):
    """Load a :class:`DeepSEAClassifier` saved with its ``save`` method.

    Parameters
    ----------
    path : str or path-like
        File written by ``DeepSEAClassifier.save``.

    Returns
    -------
    estimator : DeepSEAClassifier
        The fitted estimator, ready to predict on the current Keras backend.
    """
    return DeepSEAClassifier.load(path)
