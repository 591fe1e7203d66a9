"""The networks' layers: Keras' own values, with PyTorch's channels-last fast path."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skdeepsea.layers import Conv1D, Dropout, MaxPooling1D
from skdeepsea.network import build_deepsea

ON_TORCH = keras.backend.backend() == "torch"
ON_JAX = keras.backend.backend() == "jax"


def numpy_conv1d(x, kernel, bias):
    """Valid cross-correlation of (n, L, C) with a (k, C, F) kernel, plus bias."""
    k = kernel.shape[0]
    windows = np.stack([x[:, i:i + x.shape[1] - k + 1] for i in range(k)], axis=2)
    return np.einsum("nlkc,kcf->nlf", windows, kernel) + bias


def numpy_max_pool(x, size):
    n, length, c = x.shape
    m = length // size
    return x[:, :m * size].reshape(n, m, size, c).max(axis=2)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), length=st.integers(8, 40), channels=st.integers(1, 5),
       filters=st.integers(1, 6), width=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_conv1d_is_a_valid_cross_correlation(n, length, channels, filters, width, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, length, channels)).astype("float32")
    layer = Conv1D(filters, width)
    layer.build(x.shape)
    kernel = rng.standard_normal((width, channels, filters)).astype("float32")
    bias = rng.standard_normal(filters).astype("float32")
    layer.set_weights([kernel, bias])
    out = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(out, numpy_conv1d(x, kernel, bias), rtol=1e-4, atol=1e-4)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 3), length=st.integers(4, 40), channels=st.integers(1, 5),
       size=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_max_pooling_takes_the_window_maxima(n, length, channels, size, seed):
    x = np.random.default_rng(seed).standard_normal((n, length, channels)).astype("float32")
    out = keras.ops.convert_to_numpy(MaxPooling1D(size, size)(x))
    np.testing.assert_array_equal(out, numpy_max_pool(x, size))


def test_conv1d_predictions_follow_every_change_of_the_weights():
    """On torch the relaid kernel is kept for inference: each way the weights change must show."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 12, 4)).astype("float32")
    model = keras.Sequential([keras.Input((12, 4)), Conv1D(3, 5)])
    layer = model.layers[0]
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")

    def expected():
        return numpy_conv1d(x, *[keras.ops.convert_to_numpy(w) for w in layer.weights])

    def predicted():
        return model.predict(x, verbose=0)

    np.testing.assert_allclose(predicted(), expected(), rtol=1e-4, atol=1e-4)
    first = predicted()
    layer.set_weights([rng.standard_normal((5, 4, 3)).astype("float32"), np.ones(3, "float32")])
    np.testing.assert_allclose(predicted(), expected(), rtol=1e-4, atol=1e-4)
    layer.kernel.assign(2 * keras.ops.convert_to_numpy(layer.kernel))
    np.testing.assert_allclose(predicted(), expected(), rtol=1e-4, atol=1e-4)
    before = predicted()
    model.fit(x, np.zeros((4, 8, 3), "float32"), epochs=1, verbose=0)  # the optimizer's step
    np.testing.assert_allclose(predicted(), expected(), rtol=1e-4, atol=1e-4)
    assert not np.allclose(predicted(), before) and not np.allclose(before, first)


def test_conv1d_activation_is_applied_and_read_at_call_time():
    """Attribution turns a layer's activation off for a call: the fast path must obey it."""
    x = np.random.default_rng(0).standard_normal((2, 12, 4)).astype("float32")
    layer = Conv1D(3, 5, activation="relu")
    with_relu = keras.ops.convert_to_numpy(layer(x))
    layer.activation = keras.activations.linear
    linear = keras.ops.convert_to_numpy(layer(x))
    assert (linear < 0).any()
    np.testing.assert_allclose(with_relu, np.maximum(linear, 0), rtol=1e-6)


@pytest.mark.skipif(not ON_TORCH, reason="the fast path is the torch backend's")
def test_torch_fast_path_gradients_equal_keras_own():
    import torch

    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.standard_normal((2, 30, 4)).astype("float32"))
    conv, pool = Conv1D(6, 5, activation="relu"), MaxPooling1D(3, 3)
    conv.build(x.shape)

    def gradients(conv_call, pool_call):
        for variable in conv.trainable_variables:
            variable.value.grad = None
        inputs = x.clone().requires_grad_()
        out = pool_call(pool, conv_call(conv, inputs))
        (out * torch.arange(out.numel()).reshape(out.shape)).sum().backward()
        return [inputs.grad] + [v.value.grad.clone() for v in conv.trainable_variables]

    fast = gradients(Conv1D.call, MaxPooling1D.call)
    own = gradients(keras.layers.Conv1D.call, keras.layers.MaxPooling1D.call)
    for a, b in zip(fast, own):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.skipif(not ON_JAX, reason="the one-pass gradient is the JAX backend's")
@settings(max_examples=15, deadline=None)
@given(length=st.integers(4, 30), size=st.integers(1, 4), levels=st.integers(1, 4),
       dtype=st.sampled_from(["float32", "bfloat16"]), seed=st.integers(0, 2**16))
def test_jax_max_pooling_gradient_goes_where_keras_own_sends_it(length, size, levels, dtype,
                                                                 seed):
    """To each window's first maximum, ties included (few levels make many), tail positions 0."""
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.integers(0, levels, (2, length, 3)), dtype=dtype)
    weights = jnp.asarray(rng.standard_normal((2, length // size, 3)), dtype=dtype)
    pool = MaxPooling1D(size, size, dtype=dtype)

    def gradient(call):
        return np.asarray(jax.grad(lambda x: (call(pool, x) * weights).sum())(x), "float32")

    np.testing.assert_array_equal(gradient(MaxPooling1D.call),
                                  gradient(keras.layers.MaxPooling1D.call))


@pytest.mark.skipif(not ON_JAX, reason="the narrow-input kernel gradient is the JAX backend's")
@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 3), length=st.integers(8, 40), channels=st.integers(1, 6),
       filters=st.integers(1, 6), width=st.integers(1, 8), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(["float32", "mixed_bfloat16"]))
def test_jax_narrow_input_conv_gradients_are_keras_own(n, length, channels, filters, width,
                                                         seed, dtype):
    """Kernel, bias and input gradients as Keras' Conv1D takes them, to float rounding."""
    import jax

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, length, channels)).astype("float32")
    weights = rng.standard_normal((n, length - width + 1, filters)).astype("float32")
    layers = [cls(filters, width, activation="relu", dtype=dtype)
              for cls in (Conv1D, keras.layers.Conv1D)]
    kernel = rng.standard_normal((width, channels, filters)).astype("float32")
    bias = rng.standard_normal(filters).astype("float32")
    for layer in layers:
        layer.build(x.shape)
        layer.set_weights([kernel, bias])

    def gradients(layer):
        def loss(kernel, bias, x):
            out, _ = layer.stateless_call([kernel, bias], [], x)
            return (keras.ops.cast(out, "float32") * weights).sum()
        return jax.grad(loss, argnums=(0, 1, 2))(*(v.value for v in layer.weights), x)

    tolerance = 1e-5 if dtype == "float32" else 2e-2
    for ours, keras_own in zip(gradients(layers[0]), gradients(layers[1])):
        scale = max(1.0, float(np.abs(keras_own).max()))
        np.testing.assert_allclose(np.asarray(ours), np.asarray(keras_own),
                                   atol=tolerance * scale, rtol=0)


@pytest.mark.skipif(not ON_TORCH, reason="the fast path is the torch backend's")
def test_torch_outputs_stay_channels_last_without_copies():
    x = keras.ops.convert_to_tensor(np.ones((2, 40, 4), "float32"))
    conv = Conv1D(8, 5)(x)
    pooled = MaxPooling1D(4, 4)(conv)
    assert conv.is_contiguous() and pooled.is_contiguous()  # (n, L, C) rows, as Keras'


def test_dropout_is_seeded_scaled_and_off_at_inference():
    x = np.ones((4, 500), dtype="float32")
    first = keras.ops.convert_to_numpy(Dropout(0.3, seed=7)(x, training=True))
    again = keras.ops.convert_to_numpy(Dropout(0.3, seed=7)(x, training=True))
    layer = Dropout(0.3, seed=7)
    layer(x, training=True)
    second_call = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second_call)
    np.testing.assert_allclose(np.unique(first), [0.0, 1 / 0.7], rtol=1e-6)
    assert 0.25 < (first == 0).mean() < 0.35
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer(x, training=False)), x)


@pytest.mark.skipif(not ON_JAX, reason="the fused mask is the JAX backend's")
@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 70), min_size=1, max_size=3),
       rate=st.floats(0.01, 0.99), seed=st.integers(0, 2**31 - 1),
       dtype=st.sampled_from(["float32", "bfloat16", "float16"]))
def test_jax_dropout_masks_are_keras_own_bit_for_bit(shape, rate, seed, dtype):
    """Eagerly and under jit, call after call: a Threefry round or counter wrong fails it."""
    import jax

    x = keras.ops.convert_to_tensor(
        np.random.default_rng(0).uniform(0.5, 1.5, shape), dtype=dtype)

    def jitted(layer):  # a training step's way: the seed state in, the next one out
        state = [v.value for v in layer.non_trainable_variables]
        out, state = jax.jit(lambda s, v: layer.stateless_call([], s, v, training=True))(state, x)
        for variable, value in zip(layer.non_trainable_variables, state):
            variable.assign(value)
        return out

    ours, keras_own = Dropout(rate, seed=seed), keras.layers.Dropout(rate, seed=seed)
    for call in (lambda layer: layer(x, training=True), jitted):
        for _ in range(2):
            np.testing.assert_array_equal(np.asarray(call(ours), "float32"),
                                          np.asarray(call(keras_own), "float32"))


@pytest.mark.skipif(not ON_JAX, reason="the fused mask is the JAX backend's")
def test_jax_dropout_keeps_keras_masks_under_other_prng_settings():
    """With the original (non-partitionable) Threefry counters, Keras' own path draws."""
    import jax

    x = np.ones((3, 50, 7), "float32")
    jax.config.update("jax_threefry_partitionable", False)
    try:
        ours = np.asarray(Dropout(0.4, seed=3)(x, training=True))
        keras_own = np.asarray(keras.layers.Dropout(0.4, seed=3)(x, training=True))
    finally:
        jax.config.update("jax_threefry_partitionable", True)
    np.testing.assert_array_equal(ours, keras_own)


def test_networks_are_built_of_these_layers_and_save(tmp_path):
    model = build_deepsea(200, 3, conv_filters=(4, 4, 4), fc_units=5, seed=0)
    kinds = {type(layer) for layer in model.layers}
    assert {Conv1D, MaxPooling1D, Dropout} <= kinds
    x = np.random.default_rng(2).integers(0, 2, (3, 200, 4)).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.get_layer("conv2")) is Conv1D
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)),
                               keras.ops.convert_to_numpy(model(x)), rtol=1e-6)


def test_mixed_precision_computes_in_the_policy_dtype():
    """The fast path computes in the layer's compute dtype (bfloat16) from float32 weights."""
    x = np.random.default_rng(3).standard_normal((2, 30, 4)).astype("float32")
    conv = Conv1D(5, 4, activation="relu", dtype="mixed_bfloat16")
    pooled = MaxPooling1D(2, 2, dtype="mixed_bfloat16")(conv(x))
    assert keras.backend.standardize_dtype(pooled.dtype) == "bfloat16"
    assert conv.kernel.dtype == "float32"
    kernel, bias = conv.get_weights()
    expected = numpy_max_pool(np.maximum(numpy_conv1d(x, kernel, bias), 0), 2)
    got = keras.ops.convert_to_numpy(keras.ops.cast(pooled, "float32"))
    np.testing.assert_allclose(got, expected, rtol=5e-2, atol=5e-2)
