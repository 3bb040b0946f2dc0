"""Training on a busy machine: torch's default threads against `train.threads: auto`, with other jobs running.

    SEQKIT_DATA_DIR=../shared/data python -m benchmarks.busy_threads [--busy 2] [--repeats 3] [--steps 300]

Each run is the command a user types, `seqkit train slot-filling --recipe atis_scratch --set train.max_steps=S
--set train.threads=T`, timed whole. It runs on an idle machine and then beside `--busy` other jobs (each a
single-threaded Python loop that keeps one core busy, started two seconds before), for T = null (torch's
default: a thread per core), 1, and auto. Medians of `--repeats` runs, in JSON, with the cores, the load average
and the threads auto chose. Run it on an otherwise quiet machine.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import emit, machine

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("null", "1", "auto")
# A job that keeps one core busy, as a single-threaded training beside ours would.
SPINNER = "while True:\n    pass\n"


def train_seconds(setting: str, steps: int, scratch: Path) -> tuple[float, str | None]:
    """Wall seconds of one whole `seqkit train` command, and what auto said it chose."""
    command = [
        sys.executable, "-m", "seqkit", "train", "slot-filling", "--recipe", "atis_scratch", "--out", str(scratch),
        "--overwrite", "--set", f"train.max_steps={steps}", "--set", f"train.threads={setting}",
    ]
    # torch reads OMP_NUM_THREADS at import; it would overrule torch's default that `null` means to measure.
    skipped = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
    environment = {name: value for name, value in os.environ.items() if name not in skipped}
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        sys.stderr.write(finished.stderr)
        raise SystemExit(f"seqkit train failed with train.threads={setting}")
    chosen = re.search(r"train\.threads auto: (\d+) of", finished.stderr)
    return seconds, chosen.group(1) if chosen else None


def measure(busy: int, steps: int, repeats: int, scratch: Path) -> dict:
    spinners = [subprocess.Popen([sys.executable, "-c", SPINNER]) for _ in range(busy)]
    try:
        if busy:
            time.sleep(2)  # the other jobs are running before the first training starts
        figures = {}
        for setting in SETTINGS:
            runs = [train_seconds(setting, steps, scratch / f"{setting}-{busy}") for _ in range(repeats)]
            figures[setting] = {
                "median_seconds": round(statistics.median(seconds for seconds, _ in runs), 1),
                "seconds": [round(seconds, 1) for seconds, _ in runs],
                **({"auto_chose": [chosen for _, chosen in runs]} if setting == "auto" else {}),
            }
        return {"other_jobs": busy, "load_average_1min_at_end": os.getloadavg()[0], "train_threads": figures}
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2, help="other single-threaded jobs in the busy condition")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per training")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        conditions = [measure(busy, arguments.steps, arguments.repeats, Path(scratch)) for busy in (0, arguments.busy)]
    results = {"recipe": "atis_scratch", "steps": arguments.steps, "machine": machine(), "conditions": conditions}
    emit(results, arguments.out)


if __name__ == "__main__":
    main()
