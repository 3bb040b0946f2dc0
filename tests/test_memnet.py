"""The memory network head: position encoding, temporal order, attention masking, linear start, gradients."""

import random

import pytest
import torch

from seqkit.heads.memnet import MemoryNetwork, position_encoding
from seqkit.tasks.babi import advance_linear_start, collate_questions


def example(sentence_lengths: list[int], answer: int = 5) -> dict:
    """A featurized question whose sentences hold word ids 2, 3, ... (0 is padding)."""
    width = max(sentence_lengths, default=1)
    story = torch.zeros(len(sentence_lengths), width, dtype=torch.long)
    for row, length in enumerate(sentence_lengths):
        story[row, :length] = torch.arange(2, 2 + length)
    return {"story": story, "question": torch.tensor([2, 3]), "answer": answer}


def test_position_encoding_matches_the_reference_formula_on_a_hand_worked_case():
    # J = 3 words, d = 2 dimensions, l_kj = 1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (d J), centred on 1:
    #   j=1: k=1 -> 1 + 4 (-1/2)(-1) / 6 = 4/3,  k=2 -> 1 + 4 (1/2)(-1) / 6 = 2/3
    #   j=2: both 1 (the middle word)
    #   j=3: k=1 -> 2/3,                         k=2 -> 4/3
    # and a fourth, padded position gets 0.
    expected = torch.tensor([[4 / 3, 2 / 3], [1.0, 1.0], [2 / 3, 4 / 3], [0.0, 0.0]])
    weights = position_encoding(torch.tensor([3]), width=4, dimension=2)
    assert torch.allclose(weights[0], expected)


def test_position_encoded_sentence_is_the_weighted_sum_of_its_word_vectors():
    network = MemoryNetwork(vocab_size=6, embedding_size=2, hops=1, temporal=False)
    words = torch.tensor([[2, 3, 4, 0]])  # (1, L): three words and padding
    vectors = network.embeddings[0].weight[torch.tensor([2, 3, 4])]  # (3, 2)
    weights = torch.tensor([[4 / 3, 2 / 3], [1.0, 1.0], [2 / 3, 4 / 3]])
    (sentences,) = network._sentences([0], words, network._word_weights(words))  # (1, d)
    assert torch.allclose(sentences[0], (weights * vectors).sum(dim=0), atol=1e-6)


@pytest.mark.parametrize("position_encoded", [True, False])
def test_reading_several_word_matrices_at_once_gives_each_its_own_sentence_vectors(position_encoded):
    network = MemoryNetwork(vocab_size=9, embedding_size=3, hops=3, temporal=False, position_encoded=position_encoded)
    words = torch.tensor([[[2, 3, 4, 0], [5, 0, 0, 0]], [[6, 7, 8, 2], [0, 0, 0, 0]]])  # (B, M, L)
    weights = network._word_weights(words)
    together = network._sentences([0, 1, 2, 3], words, weights)  # 4 x (B, M, d)
    for index, found in enumerate(together):
        (alone,) = network._sentences([index], words, weights)
        assert torch.allclose(found, alone, atol=1e-6)
        # Each matrix's own vectors: the sum over words of that matrix's rows (weighted when position-encoded).
        rows = network.embeddings[index].weight[words]  # (B, M, L, d)
        if position_encoded:
            rows = rows * position_encoding((words != 0).sum(dim=-1), words.size(-1), 3)
        assert torch.allclose(found, rows.sum(dim=2), atol=1e-6)


def test_temporal_encoding_gives_age_zero_to_the_most_recent_sentence():
    batch = collate_questions([example([2, 1, 3])], memory_size=50)
    assert batch["time"].tolist() == [[2, 1, 0]]
    # End to end: when only age 0 matches the question, every hop reads the last sentence.
    network = MemoryNetwork(vocab_size=6, embedding_size=4, hops=2, tying="layerwise", position_encoded=False)
    with torch.no_grad():
        for embedding in network.embeddings[1:]:
            embedding.weight.zero_()  # story words carry no signal, only their age does
        network.embeddings[0].weight.zero_()
        network.embeddings[0].weight[2, 0] = 1.0  # question vector u = e_1
        network.times[0].weight.zero_()
        network.times[0].weight[0, 0] = 20.0
        network.mapping.weight.copy_(torch.eye(4))
    attention = network.eval()(batch).extras["attention"]  # (1, K, M)
    assert attention[0, 0].argmax().item() == 2 and attention[0, 0, 2] > 0.99


def test_random_noise_keeps_real_memories_in_order_and_adds_empty_ones():
    generator = random.Random(0)
    stories = [example([1] * 20)] * 50
    batch = collate_questions(stories, memory_size=50, noise=0.1, generator=generator)
    extra = batch["memory_mask"].sum(dim=1) - 20  # (B,)
    assert extra.min() >= 0 and extra.max() <= 2 and extra.max() > 0
    for row in range(len(stories)):
        ages = batch["time"][row, :20]
        assert (ages[:-1] > ages[1:]).all()  # older real sentences stay older
        assert batch["story"][row, 20:].eq(0).all()  # the added memories are empty


def test_random_noise_as_age_gaps_adds_no_memories():
    stories = [example([1] * 20)] * 50
    batch = collate_questions(stories, 50, noise=0.1, generator=random.Random(0), noise_memories=False)
    assert batch["memory_mask"].sum(dim=1).eq(20).all()  # no memory added
    ages = batch["time"][:, :20]  # (B, 20)
    assert (ages[:, :-1] > ages[:, 1:]).all() and ages[:, -1].ge(0).all()
    gaps = ages[:, 0] - 19  # how many ages were skipped in each story: 0 .. ceil(0.1 * 20)
    assert gaps.min() >= 0 and gaps.max() <= 2 and gaps.max() > 0


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
def test_attention_sums_to_one_over_real_memories_only(tying):
    torch.manual_seed(0)
    network = MemoryNetwork(vocab_size=8, embedding_size=6, hops=3, tying=tying).eval()
    batch = collate_questions([example([2, 3]), example([1, 4, 2, 2, 1]), example([])], memory_size=50)
    attention = network(batch).extras["attention"]  # (B, K, M)
    assert attention.shape == (3, 3, 5)
    assert torch.allclose(attention[0].sum(dim=-1), torch.ones(3)) and attention[0, :, 2:].eq(0).all()
    assert torch.allclose(attention[1].sum(dim=-1), torch.ones(3))
    assert attention[2].eq(0).all()  # a story without sentences reads nothing, and stays finite
    assert torch.isfinite(network(batch).logits).all()


def test_unused_slots_take_their_share_of_attention_as_zero_score_memories():
    torch.manual_seed(0)
    network = MemoryNetwork(vocab_size=8, embedding_size=6, hops=1, memory_size=6, unused_slots_attend=True).eval()
    batch = collate_questions([example([2, 3]), example([1, 4, 2]), example([])], memory_size=6)
    with torch.no_grad():
        attention = network(batch).extras["attention"][:, 0]  # (B, M = 3)
        (state,) = network._sentences([0], batch["question"], network._word_weights(batch["question"]))  # (B, d)
        memories = network._memories(batch)[0]  # (B, M, d)
        scores = torch.einsum("bmd,bd->bm", memories, state)
    # The authors' memory of 6 slots: real memories, then unused slots that score exp(0) = 1 each.
    first = torch.cat([scores[0, :2], torch.zeros(4)]).softmax(dim=0)
    second = torch.cat([scores[1, :3], torch.zeros(3)]).softmax(dim=0)
    assert torch.allclose(attention[0, :2], first[:2]) and attention[0, 2] == 0
    assert torch.allclose(attention[1], second[:3])
    assert float(attention[1].sum()) < 1  # the rest went to the unused slots
    assert attention[2].eq(0).all()  # no sentences: every weight on unused slots, nothing read


@pytest.mark.parametrize("tying", ["adjacent", "layerwise"])
def test_gradients_reach_every_parameter(tying):
    torch.manual_seed(0)
    network = MemoryNetwork(vocab_size=8, embedding_size=6, hops=3, tying=tying)
    batch = collate_questions([example([2, 3]), example([4, 1, 2])], memory_size=50)
    output = network(batch)
    output.loss.backward()
    assert torch.isfinite(output.loss)
    missing = [name for name, parameter in network.named_parameters() if parameter.grad is None]
    assert not missing
    assert network.output is None if tying == "adjacent" else network.output is not None


def test_linear_start_drops_the_softmax_until_validation_loss_stops_falling():
    torch.manual_seed(0)
    network = MemoryNetwork(vocab_size=8, embedding_size=6, hops=1, linear_start=True)
    batch = collate_questions([example([2, 3, 1])], memory_size=50)
    assert not torch.allclose(network.eval()(batch).extras["attention"].sum(), torch.tensor(1.0))
    network.train()
    advance_linear_start(network, validation_loss=2.0, max_epochs=20)
    advance_linear_start(network, validation_loss=1.5, max_epochs=20)
    assert bool(network.linear_attention) and not bool(network.linear_start_done)
    advance_linear_start(network, validation_loss=1.6, max_epochs=20)  # stopped falling
    assert bool(network.linear_start_done) and bool(network.linear_attention)  # saved weights stay truthful
    network(batch)  # the next training step re-inserts the softmax
    assert not bool(network.linear_attention)
    assert torch.allclose(network.eval()(batch).extras["attention"].sum(), torch.tensor(1.0))


def test_fixed_length_linear_start_ignores_validation_loss():
    network = MemoryNetwork(vocab_size=8, embedding_size=6, hops=1, linear_start=True)
    for loss in (2.0, 2.5, 3.0):  # rising: the validation rule would have ended it after the second epoch
        advance_linear_start(network, validation_loss=loss, max_epochs=4, stops_on_validation=False)
    assert not bool(network.linear_start_done)
    advance_linear_start(network, validation_loss=1.0, max_epochs=4, stops_on_validation=False)
    assert bool(network.linear_start_done) and int(network.linear_epochs) == 4
