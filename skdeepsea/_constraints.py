"""Declarative parameter constraints, in the manner of scikit-learn's ``_parameter_constraints``.

Each public estimator holds a ``_parameter_constraints`` dict, and each public
function declares one with the :func:`parameter_constraints` decorator, from
parameter name to a list of constraints; a value is valid when one of them
accepts it. :func:`validate_params` checks a
dict of values against such a table and raises one ``ValueError`` of one
wording, ``"<owner>: <name> must be <what is expected>, got <value>."``, so a
guard is written once. Cross-parameter rules (a dropout rate per convolution
block, say) stay as code after it.

scikit-learn's own ``sklearn.utils._param_validation`` is private API; this is
the small subset the package needs. Imports nothing of the package, so any
module may use it.
"""

import functools
import inspect
import numbers
import os

import numpy as np

__all__ = ["ArrayLike", "Boolean", "Constraint", "HasMethods", "InstanceOf", "Interval",
           "Options", "PathLike", "Satisfies", "SeedLike", "parameter_constraints",
           "validate_params"]

_NO_VALUE = object()  # describe() without a value: the whole constraint


class Constraint:
    """What a parameter accepts: :meth:`accepts` a value, :meth:`describe` it in words."""

    def accepts(self, value):
        """Whether ``value`` satisfies the constraint."""
        raise NotImplementedError

    def describe(self, value=_NO_VALUE):
        """What is expected, as the end of "``name`` must be ...".

        Given the rejected ``value``, a constraint may say only the part the
        value fails (an :class:`Interval` names its range to a number of the
        right type, its type to anything else).
        """
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__}: {self.describe()}>"


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


class Interval(Constraint):
    """A number of type ``kind`` between ``low`` and ``high``; bools and NaN are refused.

    Parameters
    ----------
    kind : numbers.Integral or numbers.Real
        The type of the number.
    low, high : number or None
        The bounds; None is unbounded.
    closed : {"both", "left", "right", "neither"}, default="both"
        The bounds that are included.

    Examples
    --------
    >>> from numbers import Real
    >>> from skdeepsea._constraints import Interval
    >>> Interval(Real, 0, 1, closed="left")
    <Interval: a number in [0, 1)>
    """

    def __init__(self, kind, low, high, *, closed="both"):
        validate_params({"closed": [Options(str, ("both", "left", "right", "neither"))]},
                        {"closed": closed}, "Interval")
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def _right_type(self, value):
        return (isinstance(value, self.kind) and not _is_bool(value)
                and not (isinstance(value, numbers.Real) and value != value))  # NaN

    def accepts(self, value):
        if not self._right_type(value):
            return False
        left_closed = self.closed in ("both", "left")
        right_closed = self.closed in ("both", "right")
        if self.low is not None and (value < self.low if left_closed else value <= self.low):
            return False
        return self.high is None or (value <= self.high if right_closed else value < self.high)

    def describe(self, value=_NO_VALUE):
        kind = "an integer" if self.kind is numbers.Integral else "a number"
        bounds = (f"{'[' if self.closed in ('both', 'left') else '('}"
                  f"{'-inf' if self.low is None else self.low}, "
                  f"{'inf' if self.high is None else self.high}"
                  f"{']' if self.closed in ('both', 'right') else ')'}")
        if value is _NO_VALUE:
            return f"{kind} in {bounds}"
        return f"in {bounds}" if self._right_type(value) else kind


class Options(Constraint):
    """One of a few values of type ``kind``.

    Parameters
    ----------
    kind : type
        The type of the values (``str``).
    values : iterable
        The values accepted, in the order the message lists them (a set is
        sorted).

    Examples
    --------
    >>> from skdeepsea._constraints import Options
    >>> Options(str, ("mean", "forward")).describe()
    "one of ('mean', 'forward')"
    """

    def __init__(self, kind, values):
        self.kind = kind
        unordered = isinstance(values, (set, frozenset))
        self.values = tuple(sorted(values) if unordered else values)

    def accepts(self, value):
        return isinstance(value, self.kind) and not _is_bool(value) and value in self.values

    def describe(self, value=_NO_VALUE):
        return repr(self.values[0]) if len(self.values) == 1 else f"one of {self.values}"


class Boolean(Constraint):
    """True or False (a Python or NumPy bool): not 1, not "no"."""

    def accepts(self, value):
        return _is_bool(value)

    def describe(self, value=_NO_VALUE):
        return "True or False"


class InstanceOf(Constraint):
    """An instance of ``types``, described as ``what`` (default: "a <type name>").

    A plain type in a constraint list means ``InstanceOf(that type)``.
    """

    def __init__(self, types, what=None):
        self.types = types
        if what is None:
            name = types.__name__
            what = f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"
        self.what = what

    def accepts(self, value):
        return isinstance(value, self.types)

    def describe(self, value=_NO_VALUE):
        return self.what


class HasMethods(Constraint):
    """An object with the callable attributes ``methods``, described as ``what``."""

    def __init__(self, methods, what):
        self.methods, self.what = tuple(methods), what

    def accepts(self, value):
        return all(callable(getattr(value, name, None)) for name in self.methods)

    def describe(self, value=_NO_VALUE):
        return self.what


class Satisfies(Constraint):
    """A value for which ``predicate(value)`` is true, described as ``what``.

    For rules no other constraint says (a base order, a NumPy dtype).
    """

    def __init__(self, predicate, what):
        self.predicate, self.what = predicate, what

    def accepts(self, value):
        return bool(self.predicate(value))

    def describe(self, value=_NO_VALUE):
        return self.what


class SeedLike(Constraint):
    """A random seed: None, an integer in [0, 2**32 - 1] or a ``numpy.random.RandomState``.

    Parameters
    ----------
    generator : bool, default=True
        Also accept a ``numpy.random.Generator`` (scikit-learn's
        ``check_random_state`` does not).
    """

    def __init__(self, generator=True):
        self.generator = generator

    def accepts(self, value):
        states = (np.random.RandomState, np.random.Generator) if self.generator else \
            np.random.RandomState
        return (value is None or isinstance(value, states)
                or Interval(numbers.Integral, 0, 2**32 - 1).accepts(value))

    def describe(self, value=_NO_VALUE):
        states = "a numpy.random.RandomState or Generator" if self.generator else \
            "a numpy.random.RandomState"
        return f"None, an integer in [0, 2**32 - 1] or {states}"


class PathLike(Constraint):
    """A file or folder path: a non-empty ``str`` or an ``os.PathLike``."""

    def accepts(self, value):
        return isinstance(value, os.PathLike) or (isinstance(value, str) and value != "")

    def describe(self, value=_NO_VALUE):
        return "a path (str or os.PathLike)"


class ArrayLike(Constraint):
    """A NumPy array or what converts to one (a list, a tuple, a pandas object); not a str."""

    def accepts(self, value):
        if isinstance(value, (str, bytes)):
            return False
        return hasattr(value, "__array__") or hasattr(value, "shape") or isinstance(
            value, (list, tuple))

    def describe(self, value=_NO_VALUE):
        return "an array-like"


class _IsNone(Constraint):
    def accepts(self, value):
        return value is None

    def describe(self, value=_NO_VALUE):
        return "None"


def _constraint(spec):
    """A constraint from an entry of a constraint list: a Constraint, None, or a type."""
    if isinstance(spec, Constraint):
        return spec
    if spec is None:
        return _IsNone()
    if isinstance(spec, type):
        return InstanceOf(spec)
    raise TypeError(f"Not a parameter constraint: {spec!r}.")


def _short_repr(value, limit=120):
    """repr of a value on one line, cut at ``limit`` characters (an array's can be long)."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _or(phrases):
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " or " + phrases[-1]


def _describe_constraints(constraints, value=_NO_VALUE):
    """What a list of constraints accepts, in words ("an integer in [1, inf] or None")."""
    return _or([_constraint(spec).describe(value) for spec in constraints])


def validate_params(constraints, values, owner=None):
    """Raise ValueError naming the first value that none of its constraints accepts.

    Parameters
    ----------
    constraints : dict
        Parameter name to a list of constraints (:class:`Constraint`
        objects, None for None, or a type for its instances); a value is
        valid when one of them accepts it. The values are checked in this
        order.
    values : dict
        Parameter name to value; every name must be in ``constraints``.
    owner : str or None, default=None
        The estimator or function the parameters are of, for the message.

    Raises
    ------
    ValueError
        ``"<owner>: <name> must be <expected>, got <value>."`` (without the
        owner when it is None).
    TypeError
        If a name has no constraint: not a parameter of ``owner``.

    Examples
    --------
    >>> from numbers import Real
    >>> from skdeepsea._constraints import Interval, validate_params
    >>> validate_params({"momentum": [Interval(Real, 0, 1)]}, {"momentum": 0.9}, "Model")
    >>> validate_params({"momentum": [Interval(Real, 0, 1)]}, {"momentum": 1.5}, "Model")
    Traceback (most recent call last):
    ...
    ValueError: Model: momentum must be in [0, 1], got 1.5.
    """
    prefix = f"{owner}: " if owner else ""
    unknown = [name for name in values if name not in constraints]
    if unknown:
        raise TypeError(f"{prefix}got an unexpected parameter {unknown[0]!r}.")
    for name, specs in constraints.items():
        value = values.get(name, _NO_VALUE)
        if value is not _NO_VALUE and not any(_constraint(spec).accepts(value) for spec in specs):
            raise ValueError(f"{prefix}{name} must be {_describe_constraints(specs, value)}, "
                             f"got {_short_repr(value)}.")


def parameter_constraints(constraints, owner=None):
    """Decorator: check a function's arguments against ``constraints`` before its body runs.

    scikit-learn's ``@validate_params`` for a public function: the arguments a
    call passes are checked by :func:`validate_params` (defaults are not: they
    are valid by construction), so the function's body starts with valid
    values. The table is kept on the function as ``_parameter_constraints``,
    where ``tests/test_constraints.py`` finds it for every public function.

    Parameters
    ----------
    constraints : dict
        Parameter name to a list of constraints, as :func:`validate_params`
        takes; every name must be a parameter of the function, or an option
        it takes through ``**kwargs`` (an option the table does not name is
        then refused with a ``TypeError``).
    owner : str or None, default=None
        The name the messages give; default: the function's name.

    Returns
    -------
    decorator : callable
        Takes the function, returns it wrapped.

    Raises
    ------
    TypeError
        At decoration, if a name is not a parameter of the function (which
        has no ``**kwargs``); at a call, for an option the table does not name.

    Examples
    --------
    >>> from numbers import Integral
    >>> from skdeepsea._constraints import Interval, parameter_constraints
    >>> @parameter_constraints({"n": [Interval(Integral, 1, None)]})
    ... def repeat(text, n=2):
    ...     return text * n
    >>> repeat("ab", n=0)
    Traceback (most recent call last):
    ...
    ValueError: repeat: n must be in [1, inf], got 0.
    """
    def decorate(function):
        signature = inspect.signature(function)
        options = next((p.name for p in signature.parameters.values()
                        if p.kind is p.VAR_KEYWORD), None)
        unknown = [name for name in constraints if name not in signature.parameters]
        if unknown and options is None:
            raise TypeError(f"{function.__qualname__} has no parameter {unknown[0]!r} "
                            "to constrain.")
        name = owner or function.__name__

        @functools.wraps(function)
        def checked(*args, **kwargs):
            try:
                passed = dict(signature.bind(*args, **kwargs).arguments)
            except TypeError:  # a wrong call: Python's own message, from the call itself
                return function(*args, **kwargs)
            # The **options a function passes on are checked like its named parameters; an
            # option the table does not name is refused as an unexpected parameter.
            passed.update(passed.pop(options, {}) if options else {})
            validate_params(constraints, {key: value for key, value in passed.items()
                                          if key in constraints or key not in
                                          signature.parameters}, name)
            return function(*args, **kwargs)

        checked._parameter_constraints = constraints
        return checked

    return decorate


class TargetKeys(Constraint):
    """Targets chosen by name or index: a ``str``, an integer, or a list of them.

    What :func:`skdeepsea.targets.target_indices` takes as ``keys`` (None
    aside: give it as its own constraint): a name, an integer index, or a
    list, tuple, 1-D array or ``pandas.Index`` of names and indices. Bools,
    floats and sets are refused; an empty list passes here (``target_indices``
    names it).
    """

    @staticmethod
    def _key(value):
        return isinstance(value, str) or (isinstance(value, numbers.Integral)
                                          and not _is_bool(value))

    def accepts(self, value):
        if self._key(value):
            return True
        if isinstance(value, (bytes, dict, set, frozenset)) or not hasattr(value, "__len__"):
            return False
        try:
            return np.ndim(value) == 1 and all(self._key(key) for key in value)
        except (TypeError, ValueError):
            return False

    def describe(self, value=_NO_VALUE):
        return "a target name or index, or a list of them"
