"""Where a dataset's raw files come from.

Resolution order, first hit wins:

1. `--data DIR` given on the command line (or `data_dir=` in the API);
2. `$SEQKIT_DATA_DIR/<dataset>/`, the shared benchmark folder;
3. the local cache, `$SEQKIT_CACHE_DIR/<dataset>/` (default `~/.cache/seqkit/<dataset>/`), filled by
   data_scripts/prepare.py or by step 4;
4. a download through the `datasets` library, converted to the original layout and written into the cache
   atomically (a folder is built beside the cache entry and renamed into place).

When nothing works, one DataNotFoundError says what was tried and what to do.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path, PurePath

from seqkit.errors import ConfigError, DataNotFoundError, SeqkitError
from seqkit.files import atomic_replace_directory

_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_INSIDE = "must be a path inside the data folder (no absolute path, no '..')"


def cache_root() -> Path:
    configured = os.environ.get("SEQKIT_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "seqkit"


def check_split_files(files: dict[str, str | None]) -> None:
    """Refuse split file names, given by dotted config key, that would leave the dataset folder.

    The names come from recipes and from run dirs' config.yaml, which may come from strangers: `data.test:
    ../../..` must not make `evaluate` read any file on the machine.
    """
    for key, name in files.items():
        if name is not None and _leaves_folder(name):
            raise ConfigError(f"{key}: {name!r} {_INSIDE}")


def _leaves_folder(relative: str) -> bool:
    path = PurePath(relative)
    return path.is_absolute() or ".." in path.parts


def has_files(folder: Path, required: list[str]) -> bool:
    return folder.is_dir() and all((folder / relative).is_file() for relative in required)


def describe_files(required: list[str]) -> str:
    """`required` named once in an error: every name when there are few, else the first two and a count."""
    if len(required) <= 3:
        return ", ".join(required)
    return f"{', '.join(required[:2])} and {len(required) - 2} more"


def resolve_dataset(
    name: str,
    required: list[str],
    explicit: Path | None = None,
    download: Callable[[Path], None] | None = None,
    expected: str | None = None,
) -> Path:
    """Return the folder that holds dataset `name` (all `required` relative paths present).

    `download(folder)` fills an empty folder from the hub; it is tried last and its result is cached.
    `expected` names the files in errors as a pattern (bAbI's forty file names read badly as a list); without
    it, the errors name a few of them (describe_files).
    """
    expected = expected or describe_files(required)
    if not _PLAIN_NAME.match(name):
        # The name becomes a folder under the cache: a recipe must not steer writes elsewhere.
        raise ConfigError(f"data.dataset: {name!r} must be a plain folder name (letters, digits, '_', '-', '.')")
    # The tasks name the config key (check_split_files); this catches a file name that skipped that check.
    for relative in required:
        if _leaves_folder(relative):
            raise ConfigError(f"data: the file {relative!r} {_INSIDE}")
    if explicit is not None:
        explicit = Path(explicit)
        if has_files(explicit, required):
            return explicit
        missing = [relative for relative in required if not (explicit / relative).is_file()]
        if len(missing) == len(required):  # name the files once
            raise DataNotFoundError(f"--data {explicit}: expected {expected}, and none of them is there")
        raise DataNotFoundError(f"--data {explicit}: expected {expected}; missing: {describe_files(missing)}")
    tried = []
    shared = os.environ.get("SEQKIT_DATA_DIR")
    if shared:
        candidate = Path(shared) / name
        if has_files(candidate, required):
            return candidate
        tried.append(f"$SEQKIT_DATA_DIR/{name} ({candidate})")
    else:
        tried.append("$SEQKIT_DATA_DIR (not set)")
    cached = cache_root() / name
    if has_files(cached, required):
        return cached
    tried.append(f"the cache ({cached})")
    if download is not None:
        try:
            atomic_replace_directory(cached, download)
        except SeqkitError:
            raise
        except Exception as error:  # any network or hub failure: report it in one line below
            tried.append(f"a download from the hub ({type(error).__name__}: {str(error).splitlines()[0][:160]})")
        else:
            if has_files(cached, required):
                return cached
            tried.append("a download from the hub (it did not produce the expected files)")
    raise DataNotFoundError(
        f"dataset {name!r} not found; tried {'; '.join(tried)}. Point --data at a folder holding "
        f"{expected}, set SEQKIT_DATA_DIR, or run "
        f"`python data_scripts/prepare.py {name} --source DIR` to validate and cache a local copy."
    )
