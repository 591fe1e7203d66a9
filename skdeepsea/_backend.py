"""Choose a Keras backend before Keras is imported.

Keras reads its backend once, at import time, from the ``KERAS_BACKEND``
environment variable or from ``keras.json`` in the Keras home folder, and
falls back to TensorFlow. skdeepsea is useful with any backend, so when the
user named none it picks an installed one (JAX first: it is the fastest on the
CPU for this network, see benchmarks/RESULTS.md) and exports the choice, so
worker processes (joblib, GridSearchCV with ``n_jobs``) inherit it.
"""

import importlib.util
import json
import os
import sys

PREFERRED_BACKENDS = ("jax", "torch", "tensorflow")


def _configured_backend():
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    keras_home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    try:
        with open(os.path.join(keras_home, "keras.json")) as f:
            return json.load(f).get("backend")
    except (OSError, ValueError):
        return None


def select_backend():
    """Export ``KERAS_BACKEND`` if neither the environment nor keras.json names one.

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
        if importlib.util.find_spec(name) is not None:
            os.environ["KERAS_BACKEND"] = name
            return name
    return None
