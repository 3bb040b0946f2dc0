"""Renders the benchmarks' JSON documents as the Markdown tables of the README's Performance section.

    python -m benchmarks.render benchmarks/results/harness-1thread.json   # python -m benchmarks --out
    python -m benchmarks.render benchmarks/results/quantization.json      # python -m benchmarks.quantization
    python -m benchmarks.render benchmarks/results/beam_scaling.json      # python -m benchmarks.beam_scaling
"""

from __future__ import annotations

import json
import sys


def _ratio(value: float) -> str:
    return f"{100 * value:.0f}%"


def table(document: dict) -> str:
    """One row per task: training, batched prediction and single-item latency, each with model/bound."""
    lines = [
        "| task | training (units/s) | of bound | padding | batched (items/s) | of bound | latency ms (median) "
        "| of bound | peak RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, result in document["tasks"].items():
        if "error" in result:
            lines.append(f"| {name} | failed: {result['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {name} | {result['training_units_per_second']:,.0f} {result['training_unit']} "
            f"| {_ratio(result['training_ratio'])} | {_ratio(result['training_padding_waste'])} "
            f"| {result['batched_items_per_second']:,.1f} {result['item']} | {_ratio(result['batched_ratio'])} "
            f"| {result['latency_ms_median']:.2f} | {_ratio(result['latency_ratio'])} | {result['peak_rss_mib']:,.0f} |"
        )
    setting = document["setting"]
    machine = document["machine"]
    lines.append("")
    lines.append(
        f"{machine['cpu_count']} CPUs ({machine['processor']}), torch {machine['torch']}, {setting['threads']} "
        f"thread(s), load average {setting['load_average_before']:.2f} before and "
        f"{setting['load_average_after']:.2f} after the run."
    )
    return "\n".join(lines)


def quantization_table(document: dict) -> str:
    """Float against int8 per run dir: items/s, the speed-up, and the test metric of both."""
    lines = ["| run | test items | float items/s | int8 items/s | speed-up | metric | float | int8 |", "|---" * 8 + "|"]
    for run in document["runs"]:
        metric = run["metric"]
        lines.append(
            f"| {run['task']} | {run['test_items']:,} | {run['float_items_per_second']:,.1f} "
            f"| {run['int8_items_per_second']:,.1f} | {run['speedup']:.2f}x | {metric} | {run[f'float_{metric}']:.2f} "
            f"| {run[f'int8_{metric}']:.2f} |"
        )
    return "\n".join(lines)


def beam_table(document: dict) -> str:
    """Beam search sentences/s per batch size, and the whole test set's time."""
    curve = document["sentences_per_second_by_batch_size"]
    lines = ["| batch size | " + " | ".join(curve) + " |", "|---" * (len(curve) + 1) + "|"]
    lines.append("| sentences/s | " + " | ".join(f"{rate:.1f}" for rate in curve.values()) + " |")
    lines.append("")
    lines.append(
        f"All {document['test_sentences']:,} test sentences, beam {document['beam']}, batch size "
        f"{document['test_batch_size']}: {document['test_seconds']:.1f} s ({document['threads']} thread(s))."
    )
    return "\n".join(lines)


def render(document: dict) -> str:
    if "runs" in document:
        return quantization_table(document)
    if "sentences_per_second_by_batch_size" in document:
        return beam_table(document)
    return table(document)


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as file:
        print(render(json.load(file)))


if __name__ == "__main__":
    main()
