"""Memory network speed on bAbI: questions/s at inference and training, as JSON (medians of several runs).

    PYTHONPATH=. SEQKIT_DATA_DIR=../shared/data python benchmarks/babi.py [--run RUN_DIR] [--size 1k]

Inference answers the 20 test files (20,000 questions) in batches of 256 with the run's model, or with a
freshly initialised model of the babi_1k recipe when no run dir is given (speed does not depend on the
weights). Training time is one epoch over the training questions (data preparation excluded). With --run,
the run's log.jsonl also gives the measured seconds of every epoch of that training. Threads default to 1,
as on the shared 2-core machine; figures taken while others train are contended and say so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from seqkit import api
from seqkit.run_dirs.run_dir import load_run
from seqkit.tasks import get_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=None, help="A trained bAbI run dir.")
    parser.add_argument("--size", default="1k", help="Data size for the training-epoch timing.")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    task = get_task("babi")
    if arguments.run is not None:
        recipe, vocabularies, model = load_run(arguments.run)
    else:
        recipe = api.load_recipe("babi", "babi_1k", [f"data.size={arguments.size}"])
        train = task.load_splits(recipe, None, ("train",))["train"]
        vocabularies = task.build_vocabularies(recipe, train)
        model = task.build_model(recipe, vocabularies)
    test = task.load_splits(recipe, None, ("test",))["test"]
    inference = []
    for _ in range(arguments.repeats):
        started = time.perf_counter()
        task.predict(model, recipe, vocabularies, test, batch_size=256)
        inference.append(len(test) / (time.perf_counter() - started))

    timing_recipe = api.load_recipe("babi", "babi_1k", [f"data.size={arguments.size}"])
    train = task.load_splits(timing_recipe, None, ("train",))["train"]
    batches = task.training_batches(timing_recipe, vocabularies, train)(0)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    training = []
    for _ in range(max(1, arguments.repeats // 2)):
        started = time.perf_counter()
        for batch in batches:
            optimizer.zero_grad(set_to_none=True)
            model(batch).loss.backward()
            optimizer.step()
        training.append(time.perf_counter() - started)
    result = {
        "benchmark": "babi memory network",
        "model": str(arguments.run) if arguments.run else "babi_1k recipe, untrained",
        "threads": arguments.threads,
        "inference_questions": len(test),
        "inference_questions_per_second": round(statistics.median(inference), 1),
        "training_size": arguments.size,
        "training_questions_per_epoch": len(train),
        "training_epoch_seconds": round(statistics.median(training), 2),
        "training_questions_per_second": round(len(train) / statistics.median(training), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
    }
    if arguments.run is not None and (arguments.run / "log.jsonl").is_file():
        epochs = [json.loads(line) for line in (arguments.run / "log.jsonl").read_text().splitlines()]
        result["run_epochs"] = len(epochs)
        result["run_training_seconds"] = round(sum(epoch["seconds"] for epoch in epochs), 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
