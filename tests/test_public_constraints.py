"""Every public function declares what each of its parameters accepts (issue 21).

A public function is one named in the ``__all__`` of ``skdeepsea`` or of one of its public
modules. Each declares its table with ``@parameter_constraints`` (skdeepsea._constraints), so a
bad value of any parameter is refused before any work, in one wording, and the commands inherit
the check; a function without one, or a parameter missing from it, fails here.
"""

import importlib
import inspect
import pkgutil

import pytest

import skdeepsea

# Public functions that are not entry points a user calls with values of their own, and why.
NOT_ENTRY_POINTS = {
    # DeepLIFT rules: called by attribute() on a layer and its traced tensors, and given to
    # DEEPLIFT_RULES by users who extend the table; attribute() checks what the user passes.
    "skdeepsea.attribution._deeplift.activation_rule",
    "skdeepsea.attribution._deeplift.max_pooling_rule",
    "skdeepsea.attribution._deeplift.rescale_rule",
    # Activation functions inside an imported network's graph (tensors in, tensors out).
    "skdeepsea.network.theano_hard_sigmoid",
    "skdeepsea.network.torch_threshold",
    # The command line's own parsing: argparse refuses bad arguments with a usage line.
    "skdeepsea.cli.build_parser",
    "skdeepsea.cli.main",
}


def public_modules():
    names = ["skdeepsea"] + [f"skdeepsea.{module.name}"
                             for module in pkgutil.iter_modules(skdeepsea.__path__)
                             if not module.name.startswith("_")]
    return [importlib.import_module(name) for name in names]


def public_functions():
    found = {}
    for module in public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                found.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return sorted(found.items())


FUNCTIONS = public_functions()


def test_the_walk_finds_the_public_functions():
    names = {name for name, _ in FUNCTIONS}
    assert len(FUNCTIONS) > 60
    assert "skdeepsea.variants._api.write_variant_scores" in names
    assert NOT_ENTRY_POINTS <= names, "an exemption names a function that is not public"


@pytest.mark.parametrize("name, function", [item for item in FUNCTIONS
                                            if item[0] not in NOT_ENTRY_POINTS],
                         ids=[name for name, _ in FUNCTIONS if name not in NOT_ENTRY_POINTS])
def test_every_parameter_of_a_public_function_has_a_constraint(name, function):
    table = getattr(function, "_parameter_constraints", None)
    assert table is not None, f"{name} declares no @parameter_constraints"
    parameters = [p.name for p in inspect.signature(function).parameters.values()
                  if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    missing = [p for p in parameters if p not in table]
    assert not missing, f"{name}: no constraint for {missing}"
