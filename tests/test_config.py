import re

import pytest

from seqkit.api import load_recipe
from seqkit.config import REPOSITORY_RECIPES, apply_overrides, build_recipe, to_dict
from seqkit.errors import ConfigError
from seqkit.tasks.slot_filling import SlotFillingData, TaggerConfig

SECTIONS = {"data": SlotFillingData, "head": TaggerConfig}


def test_defaults_and_overrides_are_typed():
    overrides = ["train.epochs=7", "rnn.bidirectional=false", "encoder.features=[one_hot]"]
    raw = apply_overrides({"task": "slot-filling"}, overrides)
    recipe = build_recipe(raw, SECTIONS)
    assert recipe.train.epochs == 7
    assert recipe.rnn.bidirectional is False
    assert recipe.encoder.features == ("one_hot",)
    assert recipe.train.learning_rate == 0.001  # default kept


def test_integer_is_accepted_where_a_float_is_expected():
    recipe = build_recipe({"task": "slot-filling", "train": {"learning_rate": 1}}, SECTIONS)
    assert recipe.train.learning_rate == 1.0 and isinstance(recipe.train.learning_rate, float)


@pytest.mark.parametrize(
    ("raw", "dotted"),
    [
        ({"task": "slot-filling", "train": {"epochz": 3}}, "train.epochz"),
        ({"task": "slot-filling", "train": {"epochs": "three"}}, "train.epochs"),
        ({"task": "slot-filling", "rnn": {"bidirectional": "yes"}}, "rnn.bidirectional"),
        ({"task": "slot-filling", "head": {"use_crf": 1}}, "head.use_crf"),
        ({"task": "slot-filling", "encoder": {"features": [1]}}, "encoder.features[0]"),
        ({"task": "slot-filling", "colour": "red"}, "colour"),
        ({"task": "slot-filling", "train": 5}, "train"),
        ({"task": "slot-filling", "train": {"max_tokens": 0}}, "train.max_tokens"),
        ({"task": "slot-filling", "train": {"batch_size": -4}}, "train.batch_size"),
        ({"task": "slot-filling", "train": {"bucket_pool": 0}}, "train.bucket_pool"),
        ({"task": "slot-filling", "train": {"optimizer": "adam"}}, "train.optimizer"),
        ({"task": "slot-filling", "train": {"schedule": "steps"}}, "train.schedule"),
        ({"task": "slot-filling", "train": {"halve_every_epochs": 0}}, "train.halve_every_epochs"),
        ({"task": "slot-filling", "train": {"hold_epochs": -1}}, "train.hold_epochs"),
    ],
)
def test_errors_name_the_dotted_key(raw, dotted):
    with pytest.raises(ConfigError, match="^" + re.escape(dotted)):
        build_recipe(raw, SECTIONS)


def test_malformed_override_is_refused():
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_overrides({}, ["train.epochs"])


def test_recipe_round_trips_through_its_dict():
    recipe = load_recipe("slot-filling", "atis")
    assert build_recipe(to_dict(recipe), SECTIONS) == recipe


def test_recipe_for_another_task_is_refused(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("task: sentiment\n")
    with pytest.raises(ConfigError, match="not 'slot-filling'"):
        load_recipe("slot-filling", path)


def test_every_repository_recipe_loads():
    recipes = sorted(REPOSITORY_RECIPES.glob("*.yaml"))
    assert recipes
    for path in recipes:
        assert load_recipe(None, path).task
