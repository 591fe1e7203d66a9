"""The one path from weight arrays read from a file to a fitted :class:`DeepSEAClassifier`.

Each reader converts its file's arrays to the Keras layout of the layers they
belong to; :func:`fitted_estimator` builds the network with
:func:`skdeepsea.network.build_architecture`, checks every array's shape
against the layer it goes to, sets the weights, and hands the network to
:meth:`DeepSEAClassifier.from_keras`.
"""

from numbers import Integral

import keras

from .._architectures import SIZE_PARAMS
from .._constraints import Boolean, Interval, Options, PathLike
from .._strands import DEPRECATED, PREDICTION_STRANDS, renamed_strand
from ..network import build_architecture
from ..preprocessing import ALPHABET_CONSTRAINT
from ..targets import NAMES_CONSTRAINT

#: What the weight importers (:func:`load_deepsea`, :func:`load_danq`) share.
IMPORT_CONSTRAINTS = {
    "path": [PathLike()],
    "target_names": [None, PathLike(), NAMES_CONSTRAINT],
    "alphabet": [ALPHABET_CONSTRAINT],
    "strand": [Options(str, PREDICTION_STRANDS), None],
    "batch_size": [Interval(Integral, 1, None)],
    # Deprecated: True / False with a FutureWarning; the default says "not given".
    "average_strands": [Boolean(), Options(str, (DEPRECATED,))],
}


def import_strand(strand, average_strands, owner):
    """The ``strand`` an importer was given: None (as the source predicts), "mean" or "forward".

    Both are checked by the importer's constraints (:data:`IMPORT_CONSTRAINTS`);
    this is the rule between them.

    Parameters
    ----------
    strand : {"mean", "forward"} or None
        The ``strand`` argument.
    average_strands : bool, None or "deprecated"
        The former name's argument. A bool is translated with a
        ``FutureWarning``; None, load_deepsea's former default ("as the source
        does"), means what ``strand=None`` means now.
    owner : str
        The importer, for the messages.

    Returns
    -------
    strand : {"mean", "forward"} or None
        The value to use.

    Raises
    ------
    ValueError
        If both are given.
    """
    if average_strands is None or (isinstance(average_strands, str)
                                   and average_strands == DEPRECATED):
        return strand
    if strand is not None:
        raise ValueError(f"{owner}: average_strands={average_strands!r} is the former name of "
                         f"strand={strand!r}: give strand only.")
    return renamed_strand(strand, "average_strands", average_strands, owner)


def _layer(model, name):
    """The layer ``name``; "outer.attribute" is a layer a wrapper holds (``bilstm.forward_layer``)."""
    outer, _, attribute = name.partition(".")
    layer = model.get_layer(outer)
    return getattr(layer, attribute) if attribute else layer


def _set_weights(path, model, layer_weights):
    """Set each layer's arrays, refusing one whose shape is not the layer's, naming the layer."""
    for name, arrays in layer_weights.items():
        layer = _layer(model, name)
        expected = [tuple(weight.shape) for weight in layer.weights]
        given = [tuple(array.shape) for array in arrays]
        if given != expected:
            raise ValueError(f"{path}: the weights for layer {name!r} have shapes {given}; the "
                             f"network built from the file's sizes expects {expected}.")
        layer.set_weights(arrays)


def fitted_estimator(path, params, sequence_length, target_names, layer_weights, *,
                     hidden_activation=None, **network_options):
    """A fitted estimator around the network of ``params`` holding the weights read from ``path``.

    Parameters
    ----------
    path : str
        The weights file, for the messages.
    params : dict
        The estimator's constructor parameters: ``architecture``, the sizes
        (``conv_filters``, ``kernel_size``, ``pool_size``, ``fc_units``,
        ``dropout``, DanQ's ``lstm_units``), ``alphabet``, ``strand``,
        ``batch_size``; the network is built with these sizes and the
        estimator's penalties.
    sequence_length : int
        The network's input length.
    target_names : ndarray of str
        One name per output.
    layer_weights : dict of str to list of ndarray
        Each layer's arrays in Keras layout and in the order of its
        ``weights``, by layer name; "outer.attribute" names a layer a wrapper
        holds (``"bilstm.forward_layer"``).
    hidden_activation : callable or None, default=None
        Replaces the ReLU of every layer that has one (Torch's threshold);
        None keeps ReLU.
    **network_options
        Passed on to :func:`skdeepsea.network.build_architecture`
        (``recurrent_activation``, ``backward_direction``).

    Returns
    -------
    estimator : DeepSEAClassifier
        Fitted, by :meth:`DeepSEAClassifier.from_keras`.

    Raises
    ------
    ValueError
        If an array's shape is not that of the layer it goes to (the layer
        named).
    """
    from ..classifier import DeepSEAClassifier

    estimator = DeepSEAClassifier(**params)
    model = build_architecture(
        params["architecture"], sequence_length, len(target_names),
        **{name: params[name] for name in SIZE_PARAMS if name in params},
        l2=estimator.l2, l1_sparsity=estimator.l1_sparsity,
        max_kernel_norm=estimator.max_kernel_norm, **network_options,
    )
    if hidden_activation is not None:
        for layer in model.layers:
            if getattr(layer, "activation", None) is keras.activations.relu:
                # Set before the first call: the functional graph calls it at run time, and
                # get_config (saving) serialises the registered function.
                layer.activation = hidden_activation
    _set_weights(path, model, layer_weights)
    return DeepSEAClassifier.from_keras(model, target_names=target_names,
                                        **estimator.get_params())
