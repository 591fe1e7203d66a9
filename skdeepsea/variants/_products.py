"""Where the substitutions' matrix products run: NumPy's BLAS or the Keras backend's matmul.

Also the host facts the variants code decides by: whether the Keras backend
computes on an accelerator (:func:`skdeepsea._backend.keras_on_accelerator`),
the cores this process may use (:func:`available_cores`) and the process's one
BLAS thread controller (:func:`blas_controller`).
"""

import functools
import os
import threading

import numpy as np

from .._backend import keras_on_accelerator

_TILE = 256  # rows per backend product: one shape, so JAX compiles each matrix's product once
# Smaller matrices stay in NumPy: a JAX compilation pays for itself only after many
# tiles of a large matrix, never for the small networks' matrices within one call.
_BACKEND_MIN_WEIGHTS = 500_000


def available_cores():
    """The cores this process may run on (its CPU affinity where the OS tells it).

    Returns
    -------
    int
        At least 1.
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@functools.cache
def blas_controller():
    """The process's one ``threadpoolctl.ThreadpoolController``.

    Making one scans all the shared libraries the process has loaded (many,
    with a Keras backend), so it is made once.

    Returns
    -------
    threadpoolctl.ThreadpoolController
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _backend_products():
    """Whether the differences' matrix products run through the Keras backend's matmul.

    On the CPU, JAX's (XLA) and TensorFlow's matmul compute these products faster
    than NumPy's OpenBLAS, and PyTorch's more slowly (benchmarks/RESULTS.md, issue
    10). On an accelerator the products stay on the host (NumPy): they are small,
    and copying them to the device and back would cost more.
    """
    import keras

    return keras.backend.backend() in ("jax", "tensorflow") and not keras_on_accelerator()


class Matrix:
    """A weight matrix that differences are multiplied by.

    Float32 on the host, and the Keras backend's copies of the row ranges
    multiplied (when :func:`_backend_products`).

    Parameters
    ----------
    array : array-like of shape (n_rows, n_columns)
        The weights.
    """

    def __init__(self, array):
        self.array = np.ascontiguousarray(array, dtype=np.float32)
        # Per row range: its backend copy, made at first use. The dense kernel is read
        # one position's rows at a time, or (SNV scoring) the rows of one span of
        # positions per strand; slicing one backend copy would copy the rows at every
        # product.
        self._tensors = {}
        self._lock = threading.Lock()  # threads of one predict call may make a copy at once

    @property
    def size(self):
        """The number of weights."""
        return self.array.size

    @staticmethod
    def fills_a_tile(rows):
        """Whether ``rows`` rows of differences make at least one backend tile."""
        return rows >= _TILE

    def row_products(self, a, first=0, stop=None):
        """Yield ``(r0, r1, a[r0:r1] @ self.array[first:stop])`` over the rows of ``a``:
        whole tiles of ``_TILE`` rows through the backend (when
        :func:`_backend_products`), the rest, and small products, in NumPy.

        The backend's blocks are read-only views of its output on the CPU: the
        callers add them where they belong, so no array of all the products is
        allocated and filled (768 x 7,680 float32, 23 MB, for a block of the
        full-size network's third convolution).
        """
        stop = len(self.array) if stop is None else stop
        on_backend = self.array.size >= _BACKEND_MIN_WEIGHTS and _backend_products()
        tiles = len(a) // _TILE if on_backend else 0
        if tiles:
            import keras

            with self._lock:
                if (first, stop) not in self._tensors:
                    self._tensors[first, stop] = keras.ops.convert_to_tensor(
                        self.array[first:stop])
            weights = self._tensors[first, stop]
            # All tiles are dispatched before the first is read: the backend computes
            # the next while the caller adds one.
            products = [keras.ops.matmul(a[t:t + _TILE], weights)
                        for t in range(0, tiles * _TILE, _TILE)]
            for t, product in zip(range(0, tiles * _TILE, _TILE), products):
                yield t, t + _TILE, np.asarray(product)
        if tiles * _TILE < len(a):
            yield tiles * _TILE, len(a), a[tiles * _TILE:] @ self.array[first:stop]
