"""Readers for labelled texts: JSONL (plain and gzip), TSV, CSV, and clear errors on malformed input."""

import gzip
import json

import pytest

from seqkit.data.labelled_text import LabelledText, format_of, read_labelled_texts
from seqkit.errors import DataFormatError


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_and_gzip_read_the_named_fields(tmp_path):
    rows = [
        {"id": "0_9", "label": "pos", "text": "Great film."},
        {"id": "1_2", "label": "neg", "text": "Dull."},
    ]
    content = "".join(json.dumps(row) + "\n" for row in rows)
    plain = write(tmp_path / "train.jsonl", content)
    packed = tmp_path / "train.jsonl.gz"
    packed.write_bytes(gzip.compress(content.encode("utf-8")))
    for path in (plain, packed):
        examples = read_labelled_texts(path, "text", "label")
        assert [(e.text, e.label) for e in examples] == [("Great film.", "pos"), ("Dull.", "neg")]
        assert examples[1].source == f"{path}:2"


def test_tsv_and_csv_with_a_header_and_numeric_labels(tmp_path):
    tsv = write(tmp_path / "mine.tsv", 'review\tstars\nA "quoted" joy\t1\n\nawful, truly\t0\n')
    examples = read_labelled_texts(tsv, "review", "stars")
    assert examples == [
        LabelledText('A "quoted" joy', "1", f"{tsv}:2"),
        LabelledText("awful, truly", "0", f"{tsv}:4"),
    ]
    csv_path = write(tmp_path / "mine.csv", 'text,label\n"fine, really",pos\nbad,neg\n')
    assert [(e.text, e.label) for e in read_labelled_texts(csv_path, "text", "label")] == [
        ("fine, really", "pos"),
        ("bad", "neg"),
    ]
    json_numbers = write(tmp_path / "n.jsonl", '{"t": "ok", "y": 1}\n')
    assert read_labelled_texts(json_numbers, "t", "y")[0].label == "1"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.jsonl", '{"text": "fine", "label": "pos"}\n{"text": "x"}\n', ":2: field 'label' is missing"),
        ("a.jsonl", '{"text": "ok", "label": "p"}\n{"text": "", "label": "n"}\n', ":2: field 'text' is empt"),
        ("a.jsonl", '{"text": "fine", "label": "pos"}\n{oops\n', ":2: not valid JSON"),
        ("a.jsonl", '["text", "label"]\n', ":1: expected a JSON object"),
        ("a.jsonl", '{"text": 3, "label": "pos"}\n', ":1: field 'text' must be a string"),
        ("a.jsonl", '{"text": "x", "label": ""}\n', ":1: field 'label' must be a non-empty label"),
        ("a.tsv", "text\tlabel\nfine\tpos\nno tab here\n", ":3: 1 columns where the header has 2"),
        ("a.tsv", "words\tlabel\nfine\tpos\n", ":2: field 'text' is missing"),
        ("a.csv", "text,label\n", "holds no records"),
        ("a.txt", "text,label\n", "cannot tell the format"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, name, content, message):
    path = write(tmp_path / name, content)
    with pytest.raises(DataFormatError) as error:
        read_labelled_texts(path, "text", "label")
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_bad_bytes_and_missing_files(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"text": "ok", "label": "pos"}\n{"text": "\xff", "label": "neg"}\n')
    with pytest.raises(DataFormatError, match=r"bad.jsonl:2: not UTF-8"):
        read_labelled_texts(path, "text", "label")
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(DataFormatError, match="not a valid gzip file"):
        read_labelled_texts(broken, "text", "label")
    with pytest.raises(DataFormatError, match="file is missing"):
        read_labelled_texts(tmp_path / "absent.tsv", "text", "label")


def test_format_of_names():
    assert format_of("train.jsonl.gz") == "jsonl"
    assert format_of("x.TSV") == "tsv"
    assert format_of("y.csv.gz") == "csv"
