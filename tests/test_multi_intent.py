"""Multi-intent labels name sets: "a#b" and "b#a" are one label, so the order a file writes them in is no error."""

import re
from pathlib import Path

import pytest

from seqkit.api import load_recipe
from seqkit.config import build_recipe
from seqkit.data.readers import TaggedSentence
from seqkit.errors import ConfigError
from seqkit.tasks import get_task
from seqkit.tasks.slot_filling import SlotFillingData, TaggerConfig, canonical_intent

from conftest import write_recipe

LINES = {
    "train": [("list flights to boston", "O O O B-city", "atis_flight#atis_airfare"), ("fares", "O", "atis_airfare")],
    "valid": [("fares to denver", "O O B-city", "atis_airfare")],
    "test": [("flights and fares to boston", "O O O O B-city", "atis_airfare#atis_flight")],
}


def write_layout(folder: Path) -> Path:
    for split, rows in LINES.items():
        (folder / split).mkdir(parents=True)
        for index, name in enumerate(("seq.in", "seq.out", "label")):
            (folder / split / name).write_text("".join(row[index] + "\n" for row in rows))
    return folder


def test_parts_are_sorted_and_single_intents_are_untouched():
    sentence = TaggedSentence(("a",), ("O",), "atis_flight#atis_airfare")
    assert canonical_intent(sentence, "#").intent == "atis_airfare#atis_flight"
    assert canonical_intent(sentence, None).intent == "atis_flight#atis_airfare"
    single = TaggedSentence(("a",), ("O",), "atis_flight")
    assert canonical_intent(single, "#") is single


def test_a_reordered_test_label_is_the_training_label(tmp_path):
    data = write_layout(tmp_path / "data")
    task = get_task("slot-filling")
    recipe = load_recipe(None, write_recipe(tmp_path))
    splits = task.load_splits(recipe, data, ("train", "test"))
    vocabularies = task.build_vocabularies(recipe, splits["train"])
    assert vocabularies["intents"].tokens == ["atis_airfare", "atis_airfare#atis_flight"]
    assert splits["test"][0].intent in vocabularies["intents"]
    # Kept as written, the test label is one the model has never seen.
    written = load_recipe(None, write_recipe(tmp_path, data={"intent_separator": None}))
    splits = task.load_splits(written, data, ("train", "test"))
    assert splits["test"][0].intent not in task.build_vocabularies(written, splits["train"])["intents"]


def test_an_empty_separator_is_an_error_naming_the_key():
    raw = {"task": "slot-filling", "data": {"intent_separator": ""}}
    with pytest.raises(ConfigError, match="^" + re.escape("data.intent_separator: must be a non-empty string")):
        build_recipe(raw, {"data": SlotFillingData, "head": TaggerConfig})
