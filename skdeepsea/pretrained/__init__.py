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
  reverse complement's (``strand="mean"``), the "variantEffects" file does
  not (``strand="forward"``); the Torch7 model itself does not either, but
  the DeepSEA package averages its outputs, so it is imported with
  ``strand="mean"``; Beluga's predictions are averaged over both strands by
  ExPecto, and its file is imported with ``strand="mean"`` too.

DanQ's published weights (``DanQ_bestmodel.hdf5``, Quang & Xie 2016) are read
by :func:`load_danq`: an HDF5 file of Keras 0.2's ``save_weights`` (attribute
``nb_layers``, groups ``layer_{k}`` with attribute ``nb_params`` and datasets
``param_{n}``), written on Theano. What that conversion reconciles is listed
in :func:`load_danq` and docs/pretrained.md.

Each format's reader (``_torch``, ``_danq``) converts its arrays to Keras'
layout; one path (``_build``) builds the network and makes the fitted
estimator for all of them.
"""

from .._constraints import PathLike, parameter_constraints
from ..network import torch_threshold
from ._danq import DANQ_BASE_ORDER, load_danq
from ._files import is_danq_file, model_file_kind
from ._names import _read_names  # noqa: F401 (tests read names files through it)
from ._registry import KNOWN_FILES, verify_weights
from ._torch import TORCH_BASE_ORDER, load_deepsea

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


@parameter_constraints({"path": [PathLike()]})
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

    Raises
    ------
    ValueError
        If ``path`` is not a path (naming it), or the file is not a model
        this package reads (the importer or ``DeepSEAClassifier.load`` says
        why; :class:`skdeepsea.exceptions.DamagedFileError` for a damaged
        one).
    FileNotFoundError
        If ``path`` does not exist.
    """
    from ..classifier import DeepSEAClassifier

    kind = model_file_kind(path)
    if kind == "danq":
        return load_danq(path)
    if kind in ("pth", "torch7"):
        return load_deepsea(path)
    return DeepSEAClassifier.load(path)
