"""Cut a slot-filling dataset in the ATIS layout into k cross-validation folds, for choosing settings when its
dev split is too small to tell them apart.

    python data_scripts/cross_validation_folds.py ../shared/data/atis OUT [--folds 5] [--seed 0]

The train and valid utterances are pooled and shuffled (seeded), and utterance i goes to the held-out part of
fold i mod k. OUT/fold<i>/ then holds `train/` (every other utterance) and `valid/` (the held-out part), each
with seq.in, seq.out and label, so that `seqkit train slot-filling --data OUT/fold<i>` trains on one fold and
scores every epoch on its held-out part. The test split is never read. Each fold folder is written beside its
final place and renamed into it once complete.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
from pathlib import Path

from seqkit.checkpoint import atomic_replace_directory
from seqkit.data.readers import read_atis_split
from seqkit.errors import SeqkitError


def files_of(folder: Path) -> tuple[str, ...]:
    """The layout's files that a split has: `label` is optional, as in read_atis_split."""
    return ("seq.in", "seq.out", "label") if (folder / "label").is_file() else ("seq.in", "seq.out")


def read_lines(folder: Path, files: tuple[str, ...]) -> list[tuple[str, ...]]:
    """One tuple per utterance: its line of each file, as written; read_atis_split checks them first."""
    read_atis_split(folder)  # a malformed line or a count mismatch stops here, naming file and line
    if files_of(folder) != files:
        raise SeqkitError(f"{folder}: expected the files {', '.join(files)} (as in train/), found others")
    columns = [(folder / name).read_text(encoding="utf-8").splitlines() for name in files]
    return list(zip(*columns, strict=True))


def write_folds(source: Path, out: Path, folds: int, seed: int) -> list[Path]:
    if folds < 2:
        raise SeqkitError(f"--folds: need at least 2 folds, got {folds}")
    files = files_of(source / "train")
    utterances = read_lines(source / "train", files) + read_lines(source / "valid", files)
    random.Random(seed).shuffle(utterances)
    written = []
    for fold in range(folds):
        held_out = utterances[fold::folds]
        kept = [line for index, line in enumerate(utterances) if index % folds != fold]
        target = out / f"fold{fold}"
        splits = {"train": kept, "valid": held_out}
        atomic_replace_directory(target, functools.partial(write_splits, files=files, splits=splits))
        written.append(target)
    return written


def write_splits(folder: Path, files: tuple[str, ...], splits: dict[str, list[tuple[str, ...]]]) -> None:
    for split, lines in splits.items():
        (folder / split).mkdir(parents=True)
        for column, name in enumerate(files):
            (folder / split / name).write_text("".join(line[column] + "\n" for line in lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder with train/ and valid/ in the ATIS layout")
    parser.add_argument("out", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    try:
        for folder in write_folds(arguments.source, arguments.out, arguments.folds, arguments.seed):
            print(folder)
    except SeqkitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
