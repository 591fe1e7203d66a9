"""DeepSEAClassifier: the DeepSEA network as a scikit-learn classifier."""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state, compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from . import persistence
from ._validation import check_number
from .metrics import mean_roc_auc_scorer
from .preprocessing import check_alphabet, reverse_complement

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")


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
    batch_size : int, default=64
        Samples per gradient step, and per forward pass when predicting.
    epochs : int, default=10
        Passes over the training data (its reverse complements included).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data and stop when
        its loss has not improved for ``n_iter_no_change`` epochs, keeping the
        best weights.
    validation_fraction : float, default=0.1
        Fraction held out for early stopping.
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
        Per-epoch losses (and validation losses) of the last fit.

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
        batch_size=64,
        epochs=10,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        average_strands=True,
        add_reverse_complement=True,
        alphabet=None,
        input_channels=4,
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
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.average_strands = average_strands
        self.add_reverse_complement = add_reverse_complement
        self.alphabet = alphabet
        self.input_channels = input_channels
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
        if not fitting and X.shape[1] != self.sequence_length_:
            raise ValueError(
                f"X has sequences of length {X.shape[1]}, but this DeepSEAClassifier was fitted "
                f"on length {self.sequence_length_}."
            )
        if channels != 4:
            return X, None
        if fitting:
            alphabet = check_alphabet(self.alphabet or input_alphabet or "ATGC")
            if input_alphabet and self.alphabet and check_alphabet(input_alphabet) != alphabet:
                raise ValueError(
                    f"X is encoded in alphabet {input_alphabet!r} but alphabet={self.alphabet!r}."
                )
            return X, alphabet
        if input_alphabet and check_alphabet(input_alphabet) != self.alphabet_:
            raise ValueError(
                f"X is encoded in alphabet {input_alphabet!r}, but this DeepSEAClassifier was "
                f"fitted on alphabet {self.alphabet_!r}."
            )
        return X, self.alphabet_

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

        if self.optimizer == "sgd":
            return keras.optimizers.SGD(self.learning_rate or 0.1, momentum=self.momentum)
        rate = self.learning_rate or 0.001
        if self.optimizer == "rmsprop":
            return keras.optimizers.RMSprop(rate, momentum=self.momentum)
        if self.optimizer == "adamw":
            return keras.optimizers.AdamW(rate)
        return keras.optimizers.Adam(rate)

    def fit(self, X, y, sample_weight=None):
        """Train the network from scratch.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4)
            One-hot sequences (float, uint8 or bool), e.g. from ``OneHotDNA``.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            A 0/1 indicator matrix (one sigmoid output per column; a DataFrame's
            columns become ``target_names_``) or binary / multiclass labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample in the loss.

        Returns
        -------
        self : DeepSEAClassifier
            The fitted estimator.
        """
        import keras

        from .network import build_deepsea

        if y is None:
            raise ValueError("DeepSEAClassifier requires y to be passed, but the target y is None.")
        self._check_params()
        X, self.alphabet_ = self._check_X(X, fitting=True)
        targets, n_outputs, activation = self._encode_targets(y)
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

        rng = check_random_state(self.random_state)
        seed = None if self.random_state is None else int(rng.randint(2**31 - 1))
        if seed is not None:
            keras.utils.set_random_seed(seed)
        validation_data = None
        if self.early_stopping:
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

        self.model_ = build_deepsea(
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
        self.model_.compile(optimizer=self._optimizer(), loss=self._loss(targets))
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
        return self

    # ------------------------------------------------------------------ prediction

    def _network_output(self, X):
        return self.model_.predict(X, batch_size=self.batch_size, verbose=0)

    def predict_proba(self, X):
        """Probabilities of each target or class.

        With ``average_strands=True`` the predictions for each sequence and
        its reverse complement are averaged.

        Parameters
        ----------
        X : array-like of shape (n_samples, L, 4) or (n_samples, L * 4)
            One-hot sequences of the length and alphabet seen in fit.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_targets) or (n_samples, n_classes)
            Multilabel: the probability of each target. Binary / multiclass:
            the probability of each class, columns in the order of ``classes_``.
        """
        check_is_fitted(self, "model_")
        X, alphabet = self._check_X(X, fitting=False)
        proba = self._network_output(X)
        if self.average_strands:
            proba = (proba + self._network_output(reverse_complement(X, alphabet=alphabet))) / 2
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
