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
one shape (:class:`skdeepsea.variants._products.Matrix`), where it is faster
than NumPy's BLAS. Which positions each stage changes and reads is planned in
:mod:`skdeepsea.variants._plan`, the reference pass is
:mod:`skdeepsea.variants._reference`, and the cost model of ``method="auto"`` is
:mod:`skdeepsea.variants._cost`.
"""

import concurrent.futures
import contextlib
import weakref

import numpy as np

from .._backend import keras_on_accelerator
from ._cost import differences_cheaper
from ._plan import Plans, position_plan
from ._products import Matrix, blas_controller
from ._reference import ReferencePass

_REF_BLOCK = 512  # reference windows per block of the reference model's outputs: one predict call
_MUTANT_BLOCK = 1024  # substitutions propagated at once

_CACHE = weakref.WeakKeyDictionary()


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
            self.spread = Matrix(kernel[::-1].transpose(1, 0, 2).reshape(kernel.shape[1], -1))
            self.activation = _numpy_activation(layer.activation)
        else:
            self.out_length = in_length // size
            self.channels = None  # set from the stage below


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
        if in_length < 1:
            raise ValueError(f"The convolution stack leaves no positions of a {length} bp input.")
        self.dense = dense
        self.reference_pass = ReferencePass(self.stages, dense, length, self.channels_in)
        self.dense_matrix = Matrix(dense.get_weights()[0])
        self.dense_kernel = self.dense_matrix.array
        units = self.dense_kernel.shape[1]
        inputs = keras.Input((units,), name="dense_pre_activation")
        x = keras.layers.Activation(dense.activation or "linear")(inputs)
        for layer in after:
            x = layer(x)
        self.head = keras.Model(inputs, x, name=f"{network.name}_head")
        self.n_outputs = int(self.head.output.shape[-1])

    # -------------------------------------------------------------- planning and cost

    def plan(self, position):
        """Per stage (needed first input, width, changed offset, changed width) and the
        last stage's changed positions [a, b); None when nothing reaches the last stage
        (:func:`skdeepsea.variants._plan.position_plan`)."""
        return position_plan(self.stages, position)

    def faster(self, positions):
        """Whether propagating substitutions at ``positions`` beats full forward passes.

        The cost model of :func:`skdeepsea.variants._cost.differences_cheaper`.
        With the Keras backend on a GPU or TPU, full passes: the differences are
        computed in NumPy on the host, which would hold back a device that runs
        full passes many times faster (the cost model is fitted to a CPU).

        Parameters
        ----------
        positions : array-like of int
            The substituted positions.

        Returns
        -------
        bool
        """
        positions = np.asarray(positions)
        if positions.size == 0 or keras_on_accelerator():
            return False
        return differences_cheaper(self, positions)

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
        plans = Plans(self.stages, positions)
        model = self.reference_pass.model(plans.ranges)
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
        # the large ones run on the backend, see _products). With threads,
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
                with blas_controller().limit(limits=1, user_api="blas"):
                    stage_outputs = self.reference_pass.stage_outputs(references[start:stop],
                                                                     returned, plans.ranges)
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
            if self.dense_matrix.fills_a_tile(m) and np.all(last_first == last_first[0]):
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
