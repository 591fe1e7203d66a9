"""skdeepsea: DeepSEA as a scikit-learn estimator on Keras 3.

The public names are re-exported here. Keras (and with it the backend) is
imported only when a name that needs it is first used, so ``import skdeepsea``
is fast and works with whichever Keras backend is installed.
"""

from . import _backend

_backend.select_backend()

from .preprocessing import OneHotArray, OneHotDNA, one_hot, reverse_complement  # noqa: E402
from .single_target import TargetClassifier  # noqa: E402

from ._version import __version__  # noqa: E402

__all__ = ["DeepSEAClassifier", "OneHotArray", "OneHotDNA", "TargetClassifier", "one_hot",
           "reverse_complement", "load", "__version__"]


def __getattr__(name):
    if name == "DeepSEAClassifier":
        from .classifier import DeepSEAClassifier

        return DeepSEAClassifier
    if name == "load":  # .skdeepsea files and the published DeepSEA weights alike
        from .pretrained import load_model_file

        return load_model_file
    raise AttributeError(f"module 'skdeepsea' has no attribute {name!r}")
