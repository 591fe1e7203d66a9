"""The training loop: one Keras ``fit`` over a batch source, and its state as one callback.

:class:`TrainingState` counts steps and epochs, records the history, keeps
the best weights by validation loss (early stopping), and writes and restores
checkpoints. :func:`fit_loop` runs the epochs still to do, resuming mid-epoch
where a checkpoint stopped.
"""

import contextlib
import json
import os

import keras
import numpy as np

from .._backend import keras_on_accelerator
from .._checkpoint import assign_values, variable_values, write_checkpoint
from .._malloc import reused_large_buffers


class TrainingState(keras.callbacks.Callback):
    """Steps, epochs, history, validation-based best weights and checkpoints.

    Parameters
    ----------
    batches : TrainBatches
        The training batches (told where each epoch starts).
    early_stopping : bool
        Stop after ``patience`` epochs without a better ``val_loss``.
    patience : int
        Epochs without improvement before stopping.
    checkpoint_dir : str or None
        Where to write checkpoints; None: nowhere.
    checkpoint_every : int
        Steps between checkpoints (also written at every epoch end).
    meta : dict
        Fixed entries of every checkpoint (fingerprint, seed).
    writer : bool, default=True
        Whether this process writes the checkpoints (in a multi-process job,
        process 0 only).
    barrier : callable or None, default=None
        In a multi-process job, ``barrier(name)`` waits for every process:
        the others wait after each checkpoint until process 0 has written it.
    """

    def __init__(self, batches, *, early_stopping, patience, checkpoint_dir, checkpoint_every,
                 meta, writer=True, barrier=None):
        super().__init__()
        self.batches, self.steps_per_epoch = batches, batches.steps_per_epoch
        self.early_stopping, self.patience = early_stopping, patience
        self.checkpoint_dir, self.checkpoint_every = checkpoint_dir, checkpoint_every
        self.meta = meta
        self.writer, self.barrier = writer, barrier
        self.step, self.epochs_done, self.wait, self.best = 0, 0, 0, None
        self.best_weights, self.stopped, self.history = None, False, {}

    # state <-> checkpoint ---------------------------------------------------

    def resume(self, checkpoint, directory):
        """Take the state of a checkpoint of this training; refuse one of another training."""
        meta, groups = checkpoint
        ours, theirs = self.meta["fingerprint"], meta["fingerprint"]
        if theirs != ours:
            different = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
            raise ValueError(
                f"The checkpoint in {os.fspath(directory)!r} was written by another training "
                f"(it differs in {different}); use a new checkpoint_dir, or delete the old "
                "checkpoint."
            )
        self.restore(meta, groups)

    def restore(self, meta, groups):
        """Take the state of a checkpoint (the model's variables included)."""
        self.step, self.epochs_done = meta["step"], meta["epochs_done"]
        self.wait, self.best, self.stopped = meta["wait"], meta["best"], meta["stopped"]
        self.history = meta["history"]
        self.best_weights = groups["best"] or None
        assign_values(self.model.variables, groups["model"], "model")
        assign_values(self.model.optimizer.variables, groups["optimizer"], "optimizer")

    def _sync(self):
        if hasattr(self.model, "jax_state_sync"):
            self.model.jax_state_sync()  # JAX keeps the training state apart until synced

    def save(self, finished=False):
        """Write a checkpoint of the current state (when there is a checkpoint directory)."""
        if self.checkpoint_dir is None:
            return
        if self.writer:
            self._sync()
            meta = dict(self.meta, step=self.step, epochs_done=self.epochs_done, wait=self.wait,
                        best=self.best, stopped=self.stopped, history=self.history,
                        finished=finished)
            write_checkpoint(self.checkpoint_dir, meta, {
                "model": variable_values(self.model.variables),
                "optimizer": variable_values(self.model.optimizer.variables),
                "best": list(self.best_weights or []),
            })
        if self.barrier is not None:
            self.barrier(f"checkpoint {self.step}")

    # Keras hooks ------------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        done_in_epoch = self.step - epoch * self.steps_per_epoch
        self.batches.begin(self.step, self.steps_per_epoch - done_in_epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        # The last step of an epoch is saved by on_epoch_end, with its validation.
        if self.step % self.checkpoint_every == 0 and self.step % self.steps_per_epoch:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_done = epoch + 1
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        val_loss = (logs or {}).get("val_loss")
        if val_loss is not None:
            if self.best is None or val_loss < self.best:
                self._sync()
                self.best, self.wait = float(val_loss), 0
                self.best_weights = [np.array(w) for w in self.model.get_weights()]
            else:
                self.wait += 1
                if self.early_stopping and self.wait >= self.patience:
                    self.stopped = True
                    self.model.stop_training = True
        self.save()


_NOT_FINGERPRINTED = {"epochs", "verbose", "checkpoint_dir", "checkpoint_every",
                      "n_iter_no_change", "data_parallel", "random_state", "early_stopping",
                      "warm_start", "threshold"}


def training_fingerprint(params, data, batches, validation):
    """What a checkpoint must match to be resumed by a fit: parameters and data sizes.

    Parameters that do not change the sequence of training steps (epochs,
    verbosity, where checkpoints go) are left out, so a fit with more epochs
    continues a finished one.

    Returns
    -------
    fingerprint : dict
        JSON-serialisable.
    """
    fingerprint = {k: v for k, v in params.items() if k not in _NOT_FINGERPRINTED}
    fingerprint["class_weight"] = (
        None if fingerprint["class_weight"] is None else repr(fingerprint["class_weight"])
    )
    fingerprint.update(
        n_train=batches.n_samples, n_val=None if validation is None else len(validation.X),
        n_outputs=data.encoder.n_outputs, sequence_length=data.sequence_length,
        target_type=data.encoder.target_type, alphabet=data.alphabet,
        steps_per_epoch=batches.steps_per_epoch,
    )
    return json.loads(json.dumps(fingerprint, default=os.fspath))


class EpochBuffers(keras.callbacks.Callback):
    """While an epoch's steps run, large arrays come from the heap and are reused.

    On the torch backend on a CPU every step allocates the activations and the
    gradients anew (the dense kernel's is 188 MB); glibc maps each such array and
    faults it in page by page (:mod:`skdeepsea._malloc`). Lifted for each epoch
    (:func:`~skdeepsea._malloc.reused_large_buffers`) and settled at its end, so
    what runs between epochs (the user's callbacks, checkpoints, other work of the
    process) has the process's settings and the heap is returned. Results are
    unchanged; a step took about 20% less time (benchmarks/RESULTS.md, issue 22).
    """

    def __init__(self):
        super().__init__()
        self._epoch = contextlib.ExitStack()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch.enter_context(reused_large_buffers())

    def on_epoch_end(self, epoch, logs=None):
        self.close()

    def close(self):
        """Settle the allocator (an epoch that ended early, by an error or a stop)."""
        self._epoch.close()


def fit_loop(model, batches, validation, state, epochs, verbose):
    """Train ``model`` on ``batches`` until ``epochs`` epochs are done or early stopping.

    A state restored from a checkpoint taken mid-epoch first finishes that
    epoch; the fit then ends after the same steps as an uninterrupted one.

    Parameters
    ----------
    model : keras.Model
        The compiled training model.
    batches : TrainBatches
        Training batches.
    validation : OrderedBatches or None
        Validation batches, evaluated after each epoch.
    state : TrainingState
        Steps, history, best weights, checkpoints.
    epochs : int
        Epochs in all (resumed ones included).
    verbose : int
        Keras' verbosity.
    """
    spe = batches.steps_per_epoch
    done = state.step - state.epochs_done * spe
    segments = []
    if done and state.epochs_done < epochs:
        segments.append((state.epochs_done, state.epochs_done + 1, spe - done))
    first = state.epochs_done + (1 if done else 0)
    if first < epochs:
        segments.append((first, epochs, spe))
    callbacks = [state]
    if keras.backend.backend() == "torch" and not keras_on_accelerator():
        callbacks.append(EpochBuffers())
    try:
        for initial_epoch, end_epoch, length in segments:
            if state.stopped:
                break
            batches.begin(state.step, length)
            model.fit(
                batches, epochs=end_epoch, initial_epoch=initial_epoch,
                validation_data=validation, callbacks=callbacks, verbose=verbose,
                shuffle=False,  # the batches are shuffled, seeded; Keras would reorder them
            )
    finally:
        for callback in callbacks[1:]:
            callback.close()
    if state.early_stopping and state.best_weights is not None:
        model.set_weights(state.best_weights)
    state.save(finished=True)
