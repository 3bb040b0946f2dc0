"""build_model: the single place where a recipe becomes modules.

Every model is a SeqModel: the shared input layer (seqkit.encoders) followed by the task's head. The head
builds its own context layer (recurrent or convolutional) through `build_context`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn

from seqkit.config import Recipe
from seqkit.encoders import InputEncoder, build_input_encoder
from seqkit.errors import ConfigError
from seqkit.heads import HeadOutput
from seqkit.text.vocab import Vocab

# The epoch a new run trains first (seqkit.training.state.TrainerState counts from 0).
FIRST_EPOCH = 0


class SeqModel(nn.Module):
    """encoder -> head. `forward(batch)` returns the head's HeadOutput (with a loss when targets are present)."""

    def __init__(self, encoder: InputEncoder, head: nn.Module):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        return self.head(self.encoder(batch), batch)


def build_model(recipe: Recipe, vocabularies: dict[str, Vocab]) -> nn.Module:
    from seqkit.tasks import get_task

    task = get_task(recipe.task)
    check_encoder_features(recipe, getattr(task, "encoder_features", None), task.name)
    # A task whose model cannot be split into the shared encoder and a head (the memory network embeds the
    # story with its own tied matrices) builds the whole model itself.
    own_builder = getattr(task, "build_model", None)
    if own_builder is not None:
        return own_builder(recipe, vocabularies)
    classes = len(vocabularies["labels"]) if "labels" in vocabularies else None
    encoder = build_input_encoder(recipe.encoder, vocabularies["words"], classes)
    head = task.build_head(recipe, vocabularies, encoder.output_dim)
    return SeqModel(encoder, head)


def check_encoder_features(recipe: Recipe, accepted: tuple[str, ...] | None, task_name: str) -> None:
    """Refuse an encoder the task does not accept (its `encoder_features`; None: it accepts every one)."""
    if accepted is None:
        return
    for index, name in enumerate(recipe.encoder.features):
        if name not in accepted:
            raise ConfigError(
                f"encoder.features[{index}]: the {task_name} task does not accept {name!r} "
                f"(accepted: {', '.join(accepted)})"
            )


def count_training_data(
    model: nn.Module, batches: Callable[[int], Iterable[dict]]
) -> Callable[[int], Iterable[dict]]:
    """Lets the modules whose starting weights are counts over the training data (the naive Bayes ratios of
    seqkit.encoders.naive_bayes) read the first epoch's training batches before the first step, and returns the
    epoch -> batches function to train with.

    That function hands the trainer the very batches counted here when it asks for the first epoch, so counting
    collates nothing of its own. The counts depend only on which documents an epoch holds (every training
    document, once), not on their order. `batches` is the task's function; a resumed run reads its counts back
    with its weights and does not come here."""
    counters = [module for module in model.modules() if hasattr(module, "finish_counting")]
    if not counters:
        return batches
    counted = batches(FIRST_EPOCH)
    counted = counted if isinstance(counted, Sequence) else list(counted)  # read twice: here and in training
    for batch in counted:
        for counter in counters:
            counter.count(batch[counter.feature], batch["label"])
    for counter in counters:
        counter.finish_counting()
    kept = [counted]

    def training_batches(epoch: int) -> Iterable[dict]:
        # Handed over once, so that these batches are not held beside later epochs' for the whole run.
        if epoch == FIRST_EPOCH and kept:
            return kept.pop()
        return batches(epoch)

    return training_batches
