"""The one batched inference function: every prediction of the package runs here.

``predict_proba``, the evaluation report, motif extraction, variant scoring
and mutagenesis all call :func:`predict_batches` (or :func:`iter_predictions`,
its streaming form) on a Keras model: the estimator's network, a sub-model of
it, or a strand-averaged wrapper. Inputs are read batch by batch in worker
threads (so lazy arrays far larger than memory work), travel as stored
(uint8), are padded to one batch shape (one compiled step), and the strand
average is computed on the device.
"""

import numpy as np

from .batches import OrderedBatches
from .inputs import streamed
from .model import predictor

_BATCHES_PER_CALL = 64  # batches per Keras predict call when iterating or showing progress


def iter_predictions(model, X, *, batch_size, average_strands_alphabet=None, progress=False,
                     batches_per_call=None):
    """Yield the outputs of ``model`` for runs of rows of ``X``, in order.

    Parameters
    ----------
    model : keras.Model
        Network (or sub-model) taking (n, L, C) inputs.
    X : array-like of shape (n, L, C)
        Inputs in memory or lazy (sliced ``X[i:j]``), float or uint8.
    batch_size : int
        Samples per forward pass.
    average_strands_alphabet : str or None, default=None
        Average each output with that of the reverse complement (channels in
        this base order), on the device; None: as given.
    progress : bool or str, default=False
        Show a tqdm progress bar (a string names it).
    batches_per_call : int or None, default=None
        Batches per chunk yielded; None: all at once, or 64 with a progress bar.

    Yields
    ------
    start, stop : int
        The rows of ``X`` of this chunk.
    outputs : ndarray or list of ndarray
        The model's outputs for those rows (float32 for float outputs).
    """
    from tqdm.auto import tqdm

    model = predictor(model, average_strands_alphabet)
    n = len(X)
    if batches_per_call is None:
        batches_per_call = _BATCHES_PER_CALL if progress else max(1, -(-n // batch_size))
    chunk = batches_per_call * batch_size
    description = progress if isinstance(progress, str) else "predicting"
    with tqdm(total=n, desc=description, unit="seq", disable=not progress) as bar:
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            batches = OrderedBatches(X, batch_size, start=start, stop=stop,
                                     read_ahead=streamed(X) and stop - start > 4 * batch_size)
            outputs = _predict_keeping_weights(model, batches)
            if isinstance(outputs, (list, tuple)):
                outputs = [np.asarray(o[:stop - start]) for o in outputs]
            else:
                outputs = np.asarray(outputs[:stop - start])
            bar.update(stop - start)
            yield start, stop, outputs


def _predict_keeping_weights(model, batches):
    """``model.predict`` that leaves the model's weights in place when it fails mid-way.

    Keras' JAX trainer takes the variables' values out of the model while it
    predicts and puts them back at the end only: an exception in between (a
    batch refused for NaN, an interrupt) would leave the network without
    weights. The values before the call (JAX arrays are immutable: keeping
    references costs nothing) are put back, then the trainer's own latest
    state (``jax_state_sync``) where a batch ran (its step consumed the
    buffers of the values before).
    """
    import keras

    values = [v.value for v in model.variables] if keras.backend.backend() == "jax" else None
    try:
        return model.predict(batches, verbose=0)
    except BaseException:
        if values is not None:
            for variable, value in zip(model.variables, values):
                variable.assign(value)
            model.jax_state_sync()
        raise


def predict_batches(model, X, *, batch_size, average_strands_alphabet=None, progress=False):
    """Outputs of ``model`` for every row of ``X``, computed batch by batch.

    Parameters
    ----------
    model : keras.Model
        Network (or sub-model) with one output.
    X : array-like of shape (n, L, C)
        Inputs in memory or lazy, float or uint8.
    batch_size : int
        Samples per forward pass.
    average_strands_alphabet : str or None, default=None
        Average with the reverse complement's outputs (base order of ``X``).
    progress : bool or str, default=False
        Show a progress bar.

    Returns
    -------
    outputs : ndarray of shape (n, ...)
        float32.
    """
    parts = [outputs for _, _, outputs in iter_predictions(
        model, X, batch_size=batch_size, average_strands_alphabet=average_strands_alphabet,
        progress=progress)]
    return np.concatenate(parts).astype(np.float32, copy=False)
