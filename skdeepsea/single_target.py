"""One target of a fitted multilabel model as a binary classifier.

scikit-learn's calibration (``CalibratedClassifierCV``) and threshold tuning
(``TunedThresholdClassifierCV``) take binary classifiers only; DeepSEA has 919
targets in one network. :class:`TargetClassifier` is a view of one of them:
it shares the fitted model and never trains it.
"""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted

from ._constraints import HasMethods, Satisfies, validate_params
from .targets import target_indices

__all__ = ["TargetClassifier"]


class TargetClassifier(ClassifierMixin, BaseEstimator):
    """One target of a fitted multilabel DeepSEAClassifier as a binary classifier.

    ``predict_proba`` returns ``(n, 2)`` columns ``[1 - p, p]`` where ``p`` is
    the model's probability of the target, ``classes_`` is ``[0, 1]``, and
    ``predict`` cuts ``p`` at the model's threshold of the target (so it
    equals that column of the model's ``predict``).

    The view never trains the model: ``fit`` only checks that the model is
    fitted. Meta-estimators that clone their estimator would get an unfitted
    copy, so wrap the view in :class:`sklearn.frozen.FrozenEstimator` (which
    clones to itself) or use ``cv="prefit"`` where offered:
    ``CalibratedClassifierCV(FrozenEstimator(view))``,
    ``TunedThresholdClassifierCV(view, cv="prefit", refit=False)``, both
    fitted on held-out data.

    Parameters
    ----------
    estimator : DeepSEAClassifier or Pipeline
        A fitted multilabel classifier with ``target_names_`` (a
        :class:`~skdeepsea.DeepSEAClassifier`), or a fitted Pipeline ending in
        one (then ``X`` is what the Pipeline takes, e.g. sequences).
    target : str or int, default=0
        The target: a name in ``target_names_`` or an index.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[0, 1]``: the target absent, present. Available as soon as
        ``estimator`` is fitted.
    target_index_ : int
        The target's column in the model's outputs.
    target_name_ : str
        The target's name.

    See Also
    --------
    skdeepsea.DeepSEAClassifier.target_classifier : The same view, from the model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.calibration import CalibratedClassifierCV
    >>> from sklearn.frozen import FrozenEstimator
    >>> from skdeepsea import DeepSEAClassifier, TargetClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, size=(60, 20, 4)).astype("float32")
    >>> Y = np.stack([X[:, :, 0].sum(1) > 5, X[:, :, 1].sum(1) > 10], axis=1).astype(int)
    >>> model = DeepSEAClassifier(conv_filters=(4,), dropout=(0.0,), kernel_size=4,
    ...                           fc_units=4, epochs=1, random_state=0).fit(X[:40], Y[:40])
    >>> view = TargetClassifier(model, target="target_1")
    >>> view.predict_proba(X[40:]).shape, view.classes_.tolist()
    ((20, 2), [0, 1])
    >>> calibrated = CalibratedClassifierCV(FrozenEstimator(view), cv=2).fit(X[40:], Y[40:, 1])
    >>> calibrated.predict_proba(X[40:]).shape
    (20, 2)
    """

    _parameter_constraints = {
        "estimator": [HasMethods(("predict_proba",), "a fitted DeepSEAClassifier or a Pipeline "
                                                      "ending in one")],
        "target": [Satisfies(lambda value: isinstance(value, (str, Integral))
                             and not isinstance(value, (bool, np.bool_)),
                             "one target name or index")],
    }

    def __init__(self, estimator, target=0):
        self.estimator = estimator
        self.target = target

    def _model(self):
        """The DeepSEAClassifier (the Pipeline's last step), checked fitted and multilabel."""
        validate_params(self._parameter_constraints, self.get_params(deep=False),
                        "TargetClassifier")
        model = self.estimator[-1] if hasattr(self.estimator, "steps") else self.estimator
        try:
            check_is_fitted(self.estimator)
        except NotFittedError as error:
            raise NotFittedError(
                "TargetClassifier views a fitted model and never trains it, but its estimator "
                "is not fitted. Fit the model first; meta-estimators that clone (as "
                "CalibratedClassifierCV and TunedThresholdClassifierCV with cv) need the view "
                "wrapped in sklearn.frozen.FrozenEstimator."
            ) from error
        if getattr(model, "target_type_", None) != "multilabel-indicator":
            raise ValueError(
                "TargetClassifier needs a multilabel model (fitted on a 0/1 target matrix), got "
                f"{type(model).__name__} with target type {getattr(model, 'target_type_', None)!r}."
            )
        return model

    def _index(self, model):
        return target_indices(model.target_names_, self.target)[0]

    def __sklearn_is_fitted__(self):
        try:
            self._index(self._model())
        except (NotFittedError, ValueError):
            return False
        return True

    @property
    def classes_(self):
        """``[0, 1]``, once the estimator is fitted."""
        if not self.__sklearn_is_fitted__():
            raise AttributeError("classes_ is available once the estimator is fitted.")
        return np.array([0, 1])

    @property
    def target_index_(self):
        """The target's column in the model's outputs."""
        return self._index(self._model())

    @property
    def target_name_(self):
        """The target's name in the model's ``target_names_``."""
        model = self._model()
        return str(model.target_names_[self._index(model)])

    def fit(self, X=None, y=None, **fit_params):
        """Check that the model is fitted and the target exists; nothing is trained.

        Parameters
        ----------
        X, y : ignored
            Present for scikit-learn's API.
        **fit_params : dict
            Ignored.

        Returns
        -------
        self : TargetClassifier
            The view.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the model is not fitted (e.g. a clone of the view).
        ValueError
            If the model is not multilabel, or the target is unknown.
        """
        self._index(self._model())
        return self

    def predict_proba(self, X):
        """Probabilities of the target's absence and presence.

        Parameters
        ----------
        X : array-like
            What the model takes: one-hot sequences, or sequences for a
            Pipeline that encodes them.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            ``[1 - p, p]``, ``p`` the model's probability of the target.
        """
        model = self._model()
        p = np.asarray(self.estimator.predict_proba(X))[:, self._index(model)]
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """1 where the target's probability exceeds the model's threshold for it.

        Parameters
        ----------
        X : array-like
            As for :meth:`predict_proba`.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            0 or 1, as the model's ``predict`` column of the target.
        """
        from ._engine.thresholds import decision_thresholds

        model = self._model()
        index = self._index(model)
        threshold = decision_thresholds(model.threshold, model.target_type_,
                                        len(model.target_names_))[index]
        return (self.predict_proba(X)[:, 1] > threshold).astype(int)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self.estimator).input_tags
        tags.classifier_tags.multi_class = False
        return tags
