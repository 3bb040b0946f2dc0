"""The recurrent zoo compared on ATIS slot filling: every cell trained with the same recipe and budget.

For each cell this trains `recipe` with `--set rnn.cell=<cell>` (plus the shared budget overrides), keeps
the weights of the best dev epoch (the Trainer's dev selection), scores them once on test, and prints one JSON
line per cell, then the README table (markdown) and a JSON summary. A cell whose run dir already holds test
scores for the same config is not retrained, so an interrupted comparison continues where it stopped.

    SEQKIT_DATA_DIR=../shared/data PYTHONPATH=. python benchmarks/compare_cells.py --epochs 5 --threads 1

Training tokens/s = training tokens per epoch x epochs / the seconds the epochs took (each epoch's time
includes its dev evaluation, as the Trainer logs it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.common import machine
from seqkit import api
from seqkit.layers.cells import CELLS
from seqkit.run_dirs.run_dir import read_recipe
from seqkit.tasks import get_task


def overrides_for(cell: str, arguments: argparse.Namespace) -> list[str]:
    return [
        f"rnn.cell={cell}",
        f"train.epochs={arguments.epochs}",
        f"train.threads={arguments.threads}",
        f"seed={arguments.seed}",
        *arguments.set,
    ]


def run_cell(cell: str, arguments: argparse.Namespace) -> dict:
    out = arguments.out / f"atis-{cell}"
    overrides = overrides_for(cell, arguments)
    recipe = api.load_recipe(None, arguments.recipe, overrides)
    metrics_file = out / "metrics.json"
    finished = metrics_file.is_file() and "test" in json.loads(metrics_file.read_text())
    if not (finished and read_recipe(out) == recipe):
        api.train(None, arguments.recipe, arguments.data, out, overrides, overwrite=True, show_progress=False)
        api.evaluate(out, "test", arguments.data)
    metrics = json.loads(metrics_file.read_text())
    history = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    task = get_task(recipe.task)
    train = task.load_splits(recipe, arguments.data, ("train",))["train"]
    tokens_per_epoch = sum(len(sentence.tokens) for sentence in train)
    seconds = sum(record["seconds"] for record in history)
    return {
        "cell": cell,
        "run_dir": str(out),
        "epochs": len(history),
        "best_epoch": metrics["dev"]["best_epoch"],
        "dev_slot_f1": round(metrics["dev"]["slot_f1"], 2),
        "test_slot_f1": round(metrics["test"]["slot_f1"], 2),
        "test_intent_accuracy": round(metrics["test"]["intent_accuracy"], 2),
        "train_tokens_per_second": round(tokens_per_epoch * len(history) / seconds),
    }


def markdown_table(rows: list[dict]) -> str:
    lines = [
        "| cell | dev slot F1 (best epoch) | test slot F1 | test intent acc | train tokens/s |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        dev = f"{row['dev_slot_f1']:.2f} ({row['best_epoch']}/{row['epochs']})"
        test = f"{row['test_slot_f1']:.2f} | {row['test_intent_accuracy']:.2f}"
        lines.append(f"| {row['cell']} | {dev} | {test} | {row['train_tokens_per_second']:,} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="atis_scratch")
    parser.add_argument("--cells", nargs="*", default=list(CELLS))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--set", action="append", default=[], help="further recipe overrides, for every cell")
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("runs/zoo"))
    arguments = parser.parse_args()
    unknown = [cell for cell in arguments.cells if cell not in CELLS]
    if unknown:
        parser.error(f"unknown cells {unknown} (choose from: {', '.join(CELLS)})")
    rows = []
    for cell in arguments.cells:
        rows.append(run_cell(cell, arguments))
        print(json.dumps(rows[-1]), flush=True)
    print(markdown_table(rows))
    overrides = overrides_for("<cell>", arguments)
    summary = {"recipe": arguments.recipe, "overrides": overrides, "machine": machine(), "rows": rows}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
