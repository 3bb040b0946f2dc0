"""Speed of the attention encoder-decoder, printed as JSON (medians of several runs).

- training target tokens/s with batched teacher forcing (one fused decoder pass, one output projection);
- the same training step written as a step-by-step decoder loop (decode_step per target position, a loss per
  step), and the ratio of the two;
- greedy and beam-5 decoding sentences/s, batched, on Multi30k validation sentences;
- peak resident memory of the process.

    PYTHONPATH=. SEQKIT_DATA_DIR=../shared/data python benchmarks/seq2seq.py [--run-dir RUN] [--threads 2]

Without --run-dir, the default recipe's model is built untrained (its outputs run to the length limit, so
decoding speed is a lower bound); with it, the trained model of that run dir is measured.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time

import torch

from seqkit import api
from seqkit.heads.seq2seq import Searchable
from seqkit.model import build_model
from seqkit.run_dir import load_run
from seqkit.tasks import generation, get_task


def step_by_step_loss(model, batch) -> torch.Tensor:
    """The teacher-forced loss computed one target position at a time (what batching avoids)."""
    head = model.head
    state = head.encode(model.encoder(batch), batch)
    losses = []
    for position in range(batch["targets_in"].size(1)):
        log_probabilities, state, _ = head.decode_step(state, batch["targets_in"][:, position])
        gold = batch["targets_out"][:, position]
        losses.append(
            torch.nn.functional.nll_loss(log_probabilities, gold, ignore_index=-100, reduction="sum")
        )
    return torch.stack(losses).sum() / (batch["targets_out"] != -100).sum()


def training_speed(model, batches, loss_of, repeats: int) -> float:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()
    tokens = sum(int((b["targets_out"] != -100).sum()) for b in batches)
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        for batch in batches:
            optimizer.zero_grad()
            loss_of(model, batch).backward()
            optimizer.step()
        rates.append(tokens / (time.perf_counter() - started))
    return statistics.median(rates)


def decoding_speed(model, recipe, vocabularies, texts, beam: int, repeats: int) -> float:
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        generation.generate(model, recipe, vocabularies, texts, beam=beam, batch_size=64)
        rates.append(len(texts) / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batches", type=int, default=10, help="training batches per measurement")
    parser.add_argument("--sentences", type=int, default=200, help="validation sentences decoded")
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    task = get_task("translation")
    if arguments.run_dir:
        recipe, vocabularies, model = load_run(arguments.run_dir)
        splits = task.load_splits(recipe, None, ("train", "valid"))
    else:
        recipe = api.load_recipe("translation", None)
        splits = task.load_splits(recipe, None, ("train", "valid"))
        vocabularies = task.build_vocabularies(recipe, splits["train"])
        torch.manual_seed(recipe.seed)
        model = build_model(recipe, vocabularies)
    batches = task.training_batches(recipe, vocabularies, splits["train"][:5000])(0)[: arguments.batches]
    batched = training_speed(model, batches, lambda m, b: m(b).loss, arguments.repeats)
    stepwise = training_speed(model, batches, step_by_step_loss, arguments.repeats)
    texts = [pair.source for pair in splits["valid"][: arguments.sentences]]
    model.eval()
    Searchable(model)  # the decoding interface must exist for this model
    result = {
        "model": arguments.run_dir or "default recipe, untrained",
        "threads": arguments.threads,
        "batch_size": recipe.train.batch_size,
        "train_target_tokens_per_second": round(batched, 1),
        "step_by_step_loop_target_tokens_per_second": round(stepwise, 1),
        "batched_over_step_by_step": round(batched / stepwise, 2),
        "greedy_sentences_per_second": round(
            decoding_speed(model, recipe, vocabularies, texts, 1, arguments.repeats), 1
        ),
        "beam5_sentences_per_second": round(
            decoding_speed(model, recipe, vocabularies, texts, 5, arguments.repeats), 1
        ),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_1min": round(__import__("os").getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
