"""Speed of the sentiment recipes: training tokens/s, classification documents/s, and peak memory, as JSON.

    SEQKIT_DATA_DIR=../shared/data python benchmarks/sentiment.py --recipe imdb --documents 2000 --repeats 3

Reviews are a class-balanced stride through IMDB's training file. Training speed counts the real (unpadded)
tokens of the steps taken, timed after one warm-up step; classification speed is `Classifier.classify`'s path
(tokenizing included) under torch.inference_mode. Each figure is the median of --repeats runs. The machine's
load average is printed beside them, since the 2-core machine is shared and timings under load are lower.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time

import torch

from seqkit.api import load_recipe
from seqkit.model import build_model
from seqkit.predict.classifier import Classifier
from seqkit.tasks import get_task


def measure(recipe_name: str, documents: int, steps: int, overrides: list[str]) -> dict:
    recipe = load_recipe("sentiment", recipe_name, overrides)
    task = get_task("sentiment")
    examples = task.load_splits(recipe, None, ("train",))["train"]
    examples = examples[:: max(1, len(examples) // documents)][:documents]
    vocabularies = task.build_vocabularies(recipe, examples)
    batches = task.training_batches(recipe, vocabularies, examples)(0)[: steps + 1]
    torch.manual_seed(recipe.seed)
    model = build_model(recipe, vocabularies).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.train.learning_rate)

    def step(batch: dict) -> None:
        optimizer.zero_grad(set_to_none=True)
        model(batch).loss.backward()
        optimizer.step()

    step(batches[0])  # warm-up: first-call allocations are not the steady state
    started = time.perf_counter()
    for batch in batches[1:]:
        step(batch)
    training_seconds = time.perf_counter() - started
    tokens = sum(int(batch["lengths"].sum()) for batch in batches[1:])
    classifier = Classifier(recipe, vocabularies, model.eval())
    texts = [example.text for example in examples]
    started = time.perf_counter()
    classifier.classify(texts)
    classify_seconds = time.perf_counter() - started
    return {
        "train_tokens_per_second": tokens / training_seconds,
        "classify_documents_per_second": len(texts) / classify_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="imdb")
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=20, help="training steps timed per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="recipe override a.b=c")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    runs = [
        measure(arguments.recipe, arguments.documents, arguments.steps, arguments.overrides)
        for _ in range(arguments.repeats)
    ]
    result = {
        "recipe": arguments.recipe,
        "overrides": arguments.overrides,
        "documents": arguments.documents,
        "threads": arguments.threads,
        "repeats": arguments.repeats,
        **{name: round(statistics.median(run[name] for run in runs), 1) for name in runs[0]},
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "torch": torch.__version__,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
