"""A word read through its characters: a convolution over character vectors, max-pooled (Ma and Hovy 2016).

Each character's code point is hashed into a fixed table (`1 + code point mod (buckets - 1)`; 0 is padding), so
no character vocabulary is stored, no character is ever unknown, and any script works. Every character gets a
small learned vector; a 1-D convolution slides over the word's characters, and each filter keeps its largest
response over the word's real characters. A word never seen in training (a new surname, a misspelling) is
represented by the spelling it shares with seen words, case included: `Zbigniew` starts with a capital like
`Peter`, and `-ski`, `-burg` or `-FC` endings are read whatever word they end.

Lample et al. (2016) read the characters with a BiLSTM instead; on CoNLL-2003 the two taggers score alike (90.94
F1 with the BiLSTM, 91.21 with Ma and Hovy's CNN, both with pretrained word vectors). The CNN is chosen here
because it is the faster on CPU, where the taggers here train: one matrix product over the windows of every
word of the batch at once, where a BiLSTM walks each word's characters one step at a time.

A word longer than `limit` characters keeps its first and its last characters (half of the limit each, the odd
one at the start), since prefixes and suffixes carry most of what spelling says (capitals, `un-`, `-ing`, `-ers`).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn


def character_ids(word: str, buckets: int, limit: int) -> list[int]:
    """The hashed id (1 .. buckets-1) of each character of `word`, at most `limit` of them (start and end kept)."""
    return list(_cached_character_ids(word, buckets, limit))


@functools.lru_cache(maxsize=1 << 17)
def _cached_character_ids(word: str, buckets: int, limit: int) -> tuple[int, ...]:
    # Words repeat (Zipf): hashing each distinct word once makes featurizing a text a dictionary lookup per word.
    if len(word) > limit:
        end = limit // 2
        word = word[: limit - end] + word[len(word) - end :]
    return tuple(1 + ord(character) % (buckets - 1) for character in word)


class CharacterEncoder(nn.Module):
    """(B, T, K) hashed character ids (0 = padding) -> (B, T, F): each filter's maximum over a word's characters."""

    feature = "characters"

    def __init__(self, buckets: int, character_size: int, filters: int, width: int):
        super().__init__()
        self.embedding = nn.Embedding(buckets, character_size, padding_idx=0)
        # One response per character: the window around it, `before` characters to its left and `after` to its
        # right (more on the left for an even width), zero vectors beyond the word's ends.
        self.before, self.after = width // 2, (width - 1) // 2
        self.convolution = nn.Linear(width * character_size, filters)
        self.output_dim = filters

    def forward(self, character_ids: torch.Tensor) -> torch.Tensor:
        batch, steps, depth = character_ids.shape
        words = character_ids.reshape(batch * steps, depth)  # (N, K), N = B * T words
        vectors = self.embedding(words)  # (N, K, E)
        # The convolution as one matrix product over each character's window of vectors. The padding character's
        # vector is zero, as the zeros past a word's ends are, so a word's windows and responses are the same
        # however many padding characters follow it in its batch; unlike Conv1d, whose CPU kernels sum in an
        # order that depends on K, they are then equal to the last bit.
        padded = F.pad(vectors, (0, 0, self.before, self.after))  # (N, K + width - 1, E)
        windows = torch.cat([padded[:, offset : offset + depth] for offset in range(self.before + self.after + 1)], -1)
        responses = self.convolution(windows)  # (N, K, width * E) -> (N, K, F)
        real = (words != 0).unsqueeze(2)  # (N, K, 1)
        # A padding position must never win the maximum: its response is the filter's bias, not the word's.
        pooled = responses.masked_fill(~real, float("-inf")).max(dim=1).values  # (N, F)
        # A padding word has no real character, so every filter's maximum is -inf; it gets the zero vector.
        pooled = pooled.masked_fill(~real.any(dim=1), 0.0)  # (N, F)
        return pooled.view(batch, steps, self.output_dim)  # (B, T, F)
