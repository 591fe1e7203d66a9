"""The one strand vocabulary of the package: how a sequence's two strands are combined.

Every public function and estimator that combines strands takes ``strand``
with values from :data:`STRANDS`: the estimator and attribution take "mean"
and "forward"; variant scoring and mutagenesis add "max". The spellings of
0.1 (``average_strands`` of the estimator and the weight importers,
``strands`` "forward" / "both" of attribution) keep working for one release,
with a ``FutureWarning``, through :func:`renamed_strand`.
"""

from .exceptions import warn

STRANDS = {
    "mean": "average the outputs (or scores) of the sequence and its reverse complement",
    "forward": "the sequence as given only",
    "max": "per target, the strand of the larger absolute score (variant scores only)",
}
PREDICTION_STRANDS = ("mean", "forward")
FORMER_STRANDS = {"both": "mean"}  # attribution's strands="both" of 0.1
DEPRECATED = "deprecated"  # default of a renamed parameter: not given


def check_strand(strand, allowed=PREDICTION_STRANDS, *, name="strand"):
    """``strand`` if it is one of ``allowed``, else a ValueError naming the parameter.

    Parameters
    ----------
    strand : str
        The value given.
    allowed : tuple of str, default=("mean", "forward")
        Values this caller supports (keys of :data:`STRANDS`).
    name : str, default="strand"
        The parameter's name, for the message.

    Returns
    -------
    strand : str
        The value.
    """
    if not isinstance(strand, str) or strand not in allowed:
        raise ValueError(f"{name}={strand!r} is invalid: expected one of "
                         f"{', '.join(repr(a) for a in allowed)}.")
    return strand


def renamed_strand(strand, old_name, old_value, owner):
    """The ``strand`` to use when a 0.1 spelling may have been given instead.

    Parameters
    ----------
    strand : str
        The ``strand`` argument.
    old_name : str
        ``"average_strands"`` (a bool) or ``"strands"`` ("forward" / "both").
    old_value : object
        Its value; :data:`DEPRECATED` when not given.
    owner : str
        The function or estimator, for the warning.

    Returns
    -------
    strand : str
        ``strand`` when the old spelling is not given, else its translation:
        True / "both" -> "mean", False / "forward" -> "forward".
    """
    if isinstance(old_value, str) and old_value == DEPRECATED:
        return strand
    if old_name == "average_strands":
        translated = "mean" if old_value else "forward"
    else:
        translated = FORMER_STRANDS.get(old_value, old_value)
    warn(f"{owner}: {old_name}={old_value!r} is deprecated and will be removed in "
         f"0.3; write strand={translated!r}.", FutureWarning)
    return translated
