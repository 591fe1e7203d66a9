"""Training in a multi-process JAX job: each process's share of a batch, agreement, one writer.

After :func:`skdeepsea.distributed.initialize` (JAX's multi-process runtime),
``keras.distribution.list_devices()`` lists the devices of every process and a
data-parallel fit spans them all. Each process then feeds the rows of every
global batch that go to its own devices (Keras builds the global batch with
``jax.make_array_from_process_local_data``), so the batch sources take a
:class:`Share`: the global order is the one-process order, each process keeps
its slice. Everything written (checkpoints) is written by process 0 while the
others wait at a barrier. One process alone (every backend) is a share of one:
nothing here runs a collective.
"""

import hashlib
import json
from dataclasses import dataclass

import numpy as np

from .lazy import read_rows

_SAMPLED_ROWS = 64  # rows of each array hashed when the processes compare their data


@dataclass(frozen=True)
class Share:
    """This process's part of every batch: ``index`` of ``count`` equal, consecutive slices.

    Attributes
    ----------
    index : int
        Which slice (the position of this process's devices in the mesh).
    count : int
        Number of processes (slices).
    """

    index: int = 0
    count: int = 1

    @property
    def writer(self):
        """Whether this process writes files (process 0, or the only process)."""
        return self.index == 0

    def part(self, size):
        """The (begin, end) offsets of this share in a batch of ``size`` rows.

        Examples
        --------
        >>> from skdeepsea._engine.processes import Share
        >>> Share(1, 2).part(16)
        (8, 16)
        """
        step = size // self.count
        return self.index * step, (self.index + 1) * step


def process_count():
    """Number of processes of the JAX job this process belongs to (1 on other backends)."""
    import keras

    if keras.backend.backend() != "jax":
        return 1
    import jax

    return jax.process_count()


def process_share(devices):
    """This process's :class:`Share` of batches split over ``devices`` (all processes' devices).

    Parameters
    ----------
    devices : list of str or None
        Keras' device names (``keras.distribution.list_devices()``) of
        data-parallel training; None: not data parallel.

    Returns
    -------
    share : Share
    """
    if devices is None or process_count() == 1:
        return Share()
    import jax

    local = [f"{d.platform.lower()}:{d.id}" for d in jax.local_devices()]
    positions = sorted(devices.index(name) for name in local if name in devices)
    n = len(local)
    if (len(positions) != n or positions != list(range(positions[0], positions[0] + n))
            or positions[0] % n or len(devices) != n * jax.process_count()):
        raise ValueError(
            f"Data-parallel training over {len(devices)} devices of {jax.process_count()} "
            f"processes needs the same number of devices in every process, each process's "
            f"devices next to each other; process {jax.process_index()} has {local}, at "
            f"positions {positions} of {devices}."
        )
    return Share(positions[0] // n, len(devices) // n)


def broadcast_seed(value):
    """Process 0's ``value`` (an int below 2**31) in every process."""
    from jax.experimental import multihost_utils

    return int(multihost_utils.broadcast_one_to_all(np.int32(value)))


def barrier(name):
    """Wait until every process of the job has reached the barrier ``name``."""
    from jax.experimental import multihost_utils

    multihost_utils.sync_global_devices(f"skdeepsea:{name}")


def data_digest(array, rows=_SAMPLED_ROWS):
    """A short hash of the shape, type and ``rows`` evenly spaced rows of an array (lazy too).

    Examples
    --------
    >>> import numpy as np
    >>> from skdeepsea._engine.processes import data_digest
    >>> data_digest(np.zeros((5, 2))) == data_digest(np.zeros((5, 2)))
    True
    >>> data_digest(np.zeros((5, 2))) == data_digest(np.ones((5, 2)))
    False
    """
    if array is None:
        return None
    digest = hashlib.sha256(repr((tuple(array.shape), str(array.dtype))).encode())
    n = len(array)
    for i in np.unique(np.linspace(0, n - 1, min(n, rows)).astype(np.int64)):
        digest.update(np.ascontiguousarray(read_rows(array, int(i), int(i) + 1)).tobytes())
    return digest.hexdigest()[:16]


def check_agreement(record):
    """Refuse to train unless every process holds the same ``record``, naming what differs.

    Every process calls this with its record (JSON-serialisable: parameters,
    data sizes and hashes, checkpoint, devices); all of them gather all
    records, and all raise the same error when they differ.

    Parameters
    ----------
    record : dict
        This process's view of the training.

    Raises
    ------
    ValueError
        If the processes' records differ.
    """
    from jax.experimental import multihost_utils

    data = json.dumps(record, sort_keys=True, default=str).encode()
    lengths = np.asarray(multihost_utils.process_allgather(np.array([len(data)], np.int32)))
    lengths = lengths.reshape(-1)
    padded = np.zeros(int(lengths.max()), dtype=np.uint8)
    padded[:len(data)] = np.frombuffer(data, dtype=np.uint8)
    gathered = np.asarray(multihost_utils.process_allgather(padded))
    records = [json.loads(bytes(row[:n]).decode()) for row, n in zip(gathered, lengths)]
    first = records[0]
    differences = []
    for key in sorted(set().union(*records)):
        for process, other in enumerate(records[1:], start=1):
            if other.get(key) != first.get(key):
                differences.append(f"{key} (process 0: {_short(first.get(key))}, process "
                                   f"{process}: {_short(other.get(key))})")
                break
    if differences:
        raise ValueError(
            f"The {len(records)} processes of this job would train different models: they "
            f"differ in {'; '.join(differences)}. Start every process with the same parameters "
            "and the same data (and checkpoint_dir on a file system they all see)."
        )


def _short(value, width=60):
    text = json.dumps(value, default=str)
    return text if len(text) <= width else text[:width - 3] + "..."


def localized(network):
    """A copy of a network trained across processes whose variables live in this process only.

    After a multi-process fit the variables are global arrays, replicated on
    every process's devices: predicting with them, or saving them, would need
    every process. The copy (the model, its optimizer state included, saved
    and loaded in memory) is an ordinary one-process model.
    """
    from .archive import model_from_bytes, model_to_bytes

    return model_from_bytes(model_to_bytes(network))
