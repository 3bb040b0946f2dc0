"""One workload per task for the benchmark harness: model, training batches, prediction, and its kernel bound.

Each workload reads a fixed slice of the task's real data (the first training batches of epoch 0 and the first
test items, or a fixed stride through IMDB's training file, whose test file is large). The model is the run
dir's when one is given, else the default recipe's model freshly built (speed does not depend on what the
weights learned, except the output lengths of search: an untrained generator runs to its length limit).
Vocabularies come from the run dir or from the full training split, so output layers have their real size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from benchmarks.bounds import BagBound, EncoderDecoderBound, MemoryBound, RecurrentBound
from seqkit import api
from seqkit.config import TrainConfig
from seqkit.data.batching import bucketed_order, collate
from seqkit.model import build_model
from seqkit.predict.classifier import Classifier
from seqkit.predict.tagger import Tagger
from seqkit.run_dirs.run_dir import load_run
from seqkit.tasks import generation, get_task


@dataclass(frozen=True)
class Slice:
    """How much data one measurement reads, and how many rounds it takes."""

    training_batches: int
    items: int
    latency_items: int
    repeats: int


SLICES = {"full": Slice(20, 300, 50, 3), "quick": Slice(2, 12, 4, 1)}


@dataclass
class Workload:
    """What the harness times for one task; `units` counts a training batch's tokens (or questions)."""

    task: str
    unit: str
    item: str
    model: nn.Module
    batches: list[dict]
    units: Callable[[dict], int]
    bound: nn.Module
    items: list
    predict: Callable[[list], object]
    # items -> the batches prediction would build (same batch size and order), for the bound.
    inference_batches: Callable[[list], list[dict]]
    bound_predict: Callable[[dict], object]
    padded_units: Callable[[dict], int]
    # The recipe's optimisation settings: the harness steps the optimizer the trainer would build from them.
    train: TrainConfig


def _parts(task_name: str, recipe_name: str, run_dir: Path | None, splits: tuple[str, ...], overrides=()):
    """(recipe, task, splits, vocabularies, model) from a run dir, or from the recipe and the training split."""
    task = get_task(task_name)
    if run_dir is not None:
        recipe, vocabularies, model = load_run(run_dir)
        loaded = task.load_splits(recipe, None, splits)
    else:
        recipe = api.load_recipe(task_name, recipe_name, list(overrides))
        loaded = task.load_splits(recipe, None, splits)
        vocabularies = task.build_vocabularies(recipe, loaded["train"])
        torch.manual_seed(recipe.seed)
        model = build_model(recipe, vocabularies)
    return recipe, task, loaded, vocabularies, model


def _lengths(batch: dict) -> int:
    return int(batch["lengths"].sum())


def _padded(batch: dict) -> int:
    return batch["words"].numel()


def _forward(bound: nn.Module) -> Callable[[dict], object]:
    def run(batch: dict) -> object:
        with torch.inference_mode():
            return bound(batch)

    return run


def tagging(run_dir: Path | None, size: Slice) -> Workload:
    # The recipe without pretrained vectors: the bound below times recurrent layers, and a frozen transformer in
    # front of them would be timed by neither side of the ratio.
    recipe, task, splits, vocabularies, model = _parts("slot-filling", "atis_scratch", run_dir, ("train", "test"))
    batches = task.training_batches(recipe, vocabularies, splits["train"])(0)[: size.training_batches]
    tagger = Tagger(recipe, vocabularies, model)
    texts = [" ".join(sentence.tokens) for sentence in splits["test"][: size.items]]

    def inference_batches(items: list[str]) -> list[dict]:
        tokens = [text.split() for text in items]
        featurized = [task.featurize(recipe, vocabularies, sentence, None) for sentence in tokens]
        return [collate([featurized[i] for i in order]) for order in bucketed_order([len(t) for t in tokens], 256)]

    head = model.head
    intent_rnn = head.intent_context.rnn if head.intent_context is not None else None
    bound = RecurrentBound(head.context.rnn, head.slot_output, side=intent_rnn)
    return Workload(
        "atis", "tokens", "sentences", model, batches, _lengths, bound, texts, tagger.tag, inference_batches,
        _forward(bound), _padded, train=recipe.train,
    )


def sentiment(run_dir: Path | None, size: Slice) -> Workload:
    # A class-balanced stride through the training file (the test file alone holds 25,000 long reviews).
    recipe, task, splits, vocabularies, model = _parts("sentiment", "imdb", run_dir, ("train",))
    examples = splits["train"]
    documents_wanted = max(size.items, size.training_batches * recipe.train.batch_size)
    examples = examples[:: max(1, len(examples) // documents_wanted)][:documents_wanted]
    if run_dir is None:  # the vocabulary of the stride only: the full file takes a minute to count
        vocabularies = task.build_vocabularies(recipe, examples)
        torch.manual_seed(recipe.seed)
        model = build_model(recipe, vocabularies)
    batches = task.training_batches(recipe, vocabularies, examples)(0)[: size.training_batches]
    classifier = Classifier(recipe, vocabularies, model)
    texts = [example.text for example in examples[: size.items]]

    def inference_batches(items: list[str]) -> list[dict]:
        documents = task.documents(recipe, items, "benchmark")
        return [batch for _, batch in task.batches(recipe, vocabularies, documents, 256)]

    if model.head.context is not None:
        bound = RecurrentBound(model.head.context.rnn, model.head.output)
    else:
        tables = {encoder.feature: _table(encoder) for encoder in model.encoder.encoders.values()}
        bound = BagBound(tables, model.head.output.out_features)
    return Workload(
        "imdb", "tokens", "documents", model, batches, _lengths, bound, texts, classifier.classify,
        inference_batches, _forward(bound), _padded, train=recipe.train,
    )


def _table(encoder: nn.Module) -> nn.Embedding:
    return next(module for module in encoder.modules() if isinstance(module, nn.Embedding))


def _generation(task_name: str, key: str, recipe_name: str, run_dir: Path | None, size: Slice) -> Workload:
    recipe, task, splits, vocabularies, model = _parts(task_name, recipe_name, run_dir, ("train", "test"))
    batches = generation.training_batches(recipe, vocabularies, splits["train"])(0)[: size.training_batches]
    pairs = splits["test"][: size.items]
    texts = [pair.source for pair in pairs]
    beam = recipe.head.beam
    steps = {pair.source: len(pair.target.split()) + 1 for pair in pairs}  # a reference length per text

    def predict(items: list[str]) -> object:
        return generation.generate(model, recipe, vocabularies, items, beam=beam, batch_size=64)

    def inference_batches(items: list[str]) -> list[dict]:
        source_model, _ = generation.segmenters(vocabularies)
        tokens = [generation.tokenize(text, source_model) for text in items]
        prepared = [generation.featurize(vocabularies, sentence, None, recipe.head.copy)[0] for sentence in tokens]
        made = []
        for order in bucketed_order([len(sentence) for sentence in tokens], 64):
            batch = collate([prepared[i] for i in order])
            batch["steps"] = max(steps.get(items[i], len(tokens[i])) for i in order)
            made.append(batch)
        return made

    head = model.head
    bound = EncoderDecoderBound(head.encoder.rnn, head.decoder, head.output_size, head.symbols.size)
    return Workload(
        key, "target tokens", "sentences", model, batches,
        lambda batch: int((batch["targets_out"] != -100).sum()), bound, texts, predict, inference_batches,
        lambda batch: bound.search(batch, beam, batch["steps"]), lambda batch: batch["targets_out"].numel(),
        train=recipe.train,
    )


def translation(run_dir: Path | None, size: Slice) -> Workload:
    return _generation("translation", "multi30k", "multi30k_de_en", run_dir, size)


def title_generation(run_dir: Path | None, size: Slice) -> Workload:
    return _generation("title-generation", "gigaword", "gigaword", run_dir, size)


def babi(run_dir: Path | None, size: Slice) -> Workload:
    from seqkit.tasks.babi import collate_questions

    recipe, task, splits, vocabularies, model = _parts("babi", "babi_1k", run_dir, ("train", "test"))
    epoch = task.training_batches(recipe, vocabularies, splits["train"])(0)
    batches = [epoch[index] for index in range(min(len(epoch), size.training_batches))]
    # A stride through the 20 test files, so every task is in the slice.
    questions = splits["test"][:: max(1, len(splits["test"]) // size.items)][: size.items]

    def predict(items: list) -> object:
        return task.predict(model, recipe, vocabularies, items)

    def inference_batches(items: list) -> list[dict]:
        featurized = task.featurize(recipe, vocabularies, items)
        sizes = [len(example["story"]) for example in featurized]
        return [
            collate_questions([featurized[i] for i in order], recipe.head.memory_size)
            for order in bucketed_order(sizes, 256)
        ]

    bound = MemoryBound(len(vocabularies["words"]), model.embedding_size, model.hops)
    return Workload(
        "babi", "questions", "questions", model, batches, lambda batch: batch["answer"].numel(), bound,
        questions, predict, inference_batches, _forward(bound), lambda batch: batch["answer"].numel(),
        train=recipe.train,
    )


WORKLOADS: dict[str, Callable[[Path | None, Slice], Workload]] = {
    "atis": tagging,
    "imdb": sentiment,
    "multi30k": translation,
    "gigaword": title_generation,
    "babi": babi,
}
