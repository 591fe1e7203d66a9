"""Start a multi-process training job: every process runs the same script, one joins per call.

:func:`initialize` connects this process to the others through JAX's
multi-process runtime (``jax.distributed.initialize``, which Keras'
``keras.distribution.initialize`` calls too), with the process id, the
number of processes and the coordinator's address taken from its arguments
or from the environment the launcher set (:func:`cluster_from_environment`:
torchrun, SLURM, Keras' own variables). A ``DeepSEAClassifier(data_parallel=True)``
fitted afterwards trains across all the processes' devices: each process
reads its share of every batch, process 0 writes the checkpoints. JAX
backend only (Keras' distribution API). See docs/training-at-scale.md.

Examples
--------
>>> from skdeepsea.distributed import cluster_from_environment
>>> cluster_from_environment({"RANK": "1", "WORLD_SIZE": "2", "MASTER_ADDR": "10.0.0.1",
...                           "MASTER_PORT": "29500"})
{'coordinator': '10.0.0.1:29500', 'num_processes': 2, 'process_id': 1, 'source': 'torchrun'}
"""

import math
import os
import socket
import sys
import threading
import time
from collections.abc import Mapping
from numbers import Integral, Real

from ._constraints import InstanceOf, Interval, Satisfies, parameter_constraints

__all__ = ["cluster_from_environment", "initialize", "is_main_process"]

DEFAULT_TIMEOUT = 300  # seconds, JAX's own default

_ENVIRON = [InstanceOf(Mapping, "a mapping (such as os.environ)"), None]


def _slurm_first_host(node_list):
    """The first host name of a SLURM node list ("node[001-004,010],other" -> "node001")."""
    bracket, comma = node_list.find("["), node_list.find(",")
    if bracket == -1 or (comma != -1 and comma < bracket):
        return node_list.split(",")[0]
    first = node_list[bracket + 1:].split(",")[0].split("-")[0].rstrip("]")
    return node_list[:bracket] + first


@parameter_constraints({"environ": _ENVIRON})
def cluster_from_environment(environ=None):
    """The process id, process count and coordinator the launcher put in the environment.

    Looked for in this order:

    - Keras' ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` (the first address is the
      coordinator's), ``KERAS_DISTRIBUTION_NUM_PROCESSES``,
      ``KERAS_DISTRIBUTION_PROCESS_ID``;
    - torchrun's ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``.
      torchrun's own store listens on ``MASTER_PORT`` when it says so
      (``TORCHELASTIC_USE_AGENT_STORE=True``): the coordinator then takes
      the next port;
    - SLURM's ``SLURM_PROCID``, ``SLURM_NTASKS`` and the first host of
      ``SLURM_STEP_NODELIST`` (or ``SLURM_JOB_NODELIST``), on the port JAX
      derives from ``SLURM_JOB_ID`` (the same as JAX's own SLURM detection).

    ``JAX_COORDINATOR_PORT``, when set, is the coordinator's port in all
    cases.

    Parameters
    ----------
    environ : mapping or None, default=None
        The environment; None: ``os.environ``.

    Returns
    -------
    cluster : dict or None
        ``coordinator`` ("host:port"), ``num_processes``, ``process_id`` and
        ``source`` ("keras", "torchrun" or "slurm"); None when no launcher's
        variables are set.

    Raises
    ------
    ValueError
        ``"cluster_from_environment: environ must be ..., got <value>."`` if
        ``environ`` is not a mapping; if a variable that holds a number (a
        rank, a count, a port, a job id) holds something else (naming it).
    """
    env = os.environ if environ is None else environ

    def number(name, default=None):
        value = env.get(name, default)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"The environment variable {name} must be an integer, got "
                             f"{value!r}.") from None

    def port_override(address):
        port = env.get("JAX_COORDINATOR_PORT")
        return address if not port else f"{address.rsplit(':', 1)[0]}:{port}"

    if "KERAS_DISTRIBUTION_NUM_PROCESSES" in env:
        address = env.get("KERAS_DISTRIBUTION_JOB_ADDRESSES", "").split(",")[0] or None
        return {"coordinator": address and port_override(address),
                "num_processes": number("KERAS_DISTRIBUTION_NUM_PROCESSES"),
                "process_id": number("KERAS_DISTRIBUTION_PROCESS_ID", 0),
                "source": "keras"}
    if "WORLD_SIZE" in env and "RANK" in env and "MASTER_ADDR" in env:
        port = number("MASTER_PORT", 29500)
        if env.get("TORCHELASTIC_USE_AGENT_STORE", "").lower() == "true":
            port += 1  # torchrun's store is listening on MASTER_PORT
        return {"coordinator": port_override(f"{env['MASTER_ADDR']}:{port}"),
                "num_processes": number("WORLD_SIZE"), "process_id": number("RANK"),
                "source": "torchrun"}
    nodes = env.get("SLURM_STEP_NODELIST") or env.get("SLURM_JOB_NODELIST")
    if "SLURM_PROCID" in env and "SLURM_NTASKS" in env and nodes and "SLURM_JOB_ID" in env:
        port = number("SLURM_JOB_ID") % 2**12 + (65535 - 2**12 + 1)
        return {"coordinator": port_override(f"{_slurm_first_host(nodes)}:{port}"),
                "num_processes": number("SLURM_NTASKS"),
                "process_id": number("SLURM_PROCID"), "source": "slurm"}
    return None


def _parse_address(address):
    """``(host, port)`` of a "host:port" address, or None."""
    host, _, port = str(address).rpartition(":")
    if not host or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def _split_address(address):
    """``(host, port)``, or a ValueError (an address from the launcher's environment)."""
    parsed = _parse_address(address)
    if parsed is None:
        raise ValueError(f"The coordinator's address must be host:port, got {address!r}.")
    return parsed


def _wait_for_coordinator(address, timeout):
    """Return when the coordinator accepts connections; TimeoutError after ``timeout`` s."""
    host, port = _split_address(address)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=max(0.1, min(2.0, timeout))):
                return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"The coordinator {address} (process 0) did not answer within {timeout:g} s "
                    f"({e}). Start process 0 too, with the same address, or check the address "
                    "and that its port is open."
                ) from None
            time.sleep(0.25)


@parameter_constraints({})  # no parameters
def is_main_process():
    """Whether this process writes the job's files: process 0, or a process on its own.

    Examples
    --------
    >>> from skdeepsea.distributed import is_main_process
    >>> is_main_process()
    True
    """
    if "jax" not in sys.modules:
        return True
    import jax

    return not jax.distributed.is_initialized() or jax.process_index() == 0


@parameter_constraints({
    "coordinator": [Satisfies(lambda value: isinstance(value, str)
                              and _parse_address(value) is not None, "a 'host:port' address"),
                    None],
    "num_processes": [Interval(Integral, 1, None), None],
    "process_id": [Interval(Integral, 0, None), None],
    "timeout": [Satisfies(lambda value: Interval(Real, 0, None, closed="neither").accepts(value)
                          and math.isfinite(value), "a finite number of seconds > 0")],
    "environ": _ENVIRON,
})
def initialize(coordinator=None, num_processes=None, process_id=None, *,
               timeout=DEFAULT_TIMEOUT, environ=None):
    """Join this process to a multi-process training job (JAX backend).

    Call it once at the start of every process, before any Keras
    computation; then fit ``DeepSEAClassifier(data_parallel=True, ...)`` in
    every process with the same parameters and data. Arguments left at None
    come from the launcher's environment (:func:`cluster_from_environment`).
    A job of one process needs no call: this returns at once.

    Parameters
    ----------
    coordinator : str or None, default=None
        "host:port" of process 0, where JAX's coordination service listens.
    num_processes : int or None, default=None
        Processes in the job.
    process_id : int or None, default=None
        This process's id, from 0 to ``num_processes - 1``.
    timeout : float, default=300
        Seconds to wait for the coordinator and for every process to join.
        A process other than 0 whose coordinator does not accept connections
        in time raises TimeoutError. A job that does not gather in time
        (a process missing) is ended by JAX's runtime; this function prints
        why on stderr and ends the process first (exit status 1), since a
        blocked JAX call cannot be interrupted.
    environ : mapping or None, default=None
        Where to read the launcher's variables; None: ``os.environ``.

    Returns
    -------
    cluster : dict
        ``coordinator``, ``num_processes``, ``process_id`` and ``source``
        ("arguments" when all three were given).

    Raises
    ------
    ValueError
        ``"initialize: <parameter> must be ..., got <value>."`` for a
        parameter of the wrong type or value; if the backend is not JAX, the
        process id, count or address is missing, the id is not below the
        count, an address from the environment is not host:port, or JAX was
        initialized already with others.
    TimeoutError
        If the coordinator did not answer within ``timeout`` seconds.
    """
    import keras

    given = {"coordinator": coordinator, "num_processes": num_processes,
             "process_id": process_id}
    found = cluster_from_environment(environ) or {}
    cluster = {key: value if value is not None else found.get(key)
               for key, value in given.items()}
    cluster["source"] = ("arguments" if None not in given.values()
                         else found.get("source", "arguments"))
    n, rank, address = cluster["num_processes"], cluster["process_id"], cluster["coordinator"]
    if n is None or rank is None:
        raise ValueError(
            "The number of processes and this process's id are unknown: pass num_processes= "
            "and process_id= (--num-processes, --process-id), or start the processes with "
            "torchrun or srun, whose variables (WORLD_SIZE / RANK, SLURM_NTASKS / SLURM_PROCID) "
            "give them."
        )
    n, rank = int(n), int(rank)
    if n < 1 or not 0 <= rank < n:
        raise ValueError(f"process_id must be in [0, {n - 1}] for {n} processes, got {rank}.")
    if n == 1:
        return cluster
    if keras.backend.backend() != "jax":
        raise ValueError(
            "Multi-process training uses Keras' distribution API, which needs the JAX backend; "
            f"the current backend is {keras.backend.backend()!r} (set KERAS_BACKEND=jax)."
        )
    if address is None:
        raise ValueError("The coordinator's address is unknown: pass coordinator='host:port' "
                         "(--coordinator), the address of process 0.")
    _split_address(address)
    import jax

    if jax.distributed.is_initialized():
        if (jax.process_count(), jax.process_index()) != (n, rank):
            raise ValueError(
                f"JAX's multi-process runtime runs already, as process {jax.process_index()} of "
                f"{jax.process_count()}, not {rank} of {n}."
            )
        return cluster
    timeout = float(timeout)
    if rank != 0:
        _wait_for_coordinator(address, timeout)
    done = threading.Event()

    def watchdog():
        if not done.wait(timeout + 5):
            print(f"skdeepsea: error: process {rank} of {n}: the job did not gather at the "
                  f"coordinator {address} within {timeout:g} s (a process is missing, or runs "
                  "with another address or process count).", file=sys.stderr, flush=True)
            os._exit(1)

    threading.Thread(target=watchdog, name="skdeepsea-initialize", daemon=True).start()
    try:
        jax.distributed.initialize(
            coordinator_address=address, num_processes=n, process_id=rank,
            initialization_timeout=int(timeout) + 30,
        )
    finally:
        done.set()
    return cluster
