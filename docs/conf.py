"""Sphinx configuration of the skdeepsea documentation site.

Build (from the repository root, with the ``docs`` extra installed)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

The user guide is the Markdown pages of this folder (MyST), the API reference is generated from the
numpydoc docstrings (``_ext/skdeepsea_api.py`` writes ``api/``, autosummary one page per name), and
the gallery runs the scripts of ``examples/`` (sphinx-gallery writes ``auto_examples/``).
"""

import os
import sys
from pathlib import Path

# Before skdeepsea (and with it Keras) is imported: the gallery runs on JAX unless told otherwise.
os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
# The checkout's package, also when the docs are built without installing it.
sys.path.insert(0, str(DOCS.parent))

import skdeepsea  # noqa: E402

project = "skdeepsea"
author = "skdeepsea developers"
copyright = "skdeepsea developers"
version = release = skdeepsea.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "skdeepsea_api",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_templates", "auto_examples/*.ipynb",
                    "auto_examples/*.py", "auto_examples/*.zip"]
templates_path = ["_templates"]

# API reference: one page per public name, written by autosummary from the pages of skdeepsea_api.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"
# numpydoc renders the sections; the class template documents the members, so numpydoc's own
# member tables would list them twice.
numpydoc_show_class_members = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
# Well-formed numpydoc, checked on every documented object (warnings, so errors under -W): a
# summary line; known sections in numpydoc's order; "name : type" parameter lines, in the
# signature's order, each with a description; reST directives with "::"; no tabs or double blank
# lines. numpydoc's style checks (extended summaries, See Also, Examples everywhere) are not asked.
numpydoc_validation_checks = {
    "SS01", "GL02", "GL03", "GL05", "GL06", "GL07", "GL09", "GL10",
    "PR03", "PR05", "PR06", "PR07", "PR10", "YD01",
}
# Constants (N_TARGETS, ...) have no docstrings of their own; their modules describe them.
numpydoc_validation_exclude = {r"\.[A-Z][A-Z0-9_]*$"}

# User guide: Markdown pages as they are on GitHub; ``page.md#section`` links need heading anchors.
myst_heading_anchors = 3

# The gallery: each examples/plot_*.py runs once per build (small data, seconds each).
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": str(DOCS / "auto_examples"),
    "filename_pattern": r"plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "backreferences_dir": str(DOCS / "api" / "backreferences"),
    "doc_module": ("skdeepsea",),
    # The Figures skdeepsea makes without pyplot (_ext/skdeepsea_gallery.py), then pyplot's.
    "image_scrapers": ("skdeepsea_gallery.figure_scraper", "matplotlib"),
}

html_theme = "pydata_sphinx_theme"
html_title = f"skdeepsea {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_show_sourcelink = False
