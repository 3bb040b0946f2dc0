"""1-of-N encoding: each word becomes a vector with a single 1, at its lexicon index.

The lexicon's `<unk>` entry is the "other" slot: every word outside the lexicon shares it. The encoding has no
parameters; the first layer that reads it (the recurrent layer's input weights) plays the role of the learned
word vectors. Its width is the lexicon size, so cap `encoder.max_vocab_size` on large corpora.
"""

import torch
from torch import nn


class OneHotEncoder(nn.Module):
    """(B, T) word ids -> (B, T, V) one-hot floats; padding (id 0) becomes all zeros."""

    feature = "words"

    def __init__(self, vocab_size: int, pad_id: int = 0):
        super().__init__()
        self.vocab_size = vocab_size
        self.pad_id = pad_id
        self.output_dim = vocab_size

    def forward(self, word_ids: torch.Tensor) -> torch.Tensor:
        encoded = nn.functional.one_hot(word_ids, self.vocab_size).float()  # (B, T, V)
        return encoded.masked_fill((word_ids == self.pad_id).unsqueeze(-1), 0.0)
