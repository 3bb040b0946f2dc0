"""Dataset resolution order, the hub conversion (on a small datasets.Dataset), and data_scripts/prepare.py."""

import subprocess
import sys
from pathlib import Path

import datasets
import pytest

from seqkit.data.hub import sentences_from_dataset
from seqkit.data.readers import read_atis_split, read_conll
from seqkit.data.sources import resolve_dataset
from seqkit.errors import DataFormatError, DataNotFoundError
from seqkit.tasks.slot_filling import SlotFillingData, write_hub_splits

from conftest import TINY_ATIS

REQUIRED = ["train/seq.in", "train/seq.out"]


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SEQKIT_DATA_DIR", raising=False)


def test_explicit_folder_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQKIT_DATA_DIR", str(tmp_path / "elsewhere"))
    assert resolve_dataset("atis", REQUIRED, explicit=TINY_ATIS) == TINY_ATIS


def test_explicit_folder_without_the_files_is_an_error(tmp_path):
    with pytest.raises(DataNotFoundError, match="expected train/seq.in, train/seq.out, and none of them is there"):
        resolve_dataset("atis", REQUIRED, explicit=tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "seq.in").write_text("flights to boston\n", encoding="utf-8")
    with pytest.raises(DataNotFoundError, match="expected train/seq.in, train/seq.out; missing: train/seq.out$"):
        resolve_dataset("atis", REQUIRED, explicit=tmp_path)


def test_shared_folder_then_cache_then_download(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "tiny").symlink_to(TINY_ATIS, target_is_directory=True)
    monkeypatch.setenv("SEQKIT_DATA_DIR", str(shared))
    assert resolve_dataset("tiny", REQUIRED) == shared / "tiny"

    monkeypatch.setenv("SEQKIT_DATA_DIR", str(tmp_path / "empty"))
    calls = []

    def download(folder: Path):
        calls.append(folder)
        for name in ("seq.in", "seq.out"):
            (folder / "train").mkdir(exist_ok=True)
            (folder / "train" / name).write_text("a\n" if name == "seq.in" else "O\n")

    found = resolve_dataset("tiny", REQUIRED, download=download)
    assert found == tmp_path / "cache" / "tiny" and len(calls) == 1
    assert resolve_dataset("tiny", REQUIRED, download=download) == found and len(calls) == 1  # cached now


def test_a_failed_download_leaves_no_half_written_cache(tmp_path):
    def download(folder: Path):
        (folder / "train").mkdir()
        (folder / "train" / "seq.in").write_text("half")
        raise ConnectionError("no network")

    with pytest.raises(DataNotFoundError) as caught:
        resolve_dataset("atis", REQUIRED, download=download)
    message = str(caught.value)
    assert "ConnectionError: no network" in message and "data_scripts/prepare.py" in message
    assert not (tmp_path / "cache" / "atis").exists()


def make_hub_dataset() -> datasets.Dataset:
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER", "I-LOC"])),
        }
    )
    # I-LOC with no B-: an IOB1 hub copy; the conversion must give BIO.
    return datasets.Dataset.from_dict(
        {"tokens": [["Anna", "Berg", "in", "Oslo"], ["Rome"]], "tags": [[1, 2, 0, 3], [3]]}, features=features
    )


def test_hub_conversion_names_class_labels_and_writes_bio(tmp_path):
    sentences = sentences_from_dataset(make_hub_dataset(), "tokens", "tags")
    assert sentences[0].tags == ("B-PER", "I-PER", "O", "B-LOC") and sentences[1].tags == ("B-LOC",)
    data = SlotFillingData(format="conll", train="train.txt", valid="dev.txt", test="test.txt")
    write_hub_splits({"train": sentences * 10, "test": sentences}, tmp_path, data)
    assert len(read_conll(tmp_path / "train.txt")) == 18 and len(read_conll(tmp_path / "dev.txt")) == 2
    assert read_conll(tmp_path / "test.txt") == sentences


def test_hub_conversion_of_string_columns_with_intents(tmp_path):
    hub = datasets.Dataset.from_dict(
        {"text": ["show flights to rome"], "slots": ["O O O B-to"], "intent": ["flight"]}
    )
    sentences = sentences_from_dataset(hub, "text", "slots", "intent")
    write_hub_splits({"train": sentences, "validation": sentences}, tmp_path, SlotFillingData())
    assert read_atis_split(tmp_path / "valid")[0].intent == "flight"


def test_hub_conversion_errors_name_the_row():
    hub = datasets.Dataset.from_dict({"text": ["a b", "c"], "slots": ["O O", "O O"]})
    with pytest.raises(DataFormatError, match="hub:2: 2 tags for 1 tokens"):
        sentences_from_dataset(hub, "text", "slots", source="hub")
    with pytest.raises(DataFormatError, match="no column 'words'"):
        sentences_from_dataset(hub, "words", "slots")


def test_prepare_script_validates_and_caches_a_local_copy(tmp_path):
    script = Path(__file__).parent.parent / "data_scripts" / "prepare.py"
    env = {"SEQKIT_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, str(script), "atis", "--source"]
    ok = subprocess.run([*command, str(TINY_ATIS)], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert len(read_atis_split(tmp_path / "cache" / "atis" / "test")) == 8
    broken = tmp_path / "broken"
    for split in ("train", "valid", "test"):
        (broken / split).mkdir(parents=True)
        (broken / split / "seq.in").write_text("a b\n")
        (broken / split / "seq.out").write_text("O\n")
    failed = subprocess.run([*command, str(broken)], capture_output=True, text=True, env=env)
    assert failed.returncode == 1 and "seq.out:1: 1 tags for 2 tokens" in failed.stderr
    assert len(read_atis_split(tmp_path / "cache" / "atis" / "test")) == 8  # the good cache was not replaced
