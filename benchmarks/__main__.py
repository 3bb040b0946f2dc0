"""`python -m benchmarks`: every task's training and inference speed beside its kernel bound, as one JSON
document followed by a Markdown table (see benchmarks/harness.py for what is timed, benchmarks/bounds.py for
the bounds).

    PYTHONPATH=. SEQKIT_DATA_DIR=../shared/data python -m benchmarks [--threads 1] [--tasks atis babi] \
        [--run multi30k=RUN_DIR ...] [--quick] [--out results.json]

Each task runs in its own process, one after another, so that peak memory is per task and one task's
allocations do not slow the next.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import machine
from benchmarks.render import table
from benchmarks.workloads import WORKLOADS


def _run_dirs(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        task, separator, path = pair.partition("=")
        if not separator or task not in WORKLOADS:
            raise SystemExit(f"--run: expected TASK=RUN_DIR with TASK one of {', '.join(WORKLOADS)}, got {pair!r}")
        found[task] = path
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="Every task's speed beside its fused-kernel bound (JSON + table)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tasks", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--run", action="append", default=[], help="TASK=RUN_DIR: measure a trained model.")
    parser.add_argument("--quick", action="store_true", help="A tiny slice and one round (checks, not timings).")
    parser.add_argument("--out", type=Path, default=None, help="Also write the JSON document here.")
    arguments = parser.parse_args()
    run_dirs = _run_dirs(arguments.run)
    load_before = os.getloadavg()[0]
    results = {}
    for task in arguments.tasks:
        command = [sys.executable, "-m", "benchmarks.harness", task, "--threads", str(arguments.threads)]
        if arguments.quick:
            command.append("--quick")
        if task in run_dirs:
            command += ["--run", run_dirs[task]]
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode:
            last = (finished.stderr.strip().splitlines() or ["no output"])[-1]
            results[task] = {"error": last}
            print(f"{task}: failed: {last}", file=sys.stderr)
            continue
        result = json.loads(finished.stdout)
        result.pop("machine", None)
        results[task] = result
    document = {
        "setting": {
            "threads": arguments.threads,
            "quick": arguments.quick,
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        },
        "machine": machine(),
        "tasks": results,
    }
    text = json.dumps(document, indent=2)
    if arguments.out:
        arguments.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print()
    print(table(document))
    if any("error" in result for result in results.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
