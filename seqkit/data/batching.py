"""Length-bucketed batches and collation of featurized examples into padded tensors.

Examples are featurized once (lists of ints) and collated per batch. Batches group examples of similar length,
so padding wastes little compute: the training order is shuffled within pools of similar length and the
batch order is shuffled again, drawn from a torch.Generator seeded per epoch so that `--resume` rebuilds
exactly the same order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from seqkit.config import TrainConfig


def pad_1d(rows: Sequence[Sequence[int]], pad: int = 0) -> torch.Tensor:
    """Ragged rows -> (B, T) long tensor padded on the right."""
    width = max((len(row) for row in rows), default=0)
    # One tensor built from padded Python lists: far cheaper than a tensor per row.
    return torch.tensor([[*row, *[pad] * (width - len(row))] for row in rows], dtype=torch.long).view(len(rows), width)


def pad_2d(rows: Sequence[Sequence[Sequence[int]]], pad: int = 0) -> torch.Tensor:
    """Ragged rows of ragged lists (tokens of trigrams) -> (B, T, K) long tensor."""
    width = max((len(row) for row in rows), default=0)
    depth = max((len(item) for row in rows for item in row), default=1)
    empty = [pad] * depth
    padded = [[*(item + [pad] * (depth - len(item)) for item in row), *[empty] * (width - len(row))] for row in rows]
    return torch.tensor(padded, dtype=torch.long).view(len(rows), width, depth)


def collate(
    examples: Sequence[dict[str, list | int]], pad_values: dict[str, int] | None = None
) -> dict[str, torch.Tensor]:
    """Featurized examples -> a batch dict of tensors, plus `lengths` (B,) from the first sequence field.

    Fields holding ints become (B,); lists of ints (B, T); lists of lists (B, T, K); tensors of one shape are
    stacked, (B, *shape) (a teacher's soft labels, say). Fields are padded with
    0 unless `pad_values` names another value (targets use -100, which the losses ignore).
    """
    pad_values = pad_values or {}
    batch: dict[str, torch.Tensor] = {}
    for name in examples[0]:
        values = [example[name] for example in examples]
        if isinstance(values[0], int):
            batch[name] = torch.as_tensor(values, dtype=torch.long)
        elif isinstance(values[0], torch.Tensor):
            batch[name] = torch.stack(values)
        elif values[0] and isinstance(values[0][0], list):
            batch[name] = pad_2d(values)
        else:
            batch[name] = pad_1d(values, pad=pad_values.get(name, 0))
    lengths_from = "words" if "words" in examples[0] else next(
        name for name in examples[0] if not isinstance(examples[0][name], int)
    )
    batch["lengths"] = torch.as_tensor([len(example[lengths_from]) for example in examples], dtype=torch.long)
    return batch


def cut_sorted(sorted_lengths: Sequence[int], batch_size: int, max_tokens: int | None = None) -> list[tuple[int, int]]:
    """(start, size) of consecutive batches over lengths sorted shortest first.

    A batch holds at most `batch_size` examples and, with a token budget, at most `max_tokens` padded tokens
    (its size times its longest length, which is its last). An example longer than the budget gets a batch of
    its own rather than being dropped.
    """
    count = len(sorted_lengths)
    if max_tokens is None:
        return [(start, min(batch_size, count - start)) for start in range(0, count, batch_size)]
    spans, start = [], 0
    while start < count:
        size = 1
        while start + size < count and size < batch_size and (size + 1) * sorted_lengths[start + size] <= max_tokens:
            size += 1
        spans.append((start, size))
        start += size
    return spans


def bucketed_order(
    lengths: Sequence[int],
    batch_size: int,
    generator: torch.Generator | None = None,
    pool_batches: int = 50,
    max_tokens: int | None = None,
) -> list[list[int]]:
    """Split example indices into batches of similar length.

    With a generator: shuffle, sort within pools of `pool_batches` batches, cut, and shuffle the batches.
    Without: sort all by length (for evaluation; callers restore the original order themselves).
    `max_tokens` also caps each batch's padded tokens (see cut_sorted).
    """
    count = len(lengths)
    if generator is None:
        order = sorted(range(count), key=lambda i: lengths[i])
        spans = cut_sorted([lengths[i] for i in order], batch_size, max_tokens)
        return [order[start : start + size] for start, size in spans]
    shuffled = torch.randperm(count, generator=generator).tolist()
    pool = batch_size * pool_batches
    batches = []
    for pool_start in range(0, count, pool):
        chunk = sorted(shuffled[pool_start : pool_start + pool], key=lambda i: lengths[i])
        spans = cut_sorted([lengths[i] for i in chunk], batch_size, max_tokens)
        batches.extend(chunk[start : start + size] for start, size in spans)
    permutation = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in permutation]


def epoch_order(lengths: Sequence[int], train: TrainConfig, seed: int, epoch: int) -> list[list[int]]:
    """One training epoch's batches of example indices: a pure function of (seed, epoch), so that `--resume`
    rebuilds the same order, cut by `train.batch_size` and `train.max_tokens`."""
    generator = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    return bucketed_order(lengths, train.batch_size, generator, train.bucket_pool, train.max_tokens)


def epoch_seed(seed: int, epoch: int) -> int:
    return seed * 100_003 + epoch
