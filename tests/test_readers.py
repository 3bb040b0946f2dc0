import pytest

from seqkit.data.readers import iob1_to_bio, read_atis_split, read_conll
from seqkit.errors import DataFormatError

from conftest import TINY_ATIS, TINY_CONLL


def write_split(folder, words, tags, labels=None):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "seq.in").write_text(words)
    (folder / "seq.out").write_text(tags)
    if labels is not None:
        (folder / "label").write_text(labels)
    return folder


def test_reads_the_atis_layout():
    sentences = read_atis_split(TINY_ATIS / "train")
    assert len(sentences) == 16
    assert sentences[4].tokens == ("flights", "to", "new", "york", "on", "monday")
    assert sentences[4].tags[2:4] == ("B-to_city", "I-to_city")
    assert sentences[4].intent == "flight"


def test_labels_are_optional(tmp_path):
    sentences = read_atis_split(write_split(tmp_path / "s", "a b\n", "O B-x\n"))
    assert sentences[0].intent is None


@pytest.mark.parametrize(
    ("words", "tags", "labels", "where", "problem"),
    [
        ("a b\nc\n", "O O\nO O\n", None, "seq.out:2", "2 tags for 1 tokens"),
        ("a b\nc\n", "O O\n", None, "seq.out:2", "has 1 lines but seq.in has 2"),
        ("a\n\nb\n", "O\n\nO\n", None, "seq.in:2", "empty line"),
        ("a b\n", "O X-y\n", None, "seq.out:1", "'X-y' is not O"),
        ("a\nb\n", "O\nO\n", "one\ntwo words\n", "label:2", "one intent label"),
    ],
)
def test_atis_errors_name_file_and_line(tmp_path, words, tags, labels, where, problem):
    folder = write_split(tmp_path / "s", words, tags, labels)
    with pytest.raises(DataFormatError) as caught:
        read_atis_split(folder)
    assert where in str(caught.value) and problem in str(caught.value)


def test_non_utf8_bytes_name_their_line(tmp_path):
    folder = write_split(tmp_path / "s", "a\n", "O\n")
    (folder / "seq.in").write_bytes(b"a\nb \xff\n")
    (folder / "seq.out").write_text("O\nO O\n")
    with pytest.raises(DataFormatError, match=r"seq.in:2: not UTF-8"):
        read_atis_split(folder)


def test_conll_reader_converts_iob1_to_bio():
    sentences = read_conll(TINY_CONLL / "train.txt")
    assert len(sentences) == 2
    assert sentences[0].tags == ("B-PER", "I-PER", "O", "B-LOC", "O")
    # "Anna/I-PER Lind/B-PER": two adjacent persons stay two chunks.
    assert sentences[1].tags == ("B-ORG", "O", "B-PER", "B-PER", "O", "B-LOC", "O")


def test_iob1_conversion_cases_and_idempotence():
    assert iob1_to_bio(["I-A", "I-A", "I-B", "O", "I-A", "B-A"]) == ["B-A", "I-A", "B-B", "O", "B-A", "B-A"]
    bio = ["B-A", "I-A", "O", "B-B"]
    assert iob1_to_bio(bio) == bio


def test_conll_errors(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("EU NNP I-NP I-ORG\nrejects\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: expected a word and a tag"):
        read_conll(path)
    path.write_text("EU NNP I-NP I-ORG\nrejects VBZ O\n")
    with pytest.raises(DataFormatError, match=r"bad.txt:2: 3 columns"):
        read_conll(path)
