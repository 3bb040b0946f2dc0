"""Readers for the raw sequence-labelling formats, in their original distribution layout.

- The ATIS layout: a folder per split holding `seq.in` (tokens), `seq.out` (one BIO tag per token) and,
  optionally, `label` (one intent per line); line i of each file belongs together.
- CoNLL-2003 columns: one token per line, the word first and the entity tag last, blank lines between
  sentences, `-DOCSTART-` lines between documents; IOB1 tags are converted to BIO on reading.

Problems are DataFormatErrors naming the file and line. A byte-order mark (U+FEFF, which some editors write
at the start of UTF-8 files) is dropped, so that it never becomes part of the first word or label. A file with
no sentences is refused, and so is a sentence longer than `max_tokens`: one such line would otherwise pad every
tensor of its batch to its length (a 100,000-token line took 10 GB of memory).
"""

from __future__ import annotations

import codecs
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

from seqkit.errors import DataFormatError

_TAG = re.compile(r"^(O|[BI]-\S+)$")


@dataclass(frozen=True)
class TaggedSentence:
    """One utterance: tokens, a BIO tag per token, and (when the data has one) an intent label."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    intent: str | None = None


def read_lines(path: Path) -> list[str]:
    """All lines of a UTF-8 file (gzipped when named *.gz) without line ends or a leading byte-order mark; bad
    bytes name their line."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(path, None, "file is missing")
    raw = path.read_bytes()
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataFormatError(path, None, f"not a valid gzip file ({error})") from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]  # cut from the bytes, not the text, so error offsets stay true
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DataFormatError(path, line, "not UTF-8 text") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def read_atis_split(folder: Path, max_tokens: int | None = None) -> list[TaggedSentence]:
    """Read one split folder in the ATIS layout (`seq.in`, `seq.out`, optional `label`); a line of more than
    `max_tokens` tokens is an error (None: no limit)."""
    folder = Path(folder)
    words_path, tags_path, label_path = folder / "seq.in", folder / "seq.out", folder / "label"
    word_lines = read_lines(words_path)
    tag_lines = read_lines(tags_path)
    label_lines = read_lines(label_path) if label_path.exists() else None
    check_same_length(words_path, word_lines, tags_path, tag_lines)
    if label_lines is not None:
        check_same_length(words_path, word_lines, label_path, label_lines)
    sentences = []
    for number, (word_line, tag_line) in enumerate(zip(word_lines, tag_lines, strict=True), start=1):
        tokens = word_line.split()
        tags = tag_line.split()
        if not tokens:
            raise DataFormatError(words_path, number, "empty line (every utterance needs at least one token)")
        check_length(words_path, number, len(tokens), max_tokens)
        if len(tokens) != len(tags):
            raise DataFormatError(tags_path, number, f"{len(tags)} tags for {len(tokens)} tokens in {words_path.name}")
        for tag in tags:
            if not _TAG.match(tag):
                raise DataFormatError(tags_path, number, f"tag {tag!r} is not O, B-type or I-type")
        intent = None
        if label_lines is not None:
            intent = label_lines[number - 1].strip()
            if not intent or len(intent.split()) != 1:
                raise DataFormatError(label_path, number, f"expected one intent label, got {intent!r}")
        sentences.append(TaggedSentence(tuple(tokens), tuple(tags), intent))
    if not sentences:
        raise DataFormatError(words_path, None, "holds no sentences")
    return sentences


def read_conll(path: Path, tag_column: int = -1, max_tokens: int | None = None) -> list[TaggedSentence]:
    """Read CoNLL-style columns (word first, tag in `tag_column`), converting IOB1 tags to BIO; a sentence of
    more than `max_tokens` tokens is an error naming its first line (None: no limit)."""
    path = Path(path)
    sentences: list[TaggedSentence] = []
    tokens: list[str] = []
    tags: list[str] = []
    columns_expected = None
    first_line = 0  # of the sentence being read
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            if tokens:
                check_length(path, first_line, len(tokens), max_tokens)
                sentences.append(TaggedSentence(tuple(tokens), tuple(iob1_to_bio(tags))))
                tokens, tags = [], []
            continue
        columns = line.split()
        if columns[0] == "-DOCSTART-":
            continue
        if len(columns) < 2:
            raise DataFormatError(path, number, f"expected a word and a tag, got {line!r}")
        if columns_expected is None:
            columns_expected = len(columns)
        elif len(columns) != columns_expected:
            raise DataFormatError(path, number, f"{len(columns)} columns where earlier lines have {columns_expected}")
        tag = columns[tag_column]
        if not _TAG.match(tag):
            raise DataFormatError(path, number, f"tag {tag!r} is not O, B-type or I-type")
        if not tokens:
            first_line = number
        tokens.append(columns[0])
        tags.append(tag)
    if tokens:
        check_length(path, first_line, len(tokens), max_tokens)
        sentences.append(TaggedSentence(tuple(tokens), tuple(iob1_to_bio(tags))))
    if not sentences:
        raise DataFormatError(path, None, "holds no sentences")
    return sentences


def check_length(path: Path, line: int, token_count: int, max_tokens: int | None) -> None:
    """Refuse a sentence longer than `max_tokens` (the recipe's `data.max_tokens`)."""
    if max_tokens is not None and token_count > max_tokens:
        problem = f"a sentence of {token_count} tokens, over data.max_tokens ({max_tokens}); split it or raise it"
        raise DataFormatError(path, line, problem)


def iob1_to_bio(tags: list[str]) -> list[str]:
    """Rewrite IOB1 (I- starts a chunk unless it continues one of its type) as BIO; BIO input is unchanged."""
    converted = []
    previous = "O"
    for tag in tags:
        if tag.startswith("I-"):
            kind = tag[2:]
            continues = previous != "O" and previous[2:] == kind
            converted.append(tag if continues else f"B-{kind}")
        else:
            converted.append(tag)
        previous = converted[-1]
    return converted


def check_same_length(first_path: Path, first: list[str], second_path: Path, second: list[str]) -> None:
    if len(first) != len(second):
        shorter = min(len(first), len(second)) + 1
        raise DataFormatError(
            second_path,
            shorter,
            f"has {len(second)} lines but {first_path.name} has {len(first)}; the files must align line by line",
        )
