"""Out-of-core training and prediction: Keras batches streamed from lazy arrays.

A *lazy* array is anything indexable like a NumPy array whose samples are
not all in memory: an ``h5py.Dataset``, a ``numpy.memmap``, or the ``.X`` /
``.Y`` arrays of a :func:`skdeepsea.data.open_dataset` data set. Reading one
sample at a time from such an array is slow; reading a contiguous run of
samples is fast. So training reads the data in **blocks** of contiguous
samples and shuffles at two levels, all seeded:

1. every pass over the data permutes the order of the blocks;
2. consecutive permuted blocks are grouped into **buffers** of about
   ``shuffle_buffer`` samples, each read in full (block by block) and shuffled
   as a whole, together with the reverse complements of its sequences when
   augmenting.

A batch is a run of positions in this order, so the whole order is a pure
function of (seed, pass, step): a resumed fit continues exactly where its
checkpoint stopped. Batches are converted to float32 (and reverse
complemented) one at a time, and the next buffer is read in a background
thread while the current one is consumed. At most two buffers are held.
"""

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from .._lazy import read_rows
from ..preprocessing import reverse_complement


class TrainStream(keras.utils.PyDataset):
    """Shuffled training batches read block by block from (lazy) arrays.

    Parameters
    ----------
    X : array-like of shape (n, L, C)
        Inputs, lazy or in memory.
    targets : array-like of shape (n, T) or (n,)
        Targets (lazy or in memory); converted with ``target_dtype``.
    sample_weight : ndarray of shape (n,) or None
        Per-sample weights.
    blocks : ndarray of shape (n_blocks, 2)
        The (start, stop) runs of samples to train on.
    batch_size : int
        Samples per batch.
    shuffle_buffer : int
        Samples per shuffle buffer (before reverse complements).
    seed : int
        Seed of the shuffling.
    alphabet : str or None
        Alphabet for reverse-complement augmentation; None: no augmentation.
    steps_per_epoch : int or None
        Batches per Keras epoch; None: one pass over the data.
    target_dtype : str, default="float32"
        Type of the targets handed to Keras ("int32" for class codes).
    multiple : int, default=1
        Every batch holds a multiple of this many samples (the device count
        of data-parallel training): the last batch of a pass drops up to
        ``multiple - 1`` samples, different ones each pass.
    """

    def __init__(self, X, targets, sample_weight, blocks, *, batch_size, shuffle_buffer, seed,
                 alphabet, steps_per_epoch=None, target_dtype="float32", multiple=1):
        super().__init__(workers=1, use_multiprocessing=False)
        self.X, self.targets, self.sample_weight = X, targets, sample_weight
        self.blocks = np.asarray(blocks, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.alphabet = alphabet
        self.copies = 2 if alphabet is not None else 1
        self.target_dtype = target_dtype
        self.n_samples = int((self.blocks[:, 1] - self.blocks[:, 0]).sum())
        self.n_virtual = self.n_samples * self.copies
        self.n_used = self.n_virtual - (self.n_virtual % self.batch_size) % int(multiple)
        if self.n_used == 0:
            raise ValueError(
                f"{self.n_virtual} training samples cannot be split evenly over {multiple} devices."
            )
        block_size = int((self.blocks[:, 1] - self.blocks[:, 0]).max())
        self.blocks_per_buffer = max(1, int(shuffle_buffer) // block_size)
        self.steps_per_pass = math.ceil(self.n_used / self.batch_size)
        self.steps_per_epoch = int(steps_per_epoch or self.steps_per_pass)
        self.length = self.steps_per_epoch
        self.first_step = 0
        self._passes = {}
        self._buffers = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(1)

    # Keras' interface ------------------------------------------------------

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        return self.batch(self.first_step + index)

    def begin(self, first_step, length):
        """Make index 0 the global step ``first_step``, with ``length`` batches per epoch."""
        self.first_step, self.length = int(first_step), int(length)

    # the order -------------------------------------------------------------

    def _pass_layout(self, p):
        """Block order and buffer boundaries (in pass positions) of pass p."""
        if p not in self._passes:
            rng = np.random.default_rng([self.seed, p])
            order = self.blocks[rng.permutation(len(self.blocks))]
            groups = [order[i:i + self.blocks_per_buffer]
                      for i in range(0, len(order), self.blocks_per_buffer)]
            sizes = np.array([int((g[:, 1] - g[:, 0]).sum()) * self.copies for g in groups])
            self._passes = {q: v for q, v in self._passes.items() if q == p - 1}
            self._passes[p] = (groups, np.concatenate([[0], np.cumsum(sizes)]))
        return self._passes[p]

    def _load(self, p, k, group):
        X = np.concatenate([read_rows(self.X, a, b) for a, b in group])
        y = np.concatenate([read_rows(self.targets, a, b) for a, b in group])
        w = (None if self.sample_weight is None
             else np.concatenate([self.sample_weight[a:b] for a, b in group]))
        rng = np.random.default_rng([self.seed, p, k, 1])
        return X, y, w, rng.permutation(len(X) * self.copies)

    def _buffer(self, p, k):
        key = (p, k)
        with self._lock:
            groups, _ = self._pass_layout(p)
            future = self._buffers.get(key)
            if future is None:
                future = self._executor.submit(self._load, p, k, groups[k])
                self._buffers[key] = future
            following = (p, k + 1) if k + 1 < len(groups) else (p + 1, 0)
            # Keep the current buffer, its predecessor (a batch may straddle
            # two) and the next one, read ahead in the background.
            keep = {key, (p, k - 1), following}
            for stale in [b for b in self._buffers if b not in keep]:
                del self._buffers[stale]
            if following not in self._buffers and following[0] == p:
                self._buffers[following] = self._executor.submit(
                    self._load, p, k + 1, groups[k + 1])
        return future.result()

    def batch(self, step):
        """The batch of global step ``step``: (x, y) or (x, y, sample_weight)."""
        p, b = divmod(int(step), self.steps_per_pass)
        begin = b * self.batch_size
        end = min(begin + self.batch_size, self.n_used)
        with self._lock:
            _, bounds = self._pass_layout(p)
        xs, ys, ws = [], [], []
        k = int(np.searchsorted(bounds, begin, side="right")) - 1
        position = begin
        while position < end:
            X, y, w, order = self._buffer(p, k)
            stop = min(end, int(bounds[k + 1]))
            virtual = order[position - bounds[k]:stop - bounds[k]]
            rows, strand = virtual % len(X), virtual // len(X)
            x = X[rows]
            if self.copies == 2 and strand.any():
                flip = strand == 1
                x[flip] = np.asarray(reverse_complement(x[flip], alphabet=self.alphabet))
            xs.append(x)
            ys.append(y[rows])
            if w is not None:
                ws.append(w[rows])
            position, k = stop, k + 1
        x = np.concatenate(xs).astype(np.float32)
        y = np.concatenate(ys).astype(self.target_dtype)
        if self.sample_weight is None:
            return x, y
        return x, y, np.concatenate(ws).astype(np.float32)

    def close(self):
        """Stop the read-ahead thread."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._buffers.clear()


class SequentialStream(keras.utils.PyDataset):
    """Batches in file order: for prediction and validation.

    Parameters
    ----------
    X : array-like of shape (n, L, C)
        Inputs, lazy or in memory.
    batch_size : int
        Samples per batch.
    targets : array-like or None, default=None
        Targets to yield with the inputs (validation).
    target_dtype : str, default="float32"
        Type of the targets.
    alphabet : str or None, default=None
        Reverse complement every sequence in this alphabet; None: as read.
    multiple : int, default=1
        Batches hold a multiple of this many samples: up to ``multiple - 1``
        samples at the end are left out (validation in data-parallel
        training; never for prediction).
    """

    def __init__(self, X, batch_size, *, targets=None, target_dtype="float32", alphabet=None,
                 multiple=1):
        super().__init__(workers=1, use_multiprocessing=False)
        self.X, self.targets, self.target_dtype = X, targets, target_dtype
        self.batch_size, self.alphabet = int(batch_size), alphabet
        self.n_used = len(X) - (len(X) % self.batch_size) % int(multiple)

    def __len__(self):
        return math.ceil(self.n_used / self.batch_size)

    def __getitem__(self, index):
        begin = index * self.batch_size
        end = min(begin + self.batch_size, self.n_used)
        x = read_rows(self.X, begin, end)
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise ValueError(
                f"X contains NaN or infinity in samples {begin} to {end - 1}; one-hot values "
                "must be finite."
            )
        if self.alphabet is not None:
            x = np.asarray(reverse_complement(x, alphabet=self.alphabet))
        x = x.astype(np.float32)
        if self.targets is None:
            return (x,)
        return x, read_rows(self.targets, begin, end).astype(self.target_dtype)


class TrainingState(keras.callbacks.Callback):
    """Steps, epochs, history, validation-based best weights and checkpoints.

    Parameters
    ----------
    stream : TrainStream
        The training batches (told where each epoch starts).
    steps_per_epoch : int
        Batches per epoch.
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
    """

    def __init__(self, stream, steps_per_epoch, *, early_stopping, patience, checkpoint_dir,
                 checkpoint_every, meta):
        super().__init__()
        self.stream, self.steps_per_epoch = stream, steps_per_epoch
        self.early_stopping, self.patience = early_stopping, patience
        self.checkpoint_dir, self.checkpoint_every = checkpoint_dir, checkpoint_every
        self.meta = meta
        self.step, self.epochs_done, self.wait, self.best = 0, 0, 0, None
        self.best_weights, self.stopped, self.history = None, False, {}

    # state <-> checkpoint ---------------------------------------------------

    def restore(self, meta, groups):
        """Take the state of a checkpoint (the model's variables included)."""
        from .._checkpoint import assign_values

        self.step, self.epochs_done = meta["step"], meta["epochs_done"]
        self.wait, self.best, self.stopped = meta["wait"], meta["best"], meta["stopped"]
        self.history = meta["history"]
        self.best_weights = groups["best"] or None
        assign_values(self.model.variables, groups["model"], "model")
        assign_values(self.model.optimizer.variables, groups["optimizer"], "optimizer")

    def save(self, finished=False):
        """Write a checkpoint of the current state."""
        from .._checkpoint import variable_values, write_checkpoint

        if self.checkpoint_dir is None:
            return
        if hasattr(self.model, "jax_state_sync"):
            self.model.jax_state_sync()  # JAX keeps the training state apart until synced
        meta = dict(self.meta, step=self.step, epochs_done=self.epochs_done, wait=self.wait,
                    best=self.best, stopped=self.stopped, history=self.history,
                    finished=finished)
        write_checkpoint(self.checkpoint_dir, meta, {
            "model": variable_values(self.model.variables),
            "optimizer": variable_values(self.model.optimizer.variables),
            "best": list(self.best_weights or []),
        })

    # Keras hooks ------------------------------------------------------------

    def on_epoch_begin(self, epoch, logs=None):
        done_in_epoch = self.step - epoch * self.steps_per_epoch
        self.stream.begin(self.step, self.steps_per_epoch - done_in_epoch)

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
                if hasattr(self.model, "jax_state_sync"):
                    self.model.jax_state_sync()
                self.best, self.wait = float(val_loss), 0
                self.best_weights = [np.array(w) for w in self.model.get_weights()]
            else:
                self.wait += 1
                if self.early_stopping and self.wait >= self.patience:
                    self.stopped = True
                    self.model.stop_training = True
        self.save()
