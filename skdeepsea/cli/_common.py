"""What every ``skdeepsea`` command shares: option types, the output-path check, user errors.

Every numeric option is parsed by :func:`number` (range-checked, finite), so
a bad value stops argparse with one line naming the option. Errors found
later are exceptions of the types in :data:`USER_ERRORS`, which ``main``
prints as one line ``skdeepsea <command>: error: <message>``.
"""

import argparse
import math
import os
import zipfile

from .. import _atomic
from .._validation import check_number

# What bad input raises: a bad value or bad data (ValueError, with its subclasses such as
# UnicodeDecodeError and the variant readers' MalformedVariantError), a missing,
# unreadable or damaged file (OSError, EOFError for a truncated gzip stream, BadZipFile),
# an unknown name (KeyError: a contig, a target). Anything else is a bug and keeps its
# traceback.
USER_ERRORS = (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile)


def number(*, integer=False, low=None, high=None, strict=False, words=None):
    """An argparse type: a finite number in range (as ``check_number``), or one of ``words``.

    Parameters
    ----------
    integer : bool, default=False
        Integers only.
    low, high : number or None, default=None
        Bounds, included (``low`` excluded when ``strict``).
    strict : bool, default=False
        Exclude ``low``.
    words : dict of str to object, default=None
        Accepted words (lowercase) and the values they stand for (a callable
        is called).

    Returns
    -------
    parse : callable
        Raises ``argparse.ArgumentTypeError``, which argparse prints after the
        option's name.
    """
    words = words or {}

    def parse(text):
        if text.lower() in words:
            value = words[text.lower()]
            return value() if callable(value) else value
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            expected = "an integer" if integer else "a number"
            alternatives = "".join(f" or {word!r}" for word in words)
            raise argparse.ArgumentTypeError(
                f"expected {expected}{alternatives}, got {text!r}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        try:
            check_number("value", value, low=low, high=high, integer=integer, strict=strict)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None
        return value

    return parse


POSITIVE_INT = number(integer=True, low=1)
NON_NEGATIVE_INT = number(integer=True, low=0)
NON_NEGATIVE = number(low=0)
SEED = number(integer=True, low=0, high=2**32 - 1)


def comma_list(text):
    """The items of a comma-separated option (an argparse type); an empty list is refused.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    items : list of str
        The items, stripped, empty ones dropped.

    Raises
    ------
    argparse.ArgumentTypeError
        If no item is left (``""``, ``","``): leaving the option out means all.
    """
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated items, got {text!r} (leave the option out for all)")
    return items


def target_keys(text):
    """``--targets`` of names or indices (an argparse type): integers become indices.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    keys : list of str or int
        As :func:`skdeepsea.targets.target_indices` takes them.
    """
    return [int(key) if key.lstrip("-").isdigit() else key for key in comma_list(text)]


def existing_file(text):
    """An argparse type: the path of an existing file."""
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    if os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    return text


def check_output_path(out, inputs, option="--out", folder=False):
    """:func:`skdeepsea._atomic.check_output_path`, the output named ``--out`` by default.

    The library's writers run the same check on their own parameters; a
    command calls it for the options it combines itself, before any work.

    Examples
    --------
    >>> from skdeepsea.cli._common import check_output_path
    >>> check_output_path("v.vcf", {"--vcf": "v.vcf"})
    Traceback (most recent call last):
    ...
    ValueError: --out v.vcf is the input file of --vcf: writing it would replace the input.
    """
    _atomic.check_output_path(out, inputs, option=option, folder=folder)


def one_line(error):
    """An exception's message on one line (a KeyError's without its quotes).

    Parameters
    ----------
    error : BaseException
        The exception.

    Returns
    -------
    message : str
        Its message; its type's name when it has none. An OSError without
        its file name in the message gets it appended.
    """
    text = error.args[0] if isinstance(error, KeyError) and error.args else str(error)
    text = " ".join(str(text).split())
    if isinstance(error, OSError) and error.filename and str(error.filename) not in text:
        text = f"{text}: {error.filename}"
    if isinstance(error, EOFError):
        text = f"a compressed file ends early (truncated): {text}"
    return text or type(error).__name__
