import os
import re
import warnings

import numpy as np
import pytest

# A network small enough that a fit takes a second on a CPU, with the
# DeepSEA structure (convolutions, pooling, dropout, dense, max-norm, L1/L2).
SMALL = dict(
    conv_filters=(16, 16),
    dropout=(0.1, 0.1),
    kernel_size=6,
    pool_size=2,
    fc_units=16,
    optimizer="adam",
    learning_rate=0.01,
    batch_size=32,
    epochs=15,
    random_state=0,
)

MOTIFS = ("GATAAG", "TGACTCA")


def motif_data(n=400, length=60, seed=0):
    """Random DNA with two motifs planted independently, each in its own slot; one target per motif."""
    rng = np.random.default_rng(seed)
    seqs, labels = [], []
    for _ in range(n):
        seq = list(rng.choice(list("ACGT"), length))
        row = []
        for i, motif in enumerate(MOTIFS):
            present = rng.random() < 0.5
            if present:
                # Each motif in its own slot, so plantings never overlap.
                start = (i + 1) * length // (len(MOTIFS) + 1) - len(motif) // 2 + rng.integers(-3, 4)
                seq[start:start + len(motif)] = motif
            row.append(int(present))
        seqs.append("".join(seq))
        labels.append(row)
    return np.array(seqs, dtype=object), np.array(labels)


@pytest.fixture(scope="session")
def dataset():
    return motif_data()


def refused(name, value, owner=None):
    """The regex of the one wording of a refused value (``validate_params``): the owner, the
    parameter, and the value as the message writes it (its repr on one line, cut if long)."""
    from skdeepsea._constraints import _short_repr

    prefix = re.escape(f"{owner}: ") if owner else ""
    return rf"^{prefix}{re.escape(name)} must be .+, got {re.escape(_short_repr(value))}\.$"


def assert_refused_before_any_work(function, args, name, folder):
    """``function(**args)`` refuses ``args[name]`` in the one wording, warning nothing and
    leaving ``folder`` (where its paths point) empty."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # refused before anything is read, warned or written
        with pytest.raises(ValueError, match=refused(name, args[name], function.__name__)):
            function(**args)
    assert not os.listdir(folder)


def assert_writer_writes_nothing(function, base_args, bad_values, output, folder):
    """Each parameter's first bad value is refused and ``folder / output`` never appears."""
    for name, values in bad_values.items():
        args = {**base_args, name: values[0]}
        with pytest.raises(ValueError, match=refused(name, values[0], function.__name__)):
            function(**args)
        assert not (folder / output).exists()
    assert not os.listdir(folder)
