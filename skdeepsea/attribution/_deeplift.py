"""The network rewritten for attribution: its explained outputs, and DeepLIFT's rules.

PyTorch implementations of DeepLIFT (tangermeme, Captum, shap) replace the backward pass of
each nonlinear module with a hook. Keras 3 has no backend-neutral way to override a gradient,
so the network is re-run (its own layers, so its own weights) with each nonlinear layer wrapped
in a rule whose *value* is the layer's own output and whose *gradient* is DeepLIFT's
multiplier, written with ``keras.ops.stop_gradient`` alone. The batch carries each sequence and
its reference side by side (the reference half without gradient), so every rule sees both.

Which rule a layer gets is :data:`DEEPLIFT_RULES`, consulted in one place
(:func:`_deeplift_call`), as tangermeme's ``_NON_LINEAR_OPS``: :func:`rescale_rule` for an
elementwise nonlinearity, :func:`activation_rule` for a layer with an ``activation``,
:func:`max_pooling_rule` for max pooling, None for a layer that is linear at inference (its
gradient is then exact). Layers it does not list (LSTMs, attention, products) keep their plain
gradient too, as tangermeme does for modules it has no rule for; a warning names them, since
completeness then holds only approximately.
"""

import weakref

import keras
import numpy as np

from ..exceptions import warn

__all__ = ["DEEPLIFT_RULES", "activation_rule", "max_pooling_rule", "rescale_rule"]

_RESCALE_TOLERANCE = 1e-6  # tangermeme's (and Captum's) threshold on |z - z0| at activations


def _layer_classes(*names):
    """The classes of ``keras.layers`` of these names that this Keras version has."""
    return tuple(getattr(keras.layers, name) for name in names if hasattr(keras.layers, name))


# Layers with an ``activation`` attribute: a linear part, then the activation (DeepLIFT's rule
# goes at the activation; the logits of an output layer are its linear part).
_WITH_ACTIVATION = _layer_classes(
    "Dense", "EinsumDense", "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose",
    "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D", "SeparableConv2D",
    "DepthwiseConv1D", "DepthwiseConv2D", "Activation")
# Activation layers: elementwise nonlinearities (an output layer's is dropped for logits).
_ELEMENTWISE = _layer_classes("ReLU", "LeakyReLU", "ELU", "PReLU")
_MAX_POOLING = _layer_classes(
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "GlobalMaxPooling1D",
    "GlobalMaxPooling2D", "GlobalMaxPooling3D")
_LINEAR = _layer_classes(
    "InputLayer", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "GaussianDropout", "GaussianNoise", "AlphaDropout", "Flatten", "Reshape", "Permute",
    "RepeatVector", "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalAveragePooling3D", "Add", "Subtract", "Average",
    "Concatenate", "BatchNormalization", "Identity")


def _gradient_only(v):
    """Value 0, gradient that of ``v``."""
    return v - keras.ops.stop_gradient(v)


def _rescale(z, f):
    """``f(z)`` for a paired batch, with the secant slope from the reference as gradient."""
    ops, sg = keras.ops, keras.ops.stop_gradient
    value = f(z)
    zx, z0 = ops.split(z, 2, axis=0)
    yx, y0 = ops.split(value, 2, axis=0)
    dz = zx - z0
    small = ops.abs(dz) < _RESCALE_TOLERANCE
    slope = sg((yx - y0) / ops.where(small, ops.ones_like(dz), dz))
    secant = sg(yx) + slope * _gradient_only(zx)
    return ops.concatenate([ops.where(small, yx, secant), y0], axis=0)


def _without_activation(layer, args, kwargs):
    """``layer``'s output before its activation."""
    activation = layer.activation
    layer.activation = keras.activations.linear
    try:
        return layer(*args, **kwargs)
    finally:
        layer.activation = activation


def rescale_rule(layer, x, **kwargs):
    """DeepLIFT's rescale rule for an elementwise nonlinear layer.

    The value is ``f(z) = layer(z)``; the gradient at the sequences' half is
    the secant slope ``(f(z) - f(z0)) / (z - z0)`` from the reference ``z0``,
    or the plain gradient where ``|z - z0| < 1e-6`` (tangermeme's and Captum's
    threshold). Right for any layer that applies one function to each number
    on its own (ReLU, sigmoid, tanh, ...).

    Parameters
    ----------
    layer : keras.layers.Layer
        The wrapped layer, called on the whole paired batch.
    x : tensor of shape (2 * batch, ...)
        The sequences' inputs to the layer, then their references'.
    **kwargs
        Keyword arguments of the layer's call (``training=False``).

    Returns
    -------
    y : tensor
        ``layer(x)``, with DeepLIFT's multiplier as the gradient of the first half.
    """
    return _rescale(x, lambda z: layer(z, **kwargs))


def activation_rule(layer, x, **kwargs):
    """DeepLIFT for a layer with an ``activation``: its linear part, then the rescale rule.

    The layer (a convolution, a dense layer, an ``Activation``) is called with
    its activation set to linear, which keeps its exact gradient; the rescale
    rule (:func:`rescale_rule`) is applied at the activation. The rewrite calls
    a layer whose activation is linear as it is, and refuses one whose
    activation is not elementwise (softmax).

    Parameters
    ----------
    layer : keras.layers.Layer
        The wrapped layer; it has an ``activation`` attribute.
    x : tensor of shape (2 * batch, ...)
        The sequences' inputs to the layer, then their references'.
    **kwargs
        Keyword arguments of the layer's call.

    Returns
    -------
    y : tensor
        ``layer(x)``, with DeepLIFT's multiplier as the gradient of the first half.
    """
    return _rescale(_without_activation(layer, (x,), kwargs), layer.activation)


def max_pooling_rule(layer, x, **kwargs):
    """DeepLIFT's rule for max pooling, as Captum and tangermeme 1.6 have it.

    The output difference is split into ``max(y, y0) - y0``, sent back
    through the sequence's argmax, and ``y - max(y, y0)``, sent back through
    the reference's argmax, then divided by the input difference; where that
    is exactly zero, the plain pooling gradient (where the two argmaxes
    coincide the ratio is exactly 1 whatever the difference, so no threshold
    is needed; Captum's 1e-7 let float32 rounding pick the branch).

    Parameters
    ----------
    layer : keras.layers.Layer
        A max pooling layer (global or not), called on the whole paired batch.
    x : tensor of shape (2 * batch, ...)
        The sequences' inputs to the layer, then their references'.
    **kwargs
        Keyword arguments of the layer's call.

    Returns
    -------
    y : tensor
        ``layer(x)``, with DeepLIFT's multiplier as the gradient of the first half.
    """
    ops, sg = keras.ops, keras.ops.stop_gradient

    def pool(v):
        return layer(v, **kwargs)

    zx, z0 = ops.split(x, 2, axis=0)
    yx, y0 = ops.split(pool(x), 2, axis=0)
    delta = zx - z0
    small = delta == 0
    free = _gradient_only(zx)
    plain = sg(zx) + ops.where(small, free, ops.zeros_like(free))
    rule = sg(zx) + ops.where(small, ops.zeros_like(free),
                              free / sg(ops.where(small, ops.ones_like(delta), delta)))
    top = ops.maximum(yx, y0)
    # The gradient through ``pool(rule)`` goes to the sequence's argmax, through
    # ``pool(rule + sg(z0 - rule))`` (whose value is y0) to the reference's.
    yx_rule = (sg(yx) + _gradient_only(pool(plain))
               + sg(top - y0) * _gradient_only(pool(rule))
               + sg(yx - top) * _gradient_only(pool(rule + sg(z0 - rule))))
    return ops.concatenate([yx_rule, y0], axis=0)


#: DeepLIFT's rule for each Keras layer class, as tangermeme's ``_NON_LINEAR_OPS``.
#:
#: A rule is a function ``rule(layer, x, **kwargs)`` called on the paired batch ``x`` (the
#: sequences' inputs to the layer, then their references') that returns ``layer(x)`` with
#: DeepLIFT's multiplier as the gradient of the sequences' half, written with ``keras.ops``
#: and ``keras.ops.stop_gradient`` so that it runs on every backend: :func:`rescale_rule`,
#: :func:`activation_rule`, :func:`max_pooling_rule`, or your own. None marks a layer that
#: is linear at inference (dropout, reshapes, average pooling, batch normalization, sums):
#: it is called as it is, and its gradient is exact. A layer takes the rule of the first
#: class of its type's method resolution order listed here; a layer of no listed class
#: keeps its plain gradient, and a warning names it. Register your own layer before
#: explaining a network that holds it, e.g. ``DEEPLIFT_RULES[MySwish] = rescale_rule``.
DEEPLIFT_RULES = {
    **dict.fromkeys(_LINEAR),
    **dict.fromkeys(_WITH_ACTIVATION, activation_rule),
    **dict.fromkeys(_ELEMENTWISE, rescale_rule),
    **dict.fromkeys(_MAX_POOLING, max_pooling_rule),
}


def _is_linear_activation(activation):
    return activation is None or activation is keras.activations.linear


def _is_elementwise(activation):
    return not any(activation is getattr(keras.activations, name, None)
                   for name in ("softmax", "log_softmax", "glu", "sparsemax"))


_EXPLAINED_MODELS = weakref.WeakKeyDictionary()


def explained_model(network, output, weights, *, deep_lift):
    """A model of the explained outputs: ``network``'s outputs (logits or probabilities)
    times ``weights``; with ``deep_lift``, inputs ``[x, reference]`` and DeepLIFT rules.

    The layers (and weights) are the network's own, re-called in a new graph. Models
    are cached per network (and per table of rules), so repeated calls reuse their
    compiled gradient.
    """
    rules = tuple(DEEPLIFT_RULES.items()) if deep_lift else None
    key = (output, weights.shape, weights.tobytes(), rules)
    cached = _EXPLAINED_MODELS.setdefault(network, {})
    if key not in cached:
        cached[key] = _rewrite(network, output, weights, deep_lift)
    return cached[key]


def _rewrite(network, output, weights, deep_lift):
    last = network.layers[-1]
    unsupported = []

    def call(layer, *args, **kwargs):
        if output == "logit" and layer is last:
            if isinstance(layer, _WITH_ACTIVATION) and not _is_linear_activation(
                    layer.activation):
                return _WithoutActivation(layer)(*args, **kwargs)
            if isinstance(layer, (*_ELEMENTWISE, keras.layers.Softmax)):
                return args[0]
        if deep_lift:
            return _deeplift_call(layer, args, kwargs, unsupported)
        return layer(*args, **kwargs)

    graph = keras.models.clone_model(network, clone_function=lambda layer: layer,
                                     call_function=call)
    if unsupported:
        warn("DeepLIFT has no rule for the layers " + ", ".join(unsupported) + "; their plain "
             "gradients are used, so the scores sum to the output difference only "
             "approximately.", RuntimeWarning)
    shape = network.inputs[0].shape[1:]
    sequence = keras.Input(shape, name="sequence")
    if deep_lift:
        reference = keras.Input(shape, name="reference")
        outputs = _FirstHalf()(graph(_Pair()(sequence, reference)))
        inputs = [sequence, reference]
    else:
        outputs, inputs = graph(sequence), sequence
    return keras.Model(inputs, _Combine(weights)(outputs), name=f"{network.name}_explained")


def _deeplift_call(layer, args, kwargs, unsupported):
    """``layer`` called under its rule: the one place a layer's rule is looked up.

    Appends the layer to ``unsupported`` when no class of its type is listed.
    """
    listed = next((cls for cls in type(layer).__mro__ if cls in DEEPLIFT_RULES), None)
    if listed is None:
        unsupported.append(f"{layer.name} ({type(layer).__name__})")
    rule = None if listed is None else DEEPLIFT_RULES[listed]
    if rule is activation_rule and _is_linear_activation(layer.activation):
        rule = None  # a linear part alone: its gradient is exact
    elif rule is activation_rule and not _is_elementwise(layer.activation):
        raise ValueError(
            f"DeepLIFT has no rule for the {layer.activation.__name__} activation of "
            f"layer {layer.name!r}; explain output='logit' instead.")
    if rule is None:
        return layer(*args, **kwargs)
    return _DeepLiftRule(layer, rule)(*args, **kwargs)


class _Pair(keras.layers.Layer):
    """Sequences and their references as one batch, the references without gradient."""

    def call(self, sequence, reference):
        return keras.ops.concatenate([sequence, keras.ops.stop_gradient(reference)], axis=0)

    def compute_output_spec(self, sequence, reference):
        return keras.KerasTensor(sequence.shape, sequence.dtype)


class _FirstHalf(keras.layers.Layer):
    """The sequences' half of a paired batch."""

    def call(self, x):
        return keras.ops.split(x, 2, axis=0)[0]

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, x.dtype)


class _Combine(keras.layers.Layer):
    """Outputs (as float32) times a fixed (n_outputs, n_explained) matrix."""

    def __init__(self, weights, **kwargs):
        super().__init__(**kwargs)
        self.weights_matrix = np.asarray(weights, dtype=np.float32)

    def call(self, x):
        return keras.ops.matmul(keras.ops.cast(x, "float32"),
                                keras.ops.convert_to_tensor(self.weights_matrix))

    def compute_output_spec(self, x):
        return keras.KerasTensor((x.shape[0], self.weights_matrix.shape[1]), "float32")


class _WithoutActivation(keras.layers.Layer):
    """``layer`` without its activation: the logits of an output layer."""

    def __init__(self, layer, **kwargs):
        super().__init__(name=f"{layer.name}_logits", **kwargs)
        self.layer = layer

    def compute_output_spec(self, *args, **kwargs):
        return self.layer.compute_output_spec(*args, **kwargs)

    def call(self, *args, **kwargs):
        return _without_activation(self.layer, args, kwargs)


class _DeepLiftRule(keras.layers.Layer):
    """A layer whose value is ``layer``'s and whose gradient is DeepLIFT's multiplier.

    The batch is ``[sequences; references]``; only the sequences' half needs
    the rule, the references' half carries values (it has no gradient).
    """

    def __init__(self, layer, rule, **kwargs):
        super().__init__(name=f"{layer.name}_deeplift", **kwargs)
        self.layer, self.rule = layer, rule

    def compute_output_spec(self, *args, **kwargs):
        return self.layer.compute_output_spec(*args, **kwargs)

    def call(self, x, **kwargs):
        return self.rule(self.layer, x, **kwargs)
