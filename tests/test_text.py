import pytest

from seqkit.errors import RunDirError
from seqkit.text.tokenize import word_tokenize
from seqkit.text.vocab import PAD, UNK, Vocab


def test_tokenizer_keeps_contractions_and_abbreviations():
    assert word_tokenize("I'd fly to St. Louis at 8 a.m., ok?") == [
        "I'd", "fly", "to", "St.", "Louis", "at", "8", "a.m.", ",", "ok", "?"
    ]


def test_tokenizer_splits_a_final_period_and_lowercases():
    assert word_tokenize("Flights to Boston.", lowercase=True) == ["flights", "to", "boston", "."]
    assert word_tokenize("   ") == []


def test_vocab_counts_min_freq_and_max_size():
    vocab = Vocab.build([["a", "b", "a"], ["c", "a", "b"]], min_freq=2)
    assert vocab.tokens == [PAD, UNK, "a", "b"]
    assert vocab.id("c") == vocab.unknown_id == 1  # the "other" slot
    capped = Vocab.build([["a", "b", "a"], ["c", "a", "b"]], max_size=3)
    assert capped.tokens == [PAD, UNK, "a"]


def test_label_vocab_has_no_other_slot():
    labels = Vocab.labels([["O", "B-x"], ["I-x"]])
    assert labels.tokens == ["B-x", "I-x", "O"]
    with pytest.raises(KeyError):
        labels.id("B-unseen")


def test_vocab_json_round_trip(tmp_path):
    vocab = Vocab.build([["zürich", "a"]])
    vocab.save(tmp_path / "v.json")
    loaded = Vocab.load(tmp_path / "v.json")
    assert loaded.tokens == vocab.tokens and loaded.unknown == UNK


BROKEN = ['{"tokens": "abc"}', '{"tokens": ["a", "a"]}', "not json", '{"tokens": ["a"], "unknown": "<unk>"}']


@pytest.mark.parametrize("content", BROKEN)
def test_broken_vocab_files_are_refused(tmp_path, content):
    path = tmp_path / "v.json"
    path.write_text(content)
    with pytest.raises(RunDirError, match="v.json"):
        Vocab.load(path)
