"""Times one task's workload against its kernel bound in the same process; prints one JSON document.

    PYTHONPATH=. SEQKIT_DATA_DIR=../shared/data python -m benchmarks.harness atis [--run RUN_DIR] [--threads 1]

Model and bound take turns within each round (training, then batched prediction), so load from other
processes on a shared machine hits both alike; each figure is the median over rounds, and each ratio is the
median of the per-round ratios. `python -m benchmarks` runs this once per task, each in its own process, so
that peak memory is per task.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from benchmarks.common import machine
from benchmarks.workloads import SLICES, WORKLOADS, Slice, Workload
from seqkit.config import TrainConfig
from seqkit.runtime.memory import peak_memory_mib
from seqkit.training.optimizer import build_optimizer


def _timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _train(module: torch.nn.Module, batches: list[dict], config: TrainConfig | None = None):
    """One pass of forward + backward over `batches`. With a `config`, `module` is the model (its output holds
    the loss) and each pass ends in the optimizer step the trainer would take; without, it is the bound (it
    returns the loss itself)."""
    optimizer = build_optimizer(module.parameters(), config) if config is not None else None

    def work() -> None:
        module.train()
        for batch in batches:
            module.zero_grad(set_to_none=True)
            loss = module(batch).loss if optimizer is not None else module(batch)
            loss.backward()
            if optimizer is not None:
                optimizer.step()

    return work


def _median_ratio(numerators: list[float], denominators: list[float]) -> float:
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def measure(workload: Workload, size: Slice) -> dict:
    """Training units/s, batched items/s, single-item latency, each beside its bound, as a dict."""
    units = sum(workload.units(batch) for batch in workload.batches)
    padded = sum(workload.padded_units(batch) for batch in workload.batches)
    # The rate only scales the update; a small one keeps repeated timing passes from drifting far.
    train_model = _train(workload.model, workload.batches, replace(workload.train, learning_rate=1e-4))
    train_bound = _train(workload.bound, workload.batches)
    inference_batches = workload.inference_batches(workload.items)
    workload.model.eval()

    def predict_bound() -> None:
        for batch in inference_batches:
            workload.bound_predict(batch)

    def predict_model() -> None:
        workload.predict(workload.items)

    for work in (train_model, train_bound, predict_model, predict_bound):  # warm-up: first calls allocate
        work()
    times: dict[str, list[float]] = {"train": [], "train_bound": [], "predict": [], "predict_bound": []}
    for _ in range(size.repeats):
        times["train"].append(_timed(train_model))
        times["train_bound"].append(_timed(train_bound))
        times["predict"].append(_timed(predict_model))
        times["predict_bound"].append(_timed(predict_bound))
    workload.model.eval()
    latencies, bound_latencies = [], []
    for item in workload.items[: size.latency_items]:
        latencies.append(_timed(lambda item=item: workload.predict([item])))
        (single,) = workload.inference_batches([item])
        bound_latencies.append(_timed(lambda single=single: workload.bound_predict(single)))
    count = len(workload.items)
    return {
        "training_unit": workload.unit,
        "training_units_per_second": round(units / statistics.median(times["train"]), 1),
        "training_bound_units_per_second": round(units / statistics.median(times["train_bound"]), 1),
        "training_ratio": round(_median_ratio(times["train_bound"], times["train"]), 3),
        "training_padding_waste": round(1 - units / padded, 3) if padded else 0.0,
        "item": workload.item,
        "items": count,
        "batched_items_per_second": round(count / statistics.median(times["predict"]), 1),
        "batched_bound_items_per_second": round(count / statistics.median(times["predict_bound"]), 1),
        "batched_ratio": round(_median_ratio(times["predict_bound"], times["predict"]), 3),
        "latency_ms_median": round(1000 * statistics.median(latencies), 3),
        "latency_bound_ms_median": round(1000 * statistics.median(bound_latencies), 3),
        "latency_ratio": round(statistics.median(bound_latencies) / statistics.median(latencies), 3),
        "repeats": size.repeats,
        "training_runs_units_per_second": [round(units / seconds, 1) for seconds in times["train"]],
        "batched_runs_items_per_second": [round(count / seconds, 1) for seconds in times["predict"]],
    }


def run(task: str, run_dir: Path | None, quick: bool) -> dict:
    size = SLICES["quick" if quick else "full"]
    started = time.perf_counter()
    workload = WORKLOADS[task](run_dir, size)
    setup_seconds = time.perf_counter() - started
    model = str(run_dir) if run_dir else "default recipe, untrained"
    result = {"task": task, "model": model, **measure(workload, size)}
    result["setup_seconds"] = round(setup_seconds, 1)
    result["peak_rss_mib"] = peak_memory_mib()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=list(WORKLOADS))
    parser.add_argument("--run", type=Path, default=None, help="A trained run dir of this task.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="A tiny slice and one round (checks, not timings).")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    torch.set_num_interop_threads(1)
    result = run(arguments.task, arguments.run, arguments.quick)
    result["machine"] = machine()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
