"""Sphinx extension: the API reference, generated from the package's public names.

Every public module of skdeepsea (the package, and each of its modules and subpackages whose name
does not start with ``_``) gets a page under ``api/``: the module's docstring and an autosummary
table of its public names: ``__all__``, or else the functions and classes defined in the module.
A name exported by several modules (``skdeepsea.OneHotDNA`` is ``skdeepsea.preprocessing.OneHotDNA``;
the analysis modules re-export the plots of ``skdeepsea.plotting``) is documented once, under the
first module of :data:`API_ORDER` that exports it, and linked from the others. A module that is not
in :data:`API_ORDER` is listed after those that are, alphabetically: a new public module needs no
edit here, only numpydoc docstrings.

The command line page is the argparse help of ``skdeepsea`` and of each subcommand.

The pages are written once the configuration is read, before Sphinx lists the source files and
autosummary reads them to write one page per documented name (templates in ``docs/_templates/autosummary``).
"""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

PACKAGE = "skdeepsea"

# Page order, and which module documents a name exported by several: the package first (its names
# are the ones users type), ``plotting`` before the analysis modules that re-export its plots.
API_ORDER = [
    "skdeepsea",
    "skdeepsea.preprocessing",
    "skdeepsea.classifier",
    "skdeepsea.single_target",
    "skdeepsea.network",
    "skdeepsea.layers",
    "skdeepsea.losses",
    "skdeepsea.metrics",
    "skdeepsea.datasets",
    "skdeepsea.data",
    "skdeepsea.targets",
    "skdeepsea.plotting",
    "skdeepsea.report",
    "skdeepsea.motifs",
    "skdeepsea.genome",
    "skdeepsea.variants",
    "skdeepsea.attribution",
    "skdeepsea.pretrained",
    "skdeepsea.persistence",
    "skdeepsea.exceptions",
    "skdeepsea.cli",
]

# Not API pages: the ``python -m skdeepsea`` entry point.
SKIPPED = {"skdeepsea.__main__"}

CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]*$")


def public_modules():
    """The names of the package and of its public direct submodules, in page order.

    Returns
    -------
    names : list of str
    """
    package = importlib.import_module(PACKAGE)
    found = {PACKAGE} | {
        f"{PACKAGE}.{info.name}"
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_")
    }
    found -= SKIPPED
    listed = [name for name in API_ORDER if name in found]
    return listed + sorted(found - set(listed))


def public_names(module):
    """A module's public names: ``__all__``, or the functions and classes it defines.

    Parameters
    ----------
    module : module

    Returns
    -------
    names : list of str
    """
    if hasattr(module, "__all__"):
        return [name for name in module.__all__ if not name.startswith("__")]
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__ == module.__name__
    )


def _key(name, value):
    # Functions and classes are the same object wherever they are exported; constants are
    # known by name (equal numbers and strings may be one object by chance).
    if inspect.isfunction(value) or inspect.isclass(value):
        return id(value)
    return name


def _title(text, underline):
    return f"{text}\n{underline * len(text)}\n"


def module_page(module_name, names, elsewhere):
    """The reStructuredText of one module's page.

    Parameters
    ----------
    module_name : str
    names : list of str
        Names documented on this page.
    elsewhere : list of tuple of (str, str)
        ``(name, target)``: names this module exports that are documented under ``target``.

    Returns
    -------
    text : str
    """
    lines = [
        _title(f"``{module_name}``", "="),
        f".. automodule:: {module_name}",
        "   :no-members:",
        "",
        f".. currentmodule:: {module_name}",
        "",
    ]
    if names:
        lines += [".. autosummary::", "   :toctree: generated", ""]
        lines += [f"   {name}" for name in names]
        lines.append("")
    if elsewhere:
        lines += ["Also exported here, documented where first listed:", ""]
        lines += [f"- ``{name}``: :obj:`{target}`" for name, target in elsewhere]
        lines.append("")
    return "\n".join(lines)


def command_line_page():
    """The command line page: ``--help`` of ``skdeepsea`` and of each subcommand.

    Returns
    -------
    text : str
    """
    import argparse

    from skdeepsea.cli import build_parser

    parser = build_parser()
    parser.formatter_class = _fixed_width(parser.formatter_class)
    lines = [
        _title("Command line", "="),
        "The ``skdeepsea`` script (also ``python -m skdeepsea.cli``); this page is its own",
        "``--help`` output. The Python functions each command calls are named in the user guide.",
        "",
        ".. code-block:: text",
        "",
        *("   " + line for line in parser.format_help().splitlines()),
        "",
    ]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in subparsers.choices.items():
        subparser.formatter_class = _fixed_width(subparser.formatter_class)
        lines += [
            _title(f"``skdeepsea {name}``", "-"),
            ".. code-block:: text",
            "",
            *("   " + line for line in subparser.format_help().splitlines()),
            "",
        ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _fixed_width(formatter_class):
    # argparse wraps to the terminal's width; the page must not depend on where it is built.
    def formatter(prog):
        return formatter_class(prog, width=100)

    return formatter


def write_pages(out):
    """Write the API pages into ``out``: ``index.rst``, one page per module, ``cli.rst``.

    Parameters
    ----------
    out : pathlib.Path

    Returns
    -------
    pages : list of str
        The module page names, in order.
    """
    out.mkdir(parents=True, exist_ok=True)
    home = {}
    pages = []
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        names, elsewhere = [], []
        for name in public_names(module):
            value = getattr(module, name)
            if not (inspect.isfunction(value) or inspect.isclass(value) or CONSTANT.match(name)):
                continue  # modules and other objects exported for convenience
            key = _key(name, value)
            if key in home:
                elsewhere.append((name, home[key]))
            else:
                home[key] = f"{module_name}.{name}"
                names.append(name)
        _write(out / f"{module_name}.rst", module_page(module_name, names, elsewhere))
        pages.append(module_name)
    _write(out / "cli.rst", command_line_page())
    index = [
        _title("API reference", "="),
        "Generated from the numpydoc docstrings of the installed package: one page per public",
        "module, one page per public name. ``import skdeepsea`` does not import Keras:",
        "``DeepSEAClassifier`` and ``load`` are resolved on first use, and Keras is loaded at the",
        "first ``fit``, ``load``, unpickling, or import of ``skdeepsea.network`` /",
        "``skdeepsea.losses``. Each docstring is also at hand in Python: ``help(skdeepsea.OneHotDNA)``.",
        "",
        ".. autosummary::",
        "",
        *(f"   {name}" for name in pages),
        "",
        ".. toctree::",
        "   :hidden:",
        "",
        *(f"   {name}" for name in pages),
        "   cli",
        "",
        ":doc:`cli`: the ``skdeepsea`` command and its subcommands.",
        "",
    ]
    _write(out / "index.rst", "\n".join(index))
    return pages


def _write(path, text):
    # Rewriting an unchanged page would make Sphinx read it (and its stubs) again.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _generate(app, config):
    write_pages(Path(app.srcdir) / "api")


def skip_foreign_member(app, what, name, obj, skip, options):
    """Leave out class members that scikit-learn or NumPy define (``set_fit_request``, ...).

    scikit-learn adds the metadata-routing methods to every estimator class; their
    docstrings are scikit-learn's, with links into its own documentation.

    Returns
    -------
    skip : bool or None
        True for a member defined outside skdeepsea; None leaves the decision to autodoc.
    """
    module = getattr(obj, "__module__", None)
    if what == "class" and isinstance(module, str) and not module.startswith(PACKAGE):
        return True
    return None


def drop_type_docstring(app, what, name, obj, options, lines):
    """Give a constant no docstring rather than its type's (``int``'s, ``dict``'s, ...).

    Constants are documented by a ``#:`` comment above them, when they have one.
    """
    if what in ("data", "attribute") and lines and inspect.getdoc(type(obj)) is not None:
        if "\n".join(lines).strip() == inspect.cleandoc(inspect.getdoc(type(obj))):
            lines.clear()


def setup(app):
    app.connect("autodoc-skip-member", skip_foreign_member)
    # Before numpydoc (priority 500) rewrites the docstring.
    app.connect("autodoc-process-docstring", drop_type_docstring, priority=100)
    # Before Sphinx lists the source files, which autosummary then reads for the names to document.
    app.connect("config-inited", _generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
