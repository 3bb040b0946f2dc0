"""Turning hub datasets (the `datasets` library) into the original file layouts that the readers read.

Hub copies of the benchmarks store the same content in columns: tokens as a list or a space-separated string,
tags as strings or as integer ids with a ClassLabel feature naming them. These functions convert any such
dataset to TaggedSentences and write them in the ATIS layout or as CoNLL columns, so that a hub download and
a local copy go through exactly the same reader afterwards.
"""

from __future__ import annotations

from pathlib import Path

from seqkit.data.readers import TaggedSentence, iob1_to_bio
from seqkit.errors import DataFormatError
from seqkit.files import atomic_write_text


def sentences_from_dataset(
    dataset,
    tokens_field: str,
    tags_field: str,
    intent_field: str | None = None,
    source: str = "hub dataset",
) -> list[TaggedSentence]:
    """Convert a `datasets.Dataset` of tagged sentences; integer tags are named through their ClassLabel."""
    for field in (tokens_field, tags_field, intent_field):
        if field is not None and field not in dataset.column_names:
            raise DataFormatError(source, None, f"has no column {field!r} (columns: {dataset.column_names})")
    tag_names = _class_names(dataset.features[tags_field])
    intent_names = _class_names(dataset.features[intent_field]) if intent_field else None
    sentences = []
    for row_number, row in enumerate(dataset, start=1):
        tokens = _as_list(row[tokens_field])
        tags = [tag_names[tag] if tag_names and isinstance(tag, int) else str(tag) for tag in _as_list(row[tags_field])]
        if len(tokens) != len(tags):
            raise DataFormatError(source, row_number, f"{len(tags)} tags for {len(tokens)} tokens")
        if not tokens:
            continue
        intent = None
        if intent_field is not None:
            value = row[intent_field]
            intent = intent_names[value] if intent_names and isinstance(value, int) else str(value)
        sentences.append(TaggedSentence(tuple(tokens), tuple(iob1_to_bio(tags)), intent))
    return sentences


def write_atis_layout(folder: Path, split: str, sentences: list[TaggedSentence]) -> None:
    """Write `folder/split/{seq.in,seq.out[,label]}`."""
    target = Path(folder) / split
    atomic_write_text(target / "seq.in", "".join(" ".join(s.tokens) + "\n" for s in sentences))
    atomic_write_text(target / "seq.out", "".join(" ".join(s.tags) + "\n" for s in sentences))
    if sentences and all(s.intent is not None for s in sentences):
        atomic_write_text(target / "label", "".join(f"{s.intent}\n" for s in sentences))


def write_conll(path: Path, sentences: list[TaggedSentence]) -> None:
    """Write two-column CoNLL (`word tag`), a blank line after each sentence."""
    blocks = ["".join(f"{token} {tag}\n" for token, tag in zip(s.tokens, s.tags, strict=True)) for s in sentences]
    atomic_write_text(Path(path), "\n".join(blocks) + ("\n" if blocks else ""))


def split_off(sentences: list[TaggedSentence], every: int) -> tuple[list[TaggedSentence], list[TaggedSentence]]:
    """Deterministically hold out every `every`-th sentence (for hub copies that ship no dev split)."""
    kept = [s for i, s in enumerate(sentences) if i % every != every - 1]
    held = [s for i, s in enumerate(sentences) if i % every == every - 1]
    return kept, held


def _class_names(feature) -> list[str] | None:
    inner = getattr(feature, "feature", feature)  # a Sequence(ClassLabel) wraps the ClassLabel
    names = getattr(inner, "names", None)
    return list(names) if names else None


def _as_list(value) -> list:
    return value.split() if isinstance(value, str) else list(value)
