"""head.intent_pooling: each pooling ignores padding, survives a run dir and the ONNX export (so does the intent's own
encoder, head.intent_encoder); bad values name it."""

import json
import re

import pytest
import torch
import yaml
from test_export import assert_same_predictions

from seqkit import Tagger, api
from seqkit.api import load_recipe
from seqkit.config import build_recipe
from seqkit.data.readers import read_atis_split
from seqkit.errors import ConfigError
from seqkit.export import export_onnx
from seqkit.export.tagger import OnnxTagger
from seqkit.heads.tagger import soft_vote
from seqkit.tasks import get_task
from seqkit.tasks.slot_filling import SlotFillingData, TaggerConfig

from conftest import TINY_ATIS, write_recipe

POOLINGS = ["max", "attention", "max+attention", "tokens"]


@pytest.mark.parametrize("pooling", POOLINGS)
def test_intent_logits_are_the_same_with_extra_padding(tmp_path, pooling):
    torch.manual_seed(0)
    recipe = load_recipe(None, write_recipe(tmp_path, head={"intent_pooling": pooling}))
    task = get_task("slot-filling")
    vocabularies = task.build_vocabularies(recipe, read_atis_split(TINY_ATIS / "train"))
    head = task.build_head(recipe, vocabularies, input_size=8).eval()
    lengths = torch.tensor([5, 3])
    encoded = torch.randn(2, 5, 8)  # (B, T, D_in); row 1 pads its last two positions
    # Padding of any value, and more of it, must not move the intent: the pooling looks at real positions only.
    padded = torch.cat([encoded, 100 * torch.randn(2, 4, 8)], dim=1)  # (B, T + 4, D_in)
    padded[1, 3:] = -100.0
    with torch.no_grad():
        expected = head(encoded, {"lengths": lengths}).extras["intent_logits"]  # (B, C_intents)
        found = head(padded, {"lengths": lengths}).extras["intent_logits"]
    assert torch.allclose(found, expected, atol=1e-6)
    # A sentence scores the same alone as inside the batch.
    with torch.no_grad():
        alone = head(encoded[1:, :3], {"lengths": lengths[1:]}).extras["intent_logits"]
    assert torch.allclose(alone, expected[1:], atol=1e-6)


READINGS = [("max+attention", False), ("tokens", False), ("max", True), ("tokens", True)]


@pytest.mark.parametrize(("pooling", "own_encoder"), READINGS)
def test_a_pooling_round_trips_through_a_run_dir_and_exports(tmp_path, pooling, own_encoder):
    recipe = write_recipe(tmp_path, head={"intent_pooling": pooling, "intent_encoder": own_encoder})
    run = api.train(None, recipe, data_dir=TINY_ATIS, out=tmp_path / "run", show_progress=False)
    assert yaml.safe_load((run / "config.yaml").read_text())["head"]["intent_pooling"] == pooling
    tagger = Tagger.load(run)
    assert tagger.recipe.head.intent_pooling == pooling
    assert (tagger.model.head.intent_attention is not None) == ("attention" in pooling)
    assert (tagger.model.head.intent_context is not None) == own_encoder
    stored = json.loads((run / "metrics.json").read_text())["dev"]
    rescored = api.evaluate(run, "valid", data_dir=TINY_ATIS)
    assert rescored["intent_accuracy"] == stored["intent_accuracy"] and rescored["slot_f1"] == stored["slot_f1"]
    texts = ["show me flights from boston to denver", "fares to oslo on monday", "what airlines fly to rome"]
    assert_same_predictions(tagger.tag(texts), OnnxTagger(export_onnx(run, tmp_path / "onnx")).tag(texts))


def test_an_unknown_pooling_is_an_error_naming_the_key():
    raw = {"task": "slot-filling", "head": {"intent_pooling": "mean"}}
    with pytest.raises(ConfigError, match="^" + re.escape("head.intent_pooling: unknown pooling 'mean'")):
        build_recipe(raw, {"data": SlotFillingData, "head": TaggerConfig})


def test_the_soft_vote_is_the_mean_of_the_real_positions_distributions():
    # (B=2, T=3, C=2)
    token_logits = torch.tensor([[[2.0, 0.0], [0.0, 2.0], [9.0, -9.0]], [[1.0, 3.0], [5.0, 5.0], [0.0, 0.0]]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    voted = soft_vote(token_logits, mask).softmax(dim=-1)  # (B, C)
    # Row 0: the two real positions are mirror images, so the vote is even; the padded third does not count.
    assert torch.allclose(voted[0], torch.tensor([0.5, 0.5]))
    expected = token_logits[1].softmax(dim=-1).mean(dim=0)
    assert torch.allclose(voted[1], expected)

