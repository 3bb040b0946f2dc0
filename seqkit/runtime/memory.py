"""Peak resident memory of the running process: what a training run or a benchmark states it needed."""

from __future__ import annotations

import resource
import sys


def peak_memory_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports kilobytes, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
