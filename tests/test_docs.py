"""The API reference pages that docs/_ext/skdeepsea_api.py generates for the documentation site.

The site itself is built by CI (``sphinx-build -W``); these tests check, without Sphinx, that the
generated pages name every public name exactly once and the command line page every subcommand.
"""

import argparse
import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "_ext"))
# docs/ is in the repository, not in the sdist, whose tests/ can run without it.
skdeepsea_api = pytest.importorskip("skdeepsea_api", reason="docs/_ext is not here")

ENTRY = re.compile(r"^   ([\w.]+)$", re.M)
LINK = re.compile(r"^- ``(\w+)``: :obj:`([\w.]+)`$", re.M)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("api")
    modules = skdeepsea_api.write_pages(out)
    parsed = {}
    for module_name in modules:
        text = (out / f"{module_name}.rst").read_text()
        summary = text.split("Also exported here")[0].split(":toctree: generated")
        documented = ENTRY.findall(summary[1]) if len(summary) > 1 else []
        parsed[module_name] = documented, dict(LINK.findall(text))
    return out, modules, parsed


def _documentable(module):
    return [name for name in skdeepsea_api.public_names(module)
            if inspect.isfunction(getattr(module, name)) or inspect.isclass(getattr(module, name))
            or skdeepsea_api.CONSTANT.match(name)]


def test_every_public_module_has_a_page(pages):
    _, modules, _ = pages
    assert modules[0] == "skdeepsea"
    assert {"skdeepsea.preprocessing", "skdeepsea.plotting", "skdeepsea.variants",
            "skdeepsea.cli"} <= set(modules)
    assert not [m for m in modules if any(part.startswith("_") for part in m.split("."))]
    # API_ORDER first, in its order; modules it does not list follow.
    listed = [m for m in modules if m in skdeepsea_api.API_ORDER]
    assert listed == [m for m in skdeepsea_api.API_ORDER if m in modules]
    assert modules[:len(listed)] == listed


def test_every_public_name_is_documented_once_and_linked_from_its_other_modules(pages):
    _, modules, parsed = pages
    documented_where = {}
    for module_name in modules:
        module = importlib.import_module(module_name)
        documented, linked = parsed[module_name]
        assert sorted(documented + list(linked)) == sorted(_documentable(module)), module_name
        for name in documented:
            value = getattr(module, name)
            key = id(value) if inspect.isfunction(value) or inspect.isclass(value) else name
            assert key not in documented_where, (module_name, name, documented_where.get(key))
            documented_where[key] = f"{module_name}.{name}"
    for module_name in modules:
        module = importlib.import_module(module_name)
        for name, target in parsed[module_name][1].items():
            value = getattr(module, name)
            key = id(value) if inspect.isfunction(value) or inspect.isclass(value) else name
            assert documented_where[key] == target, (module_name, name)


def test_re_exported_names_are_documented_where_users_find_them_first(pages):
    _, _, parsed = pages
    assert "OneHotDNA" in parsed["skdeepsea"][0] and "DeepSEAClassifier" in parsed["skdeepsea"][0]
    assert parsed["skdeepsea.preprocessing"][1]["OneHotDNA"] == "skdeepsea.OneHotDNA"
    assert "plot_roc_curves" in parsed["skdeepsea.plotting"][0]
    assert parsed["skdeepsea.report"][1]["plot_roc_curves"] == "skdeepsea.plotting.plot_roc_curves"
    assert parsed["skdeepsea.motifs"][1]["plot_logo"] == "skdeepsea.plotting.plot_logo"


def test_command_line_page_shows_the_help_of_every_subcommand(pages):
    out, _, _ = pages
    from skdeepsea.cli import build_parser

    text = (out / "cli.rst").read_text()
    subparsers = next(a for a in build_parser()._actions
                      if isinstance(a, argparse._SubParsersAction))
    assert subparsers.choices
    for name in subparsers.choices:
        assert f"``skdeepsea {name}``" in text
        assert re.search(rf"^   usage: skdeepsea {re.escape(name)}\b", text, re.M), name


def test_command_line_page_does_not_depend_on_the_terminal_width(monkeypatch):
    pages = []
    for columns in ("40", "250"):
        monkeypatch.setenv("COLUMNS", columns)
        pages.append(skdeepsea_api.command_line_page())
    assert pages[0] == pages[1]


def test_index_lists_every_module_page_and_the_command_line(pages):
    out, modules, _ = pages
    index = (out / "index.rst").read_text()
    toctree = index.split(".. toctree::")[1]
    assert ENTRY.findall(toctree) == modules + ["cli"]
