"""How many torch threads a run uses when nobody said (``threads: 0``).

On a machine whose cores another process keeps busy, OpenMP threads that must meet after every op wait for the
scheduler, and a step gets several times slower than with fewer threads (docs/training.md, "Sharing the CPU").
So the default is the cores that are idle when the run starts: the cores this process may use minus the
1-minute load average, rounded, at least 1. ``OMP_NUM_THREADS`` (or ``--threads`` / ``threads:``) overrides it.
"""
from __future__ import annotations

import os

import torch


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def idle_cores() -> int:
    """Usable cores minus the 1-minute load average (other runnable processes), rounded, at least 1."""
    cores = usable_cores()
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform: assume the machine is ours
        busy = 0.0
    return max(1, min(cores, int(cores - busy + 0.5)))


def default_threads() -> int:
    """The intra-op threads of a run with ``threads: 0``: ``OMP_NUM_THREADS`` when set, else :func:`idle_cores`."""
    if os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    return idle_cores()
