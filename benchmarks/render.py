"""Renders the harness's JSON document as the Markdown table of the README's Performance section.

    python -m benchmarks.render benchmarks/results/all.json
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


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as file:
        print(table(json.load(file)))


if __name__ == "__main__":
    main()
