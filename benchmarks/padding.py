"""Padding wasted by one epoch's training batches, cut by example count alone or also by a token budget, as JSON.

    SEQKIT_DATA_DIR=../shared/data PYTHONPATH=. python -m benchmarks.padding [--budgets 1.0 2.0]

For each default recipe with sequences (slot filling, translation, sentiment) it reads the real training split,
takes each example's length as its task measures it (tokens, subword pieces of the source), and draws epoch 0's
order with `epoch_order` exactly as training does: once with the recipe's `batch_size`, and once per budget
factor F with `max_tokens` = F x batch_size x the median length (batch_size then only caps a batch at 8x its
recipe value). Reported: batches per epoch, mean examples per batch and the padded share of token positions.
Nothing is trained; this is arithmetic over the real lengths.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics

from benchmarks.common import machine
from seqkit import api
from seqkit.data.batching import epoch_order
from seqkit.tasks import get_task

RECIPES = {"slot-filling": "atis_scratch", "translation": "multi30k_de_en", "sentiment": "imdb"}


def lengths_of(task_name: str, recipe_name: str) -> tuple[list[int], object]:
    recipe = api.load_recipe(task_name, recipe_name)
    task = get_task(task_name)
    train = task.load_splits(recipe, None, ("train",))["train"]
    vocabularies = task.build_vocabularies(recipe, train)
    batches = task.training_batches(recipe, vocabularies, train)(0)
    # The collated batches carry each example's length in the field the trainer uses for padding_fraction.
    lengths = [int(length) for batch in batches for length in batch["lengths"]]
    return lengths, recipe


def padding(lengths: list[int], batches: list[list[int]]) -> dict:
    real = sum(lengths[index] for batch in batches for index in batch)
    padded = sum(len(batch) * max(lengths[index] for index in batch) for batch in batches)
    return {
        "batches": len(batches),
        "mean_batch_examples": round(len(lengths) / len(batches), 1),
        "padding_fraction": round(1 - real / padded, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--tasks", nargs="+", default=list(RECIPES))
    arguments = parser.parse_args()
    results = {"machine": machine(), "tasks": {}}
    for task_name in arguments.tasks:
        lengths, recipe = lengths_of(task_name, RECIPES[task_name])
        train = recipe.train
        median = statistics.median(lengths)
        by_count = padding(lengths, epoch_order(lengths, train, recipe.seed, 0))
        entry = {"recipe": RECIPES[task_name], "examples": len(lengths), "median_length": median,
                 "batch_size": train.batch_size, "by_count": by_count}
        for factor in arguments.budgets:
            budget = int(factor * train.batch_size * median)
            budgeted = dataclasses.replace(train, batch_size=8 * train.batch_size, max_tokens=budget)
            entry[f"max_tokens_{budget}"] = padding(lengths, epoch_order(lengths, budgeted, recipe.seed, 0))
        results["tasks"][task_name] = entry
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
