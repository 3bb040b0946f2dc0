"""Dev accuracy of a recipe with `--set` overrides on the short-text corpora: how the my_texts settings were chosen.

    SEQKIT_DATA_DIR=../shared/data python -m benchmarks.textcls_dev TAG my_texts subj,cr,mpqa,trec \
        encoder.embedding_init_std=0.05 train.batch_size=64 [--log results/textcls-dev.jsonl]

Each corpus is trained with the recipe and the overrides on one thread; the held-out 10% of its training file
(the recipe's dev split) scores every epoch. Nothing reads a test file. One JSON line per corpus is printed (best
dev accuracy, its epoch, the dev curve, wall seconds), then the mean over the corpora, which is also appended to
--log: settings were compared by that mean, and kept only when no corpus disagreed by more than its dev noise.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path


def train_quietly(recipe: str, folder: Path, overrides: list[str], run: Path) -> None:
    """Train the sentiment `recipe` on `folder` into `run` on one thread, its console output swallowed."""
    import torch

    from seqkit import api

    torch.set_num_threads(1)
    quiet = io.StringIO()
    with contextlib.redirect_stderr(quiet), contextlib.redirect_stdout(quiet):
        settings = ["train.threads=1", *overrides]
        api.train(
            "sentiment", recipe, data_dir=folder, out=run, overrides=settings, overwrite=True, show_progress=False
        )


def dev_curve(recipe: str, folder: Path, overrides: list[str], run: Path) -> dict:
    """Train once; the best dev accuracy, its epoch, every epoch's dev accuracy and the wall seconds."""
    started = time.perf_counter()
    train_quietly(recipe, folder, overrides, run)
    seconds = time.perf_counter() - started
    log = [json.loads(line) for line in (run / "log.jsonl").read_text(encoding="utf-8").splitlines() if line]
    curve = [round(entry["dev_accuracy"], 2) for entry in log]
    best = curve.index(max(curve))
    return {"dev": curve[best], "best_epoch": best + 1, "epochs": len(curve), "seconds": round(seconds, 1),
            "curve": curve}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tag", help="a name for this setting in the log")
    parser.add_argument("recipe", help="a named recipe or a YAML file")
    parser.add_argument("corpora", help="comma-separated folders under $SEQKIT_DATA_DIR/textcls")
    parser.add_argument("overrides", nargs="*", help="--set style overrides, e.g. train.learning_rate=0.02")
    parser.add_argument("--log", type=Path, default=None, help="append the summary line to this JSON Lines file")
    arguments = parser.parse_args(argv)
    root = Path(os.environ.get("SEQKIT_DATA_DIR", "data")) / "textcls"
    results = []
    with tempfile.TemporaryDirectory(prefix="textcls-dev-") as scratch:
        for corpus in arguments.corpora.split(","):
            scores = dev_curve(arguments.recipe, root / corpus, arguments.overrides, Path(scratch) / corpus)
            results.append({"corpus": corpus, **scores})
            print(json.dumps({"tag": arguments.tag, **results[-1]}), flush=True)
    mean = round(sum(result["dev"] for result in results) / len(results), 2)
    summary = {"tag": arguments.tag, "recipe": arguments.recipe, "overrides": arguments.overrides, "mean_dev": mean,
               "results": results}
    print(json.dumps({key: value for key, value in summary.items() if key != "results"}))
    if arguments.log is not None:
        with open(arguments.log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
