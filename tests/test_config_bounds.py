"""Every config field refuses impossible values with a ConfigError naming its dotted key, and recipes cannot
expand YAML aliases without bound.

The walk is driven by dataclasses.fields over every section of every task (nested sections too), so a field
added later is tried as well: a number without a declared range still gets the default one (0..MAX_COUNT,
finite), and one that accepts a negative, NaN, an infinity or 10**12 makes these tests fail.
"""

from __future__ import annotations

import dataclasses
import re
import typing

import pytest

from seqkit.api import load_recipe
from seqkit.bounds import MAX_TABLE_WEIGHTS
from seqkit.config import REPOSITORY_RECIPES, Recipe, build_recipe, read_yaml
from seqkit.errors import ConfigError
from seqkit.tasks import TASKS


def sections_of(task_name: str) -> dict[str, type]:
    task = TASKS[task_name]
    return {"data": task.data_config, "head": task.head_config}


def walk(config_class: type, path: str):
    """(dotted key, type hint, field) for every leaf field of a config class, entering nested sections."""
    hints = typing.get_type_hints(config_class)
    for config_field in dataclasses.fields(config_class):
        dotted = f"{path}.{config_field.name}" if path else config_field.name
        hint = hints[config_field.name]
        if dataclasses.is_dataclass(hint):
            yield from walk(hint, dotted)
        elif hint is not typing.Any:  # Recipe.data and Recipe.head: each task's own sections, walked apart
            yield dotted, hint, config_field


def leaf_types(hint) -> set:
    """The non-null types a hint allows: `int | None` -> {int}; `tuple[str, ...]` -> {tuple}."""
    arguments = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, type(int | None)) else (hint,)
    return {typing.get_origin(a) or a for a in arguments if a is not type(None)}


def impossible_values(hint, config_field: dataclasses.Field) -> list:
    """Values no field of this type may hold: the declared bounds crossed, and the rules every field gets."""
    kinds = leaf_types(hint)
    metadata = config_field.metadata
    values: list = []
    if kinds & {int, float}:
        values += [-1, 10**12]
        if metadata.get("minimum", 0) >= 1:
            values.append(0)
        if "above" in metadata:
            values.append(metadata["above"])
        if "maximum" in metadata:
            values.append(metadata["maximum"] + 1)
        if "below" in metadata:
            values.append(metadata["below"])
    if float in kinds:
        values += [float("nan"), float("inf"), float("-inf"), 1e30]
    if str in kinds:
        values.append("")
        if "choices" in metadata:
            values.append("no-such-mode")
        if "pattern" in metadata:
            values.append("../outside")
    if tuple in kinds:
        (item_hint,) = {typing.get_args(a)[0] for a in (*typing.get_args(hint), hint) if typing.get_origin(a) is tuple}
        values.append([])
        values += [[item] for item in impossible_values(item_hint, config_field)]
    if bool in kinds:
        values.append("maybe")
    unique: list = []  # crossing two bounds may give one value twice (NaN is never equal, so compared by identity)
    for value in values:
        if not any(value is other or value == other for other in unique):
            unique.append(value)
    return unique


def cases():
    """(task, dotted key, value): the recipe-wide fields once, each task's own sections for every task."""
    leaves = [("slot-filling", leaf) for leaf in walk(Recipe, "")]
    for task_name in TASKS:
        for name, section_class in sections_of(task_name).items():
            leaves += [(task_name, leaf) for leaf in walk(section_class, name)]
    for task_name, (dotted, hint, config_field) in leaves:
        for value in impossible_values(hint, config_field):
            yield pytest.param(task_name, dotted, value, id=f"{task_name}:{dotted}={value!r}")


def raw_with(task_name: str, dotted: str, value) -> dict:
    raw: dict = {"task": task_name}
    node = raw
    *parents, last = dotted.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
    return raw


@pytest.mark.parametrize(("task_name", "dotted", "value"), list(cases()))
def test_every_field_refuses_impossible_values(task_name, dotted, value):
    # The message opens with the dotted key (a list item's index may follow it), so the user knows what to fix.
    with pytest.raises(ConfigError, match="^" + re.escape(dotted) + r"(\[\d+\])?: "):
        build_recipe(raw_with(task_name, dotted, value), sections_of(task_name))


def test_the_walk_reaches_every_task_section_and_nested_section():
    reached = {dotted for _, dotted, _ in (case.values for case in cases())}
    for dotted in ("train.clip_norm", "rnn.cell", "encoder.features", "head.beam", "data.subwords.vocab_size",
                   "head.hops", "data.task", "head.cnn_widths", "head.intent_pooling", "data.truncate", "seed",
                   "task"):  # fmt: skip
        assert dotted in reached


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        # The values of the issue, each with the message a user sees.
        ("train.clip_norm=-1", "train.clip_norm: must be above 0, got -1.0"),
        ("train.learning_rate=-1", "train.learning_rate: must be above 0, got -1.0"),
        ("train.learning_rate=.nan", "train.learning_rate: must be a finite number, got nan"),
        ("rnn.hidden_size=0", "rnn.hidden_size: must be at least 1, got 0"),
        ("rnn.num_layers=0", "rnn.num_layers: must be at least 1, got 0"),
        ("encoder.features=[]", "encoder.features: must list at least one item"),
        ("encoder.embedding_size=1000000000", "encoder.embedding_size: must be at most 8192"),
        ("encoder.hash_buckets=0", "encoder.hash_buckets: must be at least 1, got 0"),
        ("train.threads=-1", "train.threads: must be at least 1, got -1"),
        ("encoder.dropout=1.5", "encoder.dropout: must be below 1, got 1.5"),
        ("encoder.word_dropout=2", "encoder.word_dropout: must be below 1, got 2.0"),
        ("rnn.cell=lstn", "rnn.cell: unknown recurrent cell 'lstn' (choose from: clockwork, elman, gru,"),
        ("encoder.features=[embedding, glove]", "encoder.features[1]: unknown encoder 'glove' (choose from:"),
        ("encoder.features=[embedding, embedding]", "encoder.features[1]: 'embedding' is listed twice"),
    ],
)
def test_the_reported_values_are_refused_by_name(setting, message):
    with pytest.raises(ConfigError, match="^" + re.escape(message)):
        load_recipe(None, "atis_scratch", [setting])


def test_each_bound_alone_holds_but_the_table_they_make_is_too_big():
    # 2**20 buckets of 512 weights: each value is allowed, the 2 GiB table is not.
    with pytest.raises(ConfigError, match=r"^encoder.hash_buckets: a table of 1048576 x 512 weights is over"):
        load_recipe(None, "atis_scratch", [f"encoder.hash_buckets={2**20}", "encoder.hash_size=512"])
    assert 2**20 * 512 > MAX_TABLE_WEIGHTS


def test_cross_field_refusals_of_the_classifier_are_made_at_load():
    with pytest.raises(ConfigError, match="^head.pooling: the text CNN pools by max"):
        load_recipe(None, "imdb_cnn", ["head.pooling=mean"])
    with pytest.raises(ConfigError, match="^head.pooling: 'last' reads the final states"):
        load_recipe(None, "imdb_cnn", ["head.context=none", "head.pooling=last"])


def test_every_repository_recipe_still_validates():
    recipes = sorted(REPOSITORY_RECIPES.glob("*.yaml"))
    assert len(recipes) >= 10
    for path in recipes:
        recipe = load_recipe(None, path)
        assert recipe.task in TASKS


def billion_laughs(levels: int) -> str:
    """Each level lists the one before it ten times: 10**levels values from a few hundred bytes."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    return "\n".join(["task: slot-filling", *lines]) + "\n"


def test_an_alias_bomb_is_refused_by_name(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs(9))  # 10**9 strings once expanded; a few hundred bytes as written
    assert path.stat().st_size < 700
    with pytest.raises(ConfigError, match="^" + re.escape(f"{path}: expands to over 10000 values")):
        read_yaml(path)
    with pytest.raises(ConfigError, match="expands to over"):
        load_recipe(None, path)


def test_small_aliases_still_load(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("task: slot-filling\nrnn: &shared {hidden_size: 64}\nextra: [*shared, *shared]\n")
    assert read_yaml(path)["extra"][1] == {"hidden_size": 64}


def test_a_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("task: slot-filling\nloop: &loop [*loop]\n")
    with pytest.raises(ConfigError, match="^" + re.escape(f"{path}: a YAML alias refers to a section")):
        read_yaml(path)


def test_an_alias_bomb_in_an_override_is_refused():
    bomb = "[&a [x, x, x, x, x, x, x, x, x, x], " + ", ".join(["*a"] * 2000) + "]"
    with pytest.raises(ConfigError, match="^override encoder.features: expands to over"):
        load_recipe(None, "atis_scratch", [f"encoder.features={bomb}"])
