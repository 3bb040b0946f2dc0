"""Attention over encoder states: additive (Bahdanau, Cho and Bengio 2015) and multiplicative (Luong, Pham
and Manning 2015, "dot" and "general").

Every decoder position (a query) scores every source position (a key), the scores become weights by a softmax
over the real source positions only (padding gets weight exactly 0), and the context is the weighted sum of
the encoder states. Keys depend on the source alone, so `keys(memory)` is computed once per sentence and
reused at every decoding step; `forward` accepts any number of queries at once, so teacher-forced training
attends for all target positions in one batched operation.
"""

from __future__ import annotations

import torch
from torch import nn

ATTENTION_KINDS = ("additive", "dot", "general")


class Attention(nn.Module):
    def __init__(self, kind: str, query_size: int, memory_size: int, attention_size: int):
        super().__init__()
        if kind not in ATTENTION_KINDS:
            raise ValueError(f"unknown attention {kind!r} (choose from: {', '.join(ATTENTION_KINDS)})")
        if kind == "dot" and query_size != memory_size:
            raise ValueError(
                f"dot attention needs equal decoder and encoder sizes, got {query_size} and {memory_size}"
            )
        self.kind = kind
        self.key_projection: nn.Linear | None = None
        if kind == "general":
            self.key_projection = nn.Linear(memory_size, query_size, bias=False)
        elif kind == "additive":
            self.key_projection = nn.Linear(memory_size, attention_size, bias=False)
            self.query_projection = nn.Linear(query_size, attention_size)
            self.energy = nn.Linear(attention_size, 1, bias=False)

    def keys(self, memory: torch.Tensor) -> torch.Tensor:
        """memory (B, T, D_memory) -> keys (B, T, D_key)."""
        return memory if self.key_projection is None else self.key_projection(memory)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, U, D_query), keys (B, T, D_key), memory (B, T, D_memory), mask (B, T) true on tokens.

        Returns context (B, U, D_memory) and weights (B, U, T).
        """
        if self.kind == "additive":
            projected = self.query_projection(query)  # (B, U, A)
            energies = torch.tanh(projected.unsqueeze(2) + keys.unsqueeze(1))  # (B, U, T, A)
            scores = self.energy(energies).squeeze(-1)  # (B, U, T)
        else:
            scores = torch.bmm(query, keys.transpose(1, 2))  # (B, U, T)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        weights = torch.softmax(scores, dim=-1)  # (B, U, T)
        return torch.bmm(weights, memory), weights
