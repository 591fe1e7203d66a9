"""The references' one pass through the convolution stack, for their substitutions.

A compiled Keras model returns each stage's reference activations around the
substituted positions (pre-activations for convolutions) and the first dense
layer's pre-activation; the first convolution's pre-activations there are
computed from the sequences in NumPy instead.
"""

import numpy as np


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


class ReferencePass:
    """The reference model of a stack and the reference outputs substitutions read.

    Parameters
    ----------
    stages : list
        The convolution and pooling stages, input first (``kind``, ``layer``,
        ``size``, ``channels``, ``channels_in`` and ``bias`` for convolutions).
    dense : keras.layers.Dense
        The first dense layer.
    length, channels_in : int
        The input's shape.
    """

    def __init__(self, stages, dense, length, channels_in):
        self.stages, self.dense = stages, dense
        self.length, self.channels_in = length, channels_in
        if stages[0].kind == "conv":  # (k * Cin, Cout), for _first_pre_activations
            self.first_kernel = np.asarray(stages[0].layer.get_weights()[0], dtype=np.float32
                                           ).reshape(-1, stages[0].channels)
        self._models = {}

    def returned_stages(self, ranges):
        """The stages whose reference outputs the reference model returns: those that
        substitutions read (a range), except a first convolution. Its pre-activations
        around the substitutions are computed from the sequences in NumPy
        (:meth:`_first_pre_activations`, 0.1 M multiply-adds per DeepSEA window):
        returned by the compiled model, they slowed its JAX pass far more than the
        deeper stages' outputs do (benchmarks/RESULTS.md, issue 10)."""
        return [s for s, span in enumerate(ranges) if span is not None and
                not (s == 0 and self.stages[0].kind == "conv")]

    def model(self, ranges):
        """The Keras model returning the reference outputs over ``ranges`` of the
        :meth:`returned_stages` (pre-activations for convolutions), then the first
        dense layer's pre-activation."""
        import keras

        if ranges not in self._models:
            returned = self.returned_stages(ranges)
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
            self._models[ranges] = keras.Model(inputs, outputs)
        return self._models[ranges]

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

    def stage_outputs(self, references, returned, ranges):
        """Per stage, its reference outputs over its range (None where nothing reads
        them), from the reference model's ``returned`` outputs and the sequences."""
        outputs = [None] * len(self.stages)
        for s, values in zip(self.returned_stages(ranges), returned):
            outputs[s] = values
        if self.stages[0].kind == "conv" and ranges[0] is not None:
            outputs[0] = self._first_pre_activations(references, ranges[0])
        return outputs
