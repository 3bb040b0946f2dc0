"""How many threads a training takes: a number, torch's default, or `auto` (the cores other work leaves idle).

torch's default is one thread per core. On a machine that other jobs already keep busy, that asks for more
threads than there are free cores, and OpenMP's threads then wait on each other at every parallel region: a
training measured at 5 minutes alone took 41 beside two other jobs on 2 cores. `auto` takes the cores the
1-minute load average leaves free, at least one, once at the start of training.
"""

from __future__ import annotations

import os

AUTO = "auto"


def available_cores() -> int:
    """The cores this process may run on (its affinity where the platform says, else all of them)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def idle_cores(cores: int, load_average: float) -> int:
    """Cores minus the running load, rounded, and at least one: 2 cores at a load of 1.2 leave 1."""
    return max(1, cores - round(load_average))


def training_threads(setting: int | str | None) -> tuple[int | None, str | None]:
    """(threads to set, or None to keep torch's default; a note saying what `auto` chose, or None)."""
    if setting != AUTO:
        return setting, None
    cores = available_cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform: assume an idle machine
        return cores, f"train.threads auto: {cores} threads (no load average here, {cores} cores)"
    threads = idle_cores(cores, load)
    return threads, f"train.threads auto: {threads} of {cores} cores (load average {load:.1f})"
