"""Batch sources: what the training loop and the inference function read.

Every fit reads :class:`TrainBatches` and every prediction and validation
:class:`OrderedBatches`, whether ``X`` is in memory or lazy (an ``h5py.Dataset``,
a ``numpy.memmap``, the arrays of :func:`skdeepsea.data.open_dataset`).

Training reads the data in **blocks** of contiguous samples (reading one
sample at a time from a file is slow) and shuffles at two levels, all seeded:

1. every pass over the data permutes the order of the blocks;
2. consecutive permuted blocks are grouped into **buffers** of about
   ``shuffle_buffer`` samples, each read in full and shuffled as a whole,
   together with the reverse-complement copies of its samples when
   augmenting. An in-memory array is one block and one buffer: a full shuffle.

A batch is a run of positions in this order, so the whole order is a pure
function of (seed, pass, step): a resumed fit continues exactly where its
checkpoint stopped. The next buffer is read in a background thread while the
current one is consumed, and the next batch is gathered in another while the
device runs the current one. Prediction batches of lazy arrays are read ahead
in Keras' worker threads.

Batches travel as stored (uint8 one-hot data stay uint8, a quarter of
float32); the cast to the compute type and the reverse complement happen on
the device, inside the compiled step (:mod:`skdeepsea._engine.model`): a
training batch carries, per sample, a ``reverse`` flag instead of a
complemented copy.

Every batch has the same shape, so each step is compiled once: the last
batch of a pass is padded with zero-weight samples, and the weights of its
real samples are scaled by ``batch_size / n_real`` so that the mean loss is
that of the real samples alone.
"""

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from .lazy import read_rows

_WORKERS = 2  # Keras' threads reading batches ahead of the device


def check_finite_rows(x, samples):
    """Refuse NaN or infinity in rows read from a lazy X, naming the sample and position.

    Parameters
    ----------
    x : ndarray of shape (m, L, C)
        Rows as read.
    samples : ndarray of shape (m,)
        The sample index of each row.
    """
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        row, position, channel = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f"X[{samples[row]}] holds {x[row, position, channel]} at position {position} "
            f"(channel {channel}); one-hot values must be finite (no NaN or inf)."
        )


def transport_dtype(x):
    """Batches of bool and integer one-hot data travel as uint8; others as float32.

    Parameters
    ----------
    x : ndarray
        A batch as read.

    Returns
    -------
    x : ndarray
        uint8 or float32.
    """
    if x.dtype == np.uint8:
        return x
    if x.dtype.kind in "biu":
        return x.astype(np.uint8)
    return x.astype(np.float32, copy=False)


def pad_rows(array, size):
    """``array`` with zero rows appended up to ``size`` rows."""
    if len(array) == size:
        return array
    padding = np.zeros((size - len(array),) + array.shape[1:], dtype=array.dtype)
    return np.concatenate([array, padding])


class TrainBatches(keras.utils.PyDataset):
    """Shuffled training batches of fixed shape, read block by block.

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
        Samples per shuffle buffer (before reverse-complement copies).
    seed : int
        Seed of the shuffling.
    augment : bool
        Add a reverse-complement copy of every sample: each batch is then a
        dict ``{"sequence": x, "reverse": flags}``, and the model reverse
        complements the flagged samples on the device.
    steps_per_epoch : int or None
        Batches per Keras epoch; None: one pass over the data.
    target_dtype : str, default="float32"
        Type of the targets handed to Keras ("int32" for class codes).
    share : Share or None, default=None
        In a multi-process job, this process's slice of every batch
        (:class:`~skdeepsea._engine.processes.Share`): the order and the
        padding are those of the global batch, of which only the slice is
        read and handed to Keras. None: the whole batch.
    """

    def __init__(self, X, targets, sample_weight, blocks, *, batch_size, shuffle_buffer, seed,
                 augment, steps_per_epoch=None, target_dtype="float32", share=None):
        # Keras reads these batches in order, in its own thread: its worker pool would read
        # ahead across epochs with a stale ``begin``. The next batch is made ahead here.
        super().__init__(workers=1, use_multiprocessing=False)
        self.X, self.targets, self.sample_weight = X, targets, sample_weight
        self.blocks = np.asarray(blocks, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.part = (0, self.batch_size) if share is None else share.part(self.batch_size)
        self.seed = int(seed)
        self.augment = bool(augment)
        self.copies = 2 if augment else 1
        self.target_dtype = target_dtype
        self.n_samples = int((self.blocks[:, 1] - self.blocks[:, 0]).sum())
        self.n_virtual = self.n_samples * self.copies
        block_size = int((self.blocks[:, 1] - self.blocks[:, 0]).max())
        self.blocks_per_buffer = max(1, int(shuffle_buffer) // block_size)
        self.steps_per_pass = math.ceil(self.n_virtual / self.batch_size)
        self.steps_per_epoch = int(steps_per_epoch or self.steps_per_pass)
        self.length = self.steps_per_epoch
        self.first_step = 0
        self._passes = {}
        self._buffers = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(1)  # reads buffers
        self._assembler = ThreadPoolExecutor(1)  # makes the next batch
        self._next = None

    # Keras' interface ------------------------------------------------------

    def __len__(self):
        return self.length

    def __getitem__(self, index):
        step = self.first_step + index
        ahead, self._next = self._next, None
        batch = ahead[1].result() if ahead is not None and ahead[0] == step else self.batch(step)
        if index + 1 < self.length:  # not past the epoch: the next may start elsewhere
            self._next = (step + 1, self._assembler.submit(self.batch, step + 1))
        return batch

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
        def rows(array):
            parts = [read_rows(array, a, b) for a, b in group]
            return parts[0] if len(parts) == 1 else np.concatenate(parts)

        w = None if self.sample_weight is None else rows(self.sample_weight)
        X = rows(self.X)
        samples = np.concatenate([np.arange(a, b) for a, b in group])
        check_finite_rows(X, samples)
        rng = np.random.default_rng([self.seed, p, k, 1])
        return X, rows(self.targets), w, rng.permutation(len(X) * self.copies)

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
        """The batch of global step ``step``: (x, y, sample_weight), always full size.

        ``x`` is the uint8 (or float32) sequences, or with augmentation a dict
        of them and the per-sample ``reverse`` flags (uint8). In a
        multi-process job, this process's slice of the global batch.
        """
        p, b = divmod(int(step), self.steps_per_pass)
        first = b * self.batch_size
        last = min(first + self.batch_size, self.n_virtual)
        n_real = last - first  # real samples of the global batch
        begin, end = min(first + self.part[0], last), min(first + self.part[1], last)
        with self._lock:
            _, bounds = self._pass_layout(p)
        xs, ys, ws, flags = [], [], [], []
        # A slice past the real samples (all padding) still takes its types from a buffer.
        k = int(np.searchsorted(bounds, min(begin, last - 1), side="right")) - 1
        position = begin
        while position < end or not xs:
            X, y, w, order = self._buffer(p, k)
            stop = min(end, int(bounds[k + 1]))
            virtual = order[position - bounds[k]:max(position, stop) - bounds[k]]
            rows = virtual % len(X)
            xs.append(X[rows])
            ys.append(y[rows])
            flags.append(virtual // len(X))
            if w is not None:
                ws.append(w[rows])
            position, k = max(position, stop), k + 1
        size = self.part[1] - self.part[0]
        x = pad_rows(transport_dtype(np.concatenate(xs)), size)
        y = pad_rows(np.concatenate(ys).astype(self.target_dtype), size)
        weight = (np.ones(end - begin, dtype=np.float32) if self.sample_weight is None
                  else np.concatenate(ws).astype(np.float32))
        # Keras divides the summed loss by the batch size: scaling the real
        # samples' weights makes the padded batch's loss their mean.
        weight = pad_rows(weight * np.float32(self.batch_size / n_real), size)
        if self.augment:
            reverse = pad_rows(np.concatenate(flags).astype(np.uint8), size)
            x = {"sequence": x, "reverse": reverse}
        return x, y, weight

    def close(self):
        """Stop the read-ahead thread."""
        self._assembler.shutdown(wait=True, cancel_futures=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._buffers.clear()


class OrderedBatches(keras.utils.PyDataset):
    """Batches of rows ``start:stop`` in order: for prediction and validation.

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
    start, stop : int or None, default=None
        The rows to read; None: all.
    pad : bool, default=True
        Pad the last batch to ``batch_size`` rows (prediction: one shape, one
        compilation; the caller drops the padding's outputs). Validation
        batches are not padded, so that the validation loss is Keras' own.
    multiple : int, default=1
        Without padding, batches hold a multiple of this many samples: up to
        ``multiple - 1`` samples at the end are left out (validation in
        data-parallel training).
    training_inputs : bool, default=False
        Yield ``{"sequence": x, "reverse": 0}`` (validation of a model
        trained with on-device reverse complements).
    read_ahead : bool, default=True
        Read batches ahead in Keras' worker threads (lazy arrays). Starting
        the threads costs about 0.1 s a call: not worth it for slices of
        arrays in memory.
    share : Share or None, default=None
        In a multi-process job, this process's slice of every batch
        (validation: each sample is evaluated once, by one process; the
        batches' sizes must split evenly, see ``multiple``). None: all.
    """

    def __init__(self, X, batch_size, *, targets=None, target_dtype="float32", start=None,
                 stop=None, pad=True, multiple=1, training_inputs=False, read_ahead=True,
                 share=None):
        super().__init__(workers=_WORKERS if read_ahead else 1, use_multiprocessing=False)
        self.X, self.targets, self.target_dtype = X, targets, target_dtype
        self.batch_size, self.pad = int(batch_size), bool(pad)
        self.start = 0 if start is None else int(start)
        stop = len(X) if stop is None else int(stop)
        n = stop - self.start
        self.stop = stop if pad else stop - (n % self.batch_size) % int(multiple)
        self.training_inputs = training_inputs
        self.share = share

    def __len__(self):
        return math.ceil((self.stop - self.start) / self.batch_size)

    def __getitem__(self, index):
        begin = self.start + index * self.batch_size
        end = min(begin + self.batch_size, self.stop)
        if self.share is not None:
            begin, end = (begin + offset for offset in self.share.part(end - begin))
        x = read_rows(self.X, begin, end)
        check_finite_rows(x, np.arange(begin, end))
        x = transport_dtype(x)
        if self.pad:
            x = pad_rows(x, self.batch_size)
        if self.training_inputs:
            x = {"sequence": x, "reverse": np.zeros(len(x), dtype=np.uint8)}
        if self.targets is None:
            return (x,)
        return x, read_rows(self.targets, begin, end).astype(self.target_dtype)
