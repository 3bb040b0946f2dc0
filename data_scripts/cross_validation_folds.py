"""Cut a slot-filling dataset in the ATIS layout into k cross-validation folds, for choosing settings when its
dev split is too small to tell them apart.

    python data_scripts/cross_validation_folds.py ../shared/data/atis OUT [--folds 5] [--seed 0] [--group-by template]

The train and valid utterances are pooled and shuffled (seeded), and utterance i goes to the held-out part of
fold i mod k. With `--group-by template`, utterances that share a slot template (the words with each slot value
replaced by its type: "flights from <fromloc.city_name> to <toloc.city_name>") are held out together, so every
held-out utterance is a phrasing its fold never trained on. That is how most of the ATIS test set differs from
train (680 of its 893 utterances have a template that train lacks), so these folds estimate what a setting does
on new phrasings, which random folds, like dev, cannot. The groups go, largest first, to the fold with the
fewest held-out utterances so far.

OUT/fold<i>/ then holds `train/` (every other utterance) and `valid/` (the held-out part), each
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

from seqkit.data.hub import write_atis_layout
from seqkit.data.readers import TaggedSentence, read_atis_split
from seqkit.errors import SeqkitError
from seqkit.files import atomic_replace_directory
from seqkit.metrics import bio_chunks

GROUPINGS = ("utterance", "template")


def write_folds(source: Path, out: Path, folds: int, seed: int, group_by: str = "utterance") -> list[Path]:
    if folds < 2:
        raise SeqkitError(f"--folds: need at least 2 folds, got {folds}")
    # read_atis_split checks every line (a malformed one, or a count mismatch, stops here naming file and line).
    utterances = read_atis_split(source / "train") + read_atis_split(source / "valid")
    if len({utterance.intent is None for utterance in utterances}) > 1:
        raise SeqkitError(f"{source}: train/ and valid/ must both have a label file, or neither")
    if group_by not in GROUPINGS:
        raise SeqkitError(f"--group-by: unknown grouping {group_by!r} (choose from: {', '.join(GROUPINGS)})")
    random.Random(seed).shuffle(utterances)
    fold_of = (
        fold_by_template(utterances, folds) if group_by == "template" else [i % folds for i in range(len(utterances))]
    )
    written = []
    for fold in range(folds):
        held_out = [utterance for utterance, chosen in zip(utterances, fold_of, strict=True) if chosen == fold]
        kept = [utterance for utterance, chosen in zip(utterances, fold_of, strict=True) if chosen != fold]
        target = out / f"fold{fold}"
        atomic_replace_directory(target, functools.partial(write_fold, kept=kept, held_out=held_out))
        written.append(target)
    return written


def slot_template(utterance: TaggedSentence) -> tuple[str, ...]:
    """The words with each slot value replaced by its type: ("flights", "to", "<toloc.city_name>")."""
    words: list[str] = list(utterance.tokens)
    # Right to left, so that replacing a span does not move the ones still to come.
    for start, end, kind in sorted(bio_chunks(utterance.tags), reverse=True):
        words[start:end] = [f"<{kind}>"]
    return tuple(words)


def fold_by_template(utterances: list[TaggedSentence], folds: int) -> list[int]:
    """Each utterance's fold, keeping a template's utterances together; balanced by held-out count."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for index, utterance in enumerate(utterances):
        groups.setdefault(slot_template(utterance), []).append(index)
    sizes = [0] * folds
    fold_of = [0] * len(utterances)
    # Largest groups first (ties in the seeded shuffle's order), each to the emptiest fold so far.
    for members in sorted(groups.values(), key=len, reverse=True):
        fold = min(range(folds), key=lambda candidate: sizes[candidate])
        sizes[fold] += len(members)
        for index in members:
            fold_of[index] = fold
    return fold_of


def write_fold(folder: Path, kept: list[TaggedSentence], held_out: list[TaggedSentence]) -> None:
    write_atis_layout(folder, "train", kept)
    write_atis_layout(folder, "valid", held_out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder with train/ and valid/ in the ATIS layout")
    parser.add_argument("out", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--group-by", choices=GROUPINGS, default="utterance", help="hold out whole slot templates")
    arguments = parser.parse_args()
    try:
        folders = write_folds(arguments.source, arguments.out, arguments.folds, arguments.seed, arguments.group_by)
        for folder in folders:
            print(folder)
    except SeqkitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
