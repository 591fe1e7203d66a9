"""The house rules of docs/architecture.md, checked against the code so the document cannot drift.

- The layer diagram ("## Layers") places every module of the package, and every
  import (module- or function-level) goes to the importer's layer or a lower one.
- No import cycles between the package's modules and subpackages.
- The module map names every file of the package, and names no file that is gone.
- No file holds more than 600 lines of code, no class more than 300
  (docstrings, comments and blank lines not counted).
"""

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skdeepsea"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MAX_FILE_LINES, MAX_CLASS_LINES = 600, 300

# Imports that go against the layers or close a cycle, each with its reason and end.
ALLOWED = {
    ("skdeepsea.attribution", "skdeepsea.variants._attribution"):
        "the former home of attribute_variants, a deprecated alias until 0.3",
}


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name):
    """The package's modules that ``name`` imports, anywhere in its code."""
    path = MODULES[name]
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1] + [node.module or ""]).strip(".") \
                if node.level else node.module
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {target for target in found if target in MODULES and target != name}


GRAPH = {name: imports(name) for name in MODULES}


def layers():
    """``[(layer, [module prefixes])]`` from the diagram of docs/architecture.md, top first."""
    section = ARCHITECTURE.read_text().split("\n## Layers\n", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    rows = []
    for line in block.splitlines():
        if line.strip() and not set(line.strip()) <= set("|v^ "):
            layer, modules = re.split(r"\s{2,}", line.strip(), maxsplit=1)
            rows.append((layer, [m.strip() for m in modules.split(",")]))
    return rows


def layer_of(name, rows):
    """Index of the row holding ``name`` (0 is the top); a module's own row beats its package's."""
    short = name.removeprefix("skdeepsea.") if name != "skdeepsea" else "skdeepsea"
    best = None
    for index, (_, prefixes) in enumerate(rows):
        for prefix in prefixes:
            if short == prefix or short.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    return None if best is None else best[0]


def test_the_layer_diagram_places_every_module():
    rows = layers()
    assert [name for name in MODULES if layer_of(name, rows) is None] == []


def test_every_import_goes_to_the_same_or_a_lower_layer():
    rows = layers()
    upward = [f"{a} ({rows[layer_of(a, rows)][0]}) imports {b} ({rows[layer_of(b, rows)][0]})"
              for a, targets in GRAPH.items() for b in sorted(targets)
              if layer_of(b, rows) < layer_of(a, rows) and (a, b) not in ALLOWED]
    assert upward == []


def unit(name):
    """A top-level module or a subpackage: the unit that may not take part in a cycle."""
    return ".".join(name.split(".")[:2])


def test_there_are_no_import_cycles_between_modules_and_subpackages():
    graph = {}
    for a, targets in GRAPH.items():
        for b in targets:
            if unit(a) != unit(b) and (a, b) not in ALLOWED:
                graph.setdefault(unit(a), set()).add(unit(b))
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def module_map_paths():
    section = ARCHITECTURE.read_text().split("\n## Module map\n", 1)[1].split("\n## ", 1)[0]
    cells = re.findall(r"^\| ([^|]+) \|", section, re.M)  # a row's first cell names its files
    return [path for cell in cells for path in re.findall(r"`([^`]+)`", cell)]


def test_the_module_map_names_every_file_of_the_package_and_no_other():
    rows = [path for path in module_map_paths() if path.startswith("skdeepsea/")]
    files = [str(path.relative_to(ROOT)) for path in MODULES.values()]
    unnamed = [f for f in files if f not in rows and not any(
        row.endswith("/") and f.startswith(row) for row in rows)]
    gone = [row for row in rows if not (ROOT / row).exists()]
    assert (unnamed, gone) == ([], [])


def code_lines(source):
    """Line numbers holding code: no docstring, comment or blank line."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant) \
                    and isinstance(first.value.value, str):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines - docstrings, tree


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_file_or_class_is_too_large(name):
    lines, tree = code_lines(MODULES[name].read_text())
    assert len(lines) <= MAX_FILE_LINES, f"{name}: {len(lines)} lines of code"
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            size = sum(node.lineno <= line <= node.end_lineno for line in lines)
            assert size <= MAX_CLASS_LINES, f"{name}.{node.name}: {size} lines of code"


def test_the_line_count_skips_docstrings_comments_and_blank_lines():
    source = 'def f():\n    """Doc.\n\n    More."""\n    # why\n\n    return (1,\n            2)\n'
    assert sorted(code_lines(source)[0]) == [1, 7, 8]
