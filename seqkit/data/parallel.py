"""Reading parallel text: two files whose line i belong together (a sentence and its translation, an article's
first sentence and its headline).

Multi30k ships `train.de.gz` / `train.en.gz` (gzip), Gigaword `train.article.txt.gz` / `train.title.txt.gz`
and plain `test.article.txt` / `test.title.txt`; a user's own pair can be either. Files of different line
counts, empty lines and bytes that are not UTF-8 are DataFormatErrors naming the file and line, an empty file
one naming the file. A byte-order mark at the start of a file is dropped.

Small corpora are read into a list (`read_parallel`). A large one is a `ParallelCorpus`: a re-iterable view
that reads both files line by line on every pass and never holds them, so that vocabularies can be counted
and the featurized Arrow table built (seqkit/data/arrow_cache.py) with memory that does not grow with the
corpus. `open_parallel` picks one of the two from the recipe's `data.stream` option and the files' size.
"""

from __future__ import annotations

import codecs
import gzip
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seqkit.data.readers import check_same_length, read_lines
from seqkit.errors import DataFormatError

# With `data.stream: null`, training files larger than this (together, as stored) are streamed.
STREAM_ABOVE_BYTES = 64 * 1024 * 1024


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
    if not source_lines:
        raise DataFormatError(source_path, None, "holds no lines")
    pairs = []
    for number, (source, target) in enumerate(zip(source_lines, target_lines, strict=True), start=1):
        if limit is not None and number > limit:
            break
        pairs.append(_checked_pair(source_path, target_path, number, source, target))
    return pairs


def _checked_pair(source_path: Path, target_path: Path, number: int, source: str, target: str) -> TextPair:
    for path, text in ((source_path, source), (target_path, target)):
        if not text.strip():
            raise DataFormatError(path, number, "empty line (every pair needs a source and a target text)")
    return TextPair(source.strip(), target.strip())


@dataclass(frozen=True)
class ParallelCorpus:
    """Aligned files read lazily: each `iter()` streams the pairs from disk again, checked as read_parallel does."""

    source_path: Path
    target_path: Path
    limit: int | None = None

    def __iter__(self) -> Iterator[TextPair]:
        missing = object()
        number = 0
        with _open_lines(self.source_path) as sources, _open_lines(self.target_path) as targets:
            pairs = itertools.zip_longest(sources, targets, fillvalue=missing)
            for number, (source, target) in enumerate(pairs, start=1):
                if self.limit is not None and number > self.limit:
                    return
                if source is missing or target is missing:
                    shorter = self.source_path if source is missing else self.target_path
                    longer = self.target_path if source is missing else self.source_path
                    raise DataFormatError(
                        shorter, number, f"ends before {longer.name} does; the files must align line by line"
                    )
                source = _decoded(self.source_path, number, source)
                target = _decoded(self.target_path, number, target)
                yield _checked_pair(self.source_path, self.target_path, number, source, target)
        if number == 0:
            raise DataFormatError(self.source_path, None, "holds no lines")

    def sources(self) -> Iterator[str]:
        return (pair.source for pair in self)

    def targets(self) -> Iterator[str]:
        return (pair.target for pair in self)


def _open_lines(path: Path):
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, None, "file is missing")
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _decoded(path: Path, number: int, raw: bytes) -> str:
    if number == 1 and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8").rstrip("\n").rstrip("\r")
    except UnicodeDecodeError:
        raise DataFormatError(path, number, "not UTF-8 text") from None


def open_parallel(
    source_path: Path, target_path: Path, limit: int | None, stream: bool | None
) -> list[TextPair] | ParallelCorpus:
    """A list for small data, a streamed ParallelCorpus when `stream` is true (or null and the files are big)."""
    if stream is None:
        sizes = [os.path.getsize(path) for path in (source_path, target_path) if Path(path).is_file()]
        stream = sum(sizes) > STREAM_ABOVE_BYTES
    if stream:
        return ParallelCorpus(Path(source_path), Path(target_path), limit)
    return read_parallel(source_path, target_path, limit)
