"""The torch backend's fast training paths give the weights of Keras' generic ones.

On the torch backend, a fit folds the kernels' L2 penalty into their gradients
(``_engine.model._TrainingModel``), applies the max-norm constraint in place
(``_InPlaceMaxNorm``) and convolves channels-last (``layers.Conv1D``). These tests
train the same seeded network with the fast step and with Keras' own
(``_FAST_TORCH_STEP = False``) and compare the weights and losses; on JAX and
TensorFlow there is one path, and the comparison checks that a seeded fit repeats.
The convolution's values and gradients are compared with Keras' ``Conv1D`` layer by
layer (in a whole fit, the seeded dropout masks follow the memory layout of their
input, which Keras' convolution leaves transposed), and the other pieces with NumPy
formulas.
"""

import keras
import numpy as np
import pytest

from skdeepsea import DeepSEAClassifier, OneHotDNA
from skdeepsea import layers as sk_layers
from skdeepsea._engine import model as engine_model
from tests.conftest import motif_data

ON_TORCH = keras.backend.backend() == "torch"
# Strong regularization so that every term moves the weights: the max norm binds.
NETWORK = dict(conv_filters=(6, 8, 10), kernel_size=5, pool_size=2, fc_units=12,
               dropout=(0.1, 0.1, 0.2), l2=1e-3, l1_sparsity=1e-3, max_kernel_norm=0.4,
               batch_size=16, epochs=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    seqs, y = motif_data(n=80, length=50, seed=5)
    return OneHotDNA().fit_transform(seqs), y


def fit(X, y, generic, monkeypatch, **params):
    with monkeypatch.context() as patch:
        if generic:
            patch.setattr(engine_model, "_FAST_TORCH_STEP", False)
        return DeepSEAClassifier(**dict(NETWORK, **params)).fit(X, y)


@pytest.mark.parametrize("params", [
    dict(optimizer="sgd", learning_rate=0.05, momentum=0.9),
    dict(optimizer="adam", learning_rate=0.01, add_reverse_complement=False),
    dict(optimizer="sgd", learning_rate=0.05, learning_rate_decay=1e-2, l2=0.0),
], ids=["sgd-momentum", "adam", "sgd-decay-no-l2"])
def test_fast_training_gives_the_weights_of_keras_generic_path(data, monkeypatch, params):
    X, y = data
    fast = fit(X, y, False, monkeypatch, **params)
    generic = fit(X, y, True, monkeypatch, **params)
    assert fast.n_steps_ == generic.n_steps_ >= 10
    for ours, keras_ in zip(fast.model_.get_weights(), generic.model_.get_weights()):
        np.testing.assert_allclose(ours, keras_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fast.history_["loss"], generic.history_["loss"], rtol=1e-5)
    norms = np.linalg.norm(fast.model_.get_layer("fc").get_weights()[0], axis=0)
    assert norms.max() <= 0.4 * (1 + 1e-6)  # the constraint bound (Glorot starts above it)
    # After the fit the network holds Keras' own constraint and regularizer again.
    kernel = fast.model_.get_layer("fc").kernel
    assert type(kernel.constraint) is keras.constraints.MaxNorm
    if fast.l2:
        assert type(kernel.regularizer) is keras.regularizers.L2


def test_fast_training_in_bfloat16_stays_close_to_keras_path(data, monkeypatch):
    X, y = data
    params = dict(optimizer="sgd", learning_rate=0.05, mixed_precision="bfloat16", epochs=1)
    fast = fit(X, y, False, monkeypatch, **params)
    generic = fit(X, y, True, monkeypatch, **params)
    for ours, keras_ in zip(fast.model_.get_weights(), generic.model_.get_weights()):
        # bfloat16 activations: 8 bits of mantissa, rounded in another order.
        np.testing.assert_allclose(ours, keras_, rtol=0, atol=1e-2 * np.abs(keras_).max())


@pytest.mark.parametrize("activation", ["relu", "linear"])
@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("channels, use_bias", [
    (6, True),
    (sk_layers.WIDE_INPUT_CHANNELS, True),  # on torch: the weight gradient channels-first
    (sk_layers.WIDE_INPUT_CHANNELS, False),
])
def test_convolution_values_and_gradients_are_keras(activation, input_grad, channels, use_bias):
    """Outputs, input, kernel and bias gradients of ``layers.Conv1D`` against Keras' layer."""
    rng = np.random.default_rng(2)
    ours = sk_layers.Conv1D(7, 5, activation=activation, use_bias=use_bias)
    ours.build((None, 30, channels))
    reference = keras.layers.Conv1D(7, 5, activation=activation, use_bias=use_bias)
    reference.build((None, 30, channels))
    reference.set_weights(ours.get_weights())
    x = rng.normal(size=(4, 30, channels)).astype(np.float32)
    weights = rng.normal(size=(4, 26, 7)).astype(np.float32)
    results = [gradients(layer, x, weights, input_grad) for layer in (ours, reference)]
    for got, expected in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def gradients(layer, x, weights, input_grad):
    """Output of ``layer`` and the gradients of ``sum(weights * output)``, as NumPy."""
    backend = keras.backend.backend()
    variables = layer.trainable_weights
    if backend == "torch":
        import torch

        inputs = torch.tensor(x, requires_grad=input_grad)
        output = layer(inputs)
        (output * torch.from_numpy(weights)).sum().backward()
        grads = [v.value.grad for v in variables] + ([inputs.grad] if input_grad else [])
        return [t.detach().numpy() for t in [output, *grads]]
    if backend == "jax":
        import jax

        def loss(values, inputs):
            output, _ = layer.stateless_call(values, [], inputs)
            return (output * weights).sum(), output

        (grad_values, grad_inputs), output = jax.grad(loss, argnums=(0, 1), has_aux=True)(
            [v.value for v in variables], x)
        return [np.asarray(t) for t in [output, *grad_values]
                + ([grad_inputs] if input_grad else [])]
    import tensorflow as tf

    inputs = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        output = layer(inputs)
        loss = tf.reduce_sum(output * weights)
    grads = tape.gradient(loss, [v.value for v in variables] + ([inputs] if input_grad else []))
    return [np.asarray(t) for t in [output, *grads]]


@pytest.mark.skipif(not ON_TORCH, reason="the in-place max norm is the torch backend's")
@pytest.mark.parametrize("shape,axis", [((5, 3, 7), [0, 1]), ((300, 9), 0)])
def test_in_place_max_norm_is_keras_formula(shape, axis):
    rng = np.random.default_rng(0)
    w = rng.normal(scale=0.3, size=shape).astype(np.float32)
    w[..., 0] *= 1e-3  # a unit far under the bound: scaled by norm / (eps + norm) too
    variable = keras.Variable(w)
    constraint = engine_model._InPlaceMaxNorm(keras.constraints.MaxNorm(0.5, axis=axis))
    constraint._CHUNK = 40  # several slices of rows
    constraint(variable)
    axes = tuple(axis) if isinstance(axis, list) else (axis,)
    norms = np.sqrt(np.sum(w.astype(np.float64) ** 2, axis=axes, keepdims=True))
    expected = w * (np.clip(norms, 0, 0.5) / (keras.backend.epsilon() + norms))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(variable), expected, rtol=1e-6)


@pytest.mark.skipif(not ON_TORCH, reason="the folded L2 gradient is the torch backend's")
def test_folded_l2_value_and_gradient_are_the_penalty_s():
    import torch

    rng = np.random.default_rng(1)
    w = rng.normal(size=(4, 6)).astype(np.float32)
    variable = keras.Variable(w)
    factor = keras.Variable(np.float32(0.25), trainable=False)
    variable.value.grad = torch.ones(4, 6)
    folded = engine_model._FoldedL2()
    value = folded.value(variable, factor)
    assert not value.requires_grad
    np.testing.assert_allclose(float(value), 0.25 * np.sum(w.astype(np.float64) ** 2), rtol=1e-6)
    folded.add_gradients()
    np.testing.assert_allclose(variable.value.grad.numpy(), 1 + 2 * 0.25 * w, rtol=1e-6)


class _RecordingLibc:
    """glibc's mallopt and malloc_trim, recorded instead of called."""

    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append(("mallopt", parameter, value))
        return 1

    def malloc_trim(self, pad):
        self.calls.append(("trim",))
        return 1


def _lifted(calls):
    """For each call: whether mmap was off (reused heap buffers) after it."""
    from skdeepsea._malloc import M_MMAP_MAX

    lifted, states = False, []
    for call in calls:
        if call[0] == "mallopt" and call[1] == M_MMAP_MAX:
            lifted = call[2] == 0
        states.append(lifted)
    return states


def test_large_buffers_are_reused_during_each_epoch_and_settled_between(data, monkeypatch):
    from skdeepsea import _malloc
    from skdeepsea._engine.loop import TrainingState

    libc = _RecordingLibc()
    monkeypatch.setattr(_malloc, "glibc", lambda: libc)
    seen = []  # at each step's end and each epoch's end (after the allocator callback)
    step_end, epoch_end = TrainingState.on_train_batch_end, TrainingState.on_epoch_end
    monkeypatch.setattr(TrainingState, "on_train_batch_end", lambda self, batch, logs=None: (
        seen.append(("step", _lifted(libc.calls)[-1] if libc.calls else False)),
        step_end(self, batch, logs))[1])
    monkeypatch.setattr(TrainingState, "on_epoch_end", lambda self, epoch, logs=None: (
        seen.append(("epoch", None)), epoch_end(self, epoch, logs))[1])
    X, y = data
    DeepSEAClassifier(**dict(NETWORK, epochs=2)).fit(X, y)
    steps = [lifted for kind, lifted in seen if kind == "step"]
    if not ON_TORCH:  # JAX and TensorFlow allocate through their own allocators
        assert libc.calls == [] and steps
        return
    assert steps and all(steps)  # every step ran with mmap off
    assert libc.calls.count(("trim",)) == 2  # each epoch's end settled and trimmed
    assert _lifted(libc.calls)[-1] is False and libc.calls[-1] == ("trim",)


@pytest.mark.skipif(not ON_TORCH, reason="the allocator is tuned on the torch backend only")
def test_a_fit_stopped_by_an_error_mid_epoch_settles_the_allocator(data, monkeypatch):
    from skdeepsea import _malloc
    from skdeepsea._engine.loop import TrainingState

    libc = _RecordingLibc()
    monkeypatch.setattr(_malloc, "glibc", lambda: libc)

    def fail(self, batch, logs=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(TrainingState, "on_train_batch_end", fail)
    X, y = data
    with pytest.raises(KeyboardInterrupt):
        DeepSEAClassifier(**NETWORK).fit(X, y)
    assert _lifted(libc.calls) == [True, True, False, False, False, False]
    assert libc.calls[-1] == ("trim",)
