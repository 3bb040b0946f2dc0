"""StoryTable gathers the very batches collate_questions pads, random-noise draws included."""

import random
from pathlib import Path

import pytest
import torch

from seqkit import api
from seqkit.data.batching import epoch_order, epoch_seed
from seqkit.tasks.babi import BabiTask, collate_questions
from seqkit.tasks.babi_story_table import StoryTable

from conftest import write_tiny_task1


def featurized_questions(folder: Path, memory_size: int) -> tuple[list[dict], object]:
    recipe = api.load_recipe("babi", "babi_1k", ["data.task=1", f"head.memory_size={memory_size}"])
    task = BabiTask()
    train = task.load_splits(recipe, write_tiny_task1(folder, stories=20), ("train",))["train"]
    return task.featurize(recipe, task.build_vocabularies(recipe, train), train), recipe


def assert_same_batch(expected: dict, gathered: dict) -> None:
    assert expected.keys() == gathered.keys()
    for name, tensor in expected.items():
        assert gathered[name].dtype == tensor.dtype, name
        assert torch.equal(gathered[name], tensor), name


@pytest.mark.parametrize("memory_size", [50, 4])  # 4: questions keep only their story's last sentences
@pytest.mark.parametrize(("noise", "noise_memories"), [(0.0, True), (0.5, True), (0.5, False)])
def test_an_epoch_of_gathered_batches_equals_the_padded_ones(tmp_path, memory_size, noise, noise_memories):
    featurized, recipe = featurized_questions(tmp_path, memory_size)
    table = StoryTable(featurized)
    for epoch in range(2):
        order = epoch_order([len(example["story"]) for example in featurized], recipe.train, seed=3, epoch=epoch)
        padding, gathering = random.Random(epoch_seed(3, epoch)), random.Random(epoch_seed(3, epoch))
        for indices in order:
            expected = collate_questions([featurized[i] for i in indices], memory_size, noise, padding, noise_memories)
            assert_same_batch(expected, table.collate(indices, memory_size, noise, gathering, noise_memories))
        assert padding.random() == gathering.random()  # the same draws were made, so later ones agree too


def test_questions_of_one_story_share_its_rows_and_an_empty_story_reads_only_padding():
    whole = torch.tensor([[2, 3, 0], [4, 5, 6], [7, 0, 0]])  # (S, W): one story of three sentences
    featurized = [
        {"story": whole[0:1, :2], "question": torch.tensor([2]), "answer": 3},
        {"story": whole[1:3, :3], "question": torch.tensor([2, 4]), "answer": 5},
        {"story": torch.zeros(0, 1, dtype=torch.long), "question": torch.tensor([6]), "answer": 7},
    ]
    table = StoryTable(featurized)
    assert len(table.rows) == 1 + 3  # the padding row and the story's sentences, once
    assert_same_batch(collate_questions(featurized, memory_size=50), table.collate([0, 1, 2], memory_size=50))
    assert_same_batch(collate_questions(featurized[2:], memory_size=50), table.collate([2], memory_size=50))
