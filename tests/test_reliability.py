"""Trying to break seqkit: generated bad files for the readers, SIGKILL during training, runs sharing a folder."""

import json
import os
import signal
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqkit.data.readers import read_atis_split, read_conll
from seqkit.data.sources import resolve_dataset
from seqkit.errors import ConfigError, DataFormatError, RunDirError
from seqkit.run_dirs.run_dir import RunLock
from seqkit.text.tokenize import word_tokenize
from seqkit.text.vocab import Vocab

from conftest import TINY_ATIS, write_recipe

# Lines built from pieces that matter to the readers: tags, separators, unicode, stray bytes.
PIECES = st.sampled_from(["O", "B-x", "I-x", "B-", "X-y", "a", "ö", " ", "  ", "\t", "-DOCSTART-", "\r", "é"])
LINE = st.lists(PIECES, max_size=6).map("".join)
FILE = st.lists(LINE, max_size=8).map(lambda lines: "\n".join(lines).encode("utf-8")) | st.binary(max_size=60)
SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(words=FILE, tags=FILE, labels=st.none() | FILE)
def test_atis_reader_either_reads_or_names_the_problem(words, tags, labels):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "seq.in").write_bytes(words)
        (folder / "seq.out").write_bytes(tags)
        if labels is not None:
            (folder / "label").write_bytes(labels)
        try:
            sentences = read_atis_split(folder)
        except DataFormatError as error:
            assert str(error).startswith(str(folder)) and "\n" not in str(error)
        else:
            assert all(len(s.tokens) == len(s.tags) > 0 for s in sentences)


@SETTINGS
@given(content=FILE)
def test_conll_reader_either_reads_or_names_the_problem(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.txt"
        path.write_bytes(content)
        try:
            sentences = read_conll(path)
        except DataFormatError as error:
            assert str(error).startswith(str(path)) and "\n" not in str(error)
        else:
            assert all(len(s.tokens) == len(s.tags) > 0 for s in sentences)
            assert all(not tag.startswith("I-") or i > 0 for s in sentences for i, tag in enumerate(s.tags))


BABI_PIECES = st.sampled_from(["1 ", "2 ", "x ", "Mary went to the office.", "Where is Mary?", "\t", "office",
                                "\t1", "\t1 2", "\t0", "n,s", "?", " ", "ö", "\r"])
BABI_FILE = st.lists(st.lists(BABI_PIECES, max_size=5).map("".join), max_size=8).map(
    lambda lines: "\n".join(lines).encode("utf-8")
) | st.binary(max_size=60)


@SETTINGS
@given(content=BABI_FILE)
def test_babi_reader_either_reads_or_names_the_problem(content):
    from seqkit.data.babi import read_babi_file

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "qa1_single-supporting-fact_train.txt"
        path.write_bytes(content)
        try:
            stories = read_babi_file(path, 1)
        except DataFormatError as error:
            assert str(error).startswith(str(path)) and "\n" not in str(error)
        else:
            assert all(question.answer for story in stories for question in story)


TABLE_PIECES = st.sampled_from(["text", "label", "\t", ",", '"', "good film", "pos", "neg", "", " ", "é", "\r"])
TABLE_FILE = st.lists(st.lists(TABLE_PIECES, max_size=5).map("".join), max_size=8).map(
    lambda lines: "\n".join(lines).encode("utf-8")
) | st.binary(max_size=60)
JSON_PIECES = st.sampled_from(['{"text": "fine", "label": "pos"}', '{"text": ""}', "{", "[]", '{"label": 1}', "", " "])


@SETTINGS
@given(content=TABLE_FILE, suffix=st.sampled_from(["tsv", "csv"]), jsonl=st.lists(JSON_PIECES, max_size=6))
def test_labelled_text_reader_either_reads_or_names_the_problem(content, suffix, jsonl):
    from seqkit.data.labelled_text import read_labelled_texts

    with tempfile.TemporaryDirectory() as folder:
        table = Path(folder) / f"texts.{suffix}"
        table.write_bytes(content)
        lines = Path(folder) / "texts.jsonl"
        lines.write_text("\n".join(jsonl))
        for path in (table, lines):
            try:
                examples = read_labelled_texts(path, "text", "label")
            except DataFormatError as error:
                assert str(error).startswith(str(path)) and "\n" not in str(error)
            else:
                assert examples and all(example.text.strip() for example in examples)


@SETTINGS
@given(source=FILE, target=FILE, compressed=st.booleans())
def test_parallel_reader_either_reads_or_names_the_problem(source, target, compressed):
    import gzip

    from seqkit.data.parallel import read_parallel

    with tempfile.TemporaryDirectory() as folder:
        suffix = ".gz" if compressed else ""
        source_path, target_path = Path(folder) / f"train.de{suffix}", Path(folder) / f"train.en{suffix}"
        source_path.write_bytes(gzip.compress(source) if compressed else source)
        target_path.write_bytes(gzip.compress(target) if compressed else target)
        try:
            pairs = read_parallel(source_path, target_path)
        except DataFormatError as error:
            assert str(error).startswith(folder) and "\n" not in str(error)
        else:
            assert all(pair.source.strip() and pair.target.strip() for pair in pairs)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(alphabet=string.ascii_letters + string.digits + " .,'!?-é", max_size=40), max_size=6))
def test_tokenizer_and_vocab_round_trip(texts):
    sentences = [word_tokenize(text) for text in texts]
    for text, tokens in zip(texts, sentences, strict=True):
        assert "".join(tokens) == "".join(text.split())  # nothing lost, nothing invented but spaces
    vocab = Vocab.build(sentences)
    restored = Vocab.from_json(json.loads(json.dumps(vocab.to_json())))
    for tokens in sentences:
        assert [restored.token(i) for i in restored.ids(tokens)] == tokens


def test_dataset_names_cannot_escape_the_cache():
    for name in ("../outside", "/etc", ".hidden", "a/b"):
        with pytest.raises(ConfigError, match="data.dataset"):
            resolve_dataset(name, ["x"])


def test_a_second_run_in_a_busy_folder_is_refused(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(RunDirError, match="in use by another training run"):
            with RunLock(tmp_path):
                pass
    (tmp_path / ".lock").write_text("999999999")  # a lock left by a process that no longer exists
    with RunLock(tmp_path):
        assert (tmp_path / ".lock").read_text() == str(os.getpid())


def test_a_ten_thousand_token_text_is_tagged(tmp_path):
    from typer.testing import CliRunner

    from seqkit import Tagger
    from seqkit.cli import app

    recipe = write_recipe(tmp_path, train={"epochs": 1})
    out = str(tmp_path / "r")
    arguments = ["train", "slot-filling", "--recipe", str(recipe), "--data", str(TINY_ATIS), "--out", out]
    assert CliRunner().invoke(app, arguments).exit_code == 0
    (result,) = Tagger.load(tmp_path / "r").tag([" ".join(["flights to rome"] * 3334)])
    assert len(result.tags) == 10002


MY_TEXTS = Path(__file__).parent / "data" / "my_texts"


def train_command(recipe: Path, out: Path, *extra: str) -> list[str]:
    task, data = ("sentiment", MY_TEXTS) if "my_texts" in str(recipe) else ("slot-filling", TINY_ATIS)
    return [sys.executable, "-m", "seqkit", "train", task, "--recipe", str(recipe),
            "--data", str(data), "--out", str(out), *extra]


def final_dev(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())["dev"]


def sentiment_recipe(folder: Path) -> Path:
    from seqkit.config import REPOSITORY_RECIPES

    # Eight whole epochs of several steps each, so that there are five points to kill it at: the recipe's early
    # stopping and its batch of 64 would end a run on these 41 texts after a few one-step epochs.
    text = (REPOSITORY_RECIPES / "my_texts.yaml").read_text()
    text = text.replace("epochs: 10", "epochs: 8").replace("patience: 2", "patience: null")
    path = folder / "my_texts.yaml"
    path.write_text(text.replace("batch_size: 64", "batch_size: 8"))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("task", ["slot-filling", "sentiment"])
def test_sigkill_at_five_points_then_resume_gives_the_same_final_metrics(tmp_path, task):
    recipe = write_recipe(tmp_path, train={"epochs": 8}) if task == "slot-filling" else sentiment_recipe(tmp_path)
    straight = tmp_path / "straight"
    subprocess.run(train_command(recipe, straight), check=True, capture_output=True, timeout=600)
    expected = final_dev(straight)
    expected_log = [{k: v for k, v in json.loads(line).items() if k not in ("seconds", "peak_rss_mib")}
                    for line in (straight / "log.jsonl").read_text().splitlines()]

    killed = tmp_path / "killed"
    process = subprocess.Popen(train_command(recipe, killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kills = 0
    for target_epochs in (1, 2, 4, 5, 7):
        # Wait until that many epochs are checkpointed, then kill with no chance to clean up.
        while process.poll() is None and _epochs_logged(killed) < target_epochs:
            time.sleep(0.02)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
        with open(tmp_path / "resume.log", "wb") as log:
            process = subprocess.Popen(train_command(recipe, killed, "--resume"), stdout=log, stderr=log)
    process.wait(timeout=600)
    assert process.returncode == 0, (tmp_path / "resume.log").read_text()[-2000:]
    assert kills >= 5
    assert final_dev(killed) == expected
    resumed_log = [{k: v for k, v in json.loads(line).items() if k not in ("seconds", "peak_rss_mib")}
                   for line in (killed / "log.jsonl").read_text().splitlines()]
    assert resumed_log == expected_log


def _epochs_logged(run_dir: Path) -> int:
    try:
        return len((run_dir / "log.jsonl").read_text().splitlines())
    except FileNotFoundError:
        return 0
