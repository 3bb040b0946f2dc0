"""`rnn.cell: <name>` works end to end: a cell trains, saves, reloads and tags through the public API.

The fused cells share one packed code path, so besides the custom cells this runs irnn alone of them (the
other fused cells differ only in the torch module; test_recurrent_layer.py covers each of them).
"""

import json

import pytest

from seqkit import api
from seqkit.layers.cells import CUSTOM_CELLS
from seqkit.predict.tagger import Tagger

from conftest import TINY_ATIS, write_recipe


@pytest.mark.parametrize("cell", [*CUSTOM_CELLS, "irnn"])
def test_every_cell_trains_and_tags_from_a_recipe(cell, tmp_path):
    rnn = {"cell": cell, "hidden_size": 8, "num_layers": 2}
    recipe = write_recipe(tmp_path, rnn=rnn, train={"epochs": 1})
    run_dir = api.train("slot-filling", recipe, TINY_ATIS, tmp_path / "run", show_progress=False)
    assert json.loads((run_dir / "metrics.json").read_text())["dev"]["epochs"] == 1
    assert api.load_recipe(None, run_dir / "config.yaml").rnn.cell == cell
    (tagged,) = Tagger.load(run_dir).tag(["flights from boston to dallas"])
    assert len(tagged.tags) == 5
