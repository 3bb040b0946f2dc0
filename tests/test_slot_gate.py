"""head.slot_gate (Goo et al. 2018): the intent vector reaches every tag score, padding does not, a closed gate is
the plain tagger, and a gated tagger survives its run dir and the ONNX export; settings it cannot use are refused."""

import re

import pytest
import torch
from test_export import assert_same_predictions

from seqkit import Tagger, api
from seqkit.api import load_recipe
from seqkit.config import build_recipe
from seqkit.data.readers import read_atis_split
from seqkit.errors import ConfigError
from seqkit.export import export_onnx
from seqkit.export.tagger import OnnxTagger
from seqkit.tasks import get_task
from seqkit.tasks.slot_filling import SlotFillingData, TaggerConfig

from conftest import TINY_ATIS, write_recipe

GATES = ["full", "intent"]


def gated_head(tmp_path, gate: str, pooling: str = "attention"):
    torch.manual_seed(0)
    recipe = load_recipe(None, write_recipe(tmp_path, head={"slot_gate": gate, "intent_pooling": pooling}))
    task = get_task("slot-filling")
    vocabularies = task.build_vocabularies(recipe, read_atis_split(TINY_ATIS / "train"))
    return task.build_head(recipe, vocabularies, input_size=8).eval()


@pytest.mark.parametrize("gate", GATES)
def test_gated_tag_scores_are_the_same_with_extra_padding_and_alone(tmp_path, gate):
    head = gated_head(tmp_path, gate)
    lengths = torch.tensor([5, 3])
    encoded = torch.randn(2, 5, 8)  # (B, T, D_in); row 1 pads its last two positions
    padded = torch.cat([encoded, 100 * torch.randn(2, 4, 8)], dim=1)  # (B, T + 4, D_in)
    padded[1, 3:] = -100.0
    with torch.no_grad():
        expected = head(encoded, {"lengths": lengths}).logits  # (B, T, C_tags)
        found = head(padded, {"lengths": lengths}).logits
        alone = head(encoded[1:, :3], {"lengths": lengths[1:]}).logits
    assert torch.allclose(found[0, :5], expected[0], atol=1e-5)
    assert torch.allclose(found[1, :3], expected[1, :3], atol=1e-5)
    assert torch.allclose(alone[0], expected[1, :3], atol=1e-5)


@pytest.mark.parametrize("gate", GATES)
def test_a_closed_gate_is_the_plain_tagger_and_an_open_one_hears_the_intent(tmp_path, gate):
    head = gated_head(tmp_path, gate)
    lengths = torch.tensor([4, 4])
    encoded = torch.randn(2, 4, 8)  # (B, T, D_in)
    with torch.no_grad():
        plain = head.slot_output(head.context(encoded, lengths)[0])  # (B, T, C_tags), no gate
        opened = head(encoded, {"lengths": lengths}).logits
        assert not torch.allclose(opened, plain, atol=1e-4)
        # Moving only the intent's projection moves the tag scores: the intent reaches every position.
        head.slot_gate.intent_projection.bias.add_(1.0)
        moved = head(encoded, {"lengths": lengths}).logits
        assert (moved - opened).abs().amax(dim=-1).min() > 1e-5
        head.slot_gate.gate.weight.zero_()
        closed = head(encoded, {"lengths": lengths}).logits
    assert torch.allclose(closed, plain, atol=1e-6)


def test_the_gate_learns_from_the_slot_loss(tmp_path):
    head = gated_head(tmp_path, "full").train()
    lengths = torch.tensor([4, 3])
    batch = {"lengths": lengths, "tags": torch.tensor([[1, 2, 0, 0], [0, 1, 2, -100]]), "intent": torch.tensor([0, 1])}
    head(torch.randn(2, 4, 8), batch).loss.backward()
    for name, parameter in head.slot_gate.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


@pytest.mark.parametrize("gate", GATES)
def test_a_gated_tagger_round_trips_through_a_run_dir_and_exports(tmp_path, gate):
    recipe = write_recipe(tmp_path, head={"slot_gate": gate, "intent_pooling": "max"})
    run = api.train(None, recipe, data_dir=TINY_ATIS, out=tmp_path / "run", show_progress=False)
    tagger = Tagger.load(run)
    assert tagger.recipe.head.slot_gate == gate
    assert (tagger.model.head.slot_gate.attention is not None) == (gate == "full")
    texts = ["show me flights from boston to denver", "fares to oslo on monday", "what airlines fly to rome"]
    assert_same_predictions(tagger.tag(texts), OnnxTagger(export_onnx(run, tmp_path / "onnx")).tag(texts))


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ({"slot_gate": "both"}, "head.slot_gate: unknown slot gate 'both'"),
        ({"slot_gate": "full", "intent": False}, "head.slot_gate: 'full' reads the intent pooled over time"),
        ({"slot_gate": "intent", "intent_pooling": "tokens"}, "head.slot_gate: 'intent' reads the intent pooled"),
    ],
)
def test_a_gate_the_head_cannot_feed_is_refused_naming_the_key(head, message):
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        build_recipe({"task": "slot-filling", "head": head}, {"data": SlotFillingData, "head": TaggerConfig})
