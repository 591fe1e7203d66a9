"""Single-base substitutions through a network from its reference activations (fastISM's idea).

One mechanism serves in silico mutagenesis (3 substitutions at each position
of one sequence) and SNV scoring (one substitution at the window's centre of
many reference windows, and at the mirrored position of their reverse
complements). A substitution at input position p changes a valid
convolution's outputs only in ``[p - k + 1, p]`` and a pooling's only in the
windows holding a changed value, and so on up the stack (fastISM, Nair et
al. 2022). The references go through the convolution stack once, as a
compiled Keras model that returns each stage's activations around the
substituted positions (pre-activations for convolutions) and the last stage
whole. Each substitution is then propagated as a *difference*: a
convolution's changed outputs are the reference's pre-activations plus the
kernel applied to the changed inputs only, a pooling's are recomputed on the
windows holding a change, and the first dense layer, linear in the
flattened last stage, adds the rows of its kernel that the changed positions
read. The remaining dense layers run batched through the engine.

The difference arithmetic is batched in NumPy (matrix products over all
substitutions of one geometry) rather than in the Keras model: its shapes
change with the position (clipping at the ends, pooling alignment), and a
compiled Keras model per geometry would cost more to compile than to run.
Only the large products go through the Keras backend's matmul, in tiles of
one shape (:class:`_Matrix`), where it is faster than NumPy's BLAS.
"""

import concurrent.futures
import contextlib
import functools
import os
import threading
import weakref

import numpy as np

_REF_BLOCK = 512  # reference windows per block of the reference model's outputs: one predict call
_MUTANT_BLOCK = 1024  # substitutions propagated at once
# The cost model of method="auto", in multiply-add equivalents of a batched forward
# pass. The fast path's NumPy products are smaller and run on one thread: its
# multiply-adds count 3 times. Each substitution (fast) or sequence (naive) also has a
# fixed cost beyond its products: gathers and bookkeeping, or the input's transfer
# and cast. Fitted to benchmarks/bench_variants.py on this project's 2-core CPU
# (full-size, 32/48/96 and 8/8/8-filter networks): about 0.05 ms and 0.07 ms, where
# a batched pass runs at about 25 G multiply-adds/s.
_SMALL_PRODUCT_PENALTY = 3.0
_FAST_OVERHEAD = 1.25e6
_NAIVE_OVERHEAD = 1.75e6

_CACHE = weakref.WeakKeyDictionary()


def keras_on_accelerator():
    """Whether the Keras backend computes on a GPU or TPU rather than the host CPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()  # Keras' torch backend then computes on CUDA
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    return False


def _backend_products():
    """Whether the differences' matrix products run through the Keras backend's matmul.

    Measured on this project's 2-core AMD EPYC (AVX-512), per CPU second, for
    the products of the full-size network's differences: JAX (XLA) 78 to 108 G
    multiply-adds, TensorFlow 91 to 94, NumPy's OpenBLAS 61 (it picks its AVX2
    kernels there), PyTorch's CPU matmul 14 to 41. On an accelerator the
    products stay on the host (NumPy): they are small, and copying them to the
    device and back would cost more.
    """
    import keras

    return keras.backend.backend() in ("jax", "tensorflow") and not keras_on_accelerator()


_TILE = 256  # rows per backend product: one shape, so JAX compiles each matrix's product once
# Smaller matrices stay in NumPy: a JAX compilation (20 to 60 ms) pays for itself after
# about 50 tiles of a 1 M-weight matrix (0.8 ms saved each), and never for the small
# networks' matrices within one call.
_BACKEND_MIN_WEIGHTS = 500_000


class _Matrix:
    """A weight matrix that differences are multiplied by: float32 on the host, and
    the Keras backend's copies of the row ranges multiplied (when
    :func:`_backend_products`)."""

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
        return self.array.size

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


@functools.cache
def _blas_controller():
    """The process's one ThreadpoolController: making one scans all the shared
    libraries the process has loaded (many, with a Keras backend)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def available_cores():
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _relu(x):
    return np.maximum(x, 0, out=x)


def _numpy_activation(function):
    """The activation as a NumPy function (ReLU and linear directly, others through Keras)."""
    import keras

    if function is None or function is keras.activations.linear:
        return lambda x: x
    if function is keras.activations.relu:
        return _relu

    def apply(x):
        return np.asarray(keras.ops.convert_to_numpy(function(keras.ops.convert_to_tensor(x))),
                          dtype=np.float32)

    return apply


class _Stage:
    """One convolution or max pooling of the stack, with its weights as float32 arrays."""

    def __init__(self, kind, layer, size, in_length):
        self.kind, self.layer, self.size = kind, layer, size
        if kind == "conv":
            self.out_length = in_length - size + 1
            kernel = np.asarray(layer.get_weights()[0], dtype=np.float32)  # (k, Cin, Cout)
            self.bias = (np.asarray(layer.get_weights()[1], dtype=np.float32)
                         if layer.use_bias else None)
            self.channels_in, self.channels = kernel.shape[1], kernel.shape[2]
            # (Cin, k * Cout): the outputs each changed input feeds, in one product; taps
            # reversed, so that an input's k outputs come in their own order.
            self.spread = _Matrix(kernel[::-1].transpose(1, 0, 2).reshape(kernel.shape[1], -1))
            self.activation = _numpy_activation(layer.activation)
        else:
            self.out_length = in_length // size
            self.channels = None  # set from the stage below

    def plan(self, a, b):
        """For changed inputs [a, b): (needed first input, width, changed offset, changed
        width), and the changed outputs [a2, b2); None when no output changes."""
        k = self.size
        if self.kind == "conv":
            a2, b2 = max(0, a - k + 1), min(self.out_length, b)
            n0, n1 = a2, b2 + k - 1
        else:
            a2, b2 = a // k, min(self.out_length, (b - 1) // k + 1)
            n0, n1 = a2 * k, b2 * k
        if b2 <= a2:
            return None
        return (n0, n1 - n0, a - n0, min(b, n1) - a), (a2, b2)


def _stack(network):
    """(stages, first dense layer, layers after it), or None for another architecture."""
    import keras

    layers = [layer for layer in network.layers if not isinstance(layer, keras.layers.InputLayer)]
    found, tail = [], None
    for i, layer in enumerate(layers):
        if getattr(layer, "dtype_policy", None) is not None and \
                layer.dtype_policy.compute_dtype != "float32":
            return None  # mixed precision: float32 differences would not equal its outputs
        if isinstance(layer, keras.layers.Dropout):
            continue
        if isinstance(layer, keras.layers.Flatten):
            tail = layers[i + 1:]
            break
        config = layer.get_config()
        if isinstance(layer, keras.layers.Conv1D) and config["padding"] == "valid" and \
                tuple(config["strides"]) == (1,) and tuple(config["dilation_rate"]) == (1,) and \
                config.get("groups", 1) == 1 and config["data_format"] == "channels_last":
            found.append(("conv", layer, int(config["kernel_size"][0])))
        elif isinstance(layer, keras.layers.MaxPooling1D) and config["padding"] == "valid" and \
                tuple(config["pool_size"]) == tuple(config["strides"]) and \
                config["data_format"] == "channels_last":
            found.append(("pool", layer, int(config["pool_size"][0])))
        else:
            return None
    tail = [layer for layer in tail or [] if not isinstance(layer, keras.layers.Dropout)]
    if not found or not tail or not isinstance(tail[0], keras.layers.Dense):
        return None
    return found, tail[0], tail[1:]


def _pre_activation_layer(layer):
    """A Keras layer returning a convolution's or dense layer's pre-activation, sharing its
    weights (the layer is a tracked sub-layer: the network's own variables)."""
    import keras

    class PreActivation(keras.layers.Layer):
        def __init__(self, wrapped, **kwargs):
            super().__init__(**kwargs)
            self.wrapped = wrapped

        def call(self, x):
            if isinstance(self.wrapped, keras.layers.Dense):
                y = keras.ops.matmul(x, self.wrapped.kernel)
            else:
                y = self.wrapped.convolution_op(x, self.wrapped.kernel)
            return y + self.wrapped.bias if self.wrapped.use_bias else y

        def compute_output_shape(self, input_shape):
            return self.wrapped.compute_output_shape(input_shape)

    return PreActivation(layer, name=f"{layer.name}_pre_activation")


class SubstitutionNetwork:
    """A network split for substitutions: convolution stack, first dense layer, head.

    Use :func:`substitution_network` to get the one cached for a network.

    Parameters
    ----------
    network : keras.Model
        The classifier's network.
    length : int
        Input length.
    found : tuple
        The output of ``_stack(network)``.
    """

    def __init__(self, network, length, found):
        import keras

        stages, dense, after = found
        self.network, self.length = network, length
        self.channels_in = int(network.input_shape[-1])
        self.stages = []
        in_length, channels = length, self.channels_in
        for kind, layer, size in stages:
            stage = _Stage(kind, layer, size, in_length)
            if kind == "pool":
                stage.channels = channels
            in_length, channels = stage.out_length, stage.channels
            self.stages.append(stage)
        self.last_length, self.last_channels = in_length, channels
        if self.stages[0].kind == "conv":  # (k * Cin, Cout), for _first_pre_activations
            self.first_kernel = np.asarray(stages[0][1].get_weights()[0], dtype=np.float32
                                           ).reshape(-1, self.stages[0].channels)
        if in_length < 1:
            raise ValueError(f"The convolution stack leaves no positions of a {length} bp input.")
        self.dense = dense
        self.dense_matrix = _Matrix(dense.get_weights()[0])
        self.dense_kernel = self.dense_matrix.array
        units = self.dense_kernel.shape[1]
        inputs = keras.Input((units,), name="dense_pre_activation")
        x = keras.layers.Activation(dense.activation or "linear")(inputs)
        for layer in after:
            x = layer(x)
        self.head = keras.Model(inputs, x, name=f"{network.name}_head")
        self.n_outputs = int(self.head.output.shape[-1])
        self._reference_models = {}

    # -------------------------------------------------------------- planning and cost

    def plan(self, position):
        """Per stage (needed first input, width, changed offset, changed width) and the
        last stage's changed positions [a, b); None when nothing reaches the last stage."""
        a, b = position, position + 1
        steps = []
        for stage in self.stages:
            planned = stage.plan(a, b)
            if planned is None:
                return None
            step, (a, b) = planned
            steps.append(step)
        return steps, (a, b)

    def full_cost(self):
        """Multiply-adds of one forward pass of the whole network."""
        cost = sum(stage.out_length * stage.spread.size for stage in self.stages
                   if stage.kind == "conv")
        return cost + self.dense_kernel.size + self._head_cost()

    def _head_cost(self):
        return sum(int(np.prod(w.shape)) for w in self.head.weights if len(w.shape) == 2)

    def substitution_cost(self, position):
        """Multiply-adds of one substitution at ``position`` propagated as a difference."""
        planned = self.plan(position)
        if planned is None:
            return 0
        steps, (a, b) = planned
        cost = 0
        for stage, (_, _, _, changed) in zip(self.stages, steps):
            if stage.kind == "conv":
                cost += changed * stage.spread.size
        return cost + (b - a) * self.last_channels * self.dense_kernel.shape[1] + \
            self._head_cost()

    def faster(self, positions):
        """Whether propagating substitutions at ``positions`` beats full forward passes.

        A cost model, not a timer: per substitution, the multiply-adds of its
        difference (weighted for small products) plus a fixed cost, against a
        full forward pass plus its fixed cost. Both ways run the references, so
        they do not count. The difference's share grows with the changed
        receptive field's share of each layer: short sequences and wide
        kernels favour full passes. With the Keras backend on a GPU or TPU,
        full passes: the differences are computed in NumPy on the host, which
        would hold back a device that runs full passes many times faster (the
        constants are fitted to a CPU).
        """
        positions = np.asarray(positions)
        if positions.size == 0 or keras_on_accelerator():
            return False
        sample = positions[np.linspace(0, positions.size - 1, min(positions.size, 64)).astype(int)]
        difference = np.mean([self.substitution_cost(int(p)) for p in sample])
        full = self.full_cost()
        return bool(_SMALL_PRODUCT_PENALTY * difference + _FAST_OVERHEAD
                    < full + _NAIVE_OVERHEAD)

    # -------------------------------------------------------------- the reference pass

    def _returned_stages(self, ranges):
        """The stages whose reference outputs the reference model returns: those that
        substitutions read (a range), except a first convolution. Its pre-activations
        around the substitutions are computed from the sequences in NumPy
        (:meth:`_first_pre_activations`, 0.1 M multiply-adds per DeepSEA window):
        returned by the compiled model, they made its JAX pass about 8% slower
        (measured on the full-size network), while the deeper stages' outputs cost
        about 1%."""
        return [s for s, span in enumerate(ranges) if span is not None and
                not (s == 0 and self.stages[0].kind == "conv")]

    def _reference_model(self, ranges):
        """The Keras model returning the reference outputs over ``ranges`` of the
        :meth:`_returned_stages` (pre-activations for convolutions), then the first
        dense layer's pre-activation."""
        import keras

        if ranges not in self._reference_models:
            returned = self._returned_stages(ranges)
            inputs = keras.Input((self.length, self.channels_in), name="sequence")
            x, outputs = inputs, []
            for s, (stage, span) in enumerate(zip(self.stages, ranges)):
                if stage.kind == "conv":
                    pre = _pre_activation_layer(stage.layer)(x)
                    x = keras.layers.Activation(stage.layer.activation or "linear")(pre)
                else:
                    x = stage.layer(x)
                if s in returned:
                    outputs.append((pre if stage.kind == "conv" else x)[:, span[0]:span[1]])
            outputs.append(_pre_activation_layer(self.dense)(keras.layers.Flatten()(x)))
            self._reference_models[ranges] = keras.Model(inputs, outputs)
        return self._reference_models[ranges]

    def _first_pre_activations(self, references, span):
        """The first convolution's pre-activations over ``span`` of its outputs, from the
        one-hot sequences: one product of their sliding windows and the kernel."""
        stage, (lo, hi) = self.stages[0], span
        k, m = stage.size, len(references)
        x = np.asarray(references[:, lo:hi + k - 1], dtype=np.float32)
        # (m, hi - lo, C, k) -> rows of (k, C), the kernel's (k, Cin, Cout) order.
        windows = np.lib.stride_tricks.sliding_window_view(x, k, axis=1).transpose(0, 1, 3, 2)
        pre = windows.reshape(m * (hi - lo), k * stage.channels_in) @ self.first_kernel
        if stage.bias is not None:
            pre += stage.bias
        return pre.reshape(m, hi - lo, stage.channels)

    def _stage_outputs(self, references, returned, ranges):
        """Per stage, its reference outputs over its range (None where nothing reads
        them), from the reference model's ``returned`` outputs and the sequences."""
        outputs = [None] * len(self.stages)
        for s, values in zip(self._returned_stages(ranges), returned):
            outputs[s] = values
        if self.stages[0].kind == "conv" and ranges[0] is not None:
            outputs[0] = self._first_pre_activations(references, ranges[0])
        return outputs

    def _ranges(self, plans):
        """Per stage, the span of its outputs that some substitution reads."""
        spans = [[None, None] for _ in self.stages]

        def cover(s, lo, hi):
            spans[s][0] = lo if spans[s][0] is None else min(spans[s][0], lo)
            spans[s][1] = hi if spans[s][1] is None else max(spans[s][1], hi)

        for steps, _ in plans:
            for s, (n0, width, _, _) in enumerate(steps):
                stage = self.stages[s]
                if stage.kind == "conv":
                    cover(s, n0, n0 + width - stage.size + 1)  # its changed outputs
                elif s > 0:
                    cover(s - 1, n0, n0 + width)  # a pooling reads its whole windows
        return tuple(None if lo is None else (lo, hi) for lo, hi in spans)

    # -------------------------------------------------------------- prediction

    def predict(self, references, reference_of, positions, rows, *, batch_size, threads=1):
        """Outputs of the references and of their single-position substitutions.

        Parameters
        ----------
        references : ndarray of shape (n_references, L, C)
            One-hot sequences (uint8 or float).
        reference_of : ndarray of int, shape (n,)
            The reference of each substitution.
        positions : ndarray of int, shape (n,)
            Its position.
        rows : ndarray of shape (n, C)
            The input row it puts there (a one-hot base; zeros for N).
        batch_size : int
            Sequences per forward pass of the reference model.
        threads : int, default=1
            Threads propagating the differences: above 1, the substitutions of
            different geometries (and the first dense layer's products of
            different positions) are computed in that many threads, each
            product on one BLAS thread, and added in the order one thread adds
            them, so the outputs are the same to the bit. For many
            substitutions per reference (mutagenesis), where the differences
            are the work; SNV scoring keeps 1 (its reference passes keep the
            cores busy, and threads there only contended with them).

        Returns
        -------
        reference_outputs : ndarray of shape (n_references, n_outputs)
            The network's outputs for the references, float32.
        outputs : ndarray of shape (n, n_outputs)
            Its outputs for the substitutions, float32.
        """
        from .._engine.inference import iter_predictions, predict_batches

        reference_of = np.asarray(reference_of, dtype=np.int64)
        positions = np.asarray(positions, dtype=np.int64)
        rows = np.asarray(rows, dtype=np.float32)
        n_refs, n = len(references), len(positions)
        plans = _Plans(self, positions)
        model = self._reference_model(plans.ranges)
        units = self.dense_kernel.shape[1]
        pre = np.empty((n_refs + n, units), dtype=np.float32)
        # Substitutions in the order of their reference, so a block of references
        # serves a contiguous run of them.
        order = np.argsort(reference_of, kind="stable")
        bounds = np.searchsorted(reference_of[order], np.arange(n_refs + 1))
        per_call = max(1, _REF_BLOCK // batch_size)
        # The reference model has several outputs (stage activations and the dense
        # pre-activation), which the engine's streaming form returns as they are;
        # each block's substitutions are propagated as it arrives. The NumPy
        # products are small: one BLAS thread each (several threads only wait on
        # each other, and on a shared CPU they spin against the Keras backend's;
        # the large ones run on the backend, see _backend_products). With threads,
        # independent products run side by side instead, each on its one BLAS thread.
        with contextlib.ExitStack() as stack:
            pool = None
            if threads > 1 and n > 1:
                pool = stack.enter_context(concurrent.futures.ThreadPoolExecutor(
                    int(threads), thread_name_prefix="skdeepsea-substitutions"))
            for start, stop, outputs in iter_predictions(model, references,
                                                         batch_size=batch_size,
                                                         batches_per_call=per_call):
                outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
                *returned, pre[start:stop] = [np.asarray(o, dtype=np.float32) for o in outputs]
                block = order[bounds[start]:bounds[stop]]
                pre[n_refs + block] = pre[reference_of[block]]
                with _blas_controller().limit(limits=1, user_api="blas"):
                    stage_outputs = self._stage_outputs(references[start:stop], returned,
                                                        plans.ranges)
                    for begin in range(0, block.size, _MUTANT_BLOCK):
                        part = block[begin:begin + _MUTANT_BLOCK]
                        self._substitute(references[start:stop], stage_outputs, pre,
                                         n_refs + part, reference_of[part] - start,
                                         positions[part], rows[part], plans, pool)
        outputs = predict_batches(self.head, pre, batch_size=max(batch_size, 256))
        return outputs[:n_refs], outputs[n_refs:]

    def _substitute(self, references, stage_outputs, pre, targets, ref, positions, rows, plans,
                    pool=None):
        """Add to ``pre[targets]`` (the first dense layer's pre-activations of the
        substitutions' references) the differences the substitutions make.

        With ``pool`` (a thread pool), the geometries' differences and the
        positions' dense products are computed in its threads; this thread adds
        them to ``pre`` in the same order as without one, so the sums are the same.
        """
        index = plans.index(positions)
        geometry = plans.geometry[index]
        C = self.last_channels
        groups = [(g, np.flatnonzero(geometry == g))  # -1: the change never reaches the end
                  for g in np.unique(geometry[geometry >= 0])]

        def propagate(group):
            g, chosen = group
            return self._propagate(references, stage_outputs, ref[chosen], positions[chosen],
                                   rows[chosen], plans.steps[g], plans.firsts[index[chosen]],
                                   plans.ranges)

        spans, differences, destinations = [], [], []
        deltas = pool.map(propagate, groups) if pool is not None else map(propagate, groups)
        for (_, chosen), delta in zip(groups, deltas):
            m, width = delta.shape[:2]
            last_first = plans.last_first[index[chosen]]
            if m >= _TILE and np.all(last_first == last_first[0]):
                # Many substitutions with one changed span of the last stage (SNVs of
                # one strand): the first dense layer, linear in the flattened last
                # stage, adds the span's kernel rows times the differences, in one
                # product. Fewer (mutagenesis: a few per span) gather below, where
                # each kernel row serves every substitution that changes its position.
                span = last_first[0] * C, (last_first[0] + width) * C
                for r0, r1, product in self.dense_matrix.row_products(
                        delta.reshape(m, width * C), *span):
                    pre[targets[chosen[r0:r1]]] += product
                continue
            spans.append((last_first[:, None] + np.arange(width)).ravel())
            differences.append(delta.reshape(m * width, -1))
            destinations.append(np.repeat(targets[chosen], width))
        if not spans:
            return
        # The others gather the differences at each position of the last stage: one
        # product per position, its kernel rows read once for all that change it.
        spans, differences = np.concatenate(spans), np.concatenate(differences)
        destinations = np.concatenate(destinations)
        order = np.argsort(spans, kind="stable")
        cuts = np.flatnonzero(np.diff(spans[order])) + 1
        pieces = np.split(order, cuts)

        def products(rows_here):
            position = spans[rows_here[0]]
            return self.dense_matrix.row_products(differences[rows_here], position * C,
                                                  (position + 1) * C)

        # In a pool, each position's products are computed (listed) in its threads.
        computed = pool.map(lambda rows_here: list(products(rows_here)), pieces) \
            if pool is not None else map(products, pieces)
        for rows_here, produced in zip(pieces, computed):
            # One substitution appears once per position: no repeated destinations.
            for r0, r1, product in produced:
                pre[destinations[rows_here[r0:r1]]] += product

    def _propagate(self, references, stage_outputs, ref, positions, rows, steps, first, ranges):
        """Substitutions of one geometry (``steps``): their differences up the stack,
        of shape (m, changed width of the last stage, channels)."""
        m = len(positions)
        # The difference at the input: the new row minus the reference's.
        delta = (rows - references[ref, positions].astype(np.float32))[:, None, :]
        for s, (stage, (_, width, offset, changed)) in enumerate(zip(self.stages, steps)):
            if stage.kind == "conv":
                out_width = width - stage.size + 1
                take = first[:, s:s + 1] - ranges[s][0] + np.arange(out_width)
                reference_pre = stage_outputs[s][ref[:, None], take]  # (m, out_width, C)
                new_pre = reference_pre.copy()
                # Rows (changed input q, substitution), q-major: a block of rows holds
                # runs of substitutions for one q after another.
                changed_rows = delta[:, :changed].transpose(1, 0, 2).reshape(changed * m, -1)
                for r0, r1, spread in stage.spread.row_products(changed_rows):
                    spread = spread.reshape(r1 - r0, stage.size, stage.channels)
                    for q in range(r0 // m, (r1 - 1) // m + 1):
                        lo, hi = max(r0, q * m), min(r1, (q + 1) * m)
                        # Input offset + q feeds outputs first .. offset + q (clipped).
                        first_out = offset + q - stage.size + 1
                        a, b = max(0, first_out), min(out_width, offset + q + 1)
                        new_pre[lo - q * m:hi - q * m, a:b] += \
                            spread[lo - r0:hi - r0, a - first_out:b - first_out]
                delta = stage.activation(new_pre) - stage.activation(reference_pre)
            else:
                # A pooling reads whole windows of the stage below: its reference output
                # there, with the differences added.
                take = first[:, s:s + 1] + np.arange(width)
                if s == 0:
                    x = references[ref[:, None], take].astype(np.float32)
                else:
                    x = stage_outputs[s - 1][ref[:, None], take - ranges[s - 1][0]]
                    if self.stages[s - 1].kind == "conv":
                        x = self.stages[s - 1].activation(x)
                windows = (m, width // stage.size, stage.size, x.shape[-1])
                reference = x.reshape(windows).max(axis=2)
                x[:, offset:offset + changed] += delta[:, :changed]
                delta = x.reshape(windows).max(axis=2) - reference
        return delta


class _Plans:
    """The plans of the distinct substituted positions of one call, as arrays.

    ``geometry[i]``: the index in ``steps`` of position ``unique[i]``'s widths and
    offsets (-1 when its change never reaches the last stage); ``firsts[i]``: its
    first needed input per stage; ``last_first[i]``: its first changed position of
    the last stage; ``ranges``: per stage, the span of reference outputs read.
    """

    def __init__(self, network, positions):
        self.unique = np.unique(positions)
        n_stages = len(network.stages)
        self.geometry = np.full(len(self.unique), -1, dtype=np.int64)
        self.firsts = np.zeros((len(self.unique), n_stages), dtype=np.int64)
        self.last_first = np.zeros(len(self.unique), dtype=np.int64)
        self.steps, ids, planned = [], {}, []
        for i, p in enumerate(self.unique):
            plan = network.plan(int(p))
            if plan is None:
                continue
            steps, (a, _) = plan
            key = tuple(step[1:] for step in steps)
            if key not in ids:
                ids[key] = len(self.steps)
                self.steps.append(steps)
            self.geometry[i] = ids[key]
            self.firsts[i] = [step[0] for step in steps]
            self.last_first[i] = a
            planned.append(plan)
        self.ranges = network._ranges(planned)

    def index(self, positions):
        return np.searchsorted(self.unique, positions)


def substitution_network(network, length):
    """The cached :class:`SubstitutionNetwork` of a network, or None for another architecture.

    Parameters
    ----------
    network : keras.Model
        The classifier's network.
    length : int
        Input length.

    Returns
    -------
    SubstitutionNetwork or None
        None when the network is not valid ``Conv1D`` / ``MaxPooling1D`` layers
        (float32) followed by Flatten and Dense layers.
    """
    cached = _CACHE.get(network)
    if cached is not None and cached.length == length:
        return cached
    found = _stack(network)
    if found is None:
        return None
    cached = _CACHE[network] = SubstitutionNetwork(network, length, found)
    return cached
