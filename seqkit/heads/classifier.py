"""The many-to-one head: a document in, one class out (sentiment analysis).

The encoded words pass through a context layer, are pooled into one vector, and a linear layer scores the
classes (trained with cross-entropy). Three context layers are possible:

- a recurrent layer (any cell, bidirectional), pooled by `last` (the final states: forward at the last word,
  backward at the first), `mean`, `max` (Collobert et al. 2011) or `attention` (Yang et al. 2016);
- the text CNN of Kim (2014), which pools by max over time itself;
- none: the encoder outputs are pooled directly. With mean pooling over word and word-bigram vectors this is
  fastText (Joulin et al. 2017), a linear model over the bag of n-grams, strong on long reviews.

With attention pooling the weights come back in `extras["attention"]` (B, T), for explanations.
"""

from __future__ import annotations

import torch
from torch import nn

from seqkit.heads import HeadOutput
from seqkit.layers.conv import TextCNN
from seqkit.layers.pooling import AttentionPooling, max_pool, mean_pool, sum_pool

POOLINGS = ("last", "mean", "sum", "max", "attention")


class ClassifierHead(nn.Module):
    def __init__(
        self,
        context: nn.Module | None,
        input_size: int,
        num_classes: int,
        pooling: str = "max",
        attention_size: int = 100,
        dropout: float = 0.0,
    ):
        """`context`: a recurrent layer ((B, T, D_in), (B,)) -> ((B, T, D), (B, D)), a TextCNN, or None.

        `input_size` is the encoder's output size; the context's `output_dim` (when there is one) follows it.
        """
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r} (choose from: {', '.join(POOLINGS)})")
        if pooling == "last" and not _is_recurrent(context):
            raise ValueError("pooling 'last' needs a recurrent layer (it reads the final states)")
        if isinstance(context, TextCNN) and pooling != "max":
            raise ValueError("the text CNN pools by max over time; set pooling to 'max'")
        self.context = context
        self.pooling = pooling
        width = context.output_dim if context is not None else input_size
        self.attention = AttentionPooling(width, attention_size) if pooling == "attention" else None
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(width, num_classes)

    def forward(self, encoded: torch.Tensor, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """encoded (B, T, D_in); batch["lengths"] (B,); optional target batch["label"] (B,)."""
        lengths = batch["lengths"]
        positions = torch.arange(encoded.size(1), device=encoded.device)
        mask = positions.unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
        extras: dict[str, torch.Tensor] = {"mask": mask}
        if isinstance(self.context, TextCNN):
            pooled = self.context(encoded, lengths)  # (B, D)
        else:
            outputs, final = self.context(encoded, lengths) if self.context is not None else (encoded, None)
            if self.pooling == "last":
                pooled = final  # (B, D)
            elif self.pooling == "mean":
                pooled = mean_pool(outputs, mask)
            elif self.pooling == "sum":
                pooled = sum_pool(outputs, mask)
            elif self.pooling == "max":
                pooled = max_pool(outputs, mask)
            else:
                pooled, extras["attention"] = self.attention(outputs, mask)  # (B, D), (B, T)
        logits = self.output(self.dropout(pooled))  # (B, C)
        loss = nn.functional.cross_entropy(logits, batch["label"]) if "label" in batch else None
        return HeadOutput(loss, logits, extras)


def _is_recurrent(context: nn.Module | None) -> bool:
    return context is not None and not isinstance(context, TextCNN)
