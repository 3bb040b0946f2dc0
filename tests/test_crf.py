"""The CRF against brute-force enumeration of every tag path on tiny cases."""

import itertools

import torch

from seqkit.layers.crf import CRF, bio_constraints


def brute_force(crf: CRF, emissions: torch.Tensor, length: int):
    """(log Z, best path) by scoring every path of `length` tags."""
    tags = range(crf.num_tags)
    scores = {}
    for path in itertools.product(tags, repeat=length):
        score = crf.start[path[0]] + crf.end[path[-1]] + sum(emissions[t, path[t]] for t in range(length))
        score = score + sum(crf.transitions[path[t - 1], path[t]] for t in range(1, length))
        scores[path] = score
    stacked = torch.stack(list(scores.values()))
    return torch.logsumexp(stacked, dim=0), list(max(scores, key=lambda p: scores[p].item()))


def random_crf(num_tags: int, seed: int) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(num_tags)
    with torch.no_grad():
        for parameter in crf.parameters():
            parameter.normal_()
    return crf


def test_partition_and_viterbi_match_enumeration_with_padding():
    crf = random_crf(num_tags=3, seed=0)
    lengths = [4, 2, 1]
    emissions = torch.randn(3, 4, 3)
    mask = torch.arange(4).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)
    log_z = crf.log_partition(emissions, mask)
    paths = crf.decode(emissions, mask)
    for row, length in enumerate(lengths):
        expected_log_z, expected_path = brute_force(crf, emissions[row], length)
        assert torch.allclose(log_z[row], expected_log_z, atol=1e-5)
        assert paths[row] == expected_path


def test_likelihoods_of_all_paths_sum_to_one():
    crf = random_crf(num_tags=2, seed=1)
    emissions = torch.randn(1, 3, 2)
    mask = torch.ones(1, 3, dtype=torch.bool)
    total = 0.0
    for path in itertools.product(range(2), repeat=3):
        nll = crf.negative_log_likelihood(emissions, torch.tensor([path]), mask)
        total += torch.exp(-nll).item()
    assert abs(total - 1.0) < 1e-5


def test_bio_constraints_forbid_orphan_inside_tags():
    names = ["B-a", "I-a", "B-b", "I-b", "O"]
    start, allowed = bio_constraints(names)
    assert start.tolist() == [True, False, True, False, True]
    assert allowed[0, 1] and allowed[1, 1] and not allowed[4, 1] and not allowed[2, 1]
    crf = random_crf(num_tags=5, seed=2)
    crf.set_allowed(start, allowed)
    emissions = torch.zeros(1, 2, 5)
    emissions[0, :, 1] = 10.0  # the emissions want "I-a I-a", which may not start a sentence
    (path,) = crf.decode(emissions, torch.ones(1, 2, dtype=torch.bool))
    assert names[path[0]] != "I-a"


def test_best_incoming_equals_the_full_maximum_with_bio_constraints():
    import numpy

    from seqkit.layers.crf import BestIncoming

    tags = ["O"] + [f"{prefix}-{kind}" for kind in "abcdefghij" for prefix in ("B", "I")]
    _, allowed = bio_constraints(tags)
    allowed = allowed.numpy()
    generator = numpy.random.default_rng(0)
    incoming = numpy.where(allowed, generator.normal(size=allowed.shape), -1e4).T.astype(numpy.float32)
    # Peaked rows (one tag far ahead, as after training) take the shortcut; flat rows fall back to the full max.
    peaked = generator.normal(size=(6, len(tags))).astype(numpy.float32)
    peaked[numpy.arange(6), generator.integers(len(tags), size=6)] += 30.0
    flat = generator.normal(size=(6, len(tags))).astype(numpy.float32)
    score = numpy.concatenate([peaked, flat])
    full = (score[:, None, :] + incoming[None]).max(axis=2)
    assert numpy.array_equal(BestIncoming(incoming, allowed, top=3)(score), full)


def test_decoding_follows_transitions_written_by_the_fused_optimizer():
    """A fused AdamW step writes the weights without bumping the tensors' version counters; the decoding
    plan must still follow the new transitions, as a fresh CRF holding the same weights decodes."""
    from seqkit.config import TrainConfig
    from seqkit.training.optimizer import build_optimizer

    crf = random_crf(num_tags=6, seed=3)
    optimizer = build_optimizer(crf.parameters(), TrainConfig(learning_rate=0.5))
    emissions = torch.randn(4, 7, 6)
    mask = torch.ones(4, 7, dtype=torch.bool)
    gold = torch.randint(0, 6, (4, 7))
    for _ in range(2):
        crf.decode(emissions, mask)  # builds (then must rebuild) the decoding plan, as dev evaluation does
        optimizer.zero_grad()
        crf.negative_log_likelihood(emissions, gold, mask).sum().backward()
        optimizer.step()
    fresh = CRF(6)
    fresh.load_state_dict(crf.state_dict())
    assert crf.decode(emissions, mask) == fresh.decode(emissions, mask)
