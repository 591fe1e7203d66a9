"""Gradients of a network's outputs at its input, batch by batch: the one backend-specific
piece of attribution (``jax.grad``, ``torch.autograd.grad`` or a ``tf.GradientTape``)."""

import weakref

import keras
import numpy as np

from .._engine.batches import pad_rows

_GRADIENT_FUNCTIONS = weakref.WeakKeyDictionary()


def path_gradients(plain, X, refs, n_targets, n_steps, batch_size):
    """Integrated gradients' multipliers: gradients averaged along ref -> X (Gauss-Legendre)."""
    nodes, node_weights = np.polynomial.legendre.leggauss(n_steps)
    alphas, node_weights = (nodes + 1) / 2, node_weights / 2
    total = np.zeros((n_targets, *X.shape), dtype=np.float64)
    difference = X - refs
    # Several path points per gradient call when there are few pairs.
    per_call = max(1, batch_size // len(X))
    for start in range(0, n_steps, per_call):
        group = slice(start, start + per_call)
        points = (refs[None] + alphas[group, None, None, None] * difference[None]).astype(
            np.float32)
        gradients = batch_gradients(plain, [points.reshape(-1, *X.shape[1:])], n_targets,
                                    batch_size).reshape(n_targets, -1, *X.shape)
        total += np.einsum("s,ks...->k...", node_weights[group], gradients)
    return total.astype(np.float32)


def batch_gradients(model, inputs, n_targets, batch_size):
    """Gradients (K, n, L, C) of each of ``model``'s K outputs w.r.t. its first input."""
    if model not in _GRADIENT_FUNCTIONS:
        _GRADIENT_FUNCTIONS[model] = _gradient_function(model)
    gradient = _GRADIENT_FUNCTIONS[model]
    n = len(inputs[0])
    size = min(batch_size, n)
    out = np.empty((n_targets, *inputs[0].shape), dtype=np.float32)
    for start in range(0, n, size):
        stop = min(n, start + size)
        # One batch shape for every call (one compiled function): pad the last batch.
        batch = [np.ascontiguousarray(pad_rows(a[start:stop], size), dtype=np.float32)
                 for a in inputs]
        for k in range(n_targets):
            selector = np.zeros(n_targets, dtype=np.float32)
            selector[k] = 1
            out[k, start:stop] = gradient(batch, selector)[:stop - start]
    return out


def _gradient_function(model):
    """``f(inputs, selector)``: the gradient of ``sum(model(inputs) * selector)`` w.r.t.
    ``inputs[0]``, as a numpy array."""
    backend = keras.backend.backend()
    single = len(model.inputs) == 1

    def arguments(tensors):
        return tensors[0] if single else list(tensors)

    if backend == "jax":
        import jax
        import jax.numpy as jnp

        def objective(first, rest, selector, trainable, non_trainable):
            outputs, _ = model.stateless_call(trainable, non_trainable,
                                              arguments([first, *rest]), training=False)
            return jnp.sum(outputs * selector)

        grad = jax.jit(jax.grad(objective))

        def run(inputs, selector):
            return np.asarray(grad(
                inputs[0], inputs[1:], selector,
                [v.value for v in model.trainable_variables],
                [v.value for v in model.non_trainable_variables]))
        return run

    if backend == "torch":
        import torch

        def run(inputs, selector):
            tensors = [keras.ops.convert_to_tensor(a) for a in inputs]
            tensors[0].requires_grad_(True)
            with torch.enable_grad():
                outputs = model(arguments(tensors), training=False)
                objective = torch.sum(outputs * keras.ops.convert_to_tensor(selector))
                (gradient,) = torch.autograd.grad(objective, tensors[0])
            return gradient.detach().cpu().numpy()
        return run

    if backend == "tensorflow":
        import tensorflow as tf

        @tf.function(reduce_retracing=True)
        def tf_grad(inputs, selector):
            with tf.GradientTape() as tape:
                tape.watch(inputs[0])
                outputs = model(arguments(inputs), training=False)
                objective = tf.reduce_sum(outputs * selector)
            return tape.gradient(objective, inputs[0])

        def run(inputs, selector):
            return tf_grad([tf.convert_to_tensor(a) for a in inputs],
                        tf.convert_to_tensor(selector)).numpy()
        return run

    raise ValueError(f"Contribution scores need the jax, torch or tensorflow backend, not "
                     f"{backend!r}.")
