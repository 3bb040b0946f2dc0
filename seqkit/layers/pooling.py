"""Pooling a sequence of vectors into one: mean, sum, max, or attention (many-to-one models).

Every function takes the padding mask, so a document pools to the same vector alone or inside a padded batch.
Attention pooling follows the word-level attention of Yang et al. (2016, hierarchical attention networks):
each position is scored by a small learned query against tanh(W h_t), the scores are soft-maxed over the real
positions, and the pooled vector is the weighted sum. The weights are returned, to be shown to a user.
"""

from __future__ import annotations

import torch
from torch import nn


def mean_pool(outputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """outputs (B, T, D), mask (B, T) bool -> (B, D), the average over the real positions."""
    weights = mask.unsqueeze(-1).to(outputs.dtype)  # (B, T, 1)
    return (outputs * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def sum_pool(outputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """outputs (B, T, D), mask (B, T) bool -> (B, D), the sum over the real positions (evidence that adds up, as
    naive Bayes log-ratios do, rather than averages out)."""
    return (outputs * mask.unsqueeze(-1).to(outputs.dtype)).sum(dim=1)


def max_pool(outputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """outputs (B, T, D), mask (B, T) bool -> (B, D), the elementwise maximum over the real positions."""
    return outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values


class AttentionPooling(nn.Module):
    """outputs (B, T, D), mask (B, T) -> pooled (B, D) and weights (B, T) summing to 1 on real positions."""

    def __init__(self, input_size: int, attention_size: int):
        super().__init__()
        self.projection = nn.Linear(input_size, attention_size)
        self.query = nn.Linear(attention_size, 1, bias=False)

    def forward(self, outputs: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.query(torch.tanh(self.projection(outputs))).squeeze(-1)  # (B, T)
        weights = scores.masked_fill(~mask, float("-inf")).softmax(dim=1)  # (B, T)
        pooled = torch.bmm(weights.unsqueeze(1), outputs).squeeze(1)  # (B, 1, T) x (B, T, D) -> (B, D)
        return pooled, weights
