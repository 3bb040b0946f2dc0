"""Naive Bayes log-count ratios over word n-grams: the features of NBSVM (Wang and Manning 2012).

For each class c and each n-gram f, the log-count ratio compares how often f occurs in the training documents
of class c with how often it occurs in the others:

    r[f, c] = log( (a + n_c[f]) / |a + n_c|_1 ) - log( (a + n_rest[f]) / |a + n_rest|_1 )

where n_c[f] counts the class-c documents holding f (each document counts once: the features are binarized)
and a is the add-a smoothing. r alone is a naive Bayes classifier; NBSVM fits a linear model on the features
scaled by r, which keeps NB's strength on short snippets and the linear model's on long reviews.

Here each n-gram's contribution at its first occurrence in a document is r[f] * w[f], with w learned per
n-gram and class from zero, as NBSVM's linear model is (weight decay is its L2 penalty). Starting from naive
Bayes itself (w = 1) does not work: ratios counted on the training documents separate those very documents
(each one's rare n-grams point at its own class), so the training loss is near zero from the first step and
nothing is learned. Later occurrences contribute nothing (binarization).
The n-grams are hashed from the lexicon ids inside the model (orders 1 to `order`, all in one table), so no
feature is added to the data pipeline, and n-grams never seen in training have r = 0.

The ratios are counted from the training data once, before the first step (`count` over the batches, then
`finish_counting`); they are a buffer, saved with the weights.
"""

from __future__ import annotations

import torch
from torch import nn

# n-grams are hashed as a polynomial in the word ids modulo a large prime (kept below 2**31 so that the
# products stay inside int64), then folded into the table. Bucket 0 stays empty: padding and repeats.
_MULTIPLIER = 1_000_003
_MODULUS = 2_147_483_647
# Stands for the words before the first one, so that "the" opening a review is its own bigram (<s>, the).
_START = 1_999_993


def ngram_buckets(words: torch.Tensor, order: int, buckets: int, pad_id: int) -> torch.Tensor:
    """words (B, T) lexicon ids -> (B, T, order): the bucket (1 .. buckets-1) of the n-gram of each order
    ending at each position, 0 at padding."""
    batch, length = words.shape
    start = torch.full((batch, order - 1), _START, dtype=torch.long, device=words.device)
    padded = torch.cat([start, words.long()], dim=1)  # (B, order - 1 + T)
    code = torch.zeros_like(words, dtype=torch.long)
    columns = []
    for n in range(1, order + 1):
        # Extend the (n-1)-gram ending at t by the word n-1 places back: code = hash(w[t-n+1 .. t]).
        earlier = padded[:, order - n : order - n + length]  # (B, T): word t-n+1
        code = (code + earlier * pow(_MULTIPLIER, n - 1, _MODULUS)) % _MODULUS
        # The order goes into the bucket too, so that a unigram and a bigram with equal codes stay apart.
        columns.append(1 + (code + n * 7919) % (buckets - 1))
    ids = torch.stack(columns, dim=-1)  # (B, T, order)
    return ids.masked_fill((words == pad_id).unsqueeze(-1), 0)


def first_occurrences(ids: torch.Tensor) -> torch.Tensor:
    """ids (B, T, K) -> the same with every repeat of an id along T set to 0 (the first one is kept)."""
    length = ids.size(1)
    # Sorting id x T + t orders by id and, among equal ids, by position: a stable sort, in a form that ONNX
    # exports (its Sort has no stable flag).
    steps = torch.arange(length, device=ids.device).view(1, -1, 1)  # (1, T, 1)
    keys, positions = (ids * length + steps).sort(dim=1)  # (B, T, K)
    ordered = torch.div(keys, length, rounding_mode="floor")  # the ids, sorted
    repeat = torch.zeros_like(ordered, dtype=torch.bool)
    repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
    repeated = torch.zeros_like(repeat).scatter(1, positions, repeat)  # back to text order
    return ids.masked_fill(repeated, 0)


class NaiveBayesEncoder(nn.Module):
    """(B, T) word ids -> (B, T, order x C): each n-gram's ratios r * w, per class, at its first occurrence."""

    feature = "words"

    def __init__(self, buckets: int, order: int, classes: int, pad_id: int, smoothing: float = 1.0):
        super().__init__()
        self.buckets = buckets
        self.order = order
        self.classes = classes
        self.pad_id = pad_id
        self.smoothing = smoothing
        self.register_buffer("ratios", torch.zeros(buckets, classes))  # r (F, C)
        self.weights = nn.Embedding(buckets, classes, padding_idx=0)  # w (F, C)
        nn.init.zeros_(self.weights.weight)
        self.output_dim = order * classes
        self._counts: torch.Tensor | None = None

    def binarized_ngrams(self, words: torch.Tensor) -> torch.Tensor:
        """words (B, T) -> (B, T, order) bucket ids, 0 at padding and at repeats within a document."""
        return first_occurrences(ngram_buckets(words, self.order, self.buckets, self.pad_id))

    def forward(self, words: torch.Tensor) -> torch.Tensor:
        ids = self.binarized_ngrams(words)  # (B, T, order)
        # Bucket 0 has r = 0, so padding and repeats add nothing.
        weighted = self.ratios[ids] * self.weights(ids)  # (B, T, order, C)
        return weighted.flatten(start_dim=2)  # (B, T, order x C)

    @torch.no_grad()
    def count(self, words: torch.Tensor, labels: torch.Tensor) -> None:
        """Adds the documents of one training batch (words (B, T), labels (B,)) to the n-gram counts."""
        if self._counts is None:
            self._counts = torch.zeros(self.buckets, self.classes, dtype=torch.float64)
        ids = self.binarized_ngrams(words.cpu()).flatten(start_dim=1)  # (B, T x order)
        classes = labels.cpu().unsqueeze(1).expand_as(ids)  # (B, T x order)
        flat = (ids * self.classes + classes).flatten()
        self._counts.view(-1).index_add_(0, flat, torch.ones(flat.numel(), dtype=torch.float64))

    @torch.no_grad()
    def finish_counting(self) -> None:
        """Turns the counts into the log-count ratios; n-grams never seen keep r = 0."""
        if self._counts is None:
            raise ValueError("the naive Bayes ratios need at least one training batch")
        counts, self._counts = self._counts, None
        counts[0] = 0.0  # padding and repeats
        seen = counts.sum(dim=1, keepdim=True) > 0  # (F, 1): the dictionary, as far as training shows it
        in_class = (counts + self.smoothing) * seen  # (F, C)
        elsewhere = (counts.sum(dim=1, keepdim=True) - counts + self.smoothing) * seen  # (F, C)
        ratios = (in_class / in_class.sum(dim=0)).log() - (elsewhere / elsewhere.sum(dim=0)).log()
        self.ratios.copy_(ratios.masked_fill(~seen, 0.0).to(self.ratios.dtype))
