"""Hashed word bigrams: the n-gram features of fastText (Joulin et al. 2017, "Bag of Tricks").

Each position t gets the bigram that ends there, (word t-1, word t), with a start mark before the first word.
Bigrams are hashed with CRC32 into a fixed number of buckets (stable across processes, unlike Python's
`hash`), so no bigram vocabulary is stored and a bigram never seen in training still lands somewhere.
Bucket 0 is reserved for padding. Averaged over a document beside the word vectors, these vectors give the
bag-of-n-grams representation that linear text classifiers such as fastText and NBSVM (Wang and Manning 2012)
owe most of their accuracy to: "not good" and "good" stop sharing a representation.
"""

import zlib
from collections.abc import Sequence

import torch
from torch import nn

START = "<s>"


def bigram_buckets(tokens: Sequence[str], buckets: int) -> list[int]:
    """The hashed bucket (1 .. buckets-1) of the bigram ending at each token: [a, b] -> [h(<s> a), h(a b)]."""
    previous = [START, *tokens[:-1]]
    # Tokens never hold spaces, so the space keeps distinct bigrams distinct strings before hashing.
    pairs = zip(previous, tokens, strict=True)
    return [1 + zlib.crc32(f"{left} {right}".encode()) % (buckets - 1) for left, right in pairs]


class WordBigramEncoder(nn.Module):
    """(B, T) bigram bucket ids (0 = padding) -> (B, T, D): one learned vector per bucket."""

    feature = "bigrams"

    def __init__(self, buckets: int, output_size: int):
        super().__init__()
        self.buckets = buckets
        self.embedding = nn.Embedding(buckets, output_size, padding_idx=0)
        self.output_dim = output_size

    def forward(self, bigram_ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(bigram_ids)  # (B, T, D)
