"""`rnn.cell: <name>` works end to end: a cell trains, saves, reloads and tags through the public API.

The fused cells share one packed code path, so besides the custom cells this runs irnn alone of them (the
other fused cells differ only in the torch module; test_recurrent_layer.py covers each of them).
"""

import json

import pytest

from seqkit import api
from seqkit.layers.cells import CUSTOM_CELLS

SENTENCES = [
    ("show flights from boston to denver", "O O O B-from I-from B-to", "flight"),
    ("fares from denver to boston", "O O B-from O B-to", "airfare"),
    ("flights to dallas", "O O B-to", "flight"),
    ("cheapest fare from dallas", "B-cost O O B-from", "airfare"),
]


@pytest.fixture(scope="module")
def tiny_atis(tmp_path_factory):
    """ATIS layout (`<split>/seq.in`, `seq.out`, `label`) with four sentences in every split."""
    folder = tmp_path_factory.mktemp("tiny_atis")
    for split in ("train", "valid", "test"):
        (folder / split).mkdir()
        for name, column in (("seq.in", 0), ("seq.out", 1), ("label", 2)):
            text = "".join(sentence[column] + "\n" for sentence in SENTENCES)
            (folder / split / name).write_text(text)
    return folder


@pytest.mark.parametrize("cell", [*CUSTOM_CELLS, "irnn"])
def test_every_cell_trains_and_tags_from_a_recipe(cell, tiny_atis, tmp_path):
    overrides = [
        f"rnn.cell={cell}",
        "rnn.hidden_size=8",
        "rnn.num_layers=2",
        "encoder.embedding_size=8",
        "encoder.hash_size=8",
        "encoder.hash_buckets=64",
        "train.epochs=1",
        "train.batch_size=2",
        "train.warmup_steps=0",
    ]
    run_dir = api.train("slot-filling", "atis", tiny_atis, tmp_path / cell, overrides, show_progress=False)
    assert json.loads((run_dir / "metrics.json").read_text())["dev"]["epochs"] == 1
    assert api.load_recipe(None, run_dir / "config.yaml").rnn.cell == cell
    (tagged,) = api.Tagger.load(run_dir).tag(["flights from boston to dallas"])
    assert len(tagged.tags) == 5
