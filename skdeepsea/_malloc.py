"""glibc's malloc settings, where large arrays are allocated and freed again and again.

glibc maps every allocation above its mmap threshold (at most 32 MiB on 64-bit) with
``mmap`` and unmaps it when freed, so an array of that size allocated anew at every step
(the full-size network's activations and its 188 MB dense-kernel gradient, on the torch
backend on a CPU) is faulted in page by page at every step: about 500 MB and 20% of a
training step's time in system time (benchmarks/RESULTS.md, issue 22). With mmap off, such
arrays come from the heap and are reused. Dask's workers meet the opposite case
(issue 23): their ``MALLOC_TRIM_THRESHOLD_`` pins the mmap threshold at 128 KiB.

Only glibc is tuned (through ``mallopt``); with another C library nothing is changed.
Imports nothing of the package.
"""

import contextlib
import functools
import os

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4  # mallopt's parameters
MMAP_THRESHOLD_MAX = 32 << 20  # glibc's cap on 64-bit; its dynamic trim threshold is twice it
_MMAP_MAX_DEFAULT = 65536
_HEAP_KEPT = 1 << 30  # free heap kept while large buffers are reused, rather than trimmed

__all__ = ["glibc", "dask_task_thresholds", "reused_large_buffers"]


@functools.cache
def glibc():
    """glibc through ctypes, or None (another C library or system)."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 (glibc, not another libc.so.6)
        return libc
    except (OSError, AttributeError):
        return None


def _environment_setting(name, default):
    """A malloc setting of the process's environment (``MALLOC_<NAME>_``), else the default."""
    value = os.environ.get(f"MALLOC_{name}_", "")
    return int(value) if value.isdigit() else default


def _settled(libc):
    """The settings outside a lifted block: the environment's, else where glibc's own dynamic
    thresholds go with large arrays (mallopt fixes them once called, so they are named)."""
    libc.mallopt(M_MMAP_MAX, _environment_setting("MMAP_MAX", _MMAP_MAX_DEFAULT))
    libc.mallopt(M_MMAP_THRESHOLD, _environment_setting("MMAP_THRESHOLD", MMAP_THRESHOLD_MAX))
    libc.mallopt(M_TRIM_THRESHOLD, _environment_setting("TRIM_THRESHOLD",
                                                        2 * MMAP_THRESHOLD_MAX))


@contextlib.contextmanager
def reused_large_buffers():
    """Large arrays come from the heap and are reused, for the block; yields whether.

    ``mmap`` off and up to 1 GiB of free heap kept; after the block, the
    thresholds are settled (the environment's ``MALLOC_*_`` settings, else
    those glibc reaches by itself with large arrays) and the free memory
    returned (``malloc_trim``). Results do not change: only where the memory
    comes from.
    """
    libc = glibc()
    if libc is None:
        yield False
        return
    libc.mallopt(M_MMAP_MAX, 0)
    libc.mallopt(M_TRIM_THRESHOLD, _HEAP_KEPT)
    try:
        yield True
    finally:
        _settled(libc)
        libc.malloc_trim(0)


@contextlib.contextmanager
def dask_task_thresholds():
    """glibc's malloc thresholds of a process of its own while a Dask task scores; yields
    whether they were changed.

    Dask's nanny starts each worker with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``), so that freed memory goes back to the
    OS. Setting it also fixes glibc's mmap threshold at 128 KiB, which otherwise
    grows to the size of the arrays freed: every larger array (the windows, the
    activations) is then mapped, faulted in page by page and unmapped anew, at a large
    cost in system time (benchmarks/RESULTS.md, issue 23). While a task scores, the
    thresholds are those glibc reaches by itself with large arrays (mmap 32 MiB, trim
    twice that); then Dask's are put back and the free memory returned (``malloc_trim``).
    """
    libc, trim = glibc(), os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if libc is None or trim is None or not trim.isdigit():
        yield False
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX)
    libc.mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_MAX)
    try:
        yield True
    finally:
        libc.mallopt(M_TRIM_THRESHOLD, int(trim))
        libc.mallopt(M_MMAP_THRESHOLD, 128 << 10)  # glibc's default, fixed by Dask's setting
        libc.malloc_trim(0)
