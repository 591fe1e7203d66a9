import json
import os
import subprocess
import sys

import pytest

# Importing skdeepsea alone: Keras, once imported, uses what select_backend exported.
SCRIPT = (
    "import sys, skdeepsea; assert 'keras' not in sys.modules; "
    "print(skdeepsea._backend.select_backend())"
)


def backend_in_fresh_process(tmp_path, keras_json=None, env_backend=None):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path)
    if env_backend:
        env["KERAS_BACKEND"] = env_backend
    if keras_json is not None:
        (tmp_path / "keras.json").write_text(json.dumps(keras_json))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip().splitlines()[-1]


def test_jax_is_picked_when_nothing_names_a_backend(tmp_path):
    assert backend_in_fresh_process(tmp_path) == "jax"


def test_the_default_keras_json_does_not_count_as_a_choice(tmp_path):
    from skdeepsea._backend import _KERAS_DEFAULT_CONFIG

    assert backend_in_fresh_process(tmp_path, _KERAS_DEFAULT_CONFIG) == "jax"


def test_a_backend_named_in_keras_json_is_respected(tmp_path):
    config = {"backend": "torch", "floatx": "float32"}
    assert backend_in_fresh_process(tmp_path, config) == "torch"


@pytest.mark.parametrize("backend", ["torch", "tensorflow"])
def test_keras_backend_variable_wins(tmp_path, backend):
    assert backend_in_fresh_process(tmp_path, {"backend": "jax"}, env_backend=backend) == backend


def test_version_command_reports_the_backend(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    result = subprocess.run(
        [sys.executable, "-m", "skdeepsea.cli", "--version"],
        env=env, capture_output=True, text=True, check=True,
    )
    assert "backend torch" in result.stdout


@pytest.mark.parametrize("module", ["skdeepsea", "skdeepsea.cli"])
def test_both_module_entry_points_run_the_command(module):
    """``skdeepsea/__main__.py`` and ``skdeepsea/cli/__main__.py``: exit status and output."""
    ok = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True,
                        text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("skdeepsea ")
    bad = subprocess.run([sys.executable, "-m", module, "no-such-command"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
