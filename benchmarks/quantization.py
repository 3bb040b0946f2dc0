"""Float against int8 dynamic quantization on each test set: items/s and the task's test metric, as JSON.

    PYTHONPATH=. SEQKIT_DATA_DIR=../shared/data python -m benchmarks.quantization RUN_DIR [RUN_DIR ...] \
        [--threads 1] [--repeats 3]

Each round scores the whole test split with the float model and then with its int8 copy (seqkit/runtime/quantization.py)
through the task's own `evaluate`, i.e. the path `seqkit evaluate` takes, tokenizing and search included; the
speed is test items / seconds of that call (median over rounds, the two taking turns so that load from other
processes hits both alike), and the speed-up is the median of the per-round ratios. For translation and title
generation, each round also times the search alone (`generation.generate` over the test sources, what `seqkit
translate` and `seqkit summarize` run, without the scoring that `evaluate` adds): `search_speedup`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from benchmarks.common import forget_pretrained, machine
from seqkit.run_dirs.run_dir import load_run
from seqkit.runtime.quantization import quantize
from seqkit.tasks import generation, get_task


def compare(run_dir: Path, repeats: int) -> dict:
    recipe, vocabularies, model = load_run(run_dir)
    task = get_task(recipe.task)
    test = task.load_splits(recipe, None, ("test",))["test"]
    variants = {"float": model, "int8": quantize(load_run(run_dir)[2], "int8")}
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    search_seconds: dict[str, list[float]] = {name: [] for name in variants}
    generates = recipe.task in ("translation", "title-generation")
    scores: dict[str, dict] = {}
    for _ in range(repeats):
        for name, variant in variants.items():
            forget_pretrained(variant)
            started = time.perf_counter()
            scores[name] = task.evaluate(variant, recipe, vocabularies, test)
            seconds[name].append(time.perf_counter() - started)
            if generates:
                started = time.perf_counter()
                generation.generate(variant, recipe, vocabularies, [pair.source for pair in test])
                search_seconds[name].append(time.perf_counter() - started)
    metric = task.metric
    result = {"run_dir": str(run_dir), "task": recipe.task, "test_items": len(test), "metric": metric}
    for name in variants:
        result[f"{name}_items_per_second"] = round(len(test) / statistics.median(seconds[name]), 1)
        result[f"{name}_{metric}"] = round(float(scores[name][metric]), 3)
    ratios = [float_seconds / int8_seconds for float_seconds, int8_seconds in zip(*seconds.values(), strict=True)]
    result["speedup"] = round(statistics.median(ratios), 3)
    result["round_speedups"] = [round(ratio, 3) for ratio in ratios]
    result["round_seconds"] = {name: [round(value, 2) for value in values] for name, values in seconds.items()}
    result["metric_change"] = round(result[f"int8_{metric}"] - result[f"float_{metric}"], 3)
    if generates:
        search_ratios = [a / b for a, b in zip(*search_seconds.values(), strict=True)]
        result["search_speedup"] = round(statistics.median(search_ratios), 3)
        result["round_search_speedups"] = [round(ratio, 3) for ratio in search_ratios]
        result["round_search_seconds"] = {
            name: [round(value, 2) for value in values] for name, values in search_seconds.items()
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dirs", nargs="+", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    results = [compare(run_dir, arguments.repeats) for run_dir in arguments.run_dirs]
    report = {"threads": arguments.threads, "repeats": arguments.repeats, "machine": machine(), "runs": results}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
