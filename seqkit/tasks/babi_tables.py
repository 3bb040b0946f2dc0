"""Plain-text tables for bAbI: the per-task test error, and the hop table of one answered question.

The hop table follows the lecture's figure of the memory network's reading head: the story's sentences in
rows, a `yes` in the Support column for the supporting facts, then one column of attention weights per hop,
and a last line with the question, the answer (when known) and the prediction.
"""

from __future__ import annotations

from collections.abc import Sequence

from seqkit.data.babi import TASK_NAMES


def error_table(scores: dict) -> str:
    """Error (%) per task, the mean error and the number of failed tasks (error > 5%)."""
    lines = ["task                            error %"]
    for task, error in scores["errors"].items():
        name = f"{task}: {TASK_NAMES[int(task) - 1]}"
        lines.append(f"{name:<30}  {error:7.1f}{'  failed' if error > 5.0 else ''}")
    lines.append(f"{'mean error':<30}  {scores['mean_error']:7.1f}")
    lines.append(f"failed tasks (error > 5%): {scores['failed_tasks']} of {len(scores['errors'])}")
    return "\n".join(lines)


def hop_table(
    sentences: Sequence[str],
    attention: Sequence[Sequence[float]],
    question: str,
    prediction: str,
    probability: float,
    supports: Sequence[int] = (),
    answer: str | None = None,
) -> str:
    """Rows: sentences with Support and one attention column per hop; attention is (K hops, sentences)."""
    width = min(60, max([len("Story"), *(len(sentence) for sentence in sentences)]))
    hops = len(attention)
    header = f"{'Story':<{width}}  Support" + "".join(f"  Hop {hop + 1}" for hop in range(hops))
    lines = [header]
    for row, sentence in enumerate(sentences):
        shown = sentence if len(sentence) <= width else sentence[: width - 3] + "..."
        support = "yes" if row in supports else ""
        weights = "".join(f"  {attention[hop][row]:5.2f}" for hop in range(hops))
        lines.append(f"{shown:<{width}}  {support:<7}{weights}")
    # With head.unused_slots_attend, part of each hop's attention goes to the memory's empty slots.
    unused = [1.0 - sum(attention[hop][: len(sentences)]) for hop in range(hops)]
    if max(unused, default=0.0) >= 0.005:
        weights = "".join(f"  {share:5.2f}" for share in unused)
        lines.append(f"{'(unused memory slots)':<{width}}  {'':<7}{weights}")
    known = f" Answer: {answer}" if answer is not None else ""
    lines.append(f"{question}{known} Prediction: {prediction} ({probability:.2f})")
    return "\n".join(lines)
