"""A setting judged on data the recipe never chose on: held-out accuracy on cuts of the short-text training files.

    SEQKIT_DATA_DIR=../shared/data python -m benchmarks.textcls_nested TAG my_texts subj,cr,mpqa,trec \
        [train.refit=true ...] [--cuts 7 8] [--seeds 13 14 15] [--fasttext] [--log results/textcls-nested.jsonl]

A recipe chooses its epoch on a dev split, so its dev accuracy cannot judge a setting that changes what happens
after that choice (a refit on train and dev together learns from dev itself). Here each corpus's training file is
cut once more: a fixed 10% (drawn with the cut's seed) is set aside as held-out data, and the recipe trains on the
other 90% as a user would (holding out its own dev split from it), then is scored once on the set-aside 10%.
With --fasttext, fastText 0.9 is scored on the same cuts instead (its training lines shuffled once with a fixed
seed, as in benchmarks/textcls.py). Nothing reads a test file. One JSON line per corpus and cut is printed (the
seeds' accuracies and their mean), then a summary with the mean per corpus over cuts and seeds, which is also
appended to --log.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
from pathlib import Path

from benchmarks.textcls import train_fasttext
from benchmarks.textcls_dev import train_quietly


def training_rows(root: Path, corpus: str) -> tuple[str, list[str]]:
    """(header, rows) of a corpus's training file as TSV lines: textcls/<corpus>/train.tsv as it is, or IMDB's
    train.jsonl.gz with each review's whitespace collapsed to single spaces."""
    if corpus != "imdb":
        header, *rows = (root / "textcls" / corpus / "train.tsv").read_text(encoding="utf-8").splitlines()
        return header, rows
    from seqkit.data.labelled_text import read_labelled_texts

    reviews = read_labelled_texts(root / "imdb" / "train.jsonl.gz", "text", "label")
    return "text\tlabel", [f"{' '.join(review.text.split())}\t{review.label}" for review in reviews]


def cut(header: str, rows: list[str], seed: int, folder: Path) -> Path:
    """Write train.tsv (90% of the rows) and test.tsv (the other 10%) into `folder`; return it."""
    rows = list(rows)
    random.Random(seed).shuffle(rows)
    held = len(rows) // 10
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.tsv").write_text("\n".join([header, *rows[held:]]) + "\n", encoding="utf-8")
    (folder / "test.tsv").write_text("\n".join([header, *rows[:held]]) + "\n", encoding="utf-8")
    return folder


def held_out_accuracy(recipe: str, folder: Path, overrides: list[str], run: Path) -> float:
    """Train on the cut's train.tsv as a user would, then score once on its held-out test.tsv."""
    from seqkit import api

    train_quietly(recipe, folder, overrides, run)
    return api.evaluate(run, "test", data_dir=folder)["accuracy"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tag", help="a name for this setting in the log")
    parser.add_argument("recipe", help="a named recipe or a YAML file")
    parser.add_argument("corpora", help="comma-separated folders under $SEQKIT_DATA_DIR/textcls, or imdb")
    parser.add_argument("overrides", nargs="*", help="--set style overrides, e.g. train.refit=true")
    parser.add_argument("--cuts", nargs="+", type=int, default=[7, 8], help="seeds of the held-out cuts")
    parser.add_argument("--seeds", nargs="+", type=int, default=[13, 14, 15], help="training seeds")
    parser.add_argument("--fasttext", action="store_true",
                        help="score fastText 0.9 instead (benchmarks/textcls.py's settings; the recipe is not read)")
    parser.add_argument("--log", type=Path, default=None, help="append the summary line to this JSON Lines file")
    arguments = parser.parse_args(argv)
    root = Path(os.environ.get("SEQKIT_DATA_DIR", "data"))
    means: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="textcls-nested-") as scratch:
        for corpus in arguments.corpora.split(","):
            header, rows = training_rows(root, corpus)
            for cut_seed in arguments.cuts:
                folder = cut(header, rows, cut_seed, Path(scratch) / f"{corpus}-{cut_seed}")
                if arguments.fasttext:
                    scores = [train_fasttext(folder, (), Path(scratch))["accuracy"]]
                else:
                    scores = [
                        round(held_out_accuracy(arguments.recipe, folder, [*arguments.overrides, f"seed={seed}"],
                                                Path(scratch) / "run"), 2)
                        for seed in arguments.seeds
                    ]
                means.setdefault(corpus, []).extend(scores)
                line = {"tag": arguments.tag, "corpus": corpus, "cut": cut_seed, "scores": scores,
                        "mean": round(sum(scores) / len(scores), 2)}
                print(json.dumps(line), flush=True)
    summary = {
        "tag": arguments.tag,
        "recipe": arguments.recipe,
        "overrides": arguments.overrides,
        "cuts": arguments.cuts,
        "seeds": arguments.seeds,
        "means": {corpus: round(sum(scores) / len(scores), 2) for corpus, scores in means.items()},
    }
    summary["mean"] = round(sum(summary["means"].values()) / len(summary["means"]), 2)
    print(json.dumps(summary))
    if arguments.log is not None:
        with open(arguments.log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
