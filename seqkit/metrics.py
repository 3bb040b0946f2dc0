"""Task metrics, reported in percent.

Span F1 follows the chunk semantics of the CoNLL shared tasks' `conlleval` script: a chunk starts at a `B-x`,
at an `I-x` that follows `O`, or at an `I-x` that follows a tag of another type; it ends where the next tag
does not continue it. A predicted chunk counts as correct only when its start, end and type all match a gold
chunk. Precision, recall and F1 are micro-averaged over all chunks of the corpus.
"""

from __future__ import annotations

from collections.abc import Sequence


def bio_chunks(tags: Sequence[str]) -> set[tuple[int, int, str]]:
    """The chunks of a tag sequence as (start, end exclusive, type), with conlleval's rules."""
    chunks = set()
    start, kind = None, None
    for position, tag in enumerate([*tags, "O"]):
        prefix, tag_kind = (tag[:1], tag[2:]) if tag != "O" else ("O", None)
        continues = prefix == "I" and kind is not None and tag_kind == kind
        if start is not None and not continues:
            chunks.add((start, position, kind))
            start, kind = None, None
        if prefix in ("B", "I") and not continues:
            start, kind = position, tag_kind
    return chunks


def span_scores(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> dict[str, float]:
    """Micro precision, recall and F1 (percent) of predicted chunks against gold chunks."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sequences but {len(predicted)} predicted")
    correct = found = expected = 0
    for gold_tags, predicted_tags in zip(gold, predicted, strict=True):
        if len(gold_tags) != len(predicted_tags):
            raise ValueError("a predicted sequence differs in length from its gold sequence")
        gold_chunks, predicted_chunks = bio_chunks(gold_tags), bio_chunks(predicted_tags)
        correct += len(gold_chunks & predicted_chunks)
        found += len(predicted_chunks)
        expected += len(gold_chunks)
    precision = 100.0 * correct / found if found else 0.0
    recall = 100.0 * correct / expected if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def accuracy(gold: Sequence, predicted: Sequence) -> float:
    """Percent of positions where prediction equals gold."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold items but {len(predicted)} predicted")
    if not gold:
        return 0.0
    return 100.0 * sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def sentence_accuracy(
    gold_tags: Sequence[Sequence[str]],
    predicted_tags: Sequence[Sequence[str]],
    gold_labels: Sequence | None = None,
    predicted_labels: Sequence | None = None,
) -> float:
    """Percent of sentences with every tag right (and, when given, the sentence label right too)."""
    right = [list(g) == list(p) for g, p in zip(gold_tags, predicted_tags, strict=True)]
    if gold_labels is not None and predicted_labels is not None:
        right = [r and g == p for r, g, p in zip(right, gold_labels, predicted_labels, strict=True)]
    return 100.0 * sum(right) / len(right) if right else 0.0
