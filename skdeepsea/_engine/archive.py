"""A Keras model as the bytes of a ``.keras`` archive, and back.

Used by ``.skdeepsea`` files (:mod:`skdeepsea.persistence`, which re-exports
both functions), pickling of the estimator, and the hand-over of a network
trained across processes (``processes.localized``).
"""

import os
import tempfile


def model_to_bytes(model):
    """Serialise a Keras model to the bytes of a ``.keras`` archive.

    Parameters
    ----------
    model : keras.Model
        The model; a compiled one is saved with its optimizer state.

    Returns
    -------
    data : bytes
        The archive.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(data):
    """Load a Keras model from the bytes of a ``.keras`` archive (safe mode).

    Parameters
    ----------
    data : bytes
        The archive, as written by :func:`model_to_bytes`.

    Returns
    -------
    model : keras.Model
        The model; compiled, with its optimizer state, when the archive holds one.
    """
    import keras

    # Registers the custom loss and torch_threshold (of imported weights) for deserialisation.
    from .. import losses, network  # noqa: F401

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, compile=True, safe_mode=True)
