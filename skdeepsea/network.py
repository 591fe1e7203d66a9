"""The DeepSEA network as a Keras 3 model, built from hyperparameters alone."""

import keras
import numpy as np

from ._validation import check_network_params, conv_output_length

__all__ = ["build_deepsea", "conv_output_length", "torch_threshold"]


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

    Examples
    --------
    >>> from skdeepsea.network import build_deepsea
    >>> build_deepsea().count_params()
    52843119
    """
    check_network_params(
        sequence_length=sequence_length,
        conv_filters=conv_filters,
        kernel_size=kernel_size,
        pool_size=pool_size,
        fc_units=fc_units,
        dropout=dropout,
        l2=l2,
        l1_sparsity=l1_sparsity,
        max_kernel_norm=max_kernel_norm,
    )
    # One integer seed per layer, so each layer's config stays serialisable.
    rng = np.random.default_rng(seed) if seed is not None else None

    def next_seed():
        return None if rng is None else int(rng.integers(2**31 - 1))

    def kernel_args(norm_axes):
        return dict(
            kernel_initializer=keras.initializers.GlorotUniform(seed=next_seed()),
            kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
            kernel_constraint=(
                keras.constraints.MaxNorm(max_kernel_norm, axis=norm_axes)
                if max_kernel_norm is not None
                else None
            ),
        )

    inputs = keras.Input((sequence_length, input_channels), name="sequence")
    x = inputs
    for i, filters in enumerate(conv_filters):
        x = keras.layers.Conv1D(
            filters, kernel_size, activation="relu", name=f"conv{i + 1}", **kernel_args([0, 1])
        )(x)
        if i < len(conv_filters) - 1:
            x = keras.layers.MaxPooling1D(pool_size, pool_size, name=f"pool{i + 1}")(x)
        x = keras.layers.Dropout(dropout[i], seed=next_seed(), name=f"dropout{i + 1}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(
        fc_units,
        activation="relu",
        activity_regularizer=keras.regularizers.L1(l1_sparsity) if l1_sparsity else None,
        name="fc",
        **kernel_args(0),
    )(x)
    outputs = keras.layers.Dense(
        n_outputs, activation=output_activation, name="output", **kernel_args(0)
    )(x)
    return keras.Model(inputs, outputs, name="deepsea")


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
