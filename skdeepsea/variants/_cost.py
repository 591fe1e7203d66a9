"""The cost model of ``method="auto"``: substitutions as differences, or full forward passes.

Costs are in multiply-add equivalents of a batched forward pass. The fast
path's NumPy products are smaller and run on one thread, so its multiply-adds
count more; each substitution (fast) or sequence (naive) also has a fixed cost
beyond its products: gathers and bookkeeping, or the input's transfer and cast.
The constants are fitted to ``benchmarks/bench_variants.py`` on a CPU
(benchmarks/RESULTS.md, "Figures moved from code comments").
"""

import numpy as np

_SMALL_PRODUCT_PENALTY = 3.0
_FAST_OVERHEAD = 1.25e6
_NAIVE_OVERHEAD = 1.75e6


def full_cost(network):
    """Multiply-adds of one forward pass of the whole network.

    Parameters
    ----------
    network : SubstitutionNetwork
        The network split for substitutions.

    Returns
    -------
    int
    """
    cost = sum(stage.out_length * stage.spread.size for stage in network.stages
               if stage.kind == "conv")
    return cost + network.dense_kernel.size + _head_cost(network)


def _head_cost(network):
    return sum(int(np.prod(w.shape)) for w in network.head.weights if len(w.shape) == 2)


def substitution_cost(network, position):
    """Multiply-adds of one substitution at ``position`` propagated as a difference.

    Parameters
    ----------
    network : SubstitutionNetwork
        The network split for substitutions.
    position : int
        The substituted input position.

    Returns
    -------
    int
        0 when the change never reaches the last stage.
    """
    planned = network.plan(position)
    if planned is None:
        return 0
    steps, (a, b) = planned
    cost = 0
    for stage, (_, _, _, changed) in zip(network.stages, steps):
        if stage.kind == "conv":
            cost += changed * stage.spread.size
    return cost + (b - a) * network.last_channels * network.dense_kernel.shape[1] + \
        _head_cost(network)


def differences_cheaper(network, positions):
    """Whether differences at ``positions`` cost less than full forward passes.

    A cost model, not a timer: per substitution, the multiply-adds of its
    difference (weighted for small products) plus a fixed cost, against a
    full forward pass plus its fixed cost. Both ways run the references, so
    they do not count. The difference's share grows with the changed
    receptive field's share of each layer: short sequences and wide kernels
    favour full passes.

    Parameters
    ----------
    network : SubstitutionNetwork
        The network split for substitutions.
    positions : ndarray of int, non-empty
        The substituted positions (a sample of them is costed).

    Returns
    -------
    bool
    """
    sample = positions[np.linspace(0, positions.size - 1, min(positions.size, 64)).astype(int)]
    difference = np.mean([substitution_cost(network, int(p)) for p in sample])
    return bool(_SMALL_PRODUCT_PENALTY * difference + _FAST_OVERHEAD
                < full_cost(network) + _NAIVE_OVERHEAD)
