"""Helpers shared by the benchmark scripts: medians of repeated timings, the machine, writing results."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path


def median_rate(work: Callable[[], int], repeats: int) -> tuple[float, list[float]]:
    """Run `work` (which returns how many items it processed) `repeats` times; median items per second."""
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        items = work()
        rates.append(items / (time.perf_counter() - started))
    return statistics.median(rates), rates


def forget_pretrained(model) -> None:
    """Empty the memory of every pretrained encoder in `model`, so that the next call is timed on sentences its
    transformer reads for the first time, as a server's would be (seqkit/encoders/pretrained.py)."""
    from seqkit.encoders.pretrained import PretrainedEncoder

    for module in model.modules():
        if isinstance(module, PretrainedEncoder):
            module.forget()


def machine() -> dict:
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average_1min": os.getloadavg()[0],
    }


def emit(results: dict, out: Path | None) -> None:
    """Print the results as JSON and, with `out`, save them there too (benchmarks/results/...)."""
    text = json.dumps(results, indent=2)
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
