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
from seqkit.data.hub import write_atis_layout
from seqkit.data.readers import TaggedSentence, read_atis_split
from seqkit.errors import SeqkitError


def write_folds(source: Path, out: Path, folds: int, seed: int) -> list[Path]:
    if folds < 2:
        raise SeqkitError(f"--folds: need at least 2 folds, got {folds}")
    # read_atis_split checks every line (a malformed one, or a count mismatch, stops here naming file and line).
    utterances = read_atis_split(source / "train") + read_atis_split(source / "valid")
    if len({utterance.intent is None for utterance in utterances}) > 1:
        raise SeqkitError(f"{source}: train/ and valid/ must both have a label file, or neither")
    random.Random(seed).shuffle(utterances)
    written = []
    for fold in range(folds):
        held_out = utterances[fold::folds]
        kept = [utterance for index, utterance in enumerate(utterances) if index % folds != fold]
        target = out / f"fold{fold}"
        atomic_replace_directory(target, functools.partial(write_fold, kept=kept, held_out=held_out))
        written.append(target)
    return written


def write_fold(folder: Path, kept: list[TaggedSentence], held_out: list[TaggedSentence]) -> None:
    write_atis_layout(folder, "train", kept)
    write_atis_layout(folder, "valid", held_out)


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
