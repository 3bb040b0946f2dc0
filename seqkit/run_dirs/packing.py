"""Shareable models: a run dir packed into one `.seqkit` file (`seqkit pack`).

The packed file is a zip archive of the run dir's small files plus a manifest; seqkit/run_dirs/locate.py
describes the format and reads it back. Packing the same run dir twice gives the same bytes.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from seqkit.errors import RunDirError
from seqkit.files import atomic_write_with
from seqkit.run_dirs.layout import VOCABULARY_FOLDER, WEIGHTS
from seqkit.run_dirs.locate import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    MEMBER_NAME,
    PACKED_FILES,
    SUFFIX,
    VOCABULARY_SUFFIXES,
    resolve_run_dir,
)
from seqkit.run_dirs.run_dir import read_recipe, read_vocabularies
from seqkit.version import __version__

# Zip timestamps start in 1980; a fixed one makes packing the same run dir give the same bytes.
MEMBER_TIME = (1980, 1, 1, 0, 0, 0)


def pack_run_dir(source: str | Path, out: str | Path | None = None) -> Path:
    """Write the model that `source` names into one packed file (default: NAME.seqkit here); returns its path."""
    run_dir = resolve_run_dir(source)
    recipe = read_recipe(run_dir)
    read_vocabularies(run_dir)  # refuses a run dir without any
    if not (run_dir / WEIGHTS).is_file():
        raise RunDirError(f"{run_dir / WEIGHTS}: no weights yet (has the run finished its first epoch?)")
    if out is None:
        out = Path(Path(str(source).rstrip("/")).name.removesuffix(SUFFIX) + SUFFIX)
    files = [name for name in PACKED_FILES if (run_dir / name).is_file()]
    files += sorted(
        f"{VOCABULARY_FOLDER}/{path.name}"
        for path in (run_dir / VOCABULARY_FOLDER).iterdir()
        if path.suffix in VOCABULARY_SUFFIXES and MEMBER_NAME.fullmatch(f"{VOCABULARY_FOLDER}/{path.name}")
    )
    manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "seqkit_version": __version__, "task": recipe.task}

    def write(path: Path) -> None:
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_member(MANIFEST), json.dumps(manifest, indent=2) + "\n")
            for name in files:
                archive.writestr(_member(name), (run_dir / name).read_bytes())

    atomic_write_with(Path(out), write)
    return Path(out)


def _member(name: str) -> zipfile.ZipInfo:
    member = zipfile.ZipInfo(name, date_time=MEMBER_TIME)
    member.compress_type = zipfile.ZIP_DEFLATED
    return member
