"""Files written atomically: a reader (or a crash) sees the old file or the whole new one, never half of one.

Every file is written to a temporary name in the same folder, flushed to disk and renamed over its target.
Folders are replaced the same way: built beside the target under a hidden name, then swapped in, the old one
removed only afterwards. Run dirs, vocabularies, sentencepiece models and the dataset cache all write through
here.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write_bytes(path: Path, content: bytes) -> None:
    """Write `content` to `path` so that readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, content) -> None:
    atomic_write_text(path, json.dumps(content, indent=2, ensure_ascii=False) + "\n")


def atomic_write_with(path: Path, writer: Callable[[Path], None]) -> None:
    """Let `writer` fill a temporary file (for libraries that want a path), then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        writer(Path(temporary))
        with open(temporary, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_replace_directory(target: Path, fill: Callable[[Path], None]) -> None:
    """Build a folder with `fill` beside `target`, then swap it in; the old folder goes only afterwards."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        fill(staging)
        swap_in_directory(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_in_directory(staging: Path, target: Path) -> None:
    """Rename the complete folder `staging` to `target` (same parent folder); an old `target` goes only afterwards."""
    staging, target = Path(staging), Path(target)
    retired = None
    if target.exists():
        retired = target.parent / f".{target.name}.retired"
        if retired.exists():
            shutil.rmtree(retired)
        os.replace(target, retired)
    os.replace(staging, target)
    if retired is not None:
        shutil.rmtree(retired)


def settled_directory(target: Path) -> Path | None:
    """The complete folder at `target`, or None.

    A process killed between the two renames of atomic_replace_directory leaves the previous complete folder
    under its retired name and nothing at `target`; that folder is still whole, so it is the one to use.
    """
    target = Path(target)
    if target.is_dir():
        return target
    retired = target.parent / f".{target.name}.retired"
    return retired if retired.is_dir() else None
