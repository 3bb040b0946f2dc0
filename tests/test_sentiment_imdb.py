"""A short run on real IMDB reviews (through SEQKIT_DATA_DIR): a broken model cannot reach the floor."""

import json
import os
from pathlib import Path

import pytest

from seqkit import api
from seqkit.data.labelled_text import read_labelled_texts


def imdb_folder() -> Path:
    folder = Path(os.environ.get("SEQKIT_DATA_DIR", "")) / "imdb"
    if not (folder / "train.jsonl.gz").is_file():
        pytest.fail("IMDB not found: set SEQKIT_DATA_DIR to ../shared/data")
    return folder


@pytest.mark.slow
def test_bag_of_ngrams_on_an_imdb_subset(tmp_path):
    folder = imdb_folder()
    subset = tmp_path / "imdb-subset"
    subset.mkdir()
    # Both files list all positive reviews and then all negative ones, so a stride keeps the classes balanced.
    for name, stride in (("train.jsonl.gz", 10), ("test.jsonl.gz", 50)):
        examples = read_labelled_texts(folder / name, "text", "label")[::stride]
        rows = [json.dumps({"text": e.text, "label": e.label}) for e in examples]
        (subset / name.removesuffix(".gz")).write_text("\n".join(rows) + "\n", encoding="utf-8")
    settings = [
        "data.train=train.jsonl",
        "data.test=test.jsonl",
        "train.epochs=3",
        "train.learning_rate=0.01",
        "encoder.bigram_buckets=50000",
        "train.threads=1",
    ]
    run = api.train("sentiment", "imdb", subset, tmp_path / "run", settings, show_progress=False)
    scores = api.evaluate(run, "test", subset)
    assert scores["documents"] == 500
    # 2,250 training reviews; chance is 50%, and this small bag of n-grams measured 8x.x here.
    assert scores["accuracy"] >= 78.0
