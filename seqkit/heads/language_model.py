"""The next-word head: a left-to-right recurrent layer whose state at each word scores the word that follows.

This is the lecture's RNN language model (Mikolov et al. 2010): the sentence is read one word at a time, from a
start mark `<s>`, and after each word the state is mapped to a distribution over the lexicon for the next word,
the last one being the end mark `</s>`. Training minimises the mean cross-entropy of those predictions, so the
exponential of the loss on held-out text is its perplexity. The layer must read left to right only: a backward
direction would see the very word it is asked to predict.
"""

from __future__ import annotations

import torch
from torch import nn

from seqkit.heads import HeadOutput

# Positions without a next word (padding) carry this target, which cross_entropy leaves out of the mean.
IGNORED = -100


class LanguageModelHead(nn.Module):
    def __init__(self, rnn: nn.Module, vocabulary_size: int, dropout: float = 0.0):
        """`rnn`: a one-direction recurrent layer ((B, T, D_in), (B,)) -> ((B, T, H), (B, H))."""
        super().__init__()
        if getattr(rnn, "num_directions", 1) != 1:
            raise ValueError("a language model reads left to right; its recurrent layer must not be bidirectional")
        self.rnn = rnn
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(rnn.output_dim, vocabulary_size)

    def forward(self, encoded: torch.Tensor, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """encoded (B, T, D_in) of `<s> w1 .. wn`; batch["lengths"] (B,); optional target batch["next"] (B, T) of
        `w1 .. wn </s>`, IGNORED where padded. The loss is the mean cross-entropy over every real position."""
        states, _ = self.rnn(encoded, batch["lengths"])  # (B, T, H)
        logits = self.output(self.dropout(states))  # (B, T, V)
        loss = None
        if "next" in batch:
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, logits.size(-1)), batch["next"].reshape(-1), ignore_index=IGNORED
            )
        return HeadOutput(loss, logits)
