"""Checks of hyperparameters shared by the network builder and the estimator."""

import numbers


def check_number(name, value, *, low=None, high=None, integer=False, strict=False, allow_none=False):
    """Raise ValueError unless value is a number in [low, high] ((low, high] if strict)."""
    if value is None and allow_none:
        return
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ValueError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}.")
    too_low = low is not None and (value <= low if strict else value < low)
    if too_low or (high is not None and value > high):
        opening = "(" if strict else "["
        bounds = f"{opening}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        raise ValueError(f"{name} must be in {bounds}, got {value!r}.")


def check_network_params(
    *, sequence_length, conv_filters, kernel_size, pool_size, fc_units, dropout, l2, l1_sparsity,
    max_kernel_norm,
):
    """Raise ValueError naming the first invalid network hyperparameter."""
    from .network import conv_output_length

    check_number("sequence_length", sequence_length, low=1, integer=True)
    if not isinstance(conv_filters, (tuple, list)) or len(conv_filters) == 0:
        raise ValueError(f"conv_filters must be a non-empty tuple of integers, got {conv_filters!r}.")
    for i, filters in enumerate(conv_filters):
        check_number(f"conv_filters[{i}]", filters, low=1, integer=True)
    check_number("kernel_size", kernel_size, low=1, integer=True)
    check_number("pool_size", pool_size, low=1, integer=True)
    check_number("fc_units", fc_units, low=1, integer=True)
    if not isinstance(dropout, (tuple, list)) or len(dropout) != len(conv_filters):
        raise ValueError(
            f"dropout must be a tuple of {len(conv_filters)} rates (one per convolution), "
            f"got {dropout!r}."
        )
    for i, rate in enumerate(dropout):
        check_number(f"dropout[{i}]", rate, low=0, high=0.999)
    check_number("l2", l2, low=0)
    check_number("l1_sparsity", l1_sparsity, low=0)
    check_number("max_kernel_norm", max_kernel_norm, low=0, strict=True, allow_none=True)
    out = conv_output_length(sequence_length, len(conv_filters), kernel_size, pool_size)
    if out < 1:
        raise ValueError(
            f"sequence_length={sequence_length} is too short for {len(conv_filters)} convolutions "
            f"of width {kernel_size} with pooling {pool_size}: nothing is left after the last one."
        )
