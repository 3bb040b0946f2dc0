"""Train one recipe with several seeds, keep the best on the dev metric (the memory network paper's protocol).

Repeat i (1-based) trains with seed = recipe seed + i - 1 into OUT/repeat-i, a complete run dir. The best
repeat's run files are then copied into OUT itself, so OUT loads like any run dir, and OUT/repeats.json lists
every repeat's seed and dev scores, so that the spread is reported, not only the winner. A repeat whose run
dir already holds dev scores is kept, so re-running the same command after an interruption continues.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from seqkit.errors import ConfigError
from seqkit.files import atomic_write_json
from seqkit.run_dirs.checkpoint import read_json
from seqkit.run_dirs.layout import CONFIG, METRICS, RUN_INFO, VOCABULARY_FOLDER, WEIGHTS
from seqkit.tasks import get_task

REPEATS_FILE = "repeats.json"
COPIED_FILES = (CONFIG, WEIGHTS, METRICS, RUN_INFO, "log.jsonl")


def train_repeats(
    task_name: str | None,
    recipe: str | Path | None,
    data_dir: Path | None,
    out: Path,
    overrides: list[str],
    repeats: int,
    overwrite: bool = False,
    show_progress: bool | None = None,
) -> Path:
    """Train `repeats` seeds under `out`; returns `out`, which then holds the best repeat."""
    from seqkit import api

    if repeats < 1:
        raise ConfigError("--repeats: must be at least 1")
    config = api.load_recipe(task_name, recipe, overrides)
    metric = get_task(config.task).metric
    out = Path(out)
    records = []
    for index in range(1, repeats + 1):
        seed = config.seed + index - 1
        run_dir = out / f"repeat-{index}"
        finished = (run_dir / METRICS).is_file() and "dev" in read_json(run_dir / METRICS)
        if overwrite or not finished:
            api.train(
                task_name, recipe, data_dir, run_dir, [*overrides, f"seed={seed}"],
                overwrite=overwrite or (run_dir / CONFIG).exists(), show_progress=show_progress,
            )  # fmt: skip
        dev = read_json(run_dir / METRICS)["dev"]
        records.append({"repeat": index, "seed": seed, "run_dir": run_dir.name, "dev": dev})
    best = max(records, key=lambda record: record["dev"][metric])
    best_dir = out / best["run_dir"]
    for name in COPIED_FILES:
        if (best_dir / name).is_file():
            shutil.copyfile(best_dir / name, out / name)
    shutil.rmtree(out / VOCABULARY_FOLDER, ignore_errors=True)
    shutil.copytree(best_dir / VOCABULARY_FOLDER, out / VOCABULARY_FOLDER)
    atomic_write_json(out / REPEATS_FILE, {"metric": metric, "best": best["repeat"], "repeats": records})
    return out
