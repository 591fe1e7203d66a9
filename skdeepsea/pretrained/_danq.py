"""DanQ's published weights: the HDF5 file of Keras 0.2's ``save_weights`` (``DanQ_bestmodel.hdf5``).

The reader checks the file's layout and every array's shape; :func:`load_danq`
converts the arrays to Keras 3's layout (flipped kernels, gate order, folded
dropout) and hands them to the shared build path
(:func:`skdeepsea.pretrained._build.fitted_estimator`).
"""

import os
from numbers import Integral, Real

import numpy as np

from .._architectures import feature_length
from .._constraints import Interval, Options, Satisfies, parameter_constraints
from .._strands import DEPRECATED
from ..preprocessing import channel_order
from ._build import IMPORT_CONSTRAINTS, fitted_estimator, import_strand
from ._files import model_file_kind, refuse_model_file
from ._names import _resolve_names
from ._registry import check_finite

# DanQ read DeepSEA's training bundle as stored (skdeepsea.data.BUNDLE_ALPHABET).
DANQ_BASE_ORDER = "AGCT"

# Keras 0.2's LSTM stores its weights gate by gate, in this order (LSTM.params); Keras 3
# concatenates the gates' columns in the order i, f, c, o.
_KERAS02_LSTM_GATES = ("i", "c", "f", "o")
_KERAS3_LSTM_GATES = ("i", "f", "c", "o")


def _read_keras02(path):
    """The parameter arrays of DanQ's Keras 0.2 ``save_weights`` file, layer by layer.

    Returns the layers that have parameters, in order: ``[(k, [param_0, ...]), ...]``.
    """
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise ValueError(f"{path} is not an HDF5 file h5py can read: {e}") from e
    with f:
        if "nb_layers" not in f.attrs:
            raise ValueError(
                f"{path} has no 'nb_layers' attribute: not a weights file of Keras 0.2's "
                "Sequential.save_weights (DanQ_bestmodel.hdf5's format)."
            )
        layers = []
        for k in range(int(f.attrs["nb_layers"])):
            name = f"layer_{k}"
            if name not in f or "nb_params" not in f[name].attrs:
                raise ValueError(f"{path}: group {name!r} (with attribute nb_params) is missing.")
            group = f[name]
            params = []
            for n in range(int(group.attrs["nb_params"])):
                if f"param_{n}" not in group:
                    raise ValueError(f"{path}: dataset {name}/param_{n} is missing.")
                params.append(check_finite(path, f"{name}/param_{n}",
                                           np.asarray(group[f"param_{n}"], dtype=np.float32)))
            if params:
                layers.append((k, params))
    return layers


def _check_shape(path, where, array, shape):
    if array.shape != tuple(shape):
        raise ValueError(f"{path}: {where} has shape {array.shape}; expected {tuple(shape)}.")


def _danq_arrays(path):
    """DanQ's convolution, two LSTMs and two dense layers from the Keras 0.2 file, checked."""
    layers = _read_keras02(path)
    counts = [len(params) for _, params in layers]
    if counts != [2, 24, 2, 2]:
        raise ValueError(
            f"{path}: layers with parameters {[k for k, _ in layers]} hold {counts} arrays; "
            "DanQ's layout is a Convolution1D (2), a bidirectional LSTM (24: 12 per direction), "
            "and two Dense layers (2 each)."
        )
    (k_conv, (conv_w, conv_b)), (k_lstm, lstm), (k_fc, (fc_w, fc_b)), (k_out, (out_w, out_b)) = layers
    if conv_w.ndim != 4 or conv_w.shape[3] != 1 or conv_w.shape[1] != 4:
        raise ValueError(
            f"{path}: layer_{k_conv}/param_0 has shape {conv_w.shape}; expected Keras 0.2's "
            "Convolution1D kernel (filters, 4, width, 1)."
        )
    filters = conv_w.shape[0]
    _check_shape(path, f"layer_{k_conv}/param_1", conv_b, (filters,))
    units = lstm[1].shape[0]
    directions = []
    for d in range(2):
        gates = {}
        for g, gate in enumerate(_KERAS02_LSTM_GATES):
            w, u, b = lstm[12 * d + 3 * g: 12 * d + 3 * g + 3]
            where = f"layer_{k_lstm}/param_{12 * d + 3 * g}"
            _check_shape(path, where, w, (filters, units))
            _check_shape(path, f"layer_{k_lstm}/param_{12 * d + 3 * g + 1}", u, (units, units))
            _check_shape(path, f"layer_{k_lstm}/param_{12 * d + 3 * g + 2}", b, (units,))
            gates[gate] = (w, u, b)
        directions.append(gates)
    if fc_w.ndim != 2 or fc_w.shape[0] % (2 * units):
        raise ValueError(
            f"{path}: layer_{k_fc}/param_0 has shape {fc_w.shape}; expected (positions x "
            f"{2 * units}, units) after a bidirectional LSTM of {units} units each way."
        )
    _check_shape(path, f"layer_{k_fc}/param_1", fc_b, (fc_w.shape[1],))
    if out_w.ndim != 2 or out_w.shape[0] != fc_w.shape[1]:
        raise ValueError(f"{path}: dense shapes {fc_w.shape} and {out_w.shape} do not chain.")
    _check_shape(path, f"layer_{k_out}/param_1", out_b, (out_w.shape[1],))
    return {"conv": (conv_w, conv_b), "lstm": directions, "fc": (fc_w, fc_b),
            "output": (out_w, out_b), "units": units, "filters": filters}


def _keras3_lstm(gates, input_scale):
    """Keras 3 LSTM weights [kernel, recurrent_kernel, bias] from Keras 0.2's per-gate arrays."""
    kernel = np.concatenate([gates[g][0] for g in _KERAS3_LSTM_GATES], axis=1) * input_scale
    recurrent = np.concatenate([gates[g][1] for g in _KERAS3_LSTM_GATES], axis=1)
    bias = np.concatenate([gates[g][2] for g in _KERAS3_LSTM_GATES])
    return [kernel.astype(np.float32), recurrent, bias]



def _keras_weights(arrays, alphabet, dropout, backward_direction):
    """Keras 0.2 layouts -> Keras 3 layouts, by layer name (see :func:`load_danq`)."""
    conv_w, conv_b = arrays["conv"]
    # (filters, in, width, 1) -> (width, in, filters), flipped: Theano convolved, Keras correlates.
    kernel = np.transpose(conv_w[:, :, ::-1, 0], (2, 1, 0))
    kernel = kernel[:, channel_order(DANQ_BASE_ORDER, alphabet), :]
    lstm_names = ("lstm_forward", "lstm_backward")
    if backward_direction == "reversed":  # the two LSTMs sit inside Keras' Bidirectional
        lstm_names = ("bilstm.forward_layer", "bilstm.backward_layer")
    fc_w, fc_b = arrays["fc"]
    return {
        "conv1": [np.ascontiguousarray(kernel), conv_b],
        **{name: _keras3_lstm(gates, 1.0 - dropout[0])
           for name, gates in zip(lstm_names, arrays["lstm"])},
        "fc": [fc_w * np.float32(1.0 - dropout[1]), fc_b],
        "output": list(arrays["output"]),
    }


def _two_rates(value):
    rate = Interval(Real, 0, 1, closed="left")
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and all(rate.accepts(r) for r in value))


@parameter_constraints({
    **IMPORT_CONSTRAINTS,
    "sequence_length": [Interval(Integral, 1, None)],
    "pool_size": [Interval(Integral, 1, None)],
    "dropout": [Satisfies(_two_rates, "two rates in [0, 1) (a tuple)")],
    "backward_direction": [Options(str, ("forward", "reversed"))],
})
def load_danq(
    path,
    target_names=None,
    *,
    alphabet="ATGC",
    strand=None,
    sequence_length=1000,
    pool_size=13,
    dropout=(0.2, 0.5),
    backward_direction="forward",
    batch_size=64,
    average_strands=DEPRECATED,
):
    """Import DanQ's published weights into a fitted :class:`DeepSEAClassifier`.

    Reads ``DanQ_bestmodel.hdf5`` (Quang & Xie 2016, github uci-cbcl/DanQ):
    the HDF5 file of Keras 0.2's ``Sequential.save_weights`` on Theano, and
    returns an estimator with ``architecture="danq"`` whose predictions are
    those of DanQ's own ``DanQ_test.py``. What the conversion reconciles:

    - kernels: Keras 0.2's Convolution1D kernel ``(filters, 4, width, 1)``
      ran through Theano's ``conv2d`` (and cuDNN's in its default ``conv``
      mode), a true convolution that flips the kernel; it is flipped along
      the width for Keras 3's cross-correlation, and its input channels
      permuted from the bundle's A, G, C, T (:data:`DANQ_BASE_ORDER`) to
      ``alphabet``;
    - LSTM: Keras 0.2 keeps ``W, U, b`` per gate in the order i, c, f, o;
      Keras 3 one kernel with the gates' columns in the order i, f, c, o.
      The gates are Theano's ``hard_sigmoid`` (``clip(0.2 x + 0.5, 0, 1)``,
      the :func:`skdeepsea.network.theano_hard_sigmoid` activation), not
      Keras 3's sigmoid or its ``hard_sigmoid``;
    - dropout: Keras 0.2 dropped units while training without rescaling and
      multiplied by ``1 - rate`` at prediction; Keras 3 rescales while
      training and passes values through at prediction. The factors
      ``1 - dropout[0]`` (0.8) and ``1 - dropout[1]`` (0.5) are folded into
      the LSTM's input kernels and the first dense layer's kernel;
    - seya's ``Bidirectional``: it hands the backward LSTM its input with
      ``X[::-1]`` and reverses its output the same way, both on the batch
      axis of Keras 0.2's (samples, steps, features) tensors, so the
      "backward" LSTM reads each sequence in order like the forward one
      (``backward_direction="forward"``; the seya maintainers confirmed the
      batch-axis reversal in seya issue 32). DanQ shipped a modified seya
      (DanQ_seya.tar.gz) whose source this import could not inspect;
      ``backward_direction="reversed"`` imports the second LSTM as a true
      backward LSTM, for a copy in which that was changed;
    - the flatten order (positions, then the 320 forward and 320 backward
      features) and Dense kernels ``(inputs, units)`` are Keras 3's already.

    The file's checksum is not verified: no public source gives the md5 or
    size of ``DanQ_bestmodel.hdf5`` (DanQ's repository only links it), and
    none is made up here; the layout and every array's shape are checked.

    Parameters
    ----------
    path : str or path-like
        ``DanQ_bestmodel.hdf5`` or a file in its layout (layers with
        parameters: a Convolution1D, seya's bidirectional LSTM of 24 arrays,
        two Dense).
    target_names : str, path-like, sequence of str or None, default=None
        The names file (DeepSEA's ``predictor.names``: DanQ predicts
        DeepSEA's 919 targets in its order) or the names; None: the
        ``predictor.names`` file beside ``path`` if there is one, else
        ``target_0``, ... with a warning.
    alphabet : str, default="ATGC"
        Base order of the estimator's input (``alphabet_``).
    strand : {"mean", "forward"} or None, default=None
        The estimator's ``strand``: "mean" averages each prediction with the
        reverse complement's, "forward" predicts the given strand only.
        None: as the source does, "forward" (DanQ's ``DanQ_test.py``
        predicts the given strand only).
    sequence_length : int, default=1000
        Input length the weights were trained on; checked against the width
        of the first dense layer (48,000 = 75 positions x 640 for 1000 bp).
    pool_size : int, default=13
        Width and step of DanQ's max pooling (not stored in the file).
    dropout : tuple of two float, default=(0.2, 0.5)
        The rates DanQ was trained with (not stored in the file): after the
        pooling and after the LSTM; they set the folded factors and the
        estimator's ``dropout``.
    backward_direction : {"forward", "reversed"}, default="forward"
        How the second LSTM reads the positions: "forward", as seya's
        published ``Bidirectional`` computes it; "reversed", a true
        backward LSTM.
    batch_size : int, default=64
        The estimator's ``batch_size``.
    average_strands : bool
        Deprecated (removed in 0.3): the former name of ``strand``; True is
        "mean", False "forward" (with a ``FutureWarning``).

    Returns
    -------
    estimator : DeepSEAClassifier
        Fitted, ``architecture="danq"``; ``model_`` holds the network (919
        sigmoid outputs for the published file), ``target_names_`` the names,
        ``classes_`` ``arange(n_outputs)``, ``alphabet_``,
        ``sequence_length_``, ``n_features_in_``; ``history_`` is empty.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        ``"load_danq: <name> must be ..., got <value>."`` for a parameter of
        the wrong type or value (``sequence_length`` and ``pool_size`` not
        positive integers, ``dropout`` not two rates), before the file is
        read. If the file is not in Keras 0.2's layout, its arrays are not
        DanQ's shapes or holds NaN or infinite values (the array named),
        ``sequence_length`` and ``pool_size`` do not give the first dense
        layer's width, the names do not match the outputs, or both
        ``strand`` and ``average_strands`` are given.

    Examples
    --------
    >>> from skdeepsea.pretrained import load_danq
    >>> clf = load_danq("DanQ_bestmodel.hdf5", "predictor.names")  # doctest: +SKIP
    >>> clf.predict_proba(X).shape  # X: (n, 1000, 4) one-hot in "ATGC" order  # doctest: +SKIP
    (n, 919)
    """
    path = os.fspath(path)
    alphabet = alphabet.upper()
    strand = import_strand(strand, average_strands, "load_danq") or "forward"
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    refuse_model_file(path, model_file_kind(path), "DanQ's weights")
    dropout = tuple(float(rate) for rate in dropout)
    arrays = _danq_arrays(path)
    fc_w, (out_w, _) = arrays["fc"][0], arrays["output"]
    units, kernel_size = int(arrays["units"]), arrays["conv"][0].shape[2]
    positions = feature_length("danq", sequence_length, 1, kernel_size, pool_size)
    if positions * 2 * units != fc_w.shape[0]:
        raise ValueError(
            f"{path}: the first dense layer takes {fc_w.shape[0]} inputs, but sequences of "
            f"length {sequence_length} leave {positions} positions x {2 * units} LSTM outputs "
            f"= {positions * 2 * units} after a width-{kernel_size} convolution and pooling "
            f"{pool_size}; pass the sequence_length and pool_size the network was trained with."
        )
    names = _resolve_names(target_names, path, int(out_w.shape[1]))
    params = {"architecture": "danq", "conv_filters": (int(arrays["filters"]),),
              "kernel_size": int(kernel_size), "pool_size": int(pool_size), "lstm_units": units,
              "fc_units": int(fc_w.shape[1]), "dropout": dropout, "alphabet": alphabet,
              "strand": strand, "batch_size": batch_size}
    return fitted_estimator(
        path, params, int(sequence_length), names,
        _keras_weights(arrays, alphabet, dropout, backward_direction),
        recurrent_activation="theano_hard_sigmoid", backward_direction=backward_direction,
    )
