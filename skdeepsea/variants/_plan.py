"""Which positions of each stage a single-base substitution changes, and which it reads.

A substitution at input position p changes a valid convolution's outputs only
in ``[p - k + 1, p]`` and a pooling's only in the windows holding a changed
value, and so on up the stack (fastISM, Nair et al. 2022). A stage here is
anything with ``kind`` ("conv" or "pool"), ``size`` (kernel or pool width) and
``out_length``.
"""

import numpy as np


def stage_plan(stage, a, b):
    """One stage's plan for changed inputs ``[a, b)``.

    Parameters
    ----------
    stage : object
        A convolution or pooling stage (``kind``, ``size``, ``out_length``).
    a, b : int
        The changed inputs.

    Returns
    -------
    tuple or None
        ((needed first input, width, changed offset, changed width), the
        changed outputs ``(a2, b2)``); None when no output changes.
    """
    k = stage.size
    if stage.kind == "conv":
        a2, b2 = max(0, a - k + 1), min(stage.out_length, b)
        n0, n1 = a2, b2 + k - 1
    else:
        a2, b2 = a // k, min(stage.out_length, (b - 1) // k + 1)
        n0, n1 = a2 * k, b2 * k
    if b2 <= a2:
        return None
    return (n0, n1 - n0, a - n0, min(b, n1) - a), (a2, b2)


def position_plan(stages, position):
    """Per stage the plan of a substitution at ``position``, and the last stage's changes.

    Parameters
    ----------
    stages : list
        The convolution and pooling stages, input first.
    position : int
        The substituted input position.

    Returns
    -------
    tuple or None
        (per stage (needed first input, width, changed offset, changed
        width), the last stage's changed positions ``(a, b)``); None when
        nothing reaches the last stage.
    """
    a, b = position, position + 1
    steps = []
    for stage in stages:
        planned = stage_plan(stage, a, b)
        if planned is None:
            return None
        step, (a, b) = planned
        steps.append(step)
    return steps, (a, b)


def read_ranges(stages, plans):
    """Per stage, the span of its outputs that some substitution reads.

    Parameters
    ----------
    stages : list
        The convolution and pooling stages, input first.
    plans : list
        Outputs of :func:`position_plan` (none of them None).

    Returns
    -------
    tuple
        Per stage ``(lo, hi)``, or None where nothing is read.
    """
    spans = [[None, None] for _ in stages]

    def cover(s, lo, hi):
        spans[s][0] = lo if spans[s][0] is None else min(spans[s][0], lo)
        spans[s][1] = hi if spans[s][1] is None else max(spans[s][1], hi)

    for steps, _ in plans:
        for s, (n0, width, _, _) in enumerate(steps):
            stage = stages[s]
            if stage.kind == "conv":
                cover(s, n0, n0 + width - stage.size + 1)  # its changed outputs
            elif s > 0:
                cover(s - 1, n0, n0 + width)  # a pooling reads its whole windows
    return tuple(None if lo is None else (lo, hi) for lo, hi in spans)


class Plans:
    """The plans of the distinct substituted positions of one call, as arrays.

    ``geometry[i]``: the index in ``steps`` of position ``unique[i]``'s widths and
    offsets (-1 when its change never reaches the last stage); ``firsts[i]``: its
    first needed input per stage; ``last_first[i]``: its first changed position of
    the last stage; ``ranges``: per stage, the span of reference outputs read.

    Parameters
    ----------
    stages : list
        The convolution and pooling stages, input first.
    positions : ndarray of int
        The substituted positions (repeats allowed).
    """

    def __init__(self, stages, positions):
        self.unique = np.unique(positions)
        self.geometry = np.full(len(self.unique), -1, dtype=np.int64)
        self.firsts = np.zeros((len(self.unique), len(stages)), dtype=np.int64)
        self.last_first = np.zeros(len(self.unique), dtype=np.int64)
        self.steps, ids, planned = [], {}, []
        for i, p in enumerate(self.unique):
            plan = position_plan(stages, int(p))
            if plan is None:
                continue
            steps, (a, _) = plan
            key = tuple(step[1:] for step in steps)
            if key not in ids:
                ids[key] = len(self.steps)
                self.steps.append(steps)
            self.geometry[i] = ids[key]
            self.firsts[i] = [step[0] for step in steps]
            self.last_first[i] = a
            planned.append(plan)
        self.ranges = read_ranges(stages, planned)

    def index(self, positions):
        """The indices in ``unique`` of ``positions``."""
        return np.searchsorted(self.unique, positions)
