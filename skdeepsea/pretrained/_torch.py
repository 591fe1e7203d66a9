"""The DeepSEA and Beluga weights of Torch: PyTorch state dicts and the Torch7 model file.

The readers return the arrays in Torch's layout; :func:`load_deepsea` converts
them to Keras' (kernel axes, base order, flatten order) and hands them to the
shared build path (:func:`skdeepsea.pretrained._build.fitted_estimator`).
"""

import functools
import os
from numbers import Integral

import numpy as np

from .._architectures import PUBLISHED_SEQUENCE_LENGTH, default_dropout, feature_length
from .._constraints import Boolean, Interval, Options, parameter_constraints
from .._strands import DEPRECATED
from ..network import torch_threshold
from ..preprocessing import channel_order
from ._build import IMPORT_CONSTRAINTS, fitted_estimator, import_strand
from ._files import deepsea_format
from ._names import _resolve_names
from ._registry import KNOWN_FILES, check_finite, verify_weights

TORCH_BASE_ORDER = "AGCT"


# Where each architecture's tensors sit in its PyTorch state dict: the keys of the first
# dense layer (that finds the prefix), of the convolutions in order, and of the output layer.
_STATE_DICT_LAYOUTS = {
    "beluga": {"fc": "model.1.2.1", "output": "model.1.4.1",
               "convs": tuple(f"model.0.{i}" for i in (0, 2, 6, 8, 12, 14))},
    "deepsea": {"fc": "12.1", "output": "14.1", "convs": ("0", "4", "8")},
}


def _layout_prefix(state, fc):
    """The prefixes ``p`` (empty or ending in '.') of the keys ``p + fc + '.weight'``."""
    suffix = f"{fc}.weight"
    return sorted(k[: -len(suffix)] for k in state if isinstance(k, str) and k.endswith(suffix)
                  and (len(k) == len(suffix) or k[-len(suffix) - 1] == "."))


def _read_state_dict(path):
    """The parameter arrays of a DeepSEA or Beluga PyTorch state dict, in Torch layout."""
    try:
        import torch
    except ImportError as e:
        raise ImportError(
            f"Reading {path} (a PyTorch state dict) needs PyTorch: pip install torch "
            "(the CPU build is enough), or import the Torch7 file deepsea.cpu instead."
        ) from e
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle and zip errors of any kind
        raise ValueError(f"{path} is not a PyTorch state dict torch.load can read: {e}") from e
    if not isinstance(state, dict):
        raise ValueError(  # noqa: TRY004 (a file of the wrong content, not a wrong argument)
            f"{path} holds a {type(state).__name__}, not a state dict (a dict of tensors)."
        )
    for architecture, layout in _STATE_DICT_LAYOUTS.items():
        prefixes = _layout_prefix(state, layout["fc"])
        if len(prefixes) == 1:
            break
    else:
        raise ValueError(
            f"{path} is in neither the layout of the DeepSEA model zoo conversion (exactly one "
            "'<prefix>12.1.weight' key: Linear layers at 12.1 and 14.1, Conv2d at 0, 4 and 8) "
            "nor Beluga's (exactly one '<prefix>model.1.2.1.weight': Linear layers at "
            "model.1.2.1 and model.1.4.1, Conv2d at model.0.{0,2,6,8,12,14}); "
            f"{len(state)} keys: {sorted(map(str, state))[:8]}..."
        )
    prefix = prefixes[0]

    def pair(index):
        arrays = []
        for kind in ("weight", "bias"):
            key = f"{prefix}{index}.{kind}"
            if key not in state:
                raise ValueError(f"{path} lacks the tensor {key!r} of the {architecture} layout.")
            arrays.append(check_finite(path, key, state[key].detach().cpu().numpy()
                                       .astype(np.float32)))
        return arrays

    convs = []
    for index in layout["convs"]:
        weight, bias = pair(index)
        if weight.ndim != 4 or weight.shape[2] != 1:
            raise ValueError(
                f"{path}: {prefix}{index}.weight has shape {weight.shape}; expected a Conv2d kernel "
                "(out, in, 1, width)."
            )
        convs.append((weight[:, :, 0, :], bias))  # (out, in, width)
    dense = [tuple(pair(layout["fc"])), tuple(pair(layout["output"]))]
    return {"convs": convs, "dense": dense, "threshold": 1e-6 if architecture == "deepsea" else 0.0,
            "prefix": prefix, "architecture": architecture}


def _field(module, name):
    """A field of a Torch7 module; None if absent (a module without fields reads as a list)."""
    fields = module._obj
    if not isinstance(fields, dict):
        return None
    return fields.get(name.encode(), fields.get(name))


def _torch7_leaves(obj, torchfile, seen):
    """The leaf nn modules of a Torch7 object, depth first, containers expanded."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, torchfile.TorchObject):
        modules = _field(obj, "modules")
        if modules is not None:
            for module in modules:
                yield from _torch7_leaves(module, torchfile, seen)
        else:
            yield obj.torch_typename().decode("latin-1"), obj
    elif isinstance(obj, list):
        for item in obj:
            yield from _torch7_leaves(item, torchfile, seen)
    elif isinstance(obj, dict):  # a wrapper table such as {model = ...}
        for key in (b"model", b"net", b"network", b"module"):
            if key in obj:
                yield from _torch7_leaves(obj[key], torchfile, seen)
                return


def _read_torch7(path):
    """The parameter arrays of the original Torch7 DeepSEA model, in Torch layout."""
    try:
        import torchfile
    except ImportError as e:
        raise ImportError(
            f"Reading {path} (a Torch7 model file) needs the torchfile package: "
            "pip install 'skdeepsea[pretrained]'."
        ) from e
    try:
        obj = torchfile.load(os.fspath(path))
    except Exception as e:  # struct, numpy and torchfile errors alike
        raise ValueError(f"{path} is not a Torch7 file torchfile can read: {e}") from e
    leaves = list(_torch7_leaves(obj, torchfile, set()))
    if not leaves:
        raise ValueError(f"{path} holds no Torch7 nn modules.")
    convs, dense, floors = [], [], set()
    for index, (name, module) in enumerate(leaves):
        field = functools.partial(_field, module)
        weight, bias = field("weight"), field("bias")
        for kind, values in (("weight", weight), ("bias", bias)):
            if values is not None and np.asarray(values).dtype.kind == "f":
                check_finite(path, f"{name} (module {index}) {kind}", np.asarray(values))
        if weight is not None and "Convolution" in name:
            n_out, n_in = int(field("nOutputPlane")), int(field("nInputPlane"))
            kh, kw = int(field("kH")), int(field("kW"))
            strides = (field("dH") or 1, field("dW") or 1)
            # DeepSEA's input is (N, 4, 1000, 1): the kernel runs along the height (8 x 1).
            # A 1 x 8 kernel over (N, 4, 1, 1000) holds the same numbers in the same order.
            if min(kh, kw) != 1 or strides != (1, 1):
                raise ValueError(
                    f"{path}: {name} has a {kh} x {kw} kernel with strides {strides}; "
                    "DeepSEA's convolutions are width x 1 (or 1 x width) with stride 1."
                )
            weight = np.asarray(weight, dtype=np.float32).reshape(n_out, n_in, kh * kw)
            convs.append((weight, np.asarray(bias, np.float32)))
        elif weight is not None and "Linear" in name:
            dense.append((np.asarray(weight, np.float32), np.asarray(bias, np.float32)))
        elif weight is not None:
            raise ValueError(f"{path}: unexpected module with weights: {name}.")
        elif name.endswith("Threshold"):
            if float(field("threshold")) != 0:
                raise ValueError(f"{path}: a Threshold at {field('threshold')}, not 0.")
            floors.add(float(field("val")))
        elif name.endswith("ReLU"):
            floors.add(0.0)
    if len(floors) > 1:
        raise ValueError(f"{path}: activations with different floors {sorted(floors)}.")
    if len(convs) != 3 or len(dense) != 2:
        raise ValueError(
            f"{path}: found {len(convs)} convolution(s) and {len(dense)} linear layer(s); the "
            "DeepSEA network has 3 and 2."
        )
    if leaves[-1][0] != "nn.Sigmoid":
        raise ValueError(
            f"{path}: the network ends with {leaves[-1][0]}, not nn.Sigmoid; DeepSEA's outputs "
            "are probabilities."
        )
    return {"convs": convs, "dense": dense, "threshold": floors.pop() if floors else 0.0,
            "prefix": None, "architecture": "deepsea"}


# ---------------------------------------------------------------------------------- conversion


def _source_strand(known, fmt, weights):
    """How the source predicts: the known file's entry, else told from the layout."""
    if known is not None:
        return KNOWN_FILES[known]["strand"]
    # Kipoi's prefixes: "2." wraps the network in strand averaging, "1." does not.
    averaged = fmt == "t7" or weights["prefix"] == "2." or weights["architecture"] == "beluga"
    return "mean" if averaged else "forward"


def _sizes(path, weights, sequence_length):
    """The network's sizes read from the Torch arrays, checked to chain; and the positions."""
    architecture = weights["architecture"]
    w1 = weights["convs"][0][0]
    (fc_w, _), (out_w, _) = weights["dense"]
    kernel_size = w1.shape[2]
    filters = tuple(int(w.shape[0]) for w, _ in weights["convs"])
    conv_filters = filters[1::2] if architecture == "beluga" else filters  # one per block
    if architecture == "beluga" and filters[0::2] != conv_filters:
        raise ValueError(f"{path}: Beluga's blocks pair convolutions of equal filter counts; "
                         f"the convolutions have {filters}.")
    if w1.shape[1] != 4:
        raise ValueError(f"{path}: the first convolution has {w1.shape[1]} input channels, not 4.")
    for (w, _), (prev, _) in zip(weights["convs"][1:], weights["convs"][:-1]):
        if w.shape[1] != prev.shape[0] or w.shape[2] != kernel_size:
            raise ValueError(f"{path}: convolution shapes {w.shape} after {prev.shape} do not chain.")
    if out_w.shape[1] != fc_w.shape[0]:
        raise ValueError(f"{path}: dense shapes {fc_w.shape} and {out_w.shape} do not chain.")
    positions = feature_length(architecture, sequence_length, len(conv_filters), kernel_size, 4)
    if positions * conv_filters[-1] != fc_w.shape[1]:
        raise ValueError(
            f"{path}: the first dense layer takes {fc_w.shape[1]} inputs, but sequences of length "
            f"{sequence_length} leave {positions} positions x {conv_filters[-1]} filters = "
            f"{positions * conv_filters[-1]} after the convolutions; pass the sequence_length the "
            "network was trained on."
        )
    sizes = {"architecture": architecture, "conv_filters": conv_filters,
             "kernel_size": int(kernel_size), "pool_size": 4, "fc_units": int(fc_w.shape[0]),
             "dropout": default_dropout(architecture, len(conv_filters))}
    return sizes, positions


def _keras_weights(weights, conv_filters, positions, alphabet):
    """Torch layouts -> Keras layouts, by layer name."""
    layers = {}
    for i, (w, b) in enumerate(weights["convs"]):
        kernel = np.transpose(w, (2, 1, 0))  # (out, in, width) -> (width, in, out)
        if i == 0:
            kernel = kernel[:, channel_order(TORCH_BASE_ORDER, alphabet), :]
        layers[f"conv{i + 1}"] = [kernel, b]
    (fc_w, fc_b), (out_w, out_b) = weights["dense"]
    fc_units = fc_w.shape[0]
    # Torch flattens (channels, positions); Keras (positions, channels).
    # Row c * positions + p of the transposed Torch weight becomes row p * filters + c.
    fc_kernel = np.ascontiguousarray(fc_w.T).reshape(conv_filters[-1], positions, fc_units)
    layers["fc"] = [fc_kernel.transpose(1, 0, 2).reshape(-1, fc_units), fc_b]
    layers["output"] = [out_w.T, out_b]
    return layers


@parameter_constraints({
    **IMPORT_CONSTRAINTS,
    "sequence_length": [Interval(Integral, 1, None), None],
    "activation": [Options(str, ("threshold", "relu"))],
    "verify": [Boolean()],
    # Deprecated; None was its default in 0.1 ("as the source does").
    "average_strands": [*IMPORT_CONSTRAINTS["average_strands"], None],
})
def load_deepsea(
    path,
    target_names=None,
    *,
    alphabet="ATGC",
    strand=None,
    sequence_length=None,
    activation="threshold",
    verify=True,
    batch_size=64,
    average_strands=DEPRECATED,
):
    """Import the published DeepSEA or Beluga weights into a fitted :class:`DeepSEAClassifier`.

    The network is told from the file: DeepSEA's layout gives
    ``architecture="deepsea"``, Beluga's ``architecture="beluga"``.

    Parameters
    ----------
    path : str or path-like
        ``deepsea_predict.pth`` or ``deepsea_variant_effects.pth`` (the model
        zoo's PyTorch conversion; needs PyTorch), the Torch7 model
        ``deepsea.cpu`` of the DeepSEA v0.94 package (needs ``torchfile``),
        or Beluga's ``deepsea.beluga.pth`` (ExPecto, Kipoi; needs PyTorch).
        PyTorch files are told by their content (:func:`model_file_kind`),
        whatever their name; other files named ``.t7``/``.cpu``/``.th``/
        ``.net`` are read as Torch7.
    target_names : str, path-like, sequence of str or None, default=None
        The names file (or the names themselves), one per output: DeepSEA's
        ``predictor.names`` (``Cell|Feature|Treatment``), or a file of one
        name per line (Kipoi's ``predictor_names.txt`` of Beluga's 2,002
        profiles). None: the ``predictor.names`` (or else
        ``predictor_names.txt``) file beside ``path`` if there is one, else
        ``target_0``, ... with a warning.
    alphabet : str, default="ATGC"
        Base order of the estimator's input (``alphabet_``): the first
        convolution's input channels are permuted from the weights' A, G, C,
        T to this order. "ATGC" is :class:`skdeepsea.OneHotDNA`'s default.
    strand : {"mean", "forward"} or None, default=None
        The estimator's ``strand``: "mean" averages each prediction with the
        reverse complement's, "forward" predicts the given strand only.
        None: as the source does ("mean" for ``deepsea_predict.pth`` and the
        Torch7 file, whose package averages, and for Beluga, whose
        predictions ExPecto averages; "forward" for
        ``deepsea_variant_effects.pth`` and other DeepSEA state dicts).
    sequence_length : int or None, default=None
        Input length the weights were trained on; checked against the width
        of the first dense layer (50,880 = 53 x 960 for 1000 bp; Beluga's
        67,840 = 106 x 640 for 2000 bp). None: 1000 for DeepSEA, 2000 for
        Beluga.
    activation : {"threshold", "relu"}, default="threshold"
        "threshold": Torch's ``Threshold(0, 1e-6)`` exactly, as
        :func:`torch_threshold`, so the outputs are the original network's.
        "relu": plain ReLU, the estimator's own activation (outputs then
        differ slightly; see docs/pretrained.md).
    verify : bool, default=True
        Check the file against ``KNOWN_FILES`` (size and checksums) first;
        False for a conversion of your own.
    batch_size : int, default=64
        The estimator's ``batch_size`` (sequences per forward pass).
    average_strands : bool or None
        Deprecated (removed in 0.3): the former name of ``strand``; True is
        "mean", False "forward" (with a ``FutureWarning``), None ``strand=None``.

    Returns
    -------
    estimator : DeepSEAClassifier
        Fitted: ``model_`` holds the network (919 sigmoid outputs for the
        published DeepSEA files, 2,002 for Beluga), ``target_names_`` the names, ``classes_``
        ``arange(n_outputs)``, ``target_type_`` "multilabel-indicator",
        ``alphabet_``, ``sequence_length_``, ``n_features_in_``; its
        ``history_`` is empty.

    Raises
    ------
    ValueError
        ``"load_deepsea: <name> must be ..., got <value>."`` for a parameter
        of the wrong type or value, before the file is read. If the file
        fails verification, is in neither the DeepSEA nor the
        Beluga layout, holds NaN or infinite weights (the array named), is
        not a weights file (a ``.skdeepsea`` model, DanQ's HDF5), the names
        do not match the outputs in number, or both ``strand`` and
        ``average_strands`` are given.
    FileNotFoundError
        If ``path`` is not a file.
    ImportError
        If PyTorch (state dicts) or torchfile (Torch7) is missing.

    Examples
    --------
    >>> from skdeepsea.pretrained import load_deepsea
    >>> clf = load_deepsea("deepsea_predict.pth", "predictor.names")  # doctest: +SKIP
    >>> clf.predict_proba(X).shape  # X: (n, 1000, 4) one-hot in "ATGC" order  # doctest: +SKIP
    (n, 919)
    """
    path = os.fspath(path)
    alphabet = alphabet.upper()
    strand = import_strand(strand, average_strands, "load_deepsea")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    fmt = deepsea_format(path)
    known = verify_weights(path) if verify else None
    weights = _read_state_dict(path) if fmt == "pth" else _read_torch7(path)
    if sequence_length is None:
        sequence_length = PUBLISHED_SEQUENCE_LENGTH[weights["architecture"]]
    sizes, positions = _sizes(path, weights, sequence_length)
    names = _resolve_names(target_names, path, int(weights["dense"][1][0].shape[0]))
    floor = weights["threshold"] if activation == "threshold" else 0.0
    if floor != 0.0 and not np.isclose(floor, 1e-6, rtol=1e-6, atol=0):
        raise ValueError(f"{path}: Threshold floor {floor}; only 1e-6 (DeepSEA) or 0 (ReLU) are "
                         "supported.")
    params = dict(sizes, alphabet=alphabet, batch_size=batch_size,
                  strand=strand or _source_strand(known, fmt, weights))
    return fitted_estimator(
        path, params, sequence_length, names,
        _keras_weights(weights, sizes["conv_filters"], positions, alphabet),
        hidden_activation=torch_threshold if floor != 0.0 else None,
    )
