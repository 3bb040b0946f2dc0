"""The short-text classification suite: seqkit recipes beside fastText on Subj, CR, MPQA and TREC (and IMDB), as JSON.

    pip install fasttext-wheel       # fastText 0.9 (not a seqkit dependency)
    SEQKIT_DATA_DIR=../shared/data python -m benchmarks.textcls [--recipes my_texts my_texts_rnn] \
        [--corpora subj cr mpqa trec imdb] [--runs RUNS_DIR] [--out results/textcls.json]

For each corpus, each recipe is trained by the command line a user would type (`seqkit train sentiment --recipe R
--data FOLDER --set train.threads=1`, which holds out 10% of train as dev and keeps the best epoch on it) and then
scored once on test (`seqkit evaluate RUN --split test --json`). fastText 0.9 is trained in the same run on the
whole training file, its lines shuffled once with a fixed seed, with the settings of the data README (lowercased,
word bigrams, dim 50, 10 epochs, lr 0.25, 1 thread, no tuning) and scored on the same test file; its precision@1
on one label per line is its accuracy (`model.test` is used rather than `predict`, which fails under numpy 2).

Times are wall seconds: seqkit's count the whole `seqkit train` process (starting Python and torch, reading and
tokenizing the files, every epoch and its dev evaluation), the median of --repeats runs; fastText's `seconds`
count `train_supervised` alone, and its `process_seconds` a whole Python process that imports fastText and trains
it, the like of a `seqkit train` process. The trainer's own seconds (the sum over its epochs, from log.jsonl) are
reported beside them. Both run on one thread.
The corpora are the folders of $SEQKIT_DATA_DIR/textcls (train.tsv, test.tsv) and $SEQKIT_DATA_DIR/imdb, whose
JSON Lines files the recipe is pointed at with --set.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import emit, machine

ROOT = Path(__file__).resolve().parent.parent
SUITE = ("subj", "cr", "mpqa", "trec")
# name -> (folder under $SEQKIT_DATA_DIR, file overrides that point a TSV recipe at that folder's files)
CORPORA = {
    **{name: (f"textcls/{name}", ()) for name in SUITE},
    "imdb": ("imdb", ("data.train=train.jsonl.gz", "data.test=test.jsonl.gz")),
}
# The fastText reference of the data README: no tuning, one thread.
FASTTEXT_SETTINGS = {"lr": 0.25, "dim": 50, "epoch": 10, "wordNgrams": 2, "thread": 1}


def commit() -> str | None:
    try:
        found = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return found.stdout.strip()


def seqkit(*arguments: str) -> subprocess.CompletedProcess:
    """One `python -m seqkit` command on one thread; its stderr is shown only when it fails."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "seqkit", *arguments]
    finished = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    if finished.returncode != 0:
        sys.stderr.write(finished.stderr)
        raise SystemExit(f"failed ({finished.returncode}): {' '.join(command)}")
    return finished


def train_recipe(recipe: str, folder: Path, overrides: tuple[str, ...], run: Path, repeats: int = 1) -> dict:
    """Train `recipe` on `folder` `repeats` times (the median seconds), score the last run on test once."""
    settings = [item for override in ("train.threads=1", *overrides) for item in ("--set", override)]
    seconds = []
    for _ in range(repeats):  # the same seed each time: only the seconds differ
        started = time.perf_counter()
        trained = seqkit("train", "sentiment", "--recipe", recipe, "--data", str(folder), "--out", str(run),
                         "--overwrite", *settings)
        seconds.append(time.perf_counter() - started)
    # What the trainer printed (one line per epoch), kept beside the run's own files as its record's train.log.
    (run / "train.log").write_text(trained.stdout + trained.stderr, encoding="utf-8")
    scores = json.loads(seqkit("evaluate", str(run), "--split", "test", "--json").stdout)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    log = [json.loads(line) for line in (run / "log.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return {
        "accuracy": round(scores["accuracy"], 2),
        "dev_accuracy": round(metrics["dev"]["accuracy"], 2),
        "best_epoch": metrics["dev"]["best_epoch"],
        "epochs": metrics["dev"]["epochs"],
        "seconds": round(statistics.median(seconds), 2),
        "seconds_each": [round(value, 2) for value in seconds],
        "epoch_seconds": round(sum(entry["seconds"] for entry in log), 1),
        "run": str(run),
    }


def fasttext_lines(path: Path, out: Path, shuffle: bool = False) -> Path:
    """The texts of `path` as fastText reads them: `__label__L words`, lowercased, one per line.

    fastText reads its training file in order and never shuffles it, so a file sorted by label (IMDB's is: all
    positive reviews, then all negative) leaves it at chance; `shuffle` puts the lines in a fixed random order.
    """
    from seqkit.data.labelled_text import read_labelled_texts

    lines = []
    for example in read_labelled_texts(path, "text", "label"):
        words = example.text.lower().split()
        lines.append(f"__label__{example.label.replace(' ', '_')} {' '.join(words)}\n")
    if shuffle:
        random.Random(0).shuffle(lines)
    out.write_text("".join(lines), encoding="utf-8")
    return out


def train_fasttext(folder: Path, overrides: tuple[str, ...], scratch: Path) -> dict:
    import fasttext

    names = dict(override.removeprefix("data.").split("=", 1) for override in overrides)
    train = fasttext_lines(folder / names.get("train", "train.tsv"), scratch / "train.txt", shuffle=True)
    test = fasttext_lines(folder / names.get("test", "test.tsv"), scratch / "test.txt")
    started = time.perf_counter()
    model = fasttext.train_supervised(str(train), verbose=0, **FASTTEXT_SETTINGS)
    seconds = time.perf_counter() - started
    _, precision, _ = model.test(str(test))
    return {
        "accuracy": round(100 * precision, 2),
        "seconds": round(seconds, 2),
        "process_seconds": round(fasttext_process_seconds(train), 2),
    }


def fasttext_process_seconds(train: Path) -> float:
    """Wall seconds of a whole Python process that imports fastText and trains it on `train`: what a user of the
    fastText wheel waits for, to set beside a whole `seqkit train` process."""
    program = "import json, sys, fasttext; fasttext.train_supervised(sys.argv[1], verbose=0, **json.loads(sys.argv[2]))"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", program, str(train), json.dumps(FASTTEXT_SETTINGS)], check=True)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="+", default=["my_texts"], help="named recipes or YAML files")
    parser.add_argument("--corpora", nargs="+", default=list(SUITE), choices=list(CORPORA))
    parser.add_argument("--data", type=Path, default=None, help="the data root (default: $SEQKIT_DATA_DIR)")
    parser.add_argument("--runs", type=Path, default=None, help="keep the run dirs here (default: a temp folder)")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--repeats", type=int, default=1, help="train each recipe this many times (median seconds)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a recipe override for every run, e.g. --set seed=14 (repeatable)")
    arguments = parser.parse_args(argv)
    root = arguments.data or Path(os.environ.get("SEQKIT_DATA_DIR", "data"))
    with tempfile.TemporaryDirectory(prefix="textcls-") as scratch:
        runs = arguments.runs or Path(scratch) / "runs"
        results: dict = {
            "commit": commit(),
            "threads": 1,
            "overrides": arguments.overrides,
            "fasttext_settings": FASTTEXT_SETTINGS,
            "machine": machine(),
            "corpora": {},
        }
        for corpus in arguments.corpora:
            relative, overrides = CORPORA[corpus]
            folder = root / relative
            row: dict = {"load_average_1min": round(os.getloadavg()[0], 2)}
            for recipe in arguments.recipes:
                run = runs / f"{Path(recipe).stem}-{corpus}"
                row[Path(recipe).stem] = train_recipe(
                    recipe, folder, (*overrides, *arguments.overrides), run, arguments.repeats
                )
                print(f"{corpus} {recipe}: {json.dumps(row[Path(recipe).stem])}", file=sys.stderr)
            corpus_scratch = Path(scratch) / corpus
            corpus_scratch.mkdir()
            row["fasttext"] = train_fasttext(folder, overrides, corpus_scratch)
            print(f"{corpus} fasttext: {json.dumps(row['fasttext'])}", file=sys.stderr)
            results["corpora"][corpus] = row
            if arguments.out is not None:  # a long suite keeps the corpora it has finished if it is stopped
                arguments.out.parent.mkdir(parents=True, exist_ok=True)
                arguments.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        results["load_average_1min_end"] = round(os.getloadavg()[0], 2)
        emit(results, arguments.out)


if __name__ == "__main__":
    main()
