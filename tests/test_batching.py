"""Length-bucketed batches: a token budget caps each batch's padded tokens, every example is drawn once per
epoch, and the trainer logs how much of each epoch was padding."""

from __future__ import annotations

import json

import pytest
import torch

from seqkit import api
from seqkit.config import TrainConfig
from seqkit.data.batching import bucketed_order, cut_sorted, epoch_order

from conftest import TINY_ATIS, write_recipe


def test_cut_by_count_alone():
    assert cut_sorted([1, 2, 3, 4, 5], batch_size=2) == [(0, 2), (2, 2), (4, 1)]


def test_cut_by_a_token_budget():
    # Budget 12: [2, 2, 3, 3] is 4 x 3 = 12; adding 5 would be 5 x 5 = 25. [5, 6] is 12, [6, 13] 26 > 12, so
    # 13 alone: longer than the budget, it still gets its own batch.
    assert cut_sorted([2, 2, 3, 3, 5, 6, 13], batch_size=10, max_tokens=12) == [(0, 4), (4, 2), (6, 1)]
    # The example count still caps a batch of short ones.
    assert cut_sorted([1] * 7, batch_size=3, max_tokens=100) == [(0, 3), (3, 3), (6, 1)]


@pytest.mark.parametrize("max_tokens", [None, 120])
def test_every_example_once_and_within_the_budget(max_tokens):
    generator = torch.Generator().manual_seed(0)
    lengths = torch.randint(1, 30, (500,), generator=generator).tolist()
    batches = bucketed_order(lengths, 16, torch.Generator().manual_seed(1), pool_batches=4, max_tokens=max_tokens)
    assert sorted(index for batch in batches for index in batch) == list(range(500))
    for batch in batches:
        assert len(batch) <= 16
        if max_tokens is not None and len(batch) > 1:
            assert len(batch) * max(lengths[i] for i in batch) <= max_tokens
    if max_tokens is not None:  # short sentences share a batch, so the budget does not fall back to one each
        assert len(batches) < 500 / 2


def test_budget_wastes_less_padding_than_a_fixed_count():
    lengths = [1 + (index * 7919) % 60 for index in range(2000)]

    def padding(batches):
        real = sum(lengths[i] for batch in batches for i in batch)
        padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)
        return 1 - real / padded

    by_count = epoch_order(lengths, TrainConfig(batch_size=32), seed=3, epoch=0)
    by_budget = epoch_order(lengths, TrainConfig(batch_size=256, max_tokens=32 * 30), seed=3, epoch=0)
    assert epoch_order(lengths, TrainConfig(batch_size=32), seed=3, epoch=0) == by_count  # pure in (seed, epoch)
    assert padding(by_budget) <= padding(by_count)
    assert max(len(batch) for batch in by_budget) > 32  # short sentences come in bigger batches


def test_a_pool_of_one_batch_mixes_lengths_and_a_bigger_pool_groups_them():
    lengths = [1 + (index * 7919) % 60 for index in range(2000)]

    def mean_spread(batches):  # longest minus shortest, averaged over batches
        return sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches) / len(batches)

    random_batches = epoch_order(lengths, TrainConfig(batch_size=32, bucket_pool=1), seed=3, epoch=0)
    bucketed = epoch_order(lengths, TrainConfig(batch_size=32), seed=3, epoch=0)
    assert sorted(i for batch in random_batches for i in batch) == list(range(2000))
    # Lengths are spread over 1..60: a random batch of 32 spans most of that, a bucketed one a few lengths.
    assert mean_spread(random_batches) > 40 and mean_spread(bucketed) < 5


def test_trainer_logs_the_padding_fraction(tmp_path):
    recipe = write_recipe(tmp_path, train={"epochs": 1, "batch_size": 8, "max_tokens": 60})
    out = api.train(None, recipe, data_dir=TINY_ATIS, out=tmp_path / "run", show_progress=False)
    record = json.loads((out / "log.jsonl").read_text().splitlines()[-1])
    assert 0 <= record["padding_fraction"] < 0.5
