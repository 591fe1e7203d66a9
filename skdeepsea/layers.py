"""The Keras layers the networks are built of: Keras' own, channels-last on PyTorch too.

Keras runs a channels-last ``Conv1D`` or ``MaxPooling1D`` on its PyTorch backend by
copying the input to channels-first, computing, and transposing the output back,
with the bias added in a separate pass; its seeded ``Dropout`` builds the mask in
five passes. That costs the torch backend 10-20% against the same network in plain
PyTorch (benchmarks/RESULTS.md, issue 9). These subclasses compute the same values
on the torch backend without any copy: a 1-D channels-last batch ``(n, L, C)`` is a
2-D batch ``(n, C, 1, L)`` in PyTorch's ``channels_last`` memory format, which
oneDNN (and cuDNN) convolve and pool natively, with the bias fused; on a CPU the
weight gradient of a wide input is taken from channels-first copies, for which
oneDNN has the faster kernel (:class:`_ChannelsLastConv`). On JAX, max pooling's
gradient is one elementwise pass (:func:`_window_max`) instead of XLA's index-tracking
reduce-window and scatter, dropout's mask is Keras' own with its hash fused
(:func:`_threefry_keep_mask`), and on a CPU the kernel gradient of a convolution of few
input channels is one matrix product (:func:`_narrow_input_conv`). On TensorFlow, and for
options outside these fast paths, they are Keras' layers unchanged. Their weights,
configs and outputs are Keras', so a network saved on one backend loads on the others.
"""

import functools
import math
import weakref

import keras

__all__ = ["Conv1D", "Dropout", "MaxPooling1D"]


def _on_torch():
    return keras.backend.backend() == "torch"


def _on_jax():
    return keras.backend.backend() == "jax"


def _jax_on_cpu():
    import jax

    return jax.default_backend() == "cpu"


def _as_2d_channels_last(x):
    """``(n, L, C)`` as PyTorch's ``(n, C, 1, L)`` in channels_last memory format (a view)."""
    return x.permute(0, 2, 1).unsqueeze(2)


def _from_2d_channels_last(x):
    """The inverse of :func:`_as_2d_channels_last` (a view)."""
    return x.squeeze(2).permute(0, 2, 1)


# Input channels from which a CPU convolution's weight gradient is computed channels-first
# on PyTorch, and below which it is one matrix product of the input's windows on JAX.
# oneDNN's channels_last weight-gradient kernel on AVX2 took 600 ms for DeepSEA's second and
# third convolutions at batch 64 where channels-first copies took 520 and 460 (input gradient
# channels_last in both); for the first (4 channels) it took 25 ms against 100. On JAX the
# windows' product beats XLA's own only for the first (benchmarks/RESULTS.md, issue 22).
WIDE_INPUT_CHANNELS = 64


@functools.cache
def _channels_last_conv():
    """The torch autograd function of :class:`Conv1D`'s fast path (made on first use)."""
    import torch

    class _ChannelsLastConv(torch.autograd.Function):
        """``conv2d`` of a channels_last ``(n, C, 1, L)`` batch; on a CPU, the weight and
        bias gradients of a wide input from channels-first copies (the same values)."""

        @staticmethod
        def forward(ctx, x, kernel, bias):
            ctx.save_for_backward(x, kernel)
            ctx.has_bias = bias is not None
            return torch.nn.functional.conv2d(x, kernel, bias)

        @staticmethod
        def backward(ctx, grad):
            x, kernel = ctx.saved_tensors
            need_x, need_kernel, need_bias = ctx.needs_input_grad
            need_bias = need_bias and ctx.has_bias
            bias_sizes = [kernel.shape[0]] if ctx.has_bias else None

            def backward_of(grad, x, kernel, mask):
                return torch.ops.aten.convolution_backward(
                    grad, x, kernel, bias_sizes, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, mask)

            if x.device.type != "cpu" or x.shape[1] < WIDE_INPUT_CHANNELS:
                return backward_of(grad, x, kernel, [need_x, need_kernel, need_bias])
            grad_x = backward_of(grad, x, kernel, [True, False, False])[0] if need_x else None
            _, grad_kernel, grad_bias = backward_of(
                grad.contiguous(), x.contiguous(), kernel.contiguous(),
                [False, need_kernel, need_bias])
            return grad_x, grad_kernel, grad_bias

    return _ChannelsLastConv


@functools.cache
def _window_max():
    """JAX: the maxima of non-overlapping windows along axis 1, with a gradient of one pass.

    XLA on a CPU differentiates ``reduce_window`` max through a variadic reduce-window
    that tracks three int32 index arrays of the input's size, then a ``select_and_scatter``
    into zeros: a fifth of a DeepSEA training step on 2 cores (benchmarks/RESULTS.md, issue
    22). Here the gradient goes to each window's first maximum, as ``select_and_scatter``
    sends it, in one elementwise pass over the input (made on first use).
    """
    import jax
    import jax.numpy as jnp

    def windows(x, size):
        n, length, channels = x.shape
        return x[:, :length // size * size].reshape(n, length // size, size, channels)

    @functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
    def window_max(x, size):
        # Inference: Keras' own reduce-window, which XLA pools in one kernel (faster there
        # than the reshaped windows; benchmarks/RESULTS.md, issue 22).
        return jax.lax.reduce_window(x, jnp.array(-jnp.inf, x.dtype), jax.lax.max,
                                     (1, size, 1), (1, size, 1), "VALID")

    def forward(x, size):
        # Training: the same maxima from reshaped windows, which XLA fuses with the
        # surrounding elementwise work.
        return windows(x, size).max(axis=2), x

    def backward(size, x, grad):
        first = jnp.argmax(windows(x, size), axis=2)
        chosen = jnp.arange(size)[:, None] == first[:, :, None, :]
        grad_windows = jnp.where(chosen, grad[:, :, None, :], jnp.zeros((), grad.dtype))
        n, m, _, channels = grad_windows.shape
        flat = grad_windows.reshape(n, m * size, channels)
        return (jnp.pad(flat, ((0, 0), (0, x.shape[1] - m * size), (0, 0))),)

    window_max.defvjp(forward, backward)
    return window_max


@functools.cache
def _narrow_input_conv():
    """JAX on a CPU: a valid 1-D convolution whose kernel gradient is one matrix product.

    XLA on a CPU takes the kernel gradient of a convolution of few input channels (DeepSEA's
    first, 4 channels and 8 positions) as a convolution over transposed copies of the input
    and the output gradient, at a fraction of the matmul rate; the product of the
    ``(n * L, k * C)`` windows with the output gradient takes a third of its time
    (benchmarks/RESULTS.md, issue 22). The forward pass and the input gradient are Keras'
    own (made on first use).
    """
    import jax
    import jax.numpy as jnp

    def conv(x, kernel):
        return keras.ops.conv(x, kernel, padding="valid", data_format="channels_last")

    @jax.custom_vjp
    def narrow_input_conv(x, kernel):
        return conv(x, kernel)

    def forward(x, kernel):
        return conv(x, kernel), (x, kernel)

    def backward(saved, grad):
        x, kernel = saved
        width, channels, filters = kernel.shape
        length = grad.shape[1]
        # Window position i of output l is input l + i: columns ordered as the kernel's rows.
        windows = jnp.concatenate([x[:, i:i + length] for i in range(width)], axis=2)
        kernel_grad = jnp.matmul(windows.reshape(-1, width * channels).T,
                                 grad.reshape(-1, filters), preferred_element_type=jnp.float32)
        # Linear in x: its transpose alone, without the forward pass vjp would trace again.
        input_grad = jax.linear_transpose(lambda x: conv(x, kernel), x)(grad)[0]
        return input_grad, kernel_grad.astype(kernel.dtype).reshape(kernel.shape)

    narrow_input_conv.defvjp(forward, backward)
    return narrow_input_conv


@functools.cache
def _threefry_keep_mask():
    """JAX: ``jax.random.bernoulli(key, keep, shape)`` bit for bit, in one fused pass.

    JAX lowers its Threefry-2x32 hash on a CPU as a rolled loop of five iterations that
    writes two uint32 arrays of the mask's size per iteration; the same hash unrolled
    fuses with the mask and the scaling into one pass, in about a third of the time
    (benchmarks/RESULTS.md, issue 22). The bits are JAX's (Salmon et al. 2011, the
    counters of ``jax_threefry_partitionable``), so seeded masks stay those of Keras'
    ``Dropout`` (made on first use).
    """
    import jax
    import numpy as np

    rotations = ((13, 15, 26, 6), (17, 29, 16, 24))

    def rotate_left(x, bits):
        return (x << np.uint32(bits)) | (x >> np.uint32(32 - bits))

    def threefry2x32(key, x1, x2):
        keys = (key[0], key[1], key[0] ^ key[1] ^ np.uint32(0x1BD11BDA))
        x1, x2 = x1 + keys[0], x2 + keys[1]
        for i in range(5):
            for bits in rotations[i % 2]:
                x1 = x1 + x2
                x2 = rotate_left(x2, bits) ^ x1
            x1 = x1 + keys[(i + 1) % 3]
            x2 = x2 + keys[(i + 2) % 3] + np.uint32(i + 1)
        return x1, x2

    def keep_mask(key, keep, shape):
        # Counter i is the 64-bit element index as (high, low) words; high is 0 below 2**32.
        low = jax.lax.iota(np.uint32, math.prod(shape)).reshape(shape)
        high_bits, low_bits = threefry2x32(key, jax.numpy.zeros_like(low), low)
        # jax.random.uniform's float32 in [0, 1) from the top 23 bits, compared to keep.
        mantissa = ((high_bits ^ low_bits) >> np.uint32(9)) | np.uint32(0x3F800000)
        uniform = jax.lax.bitcast_convert_type(mantissa, np.float32) - np.float32(1)
        return uniform < np.float32(keep)

    return keep_mask


def _threefry_is_jax_default():
    """Whether ``jax.random`` draws from raw uint32 keys with partitionable Threefry bits."""
    import jax

    # getattr: a JAX that renames these settings keeps Keras' own path.
    return (getattr(jax.config, "jax_default_prng_impl", None) == "threefry2x32"
            and getattr(jax.config, "jax_threefry_partitionable", False) is True)


# Each Conv1D's kernel in conv2d's layout, kept for inference: (weak reference to the kernel's
# tensor, its version, dtype, the relaid copy). The copy took 2% of a full-size forward pass.
_INFERENCE_KERNELS = weakref.WeakKeyDictionary()


@keras.saving.register_keras_serializable(package="skdeepsea")
class Conv1D(keras.layers.Conv1D):
    """``keras.layers.Conv1D``: channels-last with its bias fused on PyTorch; on JAX on a
    CPU, a narrow input's kernel gradient as one matrix product.

    Parameters
    ----------
    *args, **kwargs
        Those of ``keras.layers.Conv1D``.

    Examples
    --------
    >>> import numpy as np
    >>> layer = Conv1D(3, 5, activation="relu")
    >>> tuple(layer(np.zeros((2, 20, 4), dtype="float32")).shape)
    (2, 16, 3)
    """

    def _plain_valid(self):
        return (self.data_format == "channels_last" and self.padding == "valid"
                and tuple(self.strides) == (1,) and tuple(self.dilation_rate) == (1,)
                and self.groups == 1)

    def call(self, inputs):
        if (_on_jax() and self._plain_valid() and inputs.shape[-1] < WIDE_INPUT_CHANNELS
                and _jax_on_cpu()):
            return self._jax_narrow_input_call(inputs)
        if not (_on_torch() and self._plain_valid()):
            return super().call(inputs)
        bias = keras.ops.convert_to_tensor(self.bias) if self.use_bias else None
        outputs = _channels_last_conv().apply(_as_2d_channels_last(inputs), self._torch_kernel(),
                                              bias)
        if self.activation is keras.activations.relu:
            # In place on the new array itself (not a view of it, which autograd would copy).
            return _from_2d_channels_last(outputs.relu_())
        return self.activation(_from_2d_channels_last(outputs))

    def _jax_narrow_input_call(self, inputs):
        """``keras.layers.Conv1D.call`` with :func:`_narrow_input_conv`'s kernel gradient."""
        kernel = keras.ops.convert_to_tensor(self.kernel)  # cast by the policy
        # Keras' conv casts the inputs (one-hot uint8, say) to the kernel's dtype too.
        outputs = _narrow_input_conv()(keras.ops.cast(inputs, kernel.dtype), kernel)
        if self.use_bias:
            outputs = keras.ops.add(outputs, keras.ops.reshape(self.bias, (1, 1, self.filters)))
        return self.activation(outputs)

    def _torch_kernel(self):
        """The kernel as conv2d's channels_last ``(out, in, 1, k)``, cast by the policy.

        A copy: while autograd records (training), made at every call; in
        inference, kept until the weights change (the tensor's version counter
        counts every in-place write: the optimizer's, ``set_weights``, ``load``).
        """
        import torch

        kernel = keras.ops.convert_to_tensor(self.kernel)  # (k, in, out), cast by the policy

        def relaid():
            return kernel.permute(2, 1, 0).unsqueeze(2).contiguous(
                memory_format=torch.channels_last)

        if torch.is_grad_enabled() and kernel.requires_grad:
            return relaid()
        value = self.kernel.value
        cached = _INFERENCE_KERNELS.get(self)
        if cached is None or cached[0]() is not value or cached[1:3] != (value._version,
                                                                        kernel.dtype):
            cached = (weakref.ref(value), value._version, kernel.dtype, relaid())
            _INFERENCE_KERNELS[self] = cached
        return cached[3]


@keras.saving.register_keras_serializable(package="skdeepsea")
class MaxPooling1D(keras.layers.MaxPooling1D):
    """``keras.layers.MaxPooling1D``, channels-last on PyTorch, a one-pass gradient on JAX.

    Parameters
    ----------
    *args, **kwargs
        Those of ``keras.layers.MaxPooling1D``.

    Examples
    --------
    >>> import numpy as np
    >>> tuple(MaxPooling1D(4, 4)(np.zeros((2, 18, 3), dtype="float32")).shape)
    (2, 4, 3)
    """

    def call(self, inputs):
        if not (self.data_format == "channels_last" and self.padding == "valid"):
            return super().call(inputs)
        if _on_jax() and self.strides[0] == self.pool_size[0]:
            return _window_max()(inputs, self.pool_size[0])
        if not _on_torch():
            return super().call(inputs)
        import torch

        pooled = torch.nn.functional.max_pool2d(
            _as_2d_channels_last(inputs), (1, self.pool_size[0]), (1, self.strides[0]))
        return _from_2d_channels_last(pooled)


@keras.saving.register_keras_serializable(package="skdeepsea")
class Dropout(keras.layers.Dropout):
    """``keras.layers.Dropout``, its seeded mask drawn in one pass on PyTorch and JAX.

    On PyTorch the mask comes from a ``torch.Generator`` seeded by the layer's
    ``SeedGenerator`` (as Keras seeds it), so seeded fits repeat exactly. On JAX it
    is Keras' own mask, bit for bit, its Threefry hash fused with the scaling
    (:func:`_threefry_keep_mask`).

    Parameters
    ----------
    *args, **kwargs
        Those of ``keras.layers.Dropout``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.ones((1, 1000), dtype="float32")
    >>> kept = keras.ops.convert_to_numpy(Dropout(0.5, seed=0)(x, training=True))
    >>> sorted(set(kept.ravel().tolist()))
    [0.0, 2.0]
    """

    def call(self, inputs, training=False):
        if not (training and self.rate > 0 and self.noise_shape is None):
            return super().call(inputs, training=training)
        keep = 1.0 - self.rate
        if _on_jax() and _threefry_is_jax_default() and 0 < math.prod(inputs.shape) < 2**32:
            import jax

            # Keras' JAX dropout (keras/src/backend/jax/random.py), its mask fused.
            mask = _threefry_keep_mask()(self.seed_generator.next(), keep, inputs.shape)
            return jax.lax.select(mask, inputs / keep, jax.numpy.zeros_like(inputs))
        if not _on_torch():
            return super().call(inputs, training=training)
        import torch

        seed = keras.ops.convert_to_numpy(self.seed_generator.next()).astype("int64").sum()
        generator = torch.Generator(device=inputs.device).manual_seed(int(seed))
        mask = torch.empty_like(inputs).bernoulli_(keep, generator=generator)
        return inputs * mask.div_(keep)
