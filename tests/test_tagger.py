"""The tagger head must be able to learn (overfit 16 sentences): with and without the CRF, and voting by tokens."""

import pytest
import torch

from seqkit.api import load_recipe
from seqkit.data.readers import read_atis_split
from seqkit.model import build_model
from seqkit.tasks import get_task

from conftest import TINY_ATIS, write_recipe


@pytest.mark.parametrize(("use_crf", "pooling"), [(True, "max"), (False, "max"), (True, "tokens")])
def test_overfits_sixteen_sentences(tmp_path, use_crf, pooling):
    torch.manual_seed(0)
    recipe = load_recipe(None, write_recipe(tmp_path, head={"use_crf": use_crf, "intent_pooling": pooling}))
    task = get_task("slot-filling")
    sentences = read_atis_split(TINY_ATIS / "train")
    vocabularies = task.build_vocabularies(recipe, sentences)
    model = build_model(recipe, vocabularies)
    batches = task.training_batches(recipe, vocabularies, sentences)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for epoch in range(40):
        model.train()
        for batch in batches(epoch):
            optimizer.zero_grad()
            model(batch).loss.backward()
            optimizer.step()
    scores = task.evaluate(model, recipe, vocabularies, sentences)
    assert scores["slot_f1"] == 100.0
    assert scores["intent_accuracy"] == 100.0
    assert scores["sentence_accuracy"] == 100.0


def test_unseen_gold_labels_count_as_errors_not_crashes(tmp_path):
    recipe = load_recipe(None, write_recipe(tmp_path))
    task = get_task("slot-filling")
    train = read_atis_split(TINY_ATIS / "train")
    vocabularies = task.build_vocabularies(recipe, train)
    model = build_model(recipe, vocabularies)
    from seqkit.data.readers import TaggedSentence

    unseen = [TaggedSentence(("flights", "to", "mars"), ("O", "O", "B-planet"), "space_travel")]
    scores = task.evaluate(model, recipe, vocabularies, unseen)
    assert scores["unseen_gold_tags"] == 1 and scores["unseen_gold_intents"] == 1
    assert scores["intent_accuracy"] == 0.0 and scores["slot_recall"] == 0.0
