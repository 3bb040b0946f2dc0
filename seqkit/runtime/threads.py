"""How many threads a training takes: a number, torch's default, or `auto` (the cores other work leaves idle).

torch's default is one thread per core. On a machine that other jobs already keep busy, that asks for more
threads than there are free cores, and OpenMP's threads then wait on each other at every parallel region: a
training measured at 5 minutes alone took 41 beside two other jobs on 2 cores. `auto` counts the other work
once, at the start of training, and takes the cores it leaves free, at least one.

The other work is what the kernel has runnable right now (/proc/loadavg's running count, less this process),
sampled a few times and the median taken. The 1-minute load average was the first choice and lagged: a
training started just after another had finished still saw a load of 1 and took one thread of two on an idle
machine (benchmarks/busy_threads.py). Where there is no /proc, the load average is the fallback.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

AUTO = "auto"
LOAD_FILE = Path("/proc/loadavg")
SAMPLES = 5
SAMPLE_SECONDS = 0.05


def available_cores() -> int:
    """The cores this process may run on (its affinity where the platform says, else all of them)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def runnable_now(text: str) -> int:
    """The running count of a /proc/loadavg line ("0.98 1.07 1.04 3/345 12345" -> 3); this process among them."""
    return int(text.split()[3].split("/")[0])


def other_work() -> tuple[float, str] | None:
    """(how many cores other work keeps busy, how that was measured), or None where nothing tells."""
    if LOAD_FILE.is_file():
        samples = []
        for index in range(SAMPLES):
            if index:
                time.sleep(SAMPLE_SECONDS)
            samples.append(max(0, runnable_now(LOAD_FILE.read_text()) - 1))  # less this process
        busy = statistics.median(samples)
        return busy, f"{busy:g} other runnable"
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return None
    return load, f"load average {load:.1f}"


def idle_cores(cores: int, busy: float) -> int:
    """Cores minus the busy ones, rounded, and at least one: 2 cores with 1.2 busy leave 1."""
    return max(1, cores - round(busy))


def training_threads(setting: int | str | None) -> tuple[int | None, str | None]:
    """(threads to set, or None to keep torch's default; a note saying what `auto` chose, or None)."""
    if setting != AUTO:
        return setting, None
    cores = available_cores()
    measured = other_work()
    if measured is None:  # nothing tells how busy the machine is: assume it is idle
        return cores, f"train.threads auto: {cores} threads (no load figures here, {cores} cores)"
    busy, how = measured
    threads = idle_cores(cores, busy)
    return threads, f"train.threads auto: {threads} of {cores} cores ({how})"
