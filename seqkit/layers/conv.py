"""The text CNN of Kim (2014): convolutions of several widths over the words, ReLU, max pooling over time.

A filter of width w spans w consecutive word vectors in full (all D features), so it acts as a learned n-gram
detector; sliding it along the text (stride 1, no padding past the ends) gives one response per position,
the ReLU keeps the positive evidence, and max pooling over time keeps the strongest match anywhere in the
document, so the result does not depend on where a phrase occurs or on the document's length. The pooled
responses of all filters of all widths are concatenated.

Padding never changes the result: positions whose window reaches into padding are excluded from the max.
Documents shorter than the widest filter see zero vectors after their last word (whatever the batch holds
there), so every filter has one window to report and its value does not depend on the batch.
"""

from __future__ import annotations

import torch
from torch import nn


class TextCNN(nn.Module):
    """(B, T, D_in) inputs and (B,) lengths -> (B, channels * len(widths)) pooled features."""

    def __init__(self, input_size: int, widths: tuple[int, ...] = (3, 4, 5), channels: int = 100):
        super().__init__()
        if not widths or any(width < 1 for width in widths):
            raise ValueError(f"filter widths must be positive integers, got {widths}")
        self.widths = tuple(widths)
        self.convolutions = nn.ModuleList(nn.Conv1d(input_size, channels, width) for width in self.widths)
        self.output_dim = channels * len(self.widths)

    def feature_maps(
        self, inputs: torch.Tensor, lengths: torch.Tensor
    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per width: responses before ReLU (B, C, T - w + 1) and the mask (B, T - w + 1) of valid windows."""
        widest = max(self.widths)
        lengths = lengths.to(inputs.device)
        positions = torch.arange(inputs.size(1), device=inputs.device)
        real = positions.unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
        inputs = inputs.masked_fill(~real.unsqueeze(-1), 0.0)
        if inputs.size(1) < widest:
            inputs = nn.functional.pad(inputs, (0, 0, 0, widest - inputs.size(1)))  # (B, widest, D), zeros
        channels_first = inputs.transpose(1, 2)  # (B, D, T): Conv1d slides over the last axis
        maps = []
        for width, convolution in zip(self.widths, self.convolutions, strict=True):
            responses = convolution(channels_first)  # (B, C, T - w + 1)
            positions = torch.arange(responses.size(2), device=inputs.device)
            # A window starting at p is valid when it ends inside the text; short texts keep the first one.
            valid = positions.unsqueeze(0) <= (lengths - width).clamp(min=0).unsqueeze(1)
            maps.append((responses, valid))  # (B, C, T'), (B, T')
        return maps

    def forward(self, inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        pooled = []
        for responses, valid in self.feature_maps(inputs, lengths):
            activated = torch.relu(responses).masked_fill(~valid.unsqueeze(1), float("-inf"))  # (B, C, T')
            pooled.append(activated.max(dim=2).values)  # (B, C)
        return torch.cat(pooled, dim=1)  # (B, C * widths)
