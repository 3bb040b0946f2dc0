"""build_model: the single place where a recipe becomes modules.

Every model is a SeqModel: the shared input layer (seqkit.encoders) followed by the task's head. The head
builds its own context layer (recurrent or convolutional) through `build_context`.
"""

from __future__ import annotations

import torch
from torch import nn

from seqkit.config import Recipe
from seqkit.encoders import InputEncoder, build_input_encoder
from seqkit.heads import HeadOutput
from seqkit.text.vocab import Vocab


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
    # A task whose model cannot be split into the shared encoder and a head (the memory network embeds the
    # story with its own tied matrices) builds the whole model itself.
    own_builder = getattr(task, "build_model", None)
    if own_builder is not None:
        return own_builder(recipe, vocabularies)
    encoder = build_input_encoder(recipe.encoder, vocabularies["words"])
    head = task.build_head(recipe, vocabularies, encoder.output_dim)
    return SeqModel(encoder, head)
