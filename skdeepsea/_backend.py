"""Choose a Keras backend before Keras is imported.

Keras reads its backend once, at import time, from the ``KERAS_BACKEND``
environment variable or from ``keras.json`` in the Keras home folder, and
falls back to TensorFlow. On its first import Keras also writes a default
``keras.json`` naming TensorFlow, so such a file says nothing about what the
user wants. skdeepsea is useful with any backend, so unless the user named one
it picks an installed one (JAX first: the fastest on CPUs for this network,
see benchmarks/RESULTS.md) and exports the choice, so worker processes
(joblib, GridSearchCV with ``n_jobs``) inherit it.
"""

import importlib.util
import json
import os
import sys

PREFERRED_BACKENDS = ("jax", "torch", "tensorflow")

# What Keras writes to keras.json when none exists.
_KERAS_DEFAULT_CONFIG = {
    "floatx": "float32",
    "epsilon": 1e-07,
    "backend": "tensorflow",
    "image_data_format": "channels_last",
}


def _installed(backend):
    return importlib.util.find_spec(backend) is not None


def _configured_backend():
    """The backend the user named in the environment or in keras.json, if any."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    try:
        with open(os.path.join(keras_home, "keras.json")) as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    backend = config.get("backend")
    if config == _KERAS_DEFAULT_CONFIG or not backend or not _installed(backend):
        return None
    return backend


def select_backend():
    """Export ``KERAS_BACKEND`` unless the user named a backend.

    The user names one with the ``KERAS_BACKEND`` environment variable, or in
    ``keras.json`` when that file differs from the default Keras writes and
    its backend is installed. Otherwise the first installed of JAX, PyTorch
    and TensorFlow is exported.

    Returns
    -------
    backend : str or None
        The backend Keras will use (or already uses, when Keras was imported
        first), or None when no backend is installed.
    """
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    configured = _configured_backend()
    if configured:
        return configured
    for name in PREFERRED_BACKENDS:
        if _installed(name):
            os.environ["KERAS_BACKEND"] = name
            return name
    return None


def enable_compilation_cache():
    """Keep JAX's compiled steps on disk, so that later fits of the same network skip XLA.

    A small fit spends most of its time compiling its train and predict steps;
    with the cache, a second fit of the same architecture and constants (the
    folds of a cross-validation, the refit of a grid search, the next run of a
    script) loads them instead. The folder is ``$SKDEEPSEA_CACHE_DIR`` or
    ``$XDG_CACHE_HOME/skdeepsea`` (``~/.cache/skdeepsea``), subfolder ``jax``;
    ``SKDEEPSEA_CACHE_DIR=""`` or a folder that cannot be created turns the
    cache off; a cache folder set in JAX's own configuration is left as it
    is. The folder only grows (a few MB per
    network and batch shape; JAX's size-limited cache would need the
    ``filelock`` package) and may be deleted at any time. Other backends:
    nothing.

    Returns
    -------
    folder : str or None
        The cache folder in use, or None.
    """
    if "keras" not in sys.modules or sys.modules["keras"].backend.backend() != "jax":
        return None
    import jax

    if jax.config.jax_compilation_cache_dir:
        return jax.config.jax_compilation_cache_dir
    root = os.environ.get("SKDEEPSEA_CACHE_DIR")
    if root is None:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(xdg, "skdeepsea")
    if not root:
        return None
    folder = os.path.join(root, "jax")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:  # a read-only home: compile as without the cache
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    # Compilations of half a second and more: every step of this network, no trivia.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return folder


def keras_on_accelerator():
    """Whether the Keras backend computes on a GPU or TPU rather than the host CPU.

    Returns
    -------
    bool
        True on JAX with a non-CPU default backend, on torch with CUDA, on
        TensorFlow with a logical GPU.
    """
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend() != "cpu"
    if backend == "torch":
        import torch

        return torch.cuda.is_available()  # Keras' torch backend then computes on CUDA
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    return False
