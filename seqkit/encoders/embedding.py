"""Learned word embeddings: a trainable vector per lexicon entry (the "other" slot included)."""

import torch
from torch import nn


class EmbeddingEncoder(nn.Module):
    """(B, T) word ids -> (B, T, D) vectors; the padding vector is fixed at zero."""

    feature = "words"

    def __init__(self, vocab_size: int, embedding_size: int, pad_id: int = 0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=pad_id)
        self.output_dim = embedding_size

    def forward(self, word_ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(word_ids)  # (B, T, D)
