"""The published DeepSEA and Beluga weights as a fitted :class:`DeepSEAClassifier`.

Three sources are read:

- the PyTorch state dicts of the model zoo's conversion (Kipoi,
  ``deepsea_predict.pth`` and ``deepsea_variant_effects.pth``): a
  ``torch.nn.Sequential`` with ``Conv2d`` layers of (1, 8) kernels at indices
  0, 4 and 8 and ``Linear`` layers at 12.1 and 14.1, under a prefix that
  differs per file ("2." and "1."); read with ``torch.load(weights_only=True)``
  (PyTorch is needed for these files only);
- the PyTorch state dict of Beluga, ExPecto's DeepSEA (``deepsea.beluga.pth``
  of ExPecto's resources and Kipoi's ``DeepSEA/beluga``): the ``Beluga``
  module of ExPecto's ``chromatin.py``, ``Conv2d`` layers of (1, 8) kernels at
  ``model.0.{0,2,6,8,12,14}`` and ``Linear`` layers at ``model.1.2.1`` and
  ``model.1.4.1``, imported as ``architecture="beluga"`` (2,000 bp, 2,002
  outputs);
- the original Torch7 model file of the DeepSEA v0.94 package
  (``deepsea.cpu``), read with the ``torchfile`` package (the ``pretrained``
  extra).

What the conversion reconciles (details in docs/pretrained.md):

- base order: the weights read A, G, C, T; the first convolution's input
  channels are permuted to the estimator's ``alphabet`` (default "ATGC",
  that of :class:`skdeepsea.OneHotDNA`), so no input needs re-encoding;
- kernels: Conv2d ``(out, in, 1, 8)`` (Torch7: ``(out, in, 8, 1)`` or
  ``(out, in * 8)``) becomes a Conv1D kernel ``(8, in, out)``;
- flatten order: Torch flattens the last convolution's ``960 x 53`` output
  (Beluga: ``640 x 106``) channel-major, channels-last Keras position-major;
  the rows of the 50,880-wide (67,840-wide) dense layer are reordered
  accordingly;
- activation: Torch's ``Threshold(0, 1e-6)`` (1e-6, not 0, for inputs <= 0)
  is reproduced exactly by the registered activation :func:`torch_threshold`
  (defined with the network in :mod:`skdeepsea.network`; ``activation="relu"``
  gives plain ReLU instead);
- strands: the "predict" file averages each sequence's predictions with its
  reverse complement's (``average_strands=True``), the "variantEffects" file
  does not; the Torch7 model itself does not either, but the DeepSEA package
  averages its outputs, so it is imported with ``average_strands=True``;
  Beluga's predictions are averaged over both strands by ExPecto, and its
  file is imported with ``average_strands=True`` too.

DanQ's published weights (``DanQ_bestmodel.hdf5``, Quang & Xie 2016) are read
by :func:`load_danq`: an HDF5 file of Keras 0.2's ``save_weights`` (attribute
``nb_layers``, groups ``layer_{k}`` with attribute ``nb_params`` and datasets
``param_{n}``), written on Theano. What that conversion reconciles is listed
in :func:`load_danq` and docs/pretrained.md.
"""

import functools
import hashlib
import os
import warnings
import zipfile

import keras
import numpy as np

from ._architectures import PUBLISHED_SEQUENCE_LENGTH, default_dropout, feature_length
from ._validation import check_number
from .exceptions import reading_text
from .network import build_architecture, build_danq, torch_threshold
from .preprocessing import channel_order, check_alphabet
from .targets import read_target_names

__all__ = [
    "DANQ_BASE_ORDER",
    "KNOWN_FILES",
    "TORCH_BASE_ORDER",
    "is_danq_file",
    "load_danq",
    "load_deepsea",
    "load_model_file",
    "model_file_kind",
    "torch_threshold",
    "verify_weights",
]

TORCH_BASE_ORDER = "AGCT"
# DanQ read DeepSEA's training bundle as stored (skdeepsea.data.BUNDLE_ALPHABET).
DANQ_BASE_ORDER = "AGCT"
NAMES_FILE = "predictor.names"
KIPOI_NAMES_FILE = "predictor_names.txt"  # Kipoi's Beluga names, one per line

# The published files this module accepts without verify=False. A value of None is not known
# (no public source gives it) and is not checked; each entry has at least one published hash.
KNOWN_FILES = {
    "deepsea_predict.pth": {
        "description": "Kipoi DeepSEA/predict: PyTorch conversion of DeepSEA v0.94, strands averaged",
        "source": "https://zenodo.org/record/1466993/files/deepsea_predict.pth",
        "size": None,
        "md5": "89e640bf6bdbe1ff165f484d9796efc7",  # Kipoi models, DeepSEA/predict/model.yaml
        "sha256": None,
        "format": "pth",
        "average_strands": True,
    },
    "deepsea_variant_effects.pth": {
        "description": "Kipoi DeepSEA/variantEffects: the same weights, strands not averaged",
        "source": "https://zenodo.org/record/1466993/files/deepsea_variant_effects.pth",
        "size": None,
        "md5": "35956ab9c28960b5a3693f470fe980c1",  # Kipoi models, DeepSEA/variantEffects/model.yaml
        "sha256": None,
        "format": "pth",
        "average_strands": False,
    },
    "deepsea.cpu": {
        "description": "DeepSEA v0.94b package: the original Torch7 model (DeepSEA-v0.94b/deepsea.cpu)",
        "source": "deepsea.v0.94b.tar.gz from the DeepSEA website, member DeepSEA-v0.94b/deepsea.cpu",
        "size": None,
        "md5": None,
        # As recorded by the MultiMolecule project's fixture generator for that file.
        "sha256": "2af6abe4f422839c56ddbb9f9b14771a62ec49378903035c4212acdd1a370129",
        "format": "t7",
        "average_strands": True,
    },
    "deepsea.beluga.pth": {
        "description": "Beluga (ExPecto's DeepSEA, 2,000 bp, 2,002 profiles): ExPecto's resources, "
                       "Kipoi DeepSEA/beluga",
        "source": "https://zenodo.org/record/3402406/files/deepsea.beluga.pth",
        "size": None,
        "md5": "62360f2db4ac96554d28d058b50ab654",  # Kipoi models, DeepSEA/beluga/model.yaml
        "sha256": None,
        "format": "pth",
        "average_strands": True,
    },
}

_TORCH7_SUFFIXES = (".t7", ".cpu", ".th", ".net")
_PTH_SUFFIXES = (".pth", ".pt")


# ---------------------------------------------------------------------------------- verification


def _file_hashes(path):
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


def verify_weights(path, known=None):
    """Check a weights file against the published files by size and checksums.

    The file matches an entry of ``KNOWN_FILES`` when its size (where known)
    and every known checksum (md5, sha256) agree. A file named like a known
    file must match that entry; a file of another name may match any entry
    (a renamed copy).

    Parameters
    ----------
    path : str or path-like
        The weights file.
    known : dict or None, default=None
        The table to check against; None uses ``KNOWN_FILES``.

    Returns
    -------
    name : str
        The key of the matching entry.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file matches no entry; the message gives its size and
        checksums and how to import a file of your own (``verify=False``).

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea.pretrained import verify_weights
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.pth")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"weights")
    >>> table = {"weights.pth": {"size": 7, "md5": "63f4f1e9b725370f459720575cd5f953",
    ...                          "sha256": None}}
    >>> verify_weights(path, known=table)
    'weights.pth'
    """
    known = KNOWN_FILES if known is None else known
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    size = os.path.getsize(path)
    md5, sha256 = _file_hashes(path)

    def matches(entry):
        return (
            (entry.get("size") is None or entry["size"] == size)
            and (entry.get("md5") is None or entry["md5"] == md5)
            and (entry.get("sha256") is None or entry["sha256"] == sha256)
            and any(entry.get(k) is not None for k in ("size", "md5", "sha256"))
        )

    base = os.path.basename(path)
    if base in known:
        if matches(known[base]):
            return base
        candidates = [base]
    else:
        for name, entry in known.items():
            if matches(entry):
                return name
        candidates = list(known)
    expected = "; ".join(
        f"{name}: " + ", ".join(
            f"{k} {known[name][k]}" for k in ("size", "md5", "sha256")
            if known[name].get(k) is not None
        )
        for name in candidates
    )
    raise ValueError(
        f"{path} (size {size} bytes, md5 {md5}, sha256 {sha256}) is not a published DeepSEA "
        f"weights file this version knows ({expected}). If it is damaged, download it again; "
        "if it is a conversion of your own, import it with load_deepsea(..., verify=False) "
        "(skdeepsea import-weights --no-verify)."
    )


# ---------------------------------------------------------------------------------- readers


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


def _check_finite(path, where, array):
    """Refuse weights holding NaN or inf (a damaged or diverged file), naming the array."""
    bad = ~np.isfinite(array)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{path}: {where} holds {int(bad.sum())} NaN or infinite value(s) (the first, "
            f"{array[first]}, at index {first}); a network with them predicts NaN. Download "
            "the file again, or check the conversion that wrote it."
        )
    return array


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
            arrays.append(_check_finite(path, key, state[key].detach().cpu().numpy()
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
                _check_finite(path, f"{name} (module {index}) {kind}", np.asarray(values))
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


def _weights_format(path):
    """"pth" or "t7" for load_deepsea, told from the content; other files refused by kind."""
    kind = model_file_kind(path)
    if kind in ("pth", "torch7"):
        return "pth" if kind == "pth" else "t7"
    if kind == "skdeepsea":
        raise ValueError(f"{path} is a skdeepsea model file (a zip archive), not published "
                         "weights: load it with skdeepsea.load.")
    if kind == "danq":
        raise ValueError(f"{path} is an HDF5 file: DanQ's weights are read by load_danq "
                         "(skdeepsea.load and import-weights choose it themselves).")
    raise ValueError(
        f"{path}: cannot tell the weights format from the content or the name; expected a "
        f"PyTorch state dict ({', '.join(_PTH_SUFFIXES)}) or a Torch7 file "
        f"({', '.join(_TORCH7_SUFFIXES)})."
    )


def _read_names(path):
    """A names file: ``predictor.names`` (Cell|Feature|Treatment, checked), or one name a line.

    Kipoi's Beluga names (``predictor_names.txt``) join the fields with
    underscores; a file whose first line has no ``|`` is read line by line.
    """
    with open(path, encoding="utf-8") as f, reading_text(path, "target names"):
        first = f.readline()
    if "|" in first:
        return read_target_names(path)
    with open(path, encoding="utf-8") as f, reading_text(path, "target names"):
        names = [line.rstrip("\r\n") for line in f]
    while names and not names[-1]:
        names.pop()
    for number, name in enumerate(names, start=1):
        if not name:
            raise ValueError(f"{os.fspath(path)}, line {number}: empty line among the target names.")
    return np.array(names)


def _resolve_names(target_names, path, n_outputs):
    if target_names is None:
        folder = os.path.dirname(os.path.abspath(path))
        beside = [os.path.join(folder, name) for name in (NAMES_FILE, KIPOI_NAMES_FILE)]
        beside = [name for name in beside if os.path.isfile(name)]
        if beside:
            target_names = beside[0]
        else:
            warnings.warn(
                f"No target names given and no {NAMES_FILE} (or {KIPOI_NAMES_FILE}) beside "
                f"{path}: the outputs are named "
                "target_0, target_1, ... Pass target_names= (the predictor.names file) to name "
                "them.",
                UserWarning,
                stacklevel=3,
            )
            return np.array([f"target_{i}" for i in range(n_outputs)])
    if isinstance(target_names, (str, os.PathLike)):
        names = _read_names(target_names)
        source = os.fspath(target_names)
    else:
        names = np.array([str(n) for n in target_names])
        source = "target_names"
    if len(names) != n_outputs:
        raise ValueError(
            f"{source} has {len(names)} names but the network in {path} has {n_outputs} outputs."
        )
    return names


def _sequence_length_for(path, architecture, fc_inputs, last_filters, sequence_length, n_blocks,
                         kernel_size):
    positions = feature_length(architecture, sequence_length, n_blocks, kernel_size, 4)
    if positions * last_filters != fc_inputs:
        raise ValueError(
            f"{path}: the first dense layer takes {fc_inputs} inputs, but sequences of length "
            f"{sequence_length} leave {positions} positions x {last_filters} filters = "
            f"{positions * last_filters} after the convolutions; pass the sequence_length the "
            "network was trained on."
        )
    return positions


def load_deepsea(
    path,
    target_names=None,
    *,
    alphabet="ATGC",
    average_strands=None,
    sequence_length=None,
    activation="threshold",
    verify=True,
    batch_size=64,
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
    average_strands : bool or None, default=None
        Average each prediction with the reverse complement's. None: as the
        source does (True for ``deepsea_predict.pth`` and the Torch7 file,
        whose package averages, and for Beluga, whose predictions ExPecto
        averages; False for ``deepsea_variant_effects.pth`` and other DeepSEA
        state dicts).
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
        If the file fails verification, is in neither the DeepSEA nor the
        Beluga layout, holds NaN or infinite weights (the array named), is
        not a weights file (a ``.skdeepsea`` model, DanQ's HDF5), or the
        names do not match the outputs in number.
    ImportError
        If PyTorch (state dicts) or torchfile (Torch7) is missing.

    Examples
    --------
    >>> from skdeepsea.pretrained import load_deepsea
    >>> clf = load_deepsea("deepsea_predict.pth", "predictor.names")  # doctest: +SKIP
    >>> clf.predict_proba(X).shape  # X: (n, 1000, 4) one-hot in "ATGC" order  # doctest: +SKIP
    (n, 919)
    """
    from .classifier import DeepSEAClassifier

    path = os.fspath(path)
    alphabet = check_alphabet(alphabet)
    if activation not in ("threshold", "relu"):
        raise ValueError(f"activation must be 'threshold' or 'relu', got {activation!r}.")
    check_number("sequence_length", sequence_length, low=1, integer=True, allow_none=True)
    check_number("batch_size", batch_size, low=1, integer=True)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    fmt = _weights_format(path)
    known = verify_weights(path) if verify else None
    weights = _read_state_dict(path) if fmt == "pth" else _read_torch7(path)
    if average_strands is None:
        if known is not None:
            average_strands = KNOWN_FILES[known]["average_strands"]
        else:  # Kipoi's prefixes: "2." wraps the network in strand averaging, "1." does not
            average_strands = (fmt == "t7" or weights["prefix"] == "2."
                               or weights["architecture"] == "beluga")
    architecture = weights["architecture"]
    if sequence_length is None:
        sequence_length = PUBLISHED_SEQUENCE_LENGTH[architecture]

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
    positions = _sequence_length_for(
        path, architecture, fc_w.shape[1], conv_filters[-1], sequence_length, len(conv_filters),
        kernel_size,
    )
    n_outputs, fc_units = int(out_w.shape[0]), int(fc_w.shape[0])
    names = _resolve_names(target_names, path, n_outputs)

    dropout = default_dropout(architecture, len(conv_filters))
    clf = DeepSEAClassifier(
        architecture=architecture,
        conv_filters=conv_filters,
        kernel_size=int(kernel_size),
        pool_size=4,
        fc_units=fc_units,
        dropout=dropout,
        alphabet=alphabet,
        strand="mean" if average_strands else "forward",
        batch_size=batch_size,
    )
    model = build_architecture(
        architecture,
        sequence_length,
        n_outputs,
        conv_filters=conv_filters,
        kernel_size=int(kernel_size),
        pool_size=4,
        fc_units=fc_units,
        dropout=dropout,
        l2=clf.l2,
        l1_sparsity=clf.l1_sparsity,
        max_kernel_norm=clf.max_kernel_norm,
    )
    if activation == "threshold" and weights["threshold"] != 0.0:
        if not np.isclose(weights["threshold"], 1e-6, rtol=1e-6, atol=0):
            raise ValueError(
                f"{path}: Threshold floor {weights['threshold']}; only 1e-6 (DeepSEA) or 0 (ReLU) "
                "are supported."
            )
        for layer in model.layers:
            if getattr(layer, "activation", None) is keras.activations.relu:
                # Set before the first call: the functional graph calls it at run time, and
                # get_config (saving) serialises the registered function.
                layer.activation = torch_threshold

    # Torch layouts -> Keras layouts.
    for i, (w, b) in enumerate(weights["convs"]):
        kernel = np.transpose(w, (2, 1, 0))  # (out, in, width) -> (width, in, out)
        if i == 0:
            kernel = kernel[:, channel_order(TORCH_BASE_ORDER, alphabet), :]
        model.get_layer(f"conv{i + 1}").set_weights([kernel, b])
    # Torch flattens (channels, positions); Keras (positions, channels).
    # Row c * positions + p of the transposed Torch weight becomes row p * filters + c.
    fc_kernel = np.ascontiguousarray(fc_w.T).reshape(conv_filters[-1], positions, fc_units)
    fc_kernel = fc_kernel.transpose(1, 0, 2).reshape(-1, fc_units)
    model.get_layer("fc").set_weights([fc_kernel, weights["dense"][0][1]])
    model.get_layer("output").set_weights([out_w.T, weights["dense"][1][1]])

    return DeepSEAClassifier.from_keras(model, target_names=names, **clf.get_params())


# ---------------------------------------------------------------------------------- DanQ

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
                params.append(_check_finite(path, f"{name}/param_{n}",
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


def load_danq(
    path,
    target_names=None,
    *,
    alphabet="ATGC",
    average_strands=False,
    sequence_length=1000,
    pool_size=13,
    dropout=(0.2, 0.5),
    backward_direction="forward",
    batch_size=64,
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
    average_strands : bool, default=False
        Average each prediction with the reverse complement's. DanQ's
        ``DanQ_test.py`` predicts the given strand only.
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
        If the file is not in Keras 0.2's layout, its arrays are not DanQ's
        shapes or holds NaN or infinite values (the array named),
        ``sequence_length`` and ``pool_size`` are not positive integers or do
        not give the first dense layer's width, or the names do not match the
        outputs.

    Examples
    --------
    >>> from skdeepsea.pretrained import load_danq
    >>> clf = load_danq("DanQ_bestmodel.hdf5", "predictor.names")  # doctest: +SKIP
    >>> clf.predict_proba(X).shape  # X: (n, 1000, 4) one-hot in "ATGC" order  # doctest: +SKIP
    (n, 919)
    """
    from .classifier import DeepSEAClassifier

    path = os.fspath(path)
    alphabet = check_alphabet(alphabet)
    check_number("sequence_length", sequence_length, low=1, integer=True)
    check_number("pool_size", pool_size, low=1, integer=True)
    check_number("batch_size", batch_size, low=1, integer=True)
    if backward_direction not in ("forward", "reversed"):
        raise ValueError("backward_direction must be 'forward' or 'reversed', got "
                         f"{backward_direction!r}.")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No weights file at {path}.")
    if model_file_kind(path) == "skdeepsea":
        raise ValueError(f"{path} is a skdeepsea model file (a zip archive), not DanQ's "
                         "weights: load it with skdeepsea.load.")
    if (not isinstance(dropout, (tuple, list)) or len(dropout) != 2
            or not all(0 <= float(rate) < 1 for rate in dropout)):
        raise ValueError(f"dropout must be two rates in [0, 1), got {dropout!r}.")
    dropout = tuple(float(rate) for rate in dropout)
    arrays = _danq_arrays(path)
    conv_w, conv_b = arrays["conv"]
    fc_w, fc_b = arrays["fc"]
    out_w, out_b = arrays["output"]
    filters, units, kernel_size = int(arrays["filters"]), int(arrays["units"]), conv_w.shape[2]
    positions = feature_length("danq", sequence_length, 1, kernel_size, pool_size)
    if positions * 2 * units != fc_w.shape[0]:
        raise ValueError(
            f"{path}: the first dense layer takes {fc_w.shape[0]} inputs, but sequences of "
            f"length {sequence_length} leave {positions} positions x {2 * units} LSTM outputs "
            f"= {positions * 2 * units} after a width-{kernel_size} convolution and pooling "
            f"{pool_size}; pass the sequence_length and pool_size the network was trained with."
        )
    n_outputs, fc_units = int(out_w.shape[1]), int(fc_w.shape[1])
    names = _resolve_names(target_names, path, n_outputs)

    clf = DeepSEAClassifier(
        architecture="danq", conv_filters=(filters,), kernel_size=int(kernel_size),
        pool_size=int(pool_size), lstm_units=units, fc_units=fc_units, dropout=dropout,
        alphabet=alphabet, strand="mean" if average_strands else "forward", batch_size=batch_size,
    )
    model = build_danq(
        int(sequence_length), n_outputs, conv_filters=(filters,), kernel_size=int(kernel_size),
        pool_size=int(pool_size), lstm_units=units, fc_units=fc_units, dropout=dropout,
        l2=clf.l2, l1_sparsity=clf.l1_sparsity, max_kernel_norm=clf.max_kernel_norm,
        recurrent_activation="theano_hard_sigmoid", backward_direction=backward_direction,
    )
    # (filters, in, width, 1) -> (width, in, filters), flipped: Theano convolved, Keras correlates.
    kernel = np.transpose(conv_w[:, :, ::-1, 0], (2, 1, 0))
    kernel = kernel[:, channel_order(DANQ_BASE_ORDER, alphabet), :]
    model.get_layer("conv1").set_weights([np.ascontiguousarray(kernel), conv_b])
    forward, backward = arrays["lstm"]
    lstm_layers = {"lstm_forward": forward, "lstm_backward": backward}
    if backward_direction == "reversed":
        bilstm = model.get_layer("bilstm")
        lstm_layers = {bilstm.forward_layer: forward, bilstm.backward_layer: backward}
    for layer, gates in lstm_layers.items():
        layer = model.get_layer(layer) if isinstance(layer, str) else layer
        layer.set_weights(_keras3_lstm(gates, 1.0 - dropout[0]))
    model.get_layer("fc").set_weights([fc_w * np.float32(1.0 - dropout[1]), fc_b])
    model.get_layer("output").set_weights([out_w, out_b])

    return DeepSEAClassifier.from_keras(model, target_names=names, **clf.get_params())


def model_file_kind(path):
    """What a model file holds, told from its content (its name only for Torch7).

    Parameters
    ----------
    path : str or path-like
        An existing file.

    Returns
    -------
    kind : {"skdeepsea", "pth", "danq", "torch7", "unknown"}
        "skdeepsea": a zip archive other than PyTorch's (a ``.skdeepsea``
        file, whatever its name; a damaged one too); "pth": a PyTorch file
        (PyTorch's zip archive, or its older pickle format); "danq": an HDF5
        file (DanQ's Keras 0.2 weights); for none of these, the name:
        "pth" for ``.pth``, ``.pt``, "torch7" for ``.t7``, ``.cpu``, ``.th``,
        ``.net`` (Torch7's format has no signature), "unknown" otherwise.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.

    Examples
    --------
    >>> import os, tempfile
    >>> from skdeepsea.pretrained import model_file_kind
    >>> path = os.path.join(tempfile.mkdtemp(), "model.hdf5")
    >>> with open(path, "w") as f:
    ...     _ = f.write("text")
    >>> model_file_kind(path)
    'unknown'
    """
    import h5py

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such model file: {path}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{path} is a folder, not a model file.")
    with open(path, "rb") as f:
        start = f.read(4)
    if start == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return "skdeepsea"  # damaged: DeepSEAClassifier.load says so, naming the file
        torch = any(name == "data.pkl" or name.endswith("/data.pkl") for name in names)
        return "pth" if torch and "estimator.json" not in names else "skdeepsea"
    if start[:1] == b"\x80":  # a pickle: PyTorch's format before its zip archives
        return "pth"
    if h5py.is_hdf5(path):
        return "danq"
    name = os.path.basename(path).lower()
    if name.endswith(_PTH_SUFFIXES):  # not PyTorch's either: torch.load says what is wrong
        return "pth"
    if name.endswith(_TORCH7_SUFFIXES):
        return "torch7"
    return "unknown"


def is_danq_file(path):
    """Whether ``path`` holds DanQ's Keras 0.2 weights (read by :func:`load_danq`).

    Parameters
    ----------
    path : str or path-like
        An existing file.

    Returns
    -------
    danq : bool
        True for an HDF5 file (:func:`model_file_kind` "danq"), whatever its
        name.
    """
    return model_file_kind(path) == "danq"


def load_model_file(path):
    """Load a fitted :class:`DeepSEAClassifier` from a ``.skdeepsea`` file or published weights.

    What :func:`skdeepsea.load` and every command taking a model read. The
    file is told by its content (:func:`model_file_kind`), not its name, so
    a model saved under any name loads back: published DeepSEA and Beluga
    weights (PyTorch, Torch7) are imported with :func:`load_deepsea` and its
    defaults (the file verified, 1000 bp, the ``predictor.names`` file beside
    it if there is one), DanQ's (HDF5) with :func:`load_danq` and its
    defaults; any other file is read as a ``.skdeepsea`` file
    (:meth:`DeepSEAClassifier.load`).

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    estimator : DeepSEAClassifier
        The fitted estimator.
    """
    from .classifier import DeepSEAClassifier

    kind = model_file_kind(path)
    if kind == "danq":
        return load_danq(path)
    if kind in ("pth", "torch7"):
        return load_deepsea(path)
    return DeepSEAClassifier.load(path)
