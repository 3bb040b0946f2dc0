"""A linear-chain conditional random field over tag sequences (Lafferty et al. 2001; Lample et al. 2016).

A path of tags y_1..y_T through emissions e (one score per position and tag) scores

    start[y_1] + sum_t e[t, y_t] + sum_t transitions[y_{t-1}, y_t] + end[y_T].

Training minimises -log p(gold path) = log Z - score(gold), where the partition function Z sums exp(score)
over every path; the forward algorithm computes log Z in O(T C^2). Decoding takes the best path with the
Viterbi algorithm. Positions past a sequence's length are masked out of both.

Optional `allowed` transitions (for BIO: no `I-x` after `O` or after another type) are applied at decoding
only, so training data that breaks the scheme still has a finite loss.
"""

from __future__ import annotations

import numpy
import torch
from torch import nn

_FORBIDDEN = -1e4


class CRF(nn.Module):
    def __init__(self, num_tags: int):
        super().__init__()
        self.num_tags = num_tags
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # [from, to]
        nn.init.uniform_(self.transitions, -0.1, 0.1)
        # Decoding constraints; all allowed unless set_allowed is called.
        self.register_buffer("allowed_start", torch.ones(num_tags, dtype=torch.bool), persistent=False)
        self.register_buffer("allowed_transitions", torch.ones(num_tags, num_tags, dtype=torch.bool), persistent=False)

    def set_allowed(self, allowed_start: torch.Tensor, allowed_transitions: torch.Tensor) -> None:
        """(C,) and (C, C) booleans: which tags may open a sequence and follow each tag when decoding."""
        self.allowed_start.copy_(allowed_start)
        self.allowed_transitions.copy_(allowed_transitions)

    def path_score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, C) emissions, (B, T) tags, (B, T) bool mask -> (B,) score of each tag path."""
        batch_size, length, _ = emissions.shape
        tags = tags.masked_fill(~mask, 0)
        rows = torch.arange(batch_size, device=emissions.device)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        score = self.start[tags[:, 0]] + (emitted * mask).sum(dim=1)
        if length > 1:
            moved = self.transitions[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
            score = score + (moved * mask[:, 1:]).sum(dim=1)
        last = mask.sum(dim=1) - 1  # (B,) index of each last real token
        return score + self.end[tags[rows, last]]

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, C), (B, T) -> (B,) log of the summed exp-score of all paths (forward algorithm).

        Each step is a (B, C) x (C, C) matrix product in exp space, shifted by the running maximum so that
        nothing overflows; that is several times faster on a CPU than a logsumexp over a (B, C, C) tensor.
        """
        transition_shift = self.transitions.max().detach()
        exp_transitions = (self.transitions - transition_shift).exp()  # (C_from, C_to)
        alpha = self.start + emissions[:, 0]  # (B, C)
        for t in range(1, emissions.size(1)):
            shift = alpha.max(dim=1, keepdim=True).values.detach()  # (B, 1)
            summed = (alpha - shift).exp() @ exp_transitions  # (B, C_to)
            candidate = summed.clamp_min(1e-30).log() + shift + transition_shift + emissions[:, t]
            alpha = torch.where(mask[:, t].unsqueeze(1), candidate, alpha)
        return torch.logsumexp(alpha + self.end, dim=1)

    def negative_log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B,) -log p(tags | emissions) per sequence."""
        return self.log_partition(emissions, mask) - self.path_score(emissions, tags, mask)

    def _best_incoming(self) -> BestIncoming:
        """The decoding plan of the current transitions and constraints, rebuilt only when either changed.

        The plan is keyed on the values themselves, not on the tensors' version counters: a fused optimizer
        step writes the weights without bumping `_version`, so a version key kept decoding with stale
        transitions. Comparing C^2 numbers costs microseconds against the plan's milliseconds.
        """
        transitions = self.transitions.detach().cpu().numpy()  # (C_from, C_to)
        allowed = self.allowed_transitions.cpu().numpy()
        cached = getattr(self, "_plan", None)
        if cached is None or not (numpy.array_equal(cached[0], transitions) and numpy.array_equal(cached[1], allowed)):
            incoming = numpy.where(allowed, transitions, transitions + _FORBIDDEN).T.copy()  # (C_to, C_from)
            self._plan = (transitions.copy(), allowed.copy(), BestIncoming(incoming, allowed))
        return self._plan[2]

    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """Viterbi: the highest-scoring allowed path of each sequence, as lists of its real length.

        Decoding runs in NumPy on the CPU: its per-operation cost is a microsecond against several for a torch
        op, which dominates when one short sentence is tagged. The forward pass keeps only the best score per
        tag (see BestIncoming: exact, and mostly far cheaper than the full (B, C_to, C_from) maximum); the
        backward pass recovers each sequence's best predecessor from the stored (B, C) scores for the one tag on
        its path, which costs O(B C) per step instead of O(B C^2).
        """
        best_incoming = self._best_incoming()
        start = self.start.detach().cpu().numpy()
        start = numpy.where(self.allowed_start.cpu().numpy(), start, start + _FORBIDDEN)
        scores = emissions.detach().float().cpu().numpy()  # (B, T, C)
        lengths = mask.sum(dim=1).cpu().numpy()  # (B,)
        steps = scores.shape[1]
        score = start + scores[:, 0]  # (B, C)
        history = [score]
        for t in range(1, steps):
            best = best_incoming(score)  # (B, C_to)
            score = numpy.where((t < lengths)[:, None], best + scores[:, t], score)
            history.append(score)
        current = (score + self.end.detach().cpu().numpy()).argmax(axis=1)  # (B,) best final tag
        path = numpy.zeros(scores.shape[:2], dtype=numpy.int64)  # (B, T)
        # Walk back through all sequences at once; a row whose sequence ends before t keeps its best final tag
        # until t reaches its last position.
        for t in range(steps - 1, -1, -1):
            path[:, t] = current
            if t > 0:
                previous = (history[t - 1] + best_incoming.incoming[current]).argmax(axis=1)  # (B,) best tag at t - 1
                current = numpy.where(t < lengths, previous, current)
        return [row[:length] for row, length in zip(path.tolist(), lengths.tolist(), strict=True)]


class BestIncoming:
    """score (B, C_from) -> (B, C_to): the max over predecessors of score[from] + incoming[to, from], exactly.

    The plain way costs B C^2 per step. Tags with few allowed predecessors (`I-x` under BIO: only `B-x` and
    `I-x`) read just those. For every other tag, the best over the `top` highest-scoring predecessors is the
    true maximum whenever it reaches the (top+1)-th highest score plus the largest transition into that tag,
    since no other predecessor can then do better; with a trained model one predecessor dominates and this
    holds almost always. Rows where it fails for some tag take the full maximum. Each candidate is the same
    float sum the full maximum would form, so the result is identical, not approximate.
    """

    def __init__(self, incoming: numpy.ndarray, allowed: numpy.ndarray, few: int = 4, top: int = 8):
        """incoming (C_to, C_from) transition scores, forbidden ones already lowered; allowed (C_from, C_to)."""
        size = incoming.shape[0]
        self.incoming = incoming
        counts = allowed.sum(axis=0)  # (C_to,) allowed predecessors of each tag
        self.sparse = numpy.flatnonzero((counts >= 1) & (counts <= few))
        self.dense = numpy.flatnonzero((counts < 1) | (counts > few))
        # Each sparse tag's allowed predecessors, padded by repeating the first (a repeat cannot change a max).
        self.predecessors = numpy.zeros((self.sparse.size, few), dtype=numpy.int64)  # (S, few)
        for row, tag in enumerate(self.sparse):
            found = numpy.flatnonzero(allowed[:, tag])
            self.predecessors[row] = numpy.resize(found, few)
        self.sparse_weights = incoming[self.sparse[:, None], self.predecessors]  # (S, few)
        self.dense_incoming = incoming[self.dense]  # (D, C_from)
        self.dense_by_predecessor = self.dense_incoming.T.copy()  # (C_from, D)
        self.ceiling = self.dense_incoming.max(axis=1, initial=-numpy.inf)  # (D,)
        self.top = top if top < size - 1 else 0
        self.small_batch = 8

    def __call__(self, score: numpy.ndarray) -> numpy.ndarray:
        best = numpy.empty_like(score)  # (B, C_to)
        if self.sparse.size:
            best[:, self.sparse] = (score[:, self.predecessors] + self.sparse_weights).max(axis=2)
        if self.dense.size:
            best[:, self.dense] = self._dense(score)
        return best

    def _dense(self, score: numpy.ndarray) -> numpy.ndarray:
        if not self.top or score.shape[0] <= self.small_batch:  # a few rows: fewer operations beat fewer sums
            return (score[:, None, :] + self.dense_incoming[None]).max(axis=2)
        order = numpy.argpartition(-score, self.top, axis=1)  # the first `top` are the highest scores
        leaders = order[:, : self.top]  # (B, top)
        runner_up = numpy.take_along_axis(score, order[:, self.top : self.top + 1], axis=1)  # (B, 1)
        leader_scores = numpy.take_along_axis(score, leaders, axis=1)  # (B, top)
        best = (leader_scores[:, :, None] + self.dense_by_predecessor[leaders]).max(axis=1)  # (B, D)
        unsure = (best < runner_up + self.ceiling).any(axis=1)  # (B,)
        if unsure.any():
            best[unsure] = (score[unsure][:, None, :] + self.dense_incoming[None]).max(axis=2)
        return best


def bio_constraints(tag_names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Which tags may start a sequence and follow each tag under BIO: `I-x` only after `B-x` or `I-x`."""
    size = len(tag_names)
    allowed_start = torch.ones(size, dtype=torch.bool)
    allowed = torch.ones(size, size, dtype=torch.bool)
    for to_index, to_tag in enumerate(tag_names):
        if not to_tag.startswith("I-"):
            continue
        allowed_start[to_index] = False
        for from_index, from_tag in enumerate(tag_names):
            allowed[from_index, to_index] = from_tag[:2] in ("B-", "I-") and from_tag[2:] == to_tag[2:]
    return allowed_start, allowed
