"""Name lookups that fail loudly.

Registries in seqkit are literal dicts (`ENCODERS`, `TASKS`, `CELLS`), so a reader can grep for every choice.
`lookup` turns an unknown name into one error that lists the valid ones; `merge` refuses duplicate names.
"""

from typing import TypeVar

from seqkit.errors import ConfigError

Value = TypeVar("Value")


def lookup(registry: dict[str, Value], name: str, kind: str, field: str | None = None) -> Value:
    """Return registry[name], or raise ConfigError naming the field and listing the valid choices."""
    if name in registry:
        return registry[name]
    where = f"{field}: " if field else ""
    raise ConfigError(f"{where}unknown {kind} {name!r} (choose from: {', '.join(sorted(registry))})")


def merge(*registries: dict[str, Value]) -> dict[str, Value]:
    """Combine registries, refusing any name that appears twice."""
    merged: dict[str, Value] = {}
    for registry in registries:
        for name, value in registry.items():
            if name in merged:
                raise ValueError(f"duplicate registry name {name!r}")
            merged[name] = value
    return merged
