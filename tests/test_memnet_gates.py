"""Gated hops of the memory network (Liu and Perez 2017): the gate's two extremes, its start, gradients, config."""

import pytest
import torch

from seqkit import api
from seqkit.errors import ConfigError
from seqkit.heads.memnet import MemoryNetwork
from seqkit.model import build_model
from seqkit.tasks.babi import collate_questions
from seqkit.text.vocab import Vocab


def example(sentence_lengths: list[int]) -> dict:
    """A featurized question whose sentences hold word ids 2, 3, ... (0 is padding), answered by word 5."""
    story = torch.zeros(len(sentence_lengths), max(sentence_lengths), dtype=torch.long)
    for row, length in enumerate(sentence_lengths):
        story[row, :length] = torch.arange(2, 2 + length)
    return {"story": story, "question": torch.tensor([2, 3]), "answer": 5}


def batch_of_three() -> dict:
    return collate_questions([example([2, 3]), example([4, 1, 2]), example([3])], memory_size=50)


def network(hop_gate: str, hops: int = 3, tying: str = "adjacent", seed: int = 0) -> MemoryNetwork:
    torch.manual_seed(seed)
    return MemoryNetwork(vocab_size=8, embedding_size=6, hops=hops, tying=tying, hop_gate=hop_gate).eval()


def fix_gates(model: MemoryNetwork, bias: float) -> None:
    """Make every gate a constant T = sigmoid(bias), whatever the state."""
    with torch.no_grad():
        for gate in model.gates:
            gate.weight.zero_()
            gate.bias.fill_(bias)


def answer_logits(model: MemoryNetwork, batch: dict) -> torch.Tensor:
    """Logits (B, V - 1) without the <pad> column, which every model fills with -1e9."""
    with torch.no_grad():
        return model(batch).logits[:, 1:]


def test_one_gate_per_hop_or_one_for_all_and_none_by_default():
    assert len(network("gated").gates) == 3
    assert len(network("gated_shared").gates) == 1
    ungated = network("none")
    assert len(ungated.gates) == 0
    # Without gates the saved weights hold exactly the keys they held before gates existed.
    assert not [name for name in ungated.state_dict() if name.startswith("gates")]


def test_gated_network_starts_from_the_ungated_networks_embeddings():
    gated, ungated = network("gated"), network("none")
    for name, tensor in ungated.state_dict().items():
        assert torch.equal(gated.state_dict()[name], tensor), name


def test_one_hop_with_the_gate_open_plus_closed_gives_the_ungated_sum():
    # One hop, adjacent tying: logits = W u' with u' = o (T = 1), u (T = 0) or u + o (no gate); W is linear, so
    # the ungated logits are the sum of the two extremes'.
    batch = batch_of_three()
    opened, closed, ungated = network("gated", hops=1), network("gated", hops=1), network("none", hops=1)
    fix_gates(opened, 50.0)  # sigmoid(50) is 1 in float32
    fix_gates(closed, -50.0)
    sum_of_extremes = answer_logits(opened, batch) + answer_logits(closed, batch)
    assert torch.allclose(sum_of_extremes, answer_logits(ungated, batch), atol=1e-5)
    assert not torch.allclose(answer_logits(opened, batch), answer_logits(closed, batch), atol=1e-3)


def test_closed_gates_skip_every_hop_so_the_story_is_ignored():
    model = network("gated")
    fix_gates(model, -50.0)
    batch = batch_of_three()
    other_story = collate_questions([example([1]), example([5, 5]), example([2, 2, 2, 2])], memory_size=50)
    # The question's own vector, answered through W = C^K: u never changes.
    (question,) = model._sentences([0], batch["question"], model._word_weights(batch["question"]))  # (B, d)
    expected = (question @ model.embeddings[-1].weight.T)[:, 1:]
    assert torch.allclose(answer_logits(model, batch), expected, atol=1e-5)
    assert torch.allclose(answer_logits(model, other_story), expected, atol=1e-5)


def test_each_hop_reads_its_own_gate():
    # First hop closed (u^2 = u^1), the last two open (u^4 = o^3): the answer then depends on the story, which a
    # network reading the first hop's gate at every hop would ignore.
    model = network("gated")
    fix_gates(model, 50.0)
    with torch.no_grad():
        model.gates[0].bias.fill_(-50.0)
    batch = batch_of_three()
    other_story = collate_questions([example([1]), example([5, 5]), example([2, 2, 2, 2])], memory_size=50)
    assert not torch.allclose(answer_logits(model, batch), answer_logits(model, other_story), atol=1e-4)
    all_closed = network("gated")
    fix_gates(all_closed, -50.0)
    assert not torch.allclose(answer_logits(model, batch), answer_logits(all_closed, batch), atol=1e-4)


def test_a_half_open_gate_halves_the_ungated_update():
    # The initial bias 0 (with W_T small, here 0) gives T = 1/2: u <- (u + o) / 2, the ungated update at half
    # length, so one hop's logits are exactly half the ungated network's.
    gated, ungated = network("gated", hops=1), network("none", hops=1)
    fix_gates(gated, 0.0)
    batch = batch_of_three()
    assert torch.allclose(answer_logits(gated, batch), answer_logits(ungated, batch) / 2, atol=1e-6)
    fresh = network("gated")
    assert all(gate.bias.eq(0).all() for gate in fresh.gates)


def test_the_gate_reads_the_state_per_question():
    model = network("gated", hops=1)
    with torch.no_grad():
        model.gates[0].weight.copy_(torch.eye(6) * 5)  # a state-dependent gate
    batch = batch_of_three()
    ungated_like = network("gated", hops=1)
    fix_gates(ungated_like, 0.0)
    # A gate that depends on u changes the answer from the constant-gate network with the same embeddings.
    assert not torch.allclose(answer_logits(model, batch), answer_logits(ungated_like, batch), atol=1e-4)


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
@pytest.mark.parametrize("hop_gate", ["gated", "gated_shared"])
def test_gradients_reach_every_gate(tying, hop_gate):
    model = network(hop_gate, tying=tying).train()
    output = model(batch_of_three())
    output.loss.backward()
    assert torch.isfinite(output.loss)
    missing = [name for name, parameter in model.named_parameters() if parameter.grad is None]
    assert not missing
    for gate in model.gates:
        assert gate.weight.grad.abs().sum() > 0 and gate.bias.grad.abs().sum() > 0


def test_saved_gates_load_to_identical_answers():
    model, copy = network("gated", seed=0), network("gated", seed=1)
    batch = batch_of_three()
    assert not torch.allclose(answer_logits(model, batch), answer_logits(copy, batch))
    copy.load_state_dict(model.state_dict())
    assert torch.equal(answer_logits(model, batch), answer_logits(copy, batch))


def test_the_recipe_option_builds_gates_and_a_bad_value_is_refused_in_one_line():
    vocabularies = {"words": Vocab.build([["mary", "went", "kitchen"]])}
    model = build_model(api.load_recipe("babi", "babi_1k", ["head.hop_gate=gated"]), vocabularies)
    assert len(model.gates) == 3
    assert len(build_model(api.load_recipe("babi", "babi_1k"), vocabularies).gates) == 0
    carrying = build_model(
        api.load_recipe("babi", "babi_1k", ["head.hop_gate=gated_shared", "head.hop_gate_bias=-2"]), vocabularies
    )
    assert len(carrying.gates) == 1 and carrying.gates[0].bias.eq(-2).all()
    with pytest.raises(ConfigError, match=r"^head\.hop_gate: unknown hop gate 'highway'") as error:
        api.load_recipe("babi", "babi_1k", ["head.hop_gate=highway"])
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match=r"^head\.hop_gate_bias: must be at most 20"):
        api.load_recipe("babi", "babi_1k", ["head.hop_gate=gated", "head.hop_gate_bias=50"])
    with pytest.raises(ConfigError, match=r"^head\.hop_gate_bias: only gated hops read it"):
        api.load_recipe("babi", "babi_1k", ["head.hop_gate_bias=1"])
    with pytest.raises(ValueError, match="hop_gate"):
        MemoryNetwork(vocab_size=8, embedding_size=6, hop_gate="open")
