"""Training tokens per second of every task's default recipe on a GPU, as JSON (float32 and with --amp).

    SEQKIT_DATA_DIR=/path/to/data PYTHONPATH=. python -m benchmarks.gpu --steps 100 --out benchmarks/results/gpu.json

For each task: its default recipe, the real data, vocabularies and model as `seqkit train` builds them, the
model on `--device`; then `--warmup` untimed steps and `--steps` timed ones (median of `--repeats` timings),
the same step as the Trainer's (forward, backward, clipping, AdamW), with and without mixed precision.
Tokens are the source tokens of the batches (the `lengths` the encoder reads).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from benchmarks.common import emit, machine


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(task_name: str, device: torch.device, amp: bool, steps: int, warmup: int, repeats: int) -> dict:
    from seqkit import api
    from seqkit.model import build_model
    from seqkit.runtime.device import to_device
    from seqkit.tasks import get_task

    task = get_task(task_name)
    config = api.load_recipe(task_name, None, [])
    train = task.load_splits(config, None, ("train",))["train"]
    vocabularies = task.build_vocabularies(config, train)
    torch.manual_seed(config.seed)
    model = build_model(config, vocabularies).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.train.learning_rate, foreach=True)
    scaler = torch.amp.GradScaler("cuda") if amp else None
    batches = task.training_batches(config, vocabularies, train)(0)
    needed = warmup + steps
    picked = [batches[index % len(batches)] for index in range(needed)]

    def step(batch: dict) -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.float16, enabled=amp):
            loss = model(to_device(batch, device)).loss
        if scaler is None:
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.train.clip_norm or float("inf"))
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.train.clip_norm or float("inf"))
            scaler.step(optimizer)
            scaler.update()

    for batch in picked[:warmup]:
        step(batch)
    timed = picked[warmup:]
    tokens = sum(int(batch["lengths"].sum()) for batch in timed)
    rates = []
    for _ in range(repeats):
        synchronize(device)
        started = time.perf_counter()
        for batch in timed:
            step(batch)
        synchronize(device)
        rates.append(tokens / (time.perf_counter() - started))
    return {
        "recipe": task.default_recipe,
        "amp": amp,
        "batch_size": config.train.batch_size,
        "tokens_per_second_median": round(statistics.median(rates)),
        "tokens_per_second_runs": [round(rate) for rate in rates],
        "steps": steps,
    }


def main() -> None:
    from seqkit.runtime.device import resolve_device
    from seqkit.tasks import TASKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    arguments = parser.parse_args()
    device = resolve_device(arguments.device)
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    results = {"machine": machine(), "device": str(device), "card": card, "tasks": {}}
    for task_name in arguments.tasks:
        for amp in (False, True) if device.type == "cuda" else (False,):
            entry = measure(task_name, device, amp, arguments.steps, arguments.warmup, arguments.repeats)
            results["tasks"].setdefault(task_name, []).append(entry)
            print(json.dumps({task_name: entry}), flush=True)
    emit(results, arguments.out)


if __name__ == "__main__":
    main()
