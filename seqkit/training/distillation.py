"""A teacher tagger's intent distributions, the soft labels a student tagger learns its intent from.

The default ATIS recipe reads a frozen transformer and scores intents better than the same tagger learned from
ATIS alone, but it runs the transformer for every sentence it tags, and it cannot be exported to ONNX.
Knowledge distillation (Hinton, Vinyals and Dean 2015) trains the small model on the large one's intent
distribution beside the gold intent: the teacher's probabilities, softened by a temperature, say which wrong
intents are near misses (an airfare question asked like a flight question), which a one-hot label never says.

The teacher is a finished slot-filling run dir with an intent (`head.teacher`), loaded by train()
(seqkit/training/teacher.py). It reads the student's training sentences once, before the first epoch; the
student's run dir keeps only the path in its config, never the teacher, so the student tags without it.

On its own training sentences the teacher is nearly as sure as the gold labels, so it has most to teach on
sentences it was not trained on. With `head.teacher_copies` the student also trains on altered copies of its
training sentences that the teacher alone labels, tags and intent (the transfer set of Tang et al. 2019): in
each copy some words are swapped for other training words that carried the same tag, which yields new phrasings
and new slot values in familiar frames ("flights from denver to <a new city>").
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from typing import NamedTuple

import torch

from seqkit.config import Recipe
from seqkit.data.batching import bucketed_order, collate
from seqkit.errors import ConfigError
from seqkit.text.vocab import Vocab


class Teacher(NamedTuple):
    """A trained run (seqkit/training/teacher.py loads it): its recipe, to featurize sentences as it was trained,
    its vocabularies, and its model in eval mode."""

    recipe: Recipe
    vocabularies: dict[str, Vocab]
    model: torch.nn.Module


# Sentences per teacher batch: the teacher's pretrained encoder reads each sentence alone anyway (see
# seqkit/encoders/pretrained.py), so this only bounds the recurrent layers' padding.
TEACHER_BATCH = 256


@torch.inference_mode()
def soft_intents(
    teacher: torch.nn.Module,
    featurized: list[dict],
    teacher_intents: Vocab,
    student_intents: Vocab,
    temperature: float,
    where: str,
) -> list[torch.Tensor]:
    """The teacher's intent distribution at `temperature` for each featurized sentence, over the student's
    intents: a (C_student,) float tensor per sentence, summing to 1.

    Teacher and student learned their intent lists from their own training data, so the columns are matched by
    name; an intent the student lacks takes its probability with it (the rest are scaled back up to 1). A
    teacher sharing no intent with the student is refused, naming `where`.
    """
    student_columns = [teacher_intents.id(name) if name in teacher_intents else -1 for name in student_intents.tokens]
    if all(column < 0 for column in student_columns):
        raise ConfigError(f"{where}: the teacher knows none of the training data's intents")
    known = torch.tensor([column >= 0 for column in student_columns])  # (C_student,)
    gather = torch.tensor([max(column, 0) for column in student_columns])  # (C_student,)
    teacher.eval()
    distributions: list[torch.Tensor | None] = [None] * len(featurized)
    lengths = [len(example["words"]) for example in featurized]
    for indices in bucketed_order(lengths, TEACHER_BATCH):
        output = teacher(collate([featurized[i] for i in indices]))
        if "intent_logits" not in output.extras:
            raise ConfigError(f"{where}: the teacher predicts no intent (it was trained with head.intent: false)")
        probabilities = (output.extras["intent_logits"] / temperature).softmax(dim=-1)  # (B, C_teacher)
        kept = probabilities[:, gather] * known  # (B, C_student)
        kept = kept / kept.sum(dim=-1, keepdim=True).clamp(min=torch.finfo(kept.dtype).tiny)
        for row, index in enumerate(indices):
            distributions[index] = kept[row].clone()
    return distributions


def distillation_loss(logits: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Student intent logits (B, C) and the teacher's distributions at `temperature` (B, C) -> the mean over the
    batch of KL(teacher || student at the same temperature), times temperature squared.

    The square keeps the soft loss's gradients as large as the hard loss's whatever the temperature (Hinton et
    al. 2015, section 2), so `head.distill_weight` means the same share at any temperature."""
    log_student = (logits / temperature).log_softmax(dim=-1)  # (B, C)
    divergence = torch.nn.functional.kl_div(log_student, teacher, reduction="batchmean")
    return divergence * temperature**2


def altered_copies(
    sentences: Sequence[tuple[Sequence[str], Sequence[str]]], copies: int, rate: float, seed: int
) -> list[list[str]]:
    """`copies` altered copies of each (tokens, tags) sentence, in order: each word is, with probability `rate`,
    replaced by a word drawn from those that carried the same tag anywhere in `sentences` (counted as often as
    they did). A copy keeps its sentence's length, and the same seed gives the same copies."""
    words_by_tag: dict[str, list[str]] = defaultdict(list)
    for tokens, tags in sentences:
        for token, tag in zip(tokens, tags, strict=True):
            words_by_tag[tag].append(token)
    draw = random.Random(seed)
    altered = []
    for tokens, tags in sentences:
        for _ in range(copies):
            altered.append(
                [
                    draw.choice(words_by_tag[tag]) if draw.random() < rate else token
                    for token, tag in zip(tokens, tags, strict=True)
                ]
            )
    return altered
