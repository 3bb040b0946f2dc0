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
    # The file lists all positive reviews, then all negative ones, so strides keep the classes balanced; the
    # test subset (offset 5, stride 50) never meets the training one (stride 10). Reading one file saves time.
    examples = read_labelled_texts(folder / "train.jsonl.gz", "text", "label")
    for name, chosen in (("train.jsonl", examples[::10]), ("test.jsonl", examples[5::50])):
        rows = [json.dumps({"text": e.text, "label": e.label}) for e in chosen]
        (subset / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    settings = [
        "data.train=train.jsonl",
        "data.test=test.jsonl",
        "train.epochs=2",
        "train.batch_size=16",
        "train.learning_rate=0.02",
        "encoder.bigram_buckets=50000",
        "train.threads=1",
    ]
    run = api.train("sentiment", "imdb", subset, tmp_path / "run", settings, show_progress=False)
    scores = api.evaluate(run, "test", subset)
    assert scores["documents"] == 500
    # 2,250 training reviews, 2 epochs: chance is 50%; this small bag of n-grams measured 81-86 here.
    print(f"IMDB subset test accuracy {scores['accuracy']:.1f}")
    assert scores["accuracy"] >= 78.0
