"""Target handling as one small object, as Keras' ``TargetReshaper`` does it."""

import numpy as np
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from ..targets import target_indices
from .lazy import is_lazy

_COUNT_ROWS = 65536  # rows read at a time when counting a lazy y


class TargetEncoder:
    """Turn ``y`` into what Keras trains on, and remember how.

    A 0/1 indicator matrix (n, T) becomes T sigmoid outputs (DeepSEA's case;
    a lazy one stays on disk); binary labels one sigmoid output; multiclass
    labels softmax outputs with integer codes.

    Attributes
    ----------
    target_type : {"multilabel-indicator", "binary", "multiclass"}
        The kind of ``y``.
    classes : ndarray
        Class labels, or ``arange(T)`` for multilabel targets.
    target_names : ndarray of str
        The names of the outputs.
    n_outputs : int
        Output units.
    activation : {"sigmoid", "softmax"}
        Output activation.
    dtype : {"float32", "int32"}
        Type of the encoded targets.
    """

    def fit_transform(self, y, names=None):
        """Learn the encoding of ``y`` and return the encoded targets.

        Parameters
        ----------
        y : array-like of shape (n,) or (n, T), or a lazy (n, T) array
            Training targets.
        names : list of str or None, default=None
            Target names (a data set's); a DataFrame's columns are used otherwise.

        Returns
        -------
        targets : ndarray or lazy array
            Encoded targets.
        """
        if is_lazy(y) and len(y.shape) == 2 and y.shape[1] > 1:
            return self._fit_lazy_indicator(y, names)
        names = names if names is not None else getattr(y, "columns", None)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y, names = y.ravel(), None
        check_classification_targets(y)
        self.target_type = type_of_target(y)
        if self.target_type == "multilabel-indicator":
            self._set_multilabel(y.shape[1], names)
            return y.astype(np.float32)
        if y.ndim != 1:
            raise ValueError(
                f"y must be 1-D labels or a 2-D 0/1 indicator matrix; got type {self.target_type!r}."
            )
        encoder = LabelEncoder().fit(y)
        self.classes = encoder.classes_
        if len(self.classes) < 2:
            raise ValueError(
                f"y holds one class only ({self.classes[0]!r}); a classifier needs at least 2."
            )
        self.target_names = np.array([str(c) for c in self.classes])
        codes = encoder.transform(y)
        if len(self.classes) == 2:
            self.n_outputs, self.activation, self.dtype = 1, "sigmoid", "float32"
            return codes.astype(np.float32)[:, None]
        self.n_outputs, self.activation, self.dtype = len(self.classes), "softmax", "int32"
        return codes

    def _set_multilabel(self, n_targets, names):
        self.target_type = "multilabel-indicator"
        self.classes = np.arange(n_targets)
        self.named = names is not None
        self.target_names = np.array(
            [str(n) for n in names] if names is not None
            else [f"target_{i}" for i in range(n_targets)]
        )
        self.n_outputs, self.activation, self.dtype = n_targets, "sigmoid", "float32"

    def _fit_lazy_indicator(self, y, names):
        """A lazy indicator matrix stays on disk; all of it is checked, block by block."""
        for start in range(0, len(y), _COUNT_ROWS):
            block = np.asarray(y[start:start + _COUNT_ROWS])
            if block.dtype == np.bool_:
                continue
            # One comparison for unsigned integers (the files' uint8), a lookup otherwise.
            wrong = block > 1 if block.dtype.kind == "u" else ~np.isin(block, (0, 1))
            if wrong.any():
                i, t = np.argwhere(wrong)[0]
                raise ValueError(
                    f"A lazy y must be a 0/1 indicator matrix (n_samples, n_targets); "
                    f"y[{start + i}] holds {block[i, t].item()!r} for target {t}."
                )
        self._set_multilabel(y.shape[1], names)
        return y

    def transform(self, y, where="validation_data's y", names=None):
        """Encode targets (validation data) as the training targets were.

        Parameters
        ----------
        y : array-like
            Targets of the same kind as in ``fit_transform``.
        where : str
            How to name ``y`` in errors.
        names : list of str or None, default=None
            The names ``y`` gives its targets (a data set's, a DataFrame's
            columns); checked against the training targets' when both are
            named.

        Returns
        -------
        targets : ndarray or lazy array
        """
        if self.target_type == "multilabel-indicator":
            n_targets = len(self.classes)
            shape = tuple(y.shape) if is_lazy(y) else np.shape(y)
            if len(shape) != 2 or shape[1] != n_targets:
                raise ValueError(f"{where} must have shape (n, {n_targets}) (the training data's "
                                 f"{n_targets} targets), got {shape}.")
            if names is not None and self.named:
                names = [str(name) for name in names]
                for t, (given, trained) in enumerate(zip(names, self.target_names)):
                    if given != trained:
                        raise ValueError(
                            f"{where} names target {t} {given!r}, but the training data name "
                            f"it {str(trained)!r}: the two hold other targets, or another order."
                        )
            return y if is_lazy(y) else np.asarray(y).astype(np.float32)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        unknown = np.setdiff1d(y, self.classes)
        if len(unknown):
            raise ValueError(f"{where} holds labels not seen in training: {unknown[:5].tolist()}.")
        codes = np.searchsorted(self.classes, y)
        if self.target_type == "binary":
            return codes.astype(np.float32)[:, None]
        return codes

    def positive_weights(self, targets, class_weight):
        """Multilabel ``class_weight`` as one weight per target's positives.

        Parameters
        ----------
        targets : array-like of shape (n, T)
            Encoded multilabel targets (lazy ones are counted in blocks).
        class_weight : dict, "balanced" or None
            A dict from target name or index to weight (others 1), or
            "balanced": ``n_negative / n_positive`` per target.

        Returns
        -------
        weights : ndarray of shape (T,) or None
            None for other targets or without ``class_weight`` (the plain loss).
        """
        if self.target_type != "multilabel-indicator" or class_weight is None:
            return None
        if class_weight == "balanced":
            if is_lazy(targets):  # count by blocks, never loading the whole matrix
                positives = sum(
                    np.asarray(targets[i:i + _COUNT_ROWS], dtype=np.int64).sum(axis=0)
                    for i in range(0, len(targets), _COUNT_ROWS)
                )
            else:
                positives = np.asarray(targets).sum(axis=0)
            negatives = len(targets) - positives
            return np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0)
        keys = list(class_weight)
        if not keys:  # an empty dict: every target weighs 1
            return None
        try:
            indices = target_indices(self.target_names, keys)
        except (ValueError, IndexError, TypeError) as e:
            raise ValueError(f"class_weight: {e}") from e
        weights = np.ones(self.n_outputs)
        weights[indices] = [class_weight[key] for key in keys]
        return weights
