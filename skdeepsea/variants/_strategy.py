"""How single-base substitutions are predicted: the ``method`` of SNV scoring and mutagenesis.

"naive": full forward passes of the substituted sequences; "fast": each
substitution propagated as a difference
(:mod:`skdeepsea.variants._substitutions`); "device" (SNV scoring only): the
alternative windows and reverse complements made in the compiled step
(:mod:`skdeepsea.variants._device`); "auto": "device" where the caller has
that path and the Keras backend computes on an accelerator, else "fast" where
the network allows it and the cost model says it is faster, else "naive".
"""

from ._substitutions import substitution_network

METHODS = ("auto", "naive", "fast", "device")


def choose_method(method, network, length, positions, device=False):
    """The way substitutions at ``positions`` are predicted.

    Parameters
    ----------
    method : {"auto", "naive", "fast", "device"}
        The caller's ``method``, checked against :data:`METHODS` by its
        constraint table.
    network : keras.Model
        The classifier's network.
    length : int
        Its input length.
    positions : array-like of int
        The substituted positions (for the cost model of "auto").
    device : bool, default=False
        Whether "auto" takes the device path: the caller has one and the Keras
        backend computes on an accelerator.

    Returns
    -------
    "device", SubstitutionNetwork or None
        "device"; the network split for substitutions ("fast"); None for full
        forward passes ("naive").

    Raises
    ------
    ValueError
        For ``method="fast"`` with a network it does not apply to.
    """
    if method == "device" or (method == "auto" and device):
        return "device"
    split = substitution_network(network, length) if method != "naive" else None
    if method == "fast" and split is None:
        raise ValueError("method='fast' needs a float32 network of valid Conv1D and "
                         "MaxPooling1D layers followed by Flatten and Dense; use method='naive'.")
    if method == "auto" and split is not None and not split.faster(positions):
        return None
    return split
