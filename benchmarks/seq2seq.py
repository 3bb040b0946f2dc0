"""Speed of the attention encoder-decoder, printed as JSON (medians of several runs).

- training target tokens/s with batched teacher forcing (one fused decoder pass, one output projection);
- the same training step written as a step-by-step decoder loop (decode_step per target position, a loss per
  step), and the ratio of the two;
- greedy and beam-5 decoding sentences/s, batched, on Multi30k validation sentences;
- peak resident memory of the process.

    SEQKIT_DATA_DIR=../shared/data python -m benchmarks.seq2seq [--run-dir RUN] [--threads 2]

Without --run-dir, the default recipe's model is built untrained (its outputs run to the length limit, so
decoding speed is a lower bound); with it, the trained model of that run dir is measured.
"""

from __future__ import annotations

import argparse
import json

import torch

from benchmarks.common import machine, median_rate
from seqkit import api
from seqkit.config import TrainConfig
from seqkit.model import build_model
from seqkit.run_dirs.run_dir import load_run
from seqkit.runtime.memory import peak_memory_mib
from seqkit.tasks import generation, get_task
from seqkit.training.optimizer import build_optimizer


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
    """Median target tokens/s of optimizer steps over `batches`, with the loss computed by `loss_of`."""
    optimizer = build_optimizer(model.parameters(), TrainConfig(learning_rate=1e-4))  # the trainer's AdamW
    model.train()
    tokens = sum(int((b["targets_out"] != -100).sum()) for b in batches)

    def work() -> int:
        for batch in batches:
            optimizer.zero_grad()
            loss_of(model, batch).backward()
            optimizer.step()
        return tokens

    return median_rate(work, repeats)[0]


def decoding_speed(model, recipe, vocabularies, texts, beam: int, repeats: int) -> float:
    def work() -> int:
        generation.generate(model, recipe, vocabularies, texts, beam=beam, batch_size=64)
        return len(texts)

    return median_rate(work, repeats)[0]


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
        "peak_memory_mib": peak_memory_mib(),
        "machine": machine(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
