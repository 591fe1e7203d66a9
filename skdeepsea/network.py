"""The DeepSEA family as Keras 3 models, each built from hyperparameters alone.

:func:`build_deepsea`, :func:`build_beluga` and :func:`build_danq` build one
architecture each; :func:`build_architecture` picks one by name (the
estimator's ``architecture``), its published sizes the defaults
(:data:`ARCHITECTURES`). All three share the estimator's regularization (L2
on the convolution and dense kernels, L1 on the hidden dense layer's outputs,
max-norm on filters and dense units) and the layer names ``conv1``, ...,
``fc`` and ``output``.
"""

from numbers import Integral

import keras
import numpy as np

from ._architectures import (
    ARCHITECTURES,
    NETWORK_CONSTRAINTS,
    SIZE_PARAMS,
    feature_length,
    resolve_sizes,
)
from ._constraints import Interval, Options, parameter_constraints
from ._validation import NETWORK_RULE_PARAMS, check_network_params
from .layers import Conv1D, Dropout, MaxPooling1D

__all__ = ["ARCHITECTURES", "build_architecture", "build_beluga", "build_danq", "build_deepsea",
           "conv_output_length", "theano_hard_sigmoid", "torch_threshold"]


_POSITIVE = [Interval(Integral, 1, None)]
# DanQ's LSTM gate activations by name (build_danq's recurrent_activation; _LSTM_GATES below).
_GATE_NAMES = ("sigmoid", "theano_hard_sigmoid")


def _given(name):
    """The estimator's constraints of a size, without None: a builder takes the size itself."""
    return [spec for spec in NETWORK_CONSTRAINTS[name] if spec is not None]


# What each builder's parameters accept: the estimator's constraints of the same names
# (skdeepsea._architectures.NETWORK_CONSTRAINTS), sizes given. The rules between parameters (a dropout rate per
# block, each block's filters, an input long enough) are check_network_params' code.
_BUILD_CONSTRAINTS = {
    "sequence_length": _POSITIVE,
    "n_outputs": _POSITIVE,
    "input_channels": NETWORK_CONSTRAINTS["input_channels"],
    "output_activation": [Options(str, ("sigmoid", "softmax"))],
    **{name: _given(name) for name in SIZE_PARAMS if name != "lstm_units"},
    **{name: NETWORK_CONSTRAINTS[name] for name in ("l2", "l1_sparsity", "max_kernel_norm")},
    "seed": [Interval(Integral, 0, None), None],
}
_DANQ_CONSTRAINTS = {
    **_BUILD_CONSTRAINTS,
    "lstm_units": _given("lstm_units"),
    "recurrent_activation": [Options(str, _GATE_NAMES)],
    "backward_direction": [Options(str, ("reversed", "forward"))],
}
# build_architecture: its sizes may be None (the architecture's), its **kwargs are checked too.
_ARCHITECTURE_CONSTRAINTS = {
    "architecture": NETWORK_CONSTRAINTS["architecture"],
    **_DANQ_CONSTRAINTS,
    **{name: NETWORK_CONSTRAINTS[name] for name in SIZE_PARAMS},
}


class _Layers:
    """Seeded layers with the kernel penalties and constraints, shared by the builders.

    One integer seed per layer, drawn from ``seed``, so each layer's config
    stays serialisable; sizes and rates are passed on as Python ints and
    floats (Keras refuses a NumPy integer size, and its configs are JSON).
    """

    def __init__(self, seed, l2, l1_sparsity, max_kernel_norm):
        self.rng = np.random.default_rng(seed) if seed is not None else None
        self.l2, self.l1_sparsity = float(l2), float(l1_sparsity)
        self.max_kernel_norm = None if max_kernel_norm is None else float(max_kernel_norm)

    @staticmethod
    def input(sequence_length, input_channels):
        return keras.Input((int(sequence_length), int(input_channels)), name="sequence")

    def seed(self):
        return None if self.rng is None else int(self.rng.integers(2**31 - 1))

    def kernel_args(self, norm_axes):
        return {
            "kernel_initializer": keras.initializers.GlorotUniform(seed=self.seed()),
            "kernel_regularizer": keras.regularizers.L2(self.l2) if self.l2 else None,
            "kernel_constraint": (
                keras.constraints.MaxNorm(self.max_kernel_norm, axis=norm_axes)
                if self.max_kernel_norm is not None
                else None
            ),
        }

    def conv(self, filters, kernel_size, name):
        return Conv1D(int(filters), int(kernel_size), activation="relu", name=name,
                      **self.kernel_args([0, 1]))

    def dropout(self, rate, name):
        return Dropout(float(rate), seed=self.seed(), name=name)

    def pool(self, size, name):
        return MaxPooling1D(int(size), int(size), name=name)

    def head(self, x, fc_units, n_outputs, output_activation):
        """Flatten -> Dense (ReLU, L1 on its outputs) -> Dense output."""
        x = keras.layers.Flatten(name="flatten")(x)
        x = keras.layers.Dense(
            int(fc_units),
            activation="relu",
            activity_regularizer=(keras.regularizers.L1(self.l1_sparsity)
                                  if self.l1_sparsity else None),
            name="fc",
            **self.kernel_args(0),
        )(x)
        return keras.layers.Dense(
            int(n_outputs), activation=output_activation, name="output", **self.kernel_args(0)
        )(x)


@parameter_constraints(_BUILD_CONSTRAINTS)
def build_deepsea(
    sequence_length=1000,
    n_outputs=919,
    *,
    input_channels=4,
    output_activation="sigmoid",
    conv_filters=(320, 480, 960),
    kernel_size=8,
    pool_size=4,
    fc_units=925,
    dropout=(0.2, 0.2, 0.5),
    l2=5e-7,
    l1_sparsity=1e-8,
    max_kernel_norm=0.9,
    seed=None,
):
    """Build the DeepSEA convolutional network.

    Conv1D (ReLU) -> MaxPool -> Dropout, twice, then Conv1D (ReLU) ->
    Dropout -> Flatten -> Dense (ReLU) -> Dense output, with valid
    convolutions of stride 1, as in Zhou & Troyanskaya (2015).

    Parameters
    ----------
    sequence_length : int, default=1000
        Length of the one-hot input sequences, in bases.
    n_outputs : int, default=919
        Number of output units.
    input_channels : int, default=4
        Channels per position: 4 for one-hot DNA.
    output_activation : {"sigmoid", "softmax"}, default="sigmoid"
        Activation of the output layer: "sigmoid" for independent targets,
        "softmax" for mutually exclusive classes.
    conv_filters : tuple of int, default=(320, 480, 960)
        Number of filters of each convolution.
    kernel_size : int, default=8
        Width of every convolution kernel.
    pool_size : int, default=4
        Width and step of the max pooling after every convolution but the last.
    fc_units : int, default=925
        Units of the fully connected hidden layer (925 in the released model).
    dropout : tuple of float, default=(0.2, 0.2, 0.5)
        One dropout rate per convolution, applied after its pooling (after
        the last convolution itself).
    l2 : float, default=5e-7
        ``l2 * sum(W ** 2)`` over every kernel is added to the loss.
    l1_sparsity : float, default=1e-8
        ``l1_sparsity * sum(|h|)`` over the outputs ``h`` of the hidden dense
        layer, averaged over the batch, is added to the loss.
    max_kernel_norm : float or None, default=0.9
        After each update every filter (as a whole) and every dense unit's
        incoming weight vector is rescaled to at most this L2 norm. None
        disables the constraint.
    seed : int or None, default=None
        Seed of the weight initializers and dropout masks.

    Returns
    -------
    model : keras.Model
        The uncompiled model, input shape ``(sequence_length, input_channels)``.

    Raises
    ------
    ValueError
        ``"build_deepsea: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type or value; if a filter count or dropout rate is out
        of range, ``dropout`` does not hold one rate per convolution, or
        ``sequence_length`` is too short for the convolutions.

    Examples
    --------
    >>> from skdeepsea.network import build_deepsea
    >>> build_deepsea().count_params()
    52843119
    """
    check_network_params(
        sequence_length=sequence_length, conv_filters=conv_filters, kernel_size=kernel_size,
        pool_size=pool_size, dropout=dropout,
    )
    layers = _Layers(seed, l2, l1_sparsity, max_kernel_norm)
    inputs = layers.input(sequence_length, input_channels)
    x = inputs
    for i, filters in enumerate(conv_filters):
        x = layers.conv(filters, kernel_size, f"conv{i + 1}")(x)
        if i < len(conv_filters) - 1:
            x = layers.pool(pool_size, f"pool{i + 1}")(x)
        x = layers.dropout(dropout[i], f"dropout{i + 1}")(x)
    outputs = layers.head(x, fc_units, n_outputs, output_activation)
    return keras.Model(inputs, outputs, name="deepsea")


@parameter_constraints(_BUILD_CONSTRAINTS)
def build_beluga(
    sequence_length=2000,
    n_outputs=2002,
    *,
    input_channels=4,
    output_activation="sigmoid",
    conv_filters=(320, 480, 640),
    kernel_size=8,
    pool_size=4,
    fc_units=2003,
    dropout=(0.2, 0.2, 0.5),
    l2=5e-7,
    l1_sparsity=1e-8,
    max_kernel_norm=0.9,
    seed=None,
):
    """Build Beluga, the DeepSEA network of ExPecto (Zhou et al. 2018).

    Blocks of two Conv1D (ReLU) of one width; after every block but the last
    Dropout -> MaxPool, after the last Dropout; then Flatten -> Dense (ReLU)
    -> Dense output. The published model: 320-320 / 480-480 / 640-640
    filters of width 8, pooling 4, dropout 0.2, 0.2, 0.5, 67,840 -> 2,003 ->
    2,002 units, for 2,000 bp (ExPecto's ``chromatin.py``, Kipoi's
    ``DeepSEA/beluga``).

    Parameters
    ----------
    sequence_length : int, default=2000
        Length of the one-hot input sequences, in bases.
    n_outputs : int, default=2002
        Number of output units.
    input_channels : int, default=4
        Channels per position: 4 for one-hot DNA.
    output_activation : {"sigmoid", "softmax"}, default="sigmoid"
        Activation of the output layer.
    conv_filters : tuple of int, default=(320, 480, 640)
        Filters of both convolutions of each block.
    kernel_size : int, default=8
        Width of every convolution kernel.
    pool_size : int, default=4
        Width and step of the max pooling after every block but the last.
    fc_units : int, default=2003
        Units of the fully connected hidden layer.
    dropout : tuple of float, default=(0.2, 0.2, 0.5)
        One rate per block: before its pooling (after the last block itself).
    l2 : float, default=5e-7
        ``l2 * sum(W ** 2)`` over every kernel is added to the loss.
    l1_sparsity : float, default=1e-8
        ``l1_sparsity * sum(|h|)`` over the outputs ``h`` of the hidden dense
        layer, averaged over the batch, is added to the loss.
    max_kernel_norm : float or None, default=0.9
        Max L2 norm of every filter and dense unit's incoming weights after
        each update; None: no constraint.
    seed : int or None, default=None
        Seed of the weight initializers and dropout masks.

    Returns
    -------
    model : keras.Model
        The uncompiled model, input shape ``(sequence_length, input_channels)``.

    Raises
    ------
    ValueError
        ``"build_beluga: <parameter> must be ..., got <value>."`` for a parameter
        of the wrong type or value; if a filter count or dropout rate is out
        of range, ``dropout`` does not hold one rate per block, or
        ``sequence_length`` is too short for the convolutions.

    Examples
    --------
    >>> from skdeepsea.network import build_beluga
    >>> model = build_beluga(60, 3, conv_filters=(4, 6), kernel_size=5, fc_units=8,
    ...                      dropout=(0.2, 0.5))
    >>> [layer.name for layer in model.layers][1:7]
    ['conv1', 'conv2', 'dropout1', 'pool1', 'conv3', 'conv4']
    >>> tuple(model.get_layer("fc").kernel.shape)  # (60 - 8) // 4 - 8 = 5 positions x 6 filters
    (30, 8)
    """
    check_network_params(
        sequence_length=sequence_length, conv_filters=conv_filters, kernel_size=kernel_size,
        pool_size=pool_size, dropout=dropout, architecture="beluga",
    )
    layers = _Layers(seed, l2, l1_sparsity, max_kernel_norm)
    inputs = layers.input(sequence_length, input_channels)
    x = inputs
    for i, filters in enumerate(conv_filters):
        x = layers.conv(filters, kernel_size, f"conv{2 * i + 1}")(x)
        x = layers.conv(filters, kernel_size, f"conv{2 * i + 2}")(x)
        x = layers.dropout(dropout[i], f"dropout{i + 1}")(x)
        if i < len(conv_filters) - 1:
            x = layers.pool(pool_size, f"pool{i + 1}")(x)
    outputs = layers.head(x, fc_units, n_outputs, output_activation)
    return keras.Model(inputs, outputs, name="beluga")


@parameter_constraints(_DANQ_CONSTRAINTS)
def build_danq(
    sequence_length=1000,
    n_outputs=919,
    *,
    input_channels=4,
    output_activation="sigmoid",
    conv_filters=(320,),
    kernel_size=26,
    pool_size=13,
    lstm_units=320,
    fc_units=925,
    dropout=(0.2, 0.5),
    l2=5e-7,
    l1_sparsity=1e-8,
    max_kernel_norm=0.9,
    seed=None,
    recurrent_activation="sigmoid",
    backward_direction="reversed",
):
    """Build DanQ (Quang & Xie 2016): convolution, then a bidirectional LSTM.

    Conv1D (ReLU) -> MaxPool -> Dropout for each block (the published model
    has one: 320 filters of width 26, pooling 13, dropout 0.2), then a
    bidirectional LSTM over the pooled positions (320 units each way, all
    steps' outputs concatenated) -> Dropout (0.5) -> Flatten -> Dense (ReLU,
    925) -> Dense output (919). The LSTM's weights get no penalty or
    constraint (as in DanQ, which regularized by dropout alone); the
    convolution and dense kernels get the estimator's.

    Parameters
    ----------
    sequence_length : int, default=1000
        Length of the one-hot input sequences, in bases.
    n_outputs : int, default=919
        Number of output units.
    input_channels : int, default=4
        Channels per position: 4 for one-hot DNA.
    output_activation : {"sigmoid", "softmax"}, default="sigmoid"
        Activation of the output layer.
    conv_filters : tuple of int, default=(320,)
        Filters of the convolution of each block.
    kernel_size : int, default=26
        Width of every convolution kernel.
    pool_size : int, default=13
        Width and step of the max pooling after every convolution.
    lstm_units : int, default=320
        Units of each direction of the LSTM.
    fc_units : int, default=925
        Units of the fully connected hidden layer.
    dropout : tuple of float, default=(0.2, 0.5)
        One rate per block (after its pooling), then one after the LSTM.
    l2 : float, default=5e-7
        ``l2 * sum(W ** 2)`` over the convolution and dense kernels is added
        to the loss.
    l1_sparsity : float, default=1e-8
        ``l1_sparsity * sum(|h|)`` over the outputs ``h`` of the hidden dense
        layer, averaged over the batch, is added to the loss.
    max_kernel_norm : float or None, default=0.9
        Max L2 norm of every filter and dense unit's incoming weights after
        each update; None: no constraint.
    seed : int or None, default=None
        Seed of the weight initializers and dropout masks.
    recurrent_activation : {"sigmoid", "theano_hard_sigmoid"}, default="sigmoid"
        Activation of the LSTM's gates: Keras 3's logistic sigmoid, or
        :func:`theano_hard_sigmoid`, the gate of DanQ's Keras 0.2 LSTM (set
        by :func:`skdeepsea.pretrained.load_danq` for the published weights).
    backward_direction : {"reversed", "forward"}, default="reversed"
        How the second LSTM reads the positions: "reversed", a true
        backward LSTM (its outputs re-aligned with the positions); "forward",
        in order like the first, as the ``Bidirectional`` layer of the seya
        library that DanQ used computes it (seya reverses the batch axis,
        not the time axis; see :func:`skdeepsea.pretrained.load_danq`).

    Returns
    -------
    model : keras.Model
        The uncompiled model, input shape ``(sequence_length, input_channels)``.

    Raises
    ------
    ValueError
        ``"build_danq: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value (``recurrent_activation`` and
        ``backward_direction`` included); if a filter count or dropout rate
        is out of range, ``dropout`` does not hold one rate per block and one
        for the LSTM, or ``sequence_length`` is too short for the
        convolutions.

    Examples
    --------
    >>> from skdeepsea.network import build_danq
    >>> tuple(build_danq().get_layer("fc").kernel.shape)  # 75 positions x 640 LSTM outputs
    (48000, 925)
    """
    check_network_params(
        sequence_length=sequence_length, conv_filters=conv_filters, kernel_size=kernel_size,
        pool_size=pool_size, dropout=dropout, architecture="danq", lstm_units=lstm_units,
    )
    layers = _Layers(seed, l2, l1_sparsity, max_kernel_norm)
    inputs = layers.input(sequence_length, input_channels)
    x = inputs
    for i, filters in enumerate(conv_filters):
        x = layers.conv(filters, kernel_size, f"conv{i + 1}")(x)
        x = layers.pool(pool_size, f"pool{i + 1}")(x)
        x = layers.dropout(dropout[i], f"dropout{i + 1}")(x)

    def lstm(name, go_backwards=False):
        return keras.layers.LSTM(
            int(lstm_units), return_sequences=True, go_backwards=go_backwards,
            recurrent_activation=_LSTM_GATES[recurrent_activation],
            kernel_initializer=keras.initializers.GlorotUniform(seed=layers.seed()),
            recurrent_initializer=keras.initializers.Orthogonal(seed=layers.seed()),
            name=name,
        )

    # Two seeded LSTMs, so the directions do not start from the same weights.
    if backward_direction == "reversed":
        x = keras.layers.Bidirectional(lstm("lstm_forward"),
                                       backward_layer=lstm("lstm_backward", go_backwards=True),
                                       name="bilstm")(x)
    else:  # Keras' Bidirectional refuses two LSTMs of one direction
        x = keras.layers.Concatenate(name="bilstm")(
            [lstm("lstm_forward")(x), lstm("lstm_backward")(x)])
    x = layers.dropout(dropout[-1], f"dropout{len(conv_filters) + 1}")(x)
    outputs = layers.head(x, fc_units, n_outputs, output_activation)
    return keras.Model(inputs, outputs, name="danq")


_BUILDERS = {"deepsea": build_deepsea, "beluga": build_beluga, "danq": build_danq}


@parameter_constraints(_ARCHITECTURE_CONSTRAINTS)  # the options of **kwargs too
def build_architecture(architecture, sequence_length, n_outputs, *, conv_filters=None,
                       kernel_size=None, pool_size=None, fc_units=None, dropout=None,
                       lstm_units=None, **kwargs):
    """Build one network of the DeepSEA family by name.

    Parameters
    ----------
    architecture : {"deepsea", "beluga", "danq"}
        Which builder: :func:`build_deepsea`, :func:`build_beluga` or
        :func:`build_danq`.
    sequence_length : int
        Input length in bases.
    n_outputs : int
        Output units.
    conv_filters, kernel_size, pool_size, fc_units, dropout, lstm_units : default=None
        The sizes; None: the architecture's published one
        (``ARCHITECTURES[architecture]``). ``lstm_units`` is DanQ's only.
    **kwargs
        ``input_channels``, ``output_activation``, ``l2``, ``l1_sparsity``,
        ``max_kernel_norm``, ``seed``: passed on; DanQ's builder also takes
        ``recurrent_activation`` and ``backward_direction``.

    Returns
    -------
    model : keras.Model
        Uncompiled; its ``name`` is the architecture.

    Raises
    ------
    ValueError
        ``"build_architecture: <parameter> must be ..., got <value>."`` for
        a parameter or option of the wrong type or value (an unknown
        ``architecture`` included); if a size does not fit the architecture
        (``lstm_units`` for another than DanQ, a dropout rate per block).
    TypeError
        For an option of ``**kwargs`` that no builder takes.

    Examples
    --------
    >>> from skdeepsea.network import build_architecture
    >>> build_architecture("danq", 200, 5, conv_filters=(8,), lstm_units=4, fc_units=6).name
    'danq'
    """
    sizes = resolve_sizes(architecture, {
        "conv_filters": conv_filters, "kernel_size": kernel_size, "pool_size": pool_size,
        "fc_units": fc_units, "dropout": dropout, "lstm_units": lstm_units})
    sizes["conv_filters"], sizes["dropout"] = tuple(sizes["conv_filters"]), tuple(sizes["dropout"])
    if architecture != "danq":
        # Only DanQ's builder takes lstm_units: the check names it when another is given one.
        check_network_params(sequence_length=sequence_length, architecture=architecture,
                             **{name: sizes[name] for name in NETWORK_RULE_PARAMS})
        del sizes["lstm_units"]
    return _BUILDERS[architecture](sequence_length, n_outputs, **sizes, **kwargs)


@parameter_constraints({name: _POSITIVE for name in ("sequence_length", "n_convs",
                                                     "kernel_size", "pool_size")})
def conv_output_length(sequence_length, n_convs=3, kernel_size=8, pool_size=4):
    """Length of the last convolution's output for an input length (DeepSEA's layout).

    Parameters
    ----------
    sequence_length : int
        Input length in bases.
    n_convs : int, default=3
        Number of convolutions; each but the last is followed by a pooling.
    kernel_size : int, default=8
        Convolution width.
    pool_size : int, default=4
        Pooling width and step.

    Returns
    -------
    length : int
        Positions left after the last convolution (0 or less: too short).

    Raises
    ------
    ValueError
        ``"conv_output_length: <name> must be ..., got <value>."`` if an
        argument is not a positive integer.

    Examples
    --------
    >>> from skdeepsea.network import conv_output_length
    >>> conv_output_length(1000)
    53
    """
    return feature_length("deepsea", sequence_length, n_convs, kernel_size, pool_size)


@keras.saving.register_keras_serializable(package="skdeepsea", name="torch_threshold")
def torch_threshold(x):
    """Torch's ``Threshold(0, 1e-6)``: ``x`` where ``x > 0``, else 1e-6.

    The activation of the released DeepSEA network, a ReLU whose floor is
    1e-6 instead of 0 (see :func:`skdeepsea.pretrained.load_deepsea`).
    Registered with Keras, so a model that uses it saves and loads (in safe
    mode) like any other.

    Parameters
    ----------
    x : tensor
        Pre-activations.

    Returns
    -------
    y : tensor
        Same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.network import torch_threshold
    >>> np.asarray(torch_threshold(np.array([-1.0, 0.0, 0.5], dtype="float32"))).tolist()
    [9.999999974752427e-07, 9.999999974752427e-07, 0.5]
    """
    x = keras.ops.convert_to_tensor(x)
    return keras.ops.where(x > 0, x, keras.ops.full_like(x, 1e-6))


@keras.saving.register_keras_serializable(package="skdeepsea", name="theano_hard_sigmoid")
def theano_hard_sigmoid(x):
    """Theano's ``hard_sigmoid``: ``clip(0.2 * x + 0.5, 0, 1)``.

    The gate activation of DanQ's Keras 0.2 LSTM (Keras 0.2 called
    ``theano.tensor.nnet.hard_sigmoid``). Keras 3's ``hard_sigmoid`` is
    another function, ``relu6(x + 3) / 6`` (slope 1/6, not 0.2). Registered
    with Keras, so a model that uses it saves and loads (in safe mode).

    Parameters
    ----------
    x : tensor
        Pre-activations.

    Returns
    -------
    y : tensor
        Same shape and dtype as ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea.network import theano_hard_sigmoid
    >>> np.asarray(theano_hard_sigmoid(np.array([-3.0, 0.0, 1.0, 3.0], dtype="float32"))).tolist()
    [0.0, 0.5, 0.699999988079071, 1.0]
    """
    x = keras.ops.convert_to_tensor(x)
    return keras.ops.clip(x * 0.2 + 0.5, 0.0, 1.0)


# DanQ's LSTM gate activations by name (build_danq's recurrent_activation).
_LSTM_GATES = dict(zip(_GATE_NAMES, ("sigmoid", theano_hard_sigmoid)))
