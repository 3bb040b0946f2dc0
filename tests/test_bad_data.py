"""Bad data files get one-line errors naming the file (and line), never tracebacks or silent nonsense: over-long
sentences, empty splits, byte-order marks, bytes that are not UTF-8, and files that do not line up."""

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seqkit.api import load_recipe
from seqkit.data.babi import read_babi_file
from seqkit.data.labelled_text import read_labelled_texts
from seqkit.data.parallel import ParallelCorpus, read_parallel
from seqkit.data.readers import read_atis_split, read_conll
from seqkit.errors import DataFormatError
from seqkit.tasks import get_task

from conftest import TINY_ATIS, TINY_CONLL, write_recipe, write_tiny_task1

BOM = "\ufeff"


def atis_copy(tmp_path: Path) -> Path:
    """A writable copy of tests/data/tiny_atis (train 16, valid 8, test 8 utterances)."""
    return Path(shutil.copytree(TINY_ATIS, tmp_path / "atis"))


def append_utterance(split: Path, tokens: int) -> None:
    """Add one utterance of `tokens` words (all tagged O, intent `flight`) at the end of a split folder."""
    for name, piece in (("seq.in", "rome"), ("seq.out", "O")):
        with open(split / name, "a", encoding="utf-8") as file:
            file.write(" ".join([piece] * tokens) + "\n")
    with open(split / "label", "a", encoding="utf-8") as file:
        file.write("flight\n")


def load_slot_filling(tmp_path: Path, data: Path, *overrides: str, splits=("train", "valid")) -> dict:
    recipe = load_recipe(None, write_recipe(tmp_path), list(overrides))
    return get_task("slot-filling").load_splits(recipe, data, splits)


def refusal(call, *arguments, **keywords) -> str:
    """The message of the DataFormatError that `call` raises; it must be one line."""
    with pytest.raises(DataFormatError) as caught:
        call(*arguments, **keywords)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ---- 1. sentence length is bounded -------------------------------------------------------------------------
def test_a_sentence_over_data_max_tokens_is_refused_naming_file_and_line(tmp_path):
    data = atis_copy(tmp_path)
    append_utterance(data / "train", 1001)  # line 17
    message = refusal(load_slot_filling, tmp_path, data)
    assert message.startswith(f"{data / 'train' / 'seq.in'}:17: a sentence of 1001 tokens")
    assert "data.max_tokens (1000)" in message
    # The limit is the recipe's to raise, and the valid split is held to it as well.
    assert len(load_slot_filling(tmp_path, data, "data.max_tokens=1001")["train"]) == 17
    append_utterance(data / "valid", 30)  # line 9
    message = refusal(load_slot_filling, tmp_path, data, "data.max_tokens=20", splits=("valid",))
    assert message.startswith(f"{data / 'valid' / 'seq.in'}:9: a sentence of 30 tokens")


def test_a_sentence_at_the_limit_is_read():
    assert len(read_atis_split(TINY_ATIS / "train", max_tokens=9)) == 16  # its longest utterance has 9 tokens


def test_a_long_conll_sentence_is_refused_at_its_first_line(tmp_path):
    path = tmp_path / "train.txt"
    lines = ["-DOCSTART- -X- O O", "", "Anna NNP I-NP I-PER", "", *["word NN I-NP O"] * 5, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    assert len(read_conll(path, max_tokens=5)) == 2
    assert refusal(read_conll, path, max_tokens=4).startswith(f"{path}:5: a sentence of 5 tokens")


def test_a_long_babi_sentence_is_refused_naming_file_and_line(tmp_path):
    path = tmp_path / "qa1_single-supporting-fact_train.txt"
    path.write_text("1 Mary went to the kitchen.\n2 Where is Mary?\tkitchen\t1\n", encoding="utf-8")
    assert len(read_babi_file(path, 1, max_tokens=5)[0]) == 1
    assert refusal(read_babi_file, path, 1, max_tokens=4).startswith(f"{path}:1: a sentence of 5 tokens")
    path.write_text("1 Mary went home.\n2 Where is Mary now?\thome\t1\n", encoding="utf-8")
    assert refusal(read_babi_file, path, 1, max_tokens=3).startswith(f"{path}:2: a sentence of 4 tokens")


def test_the_babi_task_applies_its_default_limit(tmp_path):
    data = write_tiny_task1(tmp_path / "babi")
    path = data / "en" / "qa1_single-supporting-fact_train.txt"
    path.write_text(path.read_text() + "1 Mary " + "went " * 100 + "home.\n2 Where is Mary?\thome\t1\n")
    recipe = load_recipe("babi", "babi_1k", ["data.task=1"])
    message = refusal(get_task("babi").load_splits, recipe, data, ("train", "valid"))
    assert message.startswith(f"{path}:109: a sentence of 102 tokens, over data.max_tokens (100)")


def test_long_sentences_come_in_batches_of_bounded_padded_size(tmp_path):
    """Within the limit, 1000-token sentences are batched 8 at a time, not batch_size (32, 3 GB of training);
    the 16 short utterances of tiny_atis still come together, as batch_size cuts them."""
    data = atis_copy(tmp_path)
    for _ in range(20):
        append_utterance(data / "train", 1000)
    recipe = load_recipe(None, write_recipe(tmp_path, train={"batch_size": 32}))
    task = get_task("slot-filling")
    train = task.load_splits(recipe, data, ("train",))["train"]
    batches = task.training_batches(recipe, task.build_vocabularies(recipe, train), train)(1)
    shapes = sorted(tuple(batch["tags"].shape) for batch in batches)  # (B, T) each
    assert shapes == [(4, 1000), (8, 1000), (8, 1000), (16, 9)]


# ---- 2 and 3. empty splits -------------------------------------------------------------------------------
@pytest.mark.parametrize("split", ["train", "valid"])
def test_an_empty_split_is_refused_naming_its_file(tmp_path, split):
    data = atis_copy(tmp_path)
    for name in ("seq.in", "seq.out", "label"):
        (data / split / name).write_text("")
    message = refusal(load_slot_filling, tmp_path, data)
    assert message == f"{data / split / 'seq.in'}: holds no sentences"


def test_training_on_an_empty_train_file_prints_one_line(tmp_path):
    data = atis_copy(tmp_path)
    for name in ("seq.in", "seq.out", "label"):
        (data / "train" / name).write_text("")
    command = [sys.executable, "-m", "seqkit", "train", "slot-filling", "--recipe", str(write_recipe(tmp_path)),
               "--data", str(data), "--out", str(tmp_path / "run")]  # fmt: skip
    finished = subprocess.run(command, capture_output=True, text=True)
    assert finished.returncode == 1
    assert finished.stderr == f"error: {data / 'train' / 'seq.in'}: holds no sentences\n"


def test_empty_files_of_every_format_are_refused(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    only_header = tmp_path / "empty.tsv"
    only_header.write_text("text\tlabel\n")
    assert refusal(read_conll, empty) == f"{empty}: holds no sentences"
    documents_only = tmp_path / "docstart.txt"
    documents_only.write_text("-DOCSTART- -X- O O\n\n")
    assert refusal(read_conll, documents_only) == f"{documents_only}: holds no sentences"
    assert refusal(read_labelled_texts, only_header, "text", "label") == f"{only_header}: holds no records"
    assert refusal(read_parallel, empty, empty) == f"{empty}: holds no lines"
    assert refusal(list, ParallelCorpus(empty, empty)) == f"{empty}: holds no lines"
    assert refusal(read_babi_file, empty, 1) == f"{empty}: holds no questions"
    statements = tmp_path / "statements.txt"
    statements.write_text("1 Mary went home.\n2 John left.\n")
    assert refusal(read_babi_file, statements, 1) == f"{statements}: holds no questions"


def test_a_babi_file_of_one_story_cannot_spare_a_validation_split(tmp_path):
    data = write_tiny_task1(tmp_path / "babi", stories=1)
    recipe = load_recipe("babi", "babi_1k", ["data.task=1"])
    message = refusal(get_task("babi").load_splits, recipe, data, ("train", "valid"))
    path = data / "en" / "qa1_single-supporting-fact_train.txt"
    assert message == f"{path}: too few stories to hold out a train split"


def test_a_sentiment_file_of_one_record_cannot_spare_a_dev_split(tmp_path):
    (tmp_path / "train.tsv").write_text("text\tlabel\ngood film\tpos\n")
    recipe = load_recipe("sentiment", "my_texts")
    message = refusal(get_task("sentiment").load_splits, recipe, tmp_path, ("train", "valid"))
    assert message == f"{tmp_path / 'train.tsv'}: too few records to hold out a valid split"


# ---- 4. byte-order marks ---------------------------------------------------------------------------------
def test_a_byte_order_mark_joins_no_word_or_intent(tmp_path):
    data = atis_copy(tmp_path)
    for name in ("seq.in", "seq.out", "label"):
        path = data / "train" / name
        path.write_text(BOM + path.read_text(encoding="utf-8"), encoding="utf-8")
    first = load_slot_filling(tmp_path, data)["train"][0]
    assert first.tokens[0] == "show" and first.tags[0] == "O" and first.intent == "flight"


def test_a_byte_order_mark_is_dropped_by_every_reader(tmp_path):
    table = tmp_path / "texts.csv"
    table.write_text(BOM + "text,label\ngood film,pos\n", encoding="utf-8")
    assert read_labelled_texts(table, "text", "label")[0].label == "pos"
    lines = tmp_path / "lines.jsonl.gz"
    lines.write_bytes(gzip.compress((BOM + '{"text": "fine", "label": "pos"}\n').encode("utf-8")))
    assert read_labelled_texts(lines, "text", "label")[0].text == "fine"
    source, target = tmp_path / "a.txt", tmp_path / "b.txt"
    source.write_text(BOM + "ein Hund\n", encoding="utf-8")
    target.write_text(BOM + "a dog\n", encoding="utf-8")
    assert read_parallel(source, target)[0].source == "ein Hund"
    assert [pair.target for pair in ParallelCorpus(source, target)] == ["a dog"]
    conll = tmp_path / "conll.txt"
    conll.write_text(BOM + "Anna NNP I-NP I-PER\n", encoding="utf-8")
    assert read_conll(conll)[0].tokens == ("Anna",)
    babi = tmp_path / "babi.txt"
    babi.write_text(BOM + "1 Mary went home.\n2 Where is Mary?\thome\t1\n", encoding="utf-8")
    assert read_babi_file(babi, 1)[0][0].story == (("mary", "went", "home"),)


# ---- 5. bytes that are not UTF-8 -------------------------------------------------------------------------
def test_latin1_bytes_name_file_and_line_in_every_reader(tmp_path):
    data = atis_copy(tmp_path)
    words = data / "train" / "seq.in"
    lines = words.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"rome", b"r\xf4me")  # Latin-1 ô
    words.write_bytes(b"\n".join(lines))
    assert refusal(load_slot_filling, tmp_path, data) == f"{words}:3: not UTF-8 text"
    babi = tmp_path / "babi.txt"
    babi.write_bytes(b"1 Mary went home.\n2 Where is Mary?\thome\t1\n3 Jos\xe9 left.\n")
    assert refusal(read_babi_file, babi, 1) == f"{babi}:3: not UTF-8 text"
    table = tmp_path / "texts.tsv"
    table.write_bytes(b"text\tlabel\ngood\tpos\ncaf\xe9\tneg\n")
    assert refusal(read_labelled_texts, table, "text", "label") == f"{table}:3: not UTF-8 text"
    source, target = tmp_path / "a.txt", tmp_path / "b.txt"
    source.write_bytes(b"ein Hund\nK\xe4se\n")
    target.write_bytes(b"a dog\ncheese\n")
    assert refusal(read_parallel, source, target) == f"{source}:2: not UTF-8 text"
    assert refusal(list, ParallelCorpus(source, target)) == f"{source}:2: not UTF-8 text"


# ---- 6. files that do not line up ------------------------------------------------------------------------
def test_files_that_do_not_line_up_name_file_and_line(tmp_path):
    data = atis_copy(tmp_path)
    labels = data / "valid" / "label"
    labels.write_text("".join(labels.read_text().splitlines(keepends=True)[:-1]))  # 7 labels for 8 lines
    message = refusal(load_slot_filling, tmp_path, data)
    assert message == f"{labels}:8: has 7 lines but seq.in has 8; the files must align line by line"
    data = atis_copy(tmp_path / "second")
    tags = data / "train" / "seq.out"
    lines = tags.read_text().splitlines()
    lines[3] += " O"
    tags.write_text("\n".join(lines) + "\n")
    message = refusal(load_slot_filling, tmp_path, data)
    assert message.startswith(f"{tags}:4: ") and "tags for" in message and "tokens in seq.in" in message


def test_a_conll_test_file_with_a_long_sentence_is_refused_by_the_task(tmp_path):
    data = Path(shutil.copytree(TINY_CONLL, tmp_path / "conll"))
    test = data / "test.txt"
    test.write_text(test.read_text() + "\n" + "word NN I-NP O\n" * 8)  # from line 17; the longest was 7
    overrides = ["data.format=conll", "data.train=train.txt", "data.valid=dev.txt", "data.test=test.txt",
                 "data.max_tokens=7"]  # fmt: skip
    message = refusal(load_slot_filling, tmp_path, data, *overrides, splits=("test",))
    assert message.startswith(f"{test}:17: a sentence of 8 tokens, over data.max_tokens (7)")
