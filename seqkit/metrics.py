"""Task metrics, reported in percent.

Span F1 follows the chunk semantics of the CoNLL shared tasks' `conlleval` script: a chunk starts at a `B-x`,
at an `I-x` that follows `O`, or at an `I-x` that follows a tag of another type; it ends where the next tag
does not continue it. A predicted chunk counts as correct only when its start, end and type all match a gold
chunk. Precision, recall and F1 are micro-averaged over all chunks of the corpus.

Generated text is scored with sacreBLEU (Post 2018) and chrF (Popovic 2015) on detokenized, cased output, with
sacreBLEU's signature kept beside the numbers so that they can be compared; and with ROUGE-1/2/L F1 (Lin 2004)
as computed by Google's rouge-score package (Porter stemming, as in the usual Gigaword evaluation).
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


def translation_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict:
    """Corpus BLEU and chrF (percent) of detokenized hypotheses against one reference each, and signatures."""
    import sacrebleu

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    bleu_score = bleu.corpus_score(list(hypotheses), [list(references)])
    chrf_score = chrf.corpus_score(list(hypotheses), [list(references)])
    return {
        "bleu": bleu_score.score,
        "chrf": chrf_score.score,
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }


def rouge_scores(hypotheses: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L F1 (percent) over the pairs."""
    from rouge_score import rouge_scorer

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    kinds = ("rouge1", "rouge2", "rougeL")
    scorer = rouge_scorer.RougeScorer(list(kinds), use_stemmer=True)
    totals = dict.fromkeys(kinds, 0.0)
    for hypothesis, reference in zip(hypotheses, references, strict=True):
        scores = scorer.score(reference, hypothesis)
        for kind in kinds:
            totals[kind] += scores[kind].fmeasure
    count = max(1, len(hypotheses))
    return {kind: 100.0 * total / count for kind, total in totals.items()}
