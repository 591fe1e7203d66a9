"""Training losses beyond the ones Keras ships."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="skdeepsea")
class WeightedBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy with a weight on the positives of each target.

    ``loss = -mean_t(w_t * y_t * log(p_t) + (1 - y_t) * log(1 - p_t))``, the
    class weighting of multilabel DeepSEA targets, most of which are rare.

    Parameters
    ----------
    positive_weights : list of float
        One weight per target, applied to its positive examples.
    name : str, default="weighted_binary_crossentropy"
        Name of the loss.

    Examples
    --------
    >>> import numpy as np
    >>> loss = WeightedBinaryCrossentropy([1.0, 1.0])
    >>> y, p = np.array([[1.0, 0.0]]), np.array([[0.8, 0.3]])
    >>> bce = keras.losses.BinaryCrossentropy()
    >>> bool(abs(float(loss(y, p)) - float(bce(y, p))) < 1e-5)
    True
    """

    def __init__(self, positive_weights, name="weighted_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.positive_weights = [float(w) for w in positive_weights]

    def call(self, y_true, y_pred):
        eps = keras.config.epsilon()
        y_true = ops.cast(y_true, y_pred.dtype)
        y_pred = ops.clip(y_pred, eps, 1.0 - eps)
        weights = ops.convert_to_tensor(self.positive_weights, dtype=y_pred.dtype)
        terms = weights * y_true * ops.log(y_pred) + (1.0 - y_true) * ops.log(1.0 - y_pred)
        return -ops.mean(terms, axis=-1)

    def get_config(self):
        return {"name": self.name, "positive_weights": self.positive_weights}
