"""Search: greedy decoding and batched beam search over anything exposing `encode` and `decode_step`.

The model contract (see heads/seq2seq.Searchable): `encode(batch) -> state`, `decode_step(state, previous
(B,)) -> (log-probabilities (B, V), state, attention (B, T))`, `state.select(rows)`, and `begin_id` /
`end_id`. A state may also offer `state.reorder(rows)` for the steps where rows only move within their own
sentence (beams re-ranked, no sentence leaving): it then needs to gather only what depends on the hypothesis (the
decoder's hidden state), not what depends on the source (encoder memory, attention keys, masks), which is what
keeps a step's cost from growing with the whole batch's memory.

Each sentence may produce at most ceil(max_length_ratio * source length) tokens before the end symbol, which
is forced at that length. Beam search (as in fairseq and OpenNMT) keeps `beam` live hypotheses per sentence;
at each step it looks at the best 2 * beam extensions, moves those ending in the end symbol and ranked within
the best `beam` to the sentence's finished list, and continues with the best `beam` others. A sentence is done
once it holds `beam` finished hypotheses; done sentences leave the batch, so the work shrinks as decoding
proceeds. Hypotheses are ranked by log-probability / length ** length_penalty (length counts the end symbol).
Everything is computed per sentence, so a sentence decodes the same alone or inside a batch.

With `no_repeat_ngram` = n > 0 (fairseq's --no-repeat-ngram-size), a hypothesis may not produce an n-gram it has
already produced: the word that would complete a repeat gets probability 0. Headline generation trained on little
data otherwise stutters ("general motors motors sales").
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqkit.layers.top_k import row_top_k


@dataclass
class Hypothesis:
    """One output: token ids (without the end symbol), its score, and optionally attention (U, T)."""

    tokens: list[int]
    log_probability: float
    score: float
    attention: torch.Tensor | None = None


def max_lengths(source_lengths: torch.Tensor, ratio: float) -> torch.Tensor:
    """Per sentence, the most tokens it may produce before the end symbol (at least 1)."""
    return torch.ceil(source_lengths.double() * ratio).long().clamp_min(1)


def normalized(log_probability: float, length: int, length_penalty: float) -> float:
    return log_probability / (length**length_penalty) if length_penalty else log_probability


def block_repeats(log_probabilities: torch.Tensor, histories: torch.Tensor, size: int) -> torch.Tensor:
    """Forbid, per row, each word that would repeat an n-gram (n = `size`) already in the row's history.

    log_probabilities (R, V), histories (R, t) -> (R, V). Row r's last n-1 words are compared with every earlier
    window of n-1 words; where they match, the word that followed that window is set to -inf.
    """
    if size < 1 or histories.size(1) < size:  # no complete n-gram yet, so nothing to repeat
        return log_probabilities
    windows = histories.unfold(1, size, 1)  # (R, t - n + 1, n): every n-gram already produced
    prefix = histories[:, histories.size(1) - (size - 1) :]  # (R, n - 1): what the next word would extend
    # With n = 1 the prefix is empty and matches every window: every word produced so far is banned.
    matches = (windows[:, :, :-1] == prefix.unsqueeze(1)).all(dim=-1)  # (R, t - n + 1)
    banned_rows, columns = matches.nonzero(as_tuple=True)
    banned_words = windows[banned_rows, columns, -1]
    blocked = log_probabilities.clone()
    blocked[banned_rows, banned_words] = float("-inf")
    return blocked


@torch.inference_mode()
def greedy_search(
    searchable,
    batch: dict[str, torch.Tensor],
    max_length_ratio: float,
    with_attention: bool = False,
    no_repeat_ngram: int = 0,
) -> list[Hypothesis]:
    """The most probable token at every step; finished sentences leave the batch."""
    state = searchable.encode(batch)
    count = batch["lengths"].size(0)
    limits = max_lengths(batch["lengths"], max_length_ratio)
    rows = torch.arange(count)  # which sentence each live row is
    previous = torch.full((count,), searchable.begin_id, dtype=torch.long)
    tokens: list[list[int]] = [[] for _ in range(count)]
    totals = [0.0] * count
    attentions: list[list[torch.Tensor]] = [[] for _ in range(count)]
    results: list[Hypothesis | None] = [None] * count
    histories = torch.empty(count, 0, dtype=torch.long)  # (B', t): only read when blocking repeats
    step = 0
    while rows.numel():
        log_probabilities, state, attention = searchable.decode_step(state, previous)  # (B', V), (B', T)
        if no_repeat_ngram:
            log_probabilities = block_repeats(log_probabilities, histories, no_repeat_ngram)
        forced = limits[rows] == step
        log_probabilities = _force_end(log_probabilities, forced, searchable.end_id)
        best_scores, best = (column.squeeze(1) for column in row_top_k(log_probabilities, 1))  # (B',) each
        for live, sentence in enumerate(rows.tolist()):
            totals[sentence] += float(best_scores[live])
            if with_attention:
                attentions[sentence].append(attention[live])
            if int(best[live]) == searchable.end_id:
                results[sentence] = _finish(
                    tokens[sentence], totals[sentence], 0.0, attentions[sentence], batch, sentence
                )
            else:
                tokens[sentence].append(int(best[live]))
        keep = best != searchable.end_id
        if no_repeat_ngram:
            histories = torch.cat([histories, best.unsqueeze(1)], dim=1)[keep]
        rows, previous = rows[keep], best[keep]
        if rows.numel() and not bool(keep.all()):  # the state changes only when a sentence leaves
            state = state.select(keep.nonzero().squeeze(1))
        step += 1
    return results


@torch.inference_mode()
def beam_search(
    searchable,
    batch: dict[str, torch.Tensor],
    beam: int,
    max_length_ratio: float,
    length_penalty: float = 1.0,
    n_best: int = 1,
    with_attention: bool = False,
    no_repeat_ngram: int = 0,
) -> list[list[Hypothesis]]:
    """Per sentence, its `n_best` (<= beam) best finished hypotheses, best first."""
    if not 1 <= n_best <= beam:
        raise ValueError(f"n_best must be between 1 and the beam size {beam}, got {n_best}")
    count = batch["lengths"].size(0)
    limits = max_lengths(batch["lengths"], max_length_ratio)
    state = searchable.encode(batch)
    # B * K hypothesis rows; a state that can keep one copy of each source for its K hypotheses does so.
    expand = getattr(state, "expand", None)
    state = expand(beam) if expand is not None else state.select(torch.arange(count).repeat_interleave(beam))
    sentences = torch.arange(count)  # the sentence of each live block of `beam` rows
    scores = torch.full((count, beam), float("-inf"))
    scores[:, 0] = 0.0  # one live hypothesis to start; the copies would only repeat it
    histories = torch.empty(count * beam, 0, dtype=torch.long)  # (B' * K, t)
    attention_histories: torch.Tensor | None = None  # (B' * K, t, T)
    previous = torch.full((count * beam,), searchable.begin_id, dtype=torch.long)
    finished: list[list[Hypothesis]] = [[] for _ in range(count)]
    finished_counts = torch.zeros(count, dtype=torch.long)
    step = 0
    while sentences.numel():
        log_probabilities, state, attention = searchable.decode_step(state, previous)  # (B'K, V), (B'K, T)
        live = sentences.numel()
        vocabulary = log_probabilities.size(-1)
        if no_repeat_ngram:
            log_probabilities = block_repeats(log_probabilities, histories, no_repeat_ngram)
        forced = (limits[sentences] == step).repeat_interleave(beam)
        log_probabilities = _force_end(log_probabilities, forced, searchable.end_id)
        # A sentence's best 2K extensions are among each of its hypotheses' best 2K words, so each row is cut
        # to those first: two small top-k calls instead of adding scores across all K x V candidates.
        width = min(2 * beam, vocabulary)
        row_scores, row_words = row_top_k(log_probabilities, width)  # (B'K, 2K)
        candidates = (scores.unsqueeze(-1) + row_scores.view(live, beam, width)).view(live, -1)  # (B', K * 2K)
        top_scores, top_indices = candidates.topk(min(2 * beam, candidates.size(1)), dim=1)  # (B', 2K)
        origins = top_indices // width  # beam each candidate extends
        words = row_words.view(live, -1).gather(1, top_indices)
        origin_rows = origins + torch.arange(live).unsqueeze(1) * beam  # (B', 2K) rows of the flat state
        if with_attention:
            step_attention = attention.unsqueeze(1)  # (B'K, 1, T)
            attention_histories = (
                step_attention
                if attention_histories is None
                else torch.cat([attention_histories, step_attention], 1)
            )
        ends = (words == searchable.end_id) & torch.isfinite(top_scores)
        for block, column in (ends & (torch.arange(top_scores.size(1)) < beam)).nonzero().tolist():
            sentence = int(sentences[block])
            if len(finished[sentence]) >= beam:
                continue
            row = int(origin_rows[block, column])
            history = [] if with_attention is False else list(attention_histories[row])
            finished_counts[sentence] += 1
            finished[sentence].append(
                _finish(
                    histories[row].tolist(),
                    float(top_scores[block, column]),
                    length_penalty,
                    history,
                    batch,
                    sentence,
                )
            )
        # The best `beam` continuations that do not end: stable order keeps higher-ranked ones first.
        continuing = ~(words == searchable.end_id)
        rank = torch.cumsum(continuing.long(), dim=1)
        chosen = continuing & (rank <= beam)  # exactly `beam` per sentence (2K candidates, at most K ends)
        chosen_columns = chosen.nonzero()[:, 1].view(live, beam)
        new_scores = top_scores.gather(1, chosen_columns)  # (B', K)
        selected_rows = origin_rows.gather(1, chosen_columns).reshape(-1)  # (B'K,)
        selected_words = words.gather(1, chosen_columns).reshape(-1)
        done = finished_counts[sentences] >= beam
        done |= ~torch.isfinite(new_scores).any(dim=1)
        histories = torch.cat([histories[selected_rows], selected_words.unsqueeze(1)], dim=1)
        if attention_histories is not None:
            attention_histories = attention_histories[selected_rows]
        keep_blocks = (~done).nonzero().squeeze(1)
        keep_rows = (keep_blocks.unsqueeze(1) * beam + torch.arange(beam)).reshape(-1)
        sentences, scores = sentences[keep_blocks], new_scores[keep_blocks]
        histories, previous = histories[keep_rows], selected_words[keep_rows]
        if attention_histories is not None:
            attention_histories = attention_histories[keep_rows]
        if sentences.numel():
            rows = selected_rows[keep_rows]
            reorder = getattr(state, "reorder", None)
            # While every sentence stays, each row's source is the one it already has (beams move within their
            # sentence), so a state that can reorder only its hypothesis-dependent part does so.
            state = reorder(rows) if reorder is not None and keep_blocks.numel() == live else state.select(rows)
        step += 1
    return [sorted(found, key=lambda h: -h.score)[:n_best] for found in finished]


def _force_end(log_probabilities: torch.Tensor, forced: torch.Tensor, end_id: int) -> torch.Tensor:
    """Rows that reached their length limit may only produce the end symbol."""
    if not bool(forced.any()):
        return log_probabilities
    only_end = torch.full_like(log_probabilities, float("-inf"))
    only_end[:, end_id] = log_probabilities[:, end_id]
    return torch.where(forced.unsqueeze(1), only_end, log_probabilities)


def _finish(
    tokens: list[int],
    log_probability: float,
    length_penalty: float,
    attention: list,
    batch: dict,
    sentence: int,
) -> Hypothesis:
    length = len(tokens) + 1  # the end symbol counts
    matrix = None
    if attention:
        source_length = int(batch["lengths"][sentence])
        matrix = torch.stack(list(attention))[:, :source_length].clone()  # (U + 1, T)
    return Hypothesis(
        list(tokens), log_probability, normalized(log_probability, length, length_penalty), matrix
    )
