"""Greedy and beam search on a hand-made model whose next-token distribution is a table over prefixes."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass

import pytest
import torch

from seqkit.decoding import beam_search, block_repeats, greedy_search

BEGIN, END, WORDS = 0, 1, (2, 3)
VOCABULARY = 4


@dataclass
class TableState:
    histories: list[tuple[int, ...]]  # per row, the tokens produced so far
    sentences: list[int]  # per row, which sentence (its table)

    def select(self, rows: torch.Tensor) -> TableState:
        rows = rows.tolist()
        return TableState([self.histories[r] for r in rows], [self.sentences[r] for r in rows])


class TableModel:
    """P(next | sentence, prefix) from a function; the begin token and padding are never produced."""

    begin_id, end_id = BEGIN, END

    def __init__(self, probabilities):
        self.probabilities = probabilities  # (sentence, prefix) -> {token: p}

    def encode(self, batch):
        return TableState([() for _ in batch["lengths"]], list(range(len(batch["lengths"]))))

    def decode_step(self, state: TableState, previous: torch.Tensor):
        histories = [
            h if int(p) == BEGIN else (*h, int(p)) for h, p in zip(state.histories, previous, strict=True)
        ]
        log_probabilities = torch.full((len(histories), VOCABULARY), float("-inf"))
        for row, (history, sentence) in enumerate(zip(histories, state.sentences, strict=True)):
            for token, probability in self.probabilities(sentence, history).items():
                log_probabilities[row, token] = math.log(probability)
        return log_probabilities, TableState(histories, state.sentences), torch.ones(len(histories), 1)


def random_table(seed: int):
    def probabilities(sentence, prefix):
        generator = random.Random(f"{seed}-{sentence}-{prefix}")
        weights = [generator.random() + 0.05 for _ in (END, *WORDS)]
        return {token: w / sum(weights) for token, w in zip((END, *WORDS), weights, strict=True)}

    return probabilities


def exhaustive(probabilities, sentence: int, max_length: int, length_penalty: float):
    """Every output of at most max_length words followed by the end symbol, best first."""
    scored = []
    for length in range(max_length + 1):
        for words in itertools.product(WORDS, repeat=length):
            log_probability = sum(
                math.log(probabilities(sentence, words[:i])[words[i]]) for i in range(length)
            ) + math.log(probabilities(sentence, words)[END])
            scored.append((log_probability / (length + 1) ** length_penalty, list(words)))
    return sorted(scored, key=lambda item: -item[0])


def batch_of(lengths):
    return {"lengths": torch.tensor(lengths)}


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_wide_beam_finds_the_exhaustive_optimum_and_n_best(length_penalty):
    table = random_table(7)
    # 3 words at most: 15 finished outputs in all and at most 12 candidates per step, so beam 16 is exact.
    results = beam_search(TableModel(table), batch_of([3, 2, 3]), 16, 1.0, length_penalty, n_best=5)
    for sentence, length in enumerate([3, 2, 3]):
        expected = exhaustive(table, sentence, length, length_penalty)[:5]
        assert [h.tokens for h in results[sentence]] == [words for _, words in expected]
        for hypothesis, (score, _) in zip(results[sentence], expected, strict=True):
            assert hypothesis.score == pytest.approx(score, abs=1e-5)


def test_beam_two_beats_greedy_on_a_hand_made_distribution():
    # Greedy takes word 2 (0.5) and then must go on (end 0.2); word 3 (0.4) then end (0.9) is better: 0.36.
    table = {
        (): {END: 0.1, 2: 0.5, 3: 0.4},
        (2,): {END: 0.2, 2: 0.4, 3: 0.4},
        (3,): {END: 0.9, 2: 0.05, 3: 0.05},
    }

    def probabilities(sentence, prefix):
        return table.get(prefix, {END: 1.0})

    model = TableModel(probabilities)
    (greedy,) = greedy_search(model, batch_of([4]), 1.0)
    (beam,) = beam_search(model, batch_of([4]), 2, 1.0, length_penalty=0.0)
    assert greedy.tokens == [2, 2]
    assert beam[0].tokens == [3]
    assert beam[0].log_probability == pytest.approx(math.log(0.36))


def test_beam_one_equals_greedy():
    model = TableModel(random_table(3))
    lengths = [1, 4, 6, 2, 5]
    greedy = greedy_search(model, batch_of(lengths), 1.5)
    beam = beam_search(model, batch_of(lengths), 1, 1.5, length_penalty=0.0)
    assert [g.tokens for g in greedy] == [b[0].tokens for b in beam]
    assert [g.log_probability for g in greedy] == pytest.approx([b[0].log_probability for b in beam])


def test_maximum_length_is_a_ratio_of_the_source_length():
    model = TableModel(lambda sentence, prefix: {2: 0.5, 3: 0.49, END: 0.01})  # would never stop on its own
    results = greedy_search(model, batch_of([2, 5]), 1.5)
    assert [len(h.tokens) for h in results] == [3, 8]
    beams = beam_search(model, batch_of([2, 5]), 2, 1.5, n_best=2)
    assert [[len(h.tokens) for h in found] for found in beams] == [[3, 3], [8, 8]]


def has_repeated_ngram(tokens: list[int], size: int) -> bool:
    grams = [tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
    return len(grams) != len(set(grams))


def test_block_repeats_forbids_exactly_the_words_that_would_repeat_an_ngram():
    histories = torch.tensor([[2, 3, 2], [5, 6, 7]])  # row 0 ends in 2, which was once followed by 3
    blocked = block_repeats(torch.zeros(2, 8), histories, size=2)
    assert torch.isinf(blocked[0, 3]) and int(torch.isinf(blocked).sum()) == 1
    unigrams = block_repeats(torch.zeros(2, 8), histories, size=1)
    assert torch.isinf(unigrams).nonzero().tolist() == [[0, 2], [0, 3], [1, 5], [1, 6], [1, 7]]
    assert torch.equal(block_repeats(torch.zeros(2, 8), histories, size=4), torch.zeros(2, 8))  # too short


@pytest.mark.parametrize("size", [1, 2])
def test_no_repeat_ngram_changes_a_stuttering_output_in_greedy_and_beam_search(size):
    # The model prefers word 2 at every step and never wants to stop: left alone it outputs 2 2 2 2.
    model = TableModel(lambda sentence, prefix: {2: 0.6, 3: 0.3, END: 0.1})
    (plain,) = greedy_search(model, batch_of([4]), 1.0)
    assert plain.tokens == [2, 2, 2, 2]
    (greedy,) = greedy_search(model, batch_of([4]), 1.0, no_repeat_ngram=size)
    (beam,) = beam_search(model, batch_of([4]), 3, 1.0, length_penalty=0.0, no_repeat_ngram=size)
    expected = {1: [2, 3], 2: [2, 2, 3, 2]}[size]  # size 1: after 2 3 only the end symbol is left
    assert greedy.tokens == expected
    for hypothesis in beam:
        assert not has_repeated_ngram(hypothesis.tokens, size)
    (one,) = beam_search(model, batch_of([4]), 1, 1.0, length_penalty=0.0, no_repeat_ngram=size)
    assert one[0].tokens == greedy.tokens  # beam 1 stays greedy with blocking too
