"""Task heads: each turns encoder outputs into predictions and, given targets, a loss."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class HeadOutput:
    """What every head returns. `loss` is None when the batch carries no targets."""

    loss: torch.Tensor | None
    logits: torch.Tensor
    extras: dict[str, torch.Tensor] = field(default_factory=dict)
