"""Config fields that carry their valid range, and the one pass that checks them.

A config dataclass declares each field with `setting(default, minimum=..., choices=...)`; `check_fields` then
refuses an impossible value with a ConfigError naming the dotted key, so `seqkit validate` and training refuse
exactly the same recipes. Rules every field gets, declared or not: numbers are finite and, unless a field says
otherwise, lie in 0..MAX_COUNT; strings are not empty; lists hold at least one item. Choices may be a tuple or a
registry (a literal dict elsewhere in seqkit), named by module and attribute and imported only when checked, so
that config.py does not import torch-heavy modules, and the choices listed are always the registry's own.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import re
from dataclasses import field
from typing import Any

from seqkit.errors import ConfigError

# Ceilings no sane recipe reaches, so that a slip of the keyboard cannot allocate tens of gigabytes or run for
# years. A width is any vector size (embeddings, hidden states, channels): an 8192-wide LSTM layer already holds
# half a billion weights.
MAX_WIDTH = 8192
MAX_LAYERS = 64
MAX_EPOCHS = 100_000
MAX_COUNT = 1_000_000_000
# One embedding table (rows times width) holds at most this many weights: 1 GiB of float32.
MAX_TABLE_WEIGHTS = 2**28
# data.dataset becomes a folder under the cache (seqkit/data/sources.py), so it may not steer writes elsewhere.
PLAIN_FOLDER_NAME = (r"[A-Za-z0-9][A-Za-z0-9_.-]*", "a plain folder name (letters, digits, '_', '-', '.')")


@dataclasses.dataclass(frozen=True)
class Registry:
    """The names of a registry dict, `module.attribute`, imported when a value is checked against it."""

    module: str
    attribute: str

    def names(self) -> list[str]:
        return sorted(getattr(importlib.import_module(self.module), self.attribute))


def setting(
    default: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    choices: tuple[str, ...] | Registry | None = None,
    kind: str = "name",
    pattern: tuple[str, str] | None = None,
    distinct: bool = False,
) -> Any:
    """A dataclass field with its bounds: `minimum`/`maximum` inclusive, `above`/`below` exclusive.

    `choices` bounds strings (or each string of a list), and an unknown one is called an unknown `kind`;
    `pattern` is (a regular expression a string must match whole, what it means); `distinct` refuses a list
    naming an item twice. For a field typed `int | str`, the numeric bounds apply to numbers, the rest to strings.
    """
    bounds = {"minimum": minimum, "maximum": maximum, "above": above, "below": below}
    bounds |= {"choices": choices, "kind": kind if choices is not None else None, "pattern": pattern}
    metadata = {name: value for name, value in bounds.items() if value is not None}
    if distinct:
        metadata["distinct"] = True
    return field(default=default, metadata=metadata)


def check_fields(values: dict[str, Any], config_class: type, path: str) -> None:
    """Check each given value of a `config_class` against its field's bounds; errors name `path.field`."""
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    for name, value in values.items():
        check_value(value, fields[name].metadata, f"{path}.{name}" if path else name)


def check_value(value: Any, bounds: Any, path: str) -> None:
    if value is None or isinstance(value, bool) or dataclasses.is_dataclass(value):
        return  # the type check allowed null; booleans have no range; nested sections check their own fields
    if isinstance(value, tuple):
        if not value:
            raise ConfigError(f"{path}: must list at least one item")
        for index, item in enumerate(value):
            check_value(item, bounds, f"{path}[{index}]")
            if bounds.get("distinct") and item in value[:index]:
                raise ConfigError(f"{path}[{index}]: {item!r} is listed twice")
    elif isinstance(value, str):
        _check_string(value, bounds, path)
    elif isinstance(value, int | float):
        _check_number(value, bounds, path)


def _check_string(value: str, bounds: Any, path: str) -> None:
    if not value:
        raise ConfigError(f"{path}: must be a non-empty string")
    choices = bounds.get("choices")
    names = choices.names() if isinstance(choices, Registry) else choices
    if names is not None and value not in names:
        raise ConfigError(f"{path}: unknown {bounds['kind']} {value!r} (choose from: {', '.join(names)})")
    pattern = bounds.get("pattern")
    if pattern is not None and not re.fullmatch(pattern[0], value):
        raise ConfigError(f"{path}: {value!r} must be {pattern[1]}")


def _check_number(value: float, bounds: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}: must be a finite number, got {value}")
    minimum = bounds.get("minimum", None if "above" in bounds else 0)
    maximum = bounds.get("maximum", None if "below" in bounds else MAX_COUNT)
    if minimum is not None and value < minimum:
        raise ConfigError(f"{path}: must be at least {minimum}, got {value}")
    if "above" in bounds and value <= bounds["above"]:
        raise ConfigError(f"{path}: must be above {bounds['above']}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{path}: must be at most {maximum}, got {value}")
    if "below" in bounds and value >= bounds["below"]:
        raise ConfigError(f"{path}: must be below {bounds['below']}, got {value}")
