"""The attention encoder-decoder: attention masks, copying unseen words, batch invariance, overfitting."""

from __future__ import annotations

import pytest
import torch

from seqkit.config import build_recipe
from seqkit.data.batching import collate
from seqkit.data.parallel import TextPair
from seqkit.model import build_model
from seqkit.tasks import generation
from seqkit.tasks.generation import Seq2SeqConfig
from seqkit.tasks.translation import TranslationData


def small_recipe(**head):
    raw = {
        "task": "translation",
        "data": {"subwords": {"vocab_size": None}},
        "encoder": {"embedding_size": 32},
        "rnn": {"cell": "gru", "hidden_size": 32},
        "head": {"embedding_size": 32, "hidden_size": 64, "dropout": 0.0, "beam": 3, **head},
        "train": {"batch_size": 20},
    }
    return build_recipe(raw, {"data": TranslationData, "head": Seq2SeqConfig})


def reversal_pairs(count: int, seed: int = 0) -> list[TextPair]:
    """Word sequences and their reversal in capitals: a task with real dependence on attention."""
    generator = torch.Generator().manual_seed(seed)
    words = "ant bee cat dog eel fox gnu hen".split()
    pairs = []
    for _ in range(count):
        length = int(torch.randint(2, 6, (1,), generator=generator))
        chosen = [words[int(i)] for i in torch.randint(0, len(words), (length,), generator=generator)]
        pairs.append(TextPair(" ".join(chosen), " ".join(word.upper() for word in reversed(chosen))))
    return pairs


def built(recipe, pairs, seed=0):
    vocabularies = generation.build_vocabularies(recipe, pairs)
    torch.manual_seed(seed)
    return vocabularies, build_model(recipe, vocabularies)


@pytest.mark.parametrize("kind", ["additive", "dot", "general"])
@pytest.mark.parametrize("input_feeding", [False, True])
def test_attention_sums_to_one_over_real_source_positions_and_is_zero_on_padding(kind, input_feeding):
    recipe = small_recipe(attention=kind, input_feeding=input_feeding, hidden_size=64)
    pairs = reversal_pairs(6)
    vocabularies, model = built(recipe, pairs)
    model.eval()
    batch = generation.training_batches(recipe, vocabularies, pairs)(0)[0]
    output = model(batch)
    weights = output.extras["attention"]  # (B, U, T)
    lengths = batch["lengths"]
    real = torch.arange(weights.size(2)).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
    assert torch.allclose(weights.sum(dim=-1), torch.ones(weights.shape[:2]))
    assert bool((weights.masked_select(~real.unsqueeze(1).expand_as(weights)) == 0).all())
    assert torch.isfinite(output.loss)


@pytest.mark.parametrize("cell", ["lstm", "elman", "scrn", "jordan"])
def test_any_encoder_cell_trains(cell):
    raw_recipe = small_recipe()
    recipe = type(raw_recipe)(**{**raw_recipe.__dict__, "rnn": type(raw_recipe.rnn)(cell=cell, hidden_size=32)})
    pairs = reversal_pairs(6)
    vocabularies, model = built(recipe, pairs)
    batch = generation.training_batches(recipe, vocabularies, pairs)(0)[0]
    loss = model(batch).loss
    loss.backward()
    assert torch.isfinite(loss)
    encoder_parameters = list(model.head.encoder.parameters())
    assert encoder_parameters and all(p.grad is not None for p in encoder_parameters)
    (found,) = generation.generate(model, recipe, vocabularies, ["ant bee"], beam=2)
    assert isinstance(found[0].text, str)


def test_teacher_forcing_with_input_feeding_matches_step_by_step_decoding():
    recipe = small_recipe(input_feeding=True)
    pairs = reversal_pairs(4)
    vocabularies, model = built(recipe, pairs)
    model.eval()
    batch = generation.training_batches(recipe, vocabularies, pairs)(0)[0]
    real = batch["targets_out"] != -100  # (B, U): training projects only these positions
    forced = torch.log_softmax(model(batch).logits, dim=-1)  # (N, V)
    full = torch.full((*real.shape, forced.size(-1)), float("nan"))
    full[real] = forced  # (B, U, V), NaN on padding
    state = model.head.encode(model.encoder(batch), batch)
    for position in range(batch["targets_in"].size(1)):
        step, state, _ = model.head.decode_step(state, batch["targets_in"][:, position])
        rows = real[:, position]
        assert torch.allclose(step[rows], full[rows, position], atol=1e-5)


@pytest.mark.parametrize("input_feeding", [False, True])
def test_training_projects_only_real_targets_with_the_same_loss(input_feeding):
    recipe = small_recipe(input_feeding=input_feeding, label_smoothing=0.1)
    pairs = reversal_pairs(12)
    vocabularies, model = built(recipe, pairs)
    model.eval()  # no dropout, so both computations see the same numbers
    batch = generation.training_batches(recipe, vocabularies, pairs)(0)[0]
    output = model(batch)
    real = batch["targets_out"] != -100
    assert not real.all()  # the batch has padded targets, so something is left out
    assert output.logits.shape[0] == int(real.sum())
    # The loss over every position's projection, padding ignored: what training computed before.
    state = model.head.encode(model.encoder(batch), batch)
    every, _, _ = model.head._run(state, batch["targets_in"])  # (B, U, V)
    expected = torch.nn.functional.cross_entropy(
        every.reshape(-1, every.size(-1)), batch["targets_out"].reshape(-1), ignore_index=-100, label_smoothing=0.1
    )
    assert torch.allclose(output.loss, expected, atol=1e-6)


def test_copy_training_scores_only_gold_words_with_the_same_loss_and_gradients():
    recipe = small_recipe(copy=True, attention="additive")
    words = "ant bee cat dog eel fox".split()
    vocabularies, model = built(recipe, [TextPair(f"{a} {b}", f"{b} {a}") for a in words for b in words])
    model.eval()  # no dropout, so both computations see the same numbers
    # Unseen words: their gold ids lie in the extended vocabulary, reachable by copying only.
    pairs = [TextPair("yak cat owl", "owl yak"), TextPair("dog ant", "ant dog"), TextPair("emu", "emu emu bee")]
    batch = generation.training_batches(recipe, vocabularies, pairs)(0)[0]
    assert int(batch["oov_count"].max()) > 0 and (batch["targets_out"] == -100).any()
    fast = model(batch).loss
    fast_gradients = torch.autograd.grad(fast, list(model.parameters()), allow_unused=True)
    state = model.head.encode(model.encoder(batch), batch)
    every, _, _ = model.head._run(state, batch["targets_in"])  # (B, U, V + extra): what training did before
    slow = model.head._copy_loss(every, batch["targets_out"])
    slow_gradients = torch.autograd.grad(slow, list(model.parameters()), allow_unused=True)
    assert torch.allclose(fast, slow, atol=1e-5)
    for one, other in zip(fast_gradients, slow_gradients, strict=True):
        assert (one is None) == (other is None)
        if one is not None:
            assert torch.allclose(one, other, atol=1e-5)


@pytest.mark.parametrize(("attention", "input_feeding", "copy"), [("additive", False, True), ("general", True, False)])
def test_hypotheses_sharing_one_source_row_decode_as_with_a_row_each(attention, input_feeding, copy):
    recipe = small_recipe(attention=attention, input_feeding=input_feeding, copy=copy)
    pairs = reversal_pairs(12)
    vocabularies, model = built(recipe, pairs)
    model.eval()
    batch = generation.training_batches(recipe, vocabularies, pairs)(0)[0]
    head, beam = model.head, 3
    with torch.no_grad():
        fresh = head.encode(model.encoder(batch), batch)
        shared = fresh.expand(beam)  # one source row per sentence, `beam` hypothesis rows
        copied = fresh.select(torch.arange(fresh.memory.size(0)).repeat_interleave(beam))
        assert shared.memory.size(0) * beam == copied.memory.size(0)
        previous = torch.randint(4, head.symbols.size, (copied.memory.size(0),))
        for _ in range(3):
            shared_scores, shared, shared_attention = head.decode_step(shared, previous)
            copied_scores, copied, copied_attention = head.decode_step(copied, previous)
            assert torch.allclose(shared_scores, copied_scores, atol=1e-5)
            assert torch.allclose(shared_attention, copied_attention, atol=1e-6)
            # Drop the first sentence and reorder the beams of the rest, as beam search does.
            rows = torch.arange(beam, copied.memory.size(0)).view(-1, beam).flip(1).reshape(-1)
            shared, copied, previous = shared.select(rows), copied.select(rows), previous[rows]
        assert torch.equal(shared.per_row().memory, copied.memory)


def test_copy_attention_outputs_a_source_word_missing_from_the_target_vocabulary():
    recipe = small_recipe(copy=True, attention="general", max_length_ratio=1.0)
    vocabularies, model = built(recipe, reversal_pairs(10))
    assert "zebra" not in vocabularies["targets"]
    with torch.no_grad():  # force the switch to copy; with one source word all attention points at it
        model.head.copy.gate.weight.zero_()
        model.head.copy.gate.bias.fill_(-30.0)
    (outputs,) = generation.generate(model, recipe, vocabularies, ["zebra"], beam=1)
    assert outputs[0].tokens == ["zebra"] and outputs[0].text == "zebra"


def test_copy_model_learns_to_copy_words_it_never_saw():
    recipe = small_recipe(copy=True, attention="general", max_length_ratio=1.0, beam=1)
    words = "ant bee cat dog eel fox gnu hen".split()
    pairs = [TextPair(f"{a} {b}", f"{a} {b}") for a in words for b in words]
    vocabularies, model = built(recipe, pairs)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    batches = generation.training_batches(recipe, vocabularies, pairs)
    model.train()
    for epoch in range(12):
        for batch in batches(epoch):
            optimizer.zero_grad()
            model(batch).loss.backward()
            optimizer.step()
    outputs = generation.generate(model, recipe, vocabularies, ["yak cat", "dog owl"])
    assert [found[0].text for found in outputs] == ["yak cat", "dog owl"]


def test_twenty_pairs_are_learned_exactly():
    recipe = small_recipe(attention="general", beam=1, max_length_ratio=1.0)
    pairs = reversal_pairs(20, seed=1)
    vocabularies, model = built(recipe, pairs)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    batch = generation.training_batches(recipe, vocabularies, pairs)(0)[0]
    model.train()
    for _ in range(250):
        optimizer.zero_grad()
        model(batch).loss.backward()
        optimizer.step()
    for beam in (1, 4):
        outputs = generation.generate(model, recipe, vocabularies, [p.source for p in pairs], beam=beam)
        assert [found[0].text for found in outputs] == [p.target for p in pairs]


@pytest.mark.parametrize("beam", [1, 3])
def test_a_sentence_decodes_the_same_alone_and_in_a_batch(beam):
    recipe = small_recipe(attention="additive", max_length_ratio=1.5)
    pairs = reversal_pairs(12, seed=2)
    vocabularies, model = built(recipe, pairs, seed=5)
    texts = [p.source for p in pairs]
    together = generation.generate(model, recipe, vocabularies, texts, beam=beam, n_best=beam, batch_size=5)
    for text, found in zip(texts, together, strict=True):
        (alone,) = generation.generate(model, recipe, vocabularies, [text], beam=beam, n_best=beam)
        assert [h.tokens for h in alone] == [h.tokens for h in found]
        assert [h.score for h in alone] == pytest.approx([h.score for h in found], abs=1e-5)


def test_attention_matrix_is_returned_per_output_token():
    recipe = small_recipe()
    vocabularies, model = built(recipe, reversal_pairs(5))
    (found,) = generation.generate(model, recipe, vocabularies, ["ant bee cat"], beam=2, with_attention=True)
    matrix = found[0].attention
    assert matrix.shape == (len(found[0].tokens) + 1, 3)
    assert torch.allclose(matrix.sum(dim=1), torch.ones(matrix.size(0)))


def test_collate_pads_targets_with_the_ignored_index():
    recipe = small_recipe()
    pairs = reversal_pairs(3)
    vocabularies = generation.build_vocabularies(recipe, pairs)
    features = [
        generation.featurize(vocabularies, p.source.split(), p.target.split(), False)[0] for p in pairs
    ]
    batch = collate(features, {"targets_out": -100})
    assert (batch["targets_out"] == -100).sum() == (batch["targets_in"] == 0).sum()
