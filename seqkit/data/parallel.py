"""Reading parallel text: two files whose line i belong together (a sentence and its translation, an article's
first sentence and its headline).

Multi30k ships `train.de.gz` / `train.en.gz` (gzip), Gigaword `train.article.txt.gz` / `train.title.txt.gz`
and plain `test.article.txt` / `test.title.txt`; a user's own pair can be either. Files of different line
counts, empty lines and bytes that are not UTF-8 are DataFormatErrors naming the file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqkit.data.readers import check_same_length, read_lines
from seqkit.errors import DataFormatError


@dataclass(frozen=True)
class TextPair:
    """A source text and its target text, as they stand in the files (untokenized or pre-tokenized)."""

    source: str
    target: str


def read_parallel(source_path: Path, target_path: Path, limit: int | None = None) -> list[TextPair]:
    """Read aligned files; `limit` keeps only the first pairs (small experiments)."""
    source_path, target_path = Path(source_path), Path(target_path)
    source_lines = read_lines(source_path)
    target_lines = read_lines(target_path)
    check_same_length(source_path, source_lines, target_path, target_lines)
    pairs = []
    for number, (source, target) in enumerate(zip(source_lines, target_lines, strict=True), start=1):
        if limit is not None and number > limit:
            break
        for path, text in ((source_path, source), (target_path, target)):
            if not text.strip():
                raise DataFormatError(
                    path, number, "empty line (every pair needs a source and a target text)"
                )
        pairs.append(TextPair(source.strip(), target.strip()))
    return pairs
