"""Readers for labelled texts (document classification): JSON Lines, TSV and CSV, optionally gzip-compressed.

Every format holds one labelled text per record, with the text and the label in fields whose names the recipe
gives (`data.text_field`, `data.label_field`):

- JSON Lines (`.jsonl`, `.jsonl.gz`): one JSON object per line, as the IMDB copy in ../shared/data/imdb;
- TSV (`.tsv`) and CSV (`.csv`): a header row naming the columns, then one record per row.

A missing field, an empty text, a non-string text or label, or a line that is not valid JSON is a
DataFormatError naming the file and line, and a file with no records one naming the file. A byte-order mark
(U+FEFF) at the start is dropped, so that it does not join the first field name or text. Each example remembers
where it came from, so that later problems (a test label the model was never trained on) can name the line too.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

from seqkit.errors import DataFormatError

FORMATS = ("jsonl", "tsv", "csv")


@dataclass(frozen=True)
class LabelledText:
    """One document and its class label; `source` is `file:line` for error messages."""

    text: str
    label: str
    source: str = ""


def format_of(path: Path) -> str:
    """The format a file name announces: `reviews.tsv` -> tsv, `train.jsonl.gz` -> jsonl."""
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    suffix = name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix in ("jsonl", "json", "ndjson"):
        return "jsonl"
    if suffix in ("tsv", "csv"):
        return suffix
    endings = ", .".join(FORMATS)
    raise DataFormatError(path, None, f"cannot tell the format from the name; use one of .{endings} (.gz)")


def read_labelled_texts(
    path: Path, text_field: str, label_field: str, file_format: str | None = None
) -> list[LabelledText]:
    """Read every record of `path`; the format comes from the file name unless `file_format` names it."""
    path = Path(path)
    file_format = file_format or format_of(path)
    if file_format not in FORMATS:
        choices = ", ".join(FORMATS)
        raise DataFormatError(path, None, f"unknown format {file_format!r} (choose from: {choices})")
    text = _read_text(path)
    if file_format == "jsonl":
        records = _jsonl_records(path, text)
    else:
        records = _table_records(path, text, "\t" if file_format == "tsv" else ",")
    examples = []
    for line, record in records:
        examples.append(_example(path, line, record, text_field, label_field))
    if not examples:
        raise DataFormatError(path, None, "holds no records")
    return examples


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise DataFormatError(path, None, "file is missing")
    raw = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataFormatError(path, None, f"not a valid gzip file ({error})") from None
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]  # cut from the bytes, not the text, so error offsets stay true
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DataFormatError(path, raw[: error.start].count(b"\n") + 1, "not UTF-8 text") from None


def _jsonl_records(path: Path, text: str):
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataFormatError(path, number, f"not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise DataFormatError(path, number, f"expected a JSON object, got {type(record).__name__}")
        yield number, record


def _table_records(path: Path, text: str, delimiter: str):
    # QUOTE_NONE for TSV: review texts hold quotation marks that are not quoting anything.
    quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    header = None
    try:
        for row in reader:
            number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip() for cell in row]
                continue
            if len(row) != len(header):
                raise DataFormatError(path, number, f"{len(row)} columns where the header has {len(header)}")
            yield number, dict(zip(header, row, strict=True))
    except csv.Error as error:
        kind = "TSV" if delimiter == "\t" else "CSV"
        raise DataFormatError(path, reader.line_num, f"not valid {kind} ({error})") from None


def _example(path: Path, line: int, record: dict, text_field: str, label_field: str) -> LabelledText:
    for field in (text_field, label_field):
        if field not in record:
            present = ", ".join(map(repr, record))  # repr keeps a field name with a line break on one line
            raise DataFormatError(path, line, f"field {field!r} is missing (fields here: {present})")
    text, label = record[text_field], record[label_field]
    if isinstance(label, int) and not isinstance(label, bool):
        label = str(label)  # numeric labels (0/1) are common in JSON; they name classes all the same
    if not isinstance(text, str):
        raise DataFormatError(path, line, f"field {text_field!r} must be a string, got {type(text).__name__}")
    if not isinstance(label, str) or not label.strip():
        raise DataFormatError(path, line, f"field {label_field!r} must be a non-empty label, got {label!r}")
    if not text.strip():
        raise DataFormatError(path, line, f"field {text_field!r} is empty")
    return LabelledText(text, label.strip(), f"{path}:{line}")
