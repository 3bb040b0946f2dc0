"""The slot gate of Goo et al. (2018): the sentence's intent steers how each word's state scores the slot tags.

In a joint model the two tasks usually meet only in the layers they share. The slot-gated model lets the intent
speak to every position directly: a scalar gate per word, computed from the word's slot context and the
sentence's intent vector, decides how much of that context is added to the word's state before the tag scores:

    c_i = sum_j a_ij h_j                      slot attention over the sentence ("full"), or c_i = h_i ("intent")
    g_i = v . tanh(c_i + W c_intent)          one number per word
    h_i' = h_i + g_i c_i                      what the tag layer reads

Goo et al. score the slot attention with a feed-forward network; here it is the bilinear score h_i^T W h_j of
Luong et al. (2015), scaled by the square root of the width, which needs no (B, T, T, D) tanh tensor (tanh is
the slowest elementwise kernel on the CPUs seqkit targets). Attention reads real positions only, so a sentence
gets the same states alone as in a padded batch.
"""

from __future__ import annotations

import math

import torch
from torch import nn

SLOT_GATES = ("none", "full", "intent")


class SlotGate(nn.Module):
    def __init__(self, width: int, intent_width: int, attention: bool = True):
        """`width`: the recurrent states' D; `intent_width`: the intent vector's. attention=False is the paper's
        intent-only model, whose gate reads each word's own state instead of an attention context."""
        super().__init__()
        self.attention = nn.Linear(width, width, bias=False) if attention else None
        self.intent_projection = nn.Linear(intent_width, width)
        self.gate = nn.Linear(width, 1, bias=False)
        self.scale = 1.0 / math.sqrt(width)

    def forward(self, states: torch.Tensor, intent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """states (B, T, D), intent (B, F), mask (B, T) of real positions -> gated states (B, T, D)."""
        context = states
        if self.attention is not None:
            scores = self.attention(states) @ states.transpose(1, 2) * self.scale  # (B, T_query, T_key)
            scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
            context = scores.softmax(dim=-1) @ states  # (B, T, D)
        gate = self.gate(torch.tanh(context + self.intent_projection(intent).unsqueeze(1)))  # (B, T, 1)
        return states + gate * context
